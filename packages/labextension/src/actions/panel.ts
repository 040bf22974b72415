import type { IActionInfo } from '@beakerlike/client';
import { Dialog, showDialog } from '@jupyterlab/apputils';
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import type { ISignal } from '@lumino/signaling';
import { Panel, Widget } from '@lumino/widgets';

import { ContextSwitcher } from '../contexts/switcher';
import { h } from '../dom';
import { RunCard } from './card';
import { PayloadForm } from './form';
import { groupOf } from './model';
import type { ActionsModel } from './model';
import type { ActionRun } from './run';
import { errorSchemaFromItems } from './schema';

/** Options of {@link ActionsPanel}. */
export interface IActionsPanelOptions {
  model: ActionsModel;
  rendermime: IRenderMimeRegistry | null;
  /** Names of the current variables (suggestions in variable-name fields). */
  variables: () => string[];
  /** Emitted when those names may have changed (the open form then shows the new ones). */
  variablesChanged?: ISignal<unknown, void> | null;
}

/** Docs: the first paragraph, the rest behind "More". */
export function docsElement(docs: string): HTMLElement {
  const box = h('div', 'bl-action-form-docs');
  const [first, ...rest] = docs.trim().split(/\n\s*\n/);
  box.append(h('div', 'bl-docs-first', (first ?? '').replace(/\s+/g, ' ')));
  if (rest.length) {
    const more = h('details', 'bl-docs-more');
    more.append(h('summary', '', 'More'), h('div', 'bl-docs-rest', rest.join('\n\n')));
    box.append(more);
  }
  return box;
}

/** Ask before interrupting a kernel that cannot cancel one action. */
export async function confirmInterrupt(): Promise<boolean> {
  const result = await showDialog({
    title: 'Interrupt the kernel?',
    body:
      'This kernel cannot cancel a single action (it has no cancel_action). ' +
      'Interrupting stops every running action and the running cell.',
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Interrupt' })]
  });
  return result.button.accept;
}

/**
 * The Actions sidebar: the active context and its switcher, the kernel's actions
 * grouped by plugin / context with their docs (filterable), plugin load errors, the
 * payload form of the chosen action, and one card per run.
 */
export class ActionsPanel extends Panel {
  readonly model: ActionsModel;
  private _rendermime: IRenderMimeRegistry | null;
  private _variables: () => string[];
  private _list: Widget;
  private _status: HTMLElement;
  private _filter: HTMLInputElement;
  private _groups: HTMLElement;
  private _errors: HTMLElement;
  private _formHost: Panel;
  private _formHead: HTMLElement;
  private _form: PayloadForm | null = null;
  private _formAction = '';
  private _runs: Panel;
  private _runsHead: HTMLElement;
  private _runsCount: HTMLElement;
  private _cards = new Map<ActionRun, RunCard>();
  /** The `context_info` the list and the plugin errors were last rendered from. */
  private _listedInfo: unknown = undefined;

