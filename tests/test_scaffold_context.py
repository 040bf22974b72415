"""``beakerlike new context``: the generated package installs into a fresh venv and its tests pass untouched."""

import json

import pytest
from plugins_venv import shared_venv

from beakerlike.cli.plugin_cmds import create_plugin


@pytest.fixture(scope="session")
def venv(tmp_path_factory):
    return shared_venv(tmp_path_factory)


def test_context_scaffold_installs_and_its_tests_pass_in_a_fresh_venv(venv):
    target = venv.work / "rain"
    created = venv.run("beakerlike", "new", "context", "rain", "--dir", target)
    assert "Created context rain" in created.stdout
    assert sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file()) == [
        ".gitignore", "README.md", "beakerlike_rain/__init__.py", "beakerlike_rain/actions.py",
        "beakerlike_rain/readings.py", "pyproject.toml", "tests/conftest.py", "tests/test_rain_context.py"]

    venv.run("pip", "install", "--quiet", "-e", target)
    tested = venv.run("pytest", "-q", target)
    assert "3 passed" in tested.stdout, tested.stdout

    # Installed, the context is listed; its action is not global (no ContextActionLeak error).
    listed = {p["name"]: p for p in json.loads(venv.run("beakerlike", "plugins", "--json").stdout)}
    assert listed["rain"]["contexts"] == ["rain"] and listed["rain"]["actions"] == []
    assert listed["rain"]["errors"] == []
    switched = venv.run("beakerlike", "call", "--exec", "from beakerlike_rain import Reading\nr = Reading('x', [2.0])",
                        "context_setup", "context=rain")
    lines = switched.stdout.splitlines()
    assert lines[0].startswith("context_setup_response {")  # the streamed response, then the return value
    assert json.loads("\n".join(lines[lines.index("{"):]))["context"]["name"] == "rain"


def test_context_scaffold_files_are_valid_python(tmp_path):
    made = create_plugin("my-ctx", tmp_path / "c", template="context")
    for path in made.rglob("*.py"):
        text = path.read_text()
        assert "{{" not in text, path
        compile(text, str(path), "exec")
    assert "async def my_ctx_summary(req" in (made / "beakerlike_my_ctx" / "actions.py").read_text()
    with pytest.raises(ValueError, match="no template"):
        create_plugin("other", tmp_path / "o", template="nope")
