"""Pure units of the concurrency work: the ``main_thread`` option, Request closing and output order, content parsing."""

from __future__ import annotations

import threading

import anyio
import pytest

import beakerlike
from beakerlike.actions import action_of
from beakerlike.request import Request
from beakerlike.runner import _Invalid, parse_content
from beakerlike.testing import Harness

pytestmark = pytest.mark.anyio


@beakerlike.action(main_thread=True)
def on_main(req) -> str:
    """Runs on the calling thread (the kernel's main thread)."""
    return threading.current_thread().name


@beakerlike.action
async def forever(req) -> None:
    """Sleep until cancelled."""
    await req.respond({"started": True})
    await anyio.sleep(600)


def test_main_thread_option_is_declared_and_listed() -> None:
    act = action_of(on_main)
    assert act is not None and act.main_thread is True
    assert act.info()["main_thread"] is True
    assert action_of(forever).info()["main_thread"] is False


async def test_harness_runs_a_main_thread_def_handler_on_its_own_thread() -> None:
    assert await Harness(on_main).call("on_main") == threading.current_thread().name


async def test_harness_cancel_action_by_msg_id() -> None:
    harness = Harness(forever)
    results = {}

    async def run() -> None:
        results["outcome"] = await harness.run("forever")

    async with anyio.create_task_group() as tg:
        tg.start_soon(run)
        with anyio.fail_after(10):
            while not harness.running:
                await anyio.sleep(0.01)
        (msg_id,) = list(harness.running)
        assert harness.cancel_action("unknown") is False
        assert harness.cancel_action(msg_id) is True
    assert results["outcome"].reply == {"status": "aborted", "reason": "cancelled"}
    assert harness.cancel_action(msg_id) is False


def _request(published: list) -> Request:
    return Request("a", {"header": {"msg_id": "m"}}, publish=lambda t, c, b=None: published.append((t, c)),
                   namespace={})


def test_output_is_published_before_the_next_response_and_dropped_after_close() -> None:
    published: list = []
    req = _request(published)
    req.write_output("stdout", "one ")
    req.write_output("stdout", "line\n")
    req.respond({"i": 1})
    req.write_output("stderr", "late")
    req.close()
    req.write_output("stdout", "after the reply")
    with pytest.raises(beakerlike.ActionCancelled):
        req.respond({"i": 2})
    with pytest.raises(beakerlike.ActionCancelled):
        req.display({"text/plain": "x"}, raw=True)
    assert published == [("stream", {"name": "stdout", "text": "one line\n"}), ("a_response", {"i": 1}),
                         ("stream", {"name": "stderr", "text": "late"})]


@pytest.mark.parametrize("raw", [b"{not json", b"[" * 100_000 + b"]" * 100_000, b"\xff"])
def test_parse_content_never_raises(raw: bytes) -> None:
    parsed = parse_content(raw)
    assert isinstance(parsed, _Invalid)
    assert parsed.reason.startswith("content is not valid JSON")
    assert parsed.reason.isascii()


def test_parse_content_accepts_json() -> None:
    assert parse_content(b'{"a": [1, null]}') == {"a": [1, None]}
