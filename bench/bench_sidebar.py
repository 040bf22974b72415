"""Variables sidebar and data viewer, measured in a real JupyterLab in headless Chromium.

    .venv/bin/python -m bench.bench_sidebar [--cells 200] [--jumps 20]

1. Sidebar update latency: one notebook (a DataFrame and 50 small variables, then
   ``--cells`` cells ``v{i} = i``) is run cell by cell twice, side by side in one run:
   with the beakerlike Variables sidebar (the variable inspector disabled), and with
   jupyterlab-variableinspector's panel (the beakerlike extension disabled). In the page, a
   WebSocket hook timestamps each cell's ``status: idle`` and a MutationObserver timestamps
   the first time the cell's new variable shows in the panel's DOM. Reported per panel:
   latency after idle (``max(0, shown - idle)``: the sidebar is updated by the ``preview``
   message the kernel sends *before* idle, so it is usually 0), the signed difference, and
   the time from sending the cell to the variable showing; with the ratios sidebar / inspector.
2. Data viewer: a 10,000,000-row DataFrame opened from the sidebar; jumps to rows around
   5,000,000 (each a block not fetched before); time from the scroll to the end of the grid
   paint that drew the target row with its fetched values (``data-paint-ms``, measured in the
   page), the page request → reply time in the page, and bytes per page fetched.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ._util import ROOT, median, quantile

sys.path.insert(0, str(ROOT / "tests" / "browser"))

from labserver import CHROMIUM, CHROMIUM_ARGS, notebook, start_lab  # noqa: E402

TIMEOUT_MS = 120_000

# Timestamps in the page: outgoing execute_requests (by msg_id and code), their idle statuses, and
# the first time a variable name is seen in a panel (sidebar or inspector).
HOOK = r"""
(() => {
  const bl = (window.__bl = { sent: {}, idle: {}, seen: {} });
  const dec = new TextDecoder();
  function parse(data) {
    if (typeof data === 'string') {
      const m = JSON.parse(data);
      return [m.header, m.parent_header, m.content];
    }
    const buf = data instanceof ArrayBuffer ? data : data.buffer;
    const view = new DataView(buf);
    const n = Number(view.getBigUint64(0, true));
    const offs = [];
    for (let i = 0; i < n; i++) offs.push(Number(view.getBigUint64(8 * (i + 1), true)));
    const part = i => dec.decode(new Uint8Array(buf, offs[i], (i + 1 < n ? offs[i + 1] : buf.byteLength) - offs[i]));
    return [JSON.parse(part(1)), JSON.parse(part(2)), JSON.parse(part(4))];
  }
  const Orig = window.WebSocket;
  class Hooked extends Orig {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', ev => {
        try {
          const [h, p, c] = parse(ev.data);
          if (h.msg_type === 'status' && c.execution_state === 'idle' && p && p.msg_type === 'execute_request') {
            bl.idle[p.msg_id] = performance.now();
          }
        } catch (e) {}
      });
    }
    send(data) {
      try {
        const [h, , c] = parse(data);
        if (h.msg_type === 'execute_request') bl.sent[h.msg_id] = { t: performance.now(), code: c.code };
      } catch (e) {}
      return super.send(data);
    }
  }
  window.WebSocket = Hooked;
  const observer = new MutationObserver(() => {
    const t = performance.now();
    for (const el of document.querySelectorAll('.bl-variables-name, .jp-VarInspector-varName')) {
      const name = el.textContent;
      if (name && !(name in bl.seen)) bl.seen[name] = t;
    }
  });
  const start = () => observer.observe(document.body, { childList: true, subtree: true, characterData: true });
  if (document.body) start(); else document.addEventListener('DOMContentLoaded', start);
})();
"""


def _setup_cell() -> str:
    return ("import numpy as np, pandas as pd\n"
            "df = pd.DataFrame(np.random.rand(1000, 10))\n"
            "globals().update({f'b{i}': i for i in range(50)})")


def _wait_idle(page: Any) -> None:
    page.wait_for_function(
        "() => [...document.querySelectorAll('.jp-StatusBar-Widget')].some(e => / \\| Idle/.test(e.textContent))",
        timeout=TIMEOUT_MS)


def _run_selected(page: Any, name: str) -> None:
    """Shift+Enter on the selected cell, then wait until ``name`` showed in a panel."""
    page.keyboard.press("Shift+Enter")
    page.wait_for_function("(n) => n in window.__bl.seen", arg=name, timeout=TIMEOUT_MS)


def _latencies(page: Any, cells: int) -> dict[str, list[float]]:
    data = page.evaluate("() => window.__bl")
    after, signed, total = [], [], []
    for msg_id, sent in data["sent"].items():
        code = sent["code"]
        if not code.startswith("v") or "=" not in code:
            continue
        name = code.split("=")[0].strip()
        if msg_id not in data["idle"] or name not in data["seen"]:
            continue
        shown, idle = data["seen"][name], data["idle"][msg_id]
        after.append(max(0.0, shown - idle))
        signed.append(shown - idle)
        total.append(shown - sent["t"])
    assert len(after) >= cells * 0.9, f"only {len(after)} of {cells} cells measured"
    return {"after": after, "signed": signed, "total": total}


def _open_notebook(page: Any, lab: Any, name: str) -> None:
    page.goto(lab.notebook_url(name), timeout=TIMEOUT_MS)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=TIMEOUT_MS)
    _wait_idle(page)


def _select_first_cell(page: Any) -> None:
    page.locator(".jp-Notebook .jp-Cell").first.locator(".jp-InputPrompt").click()
    page.keyboard.press("Escape")


def _run_cells(page: Any, cells: int) -> None:
    _select_first_cell(page)
    page.keyboard.press("Shift+Enter")  # setup cell
    page.wait_for_function("() => 'b49' in window.__bl.seen", timeout=TIMEOUT_MS)
    for i in range(cells):
        _run_selected(page, f"v{i}")
        if (i + 1) % 50 == 0:
            print(f"    {i + 1} cells", flush=True)


def measure_panel(pw: Any, tmp: Path, mode: str, cells: int, jumps: int) -> dict[str, Any]:
    disabled = ({"@lckr/jupyterlab_variableinspector": True} if mode == "sidebar"
                else {"@beakerlike/labextension": True})
    cell_src = [_setup_cell(), *[f"v{i} = {i}" for i in range(cells)]]
    if mode == "sidebar" and jumps:
        cell_src.append("big = pd.DataFrame({'a': np.arange(10_000_000), 'b': np.arange(10_000_000) * 0.5})")
    out: dict[str, Any] = {}
    (tmp / mode).mkdir()
    with start_lab(tmp / mode, disabled=disabled) as lab:
        (lab.root / "bench.ipynb").write_text(json.dumps(notebook(cell_src)))
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            page.add_init_script(HOOK)
            _open_notebook(page, lab, "bench.ipynb")
            if mode == "inspector":
                page.keyboard.press("Control+Shift+C")
                page.keyboard.type("Open Variable Inspector")
                page.keyboard.press("Enter")
                page.locator(".jp-VarInspector").first.wait_for(timeout=TIMEOUT_MS)
                page.locator(".lm-TabBar-tab", has_text="bench.ipynb").first.click()
            else:
                page.locator("#beakerlike-variables").wait_for(state="visible", timeout=TIMEOUT_MS)
            t0 = time.perf_counter()
            _run_cells(page, cells)
            out["wall"] = time.perf_counter() - t0
            out.update(_latencies(page, cells))
            if mode == "sidebar" and jumps:
                out["viewer"] = measure_viewer(page, jumps)
        finally:
            browser.close()
    return out


def measure_viewer(page: Any, jumps: int) -> dict[str, Any]:
    page.keyboard.press("Shift+Enter")
    page.wait_for_function("() => 'big' in window.__bl.seen", timeout=TIMEOUT_MS)
    row = page.locator("#beakerlike-variables .bl-variables-row[data-name='big']")
    row.hover()
    row.locator(".bl-open-viewer").click()
    viewer = page.locator(".bl-viewer:visible")
    viewer.locator(".bl-viewer-status", has_text="rows ×").wait_for(timeout=TIMEOUT_MS)
    page.wait_for_timeout(500)
    goto = viewer.locator(".bl-viewer-goto")
    times: list[float] = []
    fetches: list[float] = []
    for k in range(jumps):
        target = 5_000_000 + k * 10_000  # each jump lands in blocks not fetched before
        goto.fill(str(target))
        goto.press("Enter")
        page.wait_for_function(
            "(t) => { const v = document.querySelector('.bl-viewer:not(.lm-mod-hidden)');"
            " return v && v.dataset.paintedRow === String(t); }", arg=target, timeout=TIMEOUT_MS)
        times.append(float(viewer.evaluate("v => v.dataset.paintMs")))
        fetches.append(float(viewer.evaluate("v => v.dataset.fetchMs")))
    pages = int(viewer.evaluate("v => v.dataset.pages"))
    nbytes = int(viewer.evaluate("v => v.dataset.bytes"))
    return {"paint": times, "fetch": fetches, "pages": pages, "bytes": nbytes}


def _stats(values: list[float]) -> str:
    return f"median {median(values):7.1f} ms  p99 {quantile(values, 0.99):7.1f} ms"


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=200)
    parser.add_argument("--jumps", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="40 cells, 5 jumps")
    args = parser.parse_args(argv)
    cells, jumps = (40, 5) if args.quick else (args.cells, args.jumps)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="beakerlike-bench-sidebar-") as d, sync_playwright() as pw:
        tmp = Path(d)
        print(f"{cells} cells `v{{i}} = i` after a 1000 x 10 DataFrame and 50 ints, run one by one, in JupyterLab",
              flush=True)
        sidebar = measure_panel(pw, tmp, "sidebar", cells, jumps)
        print(f"  sidebar   after idle: {_stats(sidebar['after'])}  ({sidebar['wall']:.1f} s)", flush=True)
        inspector = measure_panel(pw, tmp, "inspector", cells, 0)
        print(f"  inspector after idle: {_stats(inspector['after'])}  ({inspector['wall']:.1f} s)", flush=True)
    print()
    print("panel update, measured in the page (MutationObserver vs the cell's idle / its execute_request):")
    for name, res in (("sidebar", sidebar), ("inspector", inspector)):
        print(f"  {name:9s} after idle: {_stats(res['after'])}   shown - idle: median "
              f"{median(res['signed']):7.1f} ms   send to shown: {_stats(res['total'])}   ({len(res['after'])} cells, "
              f"{res['wall']:.1f} s)")
    ratio_after = median(sidebar["after"]) / max(median(inspector["after"]), 1e-9)
    ratio_total = median(sidebar["total"]) / max(median(inspector["total"]), 1e-9)
    print()
    print("targets:")
    p99 = quantile(sidebar["after"], 0.99)
    print(f"  sidebar after idle, median {median(sidebar['after']):.1f} ms, p99 {p99:.1f} ms"
          f"  (target <= 50 ms; {'OK' if p99 <= 50 else 'MISSED'})")
    print(f"  sidebar / variable inspector, after idle (median): {ratio_after:.3f}  "
          f"(target <= 0.3; {'OK' if ratio_after <= 0.3 else 'MISSED'})")
    print(f"  sidebar / variable inspector, send to shown (median): {ratio_total:.3f}")
    if "viewer" in sidebar:
        v = sidebar["viewer"]
        print(f"  viewer scroll to painted at row ~5,000,000 of 10,000,000: {_stats(v['paint'])} over "
              f"{len(v['paint'])} jumps  (target median <= 150 ms; "
              f"{'OK' if median(v['paint']) <= 150 else 'MISSED'})")
        print(f"  viewer page request to reply (in the page): {_stats(v['fetch'])}")
        print(f"  viewer bytes per page: {v['bytes'] / max(v['pages'], 1):,.0f} ({v['pages']} binary pages, "
              f"{v['bytes']:,} bytes)")
    print(f"\nload average (1 min) at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
