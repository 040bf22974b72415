"""``beakerlike new plugin``: the generated package installs, its test passes and its action answers."""

import json
import sys
from pathlib import Path

import pytest

from beakerlike.cli.plugin_cmds import create_plugin, plugin_names

sys.path.insert(0, str(Path(__file__).parent / "support"))
from plugins_venv import shared_venv  # noqa: E402


@pytest.fixture(scope="session")
def venv(tmp_path_factory):
    return shared_venv(tmp_path_factory)


def test_scaffold_installs_tests_and_runs_in_a_fresh_venv(venv):
    target = venv.work / "hello"
    created = venv.run("beakerlike", "new", "plugin", "hello", "--dir", target)
    assert "beakerlike-hello" in created.stdout
    assert sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file()) == [
        ".gitignore", "README.md", "beakerlike_hello/__init__.py", "pyproject.toml", "tests/conftest.py",
        "tests/test_hello.py"]

    venv.run("pip", "install", "--quiet", "-e", target)
    tested = venv.run("pytest", "-q", target)
    assert "2 passed" in tested.stdout

    called = venv.run("beakerlike", "call", "hello", "name=Ada")
    assert called.stdout.splitlines()[-1] == '"Hello, Ada!"'
    assert 'hello_response {"progress": 1.0}' in called.stdout

    listed = {p["name"]: p for p in json.loads(venv.run("beakerlike", "plugins", "--json").stdout)}
    assert listed["hello"]["distribution"] == "beakerlike-hello" and listed["hello"]["source"] == "entrypoint"
    assert listed["hello"]["actions"] == ["hello"] and listed["hello"]["errors"] == []
    where = venv.run("python", "-c", "import beakerlike; print(beakerlike.__file__)").stdout
    assert where.startswith(str(venv.path)), where  # the dev checkout did not leak in


def test_new_plugin_names_and_refusals(tmp_path):
    assert plugin_names("my-tool") | {"beakerlike_version": ""} == {
        "name": "my-tool", "action": "my_tool", "module": "beakerlike_my_tool", "dist": "beakerlike-my-tool",
        "beakerlike_version": ""}
    for bad in ("Hello", "1x", "with space", "class", "x_request", ""):
        with pytest.raises(ValueError):
            plugin_names(bad)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("x")
    with pytest.raises(FileExistsError):
        create_plugin("taken", tmp_path / "taken")
    made = create_plugin("tool", tmp_path / "tool")
    text = (made / "beakerlike_tool" / "__init__.py").read_text()
    assert "async def tool(req" in text and "{{" not in text
    compile(text, "x", "exec")
    compile((made / "tests" / "test_tool.py").read_text(), "y", "exec")


def test_new_plugin_cli_reports_bad_names(tmp_path):
    from typer.testing import CliRunner

    from beakerlike.cli import app

    result = CliRunner().invoke(app, ["new", "plugin", "Bad Name", "--dir", str(tmp_path / "x")])
    assert result.exit_code == 2 and "invalid plugin name" in result.output


def test_tutorial_one_module_plugin_via_env(tmp_path):
    import os
    import subprocess

    (tmp_path / "hello_actions.py").write_text(
        "import beakerlike\n\n\n@beakerlike.action\nasync def hello(req, name: str = 'world') -> str:\n"
        "    await req.respond({'progress': 1.0})\n    return f'Hello, {name}!'\n")
    env = {**os.environ, "BEAKERLIKE_PLUGINS": "hello_actions", "PYTHONPATH": ".",
           "BEAKERLIKE_DISABLE_PLUGIN_AUTOLOAD": "1"}
    proc = subprocess.run([sys.executable, "-m", "beakerlike", "call", "hello", "name=Ada"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ['hello_response {"progress": 1.0}', '"Hello, Ada!"']
