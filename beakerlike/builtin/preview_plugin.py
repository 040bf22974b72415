"""Built-in plugin: the preview engine (``kernel.preview``) and its ``preview_*`` actions.

Previews are published as iopub ``preview`` messages (Beaker's name) parented
to the cell that caused them, before its ``status: idle``; see the protocol doc.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import pydantic
from typing_extensions import TypedDict

from ..actions import action
from ..hookspecs import hookimpl
from ..preview import PreviewEngine, PreviewerRegistry, PreviewUpdate, builtin_previewers
from ..preview.items import sendable
from ..protocol import PREVIEW_MSG_TYPE

#: Watcher key used while the active context asks for always-on previews.
ALWAYS_ON_KEY = "__context_always_on__"

T = TypeVar("T")


class ChangedWhileReading(RuntimeError):
    """A value changed while a preview read it (a running cell is modifying it); try again."""


def _concurrent_mutation(exc: RuntimeError) -> bool:
    text = str(exc)
    return "during iteration" in text and ("changed" in text or "mutated" in text)


def read_stable(read: Callable[[], T], attempts: int = 3) -> T:
    """``read()``, retried when a running cell mutates what it iterates (actions run during cells).

    Raises :class:`ChangedWhileReading` (a clear error reply) if it keeps changing.
    """
    for _ in range(attempts):
        try:
            return read()
        except RuntimeError as exc:
            if not _concurrent_mutation(exc):
                raise
    raise ChangedWhileReading("the value changed while reading (a running cell is modifying it); try again")


class IopubPublisher:
    """Publishes each update once on iopub, however many sessions watch."""

    def __init__(self, kernel: Any) -> None:
        self.kernel = kernel
        self.last_seq: int | None = None

    def __call__(self, update: PreviewUpdate) -> None:
        """Send ``update`` as a ``preview`` message parented to the current request."""
        if update.seq == self.last_seq:
            return
        self.last_seq = update.seq
        k = self.kernel
        content, metadata = update.message()
        content["variables"] = sendable(content["variables"])  # never a lost message, so seq never skips
        k.session.send(k.iopub_socket, PREVIEW_MSG_TYPE, content, parent=k.get_parent("shell"),
                       metadata=metadata, ident=k._topic(PREVIEW_MSG_TYPE))


def registry_for(kernel: Any) -> PreviewerRegistry:
    """Built-in, then plugin, then active-context previewers (later ones win)."""
    registry = PreviewerRegistry(builtin_previewers())
    for p in kernel.host.previewers:
        registry.add(p)
    contexts = getattr(kernel, "contexts", None)
    if contexts is not None and contexts.active is not None:
        for p in contexts.active.previewers:
            registry.add(p)
    return registry


@hookimpl
def kernel_started(kernel: Any) -> None:
    """Attach ``kernel.preview`` and follow context switches."""
    shell = kernel.shell
    engine = PreviewEngine(shell.user_ns, hidden=shell.user_ns_hidden, registry=registry_for(kernel),
                           transform=shell.transform_cell)
    kernel.preview = engine
    kernel.preview_publisher = IopubPublisher(kernel)
    contexts = getattr(kernel, "contexts", None)
    if contexts is not None:
        _follow_context(kernel, contexts)
        contexts.listeners.append(lambda manager: _follow_context(kernel, manager, refresh=True))


def _follow_context(kernel: Any, manager: Any, refresh: bool = False) -> None:
    engine: PreviewEngine = kernel.preview
    engine.set_registry(registry_for(kernel))
    always_on = manager.active is not None and manager.active.always_on
    if always_on and ALWAYS_ON_KEY not in engine.watchers:
        engine.watch(ALWAYS_ON_KEY, kernel.preview_publisher)
    elif not always_on and ALWAYS_ON_KEY in engine.watchers:
        engine.unwatch(ALWAYS_ON_KEY)
    if refresh:
        engine.refresh()


@hookimpl
def after_execute(kernel: Any, result: Any) -> None:
    """Publish what the cell changed (nothing happens while nobody watches)."""
    engine = getattr(kernel, "preview", None)
    if engine is not None and engine.watching:
        engine.after_execute(result.info.raw_cell if result.info is not None else None)


def _snapshot_json(update: PreviewUpdate) -> dict[str, Any]:
    return {"variables": sendable(update.items), "removed": update.removed, "seq": update.seq, "full": update.full,
            "offset": update.offset, "total": update.total, "more": update.more, "omitted": update.omitted}


@action
async def preview_watch(req, key: str | None = None) -> dict[str, Any]:
    """Start receiving ``preview`` messages after each cell; returns a full snapshot.

    The watcher is keyed by the request's ``header.session`` (one per client
    session) unless ``key`` is given. Returns ``{"variables", "removed", "seq", "full"}``.
    """
    watch_key = key or req.header.get("session") or "anonymous"
    engine = req.kernel.preview
    return _snapshot_json(read_stable(lambda: engine.watch(watch_key, req.kernel.preview_publisher)))


@action
async def preview_unwatch(req, key: str | None = None) -> dict[str, Any]:
    """Stop receiving previews for this session (or ``key``); returns who still watches."""
    engine: PreviewEngine = req.kernel.preview
    engine.unwatch(key or req.header.get("session") or "anonymous")
    return {"watching": engine.watching, "watchers": len(engine.watchers)}


@action
async def preview_snapshot(
    req, offset: Annotated[int, pydantic.Field(ge=0)] = 0, limit: Annotated[int, pydantic.Field(ge=0)] | None = None
) -> dict[str, Any]:
    """Previews of the user's variables (sorted by name, from ``offset``), without starting to watch.

    At most ``limit`` items (capped at 20,000) and 16 MB; ``more``/``omitted`` say whether
    (and how many) names follow: fetch them from ``offset + len(variables)``.
    """
    engine = req.kernel.preview
    return _snapshot_json(read_stable(lambda: engine.snapshot(offset, limit)))


class AttrStep(TypedDict):
    """A path step into an object's stored attribute: ``{"attr": "name"}`` (looked up statically)."""

    __pydantic_config__ = pydantic.ConfigDict(extra="forbid")  # type: ignore[misc]
    attr: str


@action
async def preview_page(
    req,
    path: list[str | int | AttrStep],
    offset: int = 0,
    limit: int = 50,
    columns: list[str] | None = None,
    binary: bool = False,
) -> dict[str, Any]:
    """One page of a large item addressed by ``path`` (``[name, key_or_index_or_{"attr": name}, ...]``).

    Returns ``{"path", "offset", "limit", "total", "columns", "rows", "index"}``, plus
    ``children`` for dicts, lists, tuples, sets and objects and ``unit`` for text.
    With ``binary=true`` (DataFrames and 1-2 d arrays) numeric columns are sent as
    little-endian buffers in one ``preview_page_response`` and the reply describes
    them (``columns: [{"column", "dtype", "buffer"}]``).
    """
    engine: PreviewEngine = req.kernel.preview
    if binary:
        spec, buffers = read_stable(lambda: engine.page_binary(path, offset, limit, columns))
        req.respond(spec, buffers=buffers)
        return spec
    return read_stable(lambda: engine.page(path, offset, limit, columns))
