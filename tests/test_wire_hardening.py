"""Issue 11 (items 1-3, 6-8): every signed request gets one reply, nothing is published after its idle.

Raw frames are signed with the connection's key through jupyter_client's ``Session``, so the
kernel sees exactly the bytes a hostile or broken client would send.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import anyio
import pytest

from beakerlike.client import Exchange, KernelClient
from beakerlike.testing import running_kernel

pytestmark = pytest.mark.anyio

SUPPORT = str(Path(__file__).parent / "support")


@pytest.fixture(scope="module")
async def kernel():
    async with running_kernel("sample_actions", "protocol_actions", "concurrency_actions",
                              pythonpath=[SUPPORT], autoload=False) as k:
        yield k


def send_raw(kernel: KernelClient, header: dict, content: bytes, parent: bytes = b"{}",
             metadata: bytes = b"{}") -> Exchange:
    """Sign and send ``header`` (JSON with ASCII escapes) and the other frames' bytes as they are."""
    session = kernel.client.session
    parts = [json.dumps(header).encode(), parent, metadata, content]
    frames = [b"<IDS|MSG>", session.sign(parts), *parts]
    ex = Exchange(request={"header": header})
    kernel._pending[header["msg_id"]] = ex
    kernel.client.shell_channel.socket.send_multipart(frames)
    return ex


def header(msg_type: object, **extra: object) -> dict:
    return {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "session": uuid.uuid4().hex, "username": "t",
            "date": "2026-01-01T00:00:00.000000Z", "version": "5.4", **extra}


async def finished(ex: Exchange, timeout: float = 30) -> Exchange:
    with anyio.fail_after(timeout):
        await ex.done.wait()
    return ex


def states(ex: Exchange) -> list[str]:
    return [m["content"]["execution_state"] for m in ex.of_type("status")]


# -- 1, 2: content that is not JSON ------------------------------------------------------


@pytest.mark.parametrize("content", [b"{not json", b"[" * 100_000 + b"]" * 100_000, b"\xff\xfe"],
                         ids=["malformed", "nested-100000-deep", "not-utf8"])
async def test_content_that_is_not_json_gets_a_validation_error(kernel: KernelClient, content: bytes) -> None:
    ex = await finished(send_raw(kernel, header("noop_request"), content))
    assert ex.replies == 1
    assert ex.content["status"] == "error"
    assert ex.content["ename"] == "ValidationError"
    assert ex.content["evalue"].startswith("content is not valid JSON")
    assert states(ex) == ["busy", "idle"]
    assert await kernel.call("noop") is None


@pytest.mark.parametrize("frame", ["parent", "metadata"])
async def test_parent_or_metadata_frame_that_is_not_json_gets_a_validation_error(kernel: KernelClient,
                                                                                 frame: str) -> None:
    bad = {"parent": b"\xff", "metadata": b"{{{"}
    ex = await finished(send_raw(kernel, header("noop_request"), b"{}", **{frame: bad[frame]}))
    assert ex.replies == 1
    assert ex.content["ename"] == "ValidationError"
    assert "not valid JSON" in ex.content["evalue"]
    assert states(ex) == ["busy", "idle"]


async def test_a_forged_signature_still_gets_nothing(kernel: KernelClient) -> None:
    h = header("noop_request")
    parts = [json.dumps(h).encode(), b"\xff", b"{}", b"{}"]
    ex = Exchange(request={"header": h})
    kernel._pending[h["msg_id"]] = ex
    kernel.client.shell_channel.socket.send_multipart([b"<IDS|MSG>", b"0" * 64, *parts])
    assert await kernel.call("noop") is None
    await anyio.sleep(0.2)
    assert ex.reply is None and ex.iopub == []


# -- 3: lone surrogates in the header ---------------------------------------------------------


