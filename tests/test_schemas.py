"""The JSON Schemas in docs/schemas are current, valid, and the kernel's messages match them."""

import json
import subprocess
import sys

import pytest
from jsonschema import Draft202012Validator
from schema_check import SCHEMA_DIR, MessageChecker

from beakerlike import messages, protocol
from beakerlike.client import ActionError

pytestmark = pytest.mark.anyio


def test_committed_schemas_are_current(tmp_path):
    messages.write_schemas(tmp_path)
    fresh = {p.name: p.read_text() for p in tmp_path.glob("*.json")}
    committed = {p.name: p.read_text() for p in SCHEMA_DIR.glob("*.json")}
    assert sorted(fresh) == sorted(committed), "run: beakerlike schema --out docs/schemas"
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"stale schemas {stale}; run: beakerlike schema --out docs/schemas"


def test_schemas_are_valid_json_schema():
    for path in SCHEMA_DIR.glob("*.json"):
        Draft202012Validator.check_schema(json.loads(path.read_text()))


def test_schema_cli_writes_and_prints(tmp_path):
    out = subprocess.run([sys.executable, "-m", "beakerlike", "schema", "--out", str(tmp_path / "s")],
                         capture_output=True, text=True, check=True)
    assert (tmp_path / "s" / "reply.json").exists() and "reply.json" in out.stdout
    one = subprocess.run([sys.executable, "-m", "beakerlike", "schema", "item"], capture_output=True, text=True)
    assert json.loads(one.stdout)["title"] == "item"
    bad = subprocess.run([sys.executable, "-m", "beakerlike", "schema", "nope"], capture_output=True, text=True)
    assert bad.returncode == 2 and "no schema named 'nope'" in bad.stderr


def test_reply_builders_are_the_models():
    checker = MessageChecker()
    for content in (protocol.ok_reply({"x": [1]}), protocol.aborted_reply("interrupted"),
                    protocol.error_reply("ValidationError", "bad", [],
                                         errors=[{"loc": ["a"], "msg": "m", "type": "t"}]),
                    protocol.exception_reply(KeyError("k"))):
        assert checker.check({"header": {"msg_type": "x_reply"}, "content": content}) == []
    assert "errors" not in protocol.error_reply("E", "v")
    broken = {"status": "error", "ename": "E", "evalue": "v"}
    assert checker.check({"header": {"msg_type": "x_reply"}, "content": broken})  # traceback is required


def test_checker_catches_drift():
    checker = MessageChecker()
    item = {"text/plain": "x: int 1", "text/html": "x", "application/vnd.beakerlike.preview+json": {
        **messages.PreviewFields.defaults(), "name": "x", "type": "int", "module": "builtins", "secret": 1}}
    problems = checker.check({"header": {"msg_type": "preview"}, "content": {"variables": {"x": item}},
                              "metadata": {"beakerlike": {"removed": {"variables": []}, "seq": 1, "full": False,
                                                           "more": False, "omitted": 0}}})
    assert len(problems) == 1 and "secret" in problems[0]


@pytest.mark.beakerlike_plugins(autoload=False)
async def test_builtin_messages_of_a_real_kernel_match(beakerlike_kernel, message_checker):
    await beakerlike_kernel.call("preview_watch")
    await beakerlike_kernel.execute("import numpy as np\ns = 'x' * 500\nd = {'a': [1, 2]}\narr = np.zeros((3, 4))")
    await beakerlike_kernel.call("preview_page", path=["s"], limit=10)
    await beakerlike_kernel.call("preview_page", path=["arr"], binary=True)
    await beakerlike_kernel.call("context_setup", context="default")
    await beakerlike_kernel.call("preview_unwatch")
    with pytest.raises(ActionError, match="KeyError"):
        await beakerlike_kernel.call("preview_page", path=["missing"])
    info = await beakerlike_kernel.request("kernel_info_request")
    assert "beakerlike" in info.content
    # Teardown (the autouse fixture) validates all of them; here: that they are seen and checked.
    from conftest import _received

    checked = {m["header"]["msg_type"] for m in _received}
    assert {"preview", "preview_page_reply", "preview_page_response", "context_setup_response"} <= checked
    assert message_checker.check({"header": {"msg_type": "preview_page_reply"},
                                  "content": {"status": "ok", "return": {"rows": 1}}})
    checker = MessageChecker()
    assert [p for m in _received for p in checker.check(m)] == []
    assert {"preview.content", "preview.metadata", "reply", "preview_watch_reply.return", "preview_page_reply.return",
            "preview_page_response", "context_setup_response", "context_setup_reply.return",
            "preview_unwatch_reply.return", "kernel_info_reply.beakerlike"} <= set(checker.checked)


async def test_comm_binding_messages_match():
    from conftest import _received

    from beakerlike.client import KernelClient
    from beakerlike.kernelspec import KERNEL_NAME

    kernel = await KernelClient.start(KERNEL_NAME, transport="comm",
                                      env={**__import__("os").environ, "BEAKERLIKE_DISABLE_PLUGIN_AUTOLOAD": "1"})
    try:
        assert kernel.transport == "comm"
        await kernel.call("preview_watch")
        await kernel.execute("y = [1, 2, 3]")
        await kernel.call("preview_page", path=["y"], limit=2)
        with pytest.raises(ActionError, match="UnknownAction"):
            await kernel.call("no_such_action")
    finally:
        await kernel.close()
    checker = MessageChecker()
    assert [p for m in _received for p in checker.check(m)] == []
    assert checker.checked.get("comm.from_kernel", 0) >= 4  # hello, replies, preview
    bad = {"header": {"msg_type": "comm_msg"}, "content": {"data": {"reply": {"id": "1", "status": "ok"}}}}
    assert checker.check(bad)  # an ok reply without "return" is caught
