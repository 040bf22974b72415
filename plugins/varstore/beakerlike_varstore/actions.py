"""The varstore actions: ``save_var``, ``load_var``, ``list_vars``."""

from __future__ import annotations

import keyword
import sqlite3
from typing import Any

import anyio

import beakerlike

from .codec import decode, encode
from .store import CHUNK_SIZE, LOCK_POLL, Store, chunks, is_busy, lock_timeout, resolve_path, writable_path


async def _open_read(store: str | None) -> Store:
    return await anyio.to_thread.run_sync(lambda: Store(resolve_path(store), write=False))


async def _lock(req: Any, db: Store) -> None:
    """Take the write lock in short steps, so an interrupt cancels the wait at once."""
    timeout = lock_timeout()
    deadline = anyio.current_time() + timeout
    told = False
    while True:
        try:
            return await anyio.to_thread.run_sync(db.try_begin)
        except sqlite3.OperationalError as exc:
            if not is_busy(exc):
                raise
        if anyio.current_time() >= deadline:
            raise db.busy_error(timeout)
        if not told:
            await req.respond({"stage": "waiting for lock", "store": str(db.path)})
            told = True
        await anyio.sleep(LOCK_POLL)


@beakerlike.action
async def save_var(req, name: str, store: str | None = None, as_name: str | None = None) -> dict[str, Any]:
    """Save the notebook variable ``name`` to the store and return its new ``id``.

    Values larger than 1 MiB stream ``{"stage": "writing", "done": bytes, "total": bytes}``
    progress responses. ``as_name`` stores it under another name; ``store`` is a file
    path or ``sqlite:///path`` under the varstore root (default: ``$BEAKERLIKE_VARSTORE``
    or the user data dir). While another connection holds the store's write lock it sends
    ``{"stage": "waiting for lock"}`` and waits (interruptible) up to the lock timeout,
    then fails with ``StoreBusy``. The save is one transaction: if it fails, is cancelled
    or the kernel dies, nothing changes in the store.
    """
    if name not in req.namespace:
        raise NameError(f"name {name!r} is not defined in the notebook namespace")
    path = writable_path(store)
    value = req.namespace[name]
    encoded = await anyio.to_thread.run_sync(encode, value)
    data = encoded.data
    large = len(data) > CHUNK_SIZE
    if large:
        await req.respond({"stage": "serialized", "done": 0, "total": len(data), "format": encoded.format})
    db = await anyio.to_thread.run_sync(Store, path)
    try:
        await _lock(req, db)
        var_id = await anyio.to_thread.run_sync(
            db.insert_row, as_name or name, encoded.kind, encoded.format, data, encoded.summary)
        done = 0
        for seq, chunk in enumerate(chunks(data)):
            await anyio.to_thread.run_sync(db.write_chunk, var_id, seq, chunk)
            done += len(chunk)
            if large:
                await req.respond({"stage": "writing", "done": done, "total": len(data)})
        await anyio.to_thread.run_sync(db.commit)
    finally:
        db.close()  # rolls back unless committed, also on cancellation
    return {"id": var_id, "name": as_name or name, "kind": encoded.kind, "format": encoded.format,
            "size": len(data), "store": str(db.path)}


def _free_name(base: str, namespace: Any) -> str:
    for i in range(1, 10_000):
        candidate = f"{base}_{i}"
        if candidate not in namespace:
            return candidate
    return f"{base}_loaded"


def _check_target(target: str, explicit: bool, overwrite: bool, namespace: Any) -> None:
    """Refuse names that would break the namespace, and silent overwrites."""
    if not target.isidentifier() or keyword.iskeyword(target):
        raise ValueError(f"{target!r} is not a valid Python identifier; pass as_name with one")
    if target.startswith("__") and target.endswith("__"):
        raise ValueError(f"refusing to load into the special name {target!r}; pass as_name with an ordinary name "
                         f"(e.g. {target.strip('_') or 'value'!r})")
    if not explicit and not overwrite and target in namespace:
        raise ValueError(
            f"{target!r} already exists in the notebook namespace (a {type(namespace[target]).__name__}); "
            f"pass as_name to load it under another name (e.g. {_free_name(target, namespace)!r}) "
            f"or overwrite: true to replace it")


@beakerlike.action
async def load_var(
    req, name: str | None = None, id: int | None = None, as_name: str | None = None, store: str | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Put a stored value back into the namespace, as ``as_name`` or its saved name.

    Give ``name`` (the newest value saved under it) or ``id``. Loading under the saved
    name refuses to replace an existing variable unless ``overwrite`` is true (or
    ``as_name`` names the target explicitly); special ``__dunder__`` names are always
    refused. Returns the stored value's description (``id``, ``name``, ``kind``,
    ``format``, ``size``, ``summary``) plus ``variable``, the name it was assigned to.
    """
    if (name is None) == (id is None):
        raise ValueError("give exactly one of 'name' or 'id'")
    if as_name is not None:
        _check_target(as_name, True, overwrite, req.namespace)
    try:
        db = await _open_read(store)
    except FileNotFoundError:
        what = f"named {name!r}" if name is not None else f"with id {id}"
        raise LookupError(f"no stored value {what}: there is no store at {str(resolve_path(store))!r}") from None
    try:
        row = await anyio.to_thread.run_sync(lambda: db.find(name=name, var_id=id))
        target = as_name or row.name
        _check_target(target, as_name is not None, overwrite, req.namespace)
        data = await anyio.to_thread.run_sync(db.read, row)
    finally:
        db.close()
    value = await anyio.to_thread.run_sync(decode, row.kind, row.format, data)
    req.namespace[target] = value
    return {**row.to_json(), "variable": target}


@beakerlike.action
async def list_vars(req, name: str | None = None, store: str | None = None) -> list[dict[str, Any]]:
    """List stored values, newest first (optionally only those saved under ``name``).

    The store is opened read-only; a store that does not exist yet lists nothing, a file
    that is not a varstore is refused (``NotAVarstore``).
    """
    try:
        db = await _open_read(store)
    except FileNotFoundError:
        return []
    try:
        rows = await anyio.to_thread.run_sync(db.rows, name)
    finally:
        db.close()
    return [r.to_json() for r in rows]
