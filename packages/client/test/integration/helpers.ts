// Shared by the integration tests: running code on a kernel, reading its preview watchers, waiting for events.
import type { Kernel, KernelMessage } from '@jupyterlab/services';

import type { ITableChange, PreviewSubscription } from '../../src';

/** Run `code` as a cell; resolves to its stream output, and `ERROR <ename>: <evalue>` if it raised. */
export async function execute(kernel: Kernel.IKernelConnection, code: string): Promise<string> {
  const future = kernel.requestExecute({ code, stop_on_error: true });
  let out = '';
  future.onIOPub = (msg: KernelMessage.IIOPubMessage) => {
    if (msg.header.msg_type === 'stream') {
      out += (msg.content as any).text;
    } else if (msg.header.msg_type === 'error') {
      out += `ERROR ${(msg.content as any).ename}: ${(msg.content as any).evalue}`;
    }
  };
  await future.done;
  return out;
}

/** The keys of the kernel's preview watchers, as the kernel itself lists them. */
export async function watcherKeys(kernel: Kernel.IKernelConnection): Promise<string[]> {
  const out = await execute(
    kernel,
    'import json as _j, beakerlike.panel as _p\nprint(_j.dumps(sorted(_p.current_engine().watchers)))'
  );
  return JSON.parse(out.trim().split('\n').pop() as string);
}

/** The next change of `sub` that satisfies `pred` (rejects after 30 s). */
export function nextChange(
  sub: PreviewSubscription,
  pred: (c: ITableChange) => boolean
): Promise<ITableChange> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no matching change within 30 s')), 30_000);
    const handler = (_: unknown, change: ITableChange) => {
      if (pred(change)) {
        clearTimeout(timer);
        sub.changed.disconnect(handler);
        resolve(change);
      }
    };
    sub.changed.connect(handler);
  });
}

/** Resolves the next time `kernel`'s connection status becomes `connected`. */
export function nextConnected(kernel: Kernel.IKernelConnection): Promise<void> {
  return new Promise<void>(resolve => {
    const onConnection = (_: unknown, status: Kernel.ConnectionStatus) => {
      if (status === 'connected') {
        kernel.connectionStatusChanged.disconnect(onConnection);
        resolve();
      }
    };
    kernel.connectionStatusChanged.connect(onConnection);
  });
}
