"""PreviewPanel kernel side, in a real beakerlike kernel: state, updates after cells, paging, stopping."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from beakerlike.client import Exchange, KernelClient
from beakerlike.testing import running_kernel

pytestmark = pytest.mark.anyio

pytest.importorskip("anywidget", reason="the panel needs the `panel` extra (anywidget)")  # noqa: B018
pytest.importorskip("pandas")


async def run(kernel: KernelClient, code: str) -> Exchange:
    ex = await kernel.execute(code)
    assert ex.content["status"] == "ok", ex.content
    return ex


async def value(kernel: KernelClient, expr: str) -> str:
    ex = await run(kernel, expr)
    results = ex.of_type("execute_result")
    assert results, ex.iopub
    return results[0]["content"]["data"]["text/plain"]


def customs(ex: Exchange, comm_id: str) -> list[dict[str, Any]]:
    """The custom widget messages the kernel sent to the panel's frontend during ``ex``."""
    return [
        m["content"]["data"]["content"]
        for m in ex.of_type("comm_msg")
        if m["content"]["comm_id"] == comm_id and m["content"]["data"].get("method") == "custom"
    ]


def deltas(ex: Exchange, comm_id: str) -> list[dict[str, Any]]:
    return [c for c in customs(ex, comm_id) if c["type"] == "delta"]


