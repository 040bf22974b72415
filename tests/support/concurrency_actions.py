"""Actions for the concurrency tests: where handlers run, main-thread actions, output order."""

import threading
import time
from collections import defaultdict

import anyio

import beakerlike
from beakerlike.request import ActionCancelled

#: Event log per key, read back with ``conc_log``.
LOGS: dict[str, list] = defaultdict(list)


@beakerlike.action
async def where(req) -> str:
    """The name of the thread the handler runs on."""
    return threading.current_thread().name


@beakerlike.action(main_thread=True)
async def main_note(req, key: str, tag: str) -> dict:
    """A main-thread action: logs ``tag`` and reports its thread and whether the cell had finished."""
    LOGS[key].append(tag)
    return {"thread": threading.current_thread().name, "cell_finished": req.namespace.get("cell_finished")}


@beakerlike.action(main_thread=True)
def main_sync(req, key: str) -> str:
    """A main-thread ``def`` handler runs on the main thread itself."""
    LOGS[key].append("sync")
    return threading.current_thread().name


@beakerlike.action
async def conc_log(req, key: str) -> list:
    """What was logged under ``key``."""
    return LOGS[key]


@beakerlike.action
def interleave_sync(req, n: int = 5) -> None:
    """Alternate print and respond in a worker thread."""
    for i in range(n):
        print(f"line {i}")
        req.respond({"i": i})


@beakerlike.action
async def interleave_async(req, n: int = 5) -> None:
    """Alternate print and respond on the action loop."""
    for i in range(n):
        print(f"line {i}")
        await req.respond({"i": i})
        await anyio.sleep(0)


@beakerlike.action
async def ticker(req, delay: float = 0.02) -> None:
    """Stream until cancelled."""
    i = 0
    while True:
        await req.respond({"i": i})
        i += 1
        await anyio.sleep(delay)


@beakerlike.action
def sync_stream(req, key: str, n: int = 30, delay: float = 0.05) -> None:
    """Stream from a worker thread; logs how it ended (abandoned threads see ActionCancelled)."""
    try:
        for i in range(n):
            req.respond({"i": i})
            print(f"tick {i}")
            time.sleep(delay)
        LOGS[key].append("finished")
    except ActionCancelled:
        LOGS[key].append("cancelled")


@beakerlike.action(timeout=0.3)
def sync_stream_timeout(req, key: str, n: int = 30, delay: float = 0.05) -> None:
    """Like ``sync_stream`` but with a 0.3 s timeout."""
    sync_stream(req, key, n, delay)


@beakerlike.action
async def fill_namespace(req, prefix: str, n: int = 2000) -> int:
    """Bind ``n`` names in the user namespace, yielding between each."""
    for i in range(n):
        req.namespace[f"{prefix}{i}"] = i
        if i % 50 == 0:
            await anyio.sleep(0)
    return n


@beakerlike.action
async def raise_base(req, kind: str) -> None:
    """Raise a BaseException that is not a cancellation."""
    if kind == "generator_exit":
        raise GeneratorExit("closed")

    class CustomBase(BaseException):
        pass

    raise CustomBase("custom")


@beakerlike.action
def raise_base_sync(req) -> None:
    """Raise GeneratorExit from a worker thread."""
    raise GeneratorExit("closed in a thread")


@beakerlike.action(main_thread=True)
def main_sleep(req, seconds: float = 60) -> None:
    """A main-thread ``def`` handler that blocks the main thread (only an interrupt stops it)."""
    req.respond({"started": True})
    time.sleep(seconds)


#: Events a test's cell waits on, opened by ``open_gate`` (so a cell ends when the test says, not after a sleep).
GATES: dict[str, threading.Event] = defaultdict(threading.Event)


@beakerlike.action
async def open_gate(req, key: str) -> None:
    """Let a cell waiting on ``GATES[key]`` finish."""
    GATES[key].set()
