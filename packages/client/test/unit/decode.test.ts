import { describe, expect, it } from 'vitest';

import { columnValue, decodeBinaryPage, decodeColumn, halfToFloat } from '../../src/paging';

describe('decodeColumn', () => {
  it('decodes little-endian float64', () => {
    const src = new Float64Array([1.5, -2, NaN]);
    const out = decodeColumn(src.buffer, '<f8');
    expect(out).toBeInstanceOf(Float64Array);
    expect(Array.from(out as Float64Array)).toEqual([1.5, -2, NaN]);
  });

  it('decodes int64 as BigInt64Array and converts values to numbers', () => {
    const src = new BigInt64Array([1n, -5n, 5000000n]);
    const out = decodeColumn(new DataView(src.buffer), '<i8');
    expect(out).toBeInstanceOf(BigInt64Array);
    expect(columnValue(out, 2)).toBe(5000000);
  });

  it('copies a buffer that is not aligned for the element size', () => {
    const bytes = new Uint8Array(1 + 8);
    new DataView(bytes.buffer).setFloat64(1, 3.25, true);
    const view = new Uint8Array(bytes.buffer, 1, 8);
    expect(Array.from(decodeColumn(view, '<f8') as Float64Array)).toEqual([3.25]);
  });

  it('decodes bools, small ints and unsigned ints', () => {
    expect(Array.from(decodeColumn(new Uint8Array([1, 0, 1]), '|b1') as Uint8Array)).toEqual([1, 0, 1]);
    expect(Array.from(decodeColumn(new Int8Array([-1, 2]), '|i1') as Int8Array)).toEqual([-1, 2]);
    expect(Array.from(decodeColumn(new Uint32Array([7]).buffer, '<u4') as Uint32Array)).toEqual([7]);
    expect(Array.from(decodeColumn(new Int32Array([-7]).buffer, '<i4') as Int32Array)).toEqual([-7]);
  });

  it('widens half floats', () => {
    const bits = new Uint16Array([0x3c00, 0xc000, 0x7c00, 0x0000]);
    expect(Array.from(decodeColumn(bits.buffer, '<f2') as Float32Array)).toEqual([1, -2, Infinity, 0]);
    expect(halfToFloat(0x7e00)).toBeNaN();
  });

  it('refuses what it cannot decode', () => {
    expect(() => decodeColumn(new Uint8Array(8), '>f8')).toThrow(/big-endian/);
    expect(() => decodeColumn(new Uint8Array(8), '<c16')).toThrow(/unsupported/);
    expect(() => decodeColumn(new Uint8Array(7), '<f8')).toThrow(/whole number/);
  });
});

describe('decodeBinaryPage', () => {
  it('pairs columns with their buffers; non-numeric columns have no values', () => {
    const page = decodeBinaryPage(
      {
        offset: 10,
        limit: 2,
        total: 100,
        columns: [
          { column: 'a', dtype: '<f8', buffer: 0 },
          { column: 'label', dtype: 'object', buffer: null }
        ]
      },
      [new Float64Array([1, 2]).buffer]
    );
    expect(page.bytes).toBe(16);
    expect(Array.from(page.columns[0].values as Float64Array)).toEqual([1, 2]);
    expect(page.columns[1].values).toBeNull();
  });

  it('says which buffer is missing', () => {
    expect(() =>
      decodeBinaryPage({ offset: 0, limit: 1, total: 1, columns: [{ column: 'a', dtype: '<f8', buffer: 3 }] }, [])
    ).toThrow(/buffer 3 of column a missing/);
  });
});
