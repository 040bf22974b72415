"""End to end: the Variables sidebar of the prebuilt extension in real JupyterLab and Notebook 7.

The servers load the extension from ``share/jupyter/labextensions`` of the venv, i.e. what
the wheel ships (``python3 dev.py test`` builds the wheel and installs its extension).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from labserver import Lab, notebook, start_lab
from sidebar import (
    SIDEBAR,
    TIMEOUT_MS,
    cell,
    row,
    row_names,
    run_cell,
    screenshot,
    sidebar,
    wait_kernel_idle,
    watchers,
)

HOSTILE_NAME = "<img src=x onerror=window.__bl_xss=1>"
CELLS = [
    # 0: values of every kind
    "import pandas as pd\n"
    "df = pd.DataFrame({'n': range(12), 'label': [f'row {i}' for i in range(12)]})\n"
    "d = {'alpha': 1, 'beta': [1, 2, 3], 'gamma': {'x': 'deep'}}\n"
    "text = '\\n'.join(f'line {i}' for i in range(1, 31))\n"
    "x = 42",
    # 1: hostile string and name
    f"evil = '<img src=x onerror=\"window.__bl_xss = 1\">'\nglobals()[{HOSTILE_NAME!r}] = 'boo'",
    # 2: what the kernel knows
    "import beakerlike.panel as _p\n"
    "_e = _p.current_engine()\n"
    "print('WATCHERS', sorted(_e.watchers), 'x' in globals())",
    # 3: after a restart
    "y = 'back'",
    # 4: the memory sizes the kernel itself reports
    "import json as _json, sys as _sys\n"
    "print(_json.dumps({'df': int(df.memory_usage(index=True, deep=False).sum()), 'text': _sys.getsizeof(text)}))",
]


def _widen_right_panel(page: Any, extra: int) -> None:
    """Drag the split handle left of the right side panel by ``extra`` pixels."""
    handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle:not(.lm-mod-hidden)").last
    box = handle.bounding_box()
    assert box, "no split handle of the right panel"
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - extra, y, steps=5)
    page.mouse.up()


def _bytes_text(n: int) -> str:
    """What the sidebar's Memory column shows for ``n`` bytes (format.ts bytesText)."""
    units, v, i = ["B", "KB", "MB", "GB", "TB"], float(n), 0
    while v >= 1024 and i < len(units) - 1:
        v, i = v / 1024, i + 1
    return f"{n} B" if i == 0 else f"{v:.1f} {units[i]}"


def _open(page: Any, lab: Lab, name: str) -> None:
    page.goto(lab.notebook_url(name), timeout=TIMEOUT_MS)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=TIMEOUT_MS)
    wait_kernel_idle(page)


def _fail(page: Any, lab: Lab, name: str) -> None:
    screenshot(page, f"{name}-failure.png")
    console = "\n".join(page.console_messages_seen[-40:])
    pytest.fail(f"browser test failed; console:\n{console}\nserver log:\n{lab.log.read_text()[-3000:]}")


