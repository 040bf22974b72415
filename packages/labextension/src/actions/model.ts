import { ActionError, call, discover } from '@beakerlike/client';
import type {
  IActionInfo,
  IContextInfoReply,
  JSONObject
} from '@beakerlike/client';
import type { Kernel, KernelMessage } from '@jupyterlab/services';
import { Signal } from '@lumino/signaling';

import type { IBeakerlikeKernelTracker } from '../tokens';
import { ActionRun } from './run';
import type { IBeakerlikeActions } from './tokens';

/** After this long without a `context_info` reply the panel says so. */
const SLOW_MS = 10_000;

/** Origins of the framework's own actions (discovery, contexts, previews): not listed as user actions. */
export function isBuiltin(info: IActionInfo): boolean {
  return info.origin.startsWith('beakerlike.builtin');
}

/** The group an action is listed under: `context: <name>` for the active context's, else its package. */
export function groupOf(name: string, info: IActionInfo, reply: IContextInfoReply | null): string {
  const ctx = reply?.context?.name;
  if (ctx && reply?.contexts?.[ctx]?.actions?.includes(name)) {
    return `context: ${ctx}`;
  }
  if (isBuiltin(info)) {
    return 'beakerlike (built-in)';
  }
  return info.origin.split('.')[0] || info.origin;
}

/** The outcome of a context switch. */
export interface ISwitchResult {
  ok: boolean;
  error?: ActionError;
}

/**
 * What the kernel offers (its `context_info`) and the action runs of this page:
 * refreshed when the current kernel changes, restarts, or another client switches
 * the context (`context_setup_response` on iopub).
 */
export class ActionsModel implements IBeakerlikeActions {
  private _kernel: Kernel.IKernelConnection | null = null;
  private _info: IContextInfoReply | null = null;
  private _error = '';
  private _loading = false;
  private _runs: ActionRun[] = [];
  private _changed = new Signal<this, void>(this);
  private _runsChanged = new Signal<this, void>(this);
  private _generation = 0;
  private _restarting = false;
  private _slow = false;

  constructor(readonly tracker: IBeakerlikeKernelTracker) {
    tracker.changed.connect(this._onTracker, this);
    this._onTracker();
  }

  /** Emitted when the kernel, its info, or the running count changed. */
  get changed(): Signal<this, void> {
    return this._changed;
  }

  /** Emitted when a run was added or removed. */
  get runsChanged(): Signal<this, void> {
    return this._runsChanged;
  }

  get kernel(): Kernel.IKernelConnection | null {
    return this._kernel;
  }

  get info(): IContextInfoReply | null {
    return this._info;
  }

  get error(): string {
    return this._error;
  }

  get loading(): boolean {
    return this._loading;
  }

  /** `context_info` has gone unanswered for a while (a server that drops custom messages?). */
  get slow(): boolean {
    return this._slow;
  }

  get contextName(): string | null {
    return this._info?.context?.name ?? null;
  }

  get runs(): readonly ActionRun[] {
    return this._runs;
  }

  get runningCount(): number {
    return this._runs.filter(r => r.isRunning).length;
  }

  /** The listed (public, non built-in) actions and the built-in ones, by name. */
  actions(includeBuiltin = false): [string, IActionInfo][] {
    const all = Object.entries(this._info?.actions ?? {});
    return all
      .filter(([, a]) => includeBuiltin || !isBuiltin(a))
      .sort(([a], [b]) => a.localeCompare(b));
  }

  /** Ask the kernel again (`context_info`). */
  async refresh(): Promise<void> {
    const kernel = this._kernel;
    const generation = ++this._generation;
    if (!kernel) {
      this._info = null;
      this._error = '';
      this._changed.emit();
      return;
    }
    this._loading = true;
    this._slow = false;
    this._changed.emit();
    const timer = window.setTimeout(() => {
      if (generation === this._generation && this._loading) {
        this._slow = true;
        this._changed.emit();
      }
    }, SLOW_MS);
    try {
      const info = await discover(kernel);
      if (generation !== this._generation) {
        return;
      }
      this._info = info;
      this._error = '';
    } catch (err) {
      if (generation !== this._generation) {
        return;
      }
      this._error = String((err as Error)?.message ?? err);
    } finally {
      window.clearTimeout(timer);
      if (generation === this._generation) {
        this._loading = false;
        this._slow = false;
        this._changed.emit();
      }
    }
  }

  /** Start action `name` with `payload`; its card follows the returned run. */
  run(name: string, payload: JSONObject): ActionRun {
    const kernel = this._kernel;
    if (!kernel) {
      throw new Error('no beakerlike kernel');
    }
    const run = new ActionRun(kernel, name, payload);
    // Send first: the card is built while the request travels.
    void run.start();
    this._runs.unshift(run);
    let wasRunning = true;
    run.changed.connect(() => {
      if (wasRunning && !run.isRunning) {
        wasRunning = false;
        this._changed.emit();
      }
    });
    this._runsChanged.emit();
    this._changed.emit();
    return run;
  }

  /** Forget a finished run (its card is closed). */
  remove(run: ActionRun): void {
    const i = this._runs.indexOf(run);
    if (i >= 0 && !run.isRunning) {
      this._runs.splice(i, 1);
      run.dispose();
      this._runsChanged.emit();
      this._changed.emit();
    }
  }

  /**
   * Switch the active context (`context_setup_request`). On an error the kernel
   * keeps its old context; the result carries the error for the form.
   */
  async switchContext(context: string, contextInfo: JSONObject | null): Promise<ISwitchResult> {
    const kernel = this._kernel;
    if (!kernel) {
      throw new Error('no beakerlike kernel');
    }
    try {
      const info = await call<IContextInfoReply>(kernel, 'context_setup', {
        context,
        context_info: contextInfo
      });
      if (kernel === this._kernel) {
        this._generation++;
        this._info = info;
        this._error = '';
        this._changed.emit();
      }
      return { ok: true };
    } catch (err) {
      if (err instanceof ActionError) {
        return { ok: false, error: err };
      }
      throw err;
    }
  }

  dispose(): void {
    this.tracker.changed.disconnect(this._onTracker, this);
    this._setKernel(null);
    Signal.clearData(this);
  }

  private _onTracker(): void {
    this._setKernel(this.tracker.isBeakerlike ? this.tracker.kernel : null);
  }

  private _setKernel(kernel: Kernel.IKernelConnection | null): void {
    if (kernel === this._kernel) {
      return;
    }
    if (this._kernel) {
      this._kernel.statusChanged.disconnect(this._onStatus, this);
      this._kernel.iopubMessage.disconnect(this._onIOPub, this);
    }
    this._kernel = kernel;
    this._info = null;
    this._error = '';
    if (kernel) {
      kernel.statusChanged.connect(this._onStatus, this);
      kernel.iopubMessage.connect(this._onIOPub, this);
    }
    void this.refresh();
  }

  private _onStatus(_: Kernel.IKernelConnection, status: Kernel.Status): void {
    if (status === 'restarting' || status === 'autorestarting') {
      this._restarting = true;
      this._info = null;
      this._changed.emit();
    } else if (this._restarting && status === 'idle') {
      // The new process may have other plugins or another context.
      this._restarting = false;
      void this.refresh();
    }
  }

  private _onIOPub(_: Kernel.IKernelConnection, msg: KernelMessage.IIOPubMessage): void {
    if ((msg.header.msg_type as string) !== 'context_setup_response') {
      return;
    }
    const content = msg.content as unknown as IContextInfoReply;
    if (content && typeof content === 'object' && content.actions) {
      this._generation++;
      this._info = content;
      this._changed.emit();
    }
  }
}
