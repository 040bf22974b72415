"""`beakerlike kernel` + `call --existing/--exec`, quiet loopback kernels, help and table output."""

import json
import os
import signal
import subprocess
import sys
import time

CLI = [sys.executable, "-m", "beakerlike"]
ENV = {**os.environ, "BEAKERLIKE_DISABLE_PLUGIN_AUTOLOAD": "1", "COLUMNS": "80"}


def run(*args, **kw):
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=ENV, timeout=120, **kw)


def test_standalone_kernel_and_call_existing_with_exec(tmp_path):
    conn = tmp_path / "kernel.json"
    proc = subprocess.Popen([*CLI, "kernel", "--connection-file", str(conn)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        assert proc.stdout.readline().strip() == str(conn)
        assert conn.exists()  # written before its path is printed
        called = run("call", "--existing", str(conn), "--exec", "x = 21", "--exec", "print('hi')",
                     "preview_snapshot")
        assert called.returncode == 0, called.stderr
        snapshot = json.loads(called.stdout)
        assert "x" in snapshot["variables"] and "hi" in called.stderr
        failed = run("call", "--existing", str(conn), "--exec", "1/0", "context_info")
        assert failed.returncode == 1 and "--exec failed: ZeroDivisionError" in failed.stderr
        again = run("call", "--existing", str(conn), "preview_snapshot")  # the same kernel: x is still there
        assert "x" in json.loads(again.stdout)["variables"]
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "without encryption" not in err
    deadline = time.monotonic() + 10
    while conn.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not conn.exists()  # the kernel was shut down and its file removed


def test_kernels_the_cli_starts_do_not_warn_about_tcp():
    listed = run("actions")
    assert listed.returncode == 0, listed.stderr
    assert "without encryption" not in listed.stderr


def test_tables_do_not_wrap_when_piped_and_show_docs_verbatim():
    listed = run("actions")
    rows = {line.split("│")[1].strip(): line for line in listed.stdout.splitlines() if line.startswith("│")}
    assert set(rows) >= {"context_info", "context_setup", "preview_page"}  # one line per action
    assert "(`[name, key_or_index" in rows["preview_page"] and "````" not in listed.stdout
    assert "context_info?: object|null" in rows["context_setup"]
    plugins = run("plugins")
    assert all(len(line.split("│")) in (1, 8) for line in plugins.stdout.splitlines())  # no continuation rows


def test_listing_commands_have_json():
    for args in (("actions", "--json"), ("plugins", "--json"), ("schema", "--json")):
        out = run(*args)
        assert out.returncode == 0, out.stderr
        json.loads(out.stdout)


def test_help_shows_no_type_after_flags():
    for args in (("--help",), ("install", "--help"), ("call", "--help"), ("kernel", "--help")):
        out = run(*args)
        assert out.returncode == 0 and "<bool>" not in out.stdout, out.stdout
    assert "<float>" in run("call", "--help").stdout  # options that take a value keep their type
