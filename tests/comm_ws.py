"""Test helpers: a real server process and a protocol client over its kernel websocket.

The client speaks the ``v1.kernel.websocket.jupyter.org`` protocol (what JupyterLab uses)
and calls actions either as ``<name>_request`` messages or over the ``beakerlike`` comm,
with the same ``call`` API, so one test body checks both bindings.
Used by tests/test_comm_ws.py, tests/test_rtc.py and tests/test_gateway.py.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import websocket

SUPPORT = Path(__file__).parent / "support"
RECV_TIMEOUT = 30.0
V1 = "v1.kernel.websocket.jupyter.org"

#: The standard Jupyter message types a whitelisting deployment lets through.
STANDARD_TYPES = [
    "execute_request", "inspect_request", "complete_request", "history_request", "is_complete_request",
    "comm_info_request", "kernel_info_request", "shutdown_request", "interrupt_request", "debug_request",
    "comm_open", "comm_msg", "comm_close", "input_reply",
    "create_subshell_request", "delete_subshell_request", "list_subshell_request",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A running Jupyter HTTP server process (jupyter server, kernel gateway, enterprise gateway)."""

    def __init__(self, proc: subprocess.Popen[bytes], port: int, token: str, log: Path) -> None:
        self.proc, self.port, self.token, self.log = proc, port, token, log
        self.url = f"http://127.0.0.1:{port}"

    def api(self, method: str, path: str, body: Any = None, timeout: float = 60) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.url + path, data=data, method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def ws_url(self, kernel_id: str) -> str:
        return f"ws://127.0.0.1:{self.port}/api/kernels/{kernel_id}/channels?token={self.token}"

    def start_kernel(self, name: str = "beakerlike", env: dict[str, str] | None = None) -> str:
        body: dict[str, Any] = {"name": name}
        if env:
            body["env"] = env
        return self.api("POST", "/api/kernels", body, timeout=120)["id"]


@contextmanager
def run_server(cmd: list[str], port: int, token: str, env: dict[str, str], log: Path, cwd: Path,
               startup: float = 90) -> Iterator[Server]:
    """Start ``cmd`` (a server listening on ``port``) and wait until ``/api/kernelspecs`` answers."""
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    srv = Server(proc, port, token, log)
    try:
        deadline = time.monotonic() + startup
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{cmd[:3]} exited ({proc.returncode}):\n{log.read_text()}")
            try:
                srv.api("GET", "/api/kernelspecs", timeout=10)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{cmd[:3]} did not start in {startup} s:\n{log.read_text()}") from None
                time.sleep(0.3)
        yield srv
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def jupyter_env(tmp: Path, **extra: str) -> dict[str, str]:
    """Environment of an isolated Jupyter (own config, runtime and data dirs; test plugins importable)."""
    return {
        **os.environ,
        "JUPYTER_PATH": str(tmp / "prefix" / "share" / "jupyter"),
        "JUPYTER_CONFIG_DIR": str(tmp / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "BEAKERLIKE_PLUGINS": "sample_actions,protocol_actions",
        "BEAKERLIKE_DISABLE_PLUGIN_AUTOLOAD": "1",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(SUPPORT), os.environ.get("PYTHONPATH")])),
        **extra,
    }


