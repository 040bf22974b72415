"""Built-in plugin: the default context and ``context_setup`` (Beaker's ``context_setup_request``)."""

from __future__ import annotations

from typing import Any

from ..actions import action
from ..contexts import DEFAULT_CONTEXT, Context, ContextManager
from ..hookspecs import hookimpl

DEFAULT = Context(
    name=DEFAULT_CONTEXT,
    docs="Plain Python: every user variable is previewed by the built-in previewers; no extra actions.",
)


@hookimpl
def register_contexts(register: Any) -> None:
    """Register the default Python context."""
    register(DEFAULT)


@hookimpl
def kernel_started(kernel: Any) -> None:
    """Attach ``kernel.contexts`` and activate the startup context."""
    manager = ContextManager(kernel, kernel.host.contexts)
    kernel.contexts = manager
    manager.start()


@action(main_thread=True)  # setup/teardown may import and bind names: never in the middle of a cell
async def context_setup(
    req,
    context: str,
    context_info: dict[str, Any] | None = None,
    language: str | None = None,
    debug: bool = False,
    verbose: bool = False,
) -> dict[str, Any]:
    """Switch to another context, keeping the user's namespace.

    ``context`` names the context, ``context_info`` is its setup payload (see the
    ``setup_schema`` of each entry in ``context_info``'s ``contexts``). ``language``,
    ``debug`` and ``verbose`` are accepted for Beaker compatibility and ignored.
    Replies with the same description as ``context_info`` (also streamed once as
    ``context_setup_response``); an unknown context or an invalid payload is an
    error reply and the current context stays active.
    """
    from .discovery import describe_kernel

    req.kernel.contexts.switch(context, context_info)
    info = describe_kernel(req.kernel)
    req.respond(info)
    return info
