import type { IContextInfoReply, JSONObject } from '@beakerlike/client';
import { Token } from '@lumino/coreutils';
import type { ISignal } from '@lumino/signaling';

import type { ActionRun } from './run';

/** The actions and contexts of the current beakerlike kernel, and the runs started from this page. */
export interface IBeakerlikeActions {
  /** The kernel's last `context_info` (null: none, or not known yet). */
  readonly info: IContextInfoReply | null;
  /** The active context's name. */
  readonly contextName: string | null;
  /** Runs (newest first), running and finished. */
  readonly runs: readonly ActionRun[];
  /** How many runs are still running. */
  readonly runningCount: number;
  /** Emitted when the info or the running count changed. */
  readonly changed: ISignal<IBeakerlikeActions, void>;
  /** Start an action. */
  run(name: string, payload: JSONObject): ActionRun;
}

/** The actions service. */
export const IBeakerlikeActions = new Token<IBeakerlikeActions>(
  '@beakerlike/labextension:IBeakerlikeActions',
  'The actions and contexts of the current beakerlike kernel.'
);

/** Command ids of the actions feature. */
export namespace ActionCommandIDs {
  export const runAction = 'beakerlike:run-action';
  export const showActions = 'beakerlike:show-actions';
  export const switchContext = 'beakerlike:switch-context';
}
