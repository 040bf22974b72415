"""One fresh virtualenv per test session with beakerlike pip-installed from this checkout.

No ``--system-site-packages``, no ``PYTHONPATH`` and a working directory outside the
checkout, so nothing of the development install leaks in: what works here works for a
user who runs ``pip install beakerlike``. Shared by ``test_scaffold.py`` and
``test_venv_install.py`` (module-level memo, created on first use).
"""

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent

_shared = None


@dataclass
class Venv:
    """A virtualenv and an environment for running its programs in isolation."""

    path: Path
    work: Path

    @property
    def bin(self) -> Path:
        return self.path / "bin"

    def env(self, **extra: str) -> dict:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("BEAKERLIKE_", "PYTHON", "VIRTUAL_ENV", "JUPYTER", "PYTEST"))}
        env.update(PATH=f"{self.bin}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(self.path),
                   JUPYTER_PATH=str(self.path / "share" / "jupyter"), JUPYTER_DATA_DIR=str(self.work / "jupyter-data"),
                   PYTHONNOUSERSITE="1", PIP_DISABLE_PIP_VERSION_CHECK="1", **extra)
        return env

    def run(self, *args, timeout: float = 600, check: bool = True, cwd=None, **env: str):
        """Run a program of the venv (``pip``, ``pytest``, ``beakerlike``, ``python``) from outside the repo."""
        program = str(self.bin / args[0])
        proc = subprocess.run([program, *map(str, args[1:])], cwd=cwd or self.work, env=self.env(**env),
                              capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(map(str, args))} failed ({proc.returncode}):\n"
                                 f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
        return proc


def shared_venv(tmp_path_factory) -> Venv:
    """The session's venv, created (about 30 s, pip cache permitting) on first call."""
    global _shared
    if _shared is None:
        root = tmp_path_factory.mktemp("plugin-venv")
        venv = Venv(root / "venv", root / "work")
        venv.work.mkdir()
        subprocess.run([sys.executable, "-m", "venv", str(venv.path)], check=True, timeout=300,
                       cwd=venv.work, env=venv.env())
        venv.run("pip", "install", "--quiet", str(REPO), "pytest", "hatchling")
        venv.run("beakerlike", "install")
        _shared = venv
    return _shared
