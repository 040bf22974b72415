import { PreviewSubscription, page } from '@beakerlike/client';
import type { IPreview, ITableChange, PathStep } from '@beakerlike/client';
import type { Kernel } from '@jupyterlab/services';
import { BasicKeyHandler, BasicMouseHandler, BasicSelectionModel, DataGrid, RendererMap } from '@lumino/datagrid';
import type { Message } from '@lumino/messaging';
import { BoxLayout, Widget } from '@lumino/widgets';

import { h } from '../dom';
import { COL_BLOCK, PagedDataModel } from './datamodel';
import type { IGridShape } from './datamodel';
import { ClippedTextRenderer, ViewerGrid } from './grid';
import type { IPaintRect } from './grid';

/** Column names the viewer can fetch at most (the kernel pages at most 1,000 DataFrame columns). */
const MAX_FRAME_COLUMNS = 1000;

/** Grid colours from the JupyterLab theme's CSS variables. */
function gridStyle(node: HTMLElement): DataGrid.Style {
  const css = getComputedStyle(node);
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  return {
    ...DataGrid.defaultStyle,
    voidColor: v('--jp-layout-color0', '#fff'),
    backgroundColor: v('--jp-layout-color0', '#fff'),
    headerBackgroundColor: v('--jp-layout-color2', '#eee'),
    gridLineColor: v('--jp-border-color3', 'rgba(0,0,0,0.1)'),
    headerGridLineColor: v('--jp-border-color2', 'rgba(0,0,0,0.2)'),
    selectionFillColor: 'rgba(49, 119, 180, 0.2)',
    selectionBorderColor: v('--jp-brand-color1', '#1976d2'),
    cursorBorderColor: v('--jp-brand-color1', '#1976d2')
  };
}

function textRenderer(node: HTMLElement) {
  const css = getComputedStyle(node);
  const color = css.getPropertyValue('--jp-ui-font-color1').trim() || '#000';
  const font = css.getPropertyValue('--jp-code-font-family').trim() || 'monospace';
  return { textColor: color, font: `12px ${font}` };
}

/** Options of {@link DataViewer}. */
export interface IDataViewerOptions {
  kernel: Kernel.IKernelConnection;
  path: PathStep[];
  label: string;
  /** Watcher key base; the viewer watches while it is visible, to refresh on changes. */
  watchKey: string;
  /** The value's preview, if the opener has it (type and shape pick binary pages). */
  preview?: IPreview;
}

/**
 * A main-area data viewer: a virtualized Lumino DataGrid whose model fetches
 * pages from the kernel as you scroll; refreshes when a cell changes the value,
 * says so when it is deleted.
 */
export class DataViewer extends Widget {
  readonly kernel: Kernel.IKernelConnection;
  readonly path: PathStep[];
  readonly grid: ViewerGrid;
  model: PagedDataModel | null = null;
  private _status: HTMLElement;
  private _goto: HTMLInputElement;
  private _cell: HTMLElement;
  private _paint: { row: number; t0: number } | null = null;
  private _preview: IPreview | undefined;
  private _sub: PreviewSubscription;
  private _ready: Promise<void>;

  constructor(options: IDataViewerOptions) {
    super();
    this.kernel = options.kernel;
    this.path = options.path;
    this._preview = options.preview;
    this.addClass('bl-viewer');
    this.id = `beakerlike-viewer-${Math.random().toString(36).slice(2)}`;
    this.title.label = options.label;
    this.title.caption = `${options.label} (beakerlike data viewer)`;
    this.title.closable = true;
    const layout = new BoxLayout({ direction: 'top-to-bottom', spacing: 0 });
    this.layout = layout;
    const bar = new Widget({ node: h('div', 'bl-viewer-bar') });
    this._status = h('span', 'bl-viewer-status');
    this._goto = h('input', 'bl-viewer-goto jp-mod-styled');
    this._goto.type = 'number';
    this._goto.min = '0';
    this._goto.placeholder = 'Go to row';
    this._goto.setAttribute('aria-label', 'Go to row');
    this._goto.addEventListener('keydown', e => {
      if (e.key === 'Enter' && this._goto.value !== '') {
        this.scrollToRow(Number(this._goto.value));
      }
    });
    this._cell = h('span', 'bl-viewer-cell');
    this._cell.setAttribute('aria-live', 'polite');
    bar.node.append(this._goto, this._status, this._cell);
    BoxLayout.setStretch(bar, 0);
    this.grid = new ViewerGrid({
      defaultSizes: { rowHeight: 22, columnWidth: 110, rowHeaderWidth: 90, columnHeaderHeight: 24 },
      minimumSizes: { rowHeight: 18, columnWidth: 40, rowHeaderWidth: 40, columnHeaderHeight: 20 }
    });
    this.grid.addClass('bl-viewer-grid');
    this.grid.onPaint = rect => this._onPaint(rect);
    this.grid.keyHandler = new BasicKeyHandler();
    this.grid.mouseHandler = new BasicMouseHandler();
    this.grid.copyConfig = { ...this.grid.copyConfig, headers: 'all' };
    BoxLayout.setStretch(this.grid, 1);
    layout.addWidget(bar);
    layout.addWidget(this.grid);
    this._sub = new PreviewSubscription(this.kernel, { key: `${options.watchKey}:${JSON.stringify(options.path)}` });
    this._sub.changed.connect(this._onChange, this);
    this._ready = this.refresh();
  }

