"""Shared pytest fixtures (add fixtures here; never remove others')."""

import pytest


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Run ``@pytest.mark.anyio`` tests on asyncio only (ipykernel's loop)."""
    return "asyncio"
