"""A custom action request through a real ``jupyter server`` kernel websocket.

The server runs as a subprocess on loopback with a random port, a token, a temporary
root dir and the ``beakerlike`` kernelspec installed into a temporary Jupyter path.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import websocket

from beakerlike.kernelspec import install

SUPPORT = Path(__file__).parent / "support"
STARTUP_TIMEOUT = 60.0
RECV_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running jupyter server: base URL, token and a tiny REST helper."""

    def __init__(self, proc: subprocess.Popen[bytes], port: int, token: str, log: Path) -> None:
        self.proc = proc
        self.port = port
        self.token = token
        self.log = log
        self.url = f"http://127.0.0.1:{port}"

    def api(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.url + path, data=data, method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def ws_url(self, kernel_id: str) -> str:
        return f"ws://127.0.0.1:{self.port}/api/kernels/{kernel_id}/channels?token={self.token}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("jupyter")
    root, prefix = tmp / "root", tmp / "prefix"
    root.mkdir()
    install(prefix=str(prefix))  # kernelspec into <prefix>/share/jupyter/kernels/beakerlike
    token = secrets.token_hex(16)
    port = free_port()
    env = {
        **os.environ,
        "JUPYTER_PATH": str(prefix / "share" / "jupyter"),
        "JUPYTER_CONFIG_DIR": str(tmp / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "BEAKERLIKE_PLUGINS": "sample_actions,protocol_actions",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(SUPPORT), os.environ.get("PYTHONPATH")])),
    }
    log = tmp / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter_server", "--no-browser", "--ServerApp.ip=127.0.0.1",
             f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
             f"--ServerApp.root_dir={root}", "--ServerApp.open_browser=False", "--ServerApp.allow_root=True"],
            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=root,
        )
    srv = Server(proc, port, token, log)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"jupyter server exited ({proc.returncode}):\n{log.read_text()}")
            try:
                srv.api("GET", "/api/status")
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    pytest.fail(f"jupyter server did not start in {STARTUP_TIMEOUT} s:\n{log.read_text()}")
                time.sleep(0.2)
        yield srv
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def kernel_id(server: Server) -> Iterator[str]:
    specs = server.api("GET", "/api/kernelspecs")
    assert "beakerlike" in specs["kernelspecs"]
    kernel = server.api("POST", "/api/kernels", {"name": "beakerlike"})
    try:
        yield kernel["id"]
    finally:
        try:
            server.api("DELETE", f"/api/kernels/{kernel['id']}")
        except urllib.error.URLError:
            pass


def make_msg(msg_type: str, content: dict[str, Any], session: str) -> dict[str, Any]:
    return {
        "header": {
            "msg_id": uuid.uuid4().hex, "msg_type": msg_type, "session": session, "username": "test",
            "date": datetime.now(timezone.utc).isoformat(), "version": "5.4",
        },
        "parent_header": {}, "metadata": {}, "content": content, "channel": "shell", "buffers": [],
    }


