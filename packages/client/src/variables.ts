import type { Kernel } from '@jupyterlab/services';

import { call } from './actions';

/** Delete variable `name` from the kernel's namespace (the built-in `delete_variable` action). */
export function deleteVariable(
  kernel: Kernel.IKernelConnection,
  name: string
): Promise<unknown> {
  return call(kernel, 'delete_variable', { name });
}
