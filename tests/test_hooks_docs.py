"""Every hook spec is documented with its exact signature and has a test named after it (datasette style)."""

import ast
import inspect
import re
from pathlib import Path

import pytest

from beakerlike import hookspecs
from beakerlike.plugins import hookspec_names

ROOT = Path(__file__).resolve().parent.parent
HOOKS_DOC = (ROOT / "docs" / "hooks.md").read_text()
HOOK_NAMES = hookspec_names()


def signature(name):
    params = inspect.signature(getattr(hookspecs, name)).parameters
    return f"{name}({', '.join(params)})"


def documented_signatures():
    return {m.group(1) for m in re.finditer(r"^### `([^`]+)`\s*$", HOOKS_DOC, re.MULTILINE)}


def test_names_found():
    assert len(HOOK_NAMES) >= 7 and "register_actions" in HOOK_NAMES


@pytest.mark.parametrize("name", HOOK_NAMES)
def test_hook_is_documented_with_its_exact_signature(name):
    assert signature(name) in documented_signatures(), f"docs/hooks.md needs a '### `{signature(name)}`' section"


def test_docs_describe_no_hook_that_does_not_exist():
    assert documented_signatures() == {signature(n) for n in HOOK_NAMES}


@pytest.mark.parametrize("name", HOOK_NAMES)
def test_hook_has_a_test(name):
    tests = set()
    for path in (ROOT / "tests").glob("test_plugins*.py"):
        tests |= {node.name for node in ast.walk(ast.parse(path.read_text()))
                  if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
    assert f"test_hook_{name}" in tests


@pytest.mark.parametrize("name", HOOK_NAMES)
def test_hookspec_has_a_docstring_with_an_example(name):
    doc = inspect.getdoc(getattr(hookspecs, name)) or ""
    assert "Example" in doc and "@hookimpl" in doc
