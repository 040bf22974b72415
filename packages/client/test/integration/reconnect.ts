// Shared by the integration tests: waiting for a kernel connection to come back.
import type { Kernel } from '@jupyterlab/services';

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
