"""Actions used by the kernel protocol tests."""

import anyio
import pydantic

import beakerlike


@beakerlike.action
async def save_var(req, name: str, store: str = "default") -> dict:
    """Save a notebook variable to a store."""
    value = req.namespace[name]
    await req.respond({"progress": 0.5})
    print("saving", name)
    return {"id": 42, "repr": repr(value), "store": store}


@beakerlike.action
async def noop(req) -> None:
    """Do nothing."""


@beakerlike.action
async def slow(req, seconds: float = 5.0) -> str:
    """Sleep, then return."""
    await anyio.sleep(seconds)
    return "done"


@beakerlike.action
async def fail(req) -> None:
    """Raise an error."""
    raise RuntimeError("boom from handler")


@beakerlike.action
async def count(req, n: int = 3):
    """Stream n responses."""
    for i in range(n):
        yield {"i": i}


@beakerlike.action
def sync_add(req, a: int, b: int) -> int:
    """A plain function action."""
    print("adding in a thread")
    return a + b


@beakerlike.action(timeout=0.2)
async def too_slow(req) -> None:
    """Always times out."""
    await anyio.sleep(10)


@beakerlike.action
async def echo_buffers(req) -> dict:
    """Echo binary buffers back as a response."""
    await req.respond({"n": len(req.buffers)}, buffers=[bytes(b)[::-1] for b in req.buffers])
    return {"sizes": [len(b) for b in req.buffers]}


class Point(pydantic.BaseModel):
    x: int
    y: int = 0


@beakerlike.action
async def norm(req, point: Point) -> int:
    """Validate into a pydantic model."""
    return abs(point.x) + abs(point.y)


@beakerlike.action("say", concurrent=False)
async def say_serial(req, text: str) -> str:
    """Run one at a time."""
    await anyio.sleep(0.05)
    return text
