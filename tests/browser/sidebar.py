"""Helpers for the Variables sidebar browser tests (JupyterLab and Notebook 7)."""

from __future__ import annotations

import re
from typing import Any

from labserver import ARTIFACTS

TIMEOUT_MS = 60_000
SIDEBAR = "#beakerlike-variables"


def cell(page: Any, index: int) -> Any:
    return page.locator(".jp-Notebook .jp-Cell").nth(index)


def run_cell(page: Any, index: int) -> str:
    """Run cell ``index`` and wait until it finished (a new execution count); returns its output text."""
    c = cell(page, index)
    before = c.locator(".jp-InputPrompt").inner_text()
    c.locator(".jp-InputPrompt").click()
    page.keyboard.press("Escape")
    page.keyboard.press("Shift+Enter")
    accept_kernel_dialog(page)
    page.wait_for_function(
        """([i, before]) => {
            const cell = document.querySelectorAll('.jp-Notebook .jp-Cell')[i];
            const text = cell && cell.querySelector('.jp-InputPrompt').textContent;
            return /\\[\\d+\\]/.test(text) && text !== before;
        }""",
        arg=[index, before], timeout=TIMEOUT_MS,
    )
    return c.locator(".jp-OutputArea").inner_text()


def accept_kernel_dialog(page: Any) -> None:
    dialog = page.locator(".jp-Dialog")
    if dialog.count() and "Select Kernel" in dialog.first.inner_text():
        dialog.locator(".jp-mod-accept").click()


def wait_kernel_idle(page: Any) -> None:
    """The kernel is started and idle (Lab's status bar, or Notebook 7's kernel indicator)."""
    page.wait_for_function(
        """() => {
            const lab = [...document.querySelectorAll('.jp-StatusBar-Widget')].some(
                e => /beakerlike\\) \\| Idle/.test(e.textContent));
            const nb = document.querySelector('.jp-NotebookKernelStatus-idle, [data-status="idle"]');
            return lab || !!nb;
        }""",
        timeout=TIMEOUT_MS,
    )


def sidebar(page: Any) -> Any:
    return page.locator(SIDEBAR)


def row(page: Any, name: str) -> Any:
    return page.locator(f"{SIDEBAR} .bl-variables-row[data-depth='0']").filter(
        has=page.locator(".bl-name", has_text=re.compile(f"^{re.escape(name)}$")))


def row_names(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        f"{SIDEBAR} .bl-variables-body .bl-variables-row[data-depth='0'] .bl-name",
        "els => els.map(e => e.textContent)")


def watchers(page: Any, index: int) -> list[str]:
    """Run cell ``index`` (which prints the engine's watcher keys) and parse them."""
    out = run_cell(page, index)
    match = re.search(r"WATCHERS (\[.*?\])", out)
    assert match, out
    return eval(match.group(1))  # a printed list of str


def screenshot(page: Any, name: str, locator: Any | None = None) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    (locator or page).screenshot(path=str(ARTIFACTS / name))
