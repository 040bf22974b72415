"""Shared pytest fixtures (add fixtures here; never remove others')."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "support"))


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Run ``@pytest.mark.anyio`` tests on asyncio only (ipykernel's loop)."""
    return "asyncio"


# -- every beakerlike message a KernelClient receives is checked against docs/schemas ------------

_received: list[dict] = []


def _install_recorder() -> None:
    from beakerlike.client import KernelClient

    if getattr(KernelClient._read, "_records", False):
        return
    original = KernelClient._read

    async def _read(self, get, channel):
        async def recording_get(*args, **kwargs):
            msg = await get(*args, **kwargs)
            _received.append(msg)
            return msg

        return await original(self, recording_get, channel)

    _read._records = True
    KernelClient._read = _read


@pytest.fixture(scope="session")
def message_checker():
    """Validates received messages against the committed JSON Schemas (see tests/support/schema_check.py)."""
    from schema_check import MessageChecker

    _install_recorder()
    return MessageChecker()


@pytest.fixture(autouse=True)
def _messages_match_schemas(message_checker):
    """Fail a test whose kernel sent a beakerlike message that its JSON Schema does not allow."""
    _received.clear()
    yield
    seen, _received[:] = list(_received), []
    problems = [p for msg in seen for p in message_checker.check(msg)]
    if problems:
        pytest.fail(f"{len(problems)} message(s) do not match docs/schemas:\n" + "\n".join(problems[:10]),
                    pytrace=False)
