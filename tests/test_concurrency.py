"""Actions answer while a synchronous cell blocks the main thread (issue 8), against a real kernel.

Assertions are about order (a reply arrives while the cell's ``execute_reply`` has not), never time.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import anyio
import pytest

from beakerlike.client import Exchange, KernelClient
from beakerlike.testing import running_kernel

pytestmark = pytest.mark.anyio

SUPPORT = str(Path(__file__).parent / "support")

SLEEP_CELL = "import time\nprint('cell started', flush=True)\ntime.sleep(120)\n"
# A pure-Python busy loop: holds the GIL except at the interpreter's switch interval.
BUSY_CELL = ("import time\nprint('cell started', flush=True)\n_t = time.monotonic()\n"
             "while time.monotonic() - _t < 120:\n    pass\n")


@pytest.fixture(scope="module")
async def kernel():
    async with running_kernel("sample_actions", "protocol_actions", "concurrency_actions",
                              pythonpath=[SUPPORT], autoload=False) as k:
        yield k


def key() -> str:
    return uuid.uuid4().hex


def start_cell(kernel: KernelClient, code: str) -> Exchange:
    return kernel.send("execute_request", {"code": code, "silent": False, "store_history": False,
                                           "user_expressions": {}, "allow_stdin": False, "stop_on_error": False})


async def until_output(ex: Exchange, text: str, timeout: float = 30) -> None:
    with anyio.fail_after(timeout):
        while text not in "".join(m["content"].get("text", "") for m in ex.of_type("stream")):
            await ex.queue.get()


async def wait(*exchanges: Exchange, timeout: float = 30) -> None:
    with anyio.fail_after(timeout):
        for ex in exchanges:
            await ex.done.wait()


async def interrupt_cell(kernel: KernelClient, cell: Exchange) -> None:
    await kernel.interrupt()
    await wait(cell)
    assert cell.content["ename"] == "KeyboardInterrupt"


@pytest.mark.parametrize("code", [SLEEP_CELL, BUSY_CELL], ids=["sleep", "busy-loop"])
async def test_requests_answered_while_a_cell_blocks(kernel: KernelClient, code: str) -> None:
    await kernel.execute("paged = list(range(1000))")
    cell = start_cell(kernel, code)
    await until_output(cell, "cell started")
    requests = [
        ("noop_request", {}),
        ("context_info_request", {}),
        ("preview_page_request", {"path": ["paged"], "offset": 10, "limit": 5}),
        ("preview_snapshot_request", {}),
        ("where_request", {}),
    ]
    for msg_type, content in requests:
        ex = kernel.send(msg_type, content)
        await wait(ex)
        assert ex.content["status"] == "ok", (msg_type, ex.content)
        assert cell.reply is None, f"{msg_type} was answered only after the cell"
        if msg_type == "preview_page_request":
            assert ex.content["return"]["rows"] == [[i] for i in range(10, 15)]
        if msg_type == "where_request":
            assert ex.content["return"] != "MainThread"
    await interrupt_cell(kernel, cell)


async def test_main_thread_actions_wait_for_the_cell_in_arrival_order(kernel: KernelClient) -> None:
    k = key()
    await kernel.execute("cell_finished = False")
    cell = start_cell(kernel, f"import concurrency_actions\nprint('cell started', flush=True)\n"
                              f"assert concurrency_actions.GATES[{k!r}].wait(60)\ncell_finished = True\n")
    await until_output(cell, "cell started")
    first = kernel.send("main_note_request", {"key": k, "tag": "a"})
    second = kernel.send("main_sync_request", {"key": k})
    third = kernel.send("main_note_request", {"key": k, "tag": "b"})
    assert await kernel.call("noop") is None  # ordinary actions are not held up
    await anyio.sleep(0.2)
    assert first.reply is None and second.reply is None and third.reply is None
    assert await kernel.call("open_gate", key=k) is None  # the cell may end now
    await wait(cell, first, second, third)
    assert cell.content["status"] == "ok"
    assert first.content["return"] == {"thread": "MainThread", "cell_finished": True}
    assert second.content["return"] == "MainThread"  # a def handler runs on the main thread itself
    assert third.content["return"]["cell_finished"] is True
    assert await kernel.call("conc_log", key=k) == ["a", "sync", "b"]


async def test_main_thread_action_before_a_cell_runs_before_it(kernel: KernelClient) -> None:
    k = key()
    cell = start_cell(kernel, "import time\nprint('cell started', flush=True)\ntime.sleep(0.5)\n")
    await until_output(cell, "cell started")
    note = kernel.send("main_note_request", {"key": k, "tag": "loaded"})
    after = start_cell(kernel, f"print(len(__import__('concurrency_actions').LOGS[{k!r}]))")
    await wait(cell, note, after)
    assert "".join(m["content"]["text"] for m in after.of_type("stream")) == "1\n"


async def test_interrupt_aborts_queued_main_thread_and_running_actions(kernel: KernelClient) -> None:
    k = key()
    cell = start_cell(kernel, SLEEP_CELL)
    await until_output(cell, "cell started")
    queued = [kernel.send("main_note_request", {"key": k, "tag": str(i)}) for i in range(3)]
    running = kernel.send("ticker_request", {})
    with anyio.fail_after(30):
        while not running.of_type("ticker_response"):
            await running.queue.get()
    await kernel.interrupt()
    await wait(*queued, running)
    for ex in queued:
        assert ex.content == {"status": "aborted", "reason": "interrupted"}
        assert [m["content"]["execution_state"] for m in ex.of_type("status")] == ["busy", "idle"]
    assert running.content == {"status": "aborted", "reason": "interrupted"}
    await wait(cell)
    assert cell.content["ename"] == "KeyboardInterrupt"
    # They never start afterwards.
    assert (await kernel.execute("1")).content["status"] == "ok"
    assert await kernel.call("conc_log", key=k) == []


async def test_interrupt_aborts_a_running_main_thread_def_handler(kernel: KernelClient) -> None:
    ex = kernel.send("main_sleep_request", {"seconds": 60})
    with anyio.fail_after(30):
        while not ex.of_type("main_sleep_response"):
            await ex.queue.get()
    # Only an interrupt can stop a def handler running on the main thread: cancel_action says so.
    assert await kernel.call("cancel_action", msg_id=ex.request["header"]["msg_id"]) == {"cancelled": False}
    await kernel.interrupt()
    await wait(ex)
    assert ex.content == {"status": "aborted", "reason": "interrupted"}
    assert (await kernel.execute("1 + 1")).content["status"] == "ok"


async def test_cancel_action_stops_one_streaming_action(kernel: KernelClient) -> None:
    cell = start_cell(kernel, SLEEP_CELL)
    await until_output(cell, "cell started")
    target = kernel.send("ticker_request", {})
    other = kernel.send("ticker_request", {})
    with anyio.fail_after(30):
        while len(target.of_type("ticker_response")) < 2:
            await target.queue.get()
    msg_id = target.request["header"]["msg_id"]
    assert await kernel.call("cancel_action", msg_id=msg_id) == {"cancelled": True}
    await wait(target)
    assert target.content == {"status": "aborted", "reason": "cancelled"}
    assert [m["content"]["execution_state"] for m in target.of_type("status")] == ["busy", "idle"]
    assert target.iopub[-1]["content"] == {"execution_state": "idle"}  # nothing after idle (so far)
    # Finished or unknown: false, not an error.
    assert await kernel.call("cancel_action", msg_id=msg_id) == {"cancelled": False}
    assert await kernel.call("cancel_action", msg_id="no-such-request") == {"cancelled": False}
    # The cell and the other action were not touched.
    assert cell.reply is None and other.reply is None
    assert await kernel.call("cancel_action", msg_id=other.request["header"]["msg_id"]) == {"cancelled": True}
    await wait(other)
    await interrupt_cell(kernel, cell)
    n = len(target.iopub)
    await anyio.sleep(0.2)
    assert len(target.iopub) == n


async def test_cancel_a_queued_main_thread_action(kernel: KernelClient) -> None:
    k = key()
    cell = start_cell(kernel, SLEEP_CELL)
    await until_output(cell, "cell started")
    queued = kernel.send("main_note_request", {"key": k, "tag": "x"})
    kept = kernel.send("main_note_request", {"key": k, "tag": "y"})
    assert await kernel.call("cancel_action", msg_id=queued.request["header"]["msg_id"]) == {"cancelled": True}
    await wait(queued)
    assert queued.content == {"status": "aborted", "reason": "cancelled"}
    assert kept.reply is None
    await interrupt_cell(kernel, cell)
    await wait(kept)
    assert kept.content["status"] == "aborted"  # queued behind the cell when the interrupt came
    assert await kernel.call("conc_log", key=k) == []


@pytest.mark.parametrize("action", ["interleave_sync", "interleave_async"])
async def test_print_and_respond_arrive_in_handler_order(kernel: KernelClient, action: str) -> None:
    ex = await kernel.request(f"{action}_request", {"n": 5})
    assert ex.content["status"] == "ok"
    seen = []
    for m in ex.iopub:
        t = m["header"]["msg_type"]
        if t == "stream":
            seen += [("print", line) for line in m["content"]["text"].splitlines()]
        elif t == f"{action}_response":
            seen.append(("respond", m["content"]["i"]))
    expected = []
    for i in range(5):
        expected += [("print", f"line {i}"), ("respond", i)]
    assert seen == expected


async def test_cell_output_is_published_before_its_preview(kernel: KernelClient) -> None:
    watch = await kernel.request("preview_watch_request", {"key": "order-test"})
    assert watch.content["status"] == "ok"
    try:
        cell = await kernel.execute("print('out of the cell')\nordered_var = 1")
        types = [m["header"]["msg_type"] for m in cell.iopub]
        assert "preview" in types and "stream" in types
        assert types.index("stream") < types.index("preview")
    finally:
        await kernel.request("preview_unwatch_request", {"key": "order-test"})


async def test_action_writing_the_namespace_during_a_cell_corrupts_nothing(kernel: KernelClient) -> None:
    n = 300_000
    cell = start_cell(kernel, f"print('cell started', flush=True)\ncounter = 0\nfor _i in range({n}):\n"
                              "    counter += 1\n    scratch = _i\n")
    await until_output(cell, "cell started")
    fills = [kernel.send("fill_namespace_request", {"prefix": f"filled_{j}_", "n": 2000}) for j in range(3)]
    await wait(cell, *fills, timeout=120)
    assert cell.content["status"] == "ok"
    assert all(f.content == {"status": "ok", "return": 2000} for f in fills)
    check = await kernel.execute(
        f"print(counter == {n}, all(globals()[f'filled_{{j}}_{{i}}'] == i for j in range(3) for i in range(2000)))")
    assert "".join(m["content"]["text"] for m in check.of_type("stream")) == "True True\n"


async def test_paging_a_value_the_cell_mutates_gives_ok_or_a_clear_error(kernel: KernelClient) -> None:
    cell = start_cell(kernel, "import time\nshaky = {}\nprint('cell started', flush=True)\n_t = time.monotonic()\n"
                              "_i = 0\nwhile time.monotonic() - _t < 120:\n    shaky[_i] = _i\n    _i += 1\n"
                              "    if len(shaky) > 5000:\n        shaky.clear()\n")
    await until_output(cell, "cell started")
    outcomes = set()
    for _ in range(30):
        for msg_type, content in (("preview_page_request", {"path": ["shaky"], "offset": 0, "limit": 2000}),
                                  ("preview_snapshot_request", {})):
            ex = await kernel.request(msg_type, content, timeout=30)
            if ex.content["status"] == "ok":
                outcomes.add("ok")
            else:
                assert ex.content["ename"] == "ChangedWhileReading", ex.content
                assert "changed while reading" in ex.content["evalue"]
                outcomes.add("changed")
    assert cell.reply is None
    await interrupt_cell(kernel, cell)
    assert "ok" in outcomes
    assert await kernel.call("noop") is None
