"""Built-in plugin: ``context_info`` tells a frontend what it can call."""

from __future__ import annotations

from typing import Any

from .._version import __version__
from ..actions import action
from ..protocol import PROTOCOL_VERSION


def describe_kernel(kernel: Any) -> dict[str, Any]:
    """The ``return`` of ``context_info_reply``: callable actions, contexts, plugin errors."""
    actions = {
        name: act.info()
        for name, act in sorted(kernel.callable_actions().items())
        if act.scope == "public"
    }
    info: dict[str, Any] = {
        "beakerlike_version": __version__,
        "protocol_version": PROTOCOL_VERSION,
        "actions": actions,
        "plugin_errors": [e.to_json() for e in kernel.host.errors],
    }
    contexts = getattr(kernel, "contexts", None)
    if contexts is not None:
        info.update(contexts.describe())
    return info


@action
async def context_info(req) -> dict[str, Any]:
    """Describe the kernel.

    Returns the active context, every callable action with its schema, the
    available contexts and any plugin errors.
    """
    return describe_kernel(req.kernel)
