"""beakerlike: extend a Jupyter kernel with plugin actions and live variable previews.

The public API is re-exported here, flat::

    import beakerlike

    @beakerlike.action
    async def save_var(req, name: str) -> dict: ...
"""

from __future__ import annotations

from typing import Any

from ._version import __version__
from .actions import Action, PayloadError, action
from .contexts import Context, ContextSetupError, InvalidContextInfo, UnknownContext
from .dispatch import ActionTimeout, UnknownAction
from .hookspecs import hookimpl
from .preview import Limits, PreviewEngine, Previewer, PreviewUpdate
from .request import ActionCancelled, Request

__all__ = [
    "Action",
    "ActionAborted",
    "ActionCancelled",
    "ActionError",
    "ActionTimeout",
    "Context",
    "ContextSetupError",
    "InvalidContextInfo",
    "Limits",
    "PreviewEngine",
    "PreviewUpdate",
    "Previewer",
    "UnknownContext",
    "PayloadError",
    "Request",
    "UnknownAction",
    "__version__",
    "action",
    "hookimpl",
]


def __getattr__(name: str) -> Any:
    # Heavier or optional parts are imported on first use.
    if name in {"ActionAborted", "ActionError", "KernelClient"}:
        from . import client

        return getattr(client, name)
    if name == "PreviewPanel":  # needs the optional `panel` extra, so not in __all__
        try:
            from .panel import PreviewPanel
        except ImportError as exc:
            raise ImportError(f"PreviewPanel needs anywidget: pip install 'beakerlike[panel]' ({exc})") from exc
        return PreviewPanel
    raise AttributeError(f"module 'beakerlike' has no attribute {name!r}")
