// The comm binding of the action protocol (docs/protocol.md, "Comm binding"): the same
// requests, responses, replies and previews inside one `beakerlike` comm, for servers
// that drop custom `<name>_request` messages (`allowed_message_types`).
import type { Kernel, KernelMessage } from '@jupyterlab/services';
import { Signal } from '@lumino/signaling';
import type { ISignal } from '@lumino/signaling';

import { ActionAborted } from './errors';
import type { ActionReply, JSONObject, JSONValue } from './messages';

/** How actions travel: `<name>_request` messages, the `beakerlike` comm, or `auto` (probe, then pick). */
export type Transport = 'auto' | 'messages' | 'comm';

/** Comm target name of the binding. */
export const COMM_TARGET = 'beakerlike';

/** `hello` the kernel sends once when the comm opens. */
export interface ICommHello {
  beakerlike_version: string;
  protocol_version: string;
  features: string[];
}

/** A `preview` delivered on the comm (same `variables` and `metadata` as the iopub `preview`). */
export interface ICommPreview {
  variables: JSONObject;
  metadata: JSONObject;
}

/** One message from the kernel on the comm, parsed. */
export type CommKernelMessage =
  | { kind: 'hello'; hello: ICommHello }
  | { kind: 'response'; id: string; data: JSONValue }
  | { kind: 'reply'; id: string | null; reply: ActionReply<any> }
  | { kind: 'preview'; preview: ICommPreview }
  | { kind: 'unknown'; data: unknown };

/** `{"request": {"id", "action", "payload"}}`. */
export function requestEnvelope(id: string, action: string, payload: object = {}): JSONObject {
  if (!id) {
    throw new TypeError('a comm request needs a non-empty id');
  }
  if (!action) {
    throw new TypeError('a comm request needs an action name');
  }
  return { request: { id, action, payload: payload as JSONObject } };
}

/** `{"cancel": {"id"}}`. */
export function cancelEnvelope(id: string): JSONObject {
  return { cancel: { id } };
}

function isObject(value: unknown): value is Record<string, any> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Parse the `data` of one `comm_msg` from the kernel. */
export function parseKernelData(data: unknown): CommKernelMessage {
  if (!isObject(data) || Object.keys(data).length !== 1) {
    return { kind: 'unknown', data };
  }
  if (isObject(data.hello)) {
    return { kind: 'hello', hello: data.hello as ICommHello };
  }
  if (isObject(data.response) && typeof data.response.id === 'string') {
    return { kind: 'response', id: data.response.id, data: data.response.data ?? null };
  }
  if (isObject(data.reply) && typeof data.reply.status === 'string') {
    const { id, ...reply } = data.reply;
    return { kind: 'reply', id: typeof id === 'string' ? id : null, reply: reply as ActionReply<any> };
  }
  if (isObject(data.preview)) {
    return {
      kind: 'preview',
      preview: {
        variables: isObject(data.preview.variables) ? data.preview.variables : {},
        metadata: isObject(data.preview.metadata) ? data.preview.metadata : {}
      }
    };
  }
  return { kind: 'unknown', data };
}

/** Options of {@link CommChannel.request}. */
export interface ICommRequestOptions {
  /** Called with each response's `data` and the `comm_msg` it came in (its `buffers`). */
  onResponse?: (data: JSONValue, msg: KernelMessage.ICommMsgMsg) => void;
  /** Aborting sends `{"cancel": {"id"}}`; the reply is then `aborted`. */
  signal?: AbortSignal;
  /** Binary frames sent with the request. */
  buffers?: (ArrayBuffer | ArrayBufferView)[];
}

interface IPending {
  action: string;
  onResponse?: ICommRequestOptions['onResponse'];
  resolve: (reply: ActionReply<any>) => void;
  reject: (err: unknown) => void;
}

let nextId = 0;

/**
 * One open `beakerlike` comm on a kernel connection: sends requests, routes responses,
 * replies and previews by id. Get the shared one of a kernel with {@link commChannel}.
 */
export class CommChannel {
  readonly kernel: Kernel.IKernelConnection;
  /** Resolves with the kernel's `hello`. */
  readonly ready: Promise<ICommHello>;
  private _comm: Kernel.IComm;
  private _pending = new Map<string, IPending>();
  private _closed = false;
  private _previewReceived = new Signal<this, ICommPreview>(this);
  private _closedSignal = new Signal<this, void>(this);

