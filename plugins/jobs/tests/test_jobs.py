import hashlib
from pathlib import Path

import anyio
import beakerlike_jobs
import pytest

from beakerlike.testing import Harness

pytestmark = pytest.mark.anyio
PLUGIN_ROOT = str(Path(beakerlike_jobs.__file__).resolve().parent.parent)


async def test_job_streams_progress_and_binary_chunks():
    harness = Harness("beakerlike_jobs", builtins=False)
    outcome = await harness.run("run_job", steps=3, delay=0, chunk_bytes=4, job="j")
    assert [r["progress"] for r in outcome.responses] == [1 / 3, 2 / 3, 1.0]
    chunks = [p.buffers[0] for p in outcome.of_type("run_job_response")]
    assert chunks == [b"\x01" * 4, b"\x02" * 4, b"\x03" * 4]
    assert [(r["done"], r["total"]) for r in outcome.responses] == [(1, 3), (2, 3), (3, 3)]
    assert outcome.value == {"job": "j", "job_state": "done", "steps_done": 3,
                             "sha256": hashlib.sha256(b"".join(chunks)).hexdigest()}


async def test_cancel_job_from_another_request():
    harness = Harness("beakerlike_jobs", builtins=False)
    results = {}

    async def run():
        results["job"] = await harness.run("run_job", steps=1000, delay=0.01, job="long")

    async with anyio.create_task_group() as tg:
        tg.start_soon(run)
        with anyio.fail_after(10):
            while not await harness.call("list_jobs"):
                await anyio.sleep(0.01)
        cancelled = await harness.call("cancel_job", job="long")
        assert cancelled["job"] == "long"
    value = results["job"].value
    assert value["job_state"] == "cancelled" and "status" not in value and value["steps_done"] < 1000
    assert await harness.call("list_jobs") == []
    missing = await harness.run("cancel_job", job="long")
    assert missing.reply["ename"] == "LookupError"


async def test_bad_arguments_are_refused():
    harness = Harness("beakerlike_jobs", builtins=False)
    assert "steps must be >= 1" in (await harness.run("run_job", steps=0)).reply["evalue"]


@pytest.mark.beakerlike_plugins("beakerlike_jobs", autoload=False, pythonpath=[PLUGIN_ROOT])
async def test_job_in_a_real_kernel_cancel_and_interrupt(beakerlike_kernel):
    kernel = beakerlike_kernel
    progress = []
    done = await kernel.call("run_job", steps=2, delay=0, chunk_bytes=3,
                             on_response=lambda m: progress.append((m["content"]["step"], m["buffers"])))
    assert done["job_state"] == "done"
    assert [(s, [bytes(b) for b in bufs]) for s, bufs in progress] == [(1, [b"\x01" * 3]), (2, [b"\x02" * 3])]

    running = kernel.send("run_job_request", {"steps": 1000, "delay": 0.01, "job": "k"})
    with anyio.fail_after(20):
        while not await kernel.call("list_jobs"):
            await anyio.sleep(0.02)
    await kernel.call("cancel_job", job="k")
    with anyio.fail_after(20):
        await running.done.wait()
    assert running.content["status"] == "ok" and running.content["return"]["job_state"] == "cancelled"

    interrupted = kernel.send("run_job_request", {"steps": 1000, "delay": 0.01})
    with anyio.fail_after(20):
        while not await kernel.call("list_jobs"):
            await anyio.sleep(0.02)
    await kernel.interrupt()
    with anyio.fail_after(20):
        await interrupted.done.wait()
    assert interrupted.content["status"] == "aborted"
