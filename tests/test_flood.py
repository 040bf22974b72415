"""Request floods against a real kernel: every request gets exactly one reply, and the kernel lives on.

Stock ipykernel 7.4 wedges for good after a burst of ~4,000 requests from one client
(both shell threads block on full inproc pipes; see ``beakerlike/_shellpipes.py``).
These tests send bursts well past that point over raw ZMQ DEALER sockets, reading
replies as they arrive, like a busy frontend does.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest
import zmq
from jupyter_client.session import Session

from beakerlike.testing import running_kernel

pytestmark = pytest.mark.anyio

SUPPORT = str(Path(__file__).parent / "support")
#: A flood that delivers no reply for this long counts as hung (a wedged kernel never recovers).
STALL = 30.0


@pytest.fixture(scope="module")
async def kernel():
    async with running_kernel("sample_actions", pythonpath=[SUPPORT]) as k:
        yield k


@dataclass
class FloodResult:
    """What one raw client saw: the ids it sent and every reply it got."""

    sent: list[str] = field(default_factory=list)
    replies: Counter[str] = field(default_factory=Counter)
    reply_types: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    strangers: int = 0  # replies to requests this client never sent
    error: BaseException | None = None

    @property
    def missing(self) -> list[str]:
        return [m for m in self.sent if self.replies[m] == 0]

    @property
    def duplicated(self) -> list[str]:
        return [m for m, n in self.replies.items() if n > 1]


def raw_flood(
    conn: dict[str, Any],
    msg_type: str,
    content: dict[str, Any],
    n: int,
    *,
    start: threading.Barrier | None = None,
    stall: float = STALL,
    subshell_id: str | None = None,
) -> FloodResult:
    """Send ``n`` requests back to back on a fresh DEALER, reading replies as they arrive.

    Gives up once no reply has come for ``stall`` seconds (a hang shows up as missing
    replies, not a stuck test), then listens a little longer so duplicates would be seen too.
    """
    key = conn["key"].encode() if isinstance(conn["key"], str) else conn["key"]
    session = Session(key=key, signature_scheme=conn["signature_scheme"])
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.linger = 0
    sock.sndtimeo = int(stall * 1000)  # a kernel that stops reading fails the send, not the test run
    sock.connect(f"{conn['transport']}://{conn['ip']}:{conn['shell_port']}")
    result = FloodResult()

    def receive() -> None:
        _, frames = session.feed_identities(sock.recv_multipart(copy=False), copy=False)
        msg = session.deserialize(frames, content=True, copy=False)
        parent_id = msg["parent_header"].get("msg_id", "")
        result.replies[parent_id] += 1
        result.reply_types[msg["header"]["msg_type"]] += 1
        result.statuses[msg["content"].get("status", "?")] += 1

    try:
        if start is not None:
            start.wait(timeout=30)
        for _ in range(n):
            header = session.msg_header(msg_type)
            if subshell_id is not None:
                header["subshell_id"] = subshell_id
            msg = session.send(sock, msg_type, content, header=header)
            result.sent.append(msg["header"]["msg_id"])
            while sock.poll(0, zmq.POLLIN):
                receive()
        last_progress = time.monotonic()
        while sum(result.replies.values()) < n and time.monotonic() - last_progress < stall:
            if sock.poll(250, zmq.POLLIN):
                receive()
                last_progress = time.monotonic()
        settle = time.monotonic() + 0.3
        while time.monotonic() < settle:
            if sock.poll(50, zmq.POLLIN):
                receive()
    except BaseException as exc:  # reported by the test, with what was seen so far
        result.error = exc
    finally:
        sock.close()
        ctx.term()
    sent = set(result.sent)
    result.strangers = sum(c for m, c in result.replies.items() if m not in sent)
    return result


def create_subshell(conn: dict[str, Any]) -> str:
    """Ask the kernel for a new subshell on the control channel; return its id."""
    key = conn["key"].encode() if isinstance(conn["key"], str) else conn["key"]
    session = Session(key=key, signature_scheme=conn["signature_scheme"])
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.linger = 0
    try:
        sock.connect(f"{conn['transport']}://{conn['ip']}:{conn['control_port']}")
        session.send(sock, "create_subshell_request", {})
        assert sock.poll(30_000, zmq.POLLIN), "no create_subshell_reply"
        _, frames = session.feed_identities(sock.recv_multipart())
        reply = session.deserialize(frames)
    finally:
        sock.close()
        ctx.term()
    assert reply["content"]["status"] == "ok", reply["content"]
    return reply["content"]["subshell_id"]


def assert_each_answered_once(result: FloodResult, n: int, reply_type: str) -> None:
    assert result.error is None, f"client failed after {len(result.sent)} sends: {result.error!r}"
    assert len(result.sent) == n
    assert result.missing == [], f"{len(result.missing)} of {n} requests got no reply"
    assert result.duplicated == [], f"{len(result.duplicated)} requests got more than one reply"
    assert result.strangers == 0
    assert result.reply_types == Counter({reply_type: n})
    assert result.statuses == Counter({"ok": n})


async def assert_kernel_answers(kernel) -> None:
    with anyio.fail_after(30):
        info = await kernel.request("kernel_info_request")
        assert info.content["status"] == "ok"
        assert (await kernel.execute("21 * 2")).content["status"] == "ok"
        assert await kernel.call("save_var", name="__name__") == {
            "id": 42, "repr": repr("__main__"), "store": "default",
        }


@pytest.mark.timeout(300)
async def test_one_client_burst_of_kernel_info_requests(kernel):
    """5,000 back-to-back kernel_info_requests (stock ipykernel 7.4 wedges near 4,000)."""
    conn = kernel.client.get_connection_info()
    n = 5_000
    result = await anyio.to_thread.run_sync(lambda: raw_flood(conn, "kernel_info_request", {}, n))
    assert_each_answered_once(result, n, "kernel_info_reply")
    await assert_kernel_answers(kernel)


@pytest.mark.timeout(300)
async def test_four_clients_flood_actions_at_once(kernel):
    """4 clients x 2,500 no-op action requests at once: 10,000 in flight, one reply each."""
    conn = kernel.client.get_connection_info()
    clients, per_client = 4, 2_500
    start = threading.Barrier(clients)
    results: list[FloodResult] = [FloodResult()] * clients

    async def one(i: int) -> None:
        results[i] = await anyio.to_thread.run_sync(
            lambda: raw_flood(conn, "noop_request", {}, per_client, start=start)
        )

    async with anyio.create_task_group() as tg:
        for i in range(clients):
            tg.start_soon(one, i)
    for result in results:
        assert_each_answered_once(result, per_client, "noop_reply")
    all_ids = [m for r in results for m in r.sent]
    assert len(set(all_ids)) == clients * per_client
    await assert_kernel_answers(kernel)


@pytest.mark.timeout(300)
async def test_burst_to_a_subshell(kernel):
    """A subshell has its own pair of pipes; a 5,000-request burst to it is answered too."""
    conn = kernel.client.get_connection_info()
    subshell_id = await anyio.to_thread.run_sync(lambda: create_subshell(conn))
    n = 5_000
    result = await anyio.to_thread.run_sync(
        lambda: raw_flood(conn, "kernel_info_request", {}, n, subshell_id=subshell_id)
    )
    assert_each_answered_once(result, n, "kernel_info_reply")
    await assert_kernel_answers(kernel)


@pytest.mark.timeout(120)
async def test_concurrent_streams_keep_order_and_end_before_idle(kernel):
    """Streams from several actions at once: each arrives complete, in order, between busy and idle."""
    n, streams = 500, 4
    with anyio.fail_after(60):
        exchanges = [kernel.send("count_request", {"n": n}) for _ in range(streams)]
        for ex in exchanges:
            await ex.done.wait()
    for ex in exchanges:
        assert ex.content == {"status": "ok", "return": None}
        kinds = [m["header"]["msg_type"] for m in ex.iopub]
        assert kinds[0] == "status" and ex.iopub[0]["content"]["execution_state"] == "busy"
        assert kinds[-1] == "status" and ex.iopub[-1]["content"]["execution_state"] == "idle"
        assert [m["content"]["i"] for m in ex.of_type("count_response")] == list(range(n))