def test_sidebar_in_jupyterlab(tmp_path: Path, browser_page: Any) -> None:
    page = browser_page
    with start_lab(tmp_path) as lab:
        (lab.root / "vars.ipynb").write_text(json.dumps(notebook(CELLS)))
        try:
            _open(page, lab, "vars.ipynb")
            page.evaluate("() => { window.__bl_xss = undefined; }")
            # Opens by itself for a beakerlike notebook, no code run.
            side = sidebar(page)
            side.wait_for(state="visible", timeout=TIMEOUT_MS)
            side.locator(".bl-variables-message", has_text="No variables yet").wait_for(timeout=TIMEOUT_MS)

            run_cell(page, 0)
            row(page, "df").wait_for(timeout=TIMEOUT_MS)
            assert row(page, "df").locator(".bl-col-type").inner_text() == "DataFrame"
            assert row(page, "df").locator(".bl-col-size").inner_text() == "12 × 2"
            assert set(row_names(page)) >= {"df", "d", "text", "x"}
            assert "pd" not in row_names(page)  # modules hidden

            # Memory where it is cheap to know, as the kernel counts it; blank for a dict or an int.
            # The default (narrow) sidebar keeps it in the Size cell's tooltip; a wider one shows the column.
            sizes = json.loads(run_cell(page, 4).strip().splitlines()[-1])
            memory_head = side.locator(".bl-variables-head .bl-col-memory")
            assert not memory_head.is_visible()
            assert f"(memory {_bytes_text(sizes['df'])})" in row(page, "df").locator(".bl-col-size").get_attribute(
                "title")
            _widen_right_panel(page, 160)
            memory_head.wait_for(state="visible", timeout=TIMEOUT_MS)
            screenshot(page, "sidebar-memory.png", side)
            for name in ("df", "text"):
                memory = row(page, name).locator(".bl-col-memory")
                assert memory.inner_text() == _bytes_text(sizes[name]), (name, sizes)
                assert memory.get_attribute("title") == f"{sizes[name]:,} bytes"
            assert row(page, "d").locator(".bl-col-memory").inner_text() == ""
            assert row(page, "x").locator(".bl-col-memory").inner_text() == ""
            side.locator(".bl-variables-head .bl-col-memory").click()
            side.locator(".bl-variables-head .bl-col-memory").click()  # descending: largest first, unknown last
            assert row_names(page)[:2] == sorted(sizes, key=sizes.__getitem__, reverse=True)
            assert set(row_names(page)[2:]) == {"d", "x"}

            # Filter by name: the count shows filtered / total.
            side.locator(".bl-variables-filter").fill("t")
            page.wait_for_function(f"() => document.querySelector('{SIDEBAR} .bl-variables-count').textContent"
                                   " === '1 / 4'")
            assert row_names(page) == ["text"]
            side.locator(".bl-variables-filter").fill("")

            # Sort by size, descending.
            side.locator(".bl-variables-head .bl-col-size").click()
            side.locator(".bl-variables-head .bl-col-size").click()
            assert row_names(page)[0] == "text"

            # Expand a dict with the keyboard: children appear, nested ones expand too.
            row(page, "d").click()
            page.keyboard.press("Enter")
            children = side.locator(".bl-variables-row[data-depth='1'] .bl-variables-name")
            children.first.wait_for(timeout=TIMEOUT_MS)
            assert children.all_inner_texts()[:3] == ["alpha", "beta", "gamma"]
            page.keyboard.press("Enter")  # collapse
            children.first.wait_for(state="detached", timeout=TIMEOUT_MS)

            # A string opens as text, line by line.
            row(page, "text").locator(".bl-variables-toggle").click()
            lines = side.locator(".bl-line-text")
            lines.first.wait_for(timeout=TIMEOUT_MS)
            assert lines.all_inner_texts()[:3] == ["line 1", "line 2", "line 3"]
            assert lines.count() == 30
            row(page, "text").locator(".bl-variables-toggle").click()

            # Hostile string and name are text; nothing runs.
            run_cell(page, 1)
            row(page, HOSTILE_NAME).wait_for(timeout=TIMEOUT_MS)
            assert "<img" in row(page, "evil").locator(".bl-col-summary").inner_text()
            assert side.locator("img").count() == 0
            page.wait_for_timeout(300)
            assert page.evaluate("() => window.__bl_xss") is None

            keys = watchers(page, 2)
            assert len([k for k in keys if k.startswith("beakerlike-sidebar")]) == 1, keys

            screenshot(page, "sidebar-lab.png")
            screenshot(page, "sidebar.png", side)

            # Kernel restart: the table empties, then refills.
            page.locator(".lm-MenuBar-itemLabel", has_text="Kernel").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Restart Kernel…").first.click()
            page.locator(".jp-Dialog .jp-mod-accept").click()
            row(page, "df").wait_for(state="detached", timeout=TIMEOUT_MS)
            wait_kernel_idle(page)
            run_cell(page, 3)
            row(page, "y").wait_for(timeout=TIMEOUT_MS)
            assert row(page, "df").count() == 0

            # Reload: one watch, not two.
            page.reload()
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=TIMEOUT_MS)
            wait_kernel_idle(page)
            row(page, "y").wait_for(timeout=TIMEOUT_MS)
            keys = watchers(page, 2)
            assert len([k for k in keys if k.startswith("beakerlike-sidebar")]) == 1, keys

            # Hidden sidebar: the kernel stops publishing previews.
            page.locator(".jp-SideBar.jp-mod-right .lm-TabBar-tab[data-id='beakerlike-variables']").click()
            side.wait_for(state="hidden", timeout=TIMEOUT_MS)
            page.wait_for_timeout(500)
            keys = watchers(page, 2)
            assert [k for k in keys if k.startswith("beakerlike-sidebar")] == [], keys
        except Exception:
            _fail(page, lab, "sidebar-lab")


