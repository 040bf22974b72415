"""End to end: the PreviewPanel in a real JupyterLab, driven by headless Chromium.

Displays the panel, adds a DataFrame, opens it and pages through its rows, checks
that an HTML-looking string is shown as text and runs nothing, deletes a variable
and sees it go. Saves a screenshot of the panel to ``test-artifacts/panel.png``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from labserver import ARTIFACTS, Lab, notebook

CELLS = [
    "import beakerlike\npanel = beakerlike.PreviewPanel(page_size=5)\npanel",
    "import pandas as pd\n"
    "df = pd.DataFrame({'n': range(12), 'square': [i * i for i in range(12)],\n"
    "                   'label': [f'row {i}' for i in range(12)]})\n"
    "x = 42\nnote = 'hello'",
    "evil = '<img src=x onerror=\"window.__beakerlike_xss = 1\">'\n"
    "class Stubborn:\n    def __repr__(self):\n        raise ValueError('no repr')\n"
    "stubborn = Stubborn()",
    "del x",
    "print('panel watching:', panel.watching)",
]
TIMEOUT_MS = 60_000


def run_cell(page: Any, index: int) -> None:
    """Select cell ``index`` (command mode) and run it with Shift+Enter."""
    cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
    cell.locator(".jp-InputPrompt").click()
    page.keyboard.press("Escape")
    page.keyboard.press("Shift+Enter")
    if index == 0:
        accept_kernel_dialog(page)
    page.wait_for_function(
        """(i) => {
            const cell = document.querySelectorAll('.jp-Notebook .jp-Cell')[i];
            const prompt = cell && cell.querySelector('.jp-InputPrompt');
            return prompt && /\\[\\d+\\]/.test(prompt.textContent);
        }""",
        arg=index, timeout=TIMEOUT_MS,
    )


def accept_kernel_dialog(page: Any) -> None:
    """JupyterLab may ask which kernel to use on the first run; the notebook's own (beakerlike) is preselected."""
    dialog = page.locator(".jp-Dialog")
    try:
        dialog.wait_for(timeout=1500)
    except Exception:
        return
    if "Select Kernel" in dialog.inner_text():
        dialog.locator(".jp-mod-accept").click()


def wait_kernel_idle(page: Any) -> None:
    page.locator(".jp-StatusBar-Widget", has_text="beakerlike) | Idle").first.wait_for(timeout=TIMEOUT_MS)


def row(page: Any, name: str) -> Any:
    return page.locator(f'.bl-panel .bl-row[data-name="{name}"]')


def test_panel_in_jupyterlab(lab: Lab, browser_page: Any) -> None:
    page = browser_page
    (lab.root / "panel.ipynb").write_text(json.dumps(notebook(CELLS)))
    try:
        page.goto(lab.notebook_url("panel.ipynb"), timeout=TIMEOUT_MS)
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=TIMEOUT_MS)
        wait_kernel_idle(page)
        page.evaluate("() => { window.__beakerlike_xss = undefined; }")

        run_cell(page, 0)
        panel = page.locator(".bl-panel")
        panel.wait_for(timeout=TIMEOUT_MS)
        assert "live" in panel.locator(".bl-status").inner_text()

        run_cell(page, 1)
        row(page, "df").wait_for(timeout=TIMEOUT_MS)
        assert row(page, "df").locator(".bl-type").inner_text() == "DataFrame"
        assert row(page, "df").locator(".bl-size").inner_text() == "12 × 3"
        assert row(page, "x").locator(".bl-summary").inner_text() == "42"

        # Open the DataFrame: first page of rows, then the next one, fetched from the kernel.
        row(page, "df").click()
        info = page.locator('.bl-detail[data-detail-for="df"] .bl-pager-info')
        info.filter(has_text="Rows 1–5 of 12").wait_for(timeout=TIMEOUT_MS)
        page.locator('.bl-detail[data-detail-for="df"] .bl-pager-next').click()
        info.filter(has_text="Rows 6–10 of 12").wait_for(timeout=TIMEOUT_MS)
        first_index = page.locator('.bl-detail[data-detail-for="df"] tbody tr').first.locator("th").inner_text()
        assert first_index == "5"
        assert "row 5" in page.locator('.bl-detail[data-detail-for="df"] tbody').inner_text()

        # A string that looks like HTML is shown as text and runs nothing.
        run_cell(page, 2)
        row(page, "evil").wait_for(timeout=TIMEOUT_MS)
        assert "<img src=x onerror=" in row(page, "evil").locator(".bl-summary").inner_text()
        assert page.locator(".bl-panel img").count() == 0
        assert "could not preview" in row(page, "stubborn").locator(".bl-summary").inner_text()
        assert row(page, "pd").count() == 0  # modules are hidden by default...
        page.locator(".bl-panel .bl-show-code").check()
        assert row(page, "pd").locator(".bl-type").inner_text() == "module"  # ...and shown on request
        page.locator(".bl-panel .bl-show-code").uncheck()
        page.wait_for_timeout(300)  # give a (wrongly) injected image time to fire onerror
        assert page.evaluate("() => window.__beakerlike_xss") is None

        # Deleted variables disappear.
        run_cell(page, 3)
        row(page, "x").wait_for(state="detached", timeout=TIMEOUT_MS)
        assert row(page, "df").count() == 1 and row(page, "note").count() == 1

        ARTIFACTS.mkdir(exist_ok=True)
        panel.scroll_into_view_if_needed()
        panel.screenshot(path=str(ARTIFACTS / "panel.png"))

        # Clearing the panel's output stops the preview work in the kernel.
        page.locator(".jp-Notebook .jp-Cell").nth(0).locator(".jp-InputPrompt").click()
        page.locator(".lm-MenuBar-itemLabel", has_text="Edit").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Clear Cell Output").first.click()
        panel.wait_for(state="detached", timeout=TIMEOUT_MS)
        run_cell(page, 4)
        output = page.locator(".jp-Notebook .jp-Cell").nth(4).locator(".jp-OutputArea")
        output.filter(has_text="panel watching:").wait_for(timeout=TIMEOUT_MS)
        assert "panel watching: False" in output.inner_text()
    except Exception:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "panel-failure.png"), full_page=True)
        console = "\n".join(page.console_messages_seen[-40:])
        pytest.fail(f"browser test failed; console:\n{console}\nlab log:\n{lab.log.read_text()[-3000:]}",
                    pytrace=True)


def test_page_text_has_no_kernel_html() -> None:
    # The panel frontend never uses innerHTML (kernel data is set with textContent only).
    from beakerlike.panel import STATIC

    source = (STATIC / "panel.js").read_text()
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", source)
