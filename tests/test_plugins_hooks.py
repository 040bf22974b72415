"""One test per hook spec (``test_hook_<name>``), each showing the hook is called as documented."""

import json
import sys
from pathlib import Path

import pytest

import beakerlike
from beakerlike.plugins import PluginHost
from beakerlike.testing import running_kernel

SUPPORT = Path(__file__).parent / "support"
sys.path.insert(0, str(SUPPORT))

pytestmark = pytest.mark.anyio


@pytest.fixture
def host():
    return PluginHost().load({"BEAKERLIKE_DISABLE_PLUGIN_AUTOLOAD": "1", "BEAKERLIKE_PLUGINS": "plugins_lifecycle"})


def lifecycle_info(host):
    return next(p for p in host.describe() if p["name"] == "plugins_lifecycle")


def read_log(path):
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


async def kernel_with_log(tmp_path, monkeypatch):
    log = tmp_path / "hooks.jsonl"
    monkeypatch.setenv("PLUGINS_LIFECYCLE_LOG", str(log))
    return log, running_kernel("plugins_lifecycle", pythonpath=[SUPPORT], autoload=False)


def test_hook_register_actions(host):
    assert host.action_owner["lifecycle_registered"] == "plugins_lifecycle"
    assert host.action_owner["lifecycle_calls"] == "plugins_lifecycle"  # module-level @action too
    assert lifecycle_info(host)["actions"] == ["lifecycle_calls", "lifecycle_registered"]


def test_hook_register_contexts(host):
    ctx = host.contexts["lifecycle_ctx"]
    assert isinstance(ctx, beakerlike.Context) and ctx.docs == "A context from the lifecycle plugin."
    assert lifecycle_info(host)["contexts"] == ["lifecycle_ctx"]


def test_hook_register_previewers(host):
    [previewer] = [p for p in host.previewers if p.name == "thing"]
    assert isinstance(previewer, beakerlike.Previewer)
    assert previewer.preview(object(), None) == {"summary": "a Thing"}
    assert lifecycle_info(host)["previewers"] == ["thing"]


async def test_hook_kernel_started(tmp_path, monkeypatch):
    log, kernel_cm = await kernel_with_log(tmp_path, monkeypatch)
    async with kernel_cm as kernel:
        calls = await kernel.call("lifecycle_calls")
    assert calls[:4] == ["register_actions", "register_contexts", "register_previewers", "kernel_started"]
    assert read_log(log)[3] == {"hook": "kernel_started", "has_shell": True}


async def test_hook_before_execute(tmp_path, monkeypatch):
    log, kernel_cm = await kernel_with_log(tmp_path, monkeypatch)
    async with kernel_cm as kernel:
        await kernel.execute("a = 1")
    assert {"hook": "before_execute", "cell": "a = 1"} in read_log(log)


async def test_hook_after_execute(tmp_path, monkeypatch):
    log, kernel_cm = await kernel_with_log(tmp_path, monkeypatch)
    async with kernel_cm as kernel:
        await kernel.execute("ok = 1")
        await kernel.execute("1 / 0")
    after = [e for e in read_log(log) if e["hook"] == "after_execute"]
    assert after == [{"hook": "after_execute", "cell": "ok = 1", "success": True},
                     {"hook": "after_execute", "cell": "1 / 0", "success": False}]


async def test_hook_kernel_shutdown(tmp_path, monkeypatch):
    log, kernel_cm = await kernel_with_log(tmp_path, monkeypatch)
    async with kernel_cm as kernel:
        await kernel.call("lifecycle_calls")
        assert "kernel_shutdown" not in [e["hook"] for e in read_log(log)]
    assert read_log(log)[-1] == {"hook": "kernel_shutdown"}
