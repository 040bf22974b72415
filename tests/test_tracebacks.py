"""Error replies' tracebacks start at the handler's frame; the full traceback goes to the kernel log."""

import pytest

import beakerlike
from beakerlike.testing import Harness
from beakerlike.tracebacks import handler_traceback, is_framework

pytestmark = pytest.mark.anyio


def _helper(x):
    raise ValueError(f"bad {x}")


@beakerlike.action
async def fails_async(req, x: int) -> None:
    _helper(x)


@beakerlike.action
def fails_sync(req) -> None:
    raise KeyError("nope")


@beakerlike.action
async def fails_chained(req) -> None:
    try:
        {}["k"]
    except KeyError as exc:
        raise RuntimeError("wrapped") from exc


async def test_harness_error_traceback_starts_at_the_handler(capfd):
    harness = Harness(fails_async, fails_sync, fails_chained, builtins=False)
    tb = (await harness.run("fails_async", x=3)).reply["traceback"]
    assert tb[0] == "Traceback (most recent call last):\n"
    assert "in fails_async" in tb[1] and "in _helper" in tb[2] and tb[-1] == "ValueError: bad 3\n"
    assert not any("dispatch.py" in line or "anyio" in line for line in tb)
    # The kernel log keeps everything.
    log = capfd.readouterr().err
    assert "full traceback" in log and "dispatch.py" in log

    sync_tb = (await harness.run("fails_sync")).reply["traceback"]
    assert "in fails_sync" in sync_tb[1] and not any("threading.py" in line or "anyio" in line for line in sync_tb)

    chained = "".join((await harness.run("fails_chained")).reply["traceback"])
    assert "KeyError: 'k'" in chained and "direct cause" in chained and chained.endswith("RuntimeError: wrapped\n")


@pytest.mark.beakerlike_plugins("test_tracebacks", autoload=False,
                                pythonpath=[__import__("os").path.dirname(__file__)])
async def test_real_kernel_error_traceback_starts_at_the_handler(beakerlike_kernel):
    with pytest.raises(beakerlike.ActionError) as info:
        await beakerlike_kernel.call("fails_async", x=1)
    tb = info.value.traceback
    assert "in fails_async" in tb[1], tb
    assert not any("beakerlike/runner.py" in line or "beakerlike/dispatch.py" in line for line in tb)


def test_all_framework_frames_keep_the_whole_traceback():
    try:
        raise ValueError("x")
    except ValueError as exc:
        error = exc
    assert "test_all_framework_frames" in "".join(handler_traceback(error))
    assert is_framework("beakerlike.dispatch") and is_framework("anyio._backends._asyncio")
    assert not is_framework(__name__) and not is_framework("beakerlike.builtin.discovery")
