"""Cheap, bounded fingerprints that tell whether a value was mutated in place.

A fingerprint is compared before and after a cell for candidate names whose
object kept its identity. Small values are covered completely (the identities
of every element of a list of up to 1,000 items, the bytes of an array of up to
256 KB); large ones by their size, their identity-bearing parts and a sample
of their ends, so appending, extending, popping and editing near the ends are
seen while a change deep inside a 10,000,000-row frame is not (documented in
the protocol doc). Costs at most a few microseconds plus one CRC over 256 KB.
"""

from __future__ import annotations

import zlib
from collections import deque
from typing import Any

from .safe import qualname

SMALL_ITEMS = 1000
SMALL_BYTES = 256 * 1024
EDGE_BYTES = 4096
EDGE_ITEMS = 16


def _ids(values: Any) -> tuple[int, ...]:
    return tuple(map(id, values))


def _array(a: Any) -> tuple[Any, ...] | None:
    try:
        head: tuple[Any, ...] = (a.shape, a.strides, a.dtype.str, a.__array_interface__["data"][0])
    except Exception:
        return None
    try:
        return _array_content(a, head)
    except Exception:  # dtypes without a buffer interface (datetime64, ...): shape and pointer only
        return head


def _array_content(a: Any, head: tuple[Any, ...]) -> tuple[Any, ...]:
    if a.dtype.hasobject:
        # ravel() of a non-contiguous view copies every element; .flat[:k] reads only k.
        flat = a.reshape(-1) if a.flags.c_contiguous else a.flat[: EDGE_ITEMS * 2]
        n = flat.shape[0]
        part = flat if n <= SMALL_ITEMS else (*flat[:EDGE_ITEMS], *flat[-EDGE_ITEMS:])
        return (*head, _ids(part))
    if a.nbytes <= SMALL_BYTES:
        data = a if a.flags.c_contiguous else a.copy()
        return (*head, zlib.crc32(memoryview(data).cast("B")))
    if a.flags.c_contiguous:
        raw = memoryview(a.reshape(-1).view("B"))
        return (*head, zlib.crc32(raw[:EDGE_BYTES]), zlib.crc32(raw[-EDGE_BYTES:]))
    return head


def _frame(df: Any) -> tuple[Any, ...] | None:
    try:
        parts: list[Any] = [df.shape, id(df._mgr), id(df.columns), id(df.index)]
        for j in range(min(df.shape[1], 50)):
            arr = df._get_column_array(j)  # a fresh view each time: compare content, not identity
            if type(arr).__module__.startswith("numpy"):
                edge = arr[-EDGE_ITEMS:] if arr.shape[0] > SMALL_ITEMS else arr
                parts.append(_array(edge))
    except Exception:
        return None
    return tuple(parts)


def _series(s: Any) -> tuple[Any, ...] | None:
    try:
        content: Any = None
        if s.dtype.kind in "biufcmM" and type(s.dtype).__module__.startswith("numpy"):
            content = _array((s if s.shape[0] <= SMALL_ITEMS else s.iloc[-EDGE_ITEMS:]).to_numpy(copy=False))
        elif s.dtype.kind in "biufcmM":
            # An extension dtype (tz-aware datetimes, Int64): to_numpy() would build one object per row and
            # fresh objects' ids say nothing; compare the text of the first and last values instead.
            content = tuple(map(str, [*s.iloc[:EDGE_ITEMS].tolist(), *s.iloc[-EDGE_ITEMS:].tolist()]))
        return (s.shape, id(s._mgr), id(s.index), content)
    except Exception:
        return None


def fingerprint(obj: Any) -> Any:
    """A hashable summary of ``obj``'s mutable state, or ``None`` if there is no cheap one; never raises."""
    try:
        return _fingerprint(obj)
    except Exception:
        return None


def _fingerprint(obj: Any) -> Any:
    tp = type(obj)
    if tp is list or tp is deque:
        n = len(obj)
        if n <= SMALL_ITEMS:
            return (n, _ids(obj))
        return (n, _ids(obj[i] for i in range(EDGE_ITEMS)), _ids(obj[i] for i in range(n - EDGE_ITEMS, n)))
    if tp is tuple:
        return _fingerprint(list(obj)) if len(obj) <= SMALL_ITEMS else None
    if tp is dict:
        n = len(obj)
        if n <= SMALL_ITEMS:
            return (n, _ids(obj), _ids(obj.values()))
        last = next(reversed(obj.items()))
        return (n, id(last[0]), id(last[1]))
    if tp is set:
        return (len(obj), hash(frozenset(map(id, obj)))) if len(obj) <= SMALL_ITEMS else (len(obj),)
    if tp is bytearray:
        return (len(obj), zlib.crc32(obj[:SMALL_BYTES]), zlib.crc32(obj[-EDGE_BYTES:]))
    mod, name = qualname(tp)
    top = mod.split(".")[0]
    if top == "numpy" and name in ("ndarray", "matrix", "memmap"):
        return _array(obj)
    if top == "pandas" and name == "DataFrame":
        return _frame(obj)
    if top == "pandas" and name == "Series":
        return _series(obj)
    return None
