"""MCP overhead: a noop tool call through ``beakerlike mcp`` (stdio) ÷ the same action over ZMQ.

    .venv/bin/python -m bench.bench_mcp            # 2,000 calls each way
    .venv/bin/python -m bench.bench_mcp --quick    # 200 calls each way (CI smoke run)

Both clients talk to the same kernel in the same run, in alternating rounds: the Python
``KernelClient`` sends ``bench_noop_request`` over ZMQ; the ``mcp`` SDK client calls the
``bench_noop`` tool of a ``beakerlike mcp --existing`` server over stdio (one more process
hop plus JSON-RPC). Target: ratio ≤ 3. Results: ``docs/performance.md`` ("MCP server").
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import anyio
from mcp import Client, StdioServerParameters

from beakerlike.testing import running_kernel

from ._util import ROOT

TARGET = 3.0


async def _timed(n: int, call) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        await call()
        times.append(time.perf_counter() - start)
    return times


async def bench(calls: int, rounds: int = 5) -> dict[str, float]:
    """Median seconds per call each way, and their ratio."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    async with running_kernel("bench.bench_actions", env=env, autoload=False) as kernel:
        params = StdioServerParameters(command=sys.executable, args=[
            "-m", "beakerlike", "mcp", "--existing", kernel.client.connection_file, "--allow", "bench_noop"],
            env=env)
        async with Client(params) as client:
            assert [t.name for t in (await client.list_tools()).tools][0] == "bench_noop"

            async def zmq() -> None:
                await kernel.call("bench_noop")

            async def mcp() -> None:
                result = await client.call_tool("bench_noop", {})
                assert not result.is_error, result

            await _timed(50, zmq)
            await _timed(50, mcp)
            zmq_times: list[float] = []
            mcp_times: list[float] = []
            for _ in range(rounds):
                zmq_times += await _timed(calls // rounds, zmq)
                mcp_times += await _timed(calls // rounds, mcp)
    zmq_ms, mcp_ms = 1000 * statistics.median(zmq_times), 1000 * statistics.median(mcp_times)
    return {"calls": calls, "zmq_ms": zmq_ms, "mcp_ms": mcp_ms, "ratio": mcp_ms / zmq_ms,
            "zmq_p90_ms": 1000 * statistics.quantiles(zmq_times, n=10)[-1],
            "mcp_p90_ms": 1000 * statistics.quantiles(mcp_times, n=10)[-1]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_mcp", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 calls each way instead of 2,000")
    args = parser.parse_args(argv)
    r = anyio.run(bench, 200 if args.quick else 2_000)
    ok = r["ratio"] <= TARGET
    print(f"mcp noop tool call (stdio) {r['mcp_ms']:.2f} ms (p90 {r['mcp_p90_ms']:.2f}) vs ZMQ KernelClient.call "
          f"{r['zmq_ms']:.2f} ms (p90 {r['zmq_p90_ms']:.2f}), median of {r['calls']} each: "
          f"ratio {r['ratio']:.2f}x (target <= {TARGET:g}x) {'OK' if ok else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
