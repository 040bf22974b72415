"""Every hook a beakerlike plugin can implement, grouped by lifecycle phase.

A plugin implements hooks with ``@beakerlike.hookimpl`` on module-level functions
(or methods of an object it registers). Each ``register_*`` hook receives a
``register`` callback so one plugin can add many things while the host decides
how they are stored. Hooks are plain functions, called in plugin load order; one
that raises is recorded as a plugin error and the others still run. Every hook is
documented in ``docs/hooks.md`` (a test checks it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

PROJECT = "beakerlike"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# ---------------------------------------------------------------------------
# Registration: called once while the kernel starts, in plugin load order
# ---------------------------------------------------------------------------


@hookspec
def register_actions(register: Callable[..., None]) -> None:
    """Add actions callable from any context.

    Called once at kernel start, plugin by plugin in load order. ``register(func)``
    accepts an ``@beakerlike.action``-decorated function, a plain function (made an
    action with default options) or a plain function plus action options
    (``register(func, name="wc", timeout=5)``). A bad registration is recorded as an
    error of the plugin and skipped. If two plugins add the same name, the first
    loaded wins and the other gets an ``ActionConflict`` error. Example::

        @hookimpl
        def register_actions(register):
            register(save_var)

    A plugin module whose only content is ``@action`` functions needs no hookimpl:
    the host collects them itself (before the module's own ``register_actions``).
    """


@hookspec
def register_contexts(register: Callable[..., None]) -> None:
    """Add contexts (named bundles of actions, previewers and a setup payload).

    Called once at kernel start. ``register(context)`` takes a
    :class:`beakerlike.Context`. Example::

        @hookimpl
        def register_contexts(register):
            register(Context(name="data", docs="pandas helpers", actions=[describe]))
    """


@hookspec
def register_previewers(register: Callable[..., None]) -> None:
    """Add previewers that summarize variables of given types.

    Called once at kernel start. ``register(previewer)`` takes a
    :class:`beakerlike.Previewer`; later registrations win for the same type.
    Example::

        @hookimpl
        def register_previewers(register):
            register(Previewer(types=("mylib.Thing",), preview=preview_thing))
    """


# ---------------------------------------------------------------------------
# Lifecycle: called while the kernel runs
# ---------------------------------------------------------------------------


@hookspec
def kernel_started(kernel: Any) -> None:
    """Called once after all plugins are loaded and the kernel is ready.

    ``kernel`` is the running :class:`beakerlike.kernel.BeakerlikeKernel`; use
    ``kernel.shell.user_ns`` for the user's namespace. Example::

        @hookimpl
        def kernel_started(kernel):
            kernel.shell.user_ns.setdefault("STORE", open_store())
    """


@hookspec
def before_execute(kernel: Any, info: Any) -> None:
    """Called before each cell runs, with IPython's ``ExecutionInfo`` as ``info``.

    Example::

        @hookimpl
        def before_execute(kernel, info):
            started[info.raw_cell] = time.monotonic()
    """


@hookspec
def after_execute(kernel: Any, result: Any) -> None:
    """Called after each cell ran, before its ``execute_reply`` and ``status: idle``.

    ``result`` is IPython's ``ExecutionResult`` (``result.success``,
    ``result.info.raw_cell``). Output published here is parented to the cell.
    Example::

        @hookimpl
        def after_execute(kernel, result):
            if not result.success:
                log_failure(result.info.raw_cell)
    """


@hookspec
def kernel_shutdown(kernel: Any) -> None:
    """Called once when the kernel shuts down (``shutdown_request``), before it exits.

    Example::

        @hookimpl
        def kernel_shutdown(kernel):
            STORE.close()
    """
