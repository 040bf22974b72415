"""The in-process harness and the pytest fixtures shipped in beakerlike.testing."""

import sys
from pathlib import Path

import anyio
import pytest

import beakerlike
from beakerlike.testing import Harness, Published

SUPPORT = Path(__file__).parent / "support"
sys.path.insert(0, str(SUPPORT))

pytestmark = pytest.mark.anyio


@pytest.fixture
def harness():
    return Harness("sample_actions", namespace={"df": [1, 2]})


async def test_call_through_the_real_dispatch_path(harness):
    outcome = await harness.run("save_var", name="df", store="s3")
    assert outcome.status == "ok"
    assert outcome.value == {"id": 42, "repr": "[1, 2]", "store": "s3"}
    assert outcome.responses == [{"progress": 0.5}]
    assert outcome.published[0] == Published("save_var_response", {"progress": 0.5}, [])


async def test_streaming_sync_and_model_handlers(harness):
    assert [r["i"] for r in (await harness.run("count", n=3)).responses] == [0, 1, 2]
    assert await harness.call("sync_add", a=2, b=3) == 5
    assert await harness.call("norm", x=-3, y=4) == 7


async def test_errors_become_replies(harness):
    bad = await harness.run("sync_add", a="x")
    assert bad.status == "error" and bad.reply["ename"] == "ValidationError"
    assert {tuple(e["loc"]) for e in bad.reply["errors"]} == {("a",), ("b",)}
    boom = await harness.run("fail")
    assert boom.reply["ename"] == "RuntimeError" and boom.reply["traceback"]
    with pytest.raises(beakerlike.ActionError, match="boom from handler"):
        await harness.call("fail")
    unknown = await harness.run("nope")
    assert unknown.reply["ename"] == "UnknownAction" and "count" in unknown.reply["evalue"]
    timeout = await harness.run("too_slow")
    assert timeout.reply["ename"] == "ActionTimeout"


async def test_buffers_in_and_out(harness):
    outcome = await harness.run("echo_buffers", buffers=[b"abc", b"de"])
    assert outcome.value == {"sizes": [3, 2]}
    assert outcome.of_type("echo_buffers_response")[0].buffers == [b"cba", b"ed"]


async def cancel_slow_action(harness, *reason: str):
    """Start the slow action, cancel it once it runs, and return its outcome."""
    results = []

    async def run():
        results.append(await harness.run("slow", seconds=30))

    async with anyio.create_task_group() as tg:
        tg.start_soon(run)
        with anyio.fail_after(10):
            while not harness.running:
                await anyio.sleep(0.01)
        assert harness.cancel_actions(*reason) == 1
    return results[0]


async def test_cancel_replies_aborted(harness):
    outcome = await cancel_slow_action(harness)
    assert outcome.status == "aborted"


async def test_cancel_reason_reaches_the_reply(harness):
    outcome = await cancel_slow_action(harness, "shutdown")
    assert outcome.reply == {"status": "aborted", "reason": "shutdown"}


async def test_handlers_given_directly_and_context_info():
    async def plain(req, n: int = 1) -> int:
        return n + 1

    @beakerlike.action("renamed")
    async def decorated(req) -> str:
        req.display({"text/plain": "shown"}, raw=True)
        return "ok"

    harness = Harness(plain, decorated)
    assert await harness.call("plain", n=2) == 3
    shown = await harness.run("renamed")
    assert shown.of_type("display_data")[0].content["data"] == {"text/plain": "shown"}
    info = await harness.call("context_info")
    assert {"plain", "renamed", "context_info"} <= set(info["actions"]) and info["plugin_errors"] == []
    assert "context_info" not in Harness(plain, builtins=False).callable_actions()


async def test_namespace_is_shared_and_plugin_errors_are_visible():
    ns = {}
    harness = Harness("plugins_good", "plugins_import_error", namespace=ns)
    assert harness.namespace is ns
    assert [e.plugin for e in harness.errors] == ["plugins_import_error"]
    assert await harness.call("good_ping", text="hi") == "hi"


@pytest.mark.beakerlike_plugins("sample_actions", autoload=False)
async def test_beakerlike_harness_fixture(beakerlike_harness):
    beakerlike_harness.namespace["v"] = 7
    assert (await beakerlike_harness.call("save_var", name="v"))["repr"] == "7"


@pytest.mark.beakerlike_plugins("sample_actions", autoload=False, pythonpath=[str(SUPPORT)])
async def test_beakerlike_kernel_fixture(beakerlike_kernel):
    seen = []
    await beakerlike_kernel.execute("df = 'frame'")
    result = await beakerlike_kernel.call("save_var", name="df", on_response=lambda m: seen.append(m["content"]))
    assert result["repr"] == "'frame'" and seen == [{"progress": 0.5}]


async def test_beakerlike_kernel_factory_fixture(beakerlike_kernel_factory):
    first = await beakerlike_kernel_factory("plugins_good", autoload=False, pythonpath=[str(SUPPORT)])
    second = await beakerlike_kernel_factory("plugins_dup_b", autoload=False, pythonpath=[str(SUPPORT)])
    assert await first.call("good_ping") == "pong"
    assert await second.call("dup_action") == "b"
    with pytest.raises(TypeError, match="unknown beakerlike_plugins option"):
        await beakerlike_kernel_factory("x", colour="red")


async def test_coalescing_handler_errors_reply_as_without_coalescing():
    @beakerlike.action(coalesce=0.01)
    async def fails(req) -> None:
        req.respond({"i": 0})
        raise ValueError("bad value")

    @beakerlike.action(coalesce=0.01)
    async def interrupted(req) -> None:
        raise KeyboardInterrupt

    harness = Harness(fails, interrupted, builtins=False)
    outcome = await harness.run("fails")
    assert (outcome.reply["ename"], outcome.reply["evalue"]) == ("ValueError", "bad value")
    assert outcome.responses == [{"batch": [{"i": 0}]}]
    assert (await harness.run("interrupted")).reply == {"status": "aborted", "reason": "interrupted"}


async def test_payload_validator_bug_is_an_error_reply():
    import pydantic

    class Payload(pydantic.BaseModel):
        x: int

        @pydantic.field_validator("x")
        @classmethod
        def check(cls, value: int) -> int:
            raise TypeError("validator bug")  # pydantic converts only ValueError/AssertionError

    @beakerlike.action
    async def takes(req, payload: Payload) -> int:
        return payload.x

    outcome = await Harness(takes, builtins=False).run("takes", x=1)
    assert (outcome.status, outcome.reply["ename"], outcome.reply["evalue"]) == ("error", "TypeError", "validator bug")


@pytest.mark.parametrize("pause", [0.0, 0.3], ids=["final-flush", "periodic-flush"])
async def test_coalesced_response_that_cannot_be_sent_is_an_error_reply(pause):
    @beakerlike.action(coalesce=0.01)
    async def sends_bad(req) -> int:
        req.respond({"bad": True})
        await anyio.sleep(pause)
        return 1

    def publish_fails(published: Published) -> None:
        if published.msg_type == "sends_bad_response":
            raise ValueError("cannot send this batch")

    outcome = await Harness(sends_bad, builtins=False).run("sends_bad", on_publish=publish_fails)
    assert (outcome.status, outcome.reply["ename"], outcome.reply["evalue"]) == (
        "error", "ValueError", "cannot send this batch")
