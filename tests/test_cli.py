"""The ``beakerlike`` command line, run as a real subprocess."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import anyio
import pytest

from beakerlike.cli.kernel_cmds import parse_payload
from beakerlike.client import KernelClient
from beakerlike.testing import running_kernel

SUPPORT = str(Path(__file__).parent / "support")
CLI_TIMEOUT = 120


def cli_env() -> dict[str, str]:
    return {
        **os.environ,
        "BEAKERLIKE_PLUGINS": "sample_actions",
        "PYTHONPATH": os.pathsep.join(filter(None, [SUPPORT, os.environ.get("PYTHONPATH")])),
        "COLUMNS": "200",  # keep rich from wrapping messages we assert on
        "NO_COLOR": "1",
    }


async def cli(*args: str) -> tuple[int, str, str]:
    """Run ``python -m beakerlike ARGS``; return (exit code, stdout, stderr)."""
    with anyio.fail_after(CLI_TIMEOUT):
        proc = await anyio.run_process([sys.executable, "-m", "beakerlike", *args], env=cli_env(), check=False)
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


@pytest.fixture(scope="module")
async def kernel():
    async with running_kernel("sample_actions", pythonpath=[SUPPORT]) as k:
        yield k


@pytest.fixture
def connection_file(kernel: KernelClient) -> str:
    assert kernel.manager is not None
    return kernel.manager.connection_file


# -- install ------------------------------------------------------------------------


@pytest.mark.anyio
async def test_install_prefix_writes_kernel_json(tmp_path: Path) -> None:
    code, out, err = await cli("install", "--prefix", str(tmp_path))
    assert code == 0, err
    spec_file = tmp_path / "share" / "jupyter" / "kernels" / "beakerlike" / "kernel.json"
    spec = json.loads(spec_file.read_text())
    assert spec["argv"][1:] == ["-m", "beakerlike.kernelapp", "-f", "{connection_file}"]
    assert Path(spec["argv"][0]).name.startswith("python")
    assert spec["interrupt_mode"] == "message"
    assert spec["language"] == "python"
    assert "beakerlike" in out


@pytest.mark.anyio
async def test_install_refuses_two_locations(tmp_path: Path) -> None:
    code, _, err = await cli("install", "--user", "--prefix", str(tmp_path))
    assert code == 2
    assert "at most one of --user, --sys-prefix, --prefix" in err
    assert not (tmp_path / "share").exists()


# -- actions ------------------------------------------------------------------------


@pytest.mark.anyio
async def test_actions_json_starts_a_kernel_with_plugins() -> None:
    code, out, err = await cli("actions", "--json")
    assert code == 0, err
    actions = json.loads(out)
    assert actions["save_var"]["docs"] == "Save a notebook variable to a store."
    assert actions["save_var"]["schema"]["required"] == ["name"]
    assert actions["save_var"]["default_payload"] == {"store": "default"}
    assert "context_info" in actions


@pytest.mark.anyio
async def test_actions_table_on_existing_kernel(connection_file: str) -> None:
    code, out, err = await cli("actions", "--existing", connection_file)
    assert code == 0, err
    assert "save_var" in out and "Save a notebook variable to a store." in out
    assert "name: string" in out and "store?: string" in out


# -- call -----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_call_streams_responses_and_prints_return(connection_file: str) -> None:
    code, out, err = await cli("call", "count", "n=3", "--existing", connection_file)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert [line for line in lines if line.startswith("count_response")] == [
        f'count_response {{"i": {i}}}' for i in range(3)
    ]
    assert lines[-1] == "null"


@pytest.mark.anyio
async def test_call_starts_its_own_kernel_without_existing() -> None:
    code, out, err = await cli("call", "sync_add", "a=1", "b=2")
    assert code == 0, err
    assert out.strip().splitlines()[-1] == "3"


@pytest.mark.anyio
async def test_call_key_values_are_json_or_strings(kernel: KernelClient, connection_file: str) -> None:
    await kernel.execute("cli_var = [1, 2]")
    code, out, err = await cli("call", "save_var", "name=cli_var", "--payload", '{"store": "s3"}',
                               "--existing", connection_file)
    assert code == 0, err
    assert 'save_var_response {"progress": 0.5}' in out
    assert json.loads(out[out.index("{\n"):]) == {"id": 42, "repr": "[1, 2]", "store": "s3"}

    code, out, err = await cli("call", "sync_add", "a=2", "b=40", "--existing", connection_file)
    assert code == 0, err
    assert out.strip().splitlines()[-1] == "42"


@pytest.mark.anyio
async def test_call_handler_error_exits_non_zero(connection_file: str) -> None:
    code, out, err = await cli("call", "fail", "--existing", connection_file)
    assert code == 1
    assert "error RuntimeError: boom from handler" in err
    assert "Traceback" in err and "sample_actions.py" in err


@pytest.mark.anyio
async def test_call_validation_error_lists_fields(connection_file: str) -> None:
    code, _, err = await cli("call", "save_var", "store=1", "colour=red", "--existing", connection_file)
    assert code == 1
    assert "ValidationError" in err
    assert "- name: Field required" in err
    assert "- store: Input should be a valid string" in err
    assert "- colour: Extra inputs are not permitted" in err


@pytest.mark.anyio
async def test_call_unknown_action_exits_non_zero(connection_file: str) -> None:
    code, _, err = await cli("call", "no_such_action", "--existing", connection_file)
    assert code == 1
    assert "UnknownAction" in err and "no_such_action" in err


@pytest.mark.anyio
async def test_call_bad_payload_json() -> None:
    code, out, err = await cli("call", "count", "--payload", "{not json")
    assert code == 2
    assert "--payload is not valid JSON" in err
    assert out == ""


@pytest.mark.anyio
async def test_call_payload_must_be_an_object() -> None:
    code, _, err = await cli("call", "count", "--payload", "[1, 2]")
    assert code == 2
    assert "--payload must be a JSON object" in err


@pytest.mark.anyio
async def test_call_bad_key_value() -> None:
    code, _, err = await cli("call", "count", "n3")
    assert code == 2
    assert "expected key=value, got 'n3'" in err


@pytest.mark.anyio
async def test_call_missing_connection_file(tmp_path: Path) -> None:
    code, _, err = await cli("call", "noop", "--existing", str(tmp_path / "kernel-missing.json"))
    assert code == 2
    assert "error:" in err and "kernel-missing.json" in err


# -- payload parsing (pure) -------------------------------------------------------------


def test_parse_payload_merges_pairs_over_json() -> None:
    assert parse_payload('{"a": 1, "b": 2}', ["b=3", "c=text", "d=[1, 2]", "e=", "f=a=b"]) == {
        "a": 1, "b": 3, "c": "text", "d": [1, 2], "e": "", "f": "a=b",
    }
    assert parse_payload(None, []) == {}


@pytest.mark.parametrize(
    ("payload", "pairs", "message"),
    [
        ("{", [], "--payload is not valid JSON"),
        ("3", [], "--payload must be a JSON object"),
        (None, ["novalue"], "expected key=value, got 'novalue'"),
        (None, ["=1"], "expected key=value, got '=1'"),
    ],
)
def test_parse_payload_errors(payload: str | None, pairs: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[")):
        parse_payload(payload, pairs)
