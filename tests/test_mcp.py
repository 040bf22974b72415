"""`beakerlike mcp` driven by the `mcp` SDK's own client, over stdio (and once over HTTP), against real kernels."""

import contextlib
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import anyio
import mcp_types as types
import pytest
from mcp import Client, MCPDeprecationWarning, StdioServerParameters

from beakerlike.mcp.config import PLUMBING
from beakerlike.mcp.resources import item_uri
from beakerlike.testing import running_kernel

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parent.parent
PLUGINS = "beakerlike_jobs,beakerlike_data"
PYTHONPATH = [str(ROOT / "plugins" / "jobs"), str(ROOT / "contexts" / "data")]


def server_env(**extra):
    env = {**os.environ, "BEAKERLIKE_PLUGINS": PLUGINS, "BEAKERLIKE_DISABLE_PLUGIN_AUTOLOAD": "1",
           "PYTHONPATH": os.pathsep.join([*PYTHONPATH, *filter(None, [os.environ.get("PYTHONPATH")])]), **extra}
    for key in ("BEAKERLIKE_MCP_ALLOW", "BEAKERLIKE_MCP_DENY", "BEAKERLIKE_MCP_EXECUTE_CODE"):
        if key not in extra:
            env.pop(key, None)
    return env


@pytest.fixture
async def kernel():
    async with running_kernel(*PLUGINS.split(","), pythonpath=PYTHONPATH, autoload=False) as k:
        yield k


def stdio(*args, env=None):
    return StdioServerParameters(command=sys.executable, args=["-m", "beakerlike", "mcp", *args],
                                 env=env or server_env())


@contextlib.asynccontextmanager
async def connected(kernel, *args, **client_kw):
    async with Client(stdio("--existing", kernel.client.connection_file, *args), **client_kw) as client:
        yield client


def by_name(tools):
    return {t.name: t for t in tools.tools}


async def test_tools_are_the_public_actions_with_their_schemas(kernel):
    info = await kernel.info()
    async with connected(kernel) as client:
        tools = by_name(await client.list_tools())
    expected = {n for n, s in info["actions"].items() if s["scope"] == "public" and n not in PLUMBING}
    assert {"run_job", "cancel_job", "list_jobs"} <= expected
    assert set(tools) == expected | {"switch_context"}
    for name in expected:
        assert tools[name].input_schema == info["actions"][name]["schema"]
        assert tools[name].description == info["actions"][name]["docs"]
    assert "execute_code" not in tools
    assert tools["switch_context"].input_schema["properties"]["context"]["enum"] == sorted(info["contexts"])


async def test_run_job_streams_progress_notifications(kernel):
    seen = []

    async def progress(value, total, message):
        seen.append((value, total, json.loads(message)))

    async with connected(kernel) as client:
        result = await client.call_tool("run_job", {"steps": 4, "delay": 0.01, "job": "p"},
                                        progress_callback=progress)
    assert not result.is_error
    assert result.structured_content == {"job": "p", "job_state": "done", "steps_done": 4}
    assert json.loads(result.content[0].text) == result.structured_content
    assert [(v, t) for v, t, _ in seen] == [(0.25, 1.0), (0.5, 1.0), (0.75, 1.0), (1.0, 1.0)]
    assert [m["step"] for _, _, m in seen] == [1, 2, 3, 4]


async def test_validation_error_and_raising_action_are_tool_errors(kernel):
    async with connected(kernel) as client:
        invalid = await client.call_tool("run_job", {"steps": "many", "colour": 1})
        raised = await client.call_tool("run_job", {"steps": 0})
        unknown = await client.call_tool("no_such_action", {})
    assert invalid.is_error and invalid.structured_content["ename"] == "ValidationError"
    assert {tuple(e["loc"]) for e in invalid.structured_content["errors"]} == {("steps",), ("colour",)}
    assert raised.is_error
    detail = raised.structured_content
    assert detail["ename"] == "ValueError" and "steps must be >= 1" in detail["evalue"]
    assert 0 < len(detail["traceback"]) <= 8 and "ValueError" in detail["traceback"][-1]
    assert raised.content[0].text.startswith("ValueError: steps must be >= 1")
    assert unknown.is_error and unknown.structured_content["ename"] == "UnknownTool"


