"""The documentation site builds with `mkdocs build --strict` (broken links and missing references fail)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_mkdocs_build_strict(tmp_path):
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
                           "-d", str(tmp_path / "site")], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    site = tmp_path / "site"
    api = (site / "api" / "index.html").read_text()
    assert "PluginHost" in api and "KernelClient" in api  # mkdocstrings rendered the docstrings
    assert (site / "schemas" / "reply.json").exists()  # the schemas are published with the site
    table = (site / "schemas" / "index.html").read_text()
    assert all(p.name in table for p in (ROOT / "docs" / "schemas").glob("*.json"))
    for page in ("tutorials/first-plugin", "tutorials/first-context", "tutorials/frontend", "protocol"):
        assert (site / page / "index.html").exists(), page


def test_nav_drops_pages_not_written_yet():
    sys.path.insert(0, str(ROOT / "docs" / "_site"))
    try:
        import hooks
    finally:
        sys.path.pop(0)
    config = {"docs_dir": str(ROOT / "docs"),
              "nav": [{"Home": "index.md"}, {"Guides": [{"Deploy": "not-written-yet.md"}, {"Hooks": "hooks.md"}]},
                      {"Later": [{"X": "nope.md"}]}]}
    assert hooks.on_config(config)["nav"] == [{"Home": "index.md"}, {"Guides": [{"Hooks": "hooks.md"}]}]