@pytest.mark.parametrize("field,value", [("msg_type", "\ud800_request"), ("session", "\ud800")])
async def test_lone_surrogate_in_header_gets_a_json_safe_error(kernel: KernelClient, field: str, value: str) -> None:
    h = header("noop_request")
    h[field] = value
    ex = await finished(send_raw(kernel, h, b"{}"))
    assert ex.replies == 1
    assert ex.content["status"] == "error"
    assert ex.content["ename"] == "ValidationError"
    assert field in ex.content["evalue"] and "surrogate" in ex.content["evalue"]
    json.dumps(ex.reply, default=str).encode("utf-8")  # every text in it is encodable
    assert ex.reply["header"]["msg_type"].endswith("_reply")
    assert states(ex) == ["busy", "idle"]
    assert await kernel.call("noop") is None


# -- 7: msg_type not a string ----------------------------------------------------------------


@pytest.mark.parametrize("msg_type", [5, None, ["noop_request"], {"a": 1}])
async def test_msg_type_not_a_string_is_ignored_cleanly(msg_type: object, capfd: pytest.CaptureFixture) -> None:
    async with running_kernel("sample_actions", pythonpath=[SUPPORT], autoload=False) as k:
        ex = send_raw(k, header(msg_type), b"{}")
        assert await k.call("noop") is None  # the kernel has handled the odd message by now
        await anyio.sleep(0.2)
        assert ex.reply is None and ex.iopub == []
        err = capfd.readouterr().err
    assert "Traceback" not in err
    assert "msg_type is a" in err  # logged as a warning


# -- 6: BaseExceptions that are not cancellation -----------------------------------------------


@pytest.mark.parametrize("payload,ename", [({"kind": "generator_exit"}, "GeneratorExit"),
                                          ({"kind": "custom"}, "CustomBase")])
async def test_base_exceptions_are_errors_with_their_class_name(kernel: KernelClient, payload: dict,
                                                                ename: str) -> None:
    ex = await kernel.request("raise_base_request", payload)
    assert ex.content["status"] == "error"
    assert ex.content["ename"] == ename
    assert ex.content["traceback"]


async def test_generator_exit_from_a_worker_thread_is_an_error(kernel: KernelClient) -> None:
    ex = await kernel.request("raise_base_sync_request", {})
    assert ex.content["status"] == "error"
    assert ex.content["ename"] == "GeneratorExit"


# -- 8: nothing after idle from an abandoned worker thread -------------------------------------


async def _nothing_after_idle(kernel: KernelClient, ex: Exchange, key: str) -> None:
    await finished(ex)
    n = len(ex.iopub)
    assert ex.iopub[-1]["content"] == {"execution_state": "idle"}
    with anyio.fail_after(30):  # the abandoned thread reaches its next respond and stops
        while "cancelled" not in await kernel.call("conc_log", key=key):
            await anyio.sleep(0.05)
    await anyio.sleep(0.3)
    assert len(ex.iopub) == n, [m["header"]["msg_type"] for m in ex.iopub[n:]]


async def test_interrupted_sync_handler_publishes_nothing_after_idle(kernel: KernelClient) -> None:
    key = uuid.uuid4().hex
    ex = kernel.send("sync_stream_request", {"key": key, "n": 30, "delay": 0.05})
    with anyio.fail_after(30):
        while len(ex.of_type("sync_stream_response")) < 4:
            await ex.queue.get()
    await kernel.interrupt()
    await _nothing_after_idle(kernel, ex, key)
    assert ex.content == {"status": "aborted", "reason": "interrupted"}


async def test_timed_out_sync_handler_publishes_nothing_after_idle(kernel: KernelClient) -> None:
    key = uuid.uuid4().hex
    ex = kernel.send("sync_stream_timeout_request", {"key": key, "n": 30, "delay": 0.05})
    await _nothing_after_idle(kernel, ex, key)
    assert ex.content["ename"] == "ActionTimeout"


async def test_a_routing_error_does_not_stop_the_kernel_reading_its_shell_socket() -> None:
    async with running_kernel("sample_actions", "broken_router", pythonpath=[SUPPORT], autoload=False) as k:
        for _ in range(3):
            k.send("route_boom_request", {})  # raises in the shell stream's read callback: logged, dropped
        assert await k.call("noop") is None
        assert (await k.execute("print(6 * 7)")).of_type("stream")[0]["content"]["text"] == "42\n"
