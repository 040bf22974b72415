import { ActionError, columnValue, page } from '@beakerlike/client';
import type { PathStep } from '@beakerlike/client';
import type { Kernel } from '@jupyterlab/services';
import { DataModel } from '@lumino/datagrid';

import { cellText } from '../dom';

/** Rows and columns fetched per block. */
export const ROW_BLOCK = 200;
export const COL_BLOCK = 40;
/** Blocks kept in memory (least recently used are dropped). */
const MAX_BLOCKS = 120;

/** The shape of what the viewer shows. */
export interface IGridShape {
  total: number;
  columns: string[];
  /** Send numeric columns as binary buffers. */
  binary: boolean;
  /** Ask for the block's columns by name (DataFrames, 2-d arrays); 1-d values have one column. */
  selectColumns: boolean;
}

interface IBlock {
  cells: string[][] | null;
  index: string[] | null;
  error: string;
}

/** Statistics of the fetches (bench and the status line). */
export interface IFetchStats {
  pages: number;
  bytes: number;
  lastMs: number;
}

/**
 * A Lumino DataModel over a kernel value: cells are fetched in blocks of rows ×
 * columns with `preview_page` when the grid asks for them (binary pages for
 * numeric columns), so row 5,000,000 costs one page, not the rows before it.
 */
export class PagedDataModel extends DataModel {
  private _blocks = new Map<string, IBlock>();
  private _inflight = new Set<string>();
  private _generation = 0;
  readonly stats: IFetchStats = { pages: 0, bytes: 0, lastMs: 0 };
  /** Called after each block arrived (tests, status line). */
  onBlock: ((row0: number, col0: number) => void) | null = null;

  constructor(
    readonly kernel: Kernel.IKernelConnection,
    readonly path: PathStep[],
    private _shape: IGridShape
  ) {
    super();
  }

  get shape(): IGridShape {
    return this._shape;
  }

  /** New shape after the variable changed: drop every block and repaint. */
  reset(shape: IGridShape): void {
    this._shape = shape;
    this._blocks.clear();
    this._inflight.clear();
    this._generation++;
    this.emitChanged({ type: 'model-reset' });
  }

  rowCount(region: DataModel.RowRegion): number {
    return region === 'body' ? this._shape.total : 1;
  }

  columnCount(region: DataModel.ColumnRegion): number {
    return region === 'body' ? this._shape.columns.length : 1;
  }

  data(region: DataModel.CellRegion, row: number, column: number): string {
    if (region === 'corner-header') {
      return '';
    }
    if (region === 'column-header') {
      return this._shape.columns[column] ?? '';
    }
    const rb = Math.floor(row / ROW_BLOCK);
    const cb = region === 'row-header' ? 0 : Math.floor(column / COL_BLOCK);
    const block = this._block(rb, cb);
    if (region === 'row-header') {
      return block?.index?.[row - rb * ROW_BLOCK] ?? String(row);
    }
    if (!block) {
      return '';
    }
    if (block.error) {
      return column % COL_BLOCK === 0 && row % ROW_BLOCK === 0 ? `⚠ ${block.error}` : '';
    }
    return block.cells?.[row - rb * ROW_BLOCK]?.[column - cb * COL_BLOCK] ?? '';
  }

  /**
   * Start fetching the blocks that hold rows `row0..row1` and columns
   * `col0..col1` now (a jump knows its target before the grid paints it).
   */
  prefetch(row0: number, row1: number, col0: number, col1: number): void {
    const lastRow = Math.min(row1, this._shape.total - 1);
    const lastCol = Math.min(col1, this._shape.columns.length - 1);
    for (let rb = Math.floor(Math.max(0, row0) / ROW_BLOCK); rb <= Math.floor(lastRow / ROW_BLOCK); rb++) {
      for (let cb = Math.floor(Math.max(0, col0) / COL_BLOCK); cb <= Math.floor(lastCol / COL_BLOCK); cb++) {
        this._block(rb, cb);
      }
    }
  }

