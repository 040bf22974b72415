"""``beakerlike plugins``: the listing a user sees, in a subprocess like a user runs it."""

import json
import os
import subprocess
import sys
from pathlib import Path

SUPPORT = Path(__file__).parent / "support"


def run_cli(*args, plugins="", **env):
    full_env = {**os.environ, "PYTHONPATH": str(SUPPORT), "BEAKERLIKE_PLUGINS": plugins,
                "BEAKERLIKE_DISABLE_PLUGIN_AUTOLOAD": "1", "COLUMNS": "250", **env}
    return subprocess.run([sys.executable, "-m", "beakerlike", *args], capture_output=True, text=True,
                          env=full_env, timeout=60)


def test_plugins_json_lists_every_plugin_and_failures():
    proc = run_cli("plugins", "--json",
                   plugins="plugins_noisy,plugins_good,plugins_import_error,plugins_dup_a,plugins_dup_b,"
                           "plugins_lifecycle,plugins_systemexit")
    assert proc.returncode == 0, proc.stderr
    assert "hello from a noisy plugin" in proc.stderr  # plugin output kept out of the JSON
    plugins = {p["name"]: p for p in json.loads(proc.stdout)}
    assert list(plugins)[0] == "beakerlike.builtin.discovery"
    assert plugins["plugins_good"]["actions"] == ["good_ping"] and plugins["plugins_good"]["errors"] == []
    assert plugins["plugins_import_error"]["loaded"] is False
    assert plugins["plugins_import_error"]["errors"] == ["RuntimeError: plugins_import_error: boom on import"]
    assert plugins["plugins_systemexit"]["errors"] == ["SystemExit: 3"]
    assert plugins["plugins_dup_b"]["actions"] == ["dup_b_only"]
    assert plugins["plugins_dup_b"]["errors"][0].startswith("ActionConflict: action 'dup_action'")
    lifecycle = plugins["plugins_lifecycle"]
    assert lifecycle["hooks"] == ["after_execute", "before_execute", "kernel_shutdown", "kernel_started",
                                  "register_actions", "register_contexts", "register_previewers"]
    assert lifecycle["contexts"] == ["lifecycle_ctx"] and lifecycle["previewers"] == ["thing"]
    for p in plugins.values():
        assert set(p) == {"name", "version", "source", "module", "distribution", "hooks", "actions", "contexts",
                          "previewers", "loaded", "blocked", "errors"}


def test_plugins_table_and_hook_filter():
    proc = run_cli("plugins", plugins="plugins_good,plugins_import_error,plugins_lifecycle",
                   BEAKERLIKE_BLOCK_PLUGINS="plugins_good")
    assert proc.returncode == 0, proc.stderr
    assert "plugins_import_error" in proc.stdout and "failed: RuntimeError" in proc.stdout
    assert "blocked" in proc.stdout
    filtered = run_cli("plugins", "--json", "--hook", "kernel_shutdown", plugins="plugins_good,plugins_lifecycle")
    assert [p["name"] for p in json.loads(filtered.stdout)] == ["plugins_lifecycle"]
