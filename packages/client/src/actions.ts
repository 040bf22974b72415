import { KernelMessage } from '@jupyterlab/services';
import type { Kernel } from '@jupyterlab/services';

import { commChannel } from './comm';
import type { Transport } from './comm';
import { ActionAborted, ActionError } from './errors';
import type { ActionReply, JSONObject, JSONValue } from './messages';

/** A streamed `<name>_response` as handed to `onResponse`. */
export interface IResponse<T = JSONValue> {
  /** The response content (one element of a coalesced `batch` is handed on its own). */
  data: T;
  /** The iopub message it came in (its `buffers` hold any binary frames). */
  msg: KernelMessage.IIOPubMessage;
}

/** Options of {@link call}. */
export interface ICallOptions<T = JSONValue> {
  /**
   * Called for each streamed `<name>_response`, in order. `msg` is the iopub message it came
   * in: the `<name>_response`, or over the comm the `comm_msg` (its `buffers` are the response's).
   */
  onResponse?: (data: T, msg: KernelMessage.IIOPubMessage) => void;
  /**
   * Aborting sends `cancel_action_request` (or interrupts a kernel without it), over the comm
   * `{"cancel": {"id"}}`; the call rejects with {@link ActionAborted}.
   */
  signal?: AbortSignal;
  /** Binary frames sent with the request. */
  buffers?: (ArrayBuffer | ArrayBufferView)[];
  /** Request metadata (message transport only). */
  metadata?: JSONObject;
  /** `messages`, `comm` or `auto` (the default: probe once per kernel connection, see {@link resolveTransport}). */
  transport?: Transport;
}

/** What to do when a call's signal aborts; the default cancels the one request. */
export type Canceller = (
  kernel: Kernel.IKernelConnection,
  msgId: string
) => Promise<void>;

/** `<name>_request`, `<name>_response`, `<name>_reply` for an action name. */
export function messageTypes(name: string): {
  request: string;
  response: string;
  reply: string;
} {
  if (!name || /_(request|reply|response)$/.test(name)) {
    throw new TypeError(`invalid action name ${JSON.stringify(name)}`);
  }
  return {
    request: `${name}_request`,
    response: `${name}_response`,
    reply: `${name}_reply`
  };
}

/**
 * Elements of one `<name>_response` content: a coalesced `{"batch": [...]}` gives
 * each element, anything else the content itself.
 */
export function responseElements(content: unknown): unknown[] {
  if (
    content !== null &&
    typeof content === 'object' &&
    !Array.isArray(content) &&
    Object.keys(content).length === 1 &&
    Array.isArray((content as { batch?: unknown }).batch)
  ) {
    return (content as { batch: unknown[] }).batch;
  }
  return [content];
}

/** Turn a reply content into the return value, or throw {@link ActionError} / {@link ActionAborted}. */
export function replyValue<R>(name: string, content: ActionReply<R>): R {
  if (content && content.status === 'ok') {
    return content.return;
  }
  if (content && content.status === 'aborted') {
    throw new ActionAborted(name, String(content.reason ?? 'aborted'));
  }
  throw new ActionError(name, (content ?? {}) as any);
}

/**
 * Cancel one running request: `cancel_action_request {"msg_id"}`; a kernel that
 * does not know that action (`UnknownAction`) is interrupted instead.
 */
export async function cancelRequest(
  kernel: Kernel.IKernelConnection,
  msgId: string
): Promise<void> {
  try {
    await call(kernel, 'cancel_action', { msg_id: msgId });
  } catch (err) {
    if (err instanceof ActionError && err.ename === 'UnknownAction') {
      await kernel.interrupt();
      return;
    }
    throw err;
  }
}

let canceller: Canceller = cancelRequest;

/** Replace how aborted calls are cancelled (tests, frontends that prefer interrupts). */
export function setCanceller(fn: Canceller | null): void {
  canceller = fn ?? cancelRequest;
}

/** How long `auto` waits for the probe's `context_info_reply` before choosing the comm (ms). */
export let probeTimeout = 2000;

/** Change {@link probeTimeout}. */
export function setProbeTimeout(ms: number): void {
  probeTimeout = ms;
}

const chosen = new WeakMap<Kernel.IKernelConnection, Promise<'messages' | 'comm'>>();

/**
 * The transport actions use on this kernel connection. `auto` (cached per connection):
 * `messages` for a kernel that is not beakerlike or that answers a `context_info_request`
 * within {@link probeTimeout}; else `comm` (a server that drops custom messages).
 */
export function resolveTransport(
  kernel: Kernel.IKernelConnection,
  transport: Transport = 'auto'
): Promise<'messages' | 'comm'> {
  if (transport === 'messages' || transport === 'comm') {
    return Promise.resolve(transport);
  }
  if (transport !== 'auto') {
    throw new TypeError(`transport must be 'auto', 'messages' or 'comm', not ${JSON.stringify(transport)}`);
  }
  let choice = chosen.get(kernel);
  if (!choice) {
    choice = probe(kernel);
    chosen.set(kernel, choice);
    choice.catch(() => chosen.delete(kernel));
  }
  return choice;
}

async function probe(kernel: Kernel.IKernelConnection): Promise<'messages' | 'comm'> {
  let info: any = null;
  try {
    info = await kernel.info;
  } catch {
    info = null;
  }
  if (!info) {
    info = (await kernel.requestKernelInfo())?.content ?? null;
  }
  const features = info?.supported_features;
  if (!Array.isArray(features) || !features.includes('beakerlike')) {
    return 'messages';
  }
  const msg = KernelMessage.createMessage({
    msgType: 'context_info_request' as any,
    channel: 'shell',
    session: kernel.clientId,
    username: kernel.username,
    content: {} as any
  });
  const future = kernel.sendShellMessage(msg as any, true, true);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<'comm'>(resolve => {
    timer = setTimeout(() => resolve('comm'), probeTimeout);
  });
  try {
    return await Promise.race([future.done.then(() => 'messages' as const), timeout]);
  } finally {
    clearTimeout(timer);
    if (!future.isDisposed) {
      future.dispose();
    }
  }
}

