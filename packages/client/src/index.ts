/**
 * @beakerlike/client: call beakerlike actions, discover a kernel's actions and
 * contexts, and follow its live variable previews, on @jupyterlab/services.
 * No DOM or UI code: use it from a JupyterLab extension, a Node script or a test.
 */
export * from './messages';
export * from './errors';
export * from './actions';
export * from './comm';
export * from './discovery';
export * from './table';
export * from './subscription';
export * from './paging';
export * from './variables';
