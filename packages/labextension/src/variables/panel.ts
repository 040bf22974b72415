import { ActionError, deleteVariable, page } from '@beakerlike/client';
import type { IPageReply, IPreview, PathStep } from '@beakerlike/client';
import { Clipboard, Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';
import type { Message } from '@lumino/messaging';

import { cellText, h } from '../dom';
import {
  bytesText,
  canExpand,
  canView,
  isCode,
  memoryKey,
  sizeKey,
  sizeText,
  statusText
} from './format';
import type { VariablesModel } from './model';

/** Children per expansion page, and text lines per page. */
const CHILD_PAGE = 100;
const LINE_PAGE = 200;
/** Characters per page from a kernel that pages text by characters. */
const TEXT_CHUNK = 100_000;

type SortKey = 'name' | 'type' | 'size' | 'memory';

interface IChild {
  name: string;
  step: PathStep;
  type: string;
  summary: string;
  size: string;
  expandable: boolean;
  text: boolean;
}

interface INode {
  loading: boolean;
  error: string;
  total: number;
  children: IChild[] | null;
  lines: string[] | null;
  /** Offset of the next page. */
  next: number;
  unit: string;
  /** Line number of the last text row (pieces of one long line share it). */
  lastLine?: unknown;
}

interface IRow {
  key: string;
  path: PathStep[];
  depth: number;
  name: string;
  type: string;
  title: string;
  size: string;
  memory: string;
  summary: string;
  problem: string;
  expandable: boolean;
  viewable: boolean;
  preview: IPreview | null;
  changed: boolean;
}

/** Options of {@link VariablesPanel}. */
export interface IVariablesPanelOptions {
  model: VariablesModel;
  /** Opens a value in the data viewer. */
  openViewer: (path: PathStep[], label: string) => void;
  showCode?: boolean;
}

/**
 * The Variables sidebar: a filterable, sortable tree of the current kernel's
 * variables. Kernel data goes into the DOM with textContent only.
 */
export class VariablesPanel extends Widget {
  readonly model: VariablesModel;
  private _openViewer: (path: PathStep[], label: string) => void;
  private _filter = '';
  private _typeFilter = '';
  private _sort: SortKey = 'name';
  private _desc = false;
  private _showCode: boolean;
  private _expanded = new Set<string>();
  private _nodes = new Map<string, INode>();
  private _focusKey = '';
  private _header: HTMLElement;
  private _doc: HTMLElement;
  private _count: HTMLElement;
  private _status: HTMLElement;
  private _search: HTMLInputElement;
  private _types: HTMLSelectElement;
  private _body: HTMLElement;
  private _message: HTMLElement;
  private _heads = new Map<SortKey, HTMLElement>();

  constructor(options: IVariablesPanelOptions) {
    super();
    this.model = options.model;
    this._openViewer = options.openViewer;
    this._showCode = options.showCode ?? false;
    this.addClass('bl-variables');
    this.title.caption = 'Variables';

    this._header = h('div', 'bl-variables-header');
    this._doc = h('div', 'bl-variables-doc');
    const controls = h('div', 'bl-variables-controls');
    this._search = h('input', 'bl-variables-filter jp-mod-styled');
    this._search.type = 'search';
    this._search.placeholder = 'Filter by name';
    this._search.setAttribute('aria-label', 'Filter variables by name');
    this._search.addEventListener('input', () => {
      this._filter = this._search.value;
      this.render();
    });
    this._types = h('select', 'bl-variables-types jp-mod-styled');
    this._types.setAttribute('aria-label', 'Filter variables by type');
    this._types.addEventListener('change', () => {
      this._typeFilter = this._types.value;
      this.render();
    });
    this._count = h('span', 'bl-variables-count');
    controls.append(this._search, this._types, this._count);
    this._status = h('div', 'bl-variables-status');
    this._header.append(this._doc, controls, this._status);

    const table = h('div', 'bl-variables-table');
    table.setAttribute('role', 'treegrid');
    table.setAttribute('aria-label', 'Variables');
    const head = h('div', 'bl-variables-row bl-variables-head');
    head.setAttribute('role', 'row');
    for (const [key, label] of [
      ['name', 'Name'],
      ['type', 'Type'],
      ['size', 'Size'],
      ['memory', 'Memory'],
      ['', 'Summary']
    ] as [SortKey | '', string][]) {
      const cell = h('div', `bl-variables-cell bl-col-${label.toLowerCase()}`, label);
      cell.setAttribute('role', 'columnheader');
      if (key) {
        cell.classList.add('bl-sortable');
        cell.tabIndex = 0;
        const sortBy = () => this.sortBy(key);
        cell.addEventListener('click', sortBy);
        cell.addEventListener('keydown', e => {
          if (e.key === 'Enter' || e.key === ' ') {
            e.preventDefault();
            sortBy();
          }
        });
        this._heads.set(key, cell);
      }
      head.appendChild(cell);
    }
    this._body = h('div', 'bl-variables-body');
    this._body.setAttribute('role', 'rowgroup');
    this._body.addEventListener('keydown', e => this._onKey(e));
    this._message = h('div', 'bl-variables-message');
    table.append(head, this._body);
    this.node.append(this._header, table, this._message);
    this.model.changed.connect(this._onModel, this);
    this.render();
  }

  /** Show or hide modules, functions and classes. */
  set showCode(value: boolean) {
    this._showCode = value;
    this.render();
  }

  /** Sort by a column; the same column again flips the order. */
  sortBy(key: SortKey): void {
    if (this._sort === key) {
      this._desc = !this._desc;
    } else {
      this._sort = key;
      this._desc = false;
    }
    this.render();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.model.visible = true;
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this.model.visible = false;
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this.model.visible = this.isVisible;
  }

  protected onBeforeDetach(msg: Message): void {
    this.model.visible = false;
    super.onBeforeDetach(msg);
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.model.changed.disconnect(this._onModel, this);
    super.dispose();
  }

  private _onModel(): void {
    const change = this.model.lastChange;
    if (change) {
      // Expanded values that changed are fetched again; removed ones forgotten.
      const touched = new Set(change.full ? [...this._nodes.keys()].map(k => rootOf(k)) : [...change.updated, ...change.removed]);
      for (const key of [...this._nodes.keys()]) {
        if (touched.has(rootOf(key))) {
          this._nodes.delete(key);
        }
      }
    }
    if (!this.model.subscription) {
      this._nodes.clear();
    }
    this.render();
  }

  /** Rebuild the table from the model (cheap: one row element per visible row). */
  render(): void {
    const model = this.model;
    const status = model.status;
    this._doc.textContent = model.tracker.label
      ? `${model.tracker.label}`
      : 'No notebook or console';
    this.node.dataset.status = status;
    this._status.textContent = statusLine(status, model.error);
    const all = [...model.variables.values()];
    const shown = all.filter(p => this._showCode || !isCode(p));
    this._updateTypes(shown);
    const needle = this._filter.trim().toLowerCase();
    const visible = shown.filter(
      p =>
        (!needle || p.name.toLowerCase().includes(needle)) &&
        (!this._typeFilter || p.type === this._typeFilter)
    );
    visible.sort((a, b) => this._compare(a, b));
    this._count.textContent =
      visible.length === shown.length
        ? `${shown.length}`
        : `${visible.length} / ${shown.length}`;
    this._count.title = `${visible.length} of ${shown.length} variables shown`;
    for (const [key, cell] of this._heads) {
      cell.dataset.sort = key === this._sort ? (this._desc ? 'desc' : 'asc') : '';
      cell.setAttribute('aria-sort', key === this._sort ? (this._desc ? 'descending' : 'ascending') : 'none');
    }
    const changed = new Set(model.lastChange && !model.lastChange.full ? model.lastChange.updated : []);
    const rows: IRow[] = [];
    for (const p of visible) {
      const key = keyOf([p.name]);
      rows.push({
        key,
        path: [p.name],
        depth: 0,
        name: p.name,
        type: p.type,
        title: p.module ? `${p.module}.${p.type}` : p.type,
        size: sizeText(p),
        memory: bytesText(p),
        summary: p.summary ?? '',
        problem: statusText(p),
        expandable: canExpand(p),
        viewable: canView(p),
        preview: p,
        changed: changed.has(p.name)
      });
      if (this._expanded.has(key)) {
        this._addChildren(rows, [p.name], 1, p.kind === 'text');
      }
    }
    const focused = this._focusKey;
    const hadFocus = this._body.contains(document.activeElement);
    this._body.replaceChildren(...rows.map(r => this._rowElement(r)));
    if (hadFocus && focused) {
      this._focusRow(focused);
    }
    this._message.textContent = this._emptyMessage(status, all.length, visible.length);
  }

  private _emptyMessage(status: string, total: number, shown: number): string {
    if (status === 'not-beakerlike') {
      return 'This kernel does not support beakerlike previews. Pick the "Python 3 (beakerlike)" kernel to see its variables here.';
    }
    if (status === 'no-kernel') {
      return 'Open a notebook or console to see its variables.';
    }
    if (status === 'watching' && total === 0) {
      return 'No variables yet. Run a cell that assigns one.';
    }
    if (status === 'watching' && shown === 0) {
      return 'No variable matches the filter.';
    }
    return '';
  }

  private _updateTypes(previews: IPreview[]): void {
    const types = [...new Set(previews.map(p => p.type).filter(Boolean))].sort();
    const current = [...this._types.options].map(o => o.value);
    const wanted = ['', ...types];
    if (this._typeFilter && !types.includes(this._typeFilter)) {
      wanted.push(this._typeFilter);
    }
    if (current.join('\u0000') === wanted.join('\u0000')) {
      return;
    }
    this._types.replaceChildren(
      ...wanted.map(t => {
        const o = h('option', '', t || 'All types');
        o.value = t;
        return o;
      })
    );
    this._types.value = this._typeFilter;
  }

  private _compare(a: IPreview, b: IPreview): number {
    let r = 0;
    if (this._sort === 'type') {
      r = a.type.localeCompare(b.type);
    } else if (this._sort === 'size') {
      r = sizeKey(a) - sizeKey(b);
    } else if (this._sort === 'memory') {
      r = memoryKey(a) - memoryKey(b);
    }
    if (r === 0) {
      r = a.name.localeCompare(b.name);
    }
    return this._desc ? -r : r;
  }

  private _addChildren(rows: IRow[], path: PathStep[], depth: number, text: boolean): void {
    const key = keyOf(path);
    const node = this._nodes.get(key);
    if (!node) {
      void this._fetch(path, text, 0);
      rows.push(infoRow(key, path, depth, 'loading…'));
      return;
    }
    if (node.error) {
      rows.push(infoRow(key, path, depth, node.error, true));
      return;
    }
    if (node.lines) {
      node.lines.forEach((line, i) => {
        rows.push({ ...infoRow(`${key}#${i}`, path, depth, line), name: '', type: 'line' });
      });
    }
    for (const child of node.children ?? []) {
      const childPath = [...path, child.step];
      const childKey = keyOf(childPath);
      rows.push({
        key: childKey,
        path: childPath,
        depth,
        name: child.name,
        type: child.type,
        title: child.type,
        size: child.size,
        memory: '',
        summary: child.summary,
        problem: '',
        expandable: child.expandable || child.text,
        viewable: false,
        preview: null,
        changed: false
      });
      if (this._expanded.has(childKey) && (child.expandable || child.text)) {
        this._addChildren(rows, childPath, depth + 1, child.text);
      }
    }
    const shown = node.lines ? node.lines.length : node.children?.length ?? 0;
    if (node.loading) {
      rows.push(infoRow(`${key}#loading`, path, depth, 'loading…'));
    } else if (node.next < node.total) {
      const unit = node.lines ? (node.unit === 'lines' ? 'lines' : node.unit === 'chunks' ? 'pieces' : 'characters') : 'items';
      const more = infoRow(`${key}#more`, path, depth, `show more (${shown.toLocaleString('en-US')} of ${node.total.toLocaleString('en-US')} ${unit})`);
      more.type = 'more';
      rows.push(more);
    }
  }

  private async _fetch(path: PathStep[], text: boolean, offset: number): Promise<void> {
    const kernel = this.model.subscription?.kernel;
    const key = keyOf(path);
    const previous = this._nodes.get(key);
    const node: INode = previous ?? { loading: true, error: '', total: 0, children: null, lines: null, next: 0, unit: '' };
    node.loading = true;
    this._nodes.set(key, node);
    if (!kernel) {
      node.error = 'no kernel';
      node.loading = false;
      return;
    }
    try {
      let reply = await page(kernel, path, { offset, limit: text ? LINE_PAGE : CHILD_PAGE });
      if (reply.unit === 'characters' && reply.total > reply.offset + LINE_PAGE) {
        // A kernel that pages text by characters: take a large chunk, shown as lines.
        reply = await page(kernel, path, { offset, limit: TEXT_CHUNK });
      }
      if (this._nodes.get(key) !== node) {
        return; // the value changed meanwhile; a new fetch is under way
      }
      mergePage(node, reply, text);
    } catch (err) {
      node.error = err instanceof ActionError ? `${err.ename}: ${err.evalue}` : String(err);
    }
    node.loading = false;
    this.render();
  }

  private _rowElement(r: IRow): HTMLElement {
    const row = h('div', 'bl-variables-row');
    row.setAttribute('role', 'row');
    row.dataset.key = r.key;
    row.dataset.name = r.depth === 0 ? r.name : '';
    row.dataset.depth = String(r.depth);
    row.tabIndex = r.key === this._focusKey ? 0 : -1;
    row.setAttribute('aria-level', String(r.depth + 1));
    if (r.changed) {
      row.classList.add('bl-changed');
    }
    if (r.type === 'line') {
      row.classList.add('bl-line');
      const line = h('div', 'bl-variables-cell bl-line-text', r.summary);
      line.style.paddingLeft = `${8 + r.depth * 14}px`;
      row.appendChild(line);
      return row;
    }
    if (r.type === 'info' || r.type === 'more') {
      row.classList.add(r.type === 'more' ? 'bl-more' : 'bl-info');
      if (r.problem) {
        row.classList.add('bl-problem');
      }
      const cell = h('div', 'bl-variables-cell bl-info-text', r.summary);
      cell.style.paddingLeft = `${8 + r.depth * 14}px`;
      row.appendChild(cell);
      if (r.type === 'more') {
        row.addEventListener('click', () => this._more(r.path));
        row.addEventListener('keydown', e => {
          if (e.key === 'Enter') {
            this._more(r.path);
          }
        });
      }
      return row;
    }
    const expanded = this._expanded.has(r.key);
    if (r.expandable) {
      row.setAttribute('aria-expanded', String(expanded));
    }
    const name = h('div', 'bl-variables-cell bl-col-name');
    name.style.paddingLeft = `${4 + r.depth * 14}px`;
    const toggle = h('span', 'bl-variables-toggle', r.expandable ? (expanded ? '▾' : '▸') : '');
    if (r.expandable) {
      toggle.addEventListener('click', e => {
        e.stopPropagation();
        this._toggle(r);
      });
    }
    name.append(toggle, h('span', 'bl-variables-name', r.name));
    name.title = r.name;
    const type = h('div', 'bl-variables-cell bl-col-type', r.type);
    type.title = r.title;
    const size = h('div', 'bl-variables-cell bl-col-size', r.size);
    size.title = r.memory ? `${r.size} (memory ${r.memory})` : r.size;
    const memory = h('div', 'bl-variables-cell bl-col-memory', r.memory);
    const nbytes = r.preview ? memoryKey(r.preview) : -1;
    memory.title = nbytes >= 0 ? `${nbytes.toLocaleString('en-US')} bytes` : 'not known cheaply';
    const summary = h('div', 'bl-variables-cell bl-col-summary', r.problem || r.summary);
    summary.title = r.problem || r.summary;
    if (r.problem) {
      summary.classList.add('bl-problem');
    }
    const actions = h('div', 'bl-row-actions');
    if (r.viewable) {
      actions.appendChild(this._button('⊞', 'Open in viewer', 'bl-open-viewer', () => this._openViewer(r.path, r.name)));
    }
    actions.appendChild(this._button('⧉', 'Copy name', 'bl-copy-name', () => Clipboard.copyToSystem(pathText(r.path))));
    actions.appendChild(this._button('❝', 'Copy summary', 'bl-copy-summary', () => Clipboard.copyToSystem(r.summary)));
    if (r.depth === 0) {
      actions.appendChild(this._button('🗑', `Delete ${r.name}`, 'bl-delete', () => void this.deleteVariable(r.name)));
    }
    summary.appendChild(actions);
    row.append(name, type, size, memory, summary);
    row.addEventListener('click', () => {
      this._focusKey = r.key;
      this._focusRow(r.key);
    });
    row.addEventListener('dblclick', () => {
      if (r.viewable) {
        this._openViewer(r.path, r.name);
      } else if (r.expandable) {
        this._toggle(r);
      }
    });
    return row;
  }

  private _button(label: string, title: string, cls: string, onClick: () => void): HTMLElement {
    const b = h('button', `bl-icon-button ${cls}`, label);
    b.title = title;
    b.setAttribute('aria-label', title);
    b.tabIndex = -1;
    b.addEventListener('click', e => {
      e.stopPropagation();
      onClick();
    });
    return b;
  }

  private _toggle(r: IRow): void {
    if (this._expanded.has(r.key)) {
      this._expanded.delete(r.key);
    } else {
      this._expanded.add(r.key);
    }
    this._focusKey = r.key;
    this.render();
  }

  private _more(path: PathStep[]): void {
    const node = this._nodes.get(keyOf(path));
    if (node && !node.loading) {
      void this._fetch(path, node.lines !== null, node.next);
      this.render();
    }
  }

  /** Ask, then delete a variable with the kernel's `delete_variable` action. */
  async deleteVariable(name: string): Promise<void> {
    const kernel = this.model.subscription?.kernel;
    if (!kernel) {
      return;
    }
    const answer = await showDialog({
      title: 'Delete variable',
      body: `Delete "${name}" from the kernel? This cannot be undone.`,
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Delete' })]
    });
    if (!answer.button.accept) {
      return;
    }
    try {
      await deleteVariable(kernel, name);
      if (this.model.variables.has(name)) {
        await this.model.subscription?.resync();
      }
    } catch (err) {
      const text =
        err instanceof ActionError && err.ename === 'UnknownAction'
          ? 'This kernel cannot delete variables (its beakerlike has no delete_variable action; update beakerlike).'
          : String(err instanceof Error ? err.message : err);
      await showDialog({ title: `Could not delete ${name}`, body: text, buttons: [Dialog.okButton()] });
    }
  }

  private _rows(): HTMLElement[] {
    return [...this._body.querySelectorAll<HTMLElement>('.bl-variables-row')];
  }

  private _focusRow(key: string): void {
    for (const row of this._rows()) {
      const me = row.dataset.key === key;
      row.tabIndex = me ? 0 : -1;
      if (me) {
        row.focus();
      }
    }
  }

  private _onKey(e: KeyboardEvent): void {
    const rows = this._rows();
    const current = (e.target as HTMLElement).closest<HTMLElement>('.bl-variables-row');
    const i = current ? rows.indexOf(current) : -1;
    const move = (j: number) => {
      const target = rows[Math.max(0, Math.min(rows.length - 1, j))];
      if (target) {
        this._focusKey = target.dataset.key ?? '';
        this._focusRow(this._focusKey);
      }
      e.preventDefault();
    };
    const key = current?.dataset.key ?? '';
    const expandable = current?.hasAttribute('aria-expanded');
    switch (e.key) {
      case 'ArrowDown':
        return move(i + 1);
      case 'ArrowUp':
        return move(i - 1);
      case 'Home':
        return move(0);
      case 'End':
        return move(rows.length - 1);
      case 'Enter':
      case 'ArrowRight':
      case 'ArrowLeft':
        if (current?.classList.contains('bl-more')) {
          return;
        }
        if (expandable) {
          const open = this._expanded.has(key);
          if (e.key === 'Enter' || (e.key === 'ArrowRight') !== open) {
            if (open) {
              this._expanded.delete(key);
            } else {
              this._expanded.add(key);
            }
            this._focusKey = key;
            this.render();
          }
          e.preventDefault();
        }
        return;
      case 'Delete':
        if (current && current.dataset.depth === '0' && current.dataset.name) {
          void this.deleteVariable(current.dataset.name);
          e.preventDefault();
        }
        return;
      case 'c':
        if ((e.ctrlKey || e.metaKey) && current) {
          const name = current.querySelector('.bl-variables-name')?.textContent ?? '';
          Clipboard.copyToSystem(name);
          e.preventDefault();
        }
        return;
    }
  }
}

function statusLine(status: string, error: string): string {
  switch (status) {
    case 'checking':
      return 'Connecting to the kernel…';
    case 'paused':
      return 'Paused (the sidebar is hidden)';
    case 'loading':
      return 'Loading…';
    case 'restarting':
      return 'Kernel restarting…';
    case 'error':
      return `Could not watch the kernel: ${error}`;
    default:
      return '';
  }
}

function infoRow(key: string, path: PathStep[], depth: number, text: string, problem = false): IRow {
  return {
    key, path, depth, name: '', type: 'info', title: '', size: '', memory: '', summary: text,
    problem: problem ? text : '', expandable: false, viewable: false, preview: null, changed: false
  };
}

/** Merge one page of children or lines into a tree node. */
export function mergePage(node: INode, reply: IPageReply, text: boolean): void {
  node.total = typeof reply.total === 'number' ? reply.total : 0;
  node.unit = reply.unit ?? '';
  const rows = Array.isArray(reply.rows) ? reply.rows : [];
  const unit = reply.unit;
  if (text || unit === 'lines' || unit === 'chunks' || unit === 'characters') {
    const lines = node.lines ?? [];
    const index = Array.isArray(reply.index) ? reply.index : [];
    if (unit === 'lines') {
      // One row per line; a very long line comes in pieces that share its line number.
      rows.forEach((r, i) => {
        const piece = String(Array.isArray(r) ? r[0] ?? '' : r);
        const continues = (i > 0 || node.next > 0) && index[i] !== undefined && index[i] === node.lastLine;
        if (continues) {
          lines[lines.length - 1] += piece;
        } else {
          lines.push(piece);
        }
        node.lastLine = index[i];
      });
      node.next = reply.offset + rows.length;
    } else {
      // Pieces of a huge string (chunks) or of an older kernel's character pages: split into lines.
      const chunk = rows.map(r => String(r[0] ?? '')).join('');
      const parts = chunk.split('\n');
      if (lines.length && node.next > 0) {
        lines[lines.length - 1] += parts.shift() ?? '';
      }
      lines.push(...parts);
      node.next = reply.offset + (unit === 'characters' ? chunk.length : rows.length);
    }
    node.lines = lines;
    return;
  }
  const children = node.children ?? [];
  if (Array.isArray(reply.children)) {
    for (const c of reply.children) {
      const addressable = c.step !== null && c.step !== undefined;
      children.push({
        name: String(c.name),
        step: c.step,
        type: String(c.type ?? ''),
        summary: String(c.summary ?? ''),
        size: c.size === null || c.size === undefined ? '' : String(c.size),
        expandable: addressable && Boolean(c.expandable),
        text: addressable && (c.type === 'str' || c.type === 'bytes')
      });
    }
    node.next = reply.offset + reply.children.length;
  } else {
    // No structured children (older kernel): show the page's rows, not expandable.
    const index = Array.isArray(reply.index) ? reply.index : [];
    rows.forEach((r, i) => {
      children.push({
        name: cellText(index[i] ?? reply.offset + i),
        step: reply.offset + i,
        type: '',
        summary: Array.isArray(r) ? r.map(cellText).join(', ') : cellText(r),
        size: '',
        expandable: false,
        text: false
      });
    });
    node.next = reply.offset + rows.length;
  }
  node.children = children;
}

/** Stable key of a path. */
export function keyOf(path: PathStep[]): string {
  return JSON.stringify(path);
}

function rootOf(key: string): string {
  try {
    return String(JSON.parse(key)[0]);
  } catch {
    return '';
  }
}

/** How a path reads in Python: `df`, `d['a'][0]`, `obj.attr`. */
export function pathText(path: PathStep[]): string {
  let out = String(path[0] ?? '');
  for (const step of path.slice(1)) {
    if (typeof step === 'object' && step !== null) {
      out += `.${step.attr}`;
    } else if (typeof step === 'number') {
      out += `[${step}]`;
    } else {
      out += `[${JSON.stringify(step)}]`;
    }
  }
  return out;
}
