"""Kernel memory over many mixed actions (issue 11 item 17).

Runs N mixed action requests against one beakerlike kernel process -- echo, a small stream, an
``async`` error with a traceback, a ``def`` handler, an unknown action, a validation error, preview
pages and snapshots while a watcher is registered -- pipelined in windows, and samples the kernel's
RSS along the way. Targets: growth over 100,000 actions < 15 MB, and flat over the second 50,000.

    python -m bench.bench_memory [--actions 100000] [--window 100] [--trace]

``--trace`` also prints the kernel's top ``tracemalloc`` growth between the first and last sample
(slower; for finding a leak, not for the figures).
"""

from __future__ import annotations

import argparse
import os
import time

from ._util import RawClient, beakerlike_kernel

PLUGINS = ("bench.bench_actions", "bench.bench_memory_actions")

SETUP = ("data = {'k%d' % i: list(range(20)) for i in range(50)}\ntext = 'line\\n' * 200\n"
         "import numpy as np\narr = np.arange(1000.0).reshape(100, 10)\n")

#: One round of the mix: (msg_type, content). Every request ends in one reply and idle.
MIX: list[tuple[str, dict]] = [
    ("bench_noop_request", {}),
    ("bench_echo_request", {"data": {"a": [1, 2, 3], "b": "x" * 100}}),
    ("bench_stream_request", {"n": 5}),
    ("bench_fail_request", {}),
    ("bench_sync_request", {"n": 3}),
    ("no_such_action_request", {}),
    ("bench_noop_request", {"unexpected": 1}),
    ("preview_page_request", {"path": ["data"], "limit": 20}),
    ("preview_page_request", {"path": ["data", "missing"]}),
    ("preview_page_request", {"path": ["arr"], "limit": 20, "binary": True}),
    ("preview_page_request", {"path": ["text"], "limit": 50}),
    ("preview_snapshot_request", {}),
]


def run(client: RawClient, n: int, window: int) -> None:
    """Send ``n`` requests of the mix, ``window`` in flight at a time."""
    sent = 0
    while sent < n:
        batch = [client.send(*MIX[(sent + i) % len(MIX)]) for i in range(min(window, n - sent))]
        for ex in batch:
            client.finish(ex, timeout=120)
            if ex.reply is None or ex.reply["content"]["status"] not in ("ok", "error"):
                raise RuntimeError(f"unexpected reply {ex.reply}")
        sent += len(batch)


def execute(client: RawClient, code: str) -> None:
    """Run a cell and wait for it."""
    client.roundtrip("execute_request", {"code": code, "silent": False, "store_history": False,
                                          "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})


def main(argv: list[str] | None = None) -> None:
    """Print RSS samples and the growth figures."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--actions", type=int, default=100_000)
    p.add_argument("--window", type=int, default=100)
    p.add_argument("--samples", type=int, default=10)
    p.add_argument("--trace", action="store_true")
    args = p.parse_args(argv)
    mb = 1024 * 1024
    with beakerlike_kernel(*PLUGINS) as kernel, RawClient(kernel.conn) as client:
        execute(client, SETUP)
        client.roundtrip("preview_watch_request", {"key": "bench"})
        run(client, 2_000, args.window)  # warm-up: imports, caches, first-use allocations
        if args.trace:
            execute(client, "import tracemalloc as _tm\n_tm.start(12)\n_snap0 = _tm.take_snapshot()")
        step = max(args.actions // args.samples, 1)
        base = kernel.rss()
        samples = [(0, base)]
        started = time.perf_counter()
        done = 0
        while done < args.actions:
            run(client, min(step, args.actions - done), args.window)
            done += min(step, args.actions - done)
            samples.append((done, kernel.rss()))
            print(f"  after {done:>7,} actions: RSS {samples[-1][1] / mb:7.1f} MB "
                  f"({(samples[-1][1] - base) / mb:+6.1f})", flush=True)
        elapsed = time.perf_counter() - started
        half = min(samples, key=lambda s: abs(s[0] - args.actions // 2))
        total = (samples[-1][1] - base) / mb
        second = (samples[-1][1] - half[1]) / mb
        print(f"mixed actions: {args.actions:,} in {elapsed:.1f} s ({args.actions / elapsed:,.0f}/s)")
        print(f"RSS growth over {args.actions:,} actions: {total:+.1f} MB (target < 15 MB)")
        print(f"RSS growth over the second half ({half[0]:,} -> {args.actions:,}): {second:+.1f} MB (target: flat)")
        if args.trace:
            out = os.path.join(kernel.tmp.name, "trace.txt")
            execute(client, "_stats = _tm.take_snapshot().compare_to(_snap0, 'traceback')\n"
                            f"with open({out!r}, 'w') as _f:\n"
                            "    for _s in _stats[:10]:\n"
                            "        print(_s, *_s.traceback.format()[-8:], sep='\\n', file=_f)\n")
            with open(out) as f:
                print(f.read())


if __name__ == "__main__":
    main()
