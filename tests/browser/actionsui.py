"""Helpers for the Actions sidebar browser tests and bench: a lab with the example plugins, and page steps."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from labserver import ARTIFACTS, Lab, notebook, start_lab

TIMEOUT_MS = 60_000
SIDEBAR = "#beakerlike-actions"
HERE = Path(__file__).resolve().parent


@contextlib.contextmanager
def actions_lab(tmp_path: Path, dark: bool = False, broken_plugin: bool = False,
                allowed_types: list[str] | None = None, app: str = "lab") -> Iterator[Lab]:
    """JupyterLab whose kernels load plugins/jobs, plugins/varstore (installed), the data context and
    ``actions_ui_plugin`` (this directory), with a private varstore file. ``broken_plugin`` also
    names a plugin module that does not exist (a plugin load error). ``allowed_types`` sets the
    server's ``MappingKernelManager.allowed_message_types`` (it drops every other type).
    ``app="notebook"`` starts Jupyter Notebook 7 instead of JupyterLab."""
    import os

    extra: dict[str, str] = {}
    if allowed_types is not None:
        config = tmp_path / "extra-config"
        config.mkdir()
        (config / "jupyter_server_config.json").write_text(json.dumps(
            {"MappingKernelManager": {"allowed_message_types": allowed_types}}))
        extra["JUPYTER_CONFIG_PATH"] = str(config)
    env = {
        **extra,
        "BEAKERLIKE_PLUGINS": "actions_ui_plugin" + (",beakerlike_no_such_plugin" if broken_plugin else ""),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH", "")])),
        "BEAKERLIKE_VARSTORE": str(tmp_path / "varstore.sqlite"),
    }
    settings = {"apputils-extension/themes": {"theme": "JupyterLab Dark"}} if dark else None
    with start_lab(tmp_path, env=env, settings=settings, app=app) as lab:
        yield lab


#: What JupyterLab itself sends on the kernel websocket.
STANDARD_TYPES = [
    "execute_request", "inspect_request", "complete_request", "history_request", "is_complete_request",
    "comm_info_request", "kernel_info_request", "comm_open", "comm_msg", "comm_close", "input_reply",
    "shutdown_request", "interrupt_request", "debug_request",
]


def open_notebook(page: Any, lab: Lab, cells: list[str], name: str = "actions.ipynb") -> None:
    """Write a notebook of ``cells``, open it, wait for its kernel to be idle and the Actions sidebar to list."""
    (lab.root / name).write_text(json.dumps(notebook(cells)))
    page.goto(lab.notebook_url(name), timeout=TIMEOUT_MS)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=TIMEOUT_MS)
    wait_kernel_idle(page)
    show_sidebar(page)
    page.locator(f"{SIDEBAR} .bl-action").first.wait_for(timeout=TIMEOUT_MS)


def wait_kernel_idle(page: Any) -> None:
    page.wait_for_function(
        """() => [...document.querySelectorAll('.jp-StatusBar-Widget')].some(
                e => /beakerlike\\) \\| Idle/.test(e.textContent))""",
        timeout=TIMEOUT_MS,
    )


def show_sidebar(page: Any) -> None:
    """Open the Actions sidebar (its side bar tab), unless it is visible."""
    if not page.locator(SIDEBAR).is_visible():
        page.locator('.jp-SideBar .lm-TabBar-tab[data-id="beakerlike-actions"]').click()
    page.locator(SIDEBAR).wait_for(state="visible", timeout=TIMEOUT_MS)


def run_cell(page: Any, index: int) -> str:
    """Run cell ``index`` and wait for its new execution count; returns its output text."""
    c = page.locator(".jp-Notebook .jp-Cell").nth(index)
    before = c.locator(".jp-InputPrompt").inner_text()
    c.locator(".jp-InputPrompt").click()
    page.keyboard.press("Escape")
    page.keyboard.press("Shift+Enter")
    done = """([i, before]) => {
        const dialog = document.querySelector('.jp-Dialog');
        if (dialog && /Select Kernel/.test(dialog.textContent)) return 'dialog';
        const cell = document.querySelectorAll('.jp-Notebook .jp-Cell')[i];
        const text = cell && cell.querySelector('.jp-InputPrompt').textContent;
        return /\\[\\d+\\]/.test(text) && text !== before ? 'done' : false;
    }"""
    while page.wait_for_function(done, arg=[index, before], timeout=TIMEOUT_MS).json_value() == "dialog":
        page.locator(".jp-Dialog .jp-mod-accept").click()
        page.locator(".jp-Dialog").wait_for(state="detached", timeout=TIMEOUT_MS)
    return c.locator(".jp-OutputArea").inner_text()


def action_item(page: Any, name: str) -> Any:
    return page.locator(f'{SIDEBAR} .bl-action[data-action="{name}"]')


def open_form(page: Any, name: str) -> Any:
    """Click action ``name`` in the list; returns its form."""
    action_item(page, name).click()
    form = page.locator(f'{SIDEBAR} .bl-action-form[data-action="{name}"]')
    form.wait_for(timeout=TIMEOUT_MS)
    return form


def field(page: Any, prefix: str, name: str) -> Any:
    """The input of field ``name`` in the form with id prefix ``prefix`` (``bl-action-run_job``)."""
    return page.locator(f"#{prefix}_{name}")


def field_errors(page: Any, prefix: str, name: str) -> str:
    """The error text shown on a field ('' when none)."""
    return page.evaluate(
        """(id) => {
            const input = document.getElementById(id);
            const group = input && input.closest('.form-group');
            const errs = group && group.querySelector('.validationErrors');
            return errs ? errs.textContent : '';
        }""",
        f"{prefix}_{name}",
    )


def submit(form: Any) -> None:
    form.locator(".bl-form-submit").first.click()


def cards(page: Any, name: str | None = None) -> Any:
    sel = f"{SIDEBAR} .bl-run" + (f'[data-action="{name}"]' if name else "")
    return page.locator(sel)


def wait_card_state(card: Any, state: str, timeout: int = TIMEOUT_MS) -> None:
    card.and_(card.page.locator(f'[data-state="{state}"]')).wait_for(timeout=timeout)


def run_from_form(page: Any, name: str, values: dict[str, str] | None = None, wait: str | None = "ok") -> Any:
    """Open ``name``'s form, fill ``values`` (field -> text), press Run; returns the new card."""
    form = open_form(page, name)
    for key, text in (values or {}).items():
        field(page, f"bl-action-{name}", key).fill(text)
    before = cards(page).count()
    submit(form)
    page.wait_for_function("([sel, n]) => document.querySelectorAll(sel).length > n",
                           arg=[f"{SIDEBAR} .bl-run", before], timeout=TIMEOUT_MS)
    run_id = cards(page, name).first.get_attribute("data-run")
    card = page.locator(f'{SIDEBAR} .bl-run[data-run="{run_id}"]')  # this card, whatever runs after it
    if wait:
        wait_card_state(card, wait)
    return card


def wait_progress(card: Any, at_least: int) -> int:
    """Wait until the card's progress bar shows at least ``at_least`` %; returns what it shows."""
    handle = card.element_handle(timeout=TIMEOUT_MS)
    card.page.wait_for_function(
        "([el, n]) => Number(el.querySelector('.bl-run-progress')?.getAttribute('aria-valuenow')) >= n",
        arg=[handle, at_least], timeout=TIMEOUT_MS)
    return int(card.locator(".bl-run-progress").get_attribute("aria-valuenow"))


def return_text(card: Any) -> str:
    return card.locator(".bl-run-return").inner_text()


def widen_for_screenshots(page: Any, extra: int = 170) -> None:
    """A taller window and a wider left side panel (drag its split handle), so screenshots show more."""
    page.set_viewport_size({"width": 1400, "height": 1200})
    handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle").first
    box = handle.bounding_box()
    if box:
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + extra, y, steps=5)
        page.mouse.up()
    page.wait_for_timeout(200)


def screenshot(page: Any, name: str, locator: Any | None = None) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    (locator or page).screenshot(path=str(ARTIFACTS / name))
