import type { JupyterFrontEndPlugin } from '@jupyterlab/application';

import { actionsPlugin } from './actions/plugin';
import { kernelTrackerPlugin } from './kerneltracker';
import { statusPlugin } from './status/plugin';
import { variablesPlugin } from './variables/plugin';
import { viewerPlugin } from './viewer/plugin';

export * from './tokens';

/** One plugin per feature; shared services are provided behind the tokens in ./tokens. */
const plugins: JupyterFrontEndPlugin<any>[] = [
  kernelTrackerPlugin,
  viewerPlugin,
  variablesPlugin,
  actionsPlugin,
  statusPlugin
];

export default plugins;
