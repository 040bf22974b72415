import { Clipboard } from '@jupyterlab/apputils';
import { SimplifiedOutputArea } from '@jupyterlab/outputarea';
import { MimeModel } from '@jupyterlab/rendermime';
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { Widget } from '@lumino/widgets';

import { h } from '../dom';
import type { ActionRun } from './run';
import { jsonLine } from './schema';

/** Options of {@link RunCard}. */
export interface IRunCardOptions {
  run: ActionRun;
  rendermime: IRenderMimeRegistry | null;
  /** Cancel the run (asks before interrupting a kernel without `cancel_action`). */
  cancel: (run: ActionRun) => void;
  /** Close a finished run's card. */
  close: (run: ActionRun) => void;
}

/**
 * One action run: live progress bar or the last response as a JSON line, the
 * handler's printed output and displays (rendermime, sanitized), then the return
 * value as a JSON tree, the error with its traceback, or "cancelled".
 *
 * A change is painted at once when the card has not painted since the last
 * animation frame (the first response, or one after a pause): it then shows in
 * the very next frame, with no extra wait for a frame callback. Changes that come
 * faster (a stream of responses) are coalesced into one paint per frame.
 */
export class RunCard extends Widget {
  readonly run: ActionRun;
  private _rendermime: IRenderMimeRegistry | null;
  private _state: HTMLElement;
  private _time: HTMLElement;
  private _cancel: HTMLButtonElement;
  private _close: HTMLButtonElement;
  private _progress: HTMLElement;
  private _bar: HTMLElement;
  private _percent: HTMLElement;
  private _line: HTMLElement;
  private _count: HTMLElement;
  private _note: HTMLElement;
  private _result: HTMLElement;
  private _output: SimplifiedOutputArea | null = null;
  private _json: Widget | null = null;
  /** The pending frame callback: set from a paint until the next frame. */
  private _frame = 0;
  /** A change came while {@link _frame} was pending: paint it in that frame. */
  private _dirty = false;
  private _timer = 0;
  private _finished = false;

  constructor(options: IRunCardOptions) {
    super();
    const run = (this.run = options.run);
    this._rendermime = options.rendermime;
    this.addClass('bl-run');
    this.node.dataset.action = run.name;
    this.node.dataset.run = String(run.id);

    const head = h('div', 'bl-run-head');
    head.append(h('span', 'bl-run-name', run.name));
    this._state = h('span', 'bl-run-state');
    this._time = h('span', 'bl-run-time');
    this._cancel = h('button', 'jp-mod-styled jp-mod-warn bl-run-cancel', 'Cancel');
    this._cancel.title = 'Cancel this action';
    this._cancel.addEventListener('click', () => options.cancel(run));
    this._close = h('button', 'jp-mod-styled jp-mod-reject bl-run-close', '×');
    this._close.title = 'Close';
    this._close.setAttribute('aria-label', 'Close');
    this._close.addEventListener('click', () => options.close(run));
    head.append(this._state, this._time, this._cancel, this._close);

    const payload = h('div', 'bl-run-payload', jsonLine(run.payload, 200));
    payload.title = JSON.stringify(run.payload, null, 2);
    payload.hidden = Object.keys(run.payload).length === 0;

    this._progress = h('div', 'bl-run-progress');
    this._progress.setAttribute('role', 'progressbar');
    this._progress.setAttribute('aria-valuemin', '0');
    this._progress.setAttribute('aria-valuemax', '100');
    const track = h('div', 'bl-run-progress-track');
    this._bar = h('div', 'bl-run-progress-bar');
    track.append(this._bar);
    this._percent = h('span', 'bl-run-progress-text');
    this._progress.append(track, this._percent);
    this._line = h('div', 'bl-run-line');
    this._count = h('div', 'bl-run-count');
    this._note = h('div', 'bl-run-note');
    this._result = h('div', 'bl-run-result');
    this.node.append(head, payload, this._progress, this._line, this._count, this._note);
    if (this._rendermime) {
      this._output = new SimplifiedOutputArea({
        model: run.outputs,
        rendermime: this._rendermime
      });
      this._output.addClass('bl-run-output');
      this.node.append(this._output.node);
    }
    this.node.append(this._result);
    run.changed.connect(this._schedule, this);
    this._paint();
    this._timer = window.setInterval(() => {
      if (this.run.isRunning) {
        this._time.textContent = `${this.run.seconds.toFixed(1)} s`;
      }
    }, 500);
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    cancelAnimationFrame(this._frame);
    window.clearInterval(this._timer);
    this.run.changed.disconnect(this._schedule, this);
    this._output?.dispose();
    this._json?.dispose();
    super.dispose();
  }

