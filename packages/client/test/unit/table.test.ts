import { describe, expect, it } from 'vitest';

import { PreviewTable, updateFromMessage } from '../../src/table';
import type { IPreviewUpdate } from '../../src/table';

const item = (summary: string) => ({ 'text/plain': summary });
const update = (seq: number, vars: Record<string, string>, removed: string[] = [], full = false): IPreviewUpdate => ({
  seq,
  full,
  removed,
  variables: Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, item(v)]))
});

describe('PreviewTable', () => {
  it('takes a snapshot, then applies updates in order', () => {
    const t = new PreviewTable();
    const reset = t.reset({ variables: { a: item('1') }, removed: [], seq: 3, full: true });
    expect(reset).toEqual({ full: true, updated: ['a'], removed: [], seq: 3 });
    const r = t.apply(update(4, { b: '2' }, ['a']));
    expect(r.result).toBe('applied');
    expect(r.change).toEqual({ full: false, updated: ['b'], removed: ['a'], seq: 4 });
    expect([...t.items.keys()]).toEqual(['b']);
    expect(t.seq).toBe(4);
  });

  it('ignores updates it already has', () => {
    const t = new PreviewTable();
    t.reset(update(5, { a: '1' }, [], true));
    expect(t.apply(update(5, { a: 'old' })).result).toBe('stale');
    expect(t.apply(update(2, { z: 'old' })).result).toBe('stale');
    expect(t.items.get('a')).toEqual(item('1'));
  });

  it('reports a gap and changes nothing', () => {
    const t = new PreviewTable();
    t.reset(update(1, { a: '1' }, [], true));
    expect(t.apply(update(3, { b: '2' })).result).toBe('gap');
    expect([...t.items.keys()]).toEqual(['a']);
    expect(t.seq).toBe(1);
  });

  it('a delta before any snapshot is a gap', () => {
    expect(new PreviewTable().apply(update(0, { a: '1' })).result).toBe('gap');
  });

  it('a full update replaces everything and reports what went away', () => {
    const t = new PreviewTable();
    t.reset(update(1, { a: '1', b: '2' }, [], true));
    const r = t.apply(update(7, { c: '3' }, [], true));
    expect(r.change).toEqual({ full: true, updated: ['c'], removed: ['a', 'b'], seq: 7 });
  });

  it('clear forgets the table and the seq (kernel restart)', () => {
    const t = new PreviewTable();
    t.reset(update(9, { a: '1' }, [], true));
    expect(t.clear()).toEqual({ full: true, updated: [], removed: ['a'], seq: -1 });
    expect(t.apply(update(0, {}, [], true)).result).toBe('applied');
  });

  it('keeps names like __proto__ as data', () => {
    const t = new PreviewTable();
    t.reset({ variables: JSON.parse('{"__proto__": {"text/plain": "x"}}'), removed: [], seq: 0, full: true });
    expect(t.items.get('__proto__')).toEqual({ 'text/plain': 'x' });
  });

  it('removing an unknown name is not reported', () => {
    const t = new PreviewTable();
    t.reset(update(0, { a: '1' }, [], true));
    expect(t.apply(update(1, {}, ['nope'])).change?.removed).toEqual([]);
  });
});

describe('updateFromMessage', () => {
  it('reads content and metadata of a preview message', () => {
    const u = updateFromMessage(
      { variables: { x: item('1') } },
      { beakerlike: { removed: { variables: ['y'] }, seq: 7, full: false } }
    );
    expect(u).toEqual({ variables: { x: item('1') }, removed: ['y'], seq: 7, full: false });
  });

  it('rejects messages without a seq', () => {
    expect(updateFromMessage({}, {})).toBeNull();
    expect(updateFromMessage({}, { beakerlike: { seq: 'x' } })).toBeNull();
  });
});
