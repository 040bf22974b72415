"""The fast lane: quick async actions run on the thread that received them (beakerlike.fastlane).

Unit tests of the promotion policy, then a real kernel (ZMQ through jupyter_client): actions are
promoted by evidence and demoted when they turn slow, and in the fast lane a request still gets
busy first, its output in order, exactly one reply, cancellation and interrupts.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from beakerlike.actions import make_action
from beakerlike.client import ActionError, Exchange, KernelClient
from beakerlike.fastlane import FastLane
from beakerlike.testing import running_kernel

SUPPORT = str(Path(__file__).parent / "support")
SHELL_THREAD = "Shell channel"  # ipykernel's name for its shell-channel thread
ACTION_LOOP = "beakerlike-actions"


# -- the policy ---------------------------------------------------------------------------
async def _quick(req) -> None:
    """Quick."""


async def _gen(req):
    """A generator."""
    yield 1


def _sync(req) -> None:
    """Sync."""


def test_promoted_after_consecutive_quick_runs() -> None:
    lane, act = FastLane(promote_after=3), make_action(_quick, name="quick")
    for _ in range(2):
        lane.record(act, 0.0001, fast=False)
    lane.record(act, 0.5, fast=False)  # a slow run resets the count
    for _ in range(2):
        lane.record(act, 0.0001, fast=False)
    assert not lane.allows(act) and lane.state(act) == "loop"
    lane.record(act, 0.0001, fast=False)
    assert lane.allows(act) and lane.state(act) == "fast"


def test_one_slow_fast_lane_run_demotes_for_good() -> None:
    lane, act = FastLane(promote_after=1), make_action(_quick, name="quick")
    lane.record(act, 0.0001, fast=False)
    assert lane.allows(act)
    lane.record(act, lane.slow_seconds * 2, fast=True)
    assert not lane.allows(act) and lane.state(act) == "demoted"
    for _ in range(20):
        lane.record(act, 0.0001, fast=False)
    assert not lane.allows(act)


def test_only_concurrent_async_actions_off_the_main_thread_are_eligible() -> None:
    lane = FastLane(promote_after=0)
    assert lane.allows(make_action(_quick, name="quick"))
    for act in (make_action(_gen, name="gen"), make_action(_sync, name="sync"),
                make_action(_quick, name="serial", concurrent=False),
                make_action(_quick, name="main", main_thread=True)):
        for _ in range(10):
            lane.record(act, 0.0001, fast=False)
        assert not lane.allows(act), act


def test_disabled_lane_allows_nothing() -> None:
    lane, act = FastLane(enabled=False, promote_after=0), make_action(_quick, name="quick")
    lane.record(act, 0.0001, fast=False)
    assert not lane.allows(act)


# -- a real kernel --------------------------------------------------------------------------
def _config_dir(tmp: Path, lines: str) -> dict[str, str]:
    """An IPYTHONDIR whose kernel config file holds ``lines`` (the kernel app reads it at start)."""
    profile = tmp / "profile_default"
    profile.mkdir(parents=True)
    (profile / "beakerlike_kernel_config.py").write_text(lines)
    return {**os.environ, "IPYTHONDIR": str(tmp)}


def _kernel(tmp_path_factory: pytest.TempPathFactory, config: str) -> Any:
    env = _config_dir(tmp_path_factory.mktemp("ipython"), config)
    return running_kernel("fastlane_actions", "concurrency_actions", env=env, pythonpath=[SUPPORT], autoload=False)


@pytest.fixture(scope="module")
async def kernel(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[KernelClient]:
    """Default policy (promotion after 8 quick runs)."""
    async with _kernel(tmp_path_factory, "") as k:
        yield k


@pytest.fixture(scope="module")
async def fast_kernel(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[KernelClient]:
    """Every eligible action starts in the fast lane (``fast_lane_after = 0``)."""
    async with _kernel(tmp_path_factory, "c.BeakerlikeKernel.fast_lane_after = 0\n") as k:
        yield k


@pytest.mark.anyio
async def test_a_quick_action_moves_to_the_shell_thread_after_eight_runs(kernel: KernelClient) -> None:
    where = [await kernel.call("lane_where") for _ in range(12)]
    assert where[0] == ACTION_LOOP
    assert where[-1] == SHELL_THREAD, where
    first_fast = where.index(SHELL_THREAD)
    assert first_fast >= 8 and set(where[first_fast:]) == {SHELL_THREAD}, where


@pytest.mark.anyio
async def test_an_async_handler_that_blocks_never_gets_the_fast_lane(kernel: KernelClient) -> None:
    where = [await kernel.call("lane_block", seconds=0.01) for _ in range(15)]
    assert set(where) == {ACTION_LOOP}, where


@pytest.mark.anyio
async def test_a_fast_lane_action_that_turns_slow_is_demoted(fast_kernel: KernelClient) -> None:
    assert await fast_kernel.call("lane_block") == SHELL_THREAD
    assert await fast_kernel.call("lane_block", seconds=0.05) == SHELL_THREAD  # blocks the shell thread once
    assert [await fast_kernel.call("lane_block") for _ in range(10)] == [ACTION_LOOP] * 10


@pytest.mark.anyio
async def test_cells_run_while_promoted_actions_are_called(kernel: KernelClient) -> None:
    for _ in range(10):
        await kernel.call("lane_where")
    cell = kernel.send("execute_request", {"code": "fast_lane_cell = 41 + 1", "silent": False,
                                           "store_history": False, "user_expressions": {}, "allow_stdin": False,
                                           "stop_on_error": False})
    calls = [kernel.send("lane_where_request", {}) for _ in range(20)]
    with anyio.fail_after(30):
        for ex in [cell, *calls]:
            await ex.done.wait()
    assert cell.content["status"] == "ok"
    assert {ex.content["return"] for ex in calls} == {SHELL_THREAD}
    assert (await kernel.execute("print(fast_lane_cell)")).of_type("stream")[0]["content"]["text"] == "42\n"


def _statuses(ex: Exchange) -> list[str]:
    return [m["content"]["execution_state"] for m in ex.iopub if m["header"]["msg_type"] == "status"]


@pytest.mark.anyio
async def test_fast_lane_messages_are_busy_output_in_order_then_idle(fast_kernel: KernelClient) -> None:
    ex = await fast_kernel.request("lane_talk_request", {"n": 3})
    assert ex.content == {"status": "ok", "return": SHELL_THREAD}
    assert ex.replies == 1
    kinds = [m["header"]["msg_type"] for m in ex.iopub]
    assert kinds[0] == "status" and kinds[-1] == "status" and _statuses(ex) == ["busy", "idle"], kinds
    body = [(m["header"]["msg_type"], m["content"].get("text") or m["content"].get("i")) for m in ex.iopub[1:-1]]
    assert body == [("stream", "line 0\n"), ("lane_talk_response", 0), ("stream", "line 1\n"),
                    ("lane_talk_response", 1), ("stream", "line 2\n"), ("lane_talk_response", 2)]
    assert all(m["parent_header"]["msg_id"] == ex.request["header"]["msg_id"] for m in ex.iopub)


@pytest.mark.anyio
async def test_fast_lane_errors_are_replied_as_errors(fast_kernel: KernelClient) -> None:
    with pytest.raises(ActionError) as bad:
        await fast_kernel.call("lane_fail", number="not a number")
    assert bad.value.ename == "ValidationError"
    with pytest.raises(ActionError) as failed:
        await fast_kernel.call("lane_fail", number=3)
    assert failed.value.ename == "RuntimeError" and "failed with 3" in failed.value.evalue


@pytest.mark.anyio
async def test_a_waiting_fast_lane_action_is_busy_at_once_and_can_be_cancelled(fast_kernel: KernelClient) -> None:
    ex = fast_kernel.send("lane_wait_request", {"seconds": 60})
    with anyio.fail_after(30):
        while not ex.of_type("lane_wait_response"):
            await ex.queue.get()
    assert _statuses(ex) == ["busy"]  # published when the handler went on waiting, before its response
    cancel = await fast_kernel.request("cancel_action_request", {"msg_id": ex.request["header"]["msg_id"]})
    assert cancel.content["return"] == {"cancelled": True}
    with anyio.fail_after(30):
        await ex.done.wait()
    assert ex.content["status"] == "aborted" and ex.replies == 1
    assert _statuses(ex) == ["busy", "idle"]


@pytest.mark.anyio
async def test_interrupt_aborts_waiting_fast_lane_actions(fast_kernel: KernelClient) -> None:
    waiting = [fast_kernel.send("lane_wait_request", {"seconds": 60}) for _ in range(3)]
    with anyio.fail_after(30):
        for ex in waiting:
            while not ex.of_type("lane_wait_response"):
                await ex.queue.get()
    await fast_kernel.interrupt()
    with anyio.fail_after(30):
        for ex in waiting:
            await ex.done.wait()
    assert [ex.content["status"] for ex in waiting] == ["aborted"] * 3


@pytest.mark.anyio
async def test_a_burst_of_fast_lane_requests_gets_one_reply_each(fast_kernel: KernelClient) -> None:
    burst = [fast_kernel.send("lane_where_request", {}) for _ in range(300)]
    with anyio.fail_after(60):
        for ex in burst:
            await ex.done.wait()
    assert all(ex.replies == 1 and ex.content["return"] == SHELL_THREAD for ex in burst)
    assert all(_statuses(ex) == ["busy", "idle"] for ex in burst)
    assert len({ex.request["header"]["msg_id"] for ex in burst}) == 300


@pytest.mark.anyio
async def test_the_fast_lane_can_be_switched_off(tmp_path: Path) -> None:
    env = _config_dir(tmp_path / uuid.uuid4().hex, "c.BeakerlikeKernel.fast_lane = False\n"
                                                   "c.BeakerlikeKernel.fast_lane_after = 0\n")
    async with running_kernel("fastlane_actions", env=env, pythonpath=[SUPPORT], autoload=False) as k:
        assert {await k.call("lane_where") for _ in range(12)} == {ACTION_LOOP}


@pytest.mark.anyio
async def test_busy_goes_out_while_a_silent_fast_lane_action_still_waits(fast_kernel: KernelClient) -> None:
    ex = fast_kernel.send("lane_sleep_request", {"seconds": 60})
    with anyio.fail_after(30):
        while not _statuses(ex):
            await ex.queue.get()
    assert _statuses(ex) == ["busy"] and ex.reply is None
    await fast_kernel.request("cancel_action_request", {"msg_id": ex.request["header"]["msg_id"]})
    with anyio.fail_after(30):
        await ex.done.wait()
    assert ex.content["status"] == "aborted"


# -- the main thread steps aside for quick actions during a pure-Python cell ---------------------
def test_main_thread_waits_while_held_and_resumes_when_released() -> None:
    import threading

    from beakerlike._mainpause import MainThreadPause

    pause = MainThreadPause()
    pause.max_seconds = 30.0  # only the release may end this test's pause
    assert pause.available
    seen: dict[str, int] = {}
    count = 0
    held, release_now = threading.Event(), threading.Event()

    def worker() -> None:
        release = pause.hold()
        held.set()
        while pause.pauses == 0:  # the main thread has entered the pause
            threading.Event().wait(0.001)
        seen["paused_at"] = count
        threading.Event().wait(0.05)
        seen["after"] = count  # unchanged: the main thread runs no bytecode while held
        release()
        release()  # idempotent
        while count <= seen["after"]:  # it resumes
            threading.Event().wait(0.001)
        release_now.set()

    t = threading.Thread(target=worker)
    t.start()
    held.wait()
    while not release_now.is_set():  # a pure-Python loop on the main thread
        count += 1
    t.join()
    assert pause.pauses == 1
    assert seen["after"] == seen["paused_at"]
    assert count > seen["after"]


BUSY_SUM = ("import time\n_t = time.monotonic()\n_n = 0\nwhile time.monotonic() - _t < 2.0:\n    _n += 1\n"
            "busy_total = sum(range(1000))\n")


async def _answered_during_busy_cell(k: KernelClient) -> tuple[list[str], int]:
    for _ in range(10):  # earn the fast lane
        await k.call("lane_where")
    before = await k.call("lane_pauses")
    cell = k.send("execute_request", {"code": BUSY_SUM, "silent": False, "store_history": False,
                                      "user_expressions": {}, "allow_stdin": False, "stop_on_error": False})
    where = []
    for _ in range(20):
        ex = await k.request("lane_where_request", {})
        assert cell.reply is None, "the cell ended before the actions were answered"
        where.append(ex.content["return"])
    with anyio.fail_after(60):
        await cell.done.wait()
    assert cell.content["status"] == "ok"
    out = await k.execute("print(busy_total, _n > 0)")
    assert out.of_type("stream")[0]["content"]["text"] == "499500 True\n"
    return where, await k.call("lane_pauses") - before


@pytest.mark.anyio
async def test_a_busy_cell_steps_aside_for_quick_actions_and_still_finishes_right(kernel: KernelClient) -> None:
    where, pauses = await _answered_during_busy_cell(kernel)
    assert set(where) == {SHELL_THREAD}
    assert pauses > 0


@pytest.mark.anyio
async def test_the_cell_pause_can_be_switched_off(tmp_path: Path) -> None:
    env = _config_dir(tmp_path / uuid.uuid4().hex, "c.BeakerlikeKernel.fast_lane_pause = False\n")
    async with running_kernel("fastlane_actions", env=env, pythonpath=[SUPPORT], autoload=False) as k:
        where, pauses = await _answered_during_busy_cell(k)
    assert set(where) == {SHELL_THREAD} and pauses == 0
