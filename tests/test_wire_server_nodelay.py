"""The jupyter_server extension shipped in the wheel sets TCP_NODELAY on kernel websockets (issue 8.6).

A real ``jupyter server`` from this venv finds the extension through a ``jupyter_server_config.d``
file (what the wheel installs as shared data; written here as ``beakerlike install`` does), and the
server reads the option back from the websocket's socket after a real round trip.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from beakerlike.serverext import install_server_config

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench._server import JupyterServer  # noqa: E402


def _server(tmp_path: Path, *args: str) -> JupyterServer:
    config = tmp_path / "config"
    path = install_server_config(user=False, prefix=str(tmp_path / "prefix"))
    # A jupyter_server_config.d directory the server searches (JUPYTER_CONFIG_DIR), as a pip install provides.
    (config / "jupyter_server_config.d").mkdir(parents=True)
    (config / "jupyter_server_config.d" / path.name).write_text(path.read_text())
    return JupyterServer({"JUPYTER_CONFIG_DIR": str(config)}, args, log_file=str(tmp_path / "server.log"))


def _run_with_log(server: JupyterServer) -> str:
    """Start the server, do one action round trip over a kernel websocket, stop it; return its log."""
    with server:
        kernel = server.kernel()
        try:
            assert kernel.request("context_info_request", {}, timeout=60).status == "ok"
        finally:
            kernel.close()
    return Path(server.log_file).read_text()


def test_server_loads_the_extension_and_sets_nodelay(tmp_path: Path) -> None:
    log = _run_with_log(_server(tmp_path))
    assert re.search(r"beakerlike\.serverext \| extension was successfully loaded", log), log
    assert re.search(r"kernel websocket \S+ TCP_NODELAY=1", log), log


def test_nodelay_can_be_switched_off(tmp_path: Path) -> None:
    log = _run_with_log(_server(tmp_path, "--BeakerlikeServer.kernel_ws_nodelay=False"))
    assert "kernel_ws_nodelay=False" in log
    assert "TCP_NODELAY=" not in log


def test_wheel_ships_the_extension_and_its_enabling_config(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(REPO)], check=True, env={**os.environ, "PIP_NO_INDEX": "1"})
    (wheel,) = tmp_path.glob("beakerlike-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "beakerlike/serverext.py" in names
    config = [n for n in names if n.endswith("data/etc/jupyter/jupyter_server_config.d/beakerlike.json")]
    assert config, names
    assert b'"beakerlike.serverext": true' in zipfile.ZipFile(wheel).read(config[0])


@pytest.mark.parametrize("where", ["user", "prefix"])
def test_install_writes_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "cfg"))
    path = install_server_config(user=True) if where == "user" else install_server_config(prefix=str(tmp_path))
    assert path.name == "beakerlike.json" and path.parent.name == "jupyter_server_config.d"
    assert '"beakerlike.serverext": true' in path.read_text()


def test_jupyter_lists_the_extension_enabled(tmp_path: Path) -> None:
    """What JupyterLab's server (any ServerApp) sees after an install: the extension enabled and loadable."""
    config = tmp_path / "config" / "jupyter_server_config.d"
    config.mkdir(parents=True)
    src = install_server_config(prefix=str(tmp_path / "prefix"))
    (config / src.name).write_text(src.read_text())
    out = subprocess.run([sys.executable, "-m", "jupyter_server", "extension", "list"], capture_output=True,
                         text=True, env={**os.environ, "JUPYTER_CONFIG_DIR": str(config.parent)}, timeout=120)
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.stdout + out.stderr)  # drop colours
    assert re.search(r"beakerlike\.serverext\s+enabled", text), text
    assert re.search(r"beakerlike\.serverext\s+OK", text), text