  constructor(options: IActionsPanelOptions) {
    super();
    this.model = options.model;
    this._rendermime = options.rendermime;
    this._variables = options.variables;
    this.addClass('bl-actions');

    this.addWidget(new ContextSwitcher({ model: this.model, variables: this._variables }));

    this._list = new Widget();
    this._list.addClass('bl-actions-list');
    const controls = h('div', 'bl-actions-controls');
    this._filter = h('input', 'jp-mod-styled bl-actions-filter');
    this._filter.type = 'search';
    this._filter.placeholder = 'Filter actions';
    this._filter.setAttribute('aria-label', 'Filter actions by name or docs');
    this._filter.addEventListener('input', () => this._renderList());
    const reload = h('button', 'jp-mod-styled jp-mod-reject bl-actions-reload', '⟳');
    reload.title = 'Ask the kernel again';
    reload.setAttribute('aria-label', 'Reload actions');
    reload.addEventListener('click', () => void this.model.refresh());
    controls.append(this._filter, reload);
    this._status = h('div', 'bl-actions-status');
    this._groups = h('div', 'bl-actions-groups');
    this._errors = h('div', 'bl-actions-errors');
    this._list.node.append(controls, this._status, this._groups, this._errors);
    this.addWidget(this._list);

    this._formHost = new Panel();
    this._formHost.addClass('bl-action-form');
    this._formHead = h('div', 'bl-action-form-head');
    const headWidget = new Widget({ node: this._formHead });
    this._formHost.addWidget(headWidget);
    this._formHost.hide();
    this.addWidget(this._formHost);

    this._runsHead = h('div', 'bl-runs-head');
    const clear = h('button', 'jp-mod-styled jp-mod-reject bl-runs-clear', 'Clear finished');
    clear.title = 'Close the cards of finished runs';
    clear.addEventListener('click', () => {
      for (const run of [...this.model.runs]) {
        this.model.remove(run);
      }
    });
    this._runsCount = h('span', 'bl-runs-count');
    this._runsHead.append(this._runsCount, clear);
    this.addWidget(new Widget({ node: this._runsHead }));
    this._runs = new Panel();
    this._runs.addClass('bl-runs');
    this.addWidget(this._runs);

    this.model.changed.connect(this._onModel, this);
    this.model.runsChanged.connect(this._syncCards, this);
    options.variablesChanged?.connect(() => this._form?.update(), this);
    this._onModel();
  }

  /** Open the payload form of `name` (if the kernel offers it). */
  openForm(name: string): boolean {
    const info = this.model.info?.actions?.[name];
    if (!info) {
      return false;
    }
    this._closeForm();
    this._formAction = name;
    this._formHead.replaceChildren();
    const title = h('div', 'bl-action-form-title');
    title.append(h('span', 'bl-action-form-name', name));
    const close = h('button', 'jp-mod-styled jp-mod-reject bl-action-form-close', '×');
    close.title = 'Close the form';
    close.setAttribute('aria-label', 'Close the form');
    close.addEventListener('click', () => this._closeForm());
    title.append(close);
    this._formHead.append(title, docsElement(info.docs || ''));
    const form = new PayloadForm({
      idPrefix: `bl-action-${name}`,
      schema: info.schema,
      initial: info.default_payload ?? {},
      submitLabel: 'Run',
      variables: this._variables,
      onSubmit: payload => {
        let run: ActionRun;
        try {
          run = this.model.run(name, payload);
        } catch (err) {
          form.setErrors(null, `Not sent: ${(err as Error)?.message ?? err}`);
          return;
        }
        void run.done.then(() => {
          if (run.error?.ename === 'ValidationError' && this._form === form) {
            form.setErrors(errorSchemaFromItems(run.error.errors), `${run.error.ename}: ${run.error.evalue}`);
          }
        });
      }
    });
    this._form = form;
    this._formHost.node.dataset.action = name;
    this._formHost.addWidget(form);
    this._formHost.show();
    this._renderList();
    this._formHost.node.scrollIntoView?.({ block: 'nearest' });
    return true;
  }

  private _closeForm(): void {
    this._form?.dispose();
    this._form = null;
    this._formAction = '';
    delete this._formHost.node.dataset.action;
    this._formHost.hide();
    this._renderList();
  }

