"""Core kernel benchmarks: every number is a ratio measured side by side in one run.

    .venv/bin/python -m bench.bench_core            # full run (a few minutes)
    .venv/bin/python -m bench.bench_core --quick    # smoke run for CI (under a minute)

Results and their meaning: ``docs/performance.md`` (section "Core kernel").
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from ._util import Exchange, KernelProcess, RawClient, bare_kernel, beakerlike_kernel, median, quantile

PLUGINS = ("bench.bench_actions",)
#: jupyter_server's default ``iopub_msg_rate_limit`` (messages/s, averaged over 3 s).
SERVER_IOPUB_LIMIT = 1000.0


@dataclass
class Result:
    """One benchmark line: ours vs the baseline, and the target for their ratio."""

    name: str
    ours: float
    baseline: float
    unit: str
    target: str
    ok: bool | None
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.ours / self.baseline if self.baseline else float("inf")


def _ms(x: float) -> float:
    return x * 1000


# -- 1. no-op action round trip vs kernel_info --------------------------------------------
def bench_roundtrip(kernel: KernelProcess, n: int) -> list[Result]:
    """No-op action vs ``kernel_info_request`` on the same kernel, interleaved, one in flight."""
    noop, info, noop_reply, info_reply = [], [], [], []
    with RawClient(kernel.conn) as c:
        for _ in range(max(50, n // 10)):  # warm-up
            c.roundtrip("bench_noop_request")
            c.roundtrip("kernel_info_request")
        for i in range(n):
            pair: list[tuple[str, list[float], list[float]]] = [
                ("bench_noop_request", noop, noop_reply),
                ("kernel_info_request", info, info_reply),
            ]
            for msg_type, lat, rep in pair if i % 2 else pair[::-1]:
                ex = c.roundtrip(msg_type)
                assert ex.reply is not None and ex.reply["content"]["status"] == "ok", ex.reply
                lat.append(ex.latency)
                rep.append(ex.reply_at - ex.sent)  # type: ignore[operator]
    ours, base = median(noop), median(info)
    return [
        Result("no-op action round trip (reply+idle), median", _ms(ours), _ms(base), "ms",
               "<= 1.10", ours / base <= 1.10,
               f"p99 {_ms(quantile(noop, .99)):.2f} vs {_ms(quantile(info, .99)):.2f} ms; n={n}"),
        Result("no-op action, reply only, median", _ms(median(noop_reply)), _ms(median(info_reply)), "ms",
               "(info)", None),
    ]


# -- 2. execute latency while a 2 s action runs ---------------------------------------------
def bench_execute_under_load(kernel: KernelProcess, cycles: int, seconds: float = 2.0) -> list[Result]:
    """``execute_request`` round trips while a 2 s action sleeps, vs with the kernel idle."""
    unloaded: list[float] = []
    loaded: list[float] = []
    cell = {"code": "pass", "silent": False, "store_history": False, "user_expressions": {},
            "allow_stdin": False, "stop_on_error": False}
    with RawClient(kernel.conn) as c:
        for _ in range(30):
            c.roundtrip("execute_request", cell)
        for _ in range(cycles):
            start = time.perf_counter()
            while time.perf_counter() - start < seconds:
                unloaded.append(c.roundtrip("execute_request", cell).latency)
            slow = c.send("bench_slow_request", {"seconds": seconds})
            while True:
                ex = c.roundtrip("execute_request", cell)
                if slow.reply_at is not None and slow.reply_at < ex.sent + ex.latency:
                    break  # the action ended during this one: not "while it runs"
                loaded.append(ex.latency)
            c.finish(slow)
            assert slow.reply is not None and slow.reply["content"]["status"] == "ok", slow.reply
            assert slow.latency >= seconds
    ours, base = median(loaded), median(unloaded)
    return [Result(f"execute_request latency during a {seconds:g} s action vs idle, median", _ms(ours), _ms(base),
                   "ms", "<= 1.5", ours / base <= 1.5,
                   f"{len(loaded)} cells during the action, {len(unloaded)} idle")]


# -- 3. streaming --------------------------------------------------------------------------
@dataclass
class StreamRun:
    """One streaming request as the client saw it."""

    messages: int
    items: int
    seconds: float

    @property
    def msgs_per_s(self) -> float:
        return self.messages / self.seconds

    @property
    def items_per_s(self) -> float:
        return self.items / self.seconds


def stream_once(c: RawClient, msg_type: str, n: int, count_items: Callable[[Exchange], int] | None = None
                ) -> StreamRun:
    """Send one streaming request and time it from send to its last response."""
    ex = c.finish(c.send(msg_type, {"n": n}), timeout=120)
    assert ex.reply is not None and ex.reply["content"]["status"] == "ok", ex.reply
    messages = sum(v for k, v in ex.counts.items() if k.endswith("_response"))
    assert ex.last_iopub_at is not None
    items = count_items(ex) if count_items else messages
    return StreamRun(messages, items, ex.last_iopub_at - ex.sent)


def bench_streaming(ours: KernelProcess, bare: KernelProcess, n: int, trials: int) -> list[Result]:
    """10,000 responses from one action vs a bare ipykernel handler, alternating trials."""
    mine: list[StreamRun] = []
    theirs: list[StreamRun] = []
    coalesced: list[StreamRun] = []
    with RawClient(ours.conn) as a, RawClient(bare.conn) as b:
        a.count_batches = True
        stream_once(a, "bench_stream_request", 100)  # warm-up
        stream_once(b, "bench_stream_request", 100)
        for _ in range(trials):
            theirs.append(stream_once(b, "bench_stream_request", n))
            mine.append(stream_once(a, "bench_stream_request", n))
            coalesced.append(stream_once(a, "bench_stream_coalesced_request", n, lambda ex: ex.items))
    rate = median(r.msgs_per_s for r in mine)
    base = median(r.msgs_per_s for r in theirs)
    lost_ours = n - min(r.messages for r in mine)
    lost_bare = n - min(r.messages for r in theirs)
    co_items = median(r.items_per_s for r in coalesced)
    co_msgs = median(r.msgs_per_s for r in coalesced)
    co_count = median(r.messages for r in coalesced)
    co_lost = n - min(r.items for r in coalesced)
    return [
        Result(f"streaming {n:,} responses, responses/s", rate, base, "msg/s", ">= 0.8", rate / base >= 0.8,
               f"lost: ours {lost_ours}, bare {lost_bare}; {trials} trials"),
        Result(f"coalesced (0.05 s) {n:,} items, items/s delivered", co_items, base, "item/s", "(info)", None,
               f"{co_count:.0f} messages, {co_msgs:,.0f} msg/s on the wire "
               f"(jupyter_server drops beyond {SERVER_IOPUB_LIMIT:,.0f}/s); lost items {co_lost}"),
    ]


# -- 4. memory -------------------------------------------------------------------------------
def flood_pipelined(kernel: KernelProcess, msg_type: str, n: int, window: int = 64) -> None:
    """Send ``n`` requests keeping ``window`` in flight; every one must get reply and idle."""
    with RawClient(kernel.conn) as c:
        sent = done = 0
        inflight: list[Exchange] = []
        deadline = time.monotonic() + 600
        while done < n:
            while sent < n and len(inflight) < window:
                inflight.append(c.send(msg_type))
                sent += 1
            c.pump(0.01)
            still = []
            for ex in inflight:
                if ex.done:
                    del c.pending[ex.msg_id]
                    done += 1
                else:
                    still.append(ex)
            inflight = still
            if time.monotonic() > deadline:
                raise TimeoutError(f"{msg_type}: {done}/{n} done")


def bench_memory(n: int) -> list[Result]:
    """Kernel RSS growth over ``n`` no-op actions vs ``n`` kernel_info_requests (fresh kernels)."""
    growth: dict[str, float] = {}
    rates: dict[str, float] = {}
    for msg_type in ("bench_noop_request", "kernel_info_request"):
        with beakerlike_kernel(*PLUGINS) as k:
            flood_pipelined(k, msg_type, 2_000)  # warm-up: imports, caches
            before = k.rss()
            t = time.perf_counter()
            flood_pipelined(k, msg_type, n)
            rates[msg_type] = n / (time.perf_counter() - t)
            growth[msg_type] = (k.rss() - before) / 2**20
    ours, base = growth["bench_noop_request"], growth["kernel_info_request"]
    return [Result(f"kernel RSS growth over {n:,} no-op actions", ours, base, "MiB", "< 10 MiB", ours < 10,
                   f"baseline = same count of kernel_info_request; {rates['bench_noop_request']:,.0f} vs "
                   f"{rates['kernel_info_request']:,.0f} req/s pipelined")]


# -- main ----------------------------------------------------------------------------------
def run(quick: bool) -> list[Result]:
    """Run every benchmark; ``quick`` shrinks sizes for a CI smoke run."""
    results: list[Result] = []
    with beakerlike_kernel(*PLUGINS) as ours:
        results += _step("round trip", lambda: bench_roundtrip(ours, 300 if quick else 2_000))
        results += _step("execute under load", lambda: bench_execute_under_load(ours, 1 if quick else 3))
        with bare_kernel() as bare:
            results += _step("streaming", lambda: bench_streaming(ours, bare, 10_000, 1 if quick else 5))
    results += _step("memory", lambda: bench_memory(10_000 if quick else 100_000))
    return results


def _step(name: str, fn: Callable[[], list[Result]]) -> list[Result]:
    t = time.perf_counter()
    print(f"... {name}", file=sys.stderr, flush=True)
    out = fn()
    print(f"    {name}: {time.perf_counter() - t:.1f} s", file=sys.stderr, flush=True)
    return out


def render(results: list[Result]) -> str:
    """A markdown table of the results."""
    lines = ["| benchmark | beakerlike | baseline | ratio | target | met | notes |",
             "|---|---:|---:|---:|---|---|---|"]
    for r in results:
        met = "" if r.ok is None else ("yes" if r.ok else "**no**")
        lines.append(f"| {r.name} | {_fmt(r.ours)} {r.unit} | {_fmt(r.baseline)} {r.unit} | {r.ratio:.2f} | "
                     f"{r.target} | {met} | {r.note} |")
    return "\n".join(lines)


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.2f}"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; exit status 0 even when a target is missed (see the table)."""
    parser = argparse.ArgumentParser(prog="python -m bench.bench_core", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a CI smoke run")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    results = run(args.quick)
    print(render(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump([{**asdict(r), "ratio": r.ratio} for r in results], f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())

