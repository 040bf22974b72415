import { PreviewSubscription, page } from '@beakerlike/client';
import type { ITableChange, PathStep } from '@beakerlike/client';
import type { Kernel } from '@jupyterlab/services';
import { BasicKeyHandler, BasicMouseHandler, BasicSelectionModel, DataGrid, RendererMap, TextRenderer } from '@lumino/datagrid';
import type { Message } from '@lumino/messaging';
import { BoxLayout, Widget } from '@lumino/widgets';

import { h } from '../dom';
import { COL_BLOCK, PagedDataModel } from './datamodel';
import type { IGridShape } from './datamodel';

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
}

/**
 * A main-area data viewer: a virtualized Lumino DataGrid whose model fetches
 * pages from the kernel as you scroll; refreshes when a cell changes the value,
 * says so when it is deleted.
 */
export class DataViewer extends Widget {
  readonly kernel: Kernel.IKernelConnection;
  readonly path: PathStep[];
  readonly grid: DataGrid;
  model: PagedDataModel | null = null;
  private _status: HTMLElement;
  private _sub: PreviewSubscription;
  private _ready: Promise<void>;

  constructor(options: IDataViewerOptions) {
    super();
    this.kernel = options.kernel;
    this.path = options.path;
    this.addClass('bl-viewer');
    this.id = `beakerlike-viewer-${Math.random().toString(36).slice(2)}`;
    this.title.label = options.label;
    this.title.caption = `${options.label} (beakerlike data viewer)`;
    this.title.closable = true;
    const layout = new BoxLayout({ direction: 'top-to-bottom', spacing: 0 });
    this.layout = layout;
    const bar = new Widget({ node: h('div', 'bl-viewer-status') });
    this._status = bar.node;
    BoxLayout.setStretch(bar, 0);
    this.grid = new DataGrid({
      defaultSizes: { rowHeight: 22, columnWidth: 110, rowHeaderWidth: 90, columnHeaderHeight: 24 },
      minimumSizes: { rowHeight: 18, columnWidth: 40, rowHeaderWidth: 40, columnHeaderHeight: 20 }
    });
    this.grid.addClass('bl-viewer-grid');
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
        this.model.onBlock = () => this._showStats();
        this.grid.dataModel = this.model;
        this.grid.selectionModel = new BasicSelectionModel({ dataModel: this.model });
        this._applyTheme();
      } else {
        this.model.reset(shape);
      }
      this._showStats();
    } catch (err) {
      this._setStatus(`Could not open ${this.title.label}: ${(err as Error)?.message ?? err}`, true);
    }
  }

  /** Scroll so that `row` is the first visible row. */
  scrollToRow(row: number): void {
    this.grid.scrollTo(this.grid.scrollX, row * this.grid.defaultSizes.rowHeight);
  }

  private async _shape(): Promise<IGridShape> {
    const meta = await page(this.kernel, this.path, { offset: 0, limit: 0 });
    const pre = this.path.length === 1 ? this._sub.preview(String(this.path[0])) : undefined;
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
      new TextRenderer({ ...textRenderer(this.node), horizontalAlignment: 'right' })
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