async def comm_send(kernel: KernelClient, comm_id: str, content: dict[str, Any]) -> list[dict[str, Any]]:
    """Send a custom widget message; return the custom messages the kernel sent back while handling it."""
    ex = kernel.send("comm_msg", {"comm_id": comm_id, "data": {"method": "custom", "content": content}})
    try:
        with anyio.fail_after(30):
            while True:
                msg = await ex.queue.get()
                if msg["header"]["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                    break
    finally:
        kernel._pending.pop(ex.request["header"]["msg_id"], None)
    return customs(ex, comm_id)


async def open_panel(kernel: KernelClient) -> tuple[str, dict[str, Any]]:
    ex = await run(kernel, "import beakerlike\npanel = beakerlike.PreviewPanel(page_size=5)\npanel")
    opens = [
        m for m in ex.of_type("comm_open")
        if m["content"]["data"]["state"].get("_anywidget_id") == "beakerlike.panel.PreviewPanel"
    ]
    assert len(opens) == 1, ex.iopub
    shown = ex.of_type("execute_result")
    assert shown and "application/vnd.jupyter.widget-view+json" in shown[0]["content"]["data"]
    comm_id = opens[0]["content"]["comm_id"]
    first = deltas(ex, comm_id)
    # The snapshot taken when it started watching, then (maybe) the changes of this very cell.
    assert first and first[0]["full"] is True and all(d["full"] is False for d in first[1:])
    return comm_id, opens[0]["content"]["data"]["state"]


async def test_panel_state_follows_cells() -> None:
    async with running_kernel() as kernel:
        await run(kernel, "a = 1\nb = 'hello'")
        comm_id, state = await open_panel(kernel)
        assert "items" not in state  # items travel as custom messages, not as widget state
        assert await value(kernel, "panel.watching") == "True"
        assert "render" in state["_esm"] and ".bl-panel" in state["_css"]

        # A view appears: it gets the whole state once.
        got = await comm_send(kernel, comm_id, {"type": "view", "state": "open", "id": "v1"})
        assert [c["type"] for c in got] == ["state"]
        assert {"a", "b"} <= set(got[0]["items"]) and got[0]["items"]["a"]["summary"] == "1"
        seq = got[0]["seq"]

        ex = await run(kernel, "a = 2\nc = [1, 2, 3]\nevil = '<img src=x onerror=\"window.__xss = 1\">'")
        [delta] = deltas(ex, comm_id)
        assert delta["seq"] == seq + 1 and delta["full"] is False and delta["removed"] == []
        assert set(delta["items"]) == {"a", "c", "evil"}  # only what the cell changed
        assert delta["items"]["a"]["summary"] == "2"
        assert delta["items"]["c"]["kind"] == "container" and delta["items"]["c"]["length"] == 3
        assert "<img src=x" in delta["items"]["evil"]["summary"]  # plain text: the frontend uses textContent

        ex = await run(kernel, "del b")
        [delta] = deltas(ex, comm_id)
        assert delta["removed"] == ["b"] and delta["items"] == {} and delta["seq"] == seq + 2
        assert await value(kernel, "sorted(n for n in panel.items if n in 'abc')") == "['a', 'c']"

        # A frontend that missed something asks for the whole state again.
        [state_msg] = await comm_send(kernel, comm_id, {"type": "sync"})
        assert state_msg["type"] == "state" and "b" not in state_msg["items"] and state_msg["seq"] == seq + 2


async def test_panel_says_what_it_could_not_preview() -> None:
    async with running_kernel() as kernel:
        comm_id, _ = await open_panel(kernel)
        ex = await run(kernel, "class Stubborn:\n    def __repr__(self):\n        raise ValueError('no')\n"
                               "stubborn = Stubborn()")
        item = deltas(ex, comm_id)[-1]["items"]["stubborn"]
        assert item["status"] == "error" and "ValueError" in item["error"]


async def test_panel_pages_dataframe_rows() -> None:
    async with running_kernel() as kernel:
        comm_id, _ = await open_panel(kernel)
        code = "import pandas as pd\ndf = pd.DataFrame({'n': range(23), 'sq': [i * i for i in range(23)]})"
        ex = await run(kernel, code)
        item = deltas(ex, comm_id)[-1]["items"]["df"]
        assert item["kind"] == "table" and item["shape"] == [23, 2] and item["pageable"] is True

        first = await comm_send(kernel, comm_id, {"type": "page", "request_id": 1, "path": ["df"], "offset": 0,
                                                  "limit": 5})
        assert len(first) == 1 and first[0]["request_id"] == 1, first
        page = first[0]["page"]
        assert page["total"] == 23 and page["columns"] == ["n", "sq"] and len(page["rows"]) == 5

        second = (await comm_send(kernel, comm_id, {"type": "page", "request_id": 2, "path": ["df"], "offset": 20,
                                                    "limit": 5}))[0]["page"]
        assert [str(r[0]) for r in second["rows"]] == ["20", "21", "22"]

        missing = (await comm_send(kernel, comm_id, {"type": "page", "request_id": 3, "path": ["nope"]}))[0]
        assert "error" in missing and "nope" in missing["error"]
        bad = (await comm_send(kernel, comm_id, {"type": "page", "request_id": 4, "path": "df", "limit": -1}))[0]
        assert bad["error"].startswith("ValueError") and "path" in bad["error"]
        assert await value(kernel, "1 + 1") == "2"  # the kernel is fine


async def test_panel_stops_when_closed() -> None:
    async with running_kernel() as kernel:
        comm_id, _ = await open_panel(kernel)
        await run(kernel, "panel.close()")
        ex = await run(kernel, "x = 1")
        assert deltas(ex, comm_id) == []
        assert await value(kernel, "panel.watching") == "False"


async def test_panel_stops_when_frontend_closes_comm() -> None:
    async with running_kernel() as kernel:
        comm_id, _ = await open_panel(kernel)
        ex = kernel.send("comm_close", {"comm_id": comm_id, "data": {}})
        with anyio.fail_after(30):
            while not any(m["header"]["msg_type"] == "status" and m["content"]["execution_state"] == "idle"
                          for m in ex.iopub):
                await ex.queue.get()
        ex = await run(kernel, "y = 2")
        assert deltas(ex, comm_id) == []
        assert await value(kernel, "panel.watching") == "False"


async def test_panel_pauses_without_views_and_resumes() -> None:
    async with running_kernel() as kernel:
        comm_id, _ = await open_panel(kernel)
        await comm_send(kernel, comm_id, {"type": "view", "state": "open", "id": "v1"})
        await comm_send(kernel, comm_id, {"type": "view", "state": "closed", "id": "v1"})
        assert await value(kernel, "panel.watching") == "False"
        assert await value(kernel, "panel.key in get_ipython().kernel.preview.watchers") == "False"
        ex = await run(kernel, "z = 3")
        assert deltas(ex, comm_id) == []  # no preview work while nobody looks

        # The output shows up again: a fresh full snapshot, including what changed meanwhile.
        [full] = await comm_send(kernel, comm_id, {"type": "view", "state": "open", "id": "v2"})
        assert full["type"] == "delta" and full["full"] is True and full["items"]["z"]["summary"] == "3"
        ex = await run(kernel, "z = 4")
        assert deltas(ex, comm_id)[-1]["items"]["z"]["summary"] == "4"


def test_panel_needs_beakerlike_kernel() -> None:
    from beakerlike.panel import PanelError, PreviewPanel

    with pytest.raises(PanelError, match="beakerlike kernel"):
        PreviewPanel()


async def run_in_cell(kernel: KernelClient, code: str, cell_id: str) -> Exchange:
    """Run ``code`` as JupyterLab runs a notebook cell (``metadata.cellId``)."""
    ex = await kernel.request("execute_request", {"code": code, "silent": False, "store_history": True,
                                                  "user_expressions": {}, "allow_stdin": False,
                                                  "stop_on_error": False}, metadata={"cellId": cell_id})
    assert ex.content["status"] == "ok", ex.content
    return ex


async def test_rerunning_the_cell_replaces_its_panel() -> None:
    async with running_kernel() as kernel:
        code = "import beakerlike\np = beakerlike.PreviewPanel()\nkeep = p\np"
        await run_in_cell(kernel, code, "cell-1")
        await run(kernel, "first = p")
        await run_in_cell(kernel, code, "cell-1")  # the same cell again: its old output (panel) is gone
        assert await value(kernel, "(first.watching, p.watching, first is p)") == "(False, True, False)"
        panels = "sorted(k for k in get_ipython().kernel.preview.watchers if k.startswith('beakerlike.panel'))"
        assert await value(kernel, f"len({panels}) == 1 and {panels}[0] == p.key") == "True"
        # A panel made by another cell is left alone.
        await run_in_cell(kernel, "other = beakerlike.PreviewPanel()", "cell-2")
        assert await value(kernel, "(p.watching, other.watching)") == "(True, True)"


async def test_panel_does_not_list_itself_and_pages_strings_by_large_chunks() -> None:
    async with running_kernel() as kernel:
        await run(kernel, "long = 'x' * 11400\nmulti = '\\n'.join(f'line {i}' for i in range(50))")
        comm_id, _ = await open_panel(kernel)
        [state] = await comm_send(kernel, comm_id, {"type": "view", "state": "open", "id": "v1"})
        assert "panel" not in state["items"] and {"long", "multi"} <= set(state["items"])
        ex = await run(kernel, "panel2 = panel\nz = 1")
        [delta] = deltas(ex, comm_id)
        assert "panel2" not in delta["items"] and "z" in delta["items"]

        # A string page may be large (text=True): never 10 characters at a time.
        [reply] = await comm_send(kernel, comm_id, {"type": "page", "request_id": 1, "path": ["long"], "offset": 0,
                                                    "limit": 100_000, "text": True})
        page = reply["page"]
        text = "".join(r[0] for r in page["rows"])
        assert page["total"] >= 1 and ("x" * 11400 == text or page.get("unit") == "lines"), page
        [reply] = await comm_send(kernel, comm_id, {"type": "page", "request_id": 2, "path": ["multi"], "offset": 0,
                                                    "limit": 100_000, "text": True})
        joined = "".join(r[0] for r in reply["page"]["rows"]) if reply["page"].get("unit") != "lines" else \
            "\n".join(r[0] for r in reply["page"]["rows"])
        assert joined.startswith("line 0\nline 1\n") and joined.endswith("line 49")
        # Rows of other values stay bounded by MAX_PAGE_LIMIT.
        [bad] = await comm_send(kernel, comm_id, {"type": "page", "request_id": 3, "path": ["long"], "limit": 1000})
        assert bad["error"] == "ValueError: limit must be between 1 and 500"