  /** Resolves when the first shape is known and the grid has its model. */
  get ready(): Promise<void> {
    return this._ready;
  }

  /** Fetch the value's shape again and repaint everything. */
  async refresh(): Promise<void> {
    this._setStatus('Loading…');
    try {
      const shape = await this._shape();
      if (this.isDisposed) {
        return;
      }
      if (!this.model) {
        this.model = new PagedDataModel(this.kernel, this.path, shape);
        this.model.onBlock = () => this._onBlock();
        this.grid.dataModel = this.model;
        this.grid.selectionModel = new BasicSelectionModel({ dataModel: this.model });
        this.grid.selectionModel.changed.connect(() => this._showCell());
        this._applyTheme();
      } else {
        this.model.reset(shape);
      }
      this._showStats();
    } catch (err) {
      this._setStatus(`Could not open ${this.title.label}: ${(err as Error)?.message ?? err}`, true);
    }
  }

  /**
   * Scroll so that `row` is the first visible row and select its first cell.
   * The blocks it shows are requested before the grid paints the scroll. When
   * the grid has painted the row with its fetched values, `data-painted-row`
   * and `data-paint-ms` (time from this call to the end of that paint) are set
   * on the widget's node.
   */
  scrollToRow(row: number): void {
    const model = this.model;
    if (!model) {
      return;
    }
    const grid = this.grid;
    const target = Math.max(0, Math.min(model.shape.total - 1, Math.floor(row)));
    const { rowHeight, columnWidth } = grid.defaultSizes;
    const y = Math.max(0, Math.min(target * rowHeight, grid.maxScrollY));
    const col0 = this._firstColumn();
    model.prefetch(
      target,
      target + Math.ceil(grid.viewportHeight / rowHeight),
      col0,
      col0 + Math.ceil(grid.viewportWidth / columnWidth)
    );
    this._paint = { row: target, t0: performance.now() };
    delete this.node.dataset.paintedRow;
    const moves = y !== grid.scrollY;
    grid.scrollTo(grid.scrollX, y);
    grid.selectionModel?.select({
      r1: target, c1: 0, r2: target, c2: 0, cursorRow: target, cursorColumn: 0, clear: 'all'
    });
    if (!moves && model.hasCell(target, col0)) {
      this._painted(); // already on the canvas: no content paint follows
    }
  }

  /** The first column the grid shows (default column widths). */
  private _firstColumn(): number {
    return Math.floor(this.grid.scrollX / this.grid.defaultSizes.columnWidth);
  }

  private _onBlock(): void {
    this._showStats();
    this._showCell();
  }

  /** After each grid paint: did it draw the jump's target row with its fetched values? */
  private _onPaint(rect: IPaintRect): void {
    const p = this._paint;
    const model = this.model;
    if (!p || !model || !model.hasCell(p.row, this._firstColumn())) {
      return;
    }
    const grid = this.grid;
    const rowHeight = grid.defaultSizes.rowHeight;
    const top = grid.headerHeight + p.row * rowHeight - grid.scrollY;
    const crossesRow = top < rect.y + rect.height && top + rowHeight > rect.y;
    const inBody = rect.x + rect.width > grid.headerWidth;
    if (crossesRow && inBody) {
      this._painted();
    }
  }

  private _painted(): void {
    const p = this._paint;
    if (!p) {
      return;
    }
    this._paint = null;
    this.node.dataset.paintMs = (performance.now() - p.t0).toFixed(1);
    this.node.dataset.paintedRow = String(p.row);
  }