async def test_cancelling_a_call_cancels_the_action(kernel):
    started = anyio.Event()

    async def progress(value, total, message):
        started.set()

    async with connected(kernel) as client:
        async with anyio.create_task_group() as tg:
            async def call():
                await client.call_tool("run_job", {"steps": 100000, "delay": 0.01, "job": "long"},
                                       progress_callback=progress)
                pytest.fail("the call was not cancelled")

            tg.start_soon(call)
            with anyio.fail_after(30):
                await started.wait()
            assert await kernel.call("list_jobs")
            tg.cancel_scope.cancel()
        with anyio.fail_after(30):
            while await kernel.call("list_jobs"):
                await anyio.sleep(0.05)
        # The server and the kernel go on serving.
        again = await client.call_tool("run_job", {"steps": 1, "delay": 0})
    assert again.structured_content["job_state"] == "done"


async def test_switch_context_announces_new_tools(kernel):
    async with connected(kernel) as client:
        before = by_name(await client.list_tools())
        assert "page_rows" not in before
        async with client.listen(tools_list_changed=True) as sub:
            switched = await client.call_tool("switch_context", {"context": "data"})
            assert not switched.is_error and switched.structured_content["context"] == "data"
            with anyio.fail_after(30):
                event = await sub.__anext__()
            assert type(event).__name__ == "ToolsListChanged"
        after = by_name(await client.list_tools())
        bad = await client.call_tool("switch_context", {"context": "nope"})
    assert {"page_rows", "list_frames", "describe_dataframe"} <= set(after) - set(before)
    info = await kernel.info()
    assert after["page_rows"].input_schema == info["actions"]["page_rows"]["schema"]
    assert bad.is_error and bad.structured_content["ename"] == "UnknownContext"


async def test_variables_after_a_cell_and_paging_a_dataframe(kernel):
    async with connected(kernel) as client:
        async with client.listen(resource_subscriptions=[item_uri("df"), "beakerlike://variables"]) as sub:
            await kernel.execute("import pandas as pd\n"
                                 "df = pd.DataFrame({'a': range(1000), 'b': ['<script>x</script>'] * 1000})")
            updated = set()
            with anyio.fail_after(30):
                while updated != {item_uri("df"), "beakerlike://variables"}:
                    updated.add((await sub.__anext__()).uri)
        listing = json.loads((await client.read_resource("beakerlike://variables")).contents[0].text)
        item = json.loads((await client.read_resource(item_uri("df"))).contents[0].text)
        page = json.loads((await client.read_resource(
            "beakerlike://variables/df/rows?offset=990&limit=20&columns=a")).contents[0].text)
        resources = {str(r.uri) for r in (await client.list_resources()).resources}
        templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
        with pytest.raises(Exception, match="no variable named 'nope'"):
            await client.read_resource(item_uri("nope"))
        with pytest.raises(Exception, match="KeyError"):
            await client.read_resource("beakerlike://variables/df/rows?columns=zz")
        await kernel.execute("for i in range(1200):\n    globals()[f'v{i}'] = i")
        pages, cursor = [], None
        while True:
            page_of = await client.list_resources(cursor=cursor)
            pages.append([str(r.uri) for r in page_of.resources])
            cursor = page_of.next_cursor
            if cursor is None:
                break
    df = listing["variables"]["df"]
    assert df["kind"] == "table" and df["shape"] == [1000, 2] and df["pageable"]
    assert item["application/vnd.beakerlike.preview+json"]["rows"][0][1] == "<script>x</script>"
    assert "<script>" not in item["text/html"]
    assert page["total"] == 1000 and page["rows"] == [[i] for i in range(990, 1000)]
    assert {"beakerlike://variables", item_uri("df")} <= resources
    assert [len(p) for p in pages] == [501, 500, 203]  # + beakerlike://variables; + pd, df, i
    assert len({u for p in pages for u in p}) == 1204
    assert any(t.startswith("beakerlike://variables/{name}/rows") for t in templates)


async def test_handshake_era_client_gets_notifications(kernel):
    received = []

    async def handler(message):
        if isinstance(message, types.ServerNotification):
            received.append(message)

    def methods():
        return [m.method for m in received]

    async with connected(kernel, mode="legacy", message_handler=handler) as client:
        assert client.protocol_version < "2026"
        assert client.server_capabilities.tools.list_changed
        with pytest.warns(MCPDeprecationWarning):  # handshake-era API, still what Claude Desktop speaks
            await client.session.subscribe_resource(item_uri("x"))
        await client.list_resources()
        await kernel.execute("x = 41 + 1")
        with anyio.fail_after(30):
            while not {"notifications/resources/updated", "notifications/resources/list_changed"} <= set(methods()):
                await anyio.sleep(0.02)
        received.clear()
        await kernel.execute("x = 43")  # same names: updated, but the list did not change
        with anyio.fail_after(30):
            while "notifications/resources/updated" not in methods():
                await anyio.sleep(0.02)
        assert "notifications/resources/list_changed" not in methods()
        await client.call_tool("switch_context", {"context": "data"})
        with anyio.fail_after(30):
            while "notifications/tools/list_changed" not in methods():
                await anyio.sleep(0.02)
        assert "page_rows" in by_name(await client.list_tools())
    updates = [m.params.uri for m in received if m.method == "notifications/resources/updated"]
    assert item_uri("x") in updates


