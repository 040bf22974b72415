"""The comm binding of the action protocol over ZMQ, with the Python client (see docs/protocol.md).

One kernel serves the module. Each protocol test runs on both transports through
``KernelClient``: the comm and the message path must give the same outcomes.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from beakerlike import protocol
from beakerlike.client import ActionAborted, ActionError, KernelClient, _CommCall
from beakerlike.testing import running_kernel

pytestmark = pytest.mark.anyio

SUPPORT = str(Path(__file__).parent / "support")


@pytest.fixture(scope="module")
async def kernel() -> AsyncIterator[KernelClient]:
    async with running_kernel("sample_actions", "protocol_actions", "concurrency_actions", pythonpath=[SUPPORT],
                              autoload=False) as k:
        yield k


@pytest.fixture(params=["messages", "comm"])
async def client(request: pytest.FixtureRequest, kernel: KernelClient) -> AsyncIterator[KernelClient]:
    c = await KernelClient.connect(kernel.manager.connection_file, transport=request.param)
    try:
        yield c
    finally:
        await c.close(shutdown=False)


async def comm_client(kernel: KernelClient) -> KernelClient:
    return await KernelClient.connect(kernel.manager.connection_file, transport="comm")


async def raw(c: KernelClient, data: dict[str, Any], rid: str, timeout: float = 30) -> list[tuple[str, dict]]:
    """Send one raw comm message and collect what arrives for ``rid`` until its reply."""
    call = c._comm_calls[rid] = _CommCall("raw")
    got: list[tuple[str, dict]] = []
    try:
        c._comm_send(data)
        with anyio.fail_after(timeout):
            while not got or got[-1][0] != "reply":
                kind, msg = await call.queue.get()
                assert msg is not None, "comm closed"
                got.append((kind, msg["content"]["data"][kind]))
    finally:
        c._comm_calls.pop(rid, None)
    return got


# -- the same protocol on both transports ---------------------------------------------


async def test_auto_picks_messages_when_they_are_answered(kernel: KernelClient) -> None:
    assert kernel.transport == "messages" and kernel.comm_id is None


async def test_hello_on_open(kernel: KernelClient) -> None:
    c = await comm_client(kernel)
    try:
        assert c.transport == "comm"
        assert c.hello == {"beakerlike_version": beakerlike_version(), "protocol_version": protocol.PROTOCOL_VERSION,
                           "features": ["actions", "streaming", "buffers", "cancel", "previews"]}
    finally:
        await c.close(shutdown=False)


def beakerlike_version() -> str:
    import beakerlike

    return beakerlike.__version__


async def test_ok_replies(client: KernelClient) -> None:
    await client.execute("comm_df = {'a': 1}")
    assert await client.call("noop") is None
    assert await client.call("sync_add", a=2, b=3) == 5
    assert await client.call("norm", x=-3, y=4) == 7
    seen: list[dict] = []
    assert await client.call("save_var", name="comm_df", on_response=seen.append) == {
        "id": 42, "repr": "{'a': 1}", "store": "default"}
    assert [m["content"] for m in seen] == [{"progress": 0.5}]
    assert seen[0]["header"]["msg_type"] == "save_var_response"


async def test_error_replies(client: KernelClient) -> None:
    with pytest.raises(ActionError) as err:
        await client.call("does_not_exist")
    assert err.value.ename == "UnknownAction" and "available:" in err.value.evalue

    with pytest.raises(ActionError) as err:
        await client.call("save_var", nme="typo")
    assert err.value.ename == "ValidationError"
    assert {tuple(e["loc"]) for e in err.value.errors} == {("name",), ("nme",)}

    with pytest.raises(ActionError) as err:
        await client.call("too_slow")
    assert err.value.ename == "ActionTimeout" and "timed out after 0.2 s" in err.value.evalue

    with pytest.raises(ActionError) as err:
        await client.call("fail")
    assert (err.value.ename, err.value.evalue) == ("RuntimeError", "boom from handler")
    assert "boom from handler" in "".join(err.value.traceback)


async def test_streaming_and_buffers(client: KernelClient) -> None:
    assert [x async for x in client.stream("count", n=4)] == [{"i": i} for i in range(4)]
    got: list[Any] = []
    with pytest.raises(ActionError) as err:
        async for item in client.stream("stream_then_fail", n=2):
            got.append(item)
    assert got == [{"i": 0}, {"i": 1}] and err.value.ename == "ValueError"

    seen: list[dict] = []
    payloads = [b"\x00\x01binary", bytes(range(100))]
    result = await client.call("echo_buffers", buffers=payloads, on_response=seen.append)
    assert result == {"sizes": [len(p) for p in payloads]}
    assert seen[0]["content"] == {"n": 2}
    assert [bytes(b) for b in seen[0]["buffers"]] == [p[::-1] for p in payloads]


async def test_interrupt_aborts(client: KernelClient, kernel: KernelClient) -> None:
    task = asyncio.create_task(client.call("slow", seconds=30))
    await anyio.sleep(0.5)
    await kernel.interrupt()
    with pytest.raises(ActionAborted) as err:
        with anyio.fail_after(30):
            await task
    assert err.value.content == {"status": "aborted", "reason": "interrupted"}


async def test_contexts_and_discovery(client: KernelClient) -> None:
    info = await client.info()
    assert "save_var" in info["actions"] and info["protocol_version"] == protocol.PROTOCOL_VERSION


# -- comm-only parts of the binding -----------------------------------------------------


async def test_cancel_one_request(kernel: KernelClient) -> None:
    c = await comm_client(kernel)
    try:
        slow = asyncio.create_task(raw(c, {"request": {"id": "s1", "action": "slow", "payload": {"seconds": 30}}},
                                       "s1"))
        await anyio.sleep(0.3)
        other = await raw(c, {"request": {"id": "n1", "action": "noop", "payload": {}}}, "n1")
        assert other == [("reply", {"id": "n1", "status": "ok", "return": None})]
        c._comm_send({"cancel": {"id": "s1"}})
        with anyio.fail_after(30):
            assert await slow == [("reply", {"id": "s1", "status": "aborted", "reason": "cancelled"})]
        # Cancelling what is no longer running changes nothing.
        c._comm_send({"cancel": {"id": "s1"}})
        assert await c.call("noop") is None
    finally:
        await c.close(shutdown=False)


async def test_client_timeout_cancels_the_request(kernel: KernelClient) -> None:
    c = await comm_client(kernel)
    try:
        with pytest.raises(TimeoutError):
            await c.call("serial_hold", key="never-released", timeout=0.3)
        # serial_hold is concurrent=False: had it kept running, this would wait behind it.
        assert await c.call("say", text="next", timeout=20) == "next"
    finally:
        await c.close(shutdown=False)


async def test_malformed_messages_get_a_protocol_error(kernel: KernelClient) -> None:
    c = await comm_client(kernel)
    try:
        (reply,) = await raw(c, {"request": {"id": "m1", "payload": {}}}, "m1")
        assert reply[1]["status"] == "error" and reply[1]["ename"] == "ProtocolError"
        assert "request.action" in reply[1]["evalue"]
        (reply,) = await raw(c, {"request": {"id": "m2", "action": "noop", "extra": 1}}, "m2")
        assert reply[1]["ename"] == "ProtocolError" and "extra" in reply[1]["evalue"]
        (reply,) = await raw(c, {"request": {"id": "m3", "action": "noop", "payload": [1]}}, "m3")
        assert reply[1]["ename"] == "ValidationError"  # the runner's own validation, as on the message path
        # Without a usable id, or with the id of a request still in flight, the error reply has id null.
        nulls: list[dict] = []
        c._comm_calls[None] = call = _CommCall("raw")  # type: ignore[index]
        c._comm_send({"hello": {}})
        slow = asyncio.create_task(raw(c, {"request": {"id": "d1", "action": "slow", "payload": {"seconds": 1}}}, "d1"))
        await anyio.sleep(0.2)
        c._comm_send({"request": {"id": "d1", "action": "noop"}})
        with anyio.fail_after(30):
            while len(nulls) < 2:
                nulls.append((await call.queue.get())[1]["content"]["data"]["reply"])
            assert await slow == [("reply", {"id": "d1", "status": "ok", "return": "done"})]
        c._comm_calls.pop(None)  # type: ignore[call-overload]
        assert [(r["id"], r["ename"]) for r in nulls] == [(None, "ProtocolError")] * 2
        assert "unknown comm message 'hello'" in nulls[0]["evalue"]
        assert nulls[1]["request_id"] == "d1" and "already in flight" in nulls[1]["evalue"]
    finally:
        await c.close(shutdown=False)


async def test_handler_output_is_parented_to_the_comm_message(kernel: KernelClient) -> None:
    c = await comm_client(kernel)
    seen: list[dict] = []
    c.on_iopub = seen.append
    try:
        assert await c.call("sync_add", a=1, b=1) == 2
        with anyio.fail_after(10):
            while not [m for m in seen if m["header"]["msg_type"] == "stream"]:
                await anyio.sleep(0.02)
        (stream,) = [m for m in seen if m["header"]["msg_type"] == "stream"]
        assert stream["content"]["text"] == "adding in a thread\n"
        assert stream["parent_header"]["msg_type"] == "comm_msg"
        parent = stream["parent_header"]["msg_id"]

        def states() -> list[str]:
            return [m["content"]["execution_state"] for m in seen
                    if m["header"]["msg_type"] == "status" and m["parent_header"].get("msg_id") == parent]

        with anyio.fail_after(10):
            while states() != ["busy", "idle"]:  # as on the message path: busy, output, reply, idle
                await anyio.sleep(0.02)
    finally:
        await c.close(shutdown=False)


async def test_previews_on_the_comm_match_iopub(kernel: KernelClient) -> None:
    a, b = await comm_client(kernel), await comm_client(kernel)
    got_a: list[dict] = []
    got_b: list[dict] = []
    a.on_preview, b.on_preview = got_a.append, got_b.append
    try:
        before = (await kernel.call("preview_unwatch", key="nobody"))["watchers"]
        snapshot = await a.call("preview_watch")
        assert snapshot["full"] is True
        assert (await kernel.call("preview_unwatch", key="nobody"))["watchers"] == before + 1
        name = f"v_{uuid.uuid4().hex[:8]}"
        ex = await kernel.execute(f"{name} = [1, 2, 3]")
        (iopub_preview,) = ex.of_type(protocol.PREVIEW_MSG_TYPE)
        with anyio.fail_after(10):
            while not got_a:
                await anyio.sleep(0.02)
        assert got_a == [{"variables": iopub_preview["content"]["variables"],
                          "metadata": iopub_preview["metadata"]}]
        assert name in got_a[0]["variables"]
        assert got_a[0]["metadata"]["beakerlike"]["seq"] == snapshot["seq"] + 1
        assert got_b == []  # b never asked
        await a.close(shutdown=False)  # closing the comm unwatches
        with anyio.fail_after(10):
            while (await kernel.call("preview_unwatch", key="nobody"))["watchers"] != before:
                await anyio.sleep(0.05)
        await kernel.execute(f"{name}.append(4)")
        await anyio.sleep(0.3)
        assert len(got_a) == 1 and got_b == []
    finally:
        await a.close(shutdown=False)
        await b.close(shutdown=False)


async def test_two_comms_never_see_each_others_messages(kernel: KernelClient) -> None:
    a, b = await comm_client(kernel), await comm_client(kernel)
    try:
        # The same client id on two comms: two independent requests.
        ra, rb = await asyncio.gather(
            raw(a, {"request": {"id": "same", "action": "count", "payload": {"n": 2}}}, "same"),
            raw(b, {"request": {"id": "same", "action": "sync_add", "payload": {"a": 1, "b": 2}}}, "same"),
        )
        assert ra == [("response", {"id": "same", "data": {"i": 0}}), ("response", {"id": "same", "data": {"i": 1}}),
                      ("reply", {"id": "same", "status": "ok", "return": None})]
        assert rb == [("reply", {"id": "same", "status": "ok", "return": 3})]
        for c, other in ((a, b), (b, a)):
            assert not [m for m in c.unrouted if m["content"].get("comm_id") == c.comm_id]
            assert other.comm_id != c.comm_id
    finally:
        await a.close(shutdown=False)
        await b.close(shutdown=False)


async def test_the_comm_answers_while_a_cell_blocks(kernel: KernelClient) -> None:
    c = await comm_client(kernel)  # (connecting waits for a kernel_info_reply, which a blocked cell delays)
    cell = kernel.send("execute_request", {"code": "import time; time.sleep(4); cell_finished = True",
                                           "silent": False, "store_history": False, "user_expressions": {},
                                           "allow_stdin": False, "stop_on_error": False})
    try:
        await anyio.sleep(0.3)
        assert await c.call("where") == "beakerlike-actions"
        assert cell.reply is None  # answered while the cell still blocks the main thread
        # A main_thread action over the comm waits for the cell and runs between cells.
        assert await c.call("main_note", key=uuid.uuid4().hex, tag="t") == {
            "thread": "MainThread", "cell_finished": True}
        assert cell.reply is not None
    finally:
        await c.close(shutdown=False)
        with anyio.fail_after(30):
            await cell.done.wait()
        kernel._pending.pop(cell.request["header"]["msg_id"], None)


async def test_auto_falls_back_to_the_comm_when_requests_are_dropped() -> None:
    async with running_kernel("sample_actions", "drop_custom_requests", pythonpath=[SUPPORT], autoload=False) as k:
        assert k.transport == "comm"
        assert await k.call("sync_add", a=20, b=22) == 42
        messages = await KernelClient.connect(k.manager.connection_file, transport="messages")
        try:
            ex = messages.send(protocol.request_type("noop"), {})
            await anyio.sleep(1)
            assert ex.reply is None  # really dropped
        finally:
            await messages.close(shutdown=False)
