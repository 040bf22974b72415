"""The example notebook (what `beakerlike lab` opens) in JupyterLab's dark theme: run all, action progress, panel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from labserver import ARTIFACTS, start_lab
from test_panel_browser import TIMEOUT_MS, accept_kernel_dialog, row, wait_kernel_idle

from beakerlike.cli.demo_cmds import demo_env
from beakerlike.demo import tour_notebook_json


def test_tour_notebook_in_dark_jupyterlab(tmp_path: Path, browser_page: Any) -> None:
    page = browser_page
    env = {"BEAKERLIKE_PLUGINS": demo_env()["BEAKERLIKE_PLUGINS"]}
    settings = {"apputils-extension/themes": {"theme": "JupyterLab Dark"}}
    with start_lab(tmp_path, env=env, settings=settings) as lab:
        (lab.root / "beakerlike-tour.ipynb").write_text(tour_notebook_json())
        try:
            page.goto(lab.notebook_url("beakerlike-tour.ipynb"), timeout=TIMEOUT_MS)
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=TIMEOUT_MS)
            wait_kernel_idle(page)
            assert page.evaluate("() => document.body.dataset.jpThemeLight") == "false"

            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
            accept_kernel_dialog(page)

            # The action cell's progress bar, fed by demo_train_response messages, ends with the reply.
            page.locator(".widget-label", has_text="done:").wait_for(timeout=TIMEOUT_MS)
            wait_kernel_idle(page)
            panel = page.locator(".bl-panel")
            row(page, "sales").wait_for(timeout=TIMEOUT_MS)
            assert row(page, "greeting").count() == 0  # deleted by the step-5 cell
            assert "could not preview" in row(page, "stubborn").locator(".bl-summary").inner_text()

            # Run the step-5 cell again now that the action has stored `model`.
            cell = page.locator(".jp-Notebook .jp-Cell", has_text="still training")
            cell.locator(".jp-InputPrompt").click()
            page.keyboard.press("Escape")
            page.keyboard.press("Shift+Enter")
            row(page, "model").wait_for(timeout=TIMEOUT_MS)
            assert row(page, "model").locator(".bl-size").inner_text() == "3 items"

            row(page, "sales").click()
            page.locator('.bl-detail[data-detail-for="sales"] .bl-pager-info',
                         has_text="Rows 1–6 of 6").wait_for(timeout=TIMEOUT_MS)
            ARTIFACTS.mkdir(exist_ok=True)
            panel.scroll_into_view_if_needed()
            panel.screenshot(path=str(ARTIFACTS / "panel-dark.png"))
        except Exception:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "tour-failure.png"), full_page=True)
            console = "\n".join(page.console_messages_seen[-40:])
            pytest.fail(f"tour test failed; console:\n{console}\nlab log:\n{lab.log.read_text()[-3000:]}")
