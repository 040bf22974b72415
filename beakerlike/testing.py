"""Test helpers for plugin authors, shipped as a pytest plugin (``pytest11`` entry point).

``running_kernel`` starts a real beakerlike kernel process with chosen plugins::

    async with running_kernel("my_plugin") as kernel:
        assert await kernel.call("hello", name="x") == "hello x"
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Iterable, Mapping

from .client import KernelClient
from .kernelspec import KERNEL_NAME, install, is_installed


@contextlib.asynccontextmanager
async def running_kernel(
    *plugins: str,
    env: Mapping[str, str] | None = None,
    pythonpath: Iterable[str] = (),
    autoload: bool = True,
) -> AsyncIterator[KernelClient]:
    """Start a kernel process loading ``plugins`` (module names) and yield a client."""
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