@contextmanager
def jupyter_server(tmp: Path, config: dict[str, Any] | None = None, args: tuple[str, ...] = (),
                   env: dict[str, str] | None = None) -> Iterator[Server]:
    """A ``jupyter server`` on loopback with the beakerlike kernelspec and ``config`` (jupyter_server_config.json)."""
    from beakerlike.kernelspec import install

    root = tmp / "root"
    root.mkdir(parents=True, exist_ok=True)
    (tmp / "config").mkdir(parents=True, exist_ok=True)
    install(prefix=str(tmp / "prefix"))
    if config:
        (tmp / "config" / "jupyter_server_config.json").write_text(json.dumps(config))
    token, port = secrets.token_hex(16), free_port()
    cmd = [sys.executable, "-m", "jupyter_server", "--no-browser", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={root}", "--ServerApp.allow_root=True", *args]
    with run_server(cmd, port, token, {**jupyter_env(tmp), **(env or {})}, tmp / "server.log", root) as srv:
        yield srv


# -- the v1 kernel websocket protocol ---------------------------------------------------------


def v1_pack(channel: str, msg: dict[str, Any], buffers: list[bytes]) -> bytes:
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
    msg["channel"] = channel
    return channel, msg, parts[4:]


def legacy_pack(msg: dict[str, Any], buffers: list[bytes]) -> bytes:
    """jupyter_server's legacy binary frame: count, offsets (big-endian uint32), JSON, buffers."""
    parts = [json.dumps(msg).encode(), *buffers]
    offsets = [4 * (len(parts) + 1)]
    for p in parts[:-1]:
        offsets.append(offsets[-1] + len(p))
    return struct.pack("!" + "I" * (len(parts) + 1), len(parts), *offsets) + b"".join(parts)


def legacy_unpack(data: bytes) -> tuple[dict[str, Any], list[bytes]]:
    n = struct.unpack("!I", data[:4])[0]
    offsets = [*struct.unpack("!" + "I" * n, data[4:4 * (n + 1)]), len(data)]
    parts = [data[offsets[i]:offsets[i + 1]] for i in range(n)]
    return json.loads(parts[0]), parts[1:]


@dataclass
class Outcome:
    """What one action call produced, the same shape on both bindings."""

    reply: dict[str, Any]
    responses: list[tuple[Any, list[bytes]]] = field(default_factory=list)
    output: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.reply["status"]


class WsClient:
    """One websocket connection to a kernel; every message received is kept in :attr:`received`."""

    def __init__(self, url: str, transport: str = "messages", protocol: str = "v1") -> None:
        # "v1": the v1 kernel websocket protocol; "json": the legacy one (JSON text frames, binary frames
        # for messages with buffers), which jupyter_server's gateway proxy speaks.
        self.protocol = protocol
        self.ws = websocket.create_connection(url, timeout=RECV_TIMEOUT,
                                              subprotocols=[V1] if protocol == "v1" else None)
        self.session = uuid.uuid4().hex
        self.transport = transport
        self.received: list[dict[str, Any]] = []
        self._unread: list[dict[str, Any]] = []
        self._preview_cursor = 0
        self.comm_id: str | None = None
        self.hello: dict[str, Any] | None = None
        if transport == "comm":
            self.open_comm()

    def close(self) -> None:
        if self.comm_id is not None:
            self.send("comm_close", {"comm_id": self.comm_id, "data": {}})
        self.ws.close()

    # -- raw messages ------------------------------------------------------------------------
    def send(self, msg_type: str, content: dict[str, Any], buffers: list[bytes] | None = None,
             channel: str = "shell") -> dict[str, Any]:
        msg = {
            "header": {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "session": self.session,
                       "username": "test", "date": datetime.now(timezone.utc).isoformat(), "version": "5.4"},
            "parent_header": {}, "metadata": {}, "content": content,
        }
        if self.protocol == "v1":
            self.ws.send_binary(v1_pack(channel, msg, list(buffers or [])))
        elif buffers:
            self.ws.send_binary(legacy_pack({**msg, "channel": channel}, list(buffers)))
        else:
            self.ws.send(json.dumps({**msg, "channel": channel, "buffers": []}))
        return msg

    def next(self, timeout: float = RECV_TIMEOUT) -> dict[str, Any]:
        """The next message (first any put back by :meth:`until`)."""
        if self._unread:
            return self._unread.pop(0)
        return self._recv(timeout)

    def _recv(self, timeout: float) -> dict[str, Any]:
        """A new message from the socket (also kept in :attr:`received`)."""
        self.ws.settimeout(timeout)
        try:
            data = self.ws.recv()
        except websocket.WebSocketTimeoutException:
            raise TimeoutError(f"nothing received in {timeout:.1f} s") from None
        if self.protocol == "v1":
            _, msg, buffers = v1_unpack(data)
        elif isinstance(data, bytes):
            msg, buffers = legacy_unpack(data)
        else:
            msg, buffers = json.loads(data), []
        msg["buffers"] = buffers
        self.received.append(msg)
        return msg

    def until(self, pred: Callable[[dict[str, Any]], bool], timeout: float = RECV_TIMEOUT,
              keep: bool = False) -> dict[str, Any]:
        """Read until a message matches ``pred``; with ``keep`` the others are put back for later reads."""
        deadline = time.monotonic() + timeout
        skipped: list[dict[str, Any]] = []
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no matching message in {timeout} s")
                msg = self.next(left)
                if pred(msg):
                    return msg
                skipped.append(msg)
        finally:
            if keep:
                self._unread[:0] = skipped

    def roundtrip(self, msg_type: str, content: dict[str, Any], timeout: float = RECV_TIMEOUT
                  ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """A standard request: its reply and iopub messages, until both reply and idle arrived."""
        msg_id = self.send(msg_type, content)["header"]["msg_id"]
        reply, iopub = None, []
        while reply is None or not iopub or not _is_idle(iopub[-1]):
            m = self.until(lambda m: m["parent_header"].get("msg_id") == msg_id, timeout)
            if m["channel"] == "shell":
                reply = m
            else:
                iopub.append(m)
        return reply, iopub

    def execute(self, code: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        return self.roundtrip("execute_request", {"code": code, "silent": False, "store_history": True,
                                                  "user_expressions": {}, "allow_stdin": False,
                                                  "stop_on_error": True})

    # -- the comm binding ----------------------------------------------------------------------
    def open_comm(self) -> None:
        self.comm_id = uuid.uuid4().hex
        self.send("comm_open", {"comm_id": self.comm_id, "target_name": "beakerlike", "data": {}})
        msg = self.until(lambda m: self._comm_data(m) is not None)
        self.hello = self._comm_data(msg)["hello"]

    def _comm_data(self, msg: dict[str, Any]) -> dict[str, Any] | None:
        if msg["header"]["msg_type"] == "comm_msg" and msg["content"].get("comm_id") == self.comm_id:
            return msg["content"]["data"]
        return None

    # -- actions, on either binding ------------------------------------------------------------
    def start(self, action: str, payload: dict[str, Any] | None = None, buffers: list[bytes] | None = None) -> str:
        """Send an action request; returns the id to :meth:`finish` it with."""
        if self.transport == "comm":
            rid = uuid.uuid4().hex
            self.send("comm_msg", {"comm_id": self.comm_id, "data": {
                "request": {"id": rid, "action": action, "payload": payload or {}}}}, buffers)
            return rid
        return self.send(f"{action}_request", payload or {}, buffers)["header"]["msg_id"]

    def finish(self, action: str, rid: str, timeout: float = RECV_TIMEOUT) -> Outcome:
        """Collect the responses and the one reply of request ``rid``."""
        if self.transport == "comm":
            return self._finish_comm(rid, timeout)
        reply, responses, output, idle = None, [], [], False
        while reply is None or not idle:
            m = self.until(lambda m: m["parent_header"].get("msg_id") == rid, timeout, keep=True)
            if m["channel"] == "shell":
                assert reply is None, "a second reply"
                reply = m["content"]
            elif m["header"]["msg_type"] == f"{action}_response":
                responses.append((m["content"], m["buffers"]))
            elif _is_idle(m):
                idle = True
            elif m["header"]["msg_type"] != "status":
                output.append(m)
        return Outcome(reply, responses, output)

    def _finish_comm(self, rid: str, timeout: float) -> Outcome:
        responses: list[tuple[Any, list[bytes]]] = []
        request_msg_id: str | None = None

        def mine(m: dict[str, Any]) -> bool:
            data = self._comm_data(m)
            return data is not None and any(isinstance(v, dict) and v.get("id") == rid for v in data.values())

        while True:
            m = self.until(mine, timeout, keep=True)
            request_msg_id = m["parent_header"].get("msg_id")
            data = self._comm_data(m)
            assert data is not None
            if "reply" in data:
                reply = {k: v for k, v in data["reply"].items() if k != "id"}
                break
            responses.append((data["response"]["data"], m["buffers"]))
        # Output (print, display) of the request is parented to its comm_msg.
        output = [m for m in self.received if m["parent_header"].get("msg_id") == request_msg_id
                  and m["header"]["msg_type"] not in ("status", "comm_msg")]
        return Outcome(reply, responses, output)

    def call(self, action: str, payload: dict[str, Any] | None = None, buffers: list[bytes] | None = None,
             timeout: float = RECV_TIMEOUT) -> Outcome:
        return self.finish(action, self.start(action, payload, buffers), timeout)

    def cancel(self, rid: str) -> None:
        """Cancel one request: the comm's ``cancel``; on the message path ``cancel_action_request``."""
        if self.transport == "comm":
            self.send("comm_msg", {"comm_id": self.comm_id, "data": {"cancel": {"id": rid}}})
        else:
            self.send("cancel_action_request", {"msg_id": rid})

    def next_preview(self, timeout: float = RECV_TIMEOUT) -> dict[str, Any]:
        """The next preview update on this binding not returned before (``{"variables", "metadata"}``)."""
        deadline = time.monotonic() + timeout
        while True:
            while self._preview_cursor < len(self.received):
                msg = self.received[self._preview_cursor]
                self._preview_cursor += 1
                if self.is_preview(msg):
                    return self.preview_of(msg)
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no preview in {timeout} s")
            self._unread.append(self._recv(left))  # still there for whoever reads next

    def is_preview(self, msg: dict[str, Any]) -> bool:
        """A preview update delivered on this client's binding."""
        if self.transport == "comm":
            data = self._comm_data(msg)
            return data is not None and "preview" in data
        return msg["header"]["msg_type"] == "preview"

    def preview_of(self, msg: dict[str, Any]) -> dict[str, Any]:
        """``{"variables", "metadata"}`` of a preview update on either binding."""
        if self.transport == "comm":
            return self._comm_data(msg)["preview"]  # type: ignore[index]
        return {"variables": msg["content"]["variables"], "metadata": msg["metadata"]}


def _is_idle(msg: dict[str, Any]) -> bool:
    return msg["header"]["msg_type"] == "status" and msg["content"].get("execution_state") == "idle"
