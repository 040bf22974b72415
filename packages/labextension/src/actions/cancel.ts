import { ActionError, call } from '@beakerlike/client';
import type { Kernel } from '@jupyterlab/services';

/** How a cancel ended. */
export type CancelOutcome = 'cancelled' | 'not-running' | 'interrupted' | 'refused';

/**
 * Cancel one running request by its msg_id with `cancel_action_request {"msg_id"}`
 * (reply `{"cancelled": bool}`). A kernel without that action (`UnknownAction`) can
 * only be interrupted, which stops every running action and the running cell: that
 * happens only when `confirmInterrupt()` resolves true. No reply within `timeoutMs`
 * counts as "the kernel cannot cancel" too.
 *
 * (Kept here rather than in @beakerlike/client, whose `cancelRequest` interrupts
 * without asking.)
 */
export async function cancelAction(
  kernel: Kernel.IKernelConnection,
  msgId: string,
  confirmInterrupt: () => Promise<boolean>,
  timeoutMs = 5000
): Promise<CancelOutcome> {
  try {
    const result = await withTimeout(
      call<{ cancelled?: boolean }>(kernel, 'cancel_action', { msg_id: msgId }),
      timeoutMs
    );
    if (result !== TIMED_OUT) {
      return result && result.cancelled ? 'cancelled' : 'not-running';
    }
    // No reply: e.g. a server whose allowed_message_types drops cancel_action_request.
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

const TIMED_OUT = Symbol('timed out');

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer = 0;
  const timeout = new Promise<typeof TIMED_OUT>(resolve => {
    timer = window.setTimeout(() => resolve(TIMED_OUT), ms);
  });
  return Promise.race([promise, timeout]).finally(() => window.clearTimeout(timer));
}
