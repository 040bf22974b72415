import { isBeakerlikeInfo } from '@beakerlike/client';
import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import type { ISessionContext } from '@jupyterlab/apputils';
import { IConsoleTracker } from '@jupyterlab/console';
import { INotebookTracker } from '@jupyterlab/notebook';
import type { Kernel } from '@jupyterlab/services';
import { Signal } from '@lumino/signaling';
import type { Widget } from '@lumino/widgets';

import { IBeakerlikeKernelTracker } from './tokens';

type SessionWidget = Widget & {
  sessionContext: ISessionContext;
  title: Widget['title'];
};

/**
 * Follows the notebook or console the user works in (the last one that had focus,
 * so clicking a side panel keeps it) and tells whether its kernel is beakerlike.
 */
export class KernelTracker implements IBeakerlikeKernelTracker {
  private _widget: SessionWidget | null = null;
  private _kernel: Kernel.IKernelConnection | null = null;
  private _isBeakerlike: boolean | null = null;
  private _changed = new Signal<this, void>(this);
  private _probe = 0;

  get changed(): Signal<this, void> {
    return this._changed;
  }

  get sessionContext(): ISessionContext | null {
    return this._widget?.sessionContext ?? null;
  }

  get kernel(): Kernel.IKernelConnection | null {
    return this._kernel;
  }

  get isBeakerlike(): boolean | null {
    return this._isBeakerlike;
  }

  get label(): string {
    return this._widget?.title.label ?? '';
  }

  /** Make `widget` (a notebook or console panel, or null) the current one. */
  setWidget(widget: SessionWidget | null): void {
    if (widget === this._widget) {
      return;
    }
    if (this._widget) {
      this._widget.sessionContext.kernelChanged.disconnect(this._onKernel, this);
      this._widget.sessionContext.statusChanged.disconnect(this._onStatus, this);
      this._widget.disposed.disconnect(this._onDisposed, this);
    }
    this._widget = widget;
    if (widget) {
      widget.sessionContext.kernelChanged.connect(this._onKernel, this);
      widget.sessionContext.statusChanged.connect(this._onStatus, this);
      widget.disposed.connect(this._onDisposed, this);
    }
    this._setKernel(widget?.sessionContext.session?.kernel ?? null);
  }

  private _onDisposed(): void {
    this.setWidget(null);
  }

  private _onKernel(): void {
    this._setKernel(this._widget?.sessionContext.session?.kernel ?? null);
  }

  private _onStatus(_: ISessionContext, status: Kernel.Status): void {
    // A restarted or switched kernel may have changed its features.
    if (status === 'idle' && this._isBeakerlike === null && this._kernel) {
      void this._check(this._kernel);
    }
  }

  private _setKernel(kernel: Kernel.IKernelConnection | null): void {
    if (kernel === this._kernel && kernel !== null) {
      return;
    }
    this._kernel = kernel;
    this._isBeakerlike = null;
    this._changed.emit();
    if (kernel) {
      void this._check(kernel);
    }
  }

  private async _check(kernel: Kernel.IKernelConnection): Promise<void> {
    const probe = ++this._probe;
    let result: boolean | null = null;
    try {
      const info = await kernel.info;
      result = isBeakerlikeInfo(info);
    } catch {
      result = null; // the kernel died while starting; try again on its next idle
    }
    if (probe !== this._probe || kernel !== this._kernel) {
      return;
    }
    if (result !== this._isBeakerlike) {
      this._isBeakerlike = result;
      this._changed.emit();
    }
  }
}

/** Provides {@link IBeakerlikeKernelTracker}. */
export const kernelTrackerPlugin: JupyterFrontEndPlugin<IBeakerlikeKernelTracker> =
  {
    id: '@beakerlike/labextension:kernel-tracker',
    description: 'Tracks the current notebook or console kernel and whether it is beakerlike.',
    autoStart: true,
    provides: IBeakerlikeKernelTracker,
    optional: [INotebookTracker, IConsoleTracker],
    activate: (
      app: JupyterFrontEnd,
      notebooks: INotebookTracker | null,
      consoles: IConsoleTracker | null
    ): IBeakerlikeKernelTracker => {
      const tracker = new KernelTracker();
      const trackers = [notebooks, consoles].filter(t => t !== null) as (
        | INotebookTracker
        | IConsoleTracker
      )[];
      const update = () => {
        // Prefer the shell's active widget when it is a notebook or console; keep
        // the last one otherwise (a side panel or a viewer tab got focus).
        const current = app.shell.currentWidget;
        for (const t of trackers) {
          if (current && t.has(current as any)) {
            tracker.setWidget(current as unknown as SessionWidget);
            return;
          }
        }
        for (const t of trackers) {
          const w = t.currentWidget as unknown as SessionWidget | null;
          if (w && t === lastActive) {
            tracker.setWidget(w);
            return;
          }
        }
        const any = trackers.map(t => t.currentWidget).find(w => w) ?? null;
        tracker.setWidget(any as unknown as SessionWidget | null);
      };
      let lastActive: INotebookTracker | IConsoleTracker | null = notebooks;
      for (const t of trackers) {
        t.currentChanged.connect(() => {
          if (t.currentWidget) {
            lastActive = t;
          }
          update();
        });
        t.widgetAdded.connect(update);
      }
      const shell = app.shell as any;
      if (shell.currentChanged) {
        shell.currentChanged.connect(update);
      }
      app.restored.then(update).catch(() => undefined);
      update();
      return tracker;
    }
  };
