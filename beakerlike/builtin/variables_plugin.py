"""Built-in plugin: actions on the user's variables (``delete_variable``).

They address a variable by its name only and never execute code: a frontend
deleting a variable sends ``delete_variable_request``, not an ``execute_request``
with ``del name`` spliced into it.
"""

from __future__ import annotations

from typing import Any

from ..actions import action


class UnknownVariable(LookupError):
    """No user variable has that name."""


class ProtectedVariable(ValueError):
    """The name belongs to Python or IPython (dunder names, ``In``, ``Out``, ``get_ipython``...)."""


def _hidden(kernel: Any) -> dict[str, Any]:
    shell = getattr(kernel, "shell", None)
    return getattr(shell, "user_ns_hidden", None) or {}


@action(main_thread=True)  # between cells, like `del name` typed in one: never in the middle of a running cell
async def delete_variable(req, name: str) -> dict[str, Any]:
    """Delete the user variable ``name`` from the namespace, as ``del name`` in a cell would.

    Refuses dunder and private names and IPython's own (``ProtectedVariable``) and
    names that are not bound (``UnknownVariable``). Watchers get a ``preview``
    message listing it as removed, parented to this request. Returns ``{"deleted": name}``.
    """
    ns = req.namespace
    if name.startswith("__") and name.endswith("__"):
        raise ProtectedVariable(f"{name!r} is a dunder name: Python and IPython rely on it; it is never deleted")
    if name not in ns:
        raise UnknownVariable(f"no variable named {name!r}")
    value = ns[name]
    hidden = _hidden(req.kernel)
    if name.startswith("_") or (name in hidden and hidden[name] is value):
        raise ProtectedVariable(f"{name!r} is not a user variable (private or IPython's own); it is not deleted")
    del ns[name]
    del value
    engine = getattr(req.kernel, "preview", None)
    if engine is not None and engine.watching:
        engine.names_changed([name])
    return {"deleted": name}
