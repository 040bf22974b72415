import type { JupyterFrontEndPlugin } from '@jupyterlab/application';

import { kernelTrackerPlugin } from './kerneltracker';
import { variablesPlugin } from './variables/plugin';
import { viewerPlugin } from './viewer/plugin';

export * from './tokens';

/** One plugin per feature; shared services are provided behind the tokens in ./tokens. */
const plugins: JupyterFrontEndPlugin<any>[] = [
  kernelTrackerPlugin,
  viewerPlugin,
  variablesPlugin
];

export default plugins;
