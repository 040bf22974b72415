"""Install the ``beakerlike`` kernelspec."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

KERNEL_NAME = "beakerlike"


def kernel_json(python: str | None = None) -> dict[str, Any]:
    """The kernelspec: interrupts arrive as messages so running actions can be cancelled."""
    return {
        "argv": [python or sys.executable, "-m", "beakerlike.kernelapp", "-f", "{connection_file}"],
        "display_name": "Python 3 (beakerlike)",
        "language": "python",
        "interrupt_mode": "message",
        "metadata": {"debugger": True},
    }


def install(
    *, user: bool = False, prefix: str | None = None, name: str = KERNEL_NAME, python: str | None = None
) -> str:
    """Install the kernelspec and return where it went.

    With neither ``user`` nor ``prefix`` it goes to ``sys.prefix`` (the active environment).
    """
    from jupyter_client.kernelspec import KernelSpecManager

    if not user and prefix is None:
        prefix = sys.prefix
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "kernel.json").write_text(json.dumps(kernel_json(python), indent=2))
        return KernelSpecManager().install_kernel_spec(
            tmp, kernel_name=name, user=user, prefix=None if user else prefix
        )


def is_installed(name: str = KERNEL_NAME) -> bool:
    """Whether Jupyter can find a kernelspec called ``name``."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        return False
    return True
