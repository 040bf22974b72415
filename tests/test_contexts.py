"""Contexts in a real kernel process: info, switching, errors, always-on previews, startup context."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from beakerlike.client import ActionError
from beakerlike.preview import PREVIEW_MIME
from beakerlike.testing import running_kernel

pytestmark = pytest.mark.anyio

SUPPORT = str(Path(__file__).parent / "support")


@pytest.fixture
async def kernel():
    async with running_kernel("preview_support", pythonpath=[SUPPORT], autoload=False) as k:
        yield k


async def stdout(kernel, code: str) -> str:
    ex = await kernel.execute(code)
    assert ex.content["status"] == "ok", ex.content
    return "".join(m["content"]["text"] for m in ex.of_type("stream")).strip()


async def test_context_info_describes_contexts_and_actions(kernel):
    info = await kernel.info()
    assert info["context"] == {"name": "default", "docs": info["context"]["docs"], "info": {}, "always_on": False}
    assert set(info["contexts"]) == {"default", "lab", "broken"}
    lab = info["contexts"]["lab"]
    assert lab["actions"] == ["greet"] and lab["always_on"] is True and lab["previewers"] == ["lab-int"]
    assert lab["setup_schema"]["properties"]["greeting"]["type"] == "string"
    assert lab["setup_schema"]["additionalProperties"] is False
    assert lab["default_info"] == {"greeting": "hello", "loud": False}
    assert info["contexts"]["default"]["setup_schema"]["properties"] == {}
    for name in ("context_info", "context_setup", "preview_watch", "preview_unwatch", "preview_snapshot",
                 "preview_page"):
        assert "schema" in info["actions"][name]
    assert "greet" not in info["actions"]


async def test_switch_keeps_namespace_and_scopes_actions(kernel):
    await kernel.execute("import numpy as np\nkept = np.arange(5)\nn = 7")
    got = []
    reply = await kernel.call("context_setup", context="lab", context_info={"greeting": "ahoy"},
                              on_response=got.append)
    assert reply["context"]["name"] == "lab" and reply["context"]["info"] == {"greeting": "ahoy", "loud": False}
    assert "greet" in reply["actions"]
    assert got and got[0]["header"]["msg_type"] == "context_setup_response"
    assert await kernel.call("greet", name="ann") == "ahoy ann"
    assert await stdout(kernel, "print(kept.sum(), n)") == "10 7"

    # The lab context is always-on: previews arrive without any watcher, with its int previewer.
    ex = await kernel.execute("m = 3")
    (msg,) = ex.of_type("preview")
    assert msg["content"]["variables"]["m"][PREVIEW_MIME]["summary"] == "lab int 3"

    await kernel.call("context_setup", {"context": "default"})
    with pytest.raises(ActionError) as err:
        await kernel.call("greet", name="ann")
    assert err.value.ename == "UnknownAction"
    assert (await kernel.info())["context"]["name"] == "default"
    assert await stdout(kernel, "print(kept.sum(), n, m)") == "10 7 3"
    assert (await kernel.execute("m = 4")).of_type("preview") == []


async def test_switch_refreshes_watchers_with_context_previewers(kernel):
    await kernel.execute("q = 5")
    snap = await kernel.call("preview_watch")
    assert snap["variables"]["q"][PREVIEW_MIME]["summary"] == "5"
    ex = kernel.send("context_setup_request", {"context": "lab"})
    await ex.done.wait()
    (msg,) = ex.of_type("preview")
    assert msg["metadata"]["beakerlike"]["full"] is True
    assert msg["content"]["variables"]["q"][PREVIEW_MIME]["summary"] == "lab int 5"


async def test_errors_leave_context_unchanged(kernel):
    await kernel.call("context_setup", context="lab", context_info={"greeting": "hi"})
    cases = [
        ({"context": "nope"}, "UnknownContext", "no context named 'nope'"),
        ({"context": "lab", "context_info": {"greeting": 5}}, "InvalidContextInfo", "context_info.greeting"),
        ({"context": "lab", "context_info": {"extra": 1}}, "InvalidContextInfo", "context_info.extra"),
        ({"context": "lab", "context_info": ["not", "an", "object"]}, "ValidationError", "context_info"),
        ({"context": "default", "context_info": {"x": 1}}, "InvalidContextInfo", "takes no setup payload"),
        ({"context": "broken"}, "ContextSetupError", "cannot start the broken context"),
        ({}, "ValidationError", "context"),
    ]
    for payload, ename, text in cases:
        with pytest.raises(ActionError) as err:
            await kernel.call("context_setup", payload)
        assert err.value.ename == ename, (payload, err.value)
        assert text in err.value.evalue
        info = await kernel.info()
        assert info["context"]["name"] == "lab" and info["context"]["info"]["greeting"] == "hi"
    assert await kernel.call("greet", name="bo") == "hi bo"


def test_context_rejects_previewers_that_are_not_previewer_objects():
    import beakerlike

    with pytest.raises(TypeError, match="previewers must be beakerlike.Previewer"):
        beakerlike.Context(name="bad", previewers=[lambda obj, limits: {}])


async def test_startup_context_from_environment():
    env = {**os.environ, "BEAKERLIKE_CONTEXT": "lab", "BEAKERLIKE_CONTEXT_INFO": '{"greeting": "moin"}'}
    async with running_kernel("preview_support", pythonpath=[SUPPORT], autoload=False, env=env) as k:
        info = await k.info()
        assert info["context"]["name"] == "lab" and info["context"]["info"]["greeting"] == "moin"
        assert await k.call("greet", name="x") == "moin x"
    env["BEAKERLIKE_CONTEXT"] = "no-such-context"
    async with running_kernel("preview_support", pythonpath=[SUPPORT], autoload=False, env=env) as k:
        assert (await k.info())["context"]["name"] == "default"
