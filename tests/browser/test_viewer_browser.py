"""End to end: the data viewer (Lumino DataGrid fed page by page) in a real JupyterLab.

Opens a 10,000,000-row DataFrame from the Variables sidebar, jumps to row 5,000,000 (one
binary page fetched, not the rows before it; the grid copies its back buffer to the canvas a
few times per paint, not once per cell), scrolls a 60-column frame to its last column,
refreshes when a cell changes the value and says so when it is deleted. Screenshots in the
light and the dark theme go to ``test-artifacts/``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from labserver import ARTIFACTS, notebook, start_lab
from sidebar import TIMEOUT_MS, row, run_cell, screenshot, wait_kernel_idle

CELLS = [
    "import numpy as np, pandas as pd\n"
    "big = pd.DataFrame({'a': np.arange(10_000_000), 'b': np.arange(10_000_000) * 0.5})\n"
    "wide = pd.DataFrame(np.arange(300 * 60).reshape(300, 60), columns=[f'c{i}' for i in range(60)])\n"
    "small = pd.DataFrame({'n': [1, 2, 3], 'label': ['one', 'two', 'three']})",
    "small['n'] = [7, 8, 9]",
    "del small",
]


# Counts the copies (drawImage) onto the viewer's visible canvases: the grid must copy its
# back buffer once per painted region, not once per cell (in a software-rasterized canvas each
# copy costs milliseconds; see docs/panel.md, Benchmarks).
COUNT_COPIES = r"""
(() => {
  const proto = CanvasRenderingContext2D.prototype;
  const drawImage = proto.drawImage;
  window.__blCopies = 0;
  proto.drawImage = function (...args) {
    if (this.canvas.isConnected && this.canvas.closest('.bl-viewer')) window.__blCopies++;
    return drawImage.apply(this, args);
  };
})();
"""


def _open_viewer(page: Any, name: str) -> Any:
    row(page, name).hover()
    row(page, name).locator(".bl-open-viewer").click()
    page.locator(".lm-TabBar-tab.lm-mod-current", has_text=name).first.wait_for(timeout=TIMEOUT_MS)
    viewer = page.locator(".bl-viewer:visible")
    viewer.locator(".bl-viewer-status", has_text="rows ×").wait_for(timeout=TIMEOUT_MS)
    return viewer


def _cell_text(viewer: Any, expected: str) -> None:
    viewer.locator(".bl-viewer-cell", has_text=expected).wait_for(timeout=TIMEOUT_MS)


def test_viewer_in_jupyterlab(tmp_path: Path, browser_page: Any) -> None:
    page = browser_page
    with start_lab(tmp_path) as lab:
        (lab.root / "viewer.ipynb").write_text(json.dumps(notebook(CELLS)))
        try:
            page.add_init_script(COUNT_COPIES)
            page.goto(lab.notebook_url("viewer.ipynb"), timeout=TIMEOUT_MS)
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=TIMEOUT_MS)
            wait_kernel_idle(page)
            run_cell(page, 0)
            row(page, "big").wait_for(timeout=TIMEOUT_MS)

            # 10M rows: jump to row 5,000,000; only the pages around it are fetched.
            viewer = _open_viewer(page, "big")
            assert "10,000,000 rows × 2 columns" in viewer.locator(".bl-viewer-status").inner_text()
            goto = viewer.locator(".bl-viewer-goto")
            goto.fill("5000000")
            page.evaluate("() => { window.__blCopies = 0; }")
            goto.press("Enter")
            viewer.and_(page.locator("[data-painted-row='5000000']")).wait_for(timeout=TIMEOUT_MS)
            # Two paints (the scroll, then the arrived rows) of ~35 rows x 3 cells: a few region
            # copies, not one per cell (~210 with Lumino's own per-cell copies).
            copies = page.evaluate("() => window.__blCopies")
            assert 0 < copies <= 20, f"{copies} canvas copies for one jump"
            _cell_text(viewer, "row 5000000, a: 5000000")
            status = viewer.locator(".bl-viewer-status").inner_text()
            pages = int(re.search(r"(\d+) pages fetched", status).group(1))
            assert pages <= 12, status  # the visible blocks, never the 5M rows before
            assert "(binary)" in status
            screenshot(page, "viewer.png")

            # A wide frame scrolls horizontally to its last column (no cut at 19 or 20 columns).
            wide = _open_viewer(page, "wide")
            assert "300 rows × 60 columns" in wide.locator(".bl-viewer-status").inner_text()
            wide.locator(".bl-viewer-grid").click(position={"x": 150, "y": 40})
            page.keyboard.press("Control+ArrowRight")
            _cell_text(wide, "row 0, c59: 59")
            page.keyboard.press("Control+ArrowDown")
            _cell_text(wide, "row 299, c59: 17999")

            # Refreshes when a cell changes the value; says so when it is deleted.
            small = _open_viewer(page, "small")
            small.locator(".bl-viewer-grid").click(position={"x": 150, "y": 40})
            _cell_text(small, "row 0, n: 1")
            page.locator(".lm-TabBar-tab", has_text="viewer.ipynb").first.click()
            run_cell(page, 1)
            page.locator(".lm-TabBar-tab", has_text="small").first.click()
            small = page.locator(".bl-viewer:visible")
            _cell_text(small, "row 0, n: 7")
            page.locator(".lm-TabBar-tab", has_text="viewer.ipynb").first.click()
            run_cell(page, 2)
            page.locator(".lm-TabBar-tab", has_text="small").first.click()
            small = page.locator(".bl-viewer:visible")
            small.locator(".bl-viewer-status", has_text="small was deleted").wait_for(timeout=TIMEOUT_MS)

            # Dark theme: the sidebar and the grid follow it.
            page.locator(".lm-TabBar-tab", has_text="big").first.click()
            page.locator(".lm-MenuBar-itemLabel", has_text="Settings").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Theme").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="JupyterLab Dark").first.click()
            page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'", timeout=TIMEOUT_MS)
            page.wait_for_timeout(500)
            screenshot(page, "viewer-dark.png")
            screenshot(page, "sidebar-dark.png", page.locator("#beakerlike-variables"))
        except Exception:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "viewer-failure.png"))
            console = "\n".join(page.console_messages_seen[-30:])
            pytest.fail(f"viewer test failed; console:\n{console}\nserver log:\n{lab.log.read_text()[-3000:]}")
