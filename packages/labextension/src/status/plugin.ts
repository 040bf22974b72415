import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { IStatusBar } from '@jupyterlab/statusbar';
import { Widget } from '@lumino/widgets';

import { ActionCommandIDs, IBeakerlikeActions } from '../actions/tokens';
import { h } from '../dom';

/** "beakerlike: data · 2 running" in the status bar; clicking shows the Actions sidebar. */
export class ActionsStatus extends Widget {
  private _text: HTMLElement;

  constructor(private _actions: IBeakerlikeActions, onClick: () => void) {
    super();
    this.addClass('bl-status-item');
    this.node.title = 'beakerlike: active context and running actions (click for the Actions sidebar)';
    this._text = h('span', 'bl-status-text jp-StatusBar-TextItem');
    this.node.append(this._text);
    this.node.addEventListener('click', onClick);
    _actions.changed.connect(this._render, this);
    this._render();
  }

  /** Whether there is something to show (a beakerlike kernel with known info). */
  get active(): boolean {
    return this._actions.info !== null;
  }

  private _render(): void {
    const ctx = this._actions.contextName;
    const running = this._actions.runningCount;
    this.node.dataset.running = String(running);
    this._text.textContent = ctx
      ? `beakerlike: ${ctx}${running ? ` · ${running} running` : ''}`
      : '';
  }
}

/** The status bar item of beakerlike. */
export const statusPlugin: JupyterFrontEndPlugin<void> = {
  id: '@beakerlike/labextension:status',
  description: 'Shows the active beakerlike context and how many actions run, in the status bar.',
  autoStart: true,
  requires: [IBeakerlikeActions],
  optional: [IStatusBar],
  activate: (app: JupyterFrontEnd, actions: IBeakerlikeActions, statusBar: IStatusBar | null) => {
    if (!statusBar) {
      return;
    }
    const item = new ActionsStatus(actions, () =>
      void app.commands.execute(ActionCommandIDs.showActions)
    );
    statusBar.registerStatusItem('@beakerlike/labextension:status', {
      item,
      align: 'left',
      rank: 5,
      isActive: () => item.active,
      activeStateChanged: actions.changed
    });
  }
};
