"""Test helpers for plugin authors, shipped as a pytest plugin (``pytest11`` entry point).

Installed with beakerlike, so any test suite gets them without configuration.

Fast, in process (no kernel, no ZMQ) -- :class:`Harness` or the ``beakerlike_harness``
fixture::

    @pytest.mark.anyio
    @pytest.mark.beakerlike_plugins("beakerlike_hello")
    async def test_hello(beakerlike_harness):
        assert await beakerlike_harness.call("hello", name="Ada") == "Hello, Ada!"

Real kernel process -- the ``beakerlike_kernel`` fixture (plugins from the same marker)
or :func:`running_kernel`::

    @pytest.mark.anyio
    @pytest.mark.beakerlike_plugins("beakerlike_hello", autoload=False)
    async def test_hello_kernel(beakerlike_kernel):
        seen = []
        assert await beakerlike_kernel.call("hello", on_response=seen.append) == "Hello, world!"
        assert seen[0]["content"] == {"progress": 1.0}

The marker takes module names (like ``BEAKERLIKE_PLUGINS``) and the keyword options
``autoload`` (load installed entry points, default ``True``), ``builtins`` (harness
only, default ``True``), ``env`` (extra environment variables) and ``pythonpath``
(extra import paths for the kernel). Kernel fixtures need an async test run by
anyio (``@pytest.mark.anyio``); this plugin does not define ``anyio_backend``
(anyio's default is ``asyncio``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .harness import Executed, Harness, HarnessShell, Outcome, Published

if TYPE_CHECKING:
    from .client import KernelClient

__all__ = ["Executed", "Harness", "HarnessShell", "Outcome", "Published", "running_kernel"]

MARKER = "beakerlike_plugins"


@contextlib.asynccontextmanager
async def running_kernel(
    *plugins: str,
    env: Mapping[str, str] | None = None,
    pythonpath: Iterable[str] = (),
    autoload: bool = True,
) -> AsyncIterator[KernelClient]:
    """Start a kernel process loading ``plugins`` (module names) and yield a client.

    ``env`` replaces the inherited environment when given; ``pythonpath`` is prepended
    to ``PYTHONPATH``; ``autoload=False`` ignores installed entry points.
    """
    from .client import KernelClient
    from .kernelspec import KERNEL_NAME, install, is_installed

    if not is_installed(KERNEL_NAME):
        install()
    full_env = dict(os.environ if env is None else env)
    if plugins:
        full_env["BEAKERLIKE_PLUGINS"] = ",".join(plugins)
    paths = [*pythonpath, *filter(None, [full_env.get("PYTHONPATH")])]
    if paths:
        full_env["PYTHONPATH"] = os.pathsep.join(str(p) for p in paths)
    if not autoload:
        full_env["BEAKERLIKE_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    kernel = await KernelClient.start(env=full_env)
    try:
        yield kernel
    finally:
        await kernel.close()


try:
    import pytest
except ImportError:  # the helpers above work without pytest
    pytest = None  # type: ignore[assignment]


def _marker_options(request: Any) -> tuple[tuple[str, ...], dict[str, Any]]:
    plugins: list[str] = []
    options: dict[str, Any] = {}
    for mark in reversed(list(request.node.iter_markers(MARKER))):  # closest marker last wins
        plugins.extend(mark.args)
        options.update(mark.kwargs)
    return tuple(plugins), options


if pytest is not None:

    def pytest_configure(config: Any) -> None:
        """Register the ``beakerlike_plugins`` marker."""
        config.addinivalue_line(
            "markers",
            f"{MARKER}(*modules, autoload=True, builtins=True, env=None, pythonpath=()): plugins the "
            "beakerlike_harness / beakerlike_kernel fixtures load",
        )

    @pytest.fixture
    def beakerlike_harness(request: Any) -> Iterator[Harness]:
        """An in-process :class:`Harness` with the plugins named by ``@pytest.mark.beakerlike_plugins``.

        Closed after the test (``kernel_shutdown`` hooks run).
        """
        plugins, options = _marker_options(request)
        harness = Harness(*plugins, builtins=options.get("builtins", True),
                          autoload=options.get("autoload", True), env=options.get("env"))
        yield harness
        harness.close()

    @pytest.fixture
    async def beakerlike_kernel_factory(
        anyio_backend: Any,
    ) -> AsyncIterator[Callable[..., Awaitable[KernelClient]]]:
        """An async factory ``await start(*plugins, autoload=True, env=None, pythonpath=())``.

        Each call starts one more real kernel; all are shut down after the test.
        """
        async with contextlib.AsyncExitStack() as stack:

            async def start(*plugins: str, **options: Any) -> KernelClient:
                return await stack.enter_async_context(running_kernel(*plugins, **_kernel_options(options)))

            yield start

    @pytest.fixture
    async def beakerlike_kernel(
        request: Any, beakerlike_kernel_factory: Callable[..., Awaitable[KernelClient]]
    ) -> KernelClient:
        """A real kernel process with the plugins named by ``@pytest.mark.beakerlike_plugins``."""
        plugins, options = _marker_options(request)
        return await beakerlike_kernel_factory(*plugins, **options)


def _kernel_options(options: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(options) - {"autoload", "env", "pythonpath", "builtins"}
    if unknown:
        raise TypeError(f"unknown beakerlike_plugins option(s): {', '.join(sorted(unknown))}")
    out: dict[str, Any] = {"autoload": options.get("autoload", True), "pythonpath": options.get("pythonpath", ())}
    if options.get("env"):
        out["env"] = {**os.environ, **options["env"]}
    return out
