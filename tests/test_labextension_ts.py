"""The labextension's pure TypeScript helpers (packages/labextension/test, vitest): payload-form schemas,
field errors from ValidationError / InvalidContextInfo replies, the progress convention.

The UI itself is tested in a real JupyterLab by tests/browser/test_actions_browser.py.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXTENSION = ROOT / "packages" / "labextension"
VITEST = ROOT / "node_modules" / ".bin" / "vitest"


def test_labextension_unit_tests() -> None:
    if shutil.which("node") is None:
        pytest.fail("node is not installed (Node.js 20+ is needed for the TypeScript tests)")
    if not VITEST.exists():
        pytest.fail("node_modules is missing: run `python3 dev.py test` (or `jlpm install`) first")
    env = {**os.environ, "CI": "true", "NO_COLOR": "1", "FORCE_COLOR": "0"}
    proc = subprocess.run([str(VITEST), "run", "test"], cwd=EXTENSION, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert re.search(r"Tests\s+\d+ passed", proc.stdout) and "failed" not in proc.stdout, proc.stdout[-2000:]
