"""Plugins in a real kernel: broken plugins next to good ones, entry points and the control env vars."""

import sys
from pathlib import Path

import pytest

from beakerlike.testing import running_kernel

SUPPORT = Path(__file__).parent / "support"
sys.path.insert(0, str(SUPPORT))
from plugins_fakedist import make_dist  # noqa: E402

pytestmark = pytest.mark.anyio

BROKEN = ["plugins_import_error", "plugins_systemexit", "plugins_hook_error", "plugins_broken_action",
          "plugins_unknown_hook", "plugins_dup_a", "plugins_dup_b"]


async def test_broken_plugins_change_nothing_for_the_others(capfd):
    async with running_kernel(*BROKEN, "plugins_good", pythonpath=[SUPPORT], autoload=False) as kernel:
        assert await kernel.call("good_ping") == "pong"
        assert await kernel.call("hook_error_alive") == "alive"
        assert await kernel.call("broken_plugin_good") == "fine"
        assert await kernel.call("unknown_hook_alive") is True
        assert await kernel.call("dup_action") == "a"
        ex = await kernel.execute("x = 40 + 2\nprint(x)")
        assert ex.content["status"] == "ok"
        await kernel.execute("y = 1")

        info = await kernel.info()
        errors = {(e["plugin"], e["phase"]): e for e in reversed(info["plugin_errors"])}  # first one per key
        assert errors["plugins_import_error", "import"]["error"] == \
            "RuntimeError: plugins_import_error: boom on import"
        assert errors["plugins_systemexit", "import"]["error"] == "SystemExit: 3"
        assert errors["plugins_hook_error", "kernel_started"]["error"] == "RuntimeError: kernel_started exploded"
        assert errors["plugins_hook_error", "after_execute"]["count"] >= 2
        assert "first parameter must receive the request handle" in \
            errors["plugins_broken_action", "register_actions"]["error"]
        assert "kernel_startd" in errors["plugins_unknown_hook", "register"]["error"]
        conflict = errors["plugins_dup_b", "register_actions"]["error"]
        assert conflict.startswith("ActionConflict") and "'plugins_dup_a'" in conflict
        assert not any(e["plugin"] == "plugins_good" for e in info["plugin_errors"])
        assert {"good_ping", "hook_error_alive", "dup_action", "dup_b_only"} <= set(info["actions"])
    log = capfd.readouterr().err
    assert "plugins_systemexit failed (import): SystemExit: 3" in log
    assert "plugins_import_error failed (import)" in log
    assert "plugin 'plugins_hook_error' failed during kernel_started" in log  # hook errors after loading too
    assert "failed during after_execute: ValueError: after_execute exploded" in log


async def test_hanging_plugins_do_not_hang_the_kernel(monkeypatch):
    monkeypatch.setenv("BEAKERLIKE_PLUGIN_TIMEOUT", "3")
    async with running_kernel("plugins_hang", "plugins_hang_hook", "plugins_good", pythonpath=[SUPPORT],
                              autoload=False) as kernel:
        assert await kernel.call("good_ping") == "pong"
        assert await kernel.call("hang_hook_alive") == "alive"
        errors = {e["plugin"]: e for e in (await kernel.info())["plugin_errors"]}
        assert errors["plugins_hang"]["phase"] == "import" and "PluginTimeout" in errors["plugins_hang"]["error"]
        assert errors["plugins_hang_hook"]["phase"] == "kernel_started"


@pytest.mark.parametrize("env, visible", [
    ({}, True),
    ({"BEAKERLIKE_BLOCK_PLUGINS": "fakeep"}, False),
    ({"BEAKERLIKE_DISABLE_PLUGIN_AUTOLOAD": "1"}, False),
])
async def test_entry_points_and_control_env_vars(tmp_path, monkeypatch, env, visible):
    make_dist(tmp_path, "fake-ep-dist", {"fakeep": "plugins_fake_kernel_ep"},
              modules={"plugins_fake_kernel_ep": "import beakerlike\n\n@beakerlike.action\n"
                                                 "async def fake_kernel_ep(req):\n    return 'from entry point'\n"})
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    async with running_kernel(pythonpath=[tmp_path]) as kernel:
        info = await kernel.info()
        assert ("fake_kernel_ep" in info["actions"]) is visible
        if visible:
            assert await kernel.call("fake_kernel_ep") == "from entry point"
        assert not any(e["plugin"] == "fakeep" for e in info["plugin_errors"])
