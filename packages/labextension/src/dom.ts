/** Create an element; text goes in with textContent (kernel data is never parsed as HTML). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string | number | null
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (className) {
    el.className = className;
  }
  if (text !== undefined && text !== null) {
    el.textContent = String(text);
  }
  return el;
}

/** Trim float noise (27.900000000000002) to 12 significant digits; everything else as text. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) {
    return '';
  }
  if (typeof value === 'number' && !Number.isInteger(value)) {
    return String(parseFloat(value.toPrecision(12)));
  }
  if (typeof value === 'object') {
    return JSON.stringify(value);
  }
  return String(value);
}
