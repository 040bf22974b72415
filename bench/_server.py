"""A real ``jupyter server`` and a websocket client, to measure streaming through its iopub rate limit."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import websocket

from ._util import ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class JupyterServer:
    """``python -m jupyter_server`` on a free port with default rate limits; kernels inherit ``env``."""

    def __init__(self, env: dict[str, str] | None = None, args: tuple[str, ...] = (),
                 log_file: str | None = None) -> None:
        self.args = args
        self.log_file = log_file  # the server's log (stderr) goes here when given
        self.port = _free_port()
        self.token = uuid.uuid4().hex
        self.tmp = tempfile.TemporaryDirectory(prefix="beakerlike-bench-server-")
        self.env = {**os.environ, **(env or {})}
        self.env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), self.env.get("PYTHONPATH")]))
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> JupyterServer:
        """Launch and wait until ``/api/status`` answers."""
        cmd = [sys.executable, "-m", "jupyter_server", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={self.token}", "--ServerApp.open_browser=False",
               f"--ServerApp.root_dir={self.tmp.name}", "--ServerApp.allow_root=True", *self.args]
        log = open(self.log_file, "ab") if self.log_file else None  # noqa: SIM115 - the child keeps it
        try:
            self.proc = subprocess.Popen(cmd, env=self.env, stdout=subprocess.DEVNULL,
                                         stderr=log if log is not None else subprocess.DEVNULL)
        finally:
            if log is not None:
                log.close()
        deadline = time.monotonic() + 60
        while True:
            try:
                self.api("GET", "/api/status")
                return self
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("jupyter server did not start") from None
                time.sleep(0.2)

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Call the REST API."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
                                     headers={"Authorization": f"token {self.token}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def kernel(self, name: str = "beakerlike") -> WsKernel:
        """Start a kernel through the server and connect a websocket to it."""
        kid = self.api("POST", "/api/kernels", {"name": name})["id"]
        return WsKernel(f"ws://127.0.0.1:{self.port}/api/kernels/{kid}/channels?token={self.token}")

    def stop(self) -> None:
        """Terminate the server (its kernels go with it)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.tmp.cleanup()

    def __enter__(self) -> JupyterServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class WsRun:
    """One request as a websocket client saw it."""

    messages: int
    items: int
    seconds: float
    rate_notices: int
    status: str


class WsKernel:
    """A websocket on ``/api/kernels/<id>/channels`` (legacy JSON protocol)."""

    def __init__(self, url: str) -> None:
        self.ws = websocket.create_connection(url, timeout=60)
        self.session = uuid.uuid4().hex
        deadline = time.monotonic() + 60
        while True:  # the kernel may still be starting
            try:
                self.request("kernel_info_request", {}, timeout=5)
                return
            except TimeoutError:
                if time.monotonic() > deadline:
                    raise

    def request(self, msg_type: str, content: dict[str, Any], timeout: float = 120) -> WsRun:
        """Send a shell request; read until its reply and idle, counting ``*_response`` items."""
        msg_id = uuid.uuid4().hex
        header = {"msg_id": msg_id, "msg_type": msg_type, "session": self.session, "username": "bench",
                  "date": datetime.now(timezone.utc).isoformat(), "version": "5.3"}
        self.ws.send(json.dumps({"header": header, "parent_header": {}, "metadata": {}, "content": content,
                                 "channel": "shell", "buffers": []}))
        start = time.perf_counter()
        messages = items = notices = 0
        status, idle, last = "", False, start
        deadline = time.monotonic() + timeout
        while not (status and idle):
            if time.monotonic() > deadline:
                raise TimeoutError(msg_type)
            self.ws.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                m = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                raise TimeoutError(msg_type) from None
            if m.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = m["header"]["msg_type"]
            if m.get("channel") == "shell":
                status = m["content"].get("status", "?")
            elif kind == "status":
                idle = idle or m["content"]["execution_state"] == "idle"
            elif kind.endswith("_response"):
                messages += 1
                batch = m["content"].get("batch")
                items += len(batch) if isinstance(batch, list) else 1
                last = time.perf_counter()
            elif kind == "stream" and "rate exceeded" in m["content"].get("text", ""):
                notices += 1
        return WsRun(messages, items, last - start, notices, status)

    def close(self) -> None:
        """Close the websocket."""
        self.ws.close()
