import type { Kernel, KernelMessage } from '@jupyterlab/services';

import { call } from './actions';
import type { Transport } from './comm';
import type {
  IBinaryColumnSpec,
  IBinaryPageReply,
  IPageReply,
  PathStep
} from './messages';

/** A typed array holding one numeric column of a binary page. */
export type ColumnValues =
  | Float64Array
  | Float32Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

/** One column of a decoded binary page: `values` is null for non-numeric columns (fetch them as JSON). */
export interface IDecodedColumn extends IBinaryColumnSpec {
  values: ColumnValues | null;
}

/** A binary page with its buffers decoded into typed arrays. */
export interface IBinaryPage extends Omit<IBinaryPageReply, 'columns'> {
  columns: IDecodedColumn[];
  /** Bytes received in buffers. */
  bytes: number;
}

/** Options of {@link page}. */
export interface IPageOptions {
  offset?: number;
  limit?: number;
  columns?: string[] | null;
  signal?: AbortSignal;
  /** As in `ICallOptions.transport` (over the comm, binary columns come in the `comm_msg` buffers). */
  transport?: Transport;
}

/** One JSON page of the value at `path` (`preview_page`). */
export function page(
  kernel: Kernel.IKernelConnection,
  path: PathStep[],
  options?: IPageOptions & { binary?: false }
): Promise<IPageReply>;
/** One binary page: numeric columns decoded to typed arrays. */
export function page(
  kernel: Kernel.IKernelConnection,
  path: PathStep[],
  options: IPageOptions & { binary: true }
): Promise<IBinaryPage>;
export async function page(
  kernel: Kernel.IKernelConnection,
  path: PathStep[],
  options: IPageOptions & { binary?: boolean } = {}
): Promise<IPageReply | IBinaryPage> {
  const payload: Record<string, unknown> = {
    path,
    offset: options.offset ?? 0,
    limit: options.limit ?? 50
  };
  if (options.columns) {
    payload.columns = options.columns;
  }
  if (!options.binary) {
    return call<IPageReply>(kernel, 'preview_page', payload, {
      signal: options.signal,
      transport: options.transport
    });
  }
  payload.binary = true;
  let buffers: unknown[] = [];
  const spec = await call<IBinaryPageReply>(kernel, 'preview_page', payload, {
    signal: options.signal,
    transport: options.transport,
    onResponse: (_data, msg: KernelMessage.IIOPubMessage) => {
      buffers = (msg.buffers as unknown[]) ?? [];
    }
  });
  return decodeBinaryPage(spec, buffers);
}

/** Decode a binary page reply and its buffers (pure). */
export function decodeBinaryPage(
  spec: IBinaryPageReply,
  buffers: unknown[]
): IBinaryPage {
  let bytes = 0;
  const columns = spec.columns.map(col => {
    if (col.buffer === null || col.buffer === undefined) {
      return { ...col, values: null };
    }
    const raw = buffers[col.buffer];
    if (raw === undefined) {
      throw new Error(`binary page: buffer ${col.buffer} of column ${col.column} missing`);
    }
    const values = decodeColumn(raw as ArrayBuffer | ArrayBufferView, col.dtype);
    bytes += values.byteLength;
    return { ...col, values };
  });
  return { ...spec, columns, bytes };
}

const CONSTRUCTORS: { [code: string]: any } = {
  f8: Float64Array,
  f4: Float32Array,
  i1: Int8Array,
  i2: Int16Array,
  i4: Int32Array,
  i8: BigInt64Array,
  u1: Uint8Array,
  u2: Uint16Array,
  u4: Uint32Array,
  u8: BigUint64Array,
  b1: Uint8Array
};

/**
 * A little-endian NumPy buffer (`dtype` like `<f8`, `<i8`, `|b1`, `<f2`) as a typed
 * array. Copies when the buffer is not aligned for the element size. `f2` (half
 * floats) is widened to Float32Array.
 */
export function decodeColumn(
  raw: ArrayBuffer | ArrayBufferView,
  dtype: string
): ColumnValues {
  const order = dtype[0];
  const code = dtype.slice(1);
  if (order === '>') {
    throw new Error(`big-endian dtype ${dtype} not supported (the kernel sends little-endian)`);
  }
  const view =
    raw instanceof ArrayBuffer
      ? new Uint8Array(raw)
      : new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  if (code === 'f2') {
    const out = new Float32Array(Math.floor(view.byteLength / 2));
    const dv = new DataView(view.buffer, view.byteOffset, view.byteLength);
    for (let i = 0; i < out.length; i++) {
      out[i] = halfToFloat(dv.getUint16(2 * i, true));
    }
    return out;
  }
  const Ctor = CONSTRUCTORS[code];
  if (!Ctor) {
    throw new Error(`unsupported dtype ${dtype}`);
  }
  const size: number = Ctor.BYTES_PER_ELEMENT;
  if (view.byteLength % size !== 0) {
    throw new Error(`buffer of ${view.byteLength} bytes is not a whole number of ${dtype}`);
  }
  if (view.byteOffset % size === 0) {
    return new Ctor(view.buffer, view.byteOffset, view.byteLength / size);
  }
  return new Ctor(view.slice().buffer);
}

/** IEEE 754 half precision bits to a number. */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) {
    return sign * Math.pow(2, -14) * (frac / 1024);
  }
  if (exp === 0x1f) {
    return frac ? NaN : sign * Infinity;
  }
  return sign * Math.pow(2, exp - 15) * (1 + frac / 1024);
}

/** A cell of a decoded column as a number (bigints converted; may lose precision past 2^53). */
export function columnValue(values: ColumnValues, i: number): number {
  const v = values[i];
  return typeof v === 'bigint' ? Number(v) : (v as number);
}
