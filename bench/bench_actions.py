"""Actions the core benchmarks call (loaded with ``BEAKERLIKE_PLUGINS=bench.bench_actions``)."""

from __future__ import annotations

import anyio

import beakerlike


@beakerlike.action
async def bench_noop(req) -> None:
    """Do nothing."""


@beakerlike.action
async def bench_slow(req, seconds: float = 2.0) -> None:
    """Sleep without blocking the kernel."""
    await anyio.sleep(seconds)


@beakerlike.action
async def bench_stream(req, n: int = 10_000) -> None:
    """Publish ``n`` responses as fast as possible."""
    for i in range(n):
        req.respond({"i": i})


@beakerlike.action(coalesce=0.05)
async def bench_stream_coalesced(req, n: int = 10_000, chunk: int = 100) -> None:
    """Publish ``n`` responses, coalesced into one message per 50 ms.

    Yields to the loop every ``chunk`` items so the periodic flush can run, as a
    real producer (reading a file, training a model) would.
    """
    for i in range(n):
        req.respond({"i": i})
        if i % chunk == chunk - 1:
            await anyio.sleep(0)
