"""The in-process harness has contexts, previews and execute hooks; hook output goes to the kernel log."""

import sys
from pathlib import Path

import pytest

from beakerlike.testing import Harness

sys.path.insert(0, str(Path(__file__).parent / "support"))
import harness_context_plugin as plugin  # noqa: E402

pytestmark = pytest.mark.anyio


@pytest.fixture
def harness():
    plugin.SEEN.clear()
    h = Harness("harness_context_plugin")
    yield h
    h.close()


async def test_kernel_started_ran_and_its_print_went_to_the_kernel_log(capfd):
    h = Harness("harness_context_plugin")
    out, err = capfd.readouterr()
    assert h.namespace["THINGS_READY"] is True
    assert "[beakerlike plugin harness_context_plugin] started: hello from kernel_started" in err
    assert "started:" not in out
    assert h.errors == []


async def test_context_setup_switches_and_context_actions_resolve(harness):
    assert (await harness.run("double", name="x")).reply["ename"] == "UnknownAction"
    info = await harness.call("context_setup", context="things", context_info={"scale": 3})
    assert info["context"]["name"] == "things" and "double" in info["actions"]
    assert ("setup", 3) in plugin.SEEN
    harness.namespace["x"] = 5
    assert await harness.call("double", name="x") == 30
    bad = await harness.run("context_setup", context="things", context_info={"scale": "big"})
    assert bad.reply["ename"] == "InvalidContextInfo"
    assert harness.contexts.active.name == "things"


async def test_execute_fires_hooks_and_publishes_previews(harness, capfd):
    snapshot = await harness.call("preview_watch")
    assert snapshot["full"] is True
    executed = await harness.execute("a = 41\nprint('in cell')\na + 1")
    assert executed.success and executed.result.result == 42
    assert executed.stdout == "in cell\n"
    assert plugin.SEEN[-2:] == [("before", "a = 41\nprint('in cell')\na + 1"), ("after", True)]
    [preview] = executed.previews
    assert set(preview["variables"]) == {"a"} and preview["beakerlike"]["seq"] == snapshot["seq"] + 1
    # Hook output is not the cell's: it is in the kernel log (the process's stderr).
    assert "after:" not in executed.stdout + executed.stderr
    err = capfd.readouterr().err
    assert "[beakerlike plugin harness_context_plugin] after: printed by after_execute" in err
    assert "after: logged by after_execute" not in executed.stderr

    failed = await harness.execute("1 / 0")
    assert not failed.success and isinstance(failed.result.error_in_exec, ZeroDivisionError)
    assert "ZeroDivisionError" in failed.stderr and plugin.SEEN[-1] == ("after", False)

    awaited = await harness.execute("import asyncio\nawait asyncio.sleep(0)\n'done'")
    assert awaited.result.result == "done"


async def test_custom_previewer_extra_keys_and_pageable(harness):
    await harness.call("context_setup", context="things")
    await harness.call("preview_watch")
    executed = await harness.execute("t = THING(name='road', size=3)".replace("THING", "Thing"))
    assert not executed.success  # Thing is not defined in the namespace yet
    harness.namespace["Thing"] = plugin.Thing
    executed = await harness.execute("t = Thing(name='road', size=3)")
    item = executed.previews[0]["variables"]["t"]["application/vnd.beakerlike.preview+json"]
    assert item["summary"] == "Thing road" and item["length"] == 3
    assert item["pageable"] is True  # the previewer has a page function
    # Extra keys pass through under "extra", JSON-safe and bounded (the 5,000-char blob is cut).
    assert item["extra"]["bbox"] == [0, 0, 3, 3] and item["extra"]["crs"] == "EPSG:4326"
    assert len(item["extra"]["blob"]) <= 121
    page = await harness.call("preview_page", path=["t"], offset=1, limit=5)
    assert page["rows"] == [[1], [2]] and page["total"] == 3


async def test_missing_kernel_parts_name_the_kernel_fixture():
    h = Harness("harness_context_plugin", builtins=False)
    with pytest.raises(AttributeError, match="builtins=True"):
        h.contexts  # noqa: B018
    with pytest.raises(AttributeError, match="beakerlike_kernel fixture"):
        h.comm_manager  # noqa: B018
    with pytest.raises(AttributeError, match="beakerlike_kernel fixture"):
        h.shell.display_formatter  # noqa: B018


async def test_context_action_imported_at_top_level_is_reported():
    h = Harness("plugins_context_leak", builtins=False)
    [err] = [e for e in h.errors if e.phase == "register_contexts"]
    assert err.plugin == "plugins_context_leak" and "ContextActionLeak" in err.error
    assert "describe_leak" in err.error and "leaky" in err.error


async def test_beakerlike_harness_fixture_has_contexts(beakerlike_harness):
    assert beakerlike_harness.contexts.active.name == "default"
    assert (await beakerlike_harness.execute("z = 2")).success


@pytest.mark.beakerlike_plugins("harness_context_plugin", autoload=False,
                                pythonpath=[str(Path(__file__).parent / "support")])
async def test_hook_output_stays_out_of_the_cell_in_a_real_kernel(beakerlike_kernel):
    ex = await beakerlike_kernel.execute("v = 1\nprint('cell output')")
    texts = [m["content"]["text"] for m in ex.of_type("stream")]
    assert "".join(texts) == "cell output\n"  # neither the hook's print nor its logging.warning
    assert await beakerlike_kernel.execute("THINGS_READY") is not None
