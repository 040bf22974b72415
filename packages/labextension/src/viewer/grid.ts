import { DataGrid, TextRenderer } from '@lumino/datagrid';
import type { CellRenderer, GraphicsContext } from '@lumino/datagrid';

/** A paint rectangle in viewport pixels. */
export interface IPaintRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * The viewer's DataGrid: one back-buffer → canvas copy per painted region
 * instead of one per cell, and a hook after every paint.
 *
 * Lumino 2's `_drawCells` renders each cell into the off-screen buffer and
 * copies that cell to the visible canvas right away (`drawImage`, once per
 * cell). Where the 2-d canvas is rasterized in software (headless Chromium,
 * machines without GPU raster), every `drawImage` from a canvas that was drawn
 * into since its last copy snapshots the whole buffer (1024 × 1024 px here):
 * ~2–3 ms per cell, ~230 ms for the ~105 cells of one viewport, while drawing
 * the same cells and copying them once takes ~3 ms. So while `_drawCells`
 * runs, copies from the buffer to the same place on the canvas are collected
 * into their bounding box and copied once when it returns. The cells of a
 * region tile that box (merged cells excluded: grids whose model has cell
 * groups keep the per-cell copies), and nothing else draws to the canvas
 * during `_drawCells`, so the canvas ends up with the same pixels.
 *
 * The batching reaches into two private members of Lumino's DataGrid; if a
 * Lumino version lacks them the grid simply keeps its own per-cell copies.
 */
export class ViewerGrid extends DataGrid {
  /** Called after each paint of the grid's content, with the painted rectangle. */
  onPaint: ((rect: IPaintRect) => void) | null = null;

  constructor(options?: DataGrid.IOptions) {
    super(options);
    this._batchBlits();
  }

  protected paintContent(rx: number, ry: number, rw: number, rh: number): void {
    super.paintContent(rx, ry, rw, rh);
    this.onPaint?.({ x: rx, y: ry, width: rw, height: rh });
  }

  private _batchBlits(): void {
    const grid = this as any;
    const drawCells = grid._drawCells;
    const blit = grid._blitContent;
    if (typeof drawCells !== 'function' || typeof blit !== 'function' || !grid._buffer) {
      return; // an unknown Lumino: keep its per-cell copies
    }
    let box: { x1: number; y1: number; x2: number; y2: number } | null = null;
    let batching = false;
    grid._blitContent = (
      source: HTMLCanvasElement,
      x: number,
      y: number,
      w: number,
      h: number,
      dx: number,
      dy: number
    ): void => {
      if (batching && source === grid._buffer && x === dx && y === dy) {
        box = box
          ? { x1: Math.min(box.x1, x), y1: Math.min(box.y1, y), x2: Math.max(box.x2, x + w), y2: Math.max(box.y2, y + h) }
          : { x1: x, y1: y, x2: x + w, y2: y + h };
        return;
      }
      blit.call(grid, source, x, y, w, h, dx, dy);
    };
    grid._drawCells = (rgn: { region: string }): void => {
      const model = this.dataModel;
      if (!model || model.groupCount(rgn.region as any) > 0) {
        drawCells.call(grid, rgn);
        return;
      }
      batching = true;
      box = null;
      try {
        drawCells.call(grid, rgn);
      } finally {
        batching = false;
        const b = box as { x1: number; y1: number; x2: number; y2: number } | null;
        box = null;
        if (b && b.x2 > b.x1 && b.y2 > b.y1) {
          blit.call(grid, grid._buffer, b.x1, b.y1, b.x2 - b.x1, b.y2 - b.y1, b.x1, b.y1);
        }
      }
    };
  }
}

/**
 * A TextRenderer that clips each cell's text to its cell. With one copy per
 * region (see {@link ViewerGrid}) text running past its cell in the buffer
 * would otherwise show in the neighbouring cell; long values are also elided
 * with "…" instead of being cut silently at the cell border.
 */
export class ClippedTextRenderer extends TextRenderer {
  constructor(options: TextRenderer.IOptions) {
    super({ elideDirection: 'right', ...options });
  }

  paint(gc: GraphicsContext, config: CellRenderer.CellConfig): void {
    gc.save();
    gc.beginPath();
    gc.rect(config.x, config.y, config.width, config.height);
    gc.clip();
    super.paint(gc, config);
    gc.restore();
  }
}
