import type { Kernel, KernelMessage } from '@jupyterlab/services';
import type { IDisposable } from '@lumino/disposable';
import { Signal } from '@lumino/signaling';
import type { ISignal } from '@lumino/signaling';

import { call, resolveTransport } from './actions';
import { commChannel } from './comm';
import type { CommChannel, ICommPreview, Transport } from './comm';
import type {
  IPreview,
  IPreviewItem,
  IPreviewSnapshot,
  IPreviewUnwatchReply
} from './messages';
import { PREVIEW_MIME } from './messages';
import { PreviewTable, updateFromMessage } from './table';
import type { ITableChange, IPreviewUpdate } from './table';

/** Options of {@link PreviewSubscription}. */
export interface IPreviewSubscriptionOptions {
  /**
   * Watcher key. Defaults to the connection's session (`clientId`). Give a key that
   * stays the same across page reloads (e.g. kept in `sessionStorage`) so a reload
   * replaces its old watch instead of adding one.
   */
  key?: string;
  /**
   * How its actions travel (default `auto`, see `resolveTransport`). Over the comm, the
   * previews come on the comm (the watch key defaults to the comm's, `comm:<comm_id>`).
   */
  transport?: Transport;
}

/** State of a subscription. */
export type SubscriptionState =
  | 'idle'
  | 'watching'
  | 'resyncing'
  | 'restarting'
  | 'stopped'
  | 'error';

/**
 * Live previews of a kernel's variables: watches (`preview_watch`), applies iopub
 * `preview` messages by `seq`, resyncs with `preview_snapshot` on gaps, re-watches
 * after a kernel restart or reconnect, unwatches on {@link stop} / {@link dispose}.
 */
export class PreviewSubscription implements IDisposable {
  readonly kernel: Kernel.IKernelConnection;
  readonly key: string | undefined;
  readonly transport: Transport;
  private _channel: CommChannel | null = null;
  private _table = new PreviewTable();
  private _changed = new Signal<this, ITableChange>(this);
  private _stateChanged = new Signal<this, SubscriptionState>(this);
  private _state: SubscriptionState = 'idle';
  private _wanted = false;
  private _disposed = false;
  private _pending: IPreviewUpdate[] = [];
  private _generation = 0;
  private _error = '';

  constructor(
    kernel: Kernel.IKernelConnection,
    options: IPreviewSubscriptionOptions = {}
  ) {
    this.kernel = kernel;
    this.key = options.key;
    this.transport = options.transport ?? 'auto';
    kernel.iopubMessage.connect(this._onIOPub, this);
    kernel.statusChanged.connect(this._onStatus, this);
    kernel.connectionStatusChanged.connect(this._onConnection, this);
  }

  /** Emitted after each change of the table. */
  get changed(): ISignal<this, ITableChange> {
    return this._changed;
  }

  /** Emitted when {@link state} changes. */
  get stateChanged(): ISignal<this, SubscriptionState> {
    return this._stateChanged;
  }

  /** `watching` while previews flow. */
  get state(): SubscriptionState {
    return this._state;
  }

  /** The last error (state `error`). */
  get error(): string {
    return this._error;
  }

  /** The current variables (ITEM mime bundles) by name. */
  get items(): ReadonlyMap<string, IPreviewItem> {
    return this._table.items;
  }

  /** Sequence number of the last applied update. */
  get seq(): number {
    return this._table.seq;
  }

