import sys
from pathlib import Path

import pytest

# Importable straight from the checkout too (pip install -e . is the usual way).
PLUGIN_ROOT = Path(__file__).resolve().parent.parent
if str(PLUGIN_ROOT) not in sys.path:
    sys.path.insert(0, str(PLUGIN_ROOT))


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def store_path(tmp_path, monkeypatch):
    path = tmp_path / "vars.sqlite3"
    monkeypatch.setenv("BEAKERLIKE_VARSTORE", str(path))
    monkeypatch.setenv("BEAKERLIKE_VARSTORE_ROOT", str(tmp_path))
    monkeypatch.delenv("BEAKERLIKE_VARSTORE_ALLOW", raising=False)
    monkeypatch.delenv("BEAKERLIKE_VARSTORE_LOCK_TIMEOUT", raising=False)
    return path