  /** Show the value under the cursor (row, column: value) as text. */
  private _showCell(): void {
    const sel = this.grid.selectionModel;
    const model = this.model;
    if (!sel || !model || sel.cursorRow < 0 || sel.cursorColumn < 0) {
      this._cell.textContent = '';
      return;
    }
    const r = sel.cursorRow;
    const c = sel.cursorColumn;
    const label = model.data('row-header', r, 0);
    const column = model.shape.columns[c] ?? '';
    const value = model.hasCell(r, c) ? model.data('body', r, c) : '…';
    this._cell.textContent = `row ${label}, ${column}: ${value}`;
  }

  private async _shape(): Promise<IGridShape> {
    const meta = await page(this.kernel, this.path, { offset: 0, limit: 0 });
    let pre = this.path.length === 1 ? this._sub.preview(String(this.path[0])) ?? this._preview : undefined;
    if (!pre && this.path.length === 1) {
      await this._sub.start().catch(() => undefined);
      pre = this._sub.preview(String(this.path[0]));
    }
    const isFrame = pre?.module === 'pandas' && pre?.type === 'DataFrame';
    const isArray = pre?.module === 'numpy' && pre?.type === 'ndarray';
    const ndim = Array.isArray(pre?.shape) ? pre!.shape!.length : 1;
    let columns = meta.columns.map(String);
    if (isArray && ndim === 2 && pre!.shape![1] > columns.length) {
      columns = Array.from({ length: pre!.shape![1] }, (_, i) => String(i));
    }
    const width = isFrame && pre?.shape ? pre.shape[1] : columns.length;
    this._note = width > columns.length ? `first ${columns.length.toLocaleString('en-US')} of ${width.toLocaleString('en-US')} columns` : '';
    if (isFrame && width > MAX_FRAME_COLUMNS) {
      columns = columns.slice(0, MAX_FRAME_COLUMNS);
    }
    return {
      total: meta.total,
      columns,
      binary: isFrame || (isArray && (ndim === 1 || columns.length <= COL_BLOCK)),
      selectColumns: isFrame || (isArray && ndim === 2)
    };
  }

  private _note = '';
  private _gone = '';

  private _showStats(): void {
    const m = this.model;
    if (!m) {
      return;
    }
    const parts = [
      `${m.shape.total.toLocaleString('en-US')} rows × ${m.shape.columns.length.toLocaleString('en-US')} columns`
    ];
    if (this._note) {
      parts.push(this._note);
    }
    parts.push(`${m.stats.pages} pages fetched${m.shape.binary ? ' (binary)' : ''}`);
    this.node.dataset.pages = String(m.stats.pages);
    this.node.dataset.bytes = String(m.stats.bytes);
    this.node.dataset.fetchMs = m.stats.lastMs.toFixed(1);
    if (this._gone) {
      this._setStatus(this._gone, true);
      return;
    }
    this._setStatus(parts.join(' · '));
  }

  private _setStatus(text: string, warn = false): void {
    this._status.textContent = text;
    this._status.classList.toggle('bl-warn', warn);
  }

  private _firstSnapshot = true;

  private _onChange(_: PreviewSubscription, change: ITableChange): void {
    const name = String(this.path[0]);
    if (change.removed.includes(name) && !this._sub.items.has(name)) {
      this._gone =
        change.seq < 0
          ? `The kernel restarted: ${name} no longer exists. The grid shows its last rows.`
          : `${name} was deleted in the kernel. The grid shows its last rows.`;
      this.node.dataset.gone = 'true';
      this._showStats();
      return;
    }
    if (!change.updated.includes(name)) {
      return;
    }
    if (change.full && this._firstSnapshot) {
      this._firstSnapshot = false; // our own watch's first snapshot: nothing changed
      return;
    }
    this._gone = '';
    delete this.node.dataset.gone;
    void this.refresh();
  }

  private _applyTheme(): void {
    if (!this.model) {
      return;
    }
    this.grid.style = gridStyle(this.node);
    this.grid.cellRenderers = new RendererMap(
      {},
      new ClippedTextRenderer({ ...textRenderer(this.node), horizontalAlignment: 'right' })
    );
  }

  /** Re-read the theme colours (the theme changed). */
  updateTheme(): void {
    this._applyTheme();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._sub.start().catch(() => undefined);
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    void this._sub.stop();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    if (this.isVisible) {
      this._sub.start().catch(() => undefined);
    }
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._sub.dispose();
    super.dispose();
  }
}
