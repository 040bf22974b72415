import type { IPreview, PreviewSubscription } from '@beakerlike/client';
import type { ISessionContext } from '@jupyterlab/apputils';
import type { Kernel } from '@jupyterlab/services';
import { Token } from '@lumino/coreutils';
import type { ISignal } from '@lumino/signaling';

/** The kernel of the notebook or console the user works in, and whether it speaks beakerlike. */
export interface IBeakerlikeKernelTracker {
  /** The current notebook's / console's session context (null: none open). */
  readonly sessionContext: ISessionContext | null;
  /** Its kernel connection (null: no kernel). */
  readonly kernel: Kernel.IKernelConnection | null;
  /** `true`: the kernel advertises beakerlike; `false`: it does not; `null`: not known yet. */
  readonly isBeakerlike: boolean | null;
  /** A short label of the current document (its name). */
  readonly label: string;
  /** Emitted when the document, its kernel, or `isBeakerlike` changed. */
  readonly changed: ISignal<IBeakerlikeKernelTracker, void>;
}

/** The kernel tracker service (shared by the Variables sidebar, the viewer and other features). */
export const IBeakerlikeKernelTracker = new Token<IBeakerlikeKernelTracker>(
  '@beakerlike/labextension:IBeakerlikeKernelTracker',
  'The current notebook or console kernel and whether it is a beakerlike kernel.'
);

/** The live variables of the current kernel, as the Variables sidebar shows them. */
export interface IBeakerlikeVariables {
  /** The preview subscription of the current kernel (null: none, or not beakerlike). */
  readonly subscription: PreviewSubscription | null;
  /** The structured previews by name. */
  readonly variables: ReadonlyMap<string, IPreview>;
  /** Emitted after every change of `variables` or of the subscription. */
  readonly changed: ISignal<IBeakerlikeVariables, void>;
}

/** The variables model service. */
export const IBeakerlikeVariables = new Token<IBeakerlikeVariables>(
  '@beakerlike/labextension:IBeakerlikeVariables',
  'The live variables of the current beakerlike kernel.'
);

/** Opens values in the data viewer. */
export interface IBeakerlikeViewer {
  /** Open (or reveal) a viewer tab for `path` in `kernel`. */
  open(options: {
    kernel: Kernel.IKernelConnection;
    path: (string | number | { attr: string })[];
    label: string;
    preview?: IPreview;
  }): Promise<void>;
}

/** The data viewer service. */
export const IBeakerlikeViewer = new Token<IBeakerlikeViewer>(
  '@beakerlike/labextension:IBeakerlikeViewer',
  'Opens a variable in the beakerlike data viewer.'
);

/** Command ids. */
export namespace CommandIDs {
  export const toggleVariables = 'beakerlike:toggle-variables';
  export const openViewer = 'beakerlike:open-viewer';
}