  /** The structured preview of one variable. */
  preview(name: string): IPreview | undefined {
    return previewOf(this._table.items.get(name), name);
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** Start watching (idempotent); resolves once the first snapshot is applied. */
  async start(): Promise<void> {
    if (this._disposed) {
      throw new Error('PreviewSubscription is disposed');
    }
    this._wanted = true;
    await this._watch();
  }

  /** Fetch a full snapshot now (e.g. after an action changed variables outside a cell). */
  async resync(): Promise<void> {
    if (this._wanted) {
      await this._resync();
    }
  }

  /** Stop watching: the kernel does no preview work for us any more. */
  async stop(): Promise<IPreviewUnwatchReply | null> {
    const was = this._wanted;
    this._wanted = false;
    this._generation++;
    this._pending = [];
    this._setState('stopped');
    if (!was || this.kernel.isDisposed || this.kernel.status === 'dead') {
      return null;
    }
    try {
      return await call<IPreviewUnwatchReply>(
        this.kernel,
        'preview_unwatch',
        this._keyPayload(),
        { transport: this.transport }
      );
    } catch {
      return null;
    }
  }

  /** Unwatch (best effort) and disconnect from the kernel. */
  dispose(): void {
    if (this._disposed) {
      return;
    }
    void this.stop();
    this._disposed = true;
    this.kernel.iopubMessage.disconnect(this._onIOPub, this);
    this._channel?.previewReceived.disconnect(this._onCommPreview, this);
    this._channel = null;
    this.kernel.statusChanged.disconnect(this._onStatus, this);
    this.kernel.connectionStatusChanged.disconnect(this._onConnection, this);
    Signal.clearData(this);
  }

  private _keyPayload(): { key?: string } {
    return this.key ? { key: this.key } : {};
  }

  private async _watch(): Promise<void> {
    const generation = ++this._generation;
    this._pending = [];
    this._setState('resyncing');
    try {
      if ((await resolveTransport(this.kernel, this.transport)) === 'comm') {
        const channel = commChannel(this.kernel);
        if (channel !== this._channel) {
          this._channel?.previewReceived.disconnect(this._onCommPreview, this);
          this._channel = channel;
          channel.previewReceived.connect(this._onCommPreview, this);
        }
      }
      await this._fetchSnapshot(generation, 'preview_watch', this._keyPayload());
    } catch (err) {
      this._failed(generation, err);
      throw err;
    }
  }

  private async _resync(): Promise<void> {
    const generation = ++this._generation;
    this._setState('resyncing');
    try {
      await this._fetchSnapshot(generation, 'preview_snapshot', {});
    } catch (err) {
      this._failed(generation, err);
    }
  }

  /** Ask for a full snapshot and apply it, unless a newer watch/resync (or dispose) overtook this one. */
  private async _fetchSnapshot(
    generation: number,
    action: 'preview_watch' | 'preview_snapshot',
    payload: { key?: string }
  ): Promise<void> {
    const snapshot = await call<IPreviewSnapshot>(this.kernel, action, payload, {
      transport: this.transport
    });
    if (generation === this._generation && !this._disposed) {
      this._reset(snapshot);
    }
  }

  /** Record a failed watch/resync, if it is still the current one. */
  private _failed(generation: number, err: unknown): void {
    if (generation === this._generation) {
      this._error = String((err as Error)?.message ?? err);
      this._setState('error');
    }
  }

  private _reset(snapshot: IPreviewSnapshot): void {
    this._changed.emit(this._table.reset(snapshot));
    const pending = this._pending;
    this._pending = [];
    this._setState('watching');
    for (const update of pending) {
      this._applyUpdate(update);
    }
  }

  private _applyUpdate(update: IPreviewUpdate): void {
    if (this._state === 'resyncing') {
      this._pending.push(update);
      return;
    }
    const { result, change } = this._table.apply(update);
    if (result === 'applied' && change) {
      this._changed.emit(change);
    } else if (result === 'gap') {
      this._pending.push(update);
      void this._resync();
    }
  }

  private _onIOPub(
    _sender: Kernel.IKernelConnection,
    msg: KernelMessage.IIOPubMessage
  ): void {
    if (!this._wanted || (msg.header.msg_type as string) !== 'preview') {
      return;
    }
    const update = updateFromMessage(msg.content, msg.metadata);
    if (update) {
      this._applyUpdate(update);
    }
  }

  private _onCommPreview(_sender: CommChannel, preview: ICommPreview): void {
    if (!this._wanted) {
      return;
    }
    const update = updateFromMessage({ variables: preview.variables }, preview.metadata);
    if (update) {
      this._applyUpdate(update);
    }
  }

  private _onStatus(
    _sender: Kernel.IKernelConnection,
    status: Kernel.Status
  ): void {
    if (status === 'restarting' || status === 'autorestarting' || status === 'dead') {
      this._generation++;
      this._pending = [];
      if (this._table.items.size || this._table.seq >= 0) {
        this._changed.emit(this._table.clear());
      }
      if (this._wanted) {
        this._setState('restarting');
      }
      return;
    }
    if (
      this._wanted &&
      this._state === 'restarting' &&
      (status === 'idle' || status === 'busy')
    ) {
      // The new kernel process knows nothing of our watch.
      void this._watch().catch(() => undefined);
    }
  }

  private _onConnection(
    _sender: Kernel.IKernelConnection,
    status: Kernel.ConnectionStatus
  ): void {
    if (status === 'connecting' && this._wanted) {
      this._setState('restarting');
    } else if (status === 'connected' && this._wanted && this._state === 'restarting') {
      // Reconnected: previews may have been missed, and the kernel may be new.
      void this._watch().catch(() => undefined);
    }
  }

  private _setState(state: SubscriptionState): void {
    if (state !== this._state) {
      this._state = state;
      this._stateChanged.emit(state);
    }
  }
}

/** The structured preview of an ITEM, with a fallback from its text. */
export function previewOf(
  item: IPreviewItem | undefined,
  name: string
): IPreview | undefined {
  if (!item) {
    return undefined;
  }
  const preview = item[PREVIEW_MIME];
  if (preview && typeof preview === 'object') {
    return { ...preview, name: String(preview.name ?? name) };
  }
  const text = item['text/plain'];
  return {
    name,
    type: '',
    module: '',
    kind: 'object',
    shape: null,
    length: null,
    summary: typeof text === 'string' ? text.slice(0, 240) : '',
    status: typeof text === 'string' ? 'ok' : 'error',
    error: typeof text === 'string' ? null : 'no preview data',
    pageable: false
  };
}
