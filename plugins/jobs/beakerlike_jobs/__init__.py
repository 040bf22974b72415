"""beakerlike-jobs: long-running jobs that stream progress (and binary chunks) and can be cancelled.

Shows three plugin features besides plain actions: streaming responses with binary
``buffers``, cancelling one running action from another request (``cancel_job``), and a
lifecycle hook (``kernel_shutdown`` stops every job).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
from dataclasses import dataclass, field
from typing import Any

import anyio

import beakerlike
from beakerlike import hookimpl

__version__ = "0.1.0"


@dataclass
class Job:
    """One running ``run_job`` call."""

    id: str
    steps: int
    step: int = 0
    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    loop: asyncio.AbstractEventLoop | None = None
    cancelled_by: str | None = None

    def cancel(self, by: str) -> None:
        """Stop the job at its next step, from any thread."""
        self.cancelled_by = by
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.scope.cancel)

    def to_json(self) -> dict[str, Any]:
        """Progress as JSON."""
        return {"job": self.id, "step": self.step, "steps": self.steps, "progress": self.step / self.steps,
                "done": self.step, "total": self.steps}


#: Jobs running now, by id.
JOBS: dict[str, Job] = {}
_ids = itertools.count(1)


@beakerlike.action
async def run_job(req, steps: int = 10, delay: float = 0.1, chunk_bytes: int = 0, job: str | None = None):
    """Run a job of ``steps`` steps, ``delay`` seconds each, streaming progress after every step.

    With ``chunk_bytes > 0`` each progress response carries one binary buffer of that many
    bytes (the job's "output"), and the reply gives the SHA-256 of all of them. ``job``
    names the job (default: ``job-N``) so ``cancel_job`` can stop it; a cancelled job
    replies ``ok`` with ``"job_state": "cancelled"`` (a finished one ``"done"``), an
    interrupt makes it reply ``aborted``. Each progress response follows the progress
    convention: ``progress`` (0..1) plus ``done``/``total`` steps.
    """
    if steps < 1 or delay < 0 or chunk_bytes < 0:
        raise ValueError("steps must be >= 1, delay and chunk_bytes >= 0")
    job_id = job or f"job-{next(_ids)}"
    if job_id in JOBS:
        raise ValueError(f"a job named {job_id!r} is already running")
    state = JOBS[job_id] = Job(id=job_id, steps=steps, loop=asyncio.get_running_loop())
    digest = hashlib.sha256()
    try:
        with state.scope:
            for i in range(1, steps + 1):
                await anyio.sleep(delay)
                state.step = i
                buffers = None
                if chunk_bytes:
                    chunk = bytes([i % 256]) * chunk_bytes
                    digest.update(chunk)
                    buffers = [chunk]
                await req.respond(state.to_json(), buffers=buffers)
    finally:
        JOBS.pop(job_id, None)
    job_state = "cancelled" if state.scope.cancelled_caught else "done"
    result = {"job": job_id, "job_state": job_state, "steps_done": state.step}
    if job_state == "cancelled":
        result["cancelled_by"] = state.cancelled_by
    if chunk_bytes:
        result["sha256"] = digest.hexdigest()
    return result


@beakerlike.action
async def cancel_job(req, job: str) -> dict[str, Any]:
    """Cancel the running job ``job``; returns its progress when cancelled."""
    state = JOBS.get(job)
    if state is None:
        running = ", ".join(sorted(JOBS)) or "none"
        raise LookupError(f"no running job named {job!r} (running: {running})")
    state.cancel(by=req.msg_id)
    return state.to_json()


@beakerlike.action
async def list_jobs(req) -> list[dict[str, Any]]:
    """The jobs running now, with their progress."""
    return [j.to_json() for j in JOBS.values()]


@hookimpl
def kernel_shutdown(kernel: Any) -> None:
    """Stop every job when the kernel shuts down."""
    for state in list(JOBS.values()):
        state.cancel(by="shutdown")
