"""Helpers for browser tests: a notebook writer, a JupyterLab server handle, Chromium settings."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("BEAKERLIKE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@dataclass
class Lab:
    """A running JupyterLab server."""

    url: str
    token: str
    root: Path
    log: Path

    app: str = "lab"

    def notebook_url(self, name: str) -> str:
        """URL that opens notebook ``name`` (relative to the root dir) in JupyterLab or Notebook 7."""
        if self.app == "notebook":
            return f"{self.url}/notebooks/{name}?token={self.token}"
        return f"{self.url}/lab/tree/{name}?token={self.token}"


def notebook(cells: list[str], kernel: str = "beakerlike") -> dict[str, Any]:
    """A minimal nbformat 4 notebook of code cells that opens with ``kernel``."""
    return {
        "cells": [
            {"cell_type": "code", "execution_count": None, "id": f"cell-{i}", "metadata": {}, "outputs": [],
             "source": src}
            for i, src in enumerate(cells)
        ],
        "metadata": {
            "kernelspec": {"name": kernel, "display_name": "Python 3 (beakerlike)", "language": "python"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"jupyter lab exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    pytest.fail(f"jupyter lab did not answer within {timeout} s:\n{log.read_text()[-4000:]}")




@contextlib.contextmanager
def start_lab(tmp_path: Path, env: dict[str, str] | None = None,
              settings: dict[str, dict[str, Any]] | None = None, app: str = "lab",
              disabled: dict[str, bool] | None = None) -> Iterator[Lab]:
    """Start ``jupyter lab`` (loopback, random port, token, temp root and settings); stop it on exit.

    ``env`` adds environment variables (the kernels it starts inherit them); ``settings``
    adds JupyterLab user settings (``{"plugin-id/name": {...}}``, e.g. the theme);
    ``app="notebook"`` starts Jupyter Notebook 7 instead; ``disabled`` replaces the
    disabled extensions (default: the variable inspector).
    """
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        pytest.fail("JupyterLab is not installed: pip install 'beakerlike[browser]'")
    from beakerlike.kernelspec import install, is_installed

    if not is_installed():
        install()
    root = tmp_path / "root"
    root.mkdir()
    token = secrets.token_hex(16)
    port = free_port()
    full_env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "lab-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "lab-workspaces"),
        **(env or {}),
    }
    # No news/update checks: the test talks to nothing but the loopback server.
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "jupyter_server_config.json").write_text(json.dumps({
        "LabApp": {"news_url": None, "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
                   "extension_manager": "readonly"},
    }))
    # Another installed extension (the variable inspector) would run its own code in the kernel.
    (tmp_path / "config" / "labconfig").mkdir()
    (tmp_path / "config" / "labconfig" / "page_config.json").write_text(json.dumps({
        "disabledExtensions": disabled if disabled is not None else {"@lckr/jupyterlab_variableinspector": True},
    }))
    settings_dir = tmp_path / "lab-settings"
    for plugin, values in {
        "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
        "@jupyterlab/notebook-extension/tracker": {"autoStartDefaultKernel": True},
        **(settings or {}),
    }.items():
        plugin = plugin if plugin.startswith("@") else f"@jupyterlab/{plugin}"  # short names are JupyterLab's
        path = settings_dir / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    log = tmp_path / "lab.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter", app, "--no-browser", "--ip=127.0.0.1", f"--port={port}",
             "--port-retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
             *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])],
            cwd=root, env=full_env, stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{url}/api/status?token={token}", proc, log)
        yield Lab(url=url, token=token, root=root, log=log, app=app)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


