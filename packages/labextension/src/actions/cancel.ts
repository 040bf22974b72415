import { ActionError, call } from '@beakerlike/client';
import type { Kernel } from '@jupyterlab/services';

/** How a cancel ended. */
export type CancelOutcome = 'cancelled' | 'not-running' | 'interrupted' | 'refused';

/**
 * Cancel one running request by its msg_id with `cancel_action_request {"msg_id"}`
 * (reply `{"cancelled": bool}`). A kernel without that action (`UnknownAction`) can
 * only be interrupted, which stops every running action and the running cell: that
 * happens only when `confirmInterrupt()` resolves true.
 *
 * (Kept here rather than in @beakerlike/client, whose `cancelRequest` interrupts
 * without asking.)
 */
export async function cancelAction(
  kernel: Kernel.IKernelConnection,
  msgId: string,
  confirmInterrupt: () => Promise<boolean>
): Promise<CancelOutcome> {
  try {
    const result = await call<{ cancelled?: boolean }>(kernel, 'cancel_action', { msg_id: msgId });
    return result && result.cancelled ? 'cancelled' : 'not-running';
  } catch (err) {
    if (!(err instanceof ActionError && err.ename === 'UnknownAction')) {
      throw err;
    }
  }
  if (!(await confirmInterrupt())) {
    return 'refused';
  }
  await kernel.interrupt();
  return 'interrupted';
}
