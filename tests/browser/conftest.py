"""Fixtures for browser tests: a real ``jupyter lab`` on loopback and headless Debian Chromium.

Nothing here skips: a missing Chromium, Playwright or JupyterLab fails the test with a message
saying what to install (``.ci/run`` installs them).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from labserver import CHROMIUM, CHROMIUM_ARGS, Lab, start_lab


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    """A JupyterLab server (light theme) with a temp root dir; stopped after the test."""
    with start_lab(tmp_path) as server:
        yield server


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