  constructor(kernel: Kernel.IKernelConnection) {
    this.kernel = kernel;
    this._comm = kernel.createComm(COMM_TARGET);
    let helloResolve!: (h: ICommHello) => void;
    let helloReject!: (e: unknown) => void;
    this.ready = new Promise<ICommHello>((resolve, reject) => {
      helloResolve = resolve;
      helloReject = reject;
    });
    this.ready.catch(() => undefined);
    this._comm.onMsg = msg => {
      const parsed = parseKernelData(msg.content.data);
      switch (parsed.kind) {
        case 'hello':
          helloResolve(parsed.hello);
          break;
        case 'response': {
          const pending = this._pending.get(parsed.id);
          if (pending?.onResponse) {
            pending.onResponse(parsed.data, msg);
          }
          break;
        }
        case 'reply': {
          const pending = parsed.id === null ? undefined : this._pending.get(parsed.id);
          if (pending) {
            this._pending.delete(parsed.id as string);
            pending.resolve(parsed.reply);
          } else {
            console.warn('beakerlike: comm reply for no pending request', parsed.reply);
          }
          break;
        }
        case 'preview':
          this._previewReceived.emit(parsed.preview);
          break;
        default:
          console.warn('beakerlike: unexpected comm message', parsed.data);
      }
    };
    this._comm.onClose = () => {
      helloReject(new Error('the beakerlike comm closed before hello'));
      this._close();
    };
    kernel.statusChanged.connect(this._onStatus, this);
    kernel.disposed.connect(this._close, this);
    try {
      this._comm.open({});
    } catch (err) {
      helloReject(err);
      this._close();
    }
  }

  /** Whether the comm is closed (kernel restarted, died, comm closed or disposed). */
  get isClosed(): boolean {
    return this._closed;
  }

  /** The comm's id. */
  get commId(): string {
    return this._comm.commId;
  }

  /** Each `preview` the kernel sends on this comm (after `preview_watch` on it). */
  get previewReceived(): ISignal<this, ICommPreview> {
    return this._previewReceived;
  }

  /** Emitted once when the comm closes. */
  get closed(): ISignal<this, void> {
    return this._closedSignal;
  }

  /** Send one request; resolves with its reply content (status ok, error or aborted). */
  async request(
    action: string,
    payload: object = {},
    options: ICommRequestOptions = {}
  ): Promise<ActionReply<any>> {
    await this.ready;
    if (this._closed) {
      throw new ActionAborted(action, 'disposed');
    }
    if (options.signal?.aborted) {
      throw new ActionAborted(action, 'cancelled');
    }
    const id = `${this._comm.commId}:${++nextId}`;
    const { signal } = options;
    const reply = new Promise<ActionReply<any>>((resolve, reject) => {
      this._pending.set(id, { action, onResponse: options.onResponse, resolve, reject });
    });
    const onAbort = () => {
      if (this._pending.has(id) && !this._closed) {
        this._comm.send(cancelEnvelope(id));
      }
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      this._comm.send(requestEnvelope(id, action, payload), undefined, options.buffers as any);
      return await reply;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this._pending.delete(id);
    }
  }

  /** Close the comm (the kernel unwatches its previews and cancels its requests). */
  dispose(): void {
    if (this._closed) {
      return;
    }
    if (!this._comm.isDisposed && !this.kernel.isDisposed) {
      try {
        this._comm.close();
      } catch {
        // the kernel is gone
      }
    }
    this._close();
  }

  private _onStatus(_: Kernel.IKernelConnection, status: Kernel.Status): void {
    if (status === 'restarting' || status === 'autorestarting' || status === 'dead') {
      this._close();
    }
  }

  private _close(): void {
    if (this._closed) {
      return;
    }
    this._closed = true;
    this.kernel.statusChanged.disconnect(this._onStatus, this);
    this.kernel.disposed.disconnect(this._close, this);
    for (const pending of this._pending.values()) {
      pending.reject(new ActionAborted(pending.action, 'disposed'));
    }
    this._pending.clear();
    if (channels.get(this.kernel) === this) {
      channels.delete(this.kernel);
    }
    this._closedSignal.emit();
    Signal.clearData(this);
  }
}

const channels = new WeakMap<Kernel.IKernelConnection, CommChannel>();

/** The shared `beakerlike` comm of a kernel connection, opened on first use (again after a restart). */
export function commChannel(kernel: Kernel.IKernelConnection): CommChannel {
  let channel = channels.get(kernel);
  if (!channel || channel.isClosed) {
    channel = new CommChannel(kernel);
    channels.set(kernel, channel);
  }
  return channel;
}
