"""End to end: the Actions sidebar and context switcher in a real JupyterLab, driven by headless Chromium.

The kernels load plugins/jobs, plugins/varstore, the data context and ``actions_ui_plugin``
(test actions with schema bounds, HTML-looking text). Nothing is faked: forms are filled and
submitted by clicking, and what the kernel did is checked by running other actions from the UI.
Screenshots go to ``test-artifacts/actions-*.png`` (light) and ``actions-dark-*.png``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sidebar
from actionsui import (
    SIDEBAR,
    STANDARD_TYPES,
    TIMEOUT_MS,
    action_item,
    actions_lab,
    cards,
    field,
    field_errors,
    open_form,
    open_notebook,
    return_text,
    run_cell,
    run_from_form,
    screenshot,
    submit,
    wait_card_state,
    wait_progress,
    widen_for_screenshots,
)
from labserver import notebook


def fail_with_context(page: Any, lab: Any, name: str) -> None:
    screenshot(page, f"{name}-failure.png")
    console = "\n".join(m for m in page.console_messages_seen[-40:] if "variableinspector" not in m)
    pytest.fail(f"browser test failed; console:\n{console}\nlab log:\n{lab.log.read_text()[-3000:]}")


def returned_json(page: Any, name: str, values: dict[str, str] | None = None) -> Any:
    """Run ``name`` from its form and parse its return value (copied from the card's JSON)."""
    card = run_from_form(page, name, values)
    return json.loads(card.get_attribute("data-return") or "null")


def accept_interrupt_dialog(page: Any) -> bool:
    """A kernel without cancel_action asks before interrupting: accept. False if no dialog came."""
    dialog = page.locator(".jp-Dialog", has_text="Interrupt the kernel?")
    try:
        dialog.wait_for(timeout=3000)
    except Exception:
        return False
    dialog.locator(".jp-mod-accept").click()
    return True


def test_actions_sidebar(tmp_path: Path, browser_page: Any) -> None:
    page = browser_page
    with actions_lab(tmp_path) as lab:
        try:
            open_notebook(page, lab, ["numbers = [3, 1, 2]\ntotal = sum(numbers)"])
            page.evaluate("() => { window.__beakerlike_xss = undefined; }")

            # Listed by plugin with their docs; the framework's own actions are not listed.
            jobs = page.locator(f'{SIDEBAR} .bl-actions-group[data-group="beakerlike_jobs"]')
            assert "Run a job of" in jobs.locator('.bl-action[data-action="run_job"] .bl-action-docs').inner_text()
            assert action_item(page, "save_var").count() == 1
            assert action_item(page, "context_info").count() == 0
            page.locator(f"{SIDEBAR} .bl-actions-filter").fill("stored")
            names = page.eval_on_selector_all(f"{SIDEBAR} .bl-action", "els => els.map(e => e.dataset.action)")
            assert set(names) == {"list_vars", "load_var"}, names  # matched in their docs
            page.locator(f"{SIDEBAR} .bl-actions-filter").fill("")

            # run_job from its form (prefilled from default_payload): progress to 100 %, then the return value.
            form = open_form(page, "run_job")
            assert field(page, "bl-action-run_job", "steps").input_value() == "10"
            field(page, "bl-action-run_job", "steps").fill("5")
            field(page, "bl-action-run_job", "delay").fill("0.3")
            submit(form)
            card = cards(page, "run_job").first  # the only one so far
            assert wait_progress(card, 1) < 100  # painted while running...
            card.locator(".bl-run-progress-text", has_text="100%").wait_for(timeout=TIMEOUT_MS)  # ...to the end
            wait_card_state(card, "ok")
            assert card.locator(".bl-run-progress").get_attribute("aria-valuenow") == "100"
            result = json.loads(card.get_attribute("data-return"))
            assert result["job_state"] == "done" and result["steps_done"] == 5
            assert "steps_done" in return_text(card)  # the JSON tree

            # A value the schema forbids (count >= 1): highlighted in the form, never sent.
            form = open_form(page, "checked_count")
            n_cards = cards(page).count()
            field(page, "bl-action-checked_count", "count").fill("0")
            submit(form)
            page.wait_for_function(
                "(id) => { const g = document.getElementById(id)?.closest('.form-group');"
                " return g && g.querySelector('.validationErrors')?.textContent; }",
                arg="bl-action-checked_count_count", timeout=TIMEOUT_MS)
            assert ">= 1" in field_errors(page, "bl-action-checked_count", "count")
            assert cards(page).count() == n_cards
            # A wrong type typed as JSON: sent, refused by the kernel, the field highlighted from errors[].loc.
            form.locator(".bl-form-mode").click()
            form.locator(".bl-form-json-text").fill('{"count": "many", "label": "x"}')
            submit(form)
            card = cards(page, "checked_count").first
            wait_card_state(card, "error")
            assert "ValidationError" in card.locator(".bl-run-error").inner_text()
            assert "count" in card.locator(".bl-run-field-errors").inner_text()
            page.wait_for_function(
                "(id) => { const g = document.getElementById(id)?.closest('.form-group');"
                " return g && g.querySelector('.validationErrors')?.textContent; }",
                arg="bl-action-checked_count_count", timeout=TIMEOUT_MS)
            assert "integer" in field_errors(page, "bl-action-checked_count", "count")
            assert returned_json(page, "test_calls") == {"checked_count": 0}  # the handler never ran
            good = run_from_form(page, "checked_count", {"count": "3"})
            assert json.loads(good.get_attribute("data-return")) == {"count": 3, "label": "items"}

            # A raising action: ename, evalue and the traceback, as a cell error shows it.
            card = run_from_form(page, "run_job", {"steps": "0"}, wait="error")
            assert "ValueError" in card.locator(".bl-run-error").inner_text()
            traceback = card.locator(".jp-OutputArea-output").inner_text()
            assert "Traceback" in traceback and "steps must be >= 1" in traceback

            # Two at once, each in its own card; cancel one: shown cancelled, the other finishes.
            slow = run_from_form(page, "run_job", {"steps": "200", "delay": "0.1", "job": "slow"}, wait="running")
            quick = run_from_form(page, "run_job", {"steps": "4", "delay": "0.1", "job": "quick"}, wait="running")
            page.locator(".bl-status-item", has_text="2 running").wait_for(timeout=TIMEOUT_MS)
            wait_card_state(quick, "ok")
            slow.locator(".bl-run-progress-text").wait_for(timeout=TIMEOUT_MS)
            assert slow.get_attribute("data-state") == "running"
            slow.locator(".bl-run-cancel").click()
            accept_interrupt_dialog(page)  # only a kernel without cancel_action asks
            wait_card_state(slow, "cancelled")
            assert "Cancelled" in slow.locator(".bl-run-cancelled").inner_text()
            assert returned_json(page, "list_jobs") == []
            page.locator(".bl-status-item", has_text="running").wait_for(state="detached", timeout=TIMEOUT_MS)

            # save_var then list_vars from their forms; the variable name field suggests the notebook's variables.
            if not page.locator("#beakerlike-variables").is_visible():  # it opens by itself the first time
                page.locator('.jp-SideBar .lm-TabBar-tab[data-id="beakerlike-variables"]').click()
            run_cell(page, 0)
            form = open_form(page, "save_var")
            page.wait_for_function(  # the Variables sidebar's model feeds the suggestions
                "() => [...document.querySelectorAll('#bl-action-save_var_name__variables option')]"
                ".some(e => e.value === 'numbers')", timeout=TIMEOUT_MS)
            options = page.eval_on_selector_all("#bl-action-save_var_name__variables option",
                                                "els => els.map(e => e.value)")
            assert {"numbers", "total"} <= set(options), options
            field(page, "bl-action-save_var", "name").fill("numbers")
            submit(form)
            wait_card_state(cards(page, "save_var").first, "ok")
            stored = returned_json(page, "list_vars")
            assert [v["name"] for v in stored] == ["numbers"]

            # HTML-looking text in a response, printed output, a display and the return: text, never markup.
            card = run_from_form(page, "html_text")
            assert '<img src=x onerror=' in card.locator(".bl-run-line").inner_text()
            assert '<img src=x onerror=' in card.locator(".jp-OutputArea-output pre").first.inner_text()
            assert '<img src=x onerror=' in return_text(card)
            page.wait_for_timeout(300)  # time for a (wrongly) live onerror to fire
            assert page.evaluate("() => window.__beakerlike_xss") is None

            # Screenshots: a job half way, the finished cards below it.
            widen_for_screenshots(page)
            card = run_from_form(page, "run_job", {"steps": "40", "delay": "0.1", "job": "shown"}, wait="running")
            wait_progress(card, 30)
            screenshot(page, "actions-sidebar.png", page.locator(SIDEBAR))
            screenshot(page, "actions-lab.png")
            wait_card_state(card, "ok")

            # The command palette entry opens the form of the picked action.
            page.locator(f'{SIDEBAR} .bl-action-form-close').click()
            page.keyboard.press("Control+Shift+C")
            page.locator(".lm-CommandPalette-input").fill("Run action")
            page.locator(".lm-CommandPalette-item", has_text="beakerlike: Run action").first.click()
            dialog = page.locator(".jp-Dialog")
            dialog.locator("select").select_option("list_jobs")
            dialog.locator(".jp-mod-accept").click()
            page.locator(f'{SIDEBAR} .bl-action-form[data-action="list_jobs"]').wait_for(timeout=TIMEOUT_MS)

            # Clear finished: every card was finished.
            assert "0 running" in page.locator(f"{SIDEBAR} .bl-runs-count").inner_text()
            page.locator(f"{SIDEBAR} .bl-runs-clear").click()
            cards(page).first.wait_for(state="detached", timeout=TIMEOUT_MS)
        except Exception:
            fail_with_context(page, lab, "actions")


FRAME_CELL = "import pandas as pd\ndf = pd.DataFrame({'a': range(10), 'b': list('abcdefghij')})"


def test_context_switch(tmp_path: Path, browser_page: Any) -> None:
    page = browser_page
    with actions_lab(tmp_path, dark=True, broken_plugin=True) as lab:
        try:
            open_notebook(page, lab, [FRAME_CELL])
            widen_for_screenshots(page)
            run_cell(page, 0)
            # A plugin that failed to load: listed, collapsed, with its error.
            errors = page.locator(f"{SIDEBAR} .bl-plugin-errors")
            assert "1 plugin failed to load" in errors.locator("summary").inner_text()
            assert not errors.locator(".bl-plugin-error-title").is_visible()
            errors.locator("summary").click()
            title = errors.locator(".bl-plugin-error-title").inner_text()
            assert "No module named 'beakerlike_no_such_plugin'" in title
            errors.locator("summary").click()

            name = page.locator(f"{SIDEBAR} .bl-context-name")
            assert name.inner_text() == "default"
            assert action_item(page, "describe_dataframe").count() == 0
            page.locator(".bl-status-item", has_text="beakerlike: default").wait_for(timeout=TIMEOUT_MS)

            # The switcher lists the contexts with their docs; choosing one opens its setup form (default_info).
            page.locator(f"{SIDEBAR} .bl-context-switch").click()
            item = page.locator(f'{SIDEBAR} .bl-context-item[data-context="data"]')
            assert "pandas" in item.locator(".bl-context-item-docs").inner_text()
            item.click()
            form = page.locator(f'{SIDEBAR} .bl-context-form[data-context="data"]')
            form.wait_for(timeout=TIMEOUT_MS)
            rows = field(page, "bl-context-data", "sample_rows")
            assert rows.input_value() == "100000"

            # A value below the schema's minimum: highlighted, nothing sent, the old context stays.
            rows.fill("5")
            submit(form)
            page.wait_for_function(
                "(id) => document.getElementById(id)?.closest('.form-group')?.querySelector('.validationErrors')"
                "?.textContent", arg="bl-context-data_sample_rows", timeout=TIMEOUT_MS)
            assert ">= 100" in field_errors(page, "bl-context-data", "sample_rows")
            # The same typed as JSON reaches the kernel: InvalidContextInfo, the field highlighted, still default.
            form.locator(".bl-form-mode").click()
            form.locator(".bl-form-json-text").fill('{"sample_rows": 5, "max_page_rows": 10}')
            submit(form)
            form.locator(".bl-form-message", has_text="InvalidContextInfo").wait_for(timeout=TIMEOUT_MS)
            assert "stays in “default”" in form.locator(".bl-form-message").first.inner_text()
            assert "greater than or equal to 100" in field_errors(page, "bl-context-data", "sample_rows")
            assert name.inner_text() == "default"
            assert action_item(page, "describe_dataframe").count() == 0
            screenshot(page, "actions-dark-context-error.png", page.locator(SIDEBAR))

            # A good value: the data context is active, its actions appear, describe_dataframe runs.
            rows.fill("1000")
            submit(form)
            page.locator(f"{SIDEBAR} .bl-context-name", has_text="data").wait_for(timeout=TIMEOUT_MS)
            page.locator(".bl-status-item", has_text="beakerlike: data").wait_for(timeout=TIMEOUT_MS)
            group = page.locator(f'{SIDEBAR} .bl-actions-group[data-group="context: data"]')
            group.locator('.bl-action[data-action="describe_dataframe"]').wait_for(timeout=TIMEOUT_MS)
            card = run_from_form(page, "describe_dataframe", {"name": "df"})
            result = json.loads(card.get_attribute("data-return"))
            assert result["rows"] == 10 and result["sample_rows"] == 10
            assert "mean" in result["stats"]
            screenshot(page, "actions-dark-sidebar.png", page.locator(SIDEBAR))
            screenshot(page, "actions-dark-lab.png")

            # A kernel restart: the list is asked for again (the new process starts in the default context).
            page.locator(".lm-MenuBar-itemLabel", has_text="Kernel").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Restart Kernel…").first.click()
            page.locator(".jp-Dialog .jp-mod-accept").click()
            page.locator(f"{SIDEBAR} .bl-context-name", has_text="default").wait_for(timeout=TIMEOUT_MS)
            action_item(page, "describe_dataframe").wait_for(state="detached", timeout=TIMEOUT_MS)
            assert action_item(page, "run_job").count() == 1
        except Exception:
            fail_with_context(page, lab, "actions-dark")


def test_cancel_without_cancel_action_asks_before_interrupting(tmp_path: Path, browser_page: Any) -> None:
    # A server that drops cancel_action_request (allowed_message_types): Cancel gets no answer, so it
    # can only interrupt the kernel, which stops every action and the running cell: it asks first.
    page = browser_page
    allowed = [*STANDARD_TYPES, "context_info_request", "run_job_request", "list_jobs_request"]
    with actions_lab(tmp_path, allowed_types=allowed) as lab:
        try:
            open_notebook(page, lab, ["x = 1"])
            card = run_from_form(page, "run_job", {"steps": "600", "delay": "0.1", "job": "long"}, wait="running")
            wait_progress(card, 1)
            dialog = page.locator(".jp-Dialog", has_text="Interrupt the kernel?")

            card.locator(".bl-run-cancel").click()
            dialog.wait_for(timeout=TIMEOUT_MS)
            dialog.locator(".jp-mod-reject").click()  # no: the job goes on
            card.locator(".bl-run-note", has_text="not cancelled").wait_for(timeout=TIMEOUT_MS)
            before = wait_progress(card, 1)
            wait_progress(card, before + 1)
            assert card.get_attribute("data-state") == "running"

            card.locator(".bl-run-cancel").click()
            dialog.wait_for(timeout=TIMEOUT_MS)
            dialog.locator(".jp-mod-accept").click()
            wait_card_state(card, "cancelled")
            assert "interrupted" in card.locator(".bl-run-cancelled").inner_text()
            assert returned_json(page, "list_jobs") == []
        except Exception:
            fail_with_context(page, lab, "actions-interrupt")


def test_actions_panel_in_notebook7(tmp_path: Path, browser_page: Any) -> None:
    # Jupyter Notebook 7 (not JupyterLab): its left side panel, opened as a user would
    # (View → Left Sidebar → Show Actions), lists the actions and runs one from its form.
    page = browser_page
    with actions_lab(tmp_path, app="notebook") as lab:
        try:
            (lab.root / "nb7.ipynb").write_text(json.dumps(notebook(["numbers = [3, 1, 2]"])))
            page.goto(lab.notebook_url("nb7.ipynb"), timeout=TIMEOUT_MS)
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=TIMEOUT_MS)
            sidebar.wait_kernel_idle(page)  # Lab's or Notebook 7's indicator
            assert not page.locator(SIDEBAR).is_visible()  # Notebook 7's left panel starts closed
            page.locator(".lm-MenuBar-itemLabel", has_text="View").click()
            page.locator(".lm-Menu-item", has_text="Left Sidebar").hover()
            page.locator(".lm-Menu-item", has_text="Show Actions (beakerlike)").click()
            page.locator(SIDEBAR).wait_for(state="visible", timeout=TIMEOUT_MS)

            # Listed with their docs, grouped by plugin.
            jobs = page.locator(f'{SIDEBAR} .bl-actions-group[data-group="beakerlike_jobs"]')
            jobs.locator('.bl-action[data-action="run_job"]').wait_for(timeout=TIMEOUT_MS)
            assert "Run a job of" in jobs.locator('.bl-action[data-action="run_job"] .bl-action-docs').inner_text()
            assert action_item(page, "save_var").count() == 1

            # run_job from its form: progress to 100 %, then the return value.
            card = run_from_form(page, "run_job", {"steps": "3", "delay": "0.05", "job": "nb7"})
            assert card.locator(".bl-run-progress").get_attribute("aria-valuenow") == "100"
            result = json.loads(card.get_attribute("data-return"))
            assert result["job_state"] == "done" and result["steps_done"] == 3, result
            assert "steps_done" in return_text(card)
            # The form suggests the notebook's variables there too (the Variables sidebar's subscription).
            sidebar.run_cell(page, 0)  # Lab's or Notebook 7's cells
            open_form(page, "save_var")
            page.wait_for_function(
                "() => [...document.querySelectorAll('#bl-action-save_var_name__variables option')]"
                ".some(e => e.value === 'numbers')", timeout=TIMEOUT_MS)
            screenshot(page, "actions-notebook7.png")
        except Exception:
            fail_with_context(page, lab, "actions-notebook7")