def test_sidebar_in_notebook7(tmp_path: Path, browser_page: Any) -> None:
    page = browser_page
    with start_lab(tmp_path, app="notebook") as lab:
        (lab.root / "nb.ipynb").write_text(json.dumps(notebook(CELLS)))
        try:
            _open(page, lab, "nb.ipynb")
            side = sidebar(page)
            side.wait_for(state="visible", timeout=TIMEOUT_MS)
            run_cell(page, 0)
            row(page, "df").wait_for(timeout=TIMEOUT_MS)
            assert row(page, "d").locator(".bl-col-size").inner_text() == "3 items"
            screenshot(page, "sidebar-notebook7.png")
        except Exception:
            _fail(page, lab, "sidebar-notebook7")


def test_delete_from_sidebar(tmp_path: Path, browser_page: Any) -> None:
    page = browser_page
    with start_lab(tmp_path) as lab:
        (lab.root / "del.ipynb").write_text(json.dumps(notebook(CELLS)))
        try:
            _open(page, lab, "del.ipynb")
            run_cell(page, 0)
            row(page, "x").wait_for(timeout=TIMEOUT_MS)
            # Asks first; Cancel keeps it.
            row(page, "x").hover()
            row(page, "x").locator(".bl-delete").click()
            page.locator(".jp-Dialog", has_text="Delete").locator(".jp-mod-reject").click()
            assert row(page, "x").count() == 1
            row(page, "x").hover()
            row(page, "x").locator(".bl-delete").click()
            page.locator(".jp-Dialog", has_text="Delete").locator(".jp-mod-accept").click()
            row(page, "x").wait_for(state="detached", timeout=TIMEOUT_MS)
            run_cell(page, 2)
            # The kernel no longer has it ('x' in globals() is False).
            assert cell(page, 2).locator(".jp-OutputArea").inner_text().strip().endswith("False")
            assert row(page, "df").count() == 1
        except Exception:
            _fail(page, lab, "sidebar-delete")


def test_sidebar_follows_the_current_notebook(tmp_path: Path, browser_page: Any) -> None:
    page = browser_page
    with start_lab(tmp_path) as lab:
        (lab.root / "a.ipynb").write_text(json.dumps(notebook(["only_in_a = 1"])))
        (lab.root / "b.ipynb").write_text(json.dumps(notebook(["only_in_b = 2"], kernel="python3")))
        try:
            _open(page, lab, "a.ipynb")
            side = sidebar(page)
            side.wait_for(state="visible", timeout=TIMEOUT_MS)
            run_cell(page, 0)
            row(page, "only_in_a").wait_for(timeout=TIMEOUT_MS)

            # A notebook on a plain ipykernel: one line of explanation, no rows, no errors.
            page.locator(".jp-DirListing-item", has_text="b.ipynb").dblclick()
            side.locator(".bl-variables-doc", has_text="b.ipynb").wait_for(timeout=TIMEOUT_MS)
            side.locator(".bl-variables-message", has_text="does not support beakerlike").wait_for(timeout=TIMEOUT_MS)
            assert row_names(page) == []

            # Back to the first notebook: its variables again.
            page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text="a.ipynb").click()
            side.locator(".bl-variables-doc", has_text="a.ipynb").wait_for(timeout=TIMEOUT_MS)
            row(page, "only_in_a").wait_for(timeout=TIMEOUT_MS)
            assert not [m for m in page.console_messages_seen if "beakerlike" in m and m.startswith("error")]
        except Exception:
            _fail(page, lab, "sidebar-switch")
