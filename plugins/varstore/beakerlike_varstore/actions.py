"""The varstore actions: ``save_var``, ``load_var``, ``list_vars``."""

from __future__ import annotations

from typing import Any

import anyio

import beakerlike

from .codec import decode, encode
from .store import CHUNK_SIZE, Store, chunks, resolve_path


async def _open(store: str | None) -> Store:
    path = resolve_path(store)
    return await anyio.to_thread.run_sync(Store, path)


@beakerlike.action
async def save_var(req, name: str, store: str | None = None, as_name: str | None = None) -> dict[str, Any]:
    """Save the notebook variable ``name`` to the store and return its new ``id``.

    Values larger than 1 MiB stream ``{"stage": "writing", "done": bytes, "total": bytes}``
    progress responses. ``as_name`` stores it under another name; ``store`` is a file
    path or ``sqlite:///path`` (default: ``$BEAKERLIKE_VARSTORE`` or the user data dir).
    The save is one transaction: if it fails, is cancelled or the kernel dies, nothing
    changes in the store.
    """
    if name not in req.namespace:
        raise NameError(f"name {name!r} is not defined in the notebook namespace")
    value = req.namespace[name]
    encoded = await anyio.to_thread.run_sync(encode, value)
    data = encoded.data
    large = len(data) > CHUNK_SIZE
    if large:
        await req.respond({"stage": "serialized", "done": 0, "total": len(data), "format": encoded.format})
    db = await _open(store)
    try:
        var_id = await anyio.to_thread.run_sync(
            db.begin_save, as_name or name, encoded.kind, encoded.format, data, encoded.summary)
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


@beakerlike.action
async def load_var(
    req, name: str | None = None, id: int | None = None, as_name: str | None = None, store: str | None = None
) -> dict[str, Any]:
    """Put a stored value back into the namespace, as ``as_name`` or its saved name.

    Give ``name`` (the newest value saved under it) or ``id``. Returns the stored
    value's description (``id``, ``name``, ``kind``, ``format``, ``size``, ``summary``)
    plus ``variable``, the name it was assigned to.
    """
    if (name is None) == (id is None):
        raise ValueError("give exactly one of 'name' or 'id'")
    if as_name is not None and not as_name.isidentifier():
        raise ValueError(f"as_name {as_name!r} is not a valid Python identifier")
    db = await _open(store)
    try:
        row = await anyio.to_thread.run_sync(lambda: db.find(name=name, var_id=id))
        data = await anyio.to_thread.run_sync(db.read, row)
    finally:
        db.close()
    value = await anyio.to_thread.run_sync(decode, row.kind, row.format, data)
    target = as_name or row.name
    if not target.isidentifier():
        raise ValueError(f"stored name {target!r} is not a valid Python identifier; pass as_name")
    req.namespace[target] = value
    return {**row.to_json(), "variable": target}


@beakerlike.action
async def list_vars(req, name: str | None = None, store: str | None = None) -> list[dict[str, Any]]:
    """List stored values, newest first (optionally only those saved under ``name``)."""
    db = await _open(store)
    try:
        rows = await anyio.to_thread.run_sync(db.rows, name)
    finally:
        db.close()
    return [r.to_json() for r in rows]
