"""Addressing items by structured paths and reading one page of a large item.

A path is ``[name, key_or_index, ...]``: the first element names a variable,
each further element is a dict key, a list/tuple index, a DataFrame column, or
an array index along the first axis. Nothing the client sends is evaluated.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Mapping
from typing import Any

from .previewers import PreviewerRegistry, type_key
from .safe import SEQUENCE_TYPES, SET_TYPES, Limits, json_cell, qualname

#: Hard caps on one page, whatever the client asks for.
MAX_LIMIT = 10_000
MAX_COLUMNS = 1_000
MAX_TEXT = 100_000

PAGE_LIMITS = Limits(rows=0, chars=2000, items=20)


def _mro_names(obj: Any) -> set[str]:
    try:
        return {type_key(*qualname(k)) for k in type.__getattribute__(type(obj), "__mro__")}
    except Exception:
        return set()


def _is(obj: Any, name: str) -> bool:
    return type_key(name) in _mro_names(obj)


def resolve(namespace: Mapping[str, Any], path: list[str | int], visible: Any = None) -> Any:
    """The object at ``path``; raises ``KeyError``/``ValueError`` naming the bad step."""
    if not isinstance(path, list) or not path:
        raise ValueError("path must be a non-empty list: [variable name, key or index, ...]")
    name = path[0]
    if not isinstance(name, str):
        raise ValueError(f"path[0] must be a variable name (string), got {type(name).__name__}")
    if name not in namespace or (visible is not None and not visible(name, namespace[name])):
        raise KeyError(f"no variable named {name!r}")
    obj = namespace[name]
    for depth, step in enumerate(path[1:], start=1):
        where = f"path[{depth}]={step!r}"
        if type(step) not in (str, int):
            raise ValueError(f"{where}: steps must be strings or integers")
        tp = type(obj)
        if type(tp) is not type:
            raise ValueError(f"{where}: cannot step into a {qualname(tp)[1]}")
        if tp is dict:
            if step not in obj:
                raise KeyError(f"{where}: no such key")
            obj = obj[step]
        elif tp in SEQUENCE_TYPES:
            if type(step) is not int:
                raise ValueError(f"{where}: a {tp.__name__} is indexed by integers")
            if not -len(obj) <= step < len(obj):
                raise KeyError(f"{where}: index out of range (length {len(obj)})")
            obj = obj[step]
        elif _is(obj, "pandas.core.frame.DataFrame"):
            obj = obj[_column_label(obj, step, where)]
        elif _is(obj, "numpy.ndarray"):
            if type(step) is not int or obj.ndim == 0:
                raise ValueError(f"{where}: arrays are indexed by an integer along the first axis")
            if not -obj.shape[0] <= step < obj.shape[0]:
                raise KeyError(f"{where}: index out of range (length {obj.shape[0]})")
            obj = obj[step]
        else:
            raise ValueError(f"{where}: cannot step into a {qualname(tp)[1]}")
    return obj


def _column_label(df: Any, name: Any, where: str) -> Any:
    """The DataFrame column label for ``name`` (labels that are not strings match their ``str()``)."""
    try:
        if name in df.columns:
            return name
    except TypeError:
        pass
    if type(name) is str:
        for label in df.columns[:MAX_COLUMNS * 10]:
            if type(label) is not str and str(label) == name:
                return label
    raise KeyError(f"{where}: no such column")


def _bounds(offset: int, limit: int) -> tuple[int, int]:
    if type(offset) is not int or offset < 0:
        raise ValueError("offset must be a non-negative integer")
    if type(limit) is not int or limit < 0:
        raise ValueError("limit must be a non-negative integer")
    return offset, min(limit, MAX_LIMIT)


def page_of(obj: Any, offset: int = 0, limit: int = 50, columns: list[str] | None = None,
            registry: PreviewerRegistry | None = None) -> dict[str, Any]:
    """One page of ``obj``: ``{"offset", "limit", "total", "columns", "rows", "index"}``."""
    requested = limit
    offset, limit = _bounds(offset, limit)
    lim = PAGE_LIMITS
    tp = type(obj)
    if type(tp) is not type:
        tp = object  # custom metaclass: treat as an opaque object (only a registered previewer may page it)
    previewer = registry.find(obj) if registry is not None else None
    if previewer is not None and previewer.page is not None:
        out = dict(previewer.page(obj, offset, limit, columns))
    elif _is(obj, "pandas.core.frame.DataFrame"):
        out = _page_frame(obj, offset, limit, columns)
    elif _is(obj, "pandas.core.series.Series"):
        part = obj.iloc[offset: offset + limit]
        out = {"total": int(obj.shape[0]), "columns": [str(obj.name) if obj.name is not None else "value"],
               "rows": [[json_cell(v, lim)] for v in part.tolist()],
               "index": [json_cell(i, lim) for i in part.index.tolist()]}
    elif _is(obj, "numpy.ndarray"):
        out = _page_array(obj, offset, limit, columns)
    elif tp is str or tp is bytes or tp is bytearray:
        limit = min(requested, MAX_TEXT)
        chunk = obj[offset: offset + limit]
        if tp is not str:
            chunk = chunk.decode("utf-8", "backslashreplace")
        out = {"total": len(obj), "columns": ["text"], "rows": [[chunk]], "index": [offset],
               "unit": "characters"}
    elif tp is dict:
        pairs = itertools.islice(dict.items(obj), offset, offset + limit)
        rows, index = [], []
        for k, v in pairs:
            index.append(json_cell(k, lim))
            rows.append([json_cell(v, lim)])
        out = {"total": len(obj), "columns": ["value"], "rows": rows, "index": index}
    elif tp in SEQUENCE_TYPES or tp in SET_TYPES:
        if tp in SET_TYPES:
            values = list(itertools.islice(iter(obj), offset, offset + limit))
        elif tp is deque:
            values = _deque_slice(obj, offset, offset + limit)
        else:
            values = [obj[i] for i in range(offset, min(offset + limit, len(obj)))]
        out = {"total": len(obj), "columns": ["value"], "rows": [[json_cell(v, lim)] for v in values],
               "index": list(range(offset, offset + len(values)))}
    else:
        raise ValueError(f"a {qualname(tp)[1]} cannot be paged")
    out.setdefault("index", list(range(offset, offset + len(out.get("rows", [])))))
    return {"offset": offset, "limit": limit, **out}


def _deque_slice(d: deque[Any], start: int, stop: int) -> list[Any]:
    """``d[start:stop]`` walking from the nearer end (indexing a deque is linear in the distance to its ends)."""
    n = len(d)
    stop = min(stop, n)
    if start >= stop:
        return []
    if start <= n - stop:
        return list(itertools.islice(d, start, stop))
    values = list(itertools.islice(reversed(d), n - stop, n - start))
    values.reverse()
    return values


def _page_frame(df: Any, offset: int, limit: int, columns: list[str] | None) -> dict[str, Any]:
    if columns is not None:
        if not isinstance(columns, list) or len(columns) > MAX_COLUMNS:
            raise ValueError(f"columns must be a list of at most {MAX_COLUMNS} names")
        labels = [_column_label(df, c, f"columns[{i}]={c!r}") for i, c in enumerate(columns)]
        part = df.iloc[offset: offset + limit][labels]
    else:
        part = df.iloc[offset: offset + limit, :MAX_COLUMNS]
    lim = PAGE_LIMITS
    return {"total": int(df.shape[0]), "columns": [str(c) for c in part.columns],
            "rows": [[json_cell(v, lim) for v in r] for r in part.itertuples(index=False, name=None)],
            "index": [json_cell(i, lim) for i in part.index.tolist()]}


def _page_array(a: Any, offset: int, limit: int, columns: list[str] | None) -> dict[str, Any]:
    if a.ndim == 0:
        raise ValueError("a 0-d array has no rows to page")
    part = a[offset: offset + limit]
    lim = PAGE_LIMITS
    if a.ndim == 1:
        return {"total": int(a.shape[0]), "columns": ["value"], "rows": [[json_cell(v, lim)] for v in part.tolist()]}
    if a.ndim > 2:
        raise ValueError("arrays with more than 2 dimensions are paged by first stepping into them")
    cols = list(range(min(a.shape[1], MAX_COLUMNS)))
    if columns is not None:
        try:
            cols = [int(c) for c in columns]
        except (TypeError, ValueError):
            raise ValueError("array columns are integer positions") from None
        if any(not 0 <= c < a.shape[1] for c in cols):
            raise KeyError(f"array column out of range (width {a.shape[1]})")
    part = part[:, cols]
    return {"total": int(a.shape[0]), "columns": [str(c) for c in cols],
            "rows": [[json_cell(v, lim) for v in r] for r in part.tolist()]}


def binary_columns(obj: Any, offset: int, limit: int, columns: list[str] | None) -> tuple[dict[str, Any], list[bytes]]:
    """Numeric columns of a DataFrame or array page as little-endian buffers (for ``binary=True``)."""
    import numpy as np

    offset, limit = _bounds(offset, limit)
    if _is(obj, "pandas.core.frame.DataFrame"):
        part = obj.iloc[offset: offset + limit]
        names = list(part.columns[:MAX_COLUMNS]) if columns is None else [
            _column_label(obj, c, f"columns[{i}]={c!r}") for i, c in enumerate(columns)]
        arrays = [(str(c), part[c].to_numpy()) for c in names]
        total = int(obj.shape[0])
    elif _is(obj, "numpy.ndarray") and obj.ndim in (1, 2):
        part = obj[offset: offset + limit]
        arrays = [("value", part)] if obj.ndim == 1 else [(str(i), part[:, i]) for i in range(part.shape[1])]
        total = int(obj.shape[0])
    else:
        raise ValueError("binary pages exist for DataFrames and 1-2 d arrays only")
    specs, buffers = [], []
    for name, arr in arrays:
        if arr.dtype.kind not in "biuf":
            specs.append({"column": name, "dtype": str(arr.dtype), "buffer": None})
            continue
        data = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<"), copy=False)
        specs.append({"column": name, "dtype": data.dtype.str, "buffer": len(buffers)})
        buffers.append(data.tobytes())
    return {"offset": offset, "limit": limit, "total": total, "columns": specs}, buffers
