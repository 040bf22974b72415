"""The SQLite store: one row per saved value, its bytes in chunks, each save one transaction.

A save is ``BEGIN IMMEDIATE`` -> insert the row -> insert every chunk -> ``COMMIT``.
If the process dies or the save is cancelled before the commit, SQLite's journal
rolls it back: values stored earlier are never touched and no half value is visible.

Paths: reads open the file read-only and refuse anything that is not a varstore
(:class:`NotAVarstore`); writes go only under the varstore root
(``$BEAKERLIKE_VARSTORE_ROOT``, default the user data dir), to the configured default
store (``$BEAKERLIKE_VARSTORE``) or to paths listed in ``$BEAKERLIKE_VARSTORE_ALLOW``
(:class:`StorePathRefused` otherwise). The write lock is never waited for inside SQLite:
:meth:`Store.try_begin` fails at once when another connection holds it, so callers
can wait in short, cancellable steps (:class:`StoreBusy` after ``lock_timeout``).
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
ENV_ROOT = "BEAKERLIKE_VARSTORE_ROOT"
ENV_ALLOW = "BEAKERLIKE_VARSTORE_ALLOW"
ENV_LOCK_TIMEOUT = "BEAKERLIKE_VARSTORE_LOCK_TIMEOUT"
CHUNK_SIZE = 1 << 20
#: Seconds a save waits for another writer's lock before :class:`StoreBusy`.
LOCK_TIMEOUT = 30.0
#: Seconds between two attempts to take the write lock.
LOCK_POLL = 0.01
TABLES = {"vars": {"id", "name", "kind", "format", "size", "sha256", "summary", "created"},
          "chunks": {"var_id", "seq", "data"}}


class StoreBusy(TimeoutError):
    """Another connection held the store's write lock for longer than the lock timeout."""


class NotAVarstore(ValueError):
    """The file exists but is not a varstore (another program's database, or not SQLite)."""


class StorePathRefused(PermissionError):
    """A write to a path outside the varstore root that configuration does not allow."""

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


def default_root() -> Path:
    """Where stores may be written: ``$BEAKERLIKE_VARSTORE_ROOT``, else the user's data directory."""
    value = os.environ.get(ENV_ROOT)
    if value:
        return Path(value).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("beakerlike", appauthor=False))


def default_path() -> Path:
    """``varstore.sqlite3`` in :func:`default_root` (e.g. ``~/.local/share/beakerlike``)."""
    return default_root() / "varstore.sqlite3"


def lock_timeout() -> float:
    """``$BEAKERLIKE_VARSTORE_LOCK_TIMEOUT`` seconds, else :data:`LOCK_TIMEOUT`."""
    raw = os.environ.get(ENV_LOCK_TIMEOUT)
    if not raw:
        return LOCK_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{ENV_LOCK_TIMEOUT}={raw!r} is not a number of seconds") from None
    return max(value, 0.0)


def _inside(path: Path, base: Path) -> bool:
    return path == base or base in path.parents


