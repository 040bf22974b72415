import type { JSONObject } from '@beakerlike/client';
import { Panel, Widget } from '@lumino/widgets';

import { PayloadForm } from '../actions/form';
import type { ActionsModel } from '../actions/model';
import { errorSchemaFromContextInfo, errorSchemaFromItems } from '../actions/schema';
import { h } from '../dom';

/** Options of {@link ContextSwitcher}. */
export interface IContextSwitcherOptions {
  model: ActionsModel;
  variables: () => string[];
}

/**
 * The active context at the top of the Actions sidebar, and a switcher: the
 * available contexts with their docs; choosing one opens its setup form
 * (`setup_schema`, prefilled from `default_info`) and sends `context_setup_request`.
 * An error (`UnknownContext`, `InvalidContextInfo` on its fields, `ContextSetupError`)
 * is shown in the form; the kernel keeps its old context.
 */
export class ContextSwitcher extends Panel {
  readonly model: ActionsModel;
  private _variables: () => string[];
  private _head: HTMLElement;
  private _name: HTMLElement;
  private _docs: HTMLElement;
  private _toggle: HTMLButtonElement;
  private _list: HTMLElement;
  private _formHost: Panel;
  private _formHead: HTMLElement;
  private _form: PayloadForm | null = null;
  private _target = '';
  private _open = false;
  /** The `context_info` last rendered (a run starting or ending changes the model, not the contexts). */
  private _renderedInfo: unknown = undefined;

  constructor(options: IContextSwitcherOptions) {
    super();
    this.model = options.model;
    this._variables = options.variables;
    this.addClass('bl-context');

    const top = new Widget();
    this._head = top.node;
    this._head.classList.add('bl-context-head');
    const line = h('div', 'bl-context-line');
    line.append(h('span', 'bl-context-label', 'Context'));
    this._name = h('span', 'bl-context-name');
    this._toggle = h('button', 'jp-mod-styled jp-mod-reject bl-context-switch', 'Switch…');
    this._toggle.title = 'Switch the kernel to another context';
    this._toggle.addEventListener('click', () => {
      this._open = !this._open;
      if (!this._open) {
        this._closeForm();
      }
      this._render();
    });
    line.append(this._name, this._toggle);
    this._docs = h('div', 'bl-context-docs');
    this._list = h('div', 'bl-context-list');
    this._head.append(line, this._docs, this._list);
    this.addWidget(top);

    this._formHost = new Panel();
    this._formHost.addClass('bl-context-form');
    this._formHead = h('div', 'bl-context-form-head');
    this._formHost.addWidget(new Widget({ node: this._formHead }));
    this._formHost.hide();
    this.addWidget(this._formHost);

    this.model.changed.connect(this._onModel, this);
    this._render();
  }

  private _onModel(): void {
    if (this.model.info !== this._renderedInfo) {
      this._render();
    }
  }

  /** Open the setup form of context `name`. */
  choose(name: string): void {
    const ctx = this.model.info?.contexts?.[name];
    if (!ctx) {
      return;
    }
    this._closeForm();
    this._open = true;
    this._target = name;
    this._formHead.replaceChildren(
      h('div', 'bl-context-form-title', `Set up context “${name}”`),
      h('div', 'bl-context-form-docs', ctx.docs || '')
    );
    const form = new PayloadForm({
      idPrefix: `bl-context-${name}`,
      schema: ctx.setup_schema ?? { type: 'object' },
      initial: ctx.default_info ?? {},
      submitLabel: `Switch to ${name}`,
      variables: this._variables,
      onSubmit: payload => void this._switch(form, name, payload)
    });
    this._form = form;
    this._formHost.node.dataset.context = name;
    this._formHost.addWidget(form);
    this._formHost.show();
    this._render();
  }

  private async _switch(form: PayloadForm, name: string, payload: JSONObject): Promise<void> {
    form.busy = true;
    let result;
    try {
      result = await this.model.switchContext(name, payload);
    } catch (err) {
      form.busy = false;
      form.setErrors(null, `Switching failed: ${(err as Error)?.message ?? err}`);
      return;
    }
    form.busy = false;
    if (result.ok) {
      this._open = false;
      this._closeForm();
      this._render();
      return;
    }
    const err = result.error!;
    const fields =
      err.ename === 'InvalidContextInfo'
        ? errorSchemaFromContextInfo(err.evalue)
        : errorSchemaFromItems(
            err.errors
              .filter(e => e.loc?.[0] === 'context_info')
              .map(e => ({ ...e, loc: e.loc.slice(1) }))
          );
    const still = this.model.contextName ?? 'the old context';
    form.setErrors(fields, `${err.ename}: ${err.evalue} — the kernel stays in “${still}”.`);
  }

  private _closeForm(): void {
    this._form?.dispose();
    this._form = null;
    this._target = '';
    delete this._formHost.node.dataset.context;
    this._formHost.hide();
  }

  private _render(): void {
    const info = this.model.info;
    this._renderedInfo = info;
    const active = info?.context;
    this.node.hidden = !info;
    this._name.textContent = active?.name ?? '—';
    this._name.title = JSON.stringify(active?.info ?? {}, null, 2);
    this._docs.textContent = active?.docs ?? '';
    const contexts = Object.entries(info?.contexts ?? {}).sort(([a], [b]) => a.localeCompare(b));
    this._toggle.hidden = contexts.length < 2;
    this._toggle.textContent = this._open ? 'Close' : 'Switch…';
    this._list.hidden = !this._open;
    this._list.replaceChildren();
    if (this._target && !info?.contexts?.[this._target]) {
      this._closeForm();
    }
    if (!this._open) {
      return;
    }
    for (const [name, ctx] of contexts) {
      const item = h('button', 'bl-context-item');
      item.type = 'button';
      item.dataset.context = name;
      item.classList.toggle('bl-mod-active', name === active?.name);
      item.classList.toggle('bl-mod-selected', name === this._target);
      item.append(h('span', 'bl-context-item-name', name + (name === active?.name ? ' (active)' : '')));
      item.append(h('span', 'bl-context-item-docs', ctx.docs ?? ''));
      if (ctx.actions?.length) {
        item.append(h('span', 'bl-context-item-actions', `actions: ${ctx.actions.join(', ')}`));
      }
      item.addEventListener('click', () => this.choose(name));
      this._list.append(item);
    }
  }
}
