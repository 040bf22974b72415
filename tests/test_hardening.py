"""Issue 11 regressions in a real kernel: one sendable reply, whatever a handler returns or raises."""

from __future__ import annotations

from pathlib import Path

import pytest

from beakerlike import protocol
from beakerlike.client import ActionError
from beakerlike.testing import running_kernel

pytestmark = pytest.mark.anyio

SUPPORT = str(Path(__file__).parent / "support")


@pytest.fixture(scope="module")
async def kernel():
    async with running_kernel("hardening_actions", pythonpath=[SUPPORT], autoload=False) as k:
        yield k


async def _error(kernel, action: str, **payload) -> ActionError:
    ex = await kernel.request(protocol.request_type(action), payload, timeout=20)  # reply *and* idle
    assert ex.replies == 1 and ex.idle
    with pytest.raises(ActionError) as err:
        await kernel.call(action, payload, timeout=20)
    return err.value


# -- item 4: a handler returning a lone surrogate ---------------------------------------------------------------
@pytest.mark.parametrize("payload", [{}, {"nested": True}])
async def test_returned_lone_surrogate_is_a_serialization_error(kernel, payload):
    err = await _error(kernel, "return_surrogate", **payload)
    assert err.ename == "SerializationError"
    assert "return_surrogate" in err.evalue and "surrogates not allowed" in err.evalue


async def test_returned_lone_surrogate_key_is_a_serialization_error(kernel):
    assert (await _error(kernel, "return_surrogate_key")).ename == "SerializationError"
    assert await kernel.call("ok", timeout=20) == "fine"


# -- item 5: an exception whose __str__ raises --------------------------------------------------------------------
@pytest.mark.parametrize("action", ["raise_unprintable", "raise_unprintable_sync"])
async def test_exception_with_raising_str_still_replies(kernel, action):
    err = await _error(kernel, action)
    assert err.ename == "UnprintableError"
    assert "__str__ raised RuntimeError" in err.evalue
    assert any("UnprintableError" in line for line in err.traceback)


async def test_exception_text_with_lone_surrogate_is_escaped(kernel):
    err = await _error(kernel, "raise_surrogate")
    assert err.ename == "SurrogateError" and err.evalue == "half an emoji: \\ud83d"
    assert await kernel.call("ok", timeout=20) == "fine"


# -- the guards themselves (pure functions) ------------------------------------------------------------------------
def test_reply_builders_never_raise_and_are_packable():
    class Hostile(Exception):
        def __str__(self):
            raise ValueError("no")

    class Meta(type):
        def __getattribute__(cls, name):
            raise RuntimeError("metaclass")

    class Weird(Exception, metaclass=Meta):
        pass

    for exc in (Hostile(), ValueError("\ud800"), Weird("x")):
        content = protocol.exception_reply(exc, errors=[{"loc": ["\udcff"], "msg": "\ud800"}])
        assert protocol.packable(content) is None, content
    assert protocol.packable(protocol.error_reply("E\ud800", "v\udc80", ["\ud83d"])) is None
    assert protocol.packable({"x": "\ud800"}) is not None
    assert protocol.packable({"x": "\udc80"}) is not None  # jupyter_client would send it as invalid UTF-8
    assert protocol.safe_text("a\ud800b") == "a\\ud800b" and protocol.safe_text("é😀") == "é😀"


async def test_bare_request_suffix_gets_an_unknown_action_reply(kernel):
    ex = await kernel.request("_request", {}, timeout=20)
    assert ex.replies == 1 and ex.idle and ex.content["ename"] == "UnknownAction"
