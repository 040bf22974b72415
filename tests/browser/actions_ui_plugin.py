"""Kernel-side actions for the Actions sidebar browser tests and bench (loaded with BEAKERLIKE_PLUGINS).

``checked_count`` has schema bounds (the form refuses bad values before sending) and
counts its calls, so a test can tell the kernel was never asked; ``html_text`` streams,
prints, displays and returns HTML-looking text; ``ping`` answers with one progress
response at once (bench); ``flood`` streams many coalesced responses.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio
import pydantic

import beakerlike

EVIL = '<img src=x onerror="window.__beakerlike_xss = 1">'
CALLS = {"checked_count": 0}


@beakerlike.action
async def checked_count(req: Any, count: Annotated[int, pydantic.Field(ge=1, le=1000)], label: str = "items"
                        ) -> dict[str, Any]:
    """Count to ``count`` (1..1000) and return it with ``label``."""
    CALLS["checked_count"] += 1
    return {"count": count, "label": label}


@beakerlike.action
async def test_calls(req: Any) -> dict[str, int]:
    """How often each test action ran in this kernel."""
    return dict(CALLS)


@beakerlike.action
async def html_text(req: Any) -> dict[str, str]:
    """Stream, print, display and return text that looks like HTML (it must show as text)."""
    await req.respond({"message": EVIL})
    print(EVIL)
    req.display({"text/html": EVIL, "text/plain": EVIL}, raw=True)
    return {"message": EVIL}


@beakerlike.action
async def ping(req: Any) -> str:
    """One progress response (``{"progress": 1.0}``) straight away, then return."""
    await req.respond({"progress": 1.0})
    return "pong"


@beakerlike.action(coalesce=0.05)
async def flood(req: Any, n: int = 10_000) -> int:
    """Stream ``n`` ``{"done", "total"}`` responses as fast as possible (coalesced)."""
    for i in range(1, n + 1):
        req.respond({"done": i, "total": n})
        if i % 50 == 0:
            await anyio.sleep(0.001)  # let batches go out while streaming
    return n
