import type { IPreview } from '@beakerlike/client';

/** Code objects (modules, functions, classes) are hidden unless the user asks for them. */
const CODE_TYPES = new Set([
  'module',
  'function',
  'builtin_function_or_method',
  'method',
  'type',
  'MetaHasTraits'
]);

/** Whether a preview is a module, function or class. */
export function isCode(p: IPreview): boolean {
  return CODE_TYPES.has(p.type) || (p.kind === 'object' && p.module === 'builtins' && p.type === 'type');
}

/** `12 × 3`, `5 items`, `17 chars`... */
export function sizeText(p: IPreview): string {
  const n = typeof p.length === 'number' ? p.length : null;
  if (Array.isArray(p.shape) && p.shape.length && p.kind !== 'text' && p.kind !== 'container') {
    return p.shape.map(x => x.toLocaleString('en-US')).join(' × ');
  }
  if (p.kind === 'text' && n !== null) {
    return `${n.toLocaleString('en-US')} chars`;
  }
  if (p.kind === 'container' && n !== null) {
    return `${n.toLocaleString('en-US')} items`;
  }
  return n !== null ? n.toLocaleString('en-US') : '';
}

/** A number to sort sizes by (elements, or length). */
export function sizeKey(p: IPreview): number {
  if (Array.isArray(p.shape) && p.shape.length) {
    return p.shape.reduce((a, b) => a * (typeof b === 'number' ? b : 1), 1);
  }
  return typeof p.length === 'number' ? p.length : -1;
}

/** A number to sort memory sizes by: `nbytes`, or -1 when the kernel could not tell cheaply. */
export function memoryKey(p: IPreview): number {
  return typeof p.nbytes === 'number' && p.nbytes >= 0 ? p.nbytes : -1;
}

/** `1.2 MB` for a memory size in bytes, or '' when unknown. */
export function bytesText(p: IPreview): string {
  const n = typeof p.nbytes === 'number' ? p.nbytes : null;
  if (n === null || n < 0) {
    return '';
  }
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i ? v.toFixed(1) : v} ${units[i]}`;
}

/** What a row says when the kernel could not preview the value. */
export function statusText(p: IPreview): string {
  if (p.status === 'over_budget') {
    return p.error || 'over the preview budget';
  }
  if (p.status === 'error') {
    return `could not preview: ${p.error || 'preview failed'}`;
  }
  return '';
}

/** Values a row can expand into a tree (children or lines). */
export function canExpand(p: IPreview): boolean {
  if (p.status !== 'ok') {
    return false;
  }
  if (p.kind === 'text') {
    return true;
  }
  if (p.kind === 'container') {
    return (p.length ?? 1) > 0;
  }
  return p.kind === 'object' && !isCode(p);
}

/** Values the data viewer can show as a grid. */
export function canView(p: IPreview): boolean {
  if (p.status !== 'ok') {
    return false;
  }
  if (p.kind === 'table' || p.kind === 'array') {
    return Boolean(p.pageable) && (!Array.isArray(p.shape) || p.shape.length <= 2);
  }
  return p.kind === 'container' && (p.type === 'list' || p.type === 'tuple');
}
