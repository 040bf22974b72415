"""Fixtures for browser tests: a real ``jupyter lab`` on loopback and headless Debian Chromium.

Nothing here skips: a missing Chromium, Playwright or JupyterLab fails the test with a message
saying what to install (``.ci/run`` installs them).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from labserver import CHROMIUM, CHROMIUM_ARGS, Lab, free_port, wait_ready


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    """Start ``jupyter lab`` (loopback, random port, token, temp root and settings) and stop it after."""
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
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "lab-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "lab-workspaces"),
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
        "disabledExtensions": {"@lckr/jupyterlab_variableinspector": True},
    }))
    settings = tmp_path / "lab-settings" / "@jupyterlab"
    for plugin, values in {
        "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
        "notebook-extension/tracker": {"autoStartDefaultKernel": True},
    }.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    log = tmp_path / "lab.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
             "--port-retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
             *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])],
            cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{url}/api/status?token={token}", proc, log)
        yield Lab(url=url, token=token, root=root, log=log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture
def browser_page() -> Iterator[Any]:
    """A Playwright page in headless Debian Chromium (never downloads a browser)."""
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).is_file()):
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium (or set BEAKERLIKE_CHROMIUM)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright is not installed: pip install 'beakerlike[browser]'")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.console_messages_seen = []  # type: ignore[attr-defined]
            page.on("console", lambda m: page.console_messages_seen.append(f"{m.type}: {m.text}"))
            page.on("pageerror", lambda e: page.console_messages_seen.append(f"pageerror: {e}"))
            yield page
        finally:
            browser.close()
