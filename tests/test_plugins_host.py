"""PluginHost in process: loading order, control env vars, isolation of each failure kind."""

import sys
from pathlib import Path

import pytest

from beakerlike.plugins import PluginHost, hookspec_names

SUPPORT = Path(__file__).parent / "support"
sys.path.insert(0, str(SUPPORT))
from plugins_fakedist import make_dist  # noqa: E402

NO_AUTOLOAD = {"BEAKERLIKE_DISABLE_PLUGIN_AUTOLOAD": "1"}


def load(plugins="", **env):
    return PluginHost().load({**NO_AUTOLOAD, "BEAKERLIKE_PLUGINS": plugins, **env})


def info(host, name):
    return next(p for p in host.describe() if p["name"] == name)


def errors_of(host, plugin):
    return [e for e in host.errors if e.plugin == plugin]


def test_module_only_actions_need_no_hookimpl():
    host = load("plugins_good")
    assert "good_ping" in host.actions and host.action_owner["good_ping"] == "plugins_good"
    assert info(host, "plugins_good") == {
        "name": "plugins_good", "source": "env", "module": "plugins_good", "version": None,
        "distribution": None, "hooks": [], "actions": ["good_ping"], "contexts": [], "previewers": [],
        "loaded": True, "blocked": False, "errors": []}
    assert host.errors == []


def test_builtins_come_first_and_are_ordinary_plugins():
    host = load("plugins_good")
    names = [p["name"] for p in host.describe()]
    assert names[0] == "beakerlike.builtin.discovery" and names.index("plugins_good") > 0
    assert info(host, "beakerlike.builtin.discovery")["source"] == "builtin"
    assert "context_info" in host.actions


@pytest.mark.parametrize("module, expected", [
    ("plugins_import_error", "RuntimeError: plugins_import_error: boom on import"),
    ("plugins_systemexit", "SystemExit: 3"),
    ("no_such_plugin_module", "ModuleNotFoundError: No module named 'no_such_plugin_module'"),
])
def test_import_failures_are_isolated(module, expected):
    host = load(f"{module},plugins_good")
    assert "good_ping" in host.actions
    [err] = errors_of(host, module)
    assert (err.phase, err.error) == ("import", expected) and "Traceback" in err.traceback
    assert info(host, module)["loaded"] is False and info(host, module)["errors"] == [expected]


def test_hook_failures_are_isolated_and_counted():
    host = load("plugins_hook_error,plugins_good")
    assert "hook_error_alive" in host.actions and "good_ping" in host.actions
    assert [(e.phase, e.error) for e in errors_of(host, "plugins_hook_error")] == [
        ("register_contexts", "KeyError: 'register_contexts exploded'")]
    host.call_each("kernel_started", kernel=None)
    for _ in range(3):
        host.call_each("after_execute", kernel=None, result=None)
    by_phase = {e.phase: e for e in errors_of(host, "plugins_hook_error")}
    assert by_phase["kernel_started"].error == "RuntimeError: kernel_started exploded"
    assert by_phase["after_execute"].count == 3  # repeated failures do not pile up
    assert info(host, "plugins_hook_error")["loaded"] is True


def test_broken_actions_are_skipped_one_by_one():
    host = load("plugins_broken_action")
    assert host.actions["broken_plugin_good"].func.__name__ == "good_one"
    messages = [e.error for e in errors_of(host, "plugins_broken_action")]
    assert len(messages) == 3
    assert "first parameter must receive the request handle" in messages[0]
    assert "invalid action name 'bad name!'" in messages[1]
    assert "42 is not a function or Action" in messages[2]


def test_unknown_and_async_hooks_are_reported():
    host = load("plugins_unknown_hook")
    assert "unknown_hook_alive" in host.actions
    [typo] = errors_of(host, "plugins_unknown_hook")
    assert "'kernel_startd' is not a beakerlike hook (typo?)" in typo.error
    host.call_each("kernel_shutdown", kernel=None)
    assert "must be a plain function, not async" in errors_of(host, "plugins_unknown_hook")[-1].error


