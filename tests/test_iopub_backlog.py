"""A frontend that falls behind on iopub loses nothing, not even the idle status.

With ZMQ's default high-water mark (1,000 messages per subscriber) the kernel's
PUB socket silently drops what a slow subscriber has not taken yet; measured on
stock settings, this test's subscriber got about 4,500 of 20,000 responses and
no idle. ``BeakerlikeKernelApp`` raises the mark (``iopub_hwm``).
"""

from __future__ import annotations

import time
from pathlib import Path

import anyio
import pytest
import zmq
from jupyter_client.session import Session

from beakerlike.testing import running_kernel

pytestmark = pytest.mark.anyio

SUPPORT = str(Path(__file__).parent / "support")
N = 20_000


def read_until_idle(sub: zmq.Socket, session: Session, msg_id: str, quiet: float = 10.0) -> tuple[list[int], bool]:
    """Read the request's responses until its idle, or until nothing arrives for ``quiet`` seconds."""
    seen: list[int] = []
    while sub.poll(int(quiet * 1000)):
        _, frames = session.feed_identities(sub.recv_multipart())
        msg = session.deserialize(frames)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["header"]["msg_type"] == "blast_response":
            seen.append(msg["content"]["i"])
        elif msg["header"]["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return seen, True
    return seen, False


async def test_slow_iopub_subscriber_gets_every_response_and_idle():
    async with running_kernel("stream_actions", pythonpath=[SUPPORT], autoload=False) as kernel:
        info = kernel.client.get_connection_info(session=False)
        ctx = zmq.Context.instance()
        sub = ctx.socket(zmq.SUB)
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        sub.connect(f"{info['transport']}://{info['ip']}:{info['iopub_port']}")
        try:
            # Make sure the subscription is live before the burst (a PUB drops for unknown peers).
            deadline = time.monotonic() + 30
            while not sub.poll(0):
                await kernel.execute("pass")
                assert time.monotonic() < deadline, "subscriber never received anything"
            while sub.poll(200):
                sub.recv_multipart()
            ex = kernel.send("blast_request", {"n": N})
            with anyio.fail_after(120):
                await ex.done.wait()  # the kernel has published everything; our SUB has read nothing yet
            assert ex.content == {"status": "ok", "return": N}
            session = Session(key=kernel.client.session.key, signature_scheme=kernel.client.session.signature_scheme)
            seen, idle = await anyio.to_thread.run_sync(read_until_idle, sub, session, ex.request["header"]["msg_id"])
        finally:
            sub.close(linger=0)
    assert idle, f"idle status lost after {len(seen)} responses"
    assert seen == list(range(N))
