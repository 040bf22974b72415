"""More actions for the protocol tests: rendezvous, logs, odd returns and output.

Coordination between requests uses keys chosen by each test, so one kernel can
serve all tests of a module without state leaking between them.
"""

import threading
from collections import defaultdict

import anyio

import beakerlike

#: Event log per key, read back with ``read_log``.
LOGS: dict[str, list[str]] = defaultdict(list)
# threading primitives: requests may run on different threads (subshells) with their own loops.
_events: dict[str, threading.Event] = defaultdict(threading.Event)
_arrived: dict[str, int] = defaultdict(int)
_thread_barriers: dict[str, threading.Barrier] = {}
_thread_lock = threading.Lock()


async def _wait_event(key: str) -> None:
    """Wait (bounded: 10 s) until ``key``'s event is set, from any thread."""
    with anyio.fail_after(10):
        while not _events[key].is_set():
            await anyio.sleep(0.005)


async def _meet(key: str, parties: int) -> None:
    """Wait until ``parties`` requests have reached the same key (bounded: 10 s)."""
    with _thread_lock:
        _arrived[key] += 1
        if _arrived[key] >= parties:
            _events[key].set()
    await _wait_event(key)


@beakerlike.action
async def meet(req, key: str, parties: int = 2) -> int:
    """Return only once ``parties`` calls with this key run at the same time."""
    await _meet(key, parties)
    return parties


@beakerlike.action
async def chatty(req, tag: str, key: str) -> str:
    """Print before and after meeting a concurrently running peer."""
    print(f"{tag}-before")
    await _meet(key, 2)
    print(f"{tag}-after")
    return tag


@beakerlike.action
def sync_chatty(req, tag: str, key: str) -> str:
    """Like ``chatty`` but in worker threads (sync handlers)."""
    with _thread_lock:
        barrier = _thread_barriers.setdefault(key, threading.Barrier(2, timeout=10))
    print(f"{tag}-before")
    barrier.wait()
    print(f"{tag}-after")
    return tag


@beakerlike.action(concurrent=False)
async def serial_hold(req, key: str) -> None:
    """Serial action that holds the serial slot until ``release`` is called for ``key``."""
    LOGS[key].append("hold-start")
    await req.respond({"holding": True})
    await _wait_event(key)
    LOGS[key].append("hold-end")


@beakerlike.action(concurrent=False)
async def serial_step(req, key: str, tag: str) -> None:
    """Serial action that logs its start and end."""
    LOGS[key].append(f"{tag}-start")
    await anyio.sleep(0.01)
    LOGS[key].append(f"{tag}-end")


@beakerlike.action
async def release(req, key: str) -> None:
    """Let ``serial_hold`` for ``key`` finish."""
    _events[key].set()


@beakerlike.action
async def read_log(req, key: str) -> list:
    """The log recorded under ``key``."""
    return LOGS[key]


@beakerlike.action
async def wait_forever(req) -> None:
    """Announce the start, then sleep until cancelled."""
    await req.respond({"started": True})
    await anyio.sleep(600)


@beakerlike.action
def sync_wait(req, seconds: float = 3.0) -> None:
    """A sync handler blocking its worker thread (abandoned on interrupt)."""
    import time

    req.respond({"started": True})
    time.sleep(seconds)


@beakerlike.action
async def bad_return(req) -> object:
    """Return something that is not JSON serializable."""
    return object()


@beakerlike.action
async def rich_return(req) -> dict:
    """Return values pydantic can convert (set, tuple, model)."""
    return {"set": {1}, "tuple": (1, 2)}


@beakerlike.action
async def show(req) -> None:
    """Publish display data through the handle and through IPython's ``display``."""
    from IPython.display import display

    req.display({"mime": "text/html", "value": "<b>hi</b>"})
    req.display({"text/plain": "raw bundle"}, raw=True)
    display("from IPython display")


@beakerlike.action(coalesce=0.05)
async def burst(req, n: int = 100):
    """Stream ``n`` small responses, coalesced into batches."""
    for i in range(n):
        yield i


@beakerlike.action(raw=True)
async def raw_echo(req, content):
    """Return the content unvalidated."""
    return content


@beakerlike.action(scope="internal")
async def hidden(req) -> str:
    """Callable but not listed."""
    return "hidden"


@beakerlike.action("renamed", docs="Docs given in the decorator.")
async def some_function_name(req, value: int = 7) -> int:
    """Not shown."""
    return value


@beakerlike.action
async def bad_respond(req) -> str:
    """Stream something that is not JSON serializable."""
    await req.respond({"value": object()})
    return "unreachable"


@beakerlike.action
async def exit_handler(req) -> None:
    """A handler that raises SystemExit must not stop the kernel."""
    raise SystemExit(3)


@beakerlike.action
async def interrupt_handler(req) -> None:
    """A handler that raises KeyboardInterrupt must not stop the kernel."""
    raise KeyboardInterrupt


@beakerlike.action(coalesce=0.02)
async def ticks(req, n: int = 1000):
    """Stream ``n`` numbers fast, coalesced (stays under jupyter_server's iopub rate limit)."""
    for i in range(n):
        yield i
        if i % 100 == 99:
            await anyio.sleep(0.001)


@beakerlike.action
async def stream_then_fail(req, n: int = 2):
    """Stream ``n`` responses, then raise."""
    for i in range(n):
        yield {"i": i}
    raise ValueError("after streaming")


@beakerlike.action
async def bare_values(req) -> None:
    """Respond with values that are not objects."""
    await req.respond([1, 2])
    req.respond("text")  # also works without await
    await req.respond(None)


@beakerlike.action(timeout=0.2)
def sync_too_slow(req) -> None:
    """A sync handler that overruns its timeout (its thread is abandoned)."""
    import time

    time.sleep(2)
