"""The preview engine: what changed after each cell, computed only while someone watches.

After a cell the engine re-examines only *candidate* names: those the cell's code
binds, deletes, mutates (method-call receivers, subscript/attribute targets, call
arguments) or reaches through the user functions it calls (see
:mod:`.cellnames`). For each candidate it compares the object's identity and,
for mutable values, a freshly built bounded preview with the last one. Only if
the cell is *opaque* (``exec``, magics, ``import *``...) or the namespace is
small does it scan every name, and then by identity only. Items are bounded
(see :mod:`.previewers`) and the whole update has a time budget; items that do
not fit are marked ``over_budget`` and retried after the next cell.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from .cellnames import analyze_cell, called_globals
from .fingerprint import fingerprint
from .items import ItemMaker, item_size, stub_item
from .paging import binary_columns, page_of, resolve
from .previewers import PreviewerRegistry, builtin_previewers
from .safe import DEFAULT_LIMITS, Limits

log = logging.getLogger("beakerlike.preview")

#: Value types whose identity is their whole state (no in-place mutation).
IMMUTABLE = (type(None), bool, int, float, complex, str, bytes, frozenset, range, type(Ellipsis))


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _immutable(value: Any) -> bool:
    # Identity comparison only: hashing a type may call a hostile metaclass ``__hash__``.
    tp = type(value)
    return any(tp is t for t in IMMUTABLE)


@dataclass
class PreviewUpdate:
    """One published change set (or full snapshot) of variable previews."""

    items: dict[str, dict[str, Any]]
    removed: list[str]
    seq: int
    full: bool
    #: Names left out to keep the message bounded (changed names, or for a snapshot the names after this page).
    omitted: int = 0
    #: For snapshots: the position of the first item among all visible names (sorted) and their count.
    offset: int = 0
    total: int | None = None

    @property
    def more(self) -> bool:
        """Some names were left out: fetch them with ``preview_snapshot {offset, limit}``."""
        return self.omitted > 0

    def message(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """``(content, metadata)`` of the iopub ``preview`` message for this update."""
        content = {"variables": self.items}
        metadata = {"beakerlike": {"removed": {"variables": list(self.removed)}, "seq": self.seq,
                                   "full": self.full, "more": self.more, "omitted": self.omitted}}
        return content, metadata


@dataclass
class _Known:
    ident: int
    item: dict[str, Any]
    #: ``item`` was just rebuilt by the mutation check and can be reused.
    fresh: bool = False
    #: Cheap summary of the value's mutable state (see :mod:`.fingerprint`), ``None`` if it has none.
    fp: Any = None


@dataclass
class EngineStats:
    """Counters, for tests and benchmarks."""

    updates: int = 0
    items_built: int = 0
    full_scans: int = 0
    skipped_not_watching: int = 0
    last_candidates: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class PreviewEngine:
    """Tracks the user's namespace and tells watchers what each cell changed."""

    def __init__(
        self,
        namespace: MutableMapping[str, Any],
        *,
        hidden: Mapping[str, Any] | None = None,
        registry: PreviewerRegistry | None = None,
        limits: Limits = DEFAULT_LIMITS,
        budget: float = 0.05,
        max_items: int = 2000,
        max_bytes: int = 2 * 1024 * 1024,
        max_snapshot: int = 20000,
        max_snapshot_bytes: int = 16 * 1024 * 1024,
        small_namespace: int = 500,
        transform: Callable[[str], str] | None = None,
    ) -> None:
        self.namespace = namespace
        self.hidden = hidden if hidden is not None else {}
        self.registry = registry or PreviewerRegistry(builtin_previewers())
        self.limits = limits
        self.budget = budget
        self.max_items = max_items
        self.max_bytes = max_bytes
        self.max_snapshot = max_snapshot
        self.max_snapshot_bytes = max_snapshot_bytes
        self.small_namespace = small_namespace
        self.transform = transform
        self.maker = ItemMaker(self.registry, limits)
        self.stats = EngineStats()
        self._watchers: dict[str, Callable[[PreviewUpdate], None]] = {}
        self._known: dict[str, _Known] = {}
        #: Names left out of a bounded message (the client pages them), by name: the id of their value then.
        self._unsent: dict[str, int] = {}
        self._pending: set[str] = set()
        self._synced = False
        self._seq = 0
        self._lock = threading.RLock()

    # -- the contract ------------------------------------------------------------
    def watch(self, key: str, callback: Callable[[PreviewUpdate], None]) -> PreviewUpdate:
        """Start calling ``callback`` after each cell that changed something; returns a full snapshot."""
        if not callable(callback):
            raise TypeError("callback must be callable")
        with self._lock:
            record = not self._watchers
            self._watchers[str(key)] = callback
            return self._snapshot(record, limit=self.max_snapshot, max_bytes=self.max_snapshot_bytes)

    def unwatch(self, key: str) -> None:
        """Stop calling the watcher ``key`` (unknown keys are ignored)."""
        with self._lock:
            self._watchers.pop(str(key), None)
            if not self._watchers:
                self._synced = False
                self._known.clear()
                self._unsent.clear()

    @property
    def watching(self) -> bool:
        """True while at least one watcher is registered."""
        return bool(self._watchers)

    @property
    def watchers(self) -> list[str]:
        """Keys of the current watchers."""
        return list(self._watchers)

    @property
    def seq(self) -> int:
        """Sequence number of the last published update."""
        return self._seq

    def snapshot(self, offset: int = 0, limit: int | None = None) -> PreviewUpdate:
        """Previews of the visible variables, sorted by name, from ``offset`` (``full=True``, ``seq`` = last published).

        At most ``limit`` (capped at ``max_snapshot``) items and ``max_snapshot_bytes``;
        ``omitted`` counts the names after this page (fetch them from ``offset + len(items)``).
        """
        if type(offset) is not int or offset < 0:
            raise ValueError("offset must be a non-negative integer")
        if limit is not None and (type(limit) is not int or limit < 0):
            raise ValueError("limit must be a non-negative integer")
        limit = self.max_snapshot if limit is None else min(limit, self.max_snapshot)
        with self._lock:
            return self._snapshot(record=False, offset=offset, limit=limit, max_bytes=self.max_snapshot_bytes)

    def _snapshot(self, record: bool, offset: int = 0, limit: int | None = None,
                  max_bytes: int | None = None) -> PreviewUpdate:
        # ``record`` resets what the engine compares the next cell with. A snapshot for one client while
        # others watch must not: changes made between cells (by actions) would never reach those others.
        if record:
            self._known.clear()
            self._unsent.clear()
            self._pending.clear()
        names = sorted(n for n, v in list(self.namespace.items()) if self.visible(n, v))
        deadline = time.perf_counter() + max(self.budget * 20, 1.0)
        page = names[offset:]
        items, omitted = self._build(page, deadline, max_items=self.max_items if limit is None else limit,
                                     max_bytes=self.max_bytes if max_bytes is None else max_bytes, record=record)
        if record:
            self._synced = True
        return PreviewUpdate(items=items, removed=[], seq=self._seq, full=True, omitted=omitted, offset=offset,
                             total=len(names))

    def page(self, path: list[str | int], offset: int = 0, limit: int = 50,
             columns: list[str] | None = None) -> dict[str, Any]:
        """One page of the item at ``path`` (see :mod:`.paging`); raises ``KeyError``/``ValueError``."""
        with self._lock:
            obj = resolve(self.namespace, path, self.visible)
            return {"path": list(path), **page_of(obj, offset, limit, columns, self.registry)}

    def page_binary(self, path: list[str | int], offset: int = 0, limit: int = 50,
                    columns: list[str] | None = None) -> tuple[dict[str, Any], list[bytes]]:
        """Like :meth:`page` with numeric columns as binary buffers."""
        with self._lock:
            obj = resolve(self.namespace, path, self.visible)
            spec, buffers = binary_columns(obj, offset, limit, columns)
            return {"path": list(path), **spec}, buffers

    # -- driving -----------------------------------------------------------------
    def visible(self, name: str, value: Any) -> bool:
        """Whether a namespace entry is a user variable (not ``_private`` or IPython's own)."""
        if type(name) is not str or name.startswith("_") or not (name.isascii() or _utf8(name)):
            return False  # a name no message can carry (a lone surrogate) is not shown
        return not (name in self.hidden and self.hidden[name] is value)

    def set_registry(self, registry: PreviewerRegistry) -> None:
        """Use other previewers (e.g. after a context switch); call :meth:`refresh` to republish."""
        with self._lock:
            self.registry = registry
            self.maker = ItemMaker(registry, self.limits)

    def refresh(self) -> PreviewUpdate | None:
        """Publish a full snapshot to the watchers (e.g. after a context switch)."""
        with self._lock:
            if not self._watchers:
                self._synced = False
                return None
            snap = self._snapshot(record=True)
            self._seq += 1
            update = PreviewUpdate(items=snap.items, removed=[], seq=self._seq, full=True, omitted=snap.omitted,
                                   total=snap.total)
            self._notify(update)
            return update

    def names_changed(self, names: list[str]) -> PreviewUpdate | None:
        """Publish what changed among ``names`` (e.g. an action bound or deleted them); no-op while nobody watches."""
        return self.after_execute(None, names=names)

    def after_execute(self, code: str | None, *, names: list[str] | None = None) -> PreviewUpdate | None:
        """Compute and publish the changes of the cell that just ran (no-op while nobody watches).

        ``names`` replaces the cell's analysis: only those names are examined.
        """
        if not self._watchers:
            self.stats.skipped_not_watching += 1
            return None
        with self._lock:
            if not self._synced:
                snap = self._snapshot(record=True)
                update = PreviewUpdate(items=snap.items, removed=[], seq=self._seq + 1, full=True,
                                       omitted=snap.omitted, total=snap.total)
            else:
                deadline = time.perf_counter() + self.budget  # one budget for checking and building
                changed, removed = self._changes(code, deadline, names)
                if not changed and not removed:
                    return None
                items, omitted = self._build(sorted(changed), deadline)
                for name in removed:
                    self._known.pop(name, None)
                    self._unsent.pop(name, None)
                    self._pending.discard(name)
                update = PreviewUpdate(items=items, removed=sorted(removed), seq=self._seq + 1, full=False,
                                       omitted=omitted)
            self._seq = update.seq
            self.stats.updates += 1
            self._notify(update)
            return update

    # -- internals -----------------------------------------------------------------
    def _notify(self, update: PreviewUpdate) -> None:
        for key, callback in list(self._watchers.items()):
            try:
                callback(update)
            except Exception:
                log.exception("preview watcher %r failed", key)

    def _changes(self, code: str | None, deadline: float,
                 names: list[str] | None = None) -> tuple[set[str], set[str]]:
        ns = self.namespace
        known, unsent = self._known, self._unsent
        cell = analyze_cell(code or "", self.transform) if code is not None and names is None else None
        full_scan = names is None and (cell is None or cell.opaque or len(ns) <= self.small_namespace)
        changed: set[str] = set(self._pending)
        removed: set[str] = {n for n in self._pending if n not in ns}
        if cell is not None or names is not None:
            if cell is not None:
                candidates = set(cell.candidates)
                candidates |= called_globals(cell.called | cell.touched, ns)
            else:
                candidates = {n for n in names or () if type(n) is str}
            self.stats.last_candidates = len(candidates)
            for name in candidates:
                entry = known.get(name)
                if name not in ns or not self.visible(name, ns[name]):
                    if entry is not None or name in unsent:
                        removed.add(name)
                    continue
                value = ns[name]
                if entry is None:
                    if unsent.get(name) != id(value):
                        changed.add(name)
                elif entry.ident != id(value):
                    changed.add(name)
                elif not _immutable(value) and time.perf_counter() > deadline:
                    changed.add(name)  # no time left to check: rebuilt (or marked over budget) below
                elif not _immutable(value):
                    # Same object, maybe mutated in place: compare its fingerprint and a fresh bounded preview.
                    fp = fingerprint(value)
                    item = self.maker.make(name, value)
                    self.stats.items_built += 1
                    if item != entry.item or fp != entry.fp:
                        changed.add(name)
                        entry.item, entry.fp = item, fp
                        entry.fresh = True  # reused by _build
        if full_scan:
            self.stats.full_scans += 1
            recheck = set(self._pending)
            for name, value in list(ns.items()):
                entry = known.get(name)
                if entry is None:
                    if (unsent.get(name) != id(value) and type(name) is str and name[:1] != "_"
                            and self.visible(name, value)):
                        changed.add(name)
                elif entry.ident != id(value):
                    changed.add(name)
                    recheck.add(name)  # visibility re-checked below
            removed |= {n for n in known if n not in ns}
            removed |= {n for n in unsent if n not in ns}
            removed |= {n for n in recheck if n in ns and not self.visible(n, ns[n])}
        changed -= removed
        return changed, removed

    def _build(self, names: list[str], deadline: float, max_items: int | None = None,
               record: bool = True, max_bytes: int | None = None) -> tuple[dict[str, dict[str, Any]], int]:
        """Items for ``names`` (in order) until ``max_items`` or ``max_bytes``; returns them and how many were left out.

        Names left out are recorded with no item when ``record`` (the client was told to page them).
        """
        max_items = self.max_items if max_items is None else max_items
        max_bytes = self.max_bytes if max_bytes is None else max_bytes
        ns = self.namespace
        items: dict[str, dict[str, Any]] = {}
        size = 0
        for i, name in enumerate(names):
            if len(items) >= max_items or size >= max_bytes:
                return items, self._omit(names[i:], record)
            if name not in ns:
                continue
            value = ns[name]
            entry = self._known.get(name)
            retry = False
            fp = None
            if entry is not None and entry.fresh and entry.ident == id(value):
                item, fp = entry.item, entry.fp  # built moments ago by the mutation check
            elif time.perf_counter() > deadline:
                item = stub_item(name, value, "over_budget", "preview time budget exhausted; retried after the "
                                 "next cell")
                retry = True
            else:
                item = self.maker.make(name, value)
                fp = None if not record or _immutable(value) else fingerprint(value)
                self.stats.items_built += 1
            if retry:
                self._pending.add(name)  # re-sent to every watcher after the next cell (harmless to those who had it)
            elif record:
                self._pending.discard(name)
            if record:
                self._known[name] = _Known(ident=id(value), item=item, fp=fp)
                if name in self._unsent:
                    del self._unsent[name]
            items[name] = item
            size += item_size(item)
        return items, 0

    def _omit(self, names: list[str], record: bool) -> int:
        ns = self.namespace
        left = {n: id(ns[n]) for n in names if n in ns}
        if record:
            for name in left.keys() & self._known.keys():
                del self._known[name]
            self._unsent.update(left)
            self._pending.difference_update(left)
        return len(left)
