import type { IPreviewItem, IPreviewSnapshot } from './messages';

/** An update to apply: a `preview` message or a snapshot, in one shape. */
export interface IPreviewUpdate {
  variables: { [name: string]: IPreviewItem };
  removed: string[];
  seq: number;
  full: boolean;
}

/** What {@link PreviewTable.apply} did with an update. */
export type ApplyResult = 'applied' | 'stale' | 'gap';

/** What changed in the table, for views. */
export interface ITableChange {
  /** The whole table was replaced (snapshot, restart, full update). */
  full: boolean;
  /** Names set by this change (new, rebound or mutated). */
  updated: string[];
  /** Names removed by this change. */
  removed: string[];
  seq: number;
}

/**
 * The variables table kept by a client, following docs/protocol.md "How to apply it":
 * ignore `seq <=` the last applied, replace on `full`, report a gap when a message
 * was missed. No I/O: {@link PreviewSubscription} drives it.
 */
export class PreviewTable {
  private _items = new Map<string, IPreviewItem>();
  private _seq = -1;

  /** Sequence number of the last applied update (-1: none yet). */
  get seq(): number {
    return this._seq;
  }

  /** The variables by name (a Map: a variable may be called `__proto__`). */
  get items(): ReadonlyMap<string, IPreviewItem> {
    return this._items;
  }

  /** Forget everything (kernel restarted). */
  clear(): ITableChange {
    const removed = [...this._items.keys()];
    this._items = new Map();
    this._seq = -1;
    return { full: true, updated: [], removed, seq: -1 };
  }

  /** Replace the table with a snapshot (watch reply, `preview_snapshot`). */
  reset(snapshot: IPreviewSnapshot | IPreviewUpdate): ITableChange {
    const before = new Set(this._items.keys());
    this._items = new Map(Object.entries(snapshot.variables ?? {}));
    this._seq = snapshot.seq;
    for (const name of this._items.keys()) {
      before.delete(name);
    }
    return {
      full: true,
      updated: [...this._items.keys()],
      removed: [...before],
      seq: this._seq
    };
  }

  /**
   * Apply one update. `stale`: already seen (seq too small), nothing done.
   * `gap`: an update was missed, nothing done; fetch a snapshot and {@link reset}.
   */
  apply(update: IPreviewUpdate): { result: ApplyResult; change?: ITableChange } {
    if (update.full) {
      if (update.seq <= this._seq) {
        return { result: 'stale' };
      }
      return { result: 'applied', change: this.reset(update) };
    }
    if (update.seq <= this._seq) {
      return { result: 'stale' };
    }
    if (this._seq < 0 || update.seq !== this._seq + 1) {
      return { result: 'gap' };
    }
    const updated = Object.keys(update.variables ?? {});
    for (const name of updated) {
      this._items.set(name, update.variables[name]);
    }
    const removed: string[] = [];
    for (const name of update.removed ?? []) {
      if (this._items.delete(name)) {
        removed.push(name);
      }
    }
    this._seq = update.seq;
    return {
      result: 'applied',
      change: { full: false, updated, removed, seq: update.seq }
    };
  }
}

/** Read a `preview` iopub message (content + metadata) into an update; null if malformed. */
export function updateFromMessage(
  content: unknown,
  metadata: unknown
): IPreviewUpdate | null {
  const meta = (metadata as { beakerlike?: any } | null)?.beakerlike;
  if (!meta || typeof meta.seq !== 'number') {
    return null;
  }
  const variables = (content as { variables?: unknown } | null)?.variables;
  const removed = meta.removed?.variables;
  return {
    variables:
      variables && typeof variables === 'object' ? (variables as any) : {},
    removed: Array.isArray(removed) ? removed.map(String) : [],
    seq: meta.seq,
    full: Boolean(meta.full)
  };
}