  private _onModel(): void {
    const m = this.model;
    let status = '';
    if (!m.tracker.kernel) {
      status = 'Open a notebook or console to see its actions.';
    } else if (m.tracker.isBeakerlike === null) {
      status = 'Checking the kernel…';
    } else if (!m.tracker.isBeakerlike) {
      status = 'This kernel is not a beakerlike kernel: it has no actions.';
    } else if (m.error) {
      status = `Could not ask the kernel: ${m.error}`;
    } else if (!m.info && m.slow) {
      status =
        'The kernel has not answered context_info_request yet. It may be busy starting, or the ' +
        'server drops custom message types (MappingKernelManager.allowed_message_types): see docs/deploy.md.';
    } else if (!m.info) {
      status = 'Asking the kernel for its actions…';
    }
    this._status.textContent = status;
    this._status.hidden = !status;
    if (this._formAction && !m.info?.actions?.[this._formAction] && m.info) {
      this._closeForm(); // the action went away (context switch, restart)
    }
    if (m.info !== this._listedInfo) {
      // Only when the kernel's actions changed: a run starting or ending must not rebuild the list
      // (that relayout would delay the frame that paints the run's first progress).
      this._listedInfo = m.info;
      this._renderList();
      this._renderErrors();
    }
    const total = m.runs.length;
    const running = m.runningCount;
    this._runsHead.hidden = total === 0;
    this._runsCount.textContent = `Runs: ${running} running, ${total - running} finished`;
  }

  private _renderList(): void {
    const query = this._filter.value.trim().toLowerCase();
    const groups = new Map<string, [string, IActionInfo][]>();
    for (const [name, info] of this.model.actions()) {
      if (query && !name.toLowerCase().includes(query) && !(info.docs ?? '').toLowerCase().includes(query)) {
        continue;
      }
      const group = groupOf(name, info, this.model.info);
      groups.set(group, [...(groups.get(group) ?? []), [name, info]]);
    }
    const ordered = [...groups.entries()].sort(([a], [b]) =>
      a.startsWith('context:') === b.startsWith('context:') ? a.localeCompare(b) : a.startsWith('context:') ? -1 : 1
    );
    this._groups.replaceChildren();
    for (const [group, actions] of ordered) {
      const section = h('section', 'bl-actions-group');
      section.dataset.group = group;
      section.append(h('div', 'bl-actions-group-title', group));
      for (const [name, info] of actions) {
        const item = h('button', 'bl-action');
        item.type = 'button';
        item.dataset.action = name;
        if (name === this._formAction) {
          item.classList.add('bl-mod-selected');
        }
        item.append(h('span', 'bl-action-name', name));
        const docs = (info.docs ?? '').trim();
        const first = docs.split(/\n\s*\n/)[0].replace(/\s+/g, ' ');
        item.append(h('span', 'bl-action-docs', first));
        item.title = docs;
        item.addEventListener('click', () => this.openForm(name));
        section.append(item);
      }
      this._groups.append(section);
    }
    if (this.model.info && !ordered.length) {
      this._groups.append(h('div', 'bl-actions-empty', query ? 'No action matches.' : 'No actions.'));
    }
  }

  private _renderErrors(): void {
    const errors = this.model.info?.plugin_errors ?? [];
    this._errors.replaceChildren();
    if (!errors.length) {
      return;
    }
    const details = h('details', 'bl-plugin-errors');
    details.append(
      h('summary', '', `${errors.length} plugin${errors.length === 1 ? '' : 's'} failed to load`)
    );
    for (const e of errors) {
      const item = h('div', 'bl-plugin-error');
      item.append(h('div', 'bl-plugin-error-title', `${e.plugin} (${e.phase}): ${e.error}`));
      if (e.traceback) {
        item.append(h('pre', 'bl-plugin-error-traceback', e.traceback));
      }
      details.append(item);
    }
    this._errors.append(details);
  }

  private _syncCards(): void {
    const runs = this.model.runs;
    for (const [run, card] of this._cards) {
      if (!runs.includes(run)) {
        card.dispose();
        this._cards.delete(run);
      }
    }
    runs.forEach((run, i) => {
      let card = this._cards.get(run);
      if (!card) {
        card = new RunCard({
          run,
          rendermime: this._rendermime,
          cancel: r => void r.cancel(confirmInterrupt),
          close: r => this.model.remove(r)
        });
        this._cards.set(run, card);
        requestAnimationFrame(() => card!.node.scrollIntoView?.({ block: 'nearest' }));
      }
      if (this._runs.widgets[i] !== card) {
        this._runs.insertWidget(i, card);
      }
    });
  }
}
