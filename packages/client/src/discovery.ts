import type { Kernel } from '@jupyterlab/services';

import { call } from './actions';
import type { Transport } from './comm';
import type { IContextInfoReply, IKernelInfoBeakerlike } from './messages';

/** `context_info`: the kernel's version, its actions, contexts and plugin errors. */
export function discover(
  kernel: Kernel.IKernelConnection,
  options: { signal?: AbortSignal; transport?: Transport } = {}
): Promise<IContextInfoReply> {
  return call<IContextInfoReply>(kernel, 'context_info', {}, options);
}

/**
 * Whether the kernel advertises beakerlike (`"beakerlike"` in `kernel_info_reply`
 * `supported_features`, JEP 92). Waits for the kernel's info; false for any other kernel.
 */
export async function supportsBeakerlike(
  kernel: Kernel.IKernelConnection
): Promise<boolean> {
  const info = await kernelInfo(kernel);
  return isBeakerlikeInfo(info);
}

/** The `beakerlike` key of a kernel_info reply content, or null. */
export function beakerlikeInfo(info: unknown): IKernelInfoBeakerlike | null {
  if (!isBeakerlikeInfo(info)) {
    return null;
  }
  const extra = (info as { beakerlike?: IKernelInfoBeakerlike }).beakerlike;
  return extra ?? { version: '', protocol_version: '' };
}

/** Pure check on a kernel_info reply content. */
export function isBeakerlikeInfo(info: unknown): boolean {
  const features = (info as { supported_features?: unknown } | null)?.supported_features;
  return Array.isArray(features) && features.includes('beakerlike');
}

async function kernelInfo(kernel: Kernel.IKernelConnection): Promise<unknown> {
  try {
    const info = await kernel.info;
    if (info) {
      return info;
    }
  } catch {
    // fall through to an explicit request
  }
  const reply = await kernel.requestKernelInfo();
  return reply?.content ?? null;
}