def writable_path(store: str | None = None) -> Path:
    """:func:`resolve_path`, refused unless writes may go there (see the module doc)."""
    path = resolve_path(store)
    real = path.resolve()
    root = default_root().resolve()
    allowed = [root, *(Path(p).expanduser().resolve() for p in os.environ.get(ENV_ALLOW, "").split(os.pathsep) if p)]
    if os.environ.get(ENV_STORE):
        allowed.append(resolve_path(os.environ[ENV_STORE]).resolve())
    if any(_inside(real, base) for base in allowed):
        return path
    raise StorePathRefused(
        f"refusing to write the store {str(path)!r}: it is outside the varstore root {str(root)!r}. "
        f"Use a path under the root, set {ENV_ROOT}, or allow it explicitly in {ENV_ALLOW} "
        f"(paths separated by {os.pathsep!r})")


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
    """A connection to one SQLite store file.

    ``write=True`` (the default) opens it for saving, creating the file (and its directory)
    if needed; ``write=False`` opens it read-only (``FileNotFoundError`` if it does not
    exist). Either way a file that is not a varstore is refused with :class:`NotAVarstore`.
    Path policy is the caller's job (:func:`writable_path`).
    """

    def __init__(self, path: str | Path, *, write: bool = True) -> None:
        self.path = Path(path)
        self.write = write
        if write:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # timeout=0: never block inside SQLite; try_begin reports a busy lock at once.
            self.conn = sqlite3.connect(self.path, timeout=0, check_same_thread=False, isolation_level=None)
        else:
            if not self.path.is_file():
                raise FileNotFoundError(f"no store at {str(self.path)!r}")
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            self.conn = sqlite3.connect(uri, uri=True, timeout=5, check_same_thread=False, isolation_level=None)
        try:
            self.needs_schema = self._check()
            if self.needs_schema and not write:
                raise NotAVarstore(f"{str(self.path)!r} is not a varstore (an SQLite database without its tables)")
            if write:
                self.conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.OperationalError as exc:
            self.conn.close()
            if is_busy(exc):
                raise self.busy_error(0) from None
            raise NotAVarstore(f"{str(self.path)!r} is not a varstore: {exc}") from None
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise NotAVarstore(f"{str(self.path)!r} is not a varstore: {exc}") from None
        except BaseException:  # do not leak the connection
            self.conn.close()
            raise

    def _check(self) -> bool:
        """Whether the schema is still to be created (an empty database); refuses other databases."""
        tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        tables.discard("sqlite_sequence")
        if not tables:
            return True
        for table, columns in TABLES.items():
            have = {r[1] for r in self.conn.execute(f"PRAGMA table_info({table})")}
            if not columns <= have:
                raise NotAVarstore(
                    f"{str(self.path)!r} is not a varstore: it has tables {sorted(tables)} but no varstore "
                    f"table {table!r} with columns {sorted(columns)}; use another store path")
        return False

    # -- the write lock ----------------------------------------------------------
    def try_begin(self) -> None:
        """Open the save's transaction now, or raise ``sqlite3.OperationalError`` (busy) at once."""
        if self.needs_schema:
            self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("BEGIN IMMEDIATE")
        if self.needs_schema:
            try:
                for statement in filter(str.strip, SCHEMA.split(";")):
                    self.conn.execute(statement)
            except BaseException:
                self.rollback()
                raise
            self.needs_schema = False

    def begin(self, timeout: float | None = None) -> None:
        """:meth:`try_begin`, retried every :data:`LOCK_POLL` s; :class:`StoreBusy` after ``timeout``."""
        deadline = time.monotonic() + (lock_timeout() if timeout is None else timeout)
        while True:
            try:
                return self.try_begin()
            except sqlite3.OperationalError as exc:
                if not is_busy(exc):
                    raise
            if time.monotonic() >= deadline:
                raise self.busy_error(timeout if timeout is not None else lock_timeout())
            time.sleep(LOCK_POLL)

    def busy_error(self, waited: float) -> StoreBusy:
        """The error for a lock still held after ``waited`` seconds."""
        return StoreBusy(f"the store {str(self.path)!r} is locked by another writer (waited {waited:g} s); "
                         f"try again later or raise {ENV_LOCK_TIMEOUT}")

    def close(self) -> None:
        """Close the connection, rolling back a save still open."""
        self.rollback()
        self.conn.close()

    # -- writing ---------------------------------------------------------------
    def begin_save(self, name: str, kind: str, fmt: str, data: bytes, summary: dict[str, Any]) -> int:
        """Open the save's transaction (waiting for the lock) and insert its row; returns the new id."""
        self.begin()
        return self.insert_row(name, kind, fmt, data, summary)

    def insert_row(self, name: str, kind: str, fmt: str, data: bytes, summary: dict[str, Any]) -> int:
        """Insert the row of a save whose transaction is open; returns the id (visible after commit)."""
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


def is_busy(exc: sqlite3.OperationalError) -> bool:
    """Whether ``exc`` means another connection holds the lock."""
    code = getattr(exc, "sqlite_errorcode", None)  # Python >= 3.11
    return (code & 0xFF) in (5, 6) if code is not None else "locked" in str(exc)  # SQLITE_BUSY, SQLITE_LOCKED


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
