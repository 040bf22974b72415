"""The anywidget PreviewPanel's fixes, in a real JupyterLab: a string opens as text by lines (not
10 characters at a time), a wide array scrolls sideways with all its columns, the panel does not
list itself, and after a kernel restart it says it is stale instead of "live"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from labserver import ARTIFACTS, notebook, start_lab
from sidebar import TIMEOUT_MS, run_cell, wait_kernel_idle

CELLS = [
    "import beakerlike, numpy as np\n"
    "poem = '\\n'.join(f'verse {i}' for i in range(1, 41)) + 'x' * 11000\n"
    "wide = np.arange(3 * 40).reshape(3, 40)\n"
    "panel = beakerlike.PreviewPanel(page_size=5)\npanel",
]


def prow(page: Any, name: str) -> Any:
    return page.locator(f'.bl-panel .bl-row[data-name="{name}"]')


def test_panel_fixes_in_jupyterlab(tmp_path: Path, browser_page: Any) -> None:
    page = browser_page
    with start_lab(tmp_path) as lab:
        (lab.root / "fixes.ipynb").write_text(json.dumps(notebook(CELLS)))
        try:
            page.goto(lab.notebook_url("fixes.ipynb"), timeout=TIMEOUT_MS)
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=TIMEOUT_MS)
            wait_kernel_idle(page)
            run_cell(page, 0)
            prow(page, "poem").wait_for(timeout=TIMEOUT_MS)
            assert prow(page, "panel").count() == 0  # the panel is not one of its variables

            prow(page, "poem").click()
            text = page.locator('.bl-detail[data-detail-for="poem"] .bl-text')
            text.wait_for(timeout=TIMEOUT_MS)
            assert text.inner_text().startswith("verse 1\nverse 2\nverse 3\n")
            assert len(text.inner_text()) > 11000  # one large page, not 10 characters
            prow(page, "poem").click()

            prow(page, "wide").click()
            table = page.locator('.bl-detail[data-detail-for="wide"] .bl-data')
            table.wait_for(timeout=TIMEOUT_MS)
            assert table.locator("thead th").count() == 41  # index + 40 columns, no cut at 19 or 20
            scroller = page.locator('.bl-detail[data-detail-for="wide"] .bl-scroll')
            assert scroller.evaluate("e => e.scrollWidth > e.clientWidth")  # scrolls sideways
            ARTIFACTS.mkdir(exist_ok=True)
            page.locator(".bl-panel").screenshot(path=str(ARTIFACTS / "panel-fixes.png"))

            page.locator(".lm-MenuBar-itemLabel", has_text="Kernel").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Restart Kernel…").first.click()
            page.locator(".jp-Dialog .jp-mod-accept").click()
            page.locator(".bl-panel .bl-status", has_text="stale").wait_for(timeout=TIMEOUT_MS)
            assert prow(page, "poem").count() == 0
        except Exception:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "panel-fixes-failure.png"))
            console = "\n".join(page.console_messages_seen[-30:])
            pytest.fail(f"panel test failed; console:\n{console}\nserver log:\n{lab.log.read_text()[-3000:]}")
