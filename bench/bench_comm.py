"""The comm binding vs the message binding: a no-op action on the same kernel, over ZMQ.

    .venv/bin/python -m bench.bench_comm            # full run
    .venv/bin/python -m bench.bench_comm --quick    # smoke run

Both use the same raw client (bench/_util.py), one request in flight, the two bindings
interleaved. A request is done when its reply *and* its ``status: idle`` have arrived
(the comm binding publishes busy/idle around each request too, so JupyterLab's comm
futures complete); the comm's reply alone is printed as well. Target: ratio <= 1.3.
"""

from __future__ import annotations

import argparse
import sys
import uuid

from ._util import Exchange, RawClient, beakerlike_kernel, median, quantile

TARGET = 1.3


def open_comm(c: RawClient) -> str:
    """Open a ``beakerlike`` comm and wait for its hello."""
    comm_id = uuid.uuid4().hex
    ex = c.send("comm_open", {"comm_id": comm_id, "target_name": "beakerlike", "data": {}})
    while ex.counts.get("comm_msg", 0) == 0 or ex.idle_at is None:
        c.pump(0.05)
    del c.pending[ex.msg_id]
    return comm_id


def comm_noop(c: RawClient, comm_id: str) -> Exchange:
    """One ``bench_noop`` request on the comm; ``last_iopub_at`` is when its reply arrived."""
    ex = c.send("comm_msg", {"comm_id": comm_id, "data": {
        "request": {"id": uuid.uuid4().hex, "action": "bench_noop", "payload": {}}}})
    while ex.counts.get("comm_msg", 0) == 0 or ex.idle_at is None:
        c.pump(0.05)
    del c.pending[ex.msg_id]
    return ex


def run(n: int) -> tuple[list[float], list[float], list[float]]:
    """``n`` interleaved pairs; returns (messages reply+idle, comm reply+idle, comm reply) in seconds."""
    msgs, comm, comm_reply = [], [], []
    with beakerlike_kernel("bench.bench_actions") as kernel, RawClient(kernel.conn) as c:
        comm_id = open_comm(c)
        for _ in range(max(50, n // 10)):  # warm-up
            c.roundtrip("bench_noop_request")
            comm_noop(c, comm_id)
        for i in range(n):
            order = (0, 1) if i % 2 else (1, 0)
            for which in order:
                if which == 0:
                    ex = c.roundtrip("bench_noop_request")
                    assert ex.reply is not None and ex.reply["content"]["status"] == "ok", ex.reply
                    msgs.append(ex.latency)
                else:
                    ex = comm_noop(c, comm_id)
                    assert ex.idle_at is not None and ex.last_iopub_at is not None
                    comm.append(max(ex.idle_at, ex.last_iopub_at) - ex.sent)
                    comm_reply.append(ex.last_iopub_at - ex.sent)
    return msgs, comm, comm_reply


def main(argv: list[str] | None = None) -> int:
    """Print the medians and the ratio; exit status 0 even when the target is missed."""
    parser = argparse.ArgumentParser(prog="python -m bench.bench_comm", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer round trips, for a CI smoke run")
    parser.add_argument("-n", type=int, default=None, help="round trips per binding")
    args = parser.parse_args(argv)
    n = args.n or (200 if args.quick else 2000)
    msgs, comm, comm_reply = run(n)
    ratio = median(comm) / median(msgs)
    print(f"noop over messages (reply+idle): median {median(msgs) * 1e3:.3f} ms, "
          f"p99 {quantile(msgs, .99) * 1e3:.3f} ms (n={n})")
    print(f"noop over the comm (reply+idle): median {median(comm) * 1e3:.3f} ms, "
          f"p99 {quantile(comm, .99) * 1e3:.3f} ms; reply alone {median(comm_reply) * 1e3:.3f} ms")
    print(f"ratio comm / messages: {ratio:.2f} (target <= {TARGET}: {'met' if ratio <= TARGET else 'NOT met'})")
    print(f"ratio comm reply alone / messages: {median(comm_reply) / median(msgs):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
