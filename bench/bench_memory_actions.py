"""Actions ``bench/bench_memory.py`` mixes in (besides ``bench.bench_actions``)."""

from __future__ import annotations

from typing import Any

import beakerlike


@beakerlike.action
async def bench_echo(req, data: Any = None) -> Any:
    """Return the payload."""
    return data


@beakerlike.action
async def bench_fail(req) -> None:
    """Raise, so the reply carries a formatted traceback."""
    raise ValueError("bench failure")


@beakerlike.action
def bench_sync(req, n: int = 3) -> int:
    """A ``def`` handler (runs in a worker thread) that streams ``n`` responses."""
    for i in range(n):
        req.respond({"i": i})
    return n
