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
    """Run cell ``index`` and wait until it finished (a new execution count); returns its output text.

    JupyterLab may first ask which kernel to use (the notebook's own, beakerlike, is preselected),
    and right after a notebook opens it may still swap the session's kernel, dropping a run
    request sent meanwhile: a run that does not start within a few seconds is sent again.
    """
    c = cell(page, index)
    before = c.locator(".jp-InputPrompt").inner_text()
    state = """([i, before]) => {
        const dialog = document.querySelector('.jp-Dialog');
        if (dialog && /Select Kernel/.test(dialog.textContent)) return 'dialog';
        const cell = document.querySelectorAll('.jp-Notebook .jp-Cell')[i];
        const text = cell && cell.querySelector('.jp-InputPrompt').textContent;
        if (/\\[\\*\\]/.test(text)) return 'running';
        return /\\[\\d+\\]/.test(text) && text !== before ? 'done' : false;
    }"""
    for _attempt in range(4):
        c.locator(".jp-InputPrompt").click()
        page.keyboard.press("Escape")
        page.keyboard.press("Shift+Enter")
        try:
            result = page.wait_for_function(state, arg=[index, before], timeout=8000).json_value()
        except Exception:
            continue  # nothing happened: send it again
        while result == "dialog":
            page.locator(".jp-Dialog .jp-mod-accept").click()
            page.locator(".jp-Dialog").wait_for(state="detached", timeout=TIMEOUT_MS)
            result = page.wait_for_function(state, arg=[index, before], timeout=TIMEOUT_MS).json_value()
        if result == "running":
            page.wait_for_function(f"(args) => ({state})(args) === 'done'", arg=[index, before], timeout=TIMEOUT_MS)
        return c.locator(".jp-OutputArea").inner_text()
    raise AssertionError(f"cell {index} did not run")


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
        has=page.locator(".bl-variables-name", has_text=re.compile(f"^{re.escape(name)}$")))


def row_names(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        f"{SIDEBAR} .bl-variables-body .bl-variables-row[data-depth='0'] .bl-variables-name",
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
