"""Raw kernel processes and a raw ZMQ client for the benchmarks.

The client speaks the wire protocol directly (DEALER shell, SUB iopub) and parses
only the header frames of incoming messages, so it is cheap enough not to be the
bottleneck when a kernel streams thousands of messages per second.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zmq
from jupyter_client.connect import write_connection_file
from jupyter_client.session import Session

ROOT = Path(__file__).resolve().parent.parent


class KernelProcess:
    """A kernel started as ``python -m <module> [args] -f <connection file>``."""

    def __init__(self, module: str, *args: str, env: dict[str, str] | None = None) -> None:
        self.module, self.args = module, args
        self.env = {**os.environ, **(env or {})}
        self.env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), self.env.get("PYTHONPATH")]))
        self.tmp = tempfile.TemporaryDirectory(prefix="beakerlike-bench-")
        self.conn_file = os.path.join(self.tmp.name, "kernel.json")
        self.proc: subprocess.Popen[bytes] | None = None
        self.conn: dict[str, Any] = {}

    def start(self) -> KernelProcess:
        """Launch the process and return once it answers ``kernel_info_request``."""
        write_connection_file(self.conn_file, ip="127.0.0.1", key=uuid.uuid4().hex.encode())
        with open(self.conn_file) as f:
            self.conn = json.load(f)
        cmd = [sys.executable, "-m", self.module, *self.args, "-f", self.conn_file]
        self.proc = subprocess.Popen(cmd, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with RawClient(self.conn) as client:
            deadline = time.monotonic() + 60
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"kernel {self.module} exited with {self.proc.returncode}")
                try:
                    client.roundtrip("kernel_info_request", timeout=2)
                    break
                except TimeoutError:
                    if time.monotonic() > deadline:
                        raise
        return self

    def rss(self) -> int:
        """Resident set size of the kernel process, in bytes (from /proc)."""
        assert self.proc is not None
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")

    def stop(self) -> None:
        """Kill the process (benchmarks need no graceful shutdown)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.tmp.cleanup()

    def __enter__(self) -> KernelProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def beakerlike_kernel(*plugins: str, args: tuple[str, ...] = ()) -> KernelProcess:
    """The beakerlike kernel, loading ``plugins`` (module names); ``args``: kernel app options."""
    env = {"BEAKERLIKE_PLUGINS": ",".join(plugins), "BEAKERLIKE_DISABLE_PLUGIN_AUTOLOAD": "1"}
    return KernelProcess("beakerlike.kernelapp", *args, env=env)


def bare_kernel() -> KernelProcess:
    """Stock IPythonKernel plus raw ``shell_handlers`` (see ``bench/bare_kernel.py``)."""
    return KernelProcess("ipykernel_launcher", "--IPKernelApp.kernel_class=bench.bare_kernel.BareKernel")


@dataclass
class Exchange:
    """Timing of one request: when its reply and its idle status arrived."""

    msg_id: str
    sent: float
    reply_at: float | None = None
    idle_at: float | None = None
    reply: dict[str, Any] | None = None
    counts: dict[str, int] = field(default_factory=dict)
    items: int = 0  # response items, counting each entry of a coalesced {"batch": [...]}
    last_iopub_at: float | None = None

    @property
    def done(self) -> bool:
        return self.reply_at is not None and self.idle_at is not None

    @property
    def latency(self) -> float:
        """Send to reply *and* idle, in seconds."""
        assert self.reply_at is not None and self.idle_at is not None
        return max(self.reply_at, self.idle_at) - self.sent