  private _schedule(): void {
    if (this._frame) {
      this._dirty = true; // painted already since the last frame: coalesce into the next one
      return;
    }
    this._paint();
    this._frame = requestAnimationFrame(this._onFrame);
  }

  private _onFrame = (): void => {
    this._frame = 0;
    if (this._dirty) {
      this._dirty = false;
      this._paint();
      this._frame = requestAnimationFrame(this._onFrame);
    }
  };

  private _paint(): void {
    const run = this.run;
    this.node.dataset.state = run.state;
    const label =
      run.state === 'running'
        ? run.cancelling
          ? 'cancelling…'
          : 'running'
        : run.state === 'ok'
          ? 'done'
          : run.state === 'error'
            ? 'error'
            : `cancelled${run.reason && run.reason !== 'cancelled' ? ` (${run.reason})` : ''}`;
    this._state.textContent = label;
    this._state.className = `bl-run-state bl-run-state-${run.state}`;
    this._time.textContent = `${run.seconds.toFixed(1)} s`;
    this._cancel.hidden = !run.isRunning;
    this._cancel.disabled = run.cancelling;
    this._close.hidden = run.isRunning;

    const p = run.progress;
    this._progress.hidden = p === null;
    if (p !== null) {
      const pct = Math.round(p * 100);
      this._bar.style.width = `${pct}%`;
      this._percent.textContent = `${pct}%`;
      this._progress.setAttribute('aria-valuenow', String(pct));
    }
    const showLine = run.last !== undefined && (p === null || Object.keys(run.last as object).length > 1);
    this._line.hidden = !showLine;
    if (showLine) {
      this._line.textContent = jsonLine(run.last);
    }
    this._count.hidden = run.responses < 2;
    this._count.textContent = `${run.responses.toLocaleString()} responses`;
    this._note.hidden = !run.cancelNote;
    this._note.textContent = run.cancelNote;

    if (!run.isRunning && !this._finished) {
      this._finished = true;
      this._showEnd();
    }
  }

  private _showEnd(): void {
    const run = this.run;
    this._result.replaceChildren();
    if (run.state === 'ok') {
      // The whole value as JSON on the card, for copying by scripts and tests.
      const text = JSON.stringify(run.result ?? null);
      if (text.length <= 100_000) {
        this.node.dataset.return = text;
      }
      const bar = h('div', 'bl-run-result-head');
      bar.append(h('span', 'bl-run-result-title', 'Return value'));
      const copy = h('button', 'jp-mod-styled jp-mod-reject bl-run-copy', 'Copy');
      copy.title = 'Copy the return value as JSON';
      copy.addEventListener('click', () => {
        Clipboard.copyToSystem(JSON.stringify(run.result, null, 2));
        copy.textContent = 'Copied';
        window.setTimeout(() => (copy.textContent = 'Copy'), 1200);
      });
      bar.append(copy);
      const body = h('div', 'bl-run-return');
      this._result.append(bar, body);
      void this._renderJson(body, run.result);
    } else if (run.state === 'error' && run.error) {
      const err = h('div', 'bl-run-error');
      err.append(h('span', 'bl-run-ename', run.error.ename), h('span', 'bl-run-evalue', `: ${run.error.evalue}`));
      this._result.append(err);
      if (run.error.errors.length) {
        const list = h('ul', 'bl-run-field-errors');
        for (const e of run.error.errors) {
          list.append(h('li', '', `${(e.loc ?? []).join('.') || '(payload)'}: ${e.msg}`));
        }
        this._result.append(list);
      }
      if (!this._output && run.error.traceback.length) {
        this._result.append(h('pre', 'bl-run-traceback', run.error.traceback.join('\n')));
      }
    } else if (run.state === 'cancelled') {
      this._result.append(
        h(
          'div',
          'bl-run-cancelled',
          run.reason === 'disposed'
            ? 'Stopped: the kernel restarted or the connection closed before the reply.'
            : `Cancelled${run.reason && run.reason !== 'cancelled' ? ` (${run.reason})` : ''}.`
        )
      );
    }
  }

  private async _renderJson(host: HTMLElement, value: unknown): Promise<void> {
    const rm = this._rendermime;
    const structured = value !== null && typeof value === 'object';
    if (rm && structured && rm.preferredMimeType({ 'application/json': value as any }, 'any')) {
      const renderer = rm.createRenderer('application/json');
      renderer.addClass('bl-run-json');
      this._json = renderer;
      host.append(renderer.node);
      try {
        await renderer.renderModel(
          new MimeModel({ data: { 'application/json': value as any }, trusted: false })
        );
        return;
      } catch {
        renderer.dispose();
        this._json = null;
      }
    }
    host.append(h('pre', 'bl-run-json-text', JSON.stringify(value, null, 2)));
  }
}