  /** Whether the block holding (row, column) has arrived. */
  hasCell(row: number, column: number): boolean {
    return this._blocks.has(`${Math.floor(row / ROW_BLOCK)}:${Math.floor(column / COL_BLOCK)}`);
  }

  private _block(rb: number, cb: number): IBlock | null {
    const key = `${rb}:${cb}`;
    const block = this._blocks.get(key);
    if (block) {
      // Move to the end: most recently used.
      this._blocks.delete(key);
      this._blocks.set(key, block);
      return block;
    }
    if (!this._inflight.has(key)) {
      this._inflight.add(key);
      void this._fetch(rb, cb, key);
    }
    return null;
  }

  private async _fetch(rb: number, cb: number, key: string): Promise<void> {
    const generation = this._generation;
    const offset = rb * ROW_BLOCK;
    const limit = Math.min(ROW_BLOCK, Math.max(0, this._shape.total - offset));
    const names = this._shape.columns.slice(cb * COL_BLOCK, (cb + 1) * COL_BLOCK);
    const started = performance.now();
    let block: IBlock;
    try {
      block = await this._load(offset, limit, names);
    } catch (err) {
      block = {
        cells: null,
        index: null,
        error: err instanceof ActionError ? `${err.ename}: ${err.evalue}` : String(err)
      };
    }
    if (generation !== this._generation) {
      return;
    }
    this.stats.lastMs = performance.now() - started;
    this._inflight.delete(key);
    this._blocks.set(key, block);
    while (this._blocks.size > MAX_BLOCKS) {
      const oldest = this._blocks.keys().next().value as string;
      this._blocks.delete(oldest);
    }
    this.emitChanged({
      type: 'cells-changed',
      region: 'body',
      row: offset,
      column: cb * COL_BLOCK,
      rowSpan: Math.max(1, limit),
      columnSpan: Math.max(1, names.length)
    });
    this.emitChanged({
      type: 'cells-changed',
      region: 'row-header',
      row: offset,
      column: 0,
      rowSpan: Math.max(1, limit),
      columnSpan: 1
    });
    this.onBlock?.(offset, cb * COL_BLOCK);
  }

  private async _load(offset: number, limit: number, names: string[]): Promise<IBlock> {
    const cells: string[][] = Array.from({ length: limit }, () => new Array(names.length).fill(''));
    let index: string[] | null = null;
    let jsonColumns = names;
    const columnsArg = this._shape.selectColumns ? names : null;
    const position = new Map(names.map((n, j) => [n, j]));
    if (this._shape.binary && limit > 0) {
      const bin = await page(this.kernel, this.path, { offset, limit, columns: columnsArg, binary: true });
      this.stats.pages++;
      this.stats.bytes += bin.bytes;
      jsonColumns = [];
      const single = !this._shape.selectColumns;
      bin.columns.forEach((col, k) => {
        const j = single ? k : position.get(col.column);
        if (j === undefined || j >= names.length) {
          return;
        }
        if (!col.values) {
          jsonColumns.push(names[j]);
          return;
        }
        const isFloat = col.dtype.endsWith('f8') || col.dtype.endsWith('f4') || col.dtype.endsWith('f2');
        const isBool = col.dtype.endsWith('b1');
        for (let i = 0; i < limit && i < col.values.length; i++) {
          const v = columnValue(col.values, i);
          cells[i][j] = isBool ? (v ? 'True' : 'False') : isFloat ? cellText(v) : String(v);
        }
      });
    }
    if (jsonColumns.length && limit > 0) {
      const reply = await page(this.kernel, this.path, {
        offset,
        limit,
        columns: columnsArg ? jsonColumns : null
      });
      this.stats.pages++;
      this.stats.bytes += JSON.stringify(reply.rows).length;
      const positions = jsonColumns.map(n => names.indexOf(n));
      reply.rows.forEach((r, i) => {
        if (i < limit) {
          positions.forEach((j, k) => (cells[i][j] = cellText(r[k])));
        }
      });
      if (Array.isArray(reply.index)) {
        index = reply.index.map(cellText);
      }
    }
    return { cells, index, error: '' };
  }
}