class RawClient:
    """One DEALER on shell and one SUB on iopub, with a Session for signing."""

    def __init__(self, conn: dict[str, Any]) -> None:
        key = conn["key"].encode() if isinstance(conn["key"], str) else conn["key"]
        self.session = Session(key=key, signature_scheme=conn["signature_scheme"])
        self.ctx = zmq.Context()
        url = f"{conn['transport']}://{conn['ip']}:"
        self.shell = self.ctx.socket(zmq.DEALER)
        self.shell.linger = 0
        self.shell.connect(url + str(conn["shell_port"]))
        self.iopub = self.ctx.socket(zmq.SUB)
        self.iopub.linger = 0
        self.iopub.rcvhwm = 0
        self.iopub.setsockopt(zmq.SUBSCRIBE, b"")
        self.iopub.connect(url + str(conn["iopub_port"]))
        self.poller = zmq.Poller()
        self.poller.register(self.shell, zmq.POLLIN)
        self.poller.register(self.iopub, zmq.POLLIN)
        self.pending: dict[str, Exchange] = {}
        #: Parse ``*_response`` contents to count coalesced items (costs time; off by default).
        self.count_batches = False
        self._wait_iopub()

    def _wait_iopub(self) -> None:
        # SUB connects asynchronously; poll until iopub delivers (status of a kernel_info).
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ex = self.send("kernel_info_request")
            end = time.monotonic() + 0.5
            while time.monotonic() < end and ex.idle_at is None:
                self.pump(0.05)
            if ex.idle_at is not None:
                self.finish(ex, timeout=5)
                return

    def send(self, msg_type: str, content: dict[str, Any] | None = None) -> Exchange:
        """Send a shell request; the returned exchange fills in as ``pump`` reads."""
        msg = self.session.msg(msg_type, content or {})
        ex = Exchange(msg["header"]["msg_id"], time.perf_counter())
        self.pending[ex.msg_id] = ex
        self.session.send(self.shell, msg)
        return ex

    def _headers(self, sock: zmq.Socket[Any]) -> tuple[dict[str, Any], dict[str, Any], list[Any]]:
        _, frames = self.session.feed_identities(sock.recv_multipart(copy=False), copy=False)
        header = json.loads(frames[1].bytes)
        parent = json.loads(frames[2].bytes)
        return header, parent, frames

    def pump(self, timeout: float) -> int:
        """Read whatever arrives within ``timeout`` seconds (then without waiting); returns messages read."""
        n = 0
        events = dict(self.poller.poll(int(timeout * 1000)))
        while events:
            now = time.perf_counter()
            if self.shell in events:
                header, parent, frames = self._headers(self.shell)
                ex = self.pending.get(parent.get("msg_id", ""))
                if ex is not None:
                    ex.reply_at = now
                    ex.reply = {"header": header, "content": json.loads(frames[4].bytes)}
                n += 1
            if self.iopub in events:
                header, parent, frames = self._headers(self.iopub)
                ex = self.pending.get(parent.get("msg_id", ""))
                if ex is not None:
                    msg_type = header["msg_type"]
                    ex.counts[msg_type] = ex.counts.get(msg_type, 0) + 1
                    if msg_type == "status":
                        if json.loads(frames[4].bytes)["execution_state"] == "idle":
                            ex.idle_at = now
                    else:
                        ex.last_iopub_at = now
                        if self.count_batches and msg_type.endswith("_response"):
                            batch = json.loads(frames[4].bytes).get("batch")
                            ex.items += len(batch) if isinstance(batch, list) else 1
                n += 1
            events = dict(self.poller.poll(0))
        return n

    def finish(self, ex: Exchange, timeout: float = 60) -> Exchange:
        """Pump until ``ex`` has its reply and idle status."""
        deadline = time.monotonic() + timeout
        while not ex.done:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no reply/idle for {ex.msg_id}")
            self.pump(0.05)
        del self.pending[ex.msg_id]
        return ex

    def roundtrip(self, msg_type: str, content: dict[str, Any] | None = None, timeout: float = 60) -> Exchange:
        """Send one request and wait for its reply and idle."""
        return self.finish(self.send(msg_type, content), timeout)

    def close(self) -> None:
        """Close the sockets."""
        self.ctx.destroy(linger=0)

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def median(xs: Iterable[float]) -> float:
    """The median of ``xs``."""
    return statistics.median(list(xs))


def quantile(xs: Iterable[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``xs``."""
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]
