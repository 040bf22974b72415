"""The prebuilt extension is installed where `pip install beakerlike` puts it, and JupyterLab finds it.

``python3 dev.py test`` builds the wheel and copies its ``share/jupyter`` data into the venv (an
editable install has no shared data), so the browser tests load exactly what the wheel ships.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

EXT = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "@beakerlike" / "labextension"


def test_prebuilt_extension_is_installed_and_enabled() -> None:
    package = EXT / "package.json"
    assert package.is_file(), f"{EXT} missing: run `python3 dev.py test` (it builds the wheel and installs its data)"
    meta = json.loads(package.read_text())
    assert meta["name"] == "@beakerlike/labextension"
    assert (EXT / meta["jupyterlab"]["_build"]["load"]).is_file()  # the federated remoteEntry
    assert (EXT / "schemas" / "@beakerlike" / "labextension" / "variables.json").is_file()
    assert json.loads((EXT / "install.json").read_text())["packageName"] == "beakerlike"
    out = subprocess.run([sys.executable, "-m", "jupyter", "labextension", "list"], capture_output=True, text=True,
                         timeout=120)
    listing = out.stdout + out.stderr
    assert re.search(r"@beakerlike/labextension v\S+ .*enabled.* .*OK.* \(python, beakerlike\)", listing), listing