def round_trip(ws: websocket.WebSocket, msg: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Send ``msg``; collect its reply and iopub messages until both the reply and idle arrived."""
    ws.send(json.dumps(msg))
    msg_id = msg["header"]["msg_id"]
    reply, iopub, idle = None, [], False
    deadline = time.monotonic() + RECV_TIMEOUT
    while reply is None or not idle:
        assert time.monotonic() < deadline, f"no reply/idle for {msg['header']['msg_type']}: {iopub}"
        incoming = json.loads(ws.recv())
        if incoming.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        if incoming["channel"] == "shell":
            assert reply is None, "a second reply"
            reply = incoming
        elif incoming["channel"] == "iopub":
            iopub.append(incoming)
            if incoming["msg_type"] == "status" and incoming["content"]["execution_state"] == "idle":
                idle = True
    return reply, iopub


@pytest.fixture
def ws(server: Server, kernel_id: str) -> Iterator[websocket.WebSocket]:
    conn = websocket.create_connection(server.ws_url(kernel_id), timeout=RECV_TIMEOUT)
    try:
        yield conn
    finally:
        conn.close()


def test_custom_request_through_the_server_websocket(ws: websocket.WebSocket) -> None:
    session = uuid.uuid4().hex
    reply, _ = round_trip(ws, make_msg("execute_request", {
        "code": "df = {'a': 1}", "silent": False, "store_history": True, "user_expressions": {},
        "allow_stdin": False, "stop_on_error": True,
    }, session))
    assert reply["content"]["status"] == "ok"

    reply, iopub = round_trip(ws, make_msg("save_var_request", {"name": "df", "store": "ws"}, session))
    assert reply["msg_type"] == "save_var_reply"
    assert reply["content"] == {"status": "ok", "return": {"id": 42, "repr": "{'a': 1}", "store": "ws"}}
    types = [m["msg_type"] for m in iopub]
    assert types[0] == "status" and iopub[0]["content"]["execution_state"] == "busy"
    assert types[-1] == "status" and iopub[-1]["content"]["execution_state"] == "idle"
    responses = [m for m in iopub if m["msg_type"] == "save_var_response"]
    assert [m["content"] for m in responses] == [{"progress": 0.5}]
    streams = [m["content"]["text"] for m in iopub if m["msg_type"] == "stream"]
    assert "".join(streams) == "saving df\n"


def test_error_replies_through_the_server_websocket(ws: websocket.WebSocket) -> None:
    session = uuid.uuid4().hex
    reply, _ = round_trip(ws, make_msg("does_not_exist_request", {}, session))
    assert reply["msg_type"] == "does_not_exist_reply"
    assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "UnknownAction"

    reply, _ = round_trip(ws, make_msg("save_var_request", {"nme": "typo"}, session))
    assert reply["content"]["ename"] == "ValidationError"
    assert {tuple(e["loc"]) for e in reply["content"]["errors"]} == {("name",), ("nme",)}


def test_coalesced_fast_stream_arrives_complete_through_the_server(ws: websocket.WebSocket) -> None:
    # jupyter_server drops iopub messages beyond 1000/s; coalescing keeps a fast stream whole.
    n = 20_000
    reply, iopub = round_trip(ws, make_msg("ticks_request", {"n": n}, uuid.uuid4().hex))
    assert reply["content"] == {"status": "ok", "return": None}
    batches = [m["content"]["batch"] for m in iopub if m["msg_type"] == "ticks_response"]
    assert [x for batch in batches for x in batch] == list(range(n))
    assert len(batches) < n // 10


def test_streaming_and_discovery_through_the_server_websocket(ws: websocket.WebSocket) -> None:
    session = uuid.uuid4().hex
    reply, iopub = round_trip(ws, make_msg("count_request", {"n": 4}, session))
    assert reply["content"]["status"] == "ok"
    assert [m["content"] for m in iopub if m["msg_type"] == "count_response"] == [{"i": i} for i in range(4)]

    reply, _ = round_trip(ws, make_msg("context_info_request", {}, session))
    assert "save_var" in reply["content"]["return"]["actions"]

    reply, _ = round_trip(ws, make_msg("kernel_info_request", {}, session))
    assert "beakerlike" in reply["content"]["supported_features"]


V1 = "v1.kernel.websocket.jupyter.org"


def v1_pack(channel: str, msg: dict[str, Any], buffers: list[bytes]) -> bytes:
    """Encode a message in the v1 kernel websocket protocol (offset table, then parts)."""
    parts = [json.dumps(msg[k]).encode() for k in ("header", "parent_header", "metadata", "content")]
    parts += buffers
    chan = channel.encode()
    offsets = [8 * (1 + 1 + len(parts) + 1)]
    offsets.append(offsets[-1] + len(chan))
    for p in parts:
        offsets.append(offsets[-1] + len(p))
    return b"".join([len(offsets).to_bytes(8, "little"), *(o.to_bytes(8, "little") for o in offsets), chan, *parts])


def v1_unpack(data: bytes) -> tuple[str, dict[str, Any], list[bytes]]:
    n = int.from_bytes(data[:8], "little")
    offsets = [int.from_bytes(data[8 * (i + 1): 8 * (i + 2)], "little") for i in range(n)]
    channel = data[offsets[0]:offsets[1]].decode()
    parts = [data[offsets[i]:offsets[i + 1]] for i in range(1, n - 1)]
    keys = ("header", "parent_header", "metadata", "content")
    msg = {k: json.loads(p) for k, p in zip(keys, parts[:4], strict=True)}
    return channel, msg, parts[4:]


def test_binary_buffers_through_the_v1_websocket_protocol(server: Server, kernel_id: str) -> None:
    conn = websocket.create_connection(server.ws_url(kernel_id), timeout=RECV_TIMEOUT, subprotocols=[V1])
    try:
        msg = make_msg("echo_buffers_request", {}, uuid.uuid4().hex)
        payloads = [b"\x00\x01\x02binary", bytes(range(200))]
        conn.send_binary(v1_pack("shell", msg, payloads))
        msg_id = msg["header"]["msg_id"]
        reply, responses, idle = None, [], False
        deadline = time.monotonic() + RECV_TIMEOUT
        while reply is None or not idle:
            assert time.monotonic() < deadline
            channel, incoming, buffers = v1_unpack(conn.recv())
            if incoming["parent_header"].get("msg_id") != msg_id:
                continue
            if channel == "shell":
                reply = incoming
            elif incoming["header"]["msg_type"] == "echo_buffers_response":
                responses.append((incoming, buffers))
            elif incoming["header"]["msg_type"] == "status":
                idle = incoming["content"]["execution_state"] == "idle"
        assert reply["content"] == {"status": "ok", "return": {"sizes": [len(p) for p in payloads]}}
        ((response, buffers),) = responses
        assert response["content"] == {"n": 2}
        assert buffers == [p[::-1] for p in payloads]
    finally:
        conn.close()