def test_duplicate_action_first_loaded_wins_with_a_named_error():
    host = load("plugins_dup_a,plugins_dup_b")
    assert host.action_owner["dup_action"] == "plugins_dup_a"
    assert host.actions["dup_action"].func.__module__ == "plugins_dup_a"
    assert "dup_b_only" in host.actions
    [err] = host.errors
    assert err.plugin == "plugins_dup_b" and err.error.startswith("ActionConflict:")
    assert "'plugins_dup_a'" in err.error and "'plugins_dup_b'" in err.error
    reverse = load("plugins_dup_b,plugins_dup_a")
    assert reverse.action_owner["dup_action"] == "plugins_dup_b"  # deterministic: load order decides


def test_block_by_plugin_module_or_distribution_name(tmp_path, monkeypatch):
    make_dist(tmp_path, "fake-dist", {"fake": "plugins_fake_ep"},
              modules={"plugins_fake_ep": "import beakerlike\n\n@beakerlike.action\nasync def fake_ep(req):\n"
                                          "    return 1\n"})
    monkeypatch.syspath_prepend(str(tmp_path))
    host = PluginHost().load({})
    got = info(host, "fake")
    assert {k: got[k] for k in ("source", "version", "distribution", "actions", "loaded")} == {
        "source": "entrypoint", "version": "1.0", "distribution": "fake-dist", "actions": ["fake_ep"], "loaded": True}
    for blocker in ("fake", "plugins_fake_ep", "fake-dist"):
        blocked = PluginHost().load({"BEAKERLIKE_BLOCK_PLUGINS": f"x, {blocker}"})
        assert "fake_ep" not in blocked.actions
        assert info(blocked, "fake")["blocked"] is True and errors_of(blocked, "fake") == []
    no_auto = PluginHost().load(NO_AUTOLOAD)
    assert "fake" not in {p["name"] for p in no_auto.describe()}
    env_blocked = load("plugins_good", BEAKERLIKE_BLOCK_PLUGINS="plugins_good")
    assert "good_ping" not in env_blocked.actions and info(env_blocked, "plugins_good")["blocked"]


def test_entry_point_import_error_and_double_listing(tmp_path, monkeypatch):
    make_dist(tmp_path, "bad-dist", {"bad": "plugins_import_error", "good": "plugins_good"})
    monkeypatch.syspath_prepend(str(tmp_path))
    host = PluginHost().load({"BEAKERLIKE_PLUGINS": "plugins_good"})
    assert [e.plugin for e in host.errors if e.plugin in {"bad", "good", "plugins_good"}] == ["bad"]
    assert info(host, "bad")["distribution"] == "bad-dist" and info(host, "bad")["loaded"] is False
    # plugins_good is both in BEAKERLIKE_PLUGINS and an entry point: loaded once, no error.
    assert "good" not in {p["name"] for p in host.describe()}
    assert info(host, "plugins_good")["distribution"] == "bad-dist"


def test_entry_point_naming_one_action_function(tmp_path, monkeypatch):
    make_dist(tmp_path, "one-func", {"onefunc": "plugins_good:good_ping"})
    monkeypatch.syspath_prepend(str(tmp_path))
    host = PluginHost().load({})
    assert host.action_owner["good_ping"] == "onefunc"
    assert info(host, "onefunc")["module"] == "plugins_good:good_ping"


def test_trace_hooks_writes_each_call(capfd):
    host = load("plugins_lifecycle", BEAKERLIKE_TRACE_HOOKS="1")
    host.call_each("kernel_shutdown", kernel=None)
    err = capfd.readouterr().err
    assert "[beakerlike hook] register_actions(register) -> plugins_lifecycle" in err
    assert "[beakerlike hook] kernel_shutdown(kernel) -> plugins_lifecycle" in err


def test_hanging_import_and_hook_time_out():
    host = load("plugins_hang,plugins_hang_hook,plugins_good", BEAKERLIKE_PLUGIN_TIMEOUT="0.5")
    assert "good_ping" in host.actions and "hang_hook_alive" in host.actions
    [hang] = errors_of(host, "plugins_hang")
    assert hang.phase == "import"
    assert hang.error == ("PluginTimeout: importing 'plugins_hang' did not finish within 0.5 s "
                          "(BEAKERLIKE_PLUGIN_TIMEOUT)")
    host.call_each("kernel_started", kernel=None)
    [hook] = errors_of(host, "plugins_hang_hook")
    assert hook.phase == "kernel_started" and "hook 'kernel_started' did not finish within 0.5 s" in hook.error


def test_hookspec_names():
    assert hookspec_names() == ["after_execute", "before_execute", "kernel_shutdown", "kernel_started",
                                "register_actions", "register_contexts", "register_previewers"]
