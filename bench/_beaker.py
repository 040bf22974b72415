"""Beaker 1.14 running headless beside our kernel, for side-by-side ratios (optional).

Beaker lives in its own virtualenv (it pulls its LLM agent stack): point
``BEAKERLIKE_BENCH_BEAKER_PYTHON`` at its python, or create ``.venv-beaker``::

    python3 -m venv .venv-beaker && .venv-beaker/bin/pip install beaker-kernel==1.14.0 pandas numpy

Without it the Beaker lines are skipped with a message. Facts used here are in
``/work/shared/notes/beaker-headless.md`` (startup fix for jupyter_server 2.21, env vars).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from ._server import _free_port
from ._util import ROOT

# Run in Beaker's python: accept jupyter_server 2.21's `ip=` keyword in Beaker's _get_urlparts override
# (its startup crashes otherwise); still never put the token in URLs. No message path is touched.
LAUNCHER = """
import sys
from jupyter_server.serverapp import ServerApp
from beaker_kernel.service import base

def _get_urlparts(self, path=None, include_token=False, **kwargs):
    return ServerApp._get_urlparts(self, path, False, **kwargs)

base.BeakerServerApp._get_urlparts = _get_urlparts
from beaker_kernel.service.notebook import BeakerNotebookApp
BeakerNotebookApp.launch_instance(argv=sys.argv[1:])
"""

STREAM_CONTEXT = '''
"""A default context with one streaming action: the fair equivalent of bench_stream."""
from beaker_kernel.contexts.default.context import DefaultContext
from beaker_kernel.lib.utils import action


class BenchContext(DefaultContext):
    """Beaker's default context plus ``bench_stream``."""

    @action()
    async def bench_stream(self, message):
        n = int(message.content.get("n", 10))
        for i in range(n):
            self.send_response("iopub", "bench_stream_response", {"i": i}, parent_header=message.header)
        return None
'''


def beaker_python() -> str | None:
    """The python of a virtualenv with beaker-kernel, or ``None``."""
    candidates = [os.environ.get("BEAKERLIKE_BENCH_BEAKER_PYTHON"), str(ROOT / ".venv-beaker" / "bin" / "python")]
    for c in candidates:
        if c and Path(c).exists():
            return c
    return None


class BeakerServer:
    """``BeakerNotebookApp`` on a free port with one Beaker kernel; ``conn`` is its connection info."""

    def __init__(self, python: str) -> None:
        self.python = python
        self.port = _free_port()
        self.token = uuid.uuid4().hex
        self.tmp = tempfile.TemporaryDirectory(prefix="beakerlike-bench-beaker-")
        self.proc: subprocess.Popen[bytes] | None = None
        self.conn: dict[str, Any] = {}

    def start(self) -> BeakerServer:
        """Start the server and a ``beaker_kernel``; returns once its connection file exists."""
        tmp = Path(self.tmp.name)
        home, run = tmp / "home", tmp / "run"
        (home / ".beaker" / "contexts").mkdir(parents=True)
        run.mkdir()
        ctx_pkg = tmp / "pkgs" / "beakerlike_bench_ctx"
        ctx_pkg.mkdir(parents=True)
        (ctx_pkg / "__init__.py").write_text(STREAM_CONTEXT)
        env = {**os.environ, "BEAKER_AGENT_USER": "root", "BEAKER_SUBKERNEL_USER": "root",
               "BEAKER_RUN_PATH": str(run), "JUPYTER_TOKEN": self.token, "HOME": str(home),
               "LLM_PROVIDER_IMPORT_PATH": "beaker_kernel.lib.utils.DefaultModel",
               "PYTHONPATH": str(tmp / "pkgs")}
        env.pop("VIRTUAL_ENV", None)
        # Beaker finds contexts through ~/.beaker/contexts/<slug>.json: point "default" at the subclass.
        (home / ".beaker" / "contexts" / "default.json").write_text(json.dumps(
            {"slug": "default", "package": "beakerlike_bench_ctx", "class_name": "BenchContext"}))
        self.log = open(tmp / "server.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [self.python, "-c", LAUNCHER, "--ip", "127.0.0.1", "--port", str(self.port), "--no-browser",
             "--allow-root", "--ServerApp.port_retries=0"],
            env=env, cwd=str(tmp), stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while True:
            try:
                self.api("GET", "/api/kernelspecs")
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"Beaker did not start (log: {tmp / 'server.log'})") from None
                time.sleep(0.5)
        kid = self.api("POST", "/api/kernels", {"name": "beaker_kernel"})["id"]
        conn_file = run / "kernelfiles" / f"kernel-{kid}.json"
        while not conn_file.exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"no connection file {conn_file}")
            time.sleep(0.2)
        time.sleep(0.5)
        self.conn = json.loads(conn_file.read_text())
        return self

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Call the REST API."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
                                     headers={"Authorization": f"token {self.token}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def stop(self) -> None:
        """Stop the server and every process it started (deleting a Beaker kernel leaves its subkernel)."""
        import psutil

        if self.proc is not None and self.proc.poll() is None:
            children = psutil.Process(self.proc.pid).children(recursive=True)
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            for child in children:
                try:
                    child.kill()
                except psutil.NoSuchProcess:
                    pass
        self.log.close()
        self.tmp.cleanup()

    def __enter__(self) -> BeakerServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
