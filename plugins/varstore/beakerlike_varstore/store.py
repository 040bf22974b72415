"""The SQLite store: one row per saved value, its bytes in chunks, each save one transaction.

A save is ``BEGIN IMMEDIATE`` -> insert the row -> insert every chunk -> ``COMMIT``.
If the process dies or the save is cancelled before the commit, SQLite's journal
rolls it back: values stored earlier are never touched and no half value is visible.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENV_STORE = "BEAKERLIKE_VARSTORE"
CHUNK_SIZE = 1 << 20

SCHEMA = """
CREATE TABLE IF NOT EXISTS vars (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    format TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    summary TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS vars_name ON vars (name, id);
CREATE TABLE IF NOT EXISTS chunks (
    var_id INTEGER NOT NULL REFERENCES vars (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (var_id, seq)
);
"""


def default_path() -> Path:
    """``varstore.sqlite3`` in the user's data directory (e.g. ``~/.local/share/beakerlike``)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("beakerlike", appauthor=False)) / "varstore.sqlite3"


def resolve_path(store: str | None = None) -> Path:
    """Where the store lives.

    ``store`` (a path or ``sqlite:///path`` URL), else ``$BEAKERLIKE_VARSTORE``, else :func:`default_path`.
    """
    value = store or os.environ.get(ENV_STORE) or ""
    if not value:
        return default_path()
    if value.startswith("sqlite:///"):
        value = value[len("sqlite:///"):]
        if not value:
            raise ValueError("the sqlite:/// URL has no path")
    elif "://" in value:
        scheme = value.split("://", 1)[0]
        raise ValueError(f"unsupported store URL scheme {scheme!r}: use a file path or sqlite:///path")
    return Path(value).expanduser()


@dataclass
class Row:
    """One stored value's description."""

    id: int
    name: str
    kind: str
    format: str
    size: int
    sha256: str
    summary: dict[str, Any]
    created: float

    def to_json(self) -> dict[str, Any]:
        """JSON form, as returned by the actions."""
        return dict(vars(self))


class Store:
    """A connection to one SQLite store file (created on first use)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Used from worker threads one call at a time (the actions await each call).
        self.conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
        try:
            self.conn.execute("PRAGMA foreign_keys = ON")
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.executescript(SCHEMA)
        except BaseException:  # e.g. not a SQLite file: do not leak the connection
            self.conn.close()
            raise

    def close(self) -> None:
        """Close the connection, rolling back a save still open."""
        self.rollback()
        self.conn.close()

    # -- writing ---------------------------------------------------------------
    def begin_save(self, name: str, kind: str, fmt: str, data: bytes, summary: dict[str, Any]) -> int:
        """Open the save's transaction and insert its row; returns the new id (visible after commit)."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            cur = self.conn.execute(
                "INSERT INTO vars (name, kind, format, size, sha256, summary, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (name, kind, fmt, len(data), hashlib.sha256(data).hexdigest(), json.dumps(summary), time.time()),
            )
        except BaseException:
            self.rollback()
            raise
        return int(cur.lastrowid or 0)

    def write_chunk(self, var_id: int, seq: int, chunk: bytes) -> None:
        """Insert one chunk inside the open save."""
        self.conn.execute("INSERT INTO chunks (var_id, seq, data) VALUES (?, ?, ?)", (var_id, seq, chunk))

    def commit(self) -> None:
        """Make the save durable."""
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        """Drop the open save, if any."""
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def save(self, name: str, kind: str, fmt: str, data: bytes, summary: dict[str, Any]) -> int:
        """Save in one go (no progress); returns the new id."""
        var_id = self.begin_save(name, kind, fmt, data, summary)
        try:
            for seq, chunk in enumerate(chunks(data)):
                self.write_chunk(var_id, seq, chunk)
            self.commit()
        except BaseException:
            self.rollback()
            raise
        return var_id

    # -- reading ---------------------------------------------------------------
    def rows(self, name: str | None = None) -> list[Row]:
        """Stored values, newest first, optionally only those saved under ``name``."""
        sql = "SELECT id, name, kind, format, size, sha256, summary, created FROM vars"
        args: tuple[Any, ...] = ()
        if name is not None:
            sql, args = sql + " WHERE name = ?", (name,)
        return [_row(r) for r in self.conn.execute(sql + " ORDER BY id DESC", args)]

    def find(self, *, name: str | None = None, var_id: int | None = None) -> Row:
        """The row with ``var_id``, or the newest saved under ``name``; ``LookupError`` if none."""
        if var_id is not None:
            found = self.conn.execute(
                "SELECT id, name, kind, format, size, sha256, summary, created FROM vars WHERE id = ?", (var_id,)
            ).fetchone()
            if found is None:
                raise LookupError(f"no stored value with id {var_id} in {self.path}")
            return _row(found)
        rows = self.rows(name)
        if not rows:
            raise LookupError(f"no stored value named {name!r} in {self.path}")
        return rows[0]

    def read(self, row: Row) -> bytes:
        """The value's bytes, checked against the stored size and SHA-256."""
        data = b"".join(c for (c,) in self.conn.execute(
            "SELECT data FROM chunks WHERE var_id = ? ORDER BY seq", (row.id,)))
        if len(data) != row.size or hashlib.sha256(data).hexdigest() != row.sha256:
            raise OSError(f"stored value {row.id} ({row.name!r}) is corrupt: size or checksum mismatch")
        return data


def chunks(data: bytes, size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """``data`` in pieces of at most ``size`` bytes (one empty piece for empty data)."""
    if not data:
        yield b""
        return
    view = memoryview(data)
    for start in range(0, len(data), size):
        yield bytes(view[start:start + size])


def _row(r: tuple[Any, ...]) -> Row:
    return Row(id=r[0], name=r[1], kind=r[2], format=r[3], size=r[4], sha256=r[5], summary=json.loads(r[6]),
               created=r[7])
