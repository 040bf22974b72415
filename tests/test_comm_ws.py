"""Both bindings of the action protocol through a real ``jupyter server`` websocket.

``comm``: a server whose ``MappingKernelManager.allowed_message_types`` holds only the
standard Jupyter types (custom ``<name>_request`` messages are dropped), so actions must
travel over the ``beakerlike`` comm. ``messages``: a stock server, actions as messages.
Every test body runs on both.
"""

from __future__ import annotations

import time
import urllib.error
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from comm_ws import STANDARD_TYPES, Server, WsClient, jupyter_server

RESTRICTED = {"MappingKernelManager": {"allowed_message_types": STANDARD_TYPES}}


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[Server, str]]]:
    """One whitelisting server (for the comm) and one stock server (for messages), a kernel each."""
    with jupyter_server(tmp_path_factory.mktemp("restricted"), RESTRICTED) as restricted, \
            jupyter_server(tmp_path_factory.mktemp("stock")) as stock:
        kernels = {"comm": (restricted, restricted.start_kernel()), "messages": (stock, stock.start_kernel())}
        try:
            yield kernels
        finally:
            for srv, kid in kernels.values():
                try:
                    srv.api("DELETE", f"/api/kernels/{kid}")
                except (urllib.error.URLError, ConnectionError):
                    pass


