import { messageTypes, responseElements } from '@beakerlike/client';
import type {
  IValidationErrorItem,
  JSONObject,
  JSONValue
} from '@beakerlike/client';
import type * as nbformat from '@jupyterlab/nbformat';
import { OutputAreaModel } from '@jupyterlab/outputarea';
import { KernelMessage } from '@jupyterlab/services';
import type { Kernel } from '@jupyterlab/services';
import { Signal } from '@lumino/signaling';

import { cancelAction } from './cancel';
import { progressOf } from './schema';

/** Where a run is: still running, or how it ended. */
export type RunState = 'running' | 'ok' | 'error' | 'cancelled';

/** The error of a run (`status: "error"` reply). */
export interface IRunError {
  ename: string;
  evalue: string;
  traceback: string[];
  errors: IValidationErrorItem[];
}

let nextId = 1;

/**
 * One call of an action from the UI: sends `<name>_request`, collects its streamed
 * responses, `stream` and `display_data` output, and its reply. Several runs may go
 * on at once; each has its own msg_id and is cancelled on its own.
 */
export class ActionRun {
  readonly id = nextId++;
  readonly name: string;
  readonly payload: JSONObject;
  readonly kernel: Kernel.IKernelConnection;
  /** stream, display_data and (for errors) the traceback, as a cell would show them. */
  readonly outputs = new OutputAreaModel({ trusted: false });
  readonly started = performance.now();
  ended = 0;
  msgId = '';
  state: RunState = 'running';
  /** 0..1 from the last response carrying `progress` or `done`/`total`; null: none yet. */
  progress: number | null = null;
  /** The last response (any JSON), for the compact line. */
  last: unknown = undefined;
  /** How many responses arrived (elements of coalesced batches counted one by one). */
  responses = 0;
  result: JSONValue | undefined = undefined;
  error: IRunError | null = null;
  /** Why a cancelled run stopped (`cancelled`, `interrupted`, `shutdown`, `disposed`...). */
  reason = '';
  /** A cancel was asked for and is under way. */
  cancelling = false;
  /** Set when cancelling failed (e.g. the user refused the interrupt). */
  cancelNote = '';
  private _changed = new Signal<this, void>(this);
  private _done: Promise<void> | null = null;

  constructor(kernel: Kernel.IKernelConnection, name: string, payload: JSONObject) {
    this.kernel = kernel;
    this.name = name;
    this.payload = payload;
  }

  /** Emitted on every response, output, and when the run ends. */
  get changed(): Signal<this, void> {
    return this._changed;
  }

  /** Resolves when the run ended (never rejects). */
  get done(): Promise<void> {
    return this._done ?? Promise.resolve();
  }

  get isRunning(): boolean {
    return this.state === 'running';
  }

  /** Send the request (once). */
  start(): Promise<void> {
    if (!this._done) {
      this._done = this._run();
    }
    return this._done;
  }

  /**
   * Cancel this run: `cancel_action_request`, or (a kernel without it) an interrupt
   * after `confirmInterrupt()` agreed; an interrupt stops every running action.
   */
  async cancel(confirmInterrupt: () => Promise<boolean>): Promise<void> {
    if (!this.isRunning || this.cancelling || !this.msgId) {
      return;
    }
    this.cancelling = true;
    this.cancelNote = '';
    this._changed.emit();
    try {
      const outcome = await cancelAction(this.kernel, this.msgId, confirmInterrupt);
      if (outcome === 'refused') {
        this.cancelNote = 'not cancelled';
      } else if (outcome === 'not-running' && this.isRunning) {
        this.cancelNote = 'the kernel says it is not running';
      }
    } catch (err) {
      this.cancelNote = `cancel failed: ${(err as Error)?.message ?? err}`;
    } finally {
      this.cancelling = false;
      this._changed.emit();
    }
  }

  private async _run(): Promise<void> {
    const types = messageTypes(this.name);
    const msg = KernelMessage.createMessage({
      msgType: types.request as any,
      channel: 'shell',
      session: this.kernel.clientId,
      username: this.kernel.username,
      content: this.payload as any
    });
    this.msgId = msg.header.msg_id;
    let reply: KernelMessage.IShellMessage | null = null;
    try {
      const future = this.kernel.sendShellMessage(msg as any, true, true);
      future.onIOPub = (iopub: KernelMessage.IIOPubMessage) => this._onIOPub(iopub, types.response);
      this._changed.emit();
      reply = (await future.done) as any;
    } catch {
      reply = null; // the kernel restarted or the connection went away
    }
    this.ended = performance.now();
    const content = (reply?.content ?? null) as any;
    if (!content) {
      this.state = 'cancelled';
      this.reason = 'disposed';
    } else if (content.status === 'ok') {
      this.state = 'ok';
      this.result = content.return ?? null;
    } else if (content.status === 'aborted') {
      this.state = 'cancelled';
      this.reason = String(content.reason ?? 'aborted');
    } else {
      this.state = 'error';
      this.error = {
        ename: String(content.ename ?? 'Error'),
        evalue: String(content.evalue ?? ''),
        traceback: Array.isArray(content.traceback) ? content.traceback.map(String) : [],
        errors: Array.isArray(content.errors) ? content.errors : []
      };
      if (this.error.traceback.length) {
        this.outputs.add({
          output_type: 'error',
          ename: this.error.ename,
          evalue: this.error.evalue,
          // The kernel's lines end in "\n" (Python's format_exception); a cell's have none.
          traceback: this.error.traceback.map(line => line.replace(/\n$/, ''))
        });
      }
    }
    this._changed.emit();
  }

  private _onIOPub(msg: KernelMessage.IIOPubMessage, responseType: string): void {
    const type = msg.header.msg_type as string;
    if (type === responseType) {
      for (const data of responseElements(msg.content)) {
        this.responses++;
        this.last = data;
        const p = progressOf(data);
        if (p !== null) {
          this.progress = p;
        }
      }
      this._changed.emit();
    } else if (type === 'stream' || type === 'display_data' || type === 'execute_result' || type === 'error') {
      this.outputs.add({ ...(msg.content as any), output_type: type } as nbformat.IOutput);
      this._changed.emit();
    } else if (type === 'clear_output') {
      this.outputs.clear(Boolean((msg.content as any).wait));
      this._changed.emit();
    }
  }

  /** Seconds since start (or the run's length once ended). */
  get seconds(): number {
    return ((this.ended || performance.now()) - this.started) / 1000;
  }

  dispose(): void {
    this.outputs.dispose();
    Signal.clearData(this);
  }
}
