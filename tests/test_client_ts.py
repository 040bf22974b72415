"""@beakerlike/client (packages/client): its vitest unit tests, and its integration tests run in Node
against a real beakerlike kernel through a real ``jupyter server`` (@jupyterlab/services over ``ws``):
a stock one (actions as messages) and one whose ``allowed_message_types`` holds only the standard
types (actions over the ``beakerlike`` comm, test/integration/comm.test.ts).

``node_modules`` comes from ``jlpm install`` (``python3 dev.py test`` builds the wheel, which runs it).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from comm_ws import STANDARD_TYPES, Server, jupyter_server

from beakerlike.kernelspec import install

ROOT = Path(__file__).resolve().parents[1]
CLIENT = ROOT / "packages" / "client"
VITEST = ROOT / "node_modules" / ".bin" / "vitest"


def _vitest(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    if shutil.which("node") is None:
        pytest.fail("node is not installed (Node.js 20+ is needed for the TypeScript client tests)")
    if not VITEST.exists():
        pytest.fail("node_modules is missing: run `python3 dev.py test` (or `jlpm install`) first")
    env = {**os.environ, "CI": "true", "NO_COLOR": "1", "FORCE_COLOR": "0", **(env or {})}
    return subprocess.run([str(VITEST), "run", *args], cwd=CLIENT, env=env, capture_output=True, text=True,
                          timeout=600)


def _check(proc: subprocess.CompletedProcess[str], at_least: int) -> None:
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    match = re.search(r"Tests\s+(\d+) passed \((\d+)\)", out)
    assert match and match.group(1) == match.group(2), out[-3000:]
    assert int(match.group(1)) >= at_least, out[-3000:]  # the tests really ran


def test_client_unit_tests() -> None:
    _check(_vitest("test/unit"), at_least=32)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    tmp = tmp_path_factory.mktemp("ts-client")
    root, prefix = tmp / "root", tmp / "prefix"
    root.mkdir()
    install(prefix=str(prefix))
    token = secrets.token_hex(16)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "JUPYTER_PATH": str(prefix / "share" / "jupyter"), "JUPYTER_CONFIG_DIR": str(tmp / "config"),
           "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"), "JUPYTER_PLATFORM_DIRS": "1",
           "BEAKERLIKE_PLUGINS": "beakerlike.demo"}
    log = tmp / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter_server", "--no-browser", "--ServerApp.ip=127.0.0.1",
             f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
             f"--ServerApp.root_dir={root}", "--ServerApp.allow_root=True"],
            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=root)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"jupyter server exited ({proc.returncode}):\n{log.read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                    break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    pytest.fail(f"jupyter server did not start:\n{log.read_text()}")
                time.sleep(0.2)
        yield url, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def restricted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server that drops every non-standard message type: custom ``<name>_request`` never reach the kernel."""
    with jupyter_server(tmp_path_factory.mktemp("ts-restricted"),
                        {"MappingKernelManager": {"allowed_message_types": STANDARD_TYPES}},
                        env={"BEAKERLIKE_PLUGINS": "beakerlike.demo"}) as srv:
        yield srv


def test_client_against_a_real_kernel_through_jupyter_server(server: tuple[str, str], restricted: Server) -> None:
    url, token = server
    proc = _vitest("test/integration", env={"BEAKERLIKE_SERVER_URL": url, "BEAKERLIKE_SERVER_TOKEN": token,
                                            "BEAKERLIKE_RESTRICTED_URL": restricted.url,
                                            "BEAKERLIKE_RESTRICTED_TOKEN": restricted.token})
    _check(proc, at_least=25)