async def test_execute_code_only_when_enabled_and_allow_deny_lists(kernel):
    async with connected(kernel, "--execute-code", "--deny", "cancel_*") as client:
        tools = by_name(await client.list_tools())
        ran = await client.call_tool("execute_code", {"code": "y = 6 * 7\ny"})
        failed = await client.call_tool("execute_code", {"code": "1/0"})
        slow = await client.call_tool("execute_code", {"code": "import time\ntime.sleep(60)", "timeout": 0.5})
        after = await client.call_tool("execute_code", {"code": "y + 1"})
    assert "execute_code" in tools and "cancel_job" not in tools and "run_job" in tools
    assert ran.structured_content == {"result": "42"}
    assert failed.is_error and failed.structured_content["ename"] == "ZeroDivisionError"
    assert slow.is_error and slow.structured_content["ename"] == "Timeout"
    assert after.structured_content == {"result": "43"}  # the cell was interrupted, the kernel goes on
    env = server_env(BEAKERLIKE_MCP_ALLOW="list_jobs")
    async with Client(stdio("--existing", kernel.client.connection_file, env=env)) as client:
        tools = by_name(await client.list_tools())
        refused = await client.call_tool("execute_code", {"code": "import os"})
        denied = await client.call_tool("run_job", {})
    assert set(tools) == {"list_jobs", "switch_context"}
    assert refused.is_error and denied.is_error and denied.structured_content["ename"] == "UnknownTool"


async def test_a_started_kernel_over_streamable_http():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "beakerlike", "mcp", "--transport", "http", "--port", str(port)],
                            env=server_env(), stderr=subprocess.PIPE, text=True)
    try:
        with anyio.fail_after(60):
            while True:
                line = await anyio.to_thread.run_sync(proc.stderr.readline)
                assert line, "the server exited before serving"
                if "serving on" in line:
                    break
        seen = []

        async def progress(value, total, message):
            seen.append(value)

        async with Client(f"http://127.0.0.1:{port}/mcp") as client:
            tools = by_name(await client.list_tools())
            result = await client.call_tool("run_job", {"steps": 2, "delay": 0}, progress_callback=progress)
    finally:
        proc.terminate()
        proc.wait(30)
    assert "run_job" in tools and "execute_code" not in tools
    assert result.structured_content["job_state"] == "done" and seen == [0.5, 1.0]


async def test_a_kernel_restart_announces_tools_and_keeps_variables_watched(kernel):
    async with connected(kernel) as client:
        subs = [item_uri("y")]
        async with client.listen(tools_list_changed=True, resource_subscriptions=subs) as sub:
            await kernel.manager.restart_kernel(now=True)
            with anyio.fail_after(60):
                while True:  # until both of the test's channels reach the new process
                    with contextlib.suppress(TimeoutError):
                        await kernel.call("context_info", timeout=2)
                        break
            await client.list_tools()  # any traffic shows the server a new kernel process
            with anyio.fail_after(30):
                event = await sub.__anext__()
            assert type(event).__name__ == "ToolsListChanged"
            await kernel.execute("y = 1")
            with anyio.fail_after(30):
                event = await sub.__anext__()
            assert event.uri == item_uri("y")
        assert "run_job" in by_name(await client.list_tools())


@pytest.mark.parametrize("args, message", [
    (["--existing", "/no/such/kernel.json"], "no connection file"),
    (["--existing", "a.json", "--kernel", "b"], "not both"),
    (["--transport", "websocket"], "must be stdio or http"),
    (["--kernel", "no-such-kernelspec"], "no kernelspec named 'no-such-kernelspec'"),
])
def test_bad_options_are_clear_errors(args, message):
    proc = subprocess.run([sys.executable, "-m", "beakerlike", "mcp", *args], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=60, env=server_env())
    assert proc.returncode == 2 and message in proc.stderr and proc.stdout == ""
