import { PreviewSubscription, previewOf } from '@beakerlike/client';
import type { IPreview, ITableChange } from '@beakerlike/client';
import { Signal } from '@lumino/signaling';

import type { IBeakerlikeKernelTracker, IBeakerlikeVariables } from '../tokens';

/** What the sidebar should say about the current document. */
export type VariablesStatus =
  | 'no-kernel'
  | 'checking'
  | 'not-beakerlike'
  | 'paused'
  | 'loading'
  | 'watching'
  | 'restarting'
  | 'error';

/**
 * The variables of the current kernel: owns one {@link PreviewSubscription} per
 * beakerlike kernel and watches only while `visible` is true.
 */
export class VariablesModel implements IBeakerlikeVariables {
  private _sub: PreviewSubscription | null = null;
  private _visible = false;
  private _variables = new Map<string, IPreview>();
  private _changed = new Signal<this, void>(this);
  private _lastChange: ITableChange | null = null;

  constructor(
    readonly tracker: IBeakerlikeKernelTracker,
    readonly watchKey: string
  ) {
    tracker.changed.connect(this._onTracker, this);
    this._onTracker();
  }

  get changed(): Signal<this, void> {
    return this._changed;
  }

  get subscription(): PreviewSubscription | null {
    return this._sub;
  }

  get variables(): ReadonlyMap<string, IPreview> {
    return this._variables;
  }

  /** The change that produced the current table (names to highlight). */
  get lastChange(): ITableChange | null {
    return this._lastChange;
  }

  get status(): VariablesStatus {
    const t = this.tracker;
    if (!t.kernel) {
      return 'no-kernel';
    }
    if (t.isBeakerlike === null) {
      return 'checking';
    }
    if (!t.isBeakerlike) {
      return 'not-beakerlike';
    }
    if (!this._visible || !this._sub) {
      return 'paused';
    }
    switch (this._sub.state) {
      case 'watching':
        return 'watching';
      case 'restarting':
        return 'restarting';
      case 'error':
        return 'error';
      default:
        return 'loading';
    }
  }

  get error(): string {
    return this._sub?.error ?? '';
  }

  get visible(): boolean {
    return this._visible;
  }

  /** Watch while visible; stop (unwatch) when hidden. */
  set visible(value: boolean) {
    if (value === this._visible) {
      return;
    }
    this._visible = value;
    this._sync();
    this._changed.emit();
  }

  /** Stop watching and forget the kernel (page unload). */
  dispose(): void {
    this.tracker.changed.disconnect(this._onTracker, this);
    this._sub?.dispose();
    this._sub = null;
    Signal.clearData(this);
  }

  private _onTracker(): void {
    const kernel = this.tracker.isBeakerlike ? this.tracker.kernel : null;
    if (this._sub && this._sub.kernel !== kernel) {
      this._sub.dispose();
      this._sub = null;
      this._variables = new Map();
      this._lastChange = null;
    }
    if (kernel && !this._sub) {
      this._sub = new PreviewSubscription(kernel, { key: this.watchKey });
      this._sub.changed.connect(this._onTable, this);
      this._sub.stateChanged.connect(() => this._changed.emit(), this);
    }
    this._sync();
    this._changed.emit();
  }

  private _sync(): void {
    const sub = this._sub;
    if (!sub) {
      return;
    }
    if (this._visible && sub.state !== 'watching' && sub.state !== 'resyncing' && sub.state !== 'restarting') {
      sub.start().catch(err => console.warn('beakerlike: watching previews failed', err));
    } else if (!this._visible && sub.state !== 'stopped' && sub.state !== 'idle') {
      void sub.stop();
    }
  }

  private _onTable(sub: PreviewSubscription, change: ITableChange): void {
    if (sub !== this._sub) {
      return;
    }
    if (change.full) {
      this._variables = new Map();
      for (const name of sub.items.keys()) {
        this._variables.set(name, previewOf(sub.items.get(name), name)!);
      }
    } else {
      for (const name of change.updated) {
        this._variables.set(name, previewOf(sub.items.get(name), name)!);
      }
      for (const name of change.removed) {
        this._variables.delete(name);
      }
    }
    this._lastChange = change;
    this._changed.emit();
  }
}
