import { ILabShell, ILayoutRestorer } from '@jupyterlab/application';
import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, InputDialog } from '@jupyterlab/apputils';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { LabIcon } from '@jupyterlab/ui-components';

import { IBeakerlikeKernelTracker, IBeakerlikeVariables } from '../tokens';
import { ActionsModel } from './model';
import { ActionsPanel } from './panel';
import { ActionCommandIDs, IBeakerlikeActions } from './tokens';

/** A lightning bolt for the side bar tab. */
export const actionsIcon = new LabIcon({
  name: 'beakerlike:actions',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161"><path d="M11 21h-1l1-7H7.5c-.88 0-.33-.75-.31-.78C8.48 10.94 10.42 7.54 13.01 3h1l-1 7h3.51c.4 0 .62.19.4.66C12.97 17.55 11 21 11 21z"/></g></svg>'
});

/** The Actions sidebar and the "beakerlike: Run action…" command. */
export const actionsPlugin: JupyterFrontEndPlugin<IBeakerlikeActions> = {
  id: '@beakerlike/labextension:actions',
  description: 'Lists, runs and cancels the actions of a beakerlike kernel; switches its context.',
  autoStart: true,
  requires: [IBeakerlikeKernelTracker],
  optional: [IRenderMimeRegistry, IBeakerlikeVariables, ILayoutRestorer, ICommandPalette, ILabShell],
  provides: IBeakerlikeActions,
  activate: (
    app: JupyterFrontEnd,
    kernels: IBeakerlikeKernelTracker,
    rendermime: IRenderMimeRegistry | null,
    variables: IBeakerlikeVariables | null,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null
  ): IBeakerlikeActions => {
    const model = new ActionsModel(kernels);
    const panel = new ActionsPanel({
      model,
      rendermime,
      variables: () => (variables ? [...variables.variables.keys()].sort() : []),
      variablesChanged: variables?.changed ?? null
    });
    panel.id = 'beakerlike-actions';
    panel.title.icon = actionsIcon;
    panel.title.caption = 'Actions (beakerlike)';
    app.shell.add(panel, 'left', { rank: 650 });
    restorer?.add(panel, 'beakerlike-actions');

    app.commands.addCommand(ActionCommandIDs.showActions, {
      label: 'Show Actions (beakerlike)',
      execute: () => app.shell.activateById(panel.id)
    });
    app.commands.addCommand(ActionCommandIDs.runAction, {
      label: 'beakerlike: Run action…',
      caption: 'Pick an action of the current beakerlike kernel and open its form',
      isEnabled: () => model.kernel !== null,
      execute: async args => {
        if (!model.info) {
          await model.refresh();
        }
        const names = model.actions().map(([n]) => n);
        let name = typeof args.name === 'string' ? args.name : '';
        if (!name) {
          if (!names.length) {
            return;
          }
          const choice = await InputDialog.getItem({ title: 'Run action', items: names });
          if (!choice.button.accept || !choice.value) {
            return;
          }
          name = choice.value;
        }
        app.shell.activateById(panel.id);
        panel.openForm(name);
      }
    });
    palette?.addItem({ command: ActionCommandIDs.runAction, category: 'beakerlike' });
    palette?.addItem({ command: ActionCommandIDs.showActions, category: 'beakerlike' });
    return model;
  }
};
