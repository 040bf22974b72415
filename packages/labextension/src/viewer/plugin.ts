import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { IThemeManager, MainAreaWidget, WidgetTracker } from '@jupyterlab/apputils';
import type { IPreview } from '@beakerlike/client';
import type { Kernel } from '@jupyterlab/services';

import { watchKey } from '../watchkey';
import { CommandIDs, IBeakerlikeKernelTracker, IBeakerlikeViewer } from '../tokens';
import { DataViewer } from './widget';

/** The data viewer: `beakerlike:open-viewer` opens a main-area grid tab for a value. */
export const viewerPlugin: JupyterFrontEndPlugin<IBeakerlikeViewer> = {
  id: '@beakerlike/labextension:viewer',
  description: 'A virtualized grid for DataFrames, arrays and lists of a beakerlike kernel.',
  autoStart: true,
  requires: [IBeakerlikeKernelTracker],
  optional: [IThemeManager],
  provides: IBeakerlikeViewer,
  activate: (
    app: JupyterFrontEnd,
    kernels: IBeakerlikeKernelTracker,
    themes: IThemeManager | null
  ): IBeakerlikeViewer => {
    const tracker = new WidgetTracker<MainAreaWidget<DataViewer>>({ namespace: 'beakerlike-viewer' });
    const open = async (options: {
      kernel: Kernel.IKernelConnection;
      path: (string | number | { attr: string })[];
      label: string;
      preview?: IPreview;
    }): Promise<void> => {
      const existing = tracker.find(
        w => w.content.kernel === options.kernel && JSON.stringify(w.content.path) === JSON.stringify(options.path)
      );
      if (existing) {
        app.shell.activateById(existing.id);
        return;
      }
      const content = new DataViewer({ ...options, watchKey: watchKey('viewer') });
      const widget = new MainAreaWidget({ content });
      widget.id = content.id;
      widget.title.label = options.label;
      widget.title.closable = true;
      widget.addClass('bl-viewer-panel');
      await tracker.add(widget);
      app.shell.add(widget, 'main');
      app.shell.activateById(widget.id);
      await content.ready;
    };
    app.commands.addCommand(CommandIDs.openViewer, {
      label: args => `Open ${args.label ?? 'variable'} in the data viewer`,
      describedBy: {
        args: {
          type: 'object',
          properties: {
            path: { type: 'array', description: 'Path of the value: [name, step, ...]' },
            label: { type: 'string' }
          },
          required: ['path']
        }
      },
      execute: args => {
        const kernel = kernels.kernel;
        const path = args.path as any[];
        if (!kernel || !Array.isArray(path) || !path.length) {
          return;
        }
        return open({ kernel, path, label: String(args.label ?? path[0]) });
      }
    });
    themes?.themeChanged.connect(() => {
      // Let the new theme's CSS variables apply first.
      requestAnimationFrame(() => tracker.forEach(w => w.content.updateTheme()));
    });
    return { open };
  }
};
