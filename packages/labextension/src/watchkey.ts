/**
 * A watcher key that stays the same across reloads of this browser tab (kept in
 * sessionStorage) but differs between tabs: a reload replaces its old watch in
 * the kernel instead of adding a second one.
 */
export function watchKey(purpose: string): string {
  const name = 'beakerlike:tab-key';
  let tab = '';
  try {
    tab = window.sessionStorage.getItem(name) ?? '';
    if (!tab) {
      tab = Math.random().toString(36).slice(2, 12);
      window.sessionStorage.setItem(name, tab);
    }
  } catch {
    tab = Math.random().toString(36).slice(2, 12);
  }
  return `beakerlike-${purpose}:${tab}`;
}
