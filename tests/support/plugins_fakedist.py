"""Make a fake installed distribution with ``beakerlike`` entry points (a ``.dist-info`` dir).

Putting its directory on ``sys.path`` / ``PYTHONPATH`` makes ``importlib.metadata`` see
the entry points, as if the package had been pip-installed, without running pip.
"""

from pathlib import Path


def make_dist(root: Path, name: str, entry_points: dict[str, str], version: str = "1.0",
              modules: dict[str, str] | None = None) -> Path:
    """Write ``<name>-<version>.dist-info`` (and optional module files) under ``root``; return ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    info = root / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = "".join(f"{k} = {v}\n" for k, v in entry_points.items())
    (info / "entry_points.txt").write_text(f"[beakerlike]\n{lines}")
    for modname, source in (modules or {}).items():
        (root / f"{modname}.py").write_text(source)
    return root
