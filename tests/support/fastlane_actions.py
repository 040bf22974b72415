"""Actions for the fast-lane tests: where a handler runs, one that blocks, one that waits."""

import threading
import time

import anyio

import beakerlike


@beakerlike.action
async def lane_where(req) -> str:
    """The name of the thread the handler runs on."""
    return threading.current_thread().name


@beakerlike.action
async def lane_block(req, seconds: float = 0.0) -> str:
    """Block the thread it runs on for ``seconds`` (an async handler that misbehaves), then say where it ran."""
    time.sleep(seconds)
    return threading.current_thread().name


@beakerlike.action
async def lane_wait(req, seconds: float = 60.0) -> None:
    """Respond once, then wait without blocking (until cancelled)."""
    await req.respond({"waiting": True})
    await anyio.sleep(seconds)


@beakerlike.action
async def lane_talk(req, n: int = 3) -> str:
    """Alternate print and respond without awaiting anything; returns where it ran."""
    for i in range(n):
        print(f"line {i}")
        req.respond({"i": i})
    return threading.current_thread().name


@beakerlike.action
async def lane_fail(req, number: int) -> None:
    """Raise an error (after the payload's ``number`` was validated)."""
    raise RuntimeError(f"failed with {number}")


@beakerlike.action
async def lane_sleep(req, seconds: float = 60.0) -> None:
    """Wait without publishing anything (until cancelled)."""
    await anyio.sleep(seconds)


@beakerlike.action
async def lane_pauses(req) -> int:
    """How many times the main thread has stepped aside for a quick action (see beakerlike._mainpause)."""
    return req.kernel._main_pause.pauses
