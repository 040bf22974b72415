import { ILabShell, ILayoutRestorer } from '@jupyterlab/application';
import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { LabIcon } from '@jupyterlab/ui-components';

import { watchKey } from '../watchkey';
import {
  CommandIDs,
  IBeakerlikeKernelTracker,
  IBeakerlikeVariables,
  IBeakerlikeViewer
} from '../tokens';
import { VariablesModel } from './model';
import { VariablesPanel } from './panel';

const PLUGIN_ID = '@beakerlike/labextension:variables';

/** A small "{x}" icon for the side bar tab. */
export const variablesIcon = new LabIcon({
  name: 'beakerlike:variables',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161"><path d="M8 3a2 2 0 0 0-2 2v4a2 2 0 0 1-2 2H3v2h1a2 2 0 0 1 2 2v4a2 2 0 0 0 2 2h2v-2H8v-5a2 2 0 0 0-2-2 2 2 0 0 0 2-2V5h2V3m6 0a2 2 0 0 1 2 2v4a2 2 0 0 0 2 2h1v2h-1a2 2 0 0 0-2 2v4a2 2 0 0 1-2 2h-2v-2h2v-5a2 2 0 0 1 2-2 2 2 0 0 1-2-2V5h-2V3h2z"/></g></svg>'
});

/** The Variables sidebar (right side panel in JupyterLab and Notebook 7). */
export const variablesPlugin: JupyterFrontEndPlugin<IBeakerlikeVariables> = {
  id: PLUGIN_ID,
  description: 'A Variables sidebar for beakerlike kernels.',
  autoStart: true,
  requires: [IBeakerlikeKernelTracker, IBeakerlikeViewer],
  optional: [ISettingRegistry, ILayoutRestorer, ICommandPalette, ILabShell],
  provides: IBeakerlikeVariables,
  activate: (
    app: JupyterFrontEnd,
    kernels: IBeakerlikeKernelTracker,
    viewer: IBeakerlikeViewer,
    settings: ISettingRegistry | null,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null
  ): IBeakerlikeVariables => {
    const model = new VariablesModel(kernels, watchKey('sidebar'));
    const panel = new VariablesPanel({
      model,
      openViewer: (path, label) => {
        const kernel = model.subscription?.kernel;
        if (kernel) {
          const preview = path.length === 1 ? model.variables.get(String(path[0])) : undefined;
          void viewer.open({ kernel, path, label, preview });
        }
      }
    });
    panel.id = 'beakerlike-variables';
    panel.title.icon = variablesIcon;
    panel.title.caption = 'Variables (beakerlike)';
    app.shell.add(panel, 'right', { rank: 50 });
    restorer?.add(panel, 'beakerlike-variables');

    let openAutomatically = true;
    settings
      ?.load(PLUGIN_ID)
      .then(s => {
        const read = () => {
          openAutomatically = s.get('openAutomatically').composite !== false;
          panel.showCode = s.get('showCode').composite === true;
        };
        read();
        s.changed.connect(read);
      })
      .catch(err => console.warn('beakerlike: settings not loaded', err));

    // Open by itself the first time (per page load) a beakerlike kernel is current, unless the setting is off.
    let autoOpened = false;
    kernels.changed.connect(() => {
      if (kernels.isBeakerlike !== true || autoOpened || !openAutomatically) {
        return;
      }
      autoOpened = true;
      if (!panel.isVisible) {
        app.shell.activateById(panel.id);
      }
    });

    app.commands.addCommand(CommandIDs.toggleVariables, {
      label: 'Show Variables (beakerlike)',
      execute: () => {
        if (panel.isVisible) {
          (app.shell as any).collapseRight?.();
        } else {
          app.shell.activateById(panel.id);
        }
      }
    });
    palette?.addItem({ command: CommandIDs.toggleVariables, category: 'beakerlike' });
    // Tell the kernel we stop watching when the page goes away (a reload re-watches with the same key).
    window.addEventListener('pagehide', () => void model.subscription?.stop());
    return model;
  }
};