/**
 * Call action `name` with `payload` and resolve with its reply's `return`.
 *
 * Resolves only after both the reply and the request's `idle` arrived, so every
 * `onResponse` has run. Rejects with {@link ActionError} (status `error`) or
 * {@link ActionAborted} (status `aborted`, or the signal aborted before sending).
 */
export async function call<R = JSONValue, T = JSONValue>(
  kernel: Kernel.IKernelConnection,
  name: string,
  payload: object = {},
  options: ICallOptions<T> = {}
): Promise<R> {
  const types = messageTypes(name);
  const { signal } = options;
  if (signal?.aborted) {
    throw new ActionAborted(name, 'cancelled');
  }
  if ((await resolveTransport(kernel, options.transport)) === 'comm') {
    return callOverComm<R, T>(kernel, name, payload, options);
  }
  if (signal?.aborted) {
    throw new ActionAborted(name, 'cancelled');
  }
  const msg = KernelMessage.createMessage({
    msgType: types.request as any,
    channel: 'shell',
    session: kernel.clientId,
    username: kernel.username,
    content: payload as any,
    metadata: options.metadata ?? {},
    buffers: options.buffers as any
  });
  const future = kernel.sendShellMessage(msg as any, true, true);
  let callbackError: unknown = null;
  future.onIOPub = (iopub: KernelMessage.IIOPubMessage) => {
    if (iopub.header.msg_type !== (types.response as any) || !options.onResponse) {
      return;
    }
    for (const data of responseElements(iopub.content)) {
      try {
        options.onResponse(data as T, iopub);
      } catch (err) {
        // A failing callback must not lose the reply; the call rejects with it at the end.
        callbackError = callbackError ?? err;
      }
    }
  };
  const onAbort = () => {
    canceller(kernel, msg.header.msg_id).catch(err =>
      console.warn(`beakerlike: cancelling ${name} failed`, err)
    );
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  let reply: KernelMessage.IShellMessage;
  try {
    reply = (await future.done) as any;
  } catch (err) {
    // The kernel restarted, died or the connection was disposed before the reply.
    throw new ActionAborted(name, 'disposed');
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  const value = replyValue<R>(name, reply.content as any);
  if (callbackError !== null) {
    throw callbackError;
  }
  return value;
}

async function callOverComm<R, T>(
  kernel: Kernel.IKernelConnection,
  name: string,
  payload: object,
  options: ICallOptions<T>
): Promise<R> {
  if (options.signal?.aborted) {
    throw new ActionAborted(name, 'cancelled');
  }
  let callbackError: unknown = null;
  const reply = await commChannel(kernel).request(name, payload, {
    signal: options.signal,
    buffers: options.buffers,
    onResponse: (data, msg) => {
      if (!options.onResponse) {
        return;
      }
      for (const element of responseElements(data)) {
        try {
          options.onResponse(element as T, msg as unknown as KernelMessage.IIOPubMessage);
        } catch (err) {
          callbackError = callbackError ?? err;
        }
      }
    }
  });
  const value = replyValue<R>(name, reply as ActionReply<R>);
  if (callbackError !== null) {
    throw callbackError;
  }
  return value;
}

/** Options of {@link stream}. */
export interface IStreamOptions {
  signal?: AbortSignal;
  /** As in {@link ICallOptions.transport}. */
  transport?: Transport;
  buffers?: (ArrayBuffer | ArrayBufferView)[];
  metadata?: JSONObject;
}

/**
 * Call action `name` and iterate over its streamed responses as they arrive.
 *
 * The iterator ends when the call finishes (its `return` is then in `result`);
 * it throws what {@link call} would reject with. Breaking out of the loop early
 * cancels the call.
 */
export function stream<T = JSONValue, R = JSONValue>(
  kernel: Kernel.IKernelConnection,
  name: string,
  payload: object = {},
  options: IStreamOptions = {}
): AsyncIterableIterator<T> & { result: Promise<R> } {
  const queue: T[] = [];
  let wake: (() => void) | null = null;
  let finished = false;
  let failure: unknown = null;
  const controller = new AbortController();
  const outer = options.signal;
  const forward = () => controller.abort();
  if (outer?.aborted) {
    controller.abort();
  } else {
    outer?.addEventListener('abort', forward, { once: true });
  }
  const result = call<R, T>(kernel, name, payload, {
    ...options,
    signal: controller.signal,
    onResponse: data => {
      queue.push(data);
      wake?.();
    }
  });
  result.then(
    () => {
      finished = true;
      wake?.();
    },
    err => {
      finished = true;
      failure = err;
      wake?.();
    }
  );
  result.catch(() => undefined).finally(() => outer?.removeEventListener('abort', forward));
  const iterator = {
    result,
    [Symbol.asyncIterator]() {
      return iterator;
    },
    async next(): Promise<IteratorResult<T>> {
      for (;;) {
        if (queue.length) {
          return { value: queue.shift() as T, done: false };
        }
        if (finished) {
          if (failure !== null) {
            const err = failure;
            failure = null;
            throw err;
          }
          return { value: undefined as any, done: true };
        }
        await new Promise<void>(resolve => (wake = resolve));
        wake = null;
      }
    },
    async return(): Promise<IteratorResult<T>> {
      if (!finished) {
        controller.abort();
        await result.catch(() => undefined);
      }
      queue.length = 0;
      return { value: undefined as any, done: true };
    }
  };
  return iterator;
}