@pytest.fixture(params=["messages", "comm"])
def transport(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def server(servers: dict[str, tuple[Server, str]], transport: str) -> tuple[Server, str]:
    return servers[transport]


@pytest.fixture
def ws(server: tuple[Server, str], transport: str) -> Iterator[WsClient]:
    srv, kid = server
    client = WsClient(srv.ws_url(kid), transport)
    try:
        yield client
    finally:
        client.close()


def test_the_restricted_server_drops_action_messages(servers: dict[str, tuple[Server, str]]) -> None:
    srv, kid = servers["comm"]
    client = WsClient(srv.ws_url(kid), "messages")
    try:
        rid = client.start("noop")
        with pytest.raises(TimeoutError):
            client.until(lambda m: m["parent_header"].get("msg_id") == rid, timeout=2)
        assert 'Received message of type "noop_request", which is not allowed' in Path(srv.log).read_text()
        # Standard messages pass.
        reply, _ = client.roundtrip("kernel_info_request", {})
        assert "beakerlike" in reply["content"]["supported_features"]
    finally:
        client.close()


def test_hello(servers: dict[str, tuple[Server, str]]) -> None:
    srv, kid = servers["comm"]
    client = WsClient(srv.ws_url(kid), "comm")
    try:
        assert client.hello is not None
        assert set(client.hello) == {"beakerlike_version", "protocol_version", "features"}
        assert "previews" in client.hello["features"] and "cancel" in client.hello["features"]
    finally:
        client.close()


def test_action_with_response_and_output(ws: WsClient) -> None:
    reply, _ = ws.execute("df = {'a': 1}")
    assert reply["content"]["status"] == "ok"
    out = ws.call("save_var", {"name": "df", "store": "ws"})
    assert out.reply == {"status": "ok", "return": {"id": 42, "repr": "{'a': 1}", "store": "ws"}}
    assert [r for r, _ in out.responses] == [{"progress": 0.5}]
    text = "".join(m["content"]["text"] for m in out.output if m["header"]["msg_type"] == "stream")
    assert text == "saving df\n"


def test_errors_are_the_same_on_both_bindings(ws: WsClient) -> None:
    out = ws.call("does_not_exist")
    assert out.reply["status"] == "error" and out.reply["ename"] == "UnknownAction"
    out = ws.call("save_var", {"nme": "typo"})
    assert out.reply["ename"] == "ValidationError"
    assert {tuple(e["loc"]) for e in out.reply["errors"]} == {("name",), ("nme",)}
    out = ws.call("too_slow")
    assert out.reply["ename"] == "ActionTimeout"
    out = ws.call("fail")
    assert (out.reply["ename"], out.reply["evalue"]) == ("RuntimeError", "boom from handler")
    assert any("boom from handler" in line for line in out.reply["traceback"])


def test_streaming_and_binary_buffers(ws: WsClient) -> None:
    out = ws.call("count", {"n": 5})
    assert out.reply == {"status": "ok", "return": None}
    assert [r for r, _ in out.responses] == [{"i": i} for i in range(5)]

    payloads = [b"\x00\x01\x02binary", bytes(range(200))]
    out = ws.call("echo_buffers", buffers=payloads)
    assert out.reply == {"status": "ok", "return": {"sizes": [len(p) for p in payloads]}}
    assert out.responses == [({"n": 2}, [p[::-1] for p in payloads])]


def test_coalesced_stream_arrives_complete(ws: WsClient) -> None:
    n = 5000
    out = ws.call("ticks", {"n": n})
    assert out.reply == {"status": "ok", "return": None}
    assert [x for r, _ in out.responses for x in r["batch"]] == list(range(n))


def test_interrupt_aborts(ws: WsClient, server: tuple[Server, str]) -> None:
    srv, kid = server
    rid = ws.start("slow", {"seconds": 30})
    time.sleep(0.5)
    srv.api("POST", f"/api/kernels/{kid}/interrupt")
    out = ws.finish("slow", rid)
    assert out.reply == {"status": "aborted", "reason": "interrupted"}


def test_cancel_one_request(ws: WsClient) -> None:
    # The comm's {"cancel": {"id"}}; on the message path the cancel_action built-in.
    slow = ws.start("slow", {"seconds": 30})
    assert ws.call("noop").reply == {"status": "ok", "return": None}  # the other request is unaffected
    ws.cancel(slow)
    assert ws.finish("slow", slow).reply == {"status": "aborted", "reason": "cancelled"}


def test_previews_reach_the_watching_binding(ws: WsClient) -> None:
    snap = ws.call("preview_watch").reply["return"]
    assert snap["full"] is True
    try:
        name = f"p_{uuid.uuid4().hex[:8]}"
        ws.execute(f"{name} = list(range(3))")
        update = ws.next_preview()
        assert name in update["variables"]
        item = update["variables"][name]["application/vnd.beakerlike.preview+json"]
        assert item["length"] == 3
        meta = update["metadata"]["beakerlike"]
        assert meta["seq"] == snap["seq"] + 1 and meta["full"] is False
    finally:
        ws.call("preview_unwatch")


def test_two_clients_with_a_comm_each(servers: dict[str, tuple[Server, str]]) -> None:
    srv, kid = servers["comm"]
    a, b = WsClient(srv.ws_url(kid), "comm"), WsClient(srv.ws_url(kid), "comm")
    try:
        a.call("preview_watch")
        # Concurrent requests, one per comm; each comm carries only its own.
        ra, rb = a.start("count", {"n": 3}), b.start("sync_add", {"a": 1, "b": 2})
        out_b, out_a = b.finish("sync_add", rb), a.finish("count", ra)
        assert out_a.reply == {"status": "ok", "return": None} and len(out_a.responses) == 3
        assert out_b.reply == {"status": "ok", "return": 3} and out_b.responses == []
        name = f"t_{uuid.uuid4().hex[:8]}"
        b.execute(f"{name} = 1")
        assert name in a.next_preview()["variables"]
        # b sees a's comm messages on iopub (every frontend of a kernel does) but none on its own comm.
        b.call("noop")
        assert not [m for m in b.received if b.is_preview(m)]
        ids_on_b = {v.get("id") for m in b.received if b._comm_data(m) for v in b._comm_data(m).values()
                    if isinstance(v, dict)}
        assert ra not in ids_on_b and rb in ids_on_b
    finally:
        a.close()
        b.close()


def test_comm_opens_and_answers_while_a_cell_blocks(servers: dict[str, tuple[Server, str]]) -> None:
    srv, kid = servers["comm"]
    runner = WsClient(srv.ws_url(kid), "messages")
    name = f"after_{uuid.uuid4().hex[:8]}"
    try:
        cell = runner.send("execute_request", {"code": f"import time; time.sleep(4); {name} = 1", "silent": False,
                                               "store_history": False, "user_expressions": {},
                                               "allow_stdin": False, "stop_on_error": False})
        runner.until(lambda m: m["header"]["msg_type"] == "execute_input"
                     and m["parent_header"].get("msg_id") == cell["header"]["msg_id"])
        late = WsClient(srv.ws_url(kid), "comm")  # comm_open is handled off the main thread: hello at once
        try:
            # The cell has not bound the name yet: the request was answered while the cell ran.
            assert late.call("save_var", {"name": name}).reply["ename"] == "KeyError"
        finally:
            late.close()
        runner.until(lambda m: m["channel"] == "shell" and m["parent_header"].get("msg_id") == cell["header"]["msg_id"])
    finally:
        runner.close()
