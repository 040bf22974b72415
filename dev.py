#!/usr/bin/env python3
"""Developer entry point that needs nothing but python3.

    python3 dev.py demo    # live demo: a real kernel, a streaming action, previews after each cell
    python3 dev.py test    # the whole test suite (installs what it needs first)
    python3 dev.py bench   # the benchmarks in bench/ (ratios, see docs/performance.md)
    python3 dev.py lab     # JupyterLab with the beakerlike kernel and the example notebook
    python3 dev.py docs    # the documentation site (mkdocs serve; `docs build` for a strict build)

The first run creates ``.venv`` and installs beakerlike (editable), the plugin and
context packages from ``plugins/`` and ``contexts/``, and the test tools; later runs
reuse it unless a ``pyproject.toml`` changed. ``test``, ``lab`` and ``bench`` also build
the wheel (node + jlpm from ``yarn.lock``) and install its prebuilt JupyterLab extension
into ``.venv`` when the extension's sources changed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
STAMP = VENV / ".beakerlike-installed"
EXTRAS = "test,panel,browser,bench,dev,mcp,docs"


def _local_packages() -> list[Path]:
    return sorted(p.parent for d in ("plugins", "contexts") for p in (ROOT / d).glob("*/pyproject.toml"))


def _fingerprint() -> str:
    h = hashlib.sha256(EXTRAS.encode())
    for p in [ROOT / "pyproject.toml", *(d / "pyproject.toml" for d in _local_packages())]:
        h.update(str(p).encode() + p.read_bytes())
    return h.hexdigest()


def run(*cmd: object, **kw: object) -> None:
    """Run a command, echoing it, and stop on failure."""
    print("+", " ".join(map(str, cmd)), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT, **kw)  # type: ignore[arg-type]


def ensure_env() -> None:
    """Create and fill ``.venv`` if it is missing or out of date."""
    if not PY.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    fp = _fingerprint()
    if STAMP.exists() and STAMP.read_text() == fp:
        return
    run(PY, "-m", "pip", "install", "-q", "--upgrade", "pip")
    pkgs: list[object] = ["-e", f".[{EXTRAS}]"]
    for d in _local_packages():
        pkgs += ["-e", d]
    # The editable install skips the JupyterLab extension build: ensure_labextension builds the wheel.
    run(PY, "-m", "pip", "install", "-q", *pkgs, env={**os.environ, "SKIP_JUPYTER_BUILDER": "1"})
    run(BIN / "beakerlike", "install", "--sys-prefix")
    STAMP.write_text(fp)


LAB_STAMP = VENV / ".beakerlike-labextension"
LAB_OUT = ROOT / "beakerlike" / "labextension"


def _lab_fingerprint() -> str:
    h = hashlib.sha256()
    files = [ROOT / n for n in ("package.json", "yarn.lock", ".yarnrc.yml", "pyproject.toml")]
    for pkg in sorted((ROOT / "packages").glob("*/package.json")):
        files += [pkg, *sorted(p for p in pkg.parent.rglob("*") if p.is_file() and "node_modules" not in p.parts
                              and "lib" not in p.relative_to(pkg.parent).parts[:1])]
    for f in files:
        if f.is_file() and not f.name.endswith(".tsbuildinfo"):
            h.update(str(f.relative_to(ROOT)).encode() + f.read_bytes())
    return h.hexdigest()


def ensure_labextension() -> None:
    """Build the wheel (jlpm from yarn.lock, prebuilt labextension) and install its extension into ``.venv``.

    The browser tests then load exactly what ``pip install beakerlike`` ships, not a dev build.
    """
    import zipfile

    fp = _lab_fingerprint()
    target = VENV / "share" / "jupyter" / "labextensions" / "@beakerlike" / "labextension"
    if LAB_STAMP.exists() and LAB_STAMP.read_text() == fp and (target / "package.json").exists():
        return
    shutil.rmtree(LAB_OUT, ignore_errors=True)  # never package a stale build
    out = ROOT / "build" / "wheel"
    shutil.rmtree(out, ignore_errors=True)
    run(PY, "-m", "pip", "wheel", "-q", "--no-deps", "-w", out, ".")
    wheel = next(out.glob("beakerlike-*.whl"))
    shutil.rmtree(target, ignore_errors=True)
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            parts = name.split("/")
            if len(parts) > 2 and parts[0].endswith(".data") and parts[1] == "data":
                dest = VENV.joinpath(*parts[2:])
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(zf.read(name))
    if not (target / "package.json").exists():
        raise SystemExit(f"{wheel.name} has no labextension under share/jupyter/labextensions")
    LAB_STAMP.write_text(fp)


def ensure_chromium() -> None:
    """The browser tests drive Debian's Chromium; install it when we can (root + apt)."""
    if shutil.which("chromium") or Path("/usr/bin/chromium").exists():
        return
    if shutil.which("apt-get") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run("apt-get", "update", "-qq", env=env)
        run("apt-get", "install", "-y", "-qq", "chromium", env=env)
    else:
        print("warning: chromium not found; the browser tests will fail. "
              "Install Debian's 'chromium' package.", file=sys.stderr)


def main(argv: list[str]) -> int:
    """Dispatch ``demo``, ``test``, ``bench``, ``lab`` or ``docs``."""
    cmd, rest = (argv[0], argv[1:]) if argv else ("demo", [])
    if cmd not in {"demo", "test", "bench", "lab", "docs"}:
        print(__doc__)
        return 2
    ensure_env()
    if cmd in {"test", "lab", "bench"}:
        ensure_labextension()
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    if cmd == "demo":
        return subprocess.call([str(BIN / "beakerlike"), "demo", *rest], cwd=ROOT, env=env)
    if cmd == "docs":
        args = ["build", "--strict", *rest[1:]] if rest[:1] == ["build"] else ["serve", *rest]
        return subprocess.call([str(PY), "-m", "mkdocs", *args], cwd=ROOT, env=env)
    if cmd == "lab":
        return subprocess.call([str(BIN / "beakerlike"), "lab", *rest], cwd=ROOT, env=env)
    if cmd == "bench":
        code = 0
        for mod in sorted(p.stem for p in (ROOT / "bench").glob("bench_*.py")):
            code |= subprocess.call([str(PY), "-m", f"bench.{mod}", *rest], cwd=ROOT, env=env)
        return code
    ensure_chromium()
    code = subprocess.call([str(PY), "-m", "pytest", *rest], cwd=ROOT, env=env)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
