"""Addressing items by structured paths and reading one page of a large item.

A path is ``[name, step, ...]``: the first element names a variable, each
further step is a dict key, a list/tuple index, a DataFrame column, an array
index along the first axis, or ``{"attr": name}`` for a stored attribute of an
object (see :mod:`.attrs`). Nothing the client sends is evaluated.

Pages of dicts, lists, tuples, sets and objects carry ``children`` so a UI can
build a tree lazily; strings page by lines. Every page is bounded (rows, columns,
cells, bytes); see "Paging" in ``docs/protocol.md``.
"""

from __future__ import annotations

import itertools
import json
from collections import deque
from collections.abc import Mapping
from typing import Any

from ..protocol import safe_text
from .attrs import attribute, attributes, has_attributes
from .previewers import PreviewerRegistry, type_key
from .safe import DEFAULT_LIMITS, SEQUENCE_TYPES, SET_TYPES, Limits, clip, json_cell, qualname, short

#: Hard caps on one page, whatever the client asks for.
MAX_LIMIT = 10_000
MAX_COLUMNS = 1_000
#: Cells (rows × columns) of one JSON page: fewer rows are returned when a page would hold more.
MAX_CELLS = 50_000
#: Bytes of one page reply (JSON text, or binary buffers).
MAX_PAGE_BYTES = 16 * 1024 * 1024
#: A text row is one line, or a piece of this many characters of a longer line.
LINE_CHUNK = 64 * 1024
#: Characters of text in one page (rows stop before exceeding it; at least one row is sent).
MAX_TEXT = 1024 * 1024
#: Strings up to this many characters and lines are paged by lines; longer ones by LINE_CHUNK pieces.
MAX_LINE_INDEXED_CHARS = 64 * 1024 * 1024
MAX_LINE_INDEXED_LINES = 200_000

PAGE_LIMITS = Limits(rows=0, chars=2000, items=20)


class PageTooLarge(ValueError):
    """A page would exceed :data:`MAX_PAGE_BYTES` or :data:`MAX_COLUMNS`; the message says what to ask instead."""


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
        where = f"path[{depth}]={safe_text(repr(step))}"
        if type(step) is dict:
            if set(step) != {"attr"} or type(step["attr"]) is not str:
                raise ValueError(f"{where}: an attribute step is {{\"attr\": name}}")
            try:
                obj = attribute(obj, step["attr"])
            except KeyError as exc:
                raise KeyError(f"{where}: {exc.args[0]}") from None
            continue
        if type(step) not in (str, int):
            raise ValueError(f"{where}: steps must be strings, integers or {{\"attr\": name}}")
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


def _check_columns(columns: Any) -> None:
    if columns is not None and (not isinstance(columns, list) or len(columns) > MAX_COLUMNS):
        raise PageTooLarge(f"columns must be a list of at most {MAX_COLUMNS:,} names; page wide data by "
                           "asking for the next columns in another request")


def _fit_rows(limit: int, ncols: int) -> int:
    """``limit`` reduced so a page holds at most :data:`MAX_CELLS` cells (always at least one row)."""
    return min(limit, max(1, MAX_CELLS // max(ncols, 1)))


def page_of(obj: Any, offset: int = 0, limit: int = 50, columns: list[str] | None = None,
            registry: PreviewerRegistry | None = None) -> dict[str, Any]:
    """One page of ``obj``: ``{"offset", "limit", "total", "columns", "rows", "index"}`` (+ ``children``).

    ``limit`` in the result is the number of rows asked for after the caps; fewer
    rows than that mean the end of the data. Raises :class:`PageTooLarge` when the
    page would exceed :data:`MAX_PAGE_BYTES`.
    """
    offset, limit = _bounds(offset, limit)
    _check_columns(columns)
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
        out = {"total": int(obj.shape[0]),
               "columns": [safe_text(str(obj.name)) if obj.name is not None else "value"],
               "rows": [[json_cell(v, lim)] for v in part.tolist()],
               "index": [json_cell(i, lim) for i in part.index.tolist()]}
    elif _is(obj, "numpy.ndarray"):
        out = _page_array(obj, offset, limit, columns)
    elif tp is str or tp is bytes or tp is bytearray:
        out = page_text(obj, offset, limit)
    elif tp is dict:
        rows, index, children = [], [], []
        for k, v in itertools.islice(dict.items(obj), offset, offset + limit):
            index.append(json_cell(k, lim))
            rows.append([json_cell(v, lim)])
            children.append(child(_key_name(k), _key_step(k), v))
        out = {"total": len(obj), "columns": ["value"], "rows": rows, "index": index, "children": children}
    elif tp in SEQUENCE_TYPES or tp in SET_TYPES:
        if tp in SET_TYPES:
            values = list(itertools.islice(iter(obj), offset, offset + limit))
        elif tp is deque:
            values = _deque_slice(obj, offset, offset + limit)
        else:
            values = [obj[i] for i in range(offset, min(offset + limit, len(obj)))]
        sets = tp in SET_TYPES
        out = {"total": len(obj), "columns": ["value"], "rows": [[json_cell(v, lim)] for v in values],
               "index": list(range(offset, offset + len(values))),
               "children": [child(str(offset + i), None if sets else offset + i, v) for i, v in enumerate(values)]}
    elif tp is object or not has_attributes(obj):
        raise ValueError(f"a {qualname(type(obj))[1]} cannot be paged")
    else:
        pairs = list(itertools.islice(attributes(obj), offset, offset + limit))
        out = {"total": sum(1 for _ in attributes(obj)), "columns": ["value"],
               "rows": [[json_cell(v, lim)] for _, v in pairs], "index": [safe_text(n) for n, _ in pairs],
               "children": [child(safe_text(n), {"attr": n} if safe_text(n) is n else None, v) for n, v in pairs]}
    out.setdefault("index", list(range(offset, offset + len(out.get("rows", [])))))
    page = {"offset": offset, "limit": limit, **out}
    size = _json_size(page)
    if size > MAX_PAGE_BYTES:
        raise PageTooLarge(f"the page would be {size / 2**20:.1f} MB, more than the {MAX_PAGE_BYTES // 2**20} MB "
                           "cap: ask for fewer rows (limit) or fewer columns (columns=[...]) per request")
    return page


def _json_size(page: dict[str, Any]) -> int:
    try:
        return len(json.dumps(page, ensure_ascii=False, default=str))
    except (TypeError, ValueError):  # e.g. a lone surrogate: the reply check reports it
        return 0


# -- tree children ------------------------------------------------------------------------------------------


def _key_name(key: Any) -> str:
    return clip(key, DEFAULT_LIMITS.chars)[0] if type(key) is str else short(key, DEFAULT_LIMITS)


def _key_step(key: Any) -> str | int | None:
    """The path step reaching a dict value, or ``None`` if the key cannot be written in a path."""
    if type(key) is int or (type(key) is str and safe_text(key) is key):
        return key
    return None


def _size(value: Any) -> int | list[int] | None:
    tp = type(value)
    if tp in (str, bytes, bytearray, dict, list, tuple, set, frozenset, deque):
        return len(value)
    mod = qualname(tp)[0].split(".")[0]
    if mod in ("numpy", "pandas") and (_is(value, "numpy.ndarray") or _is(value, "pandas.core.frame.DataFrame")
                                       or _is(value, "pandas.core.series.Series")):
        try:
            return [int(s) for s in value.shape]
        except Exception:
            return None
    return None


def _expandable(value: Any) -> bool:
    tp = type(value)
    if type(tp) is not type:
        return False
    if tp is dict or tp in SEQUENCE_TYPES or tp in SET_TYPES:
        return len(value) > 0
    if tp in (str, bytes, bytearray, int, float, bool, complex, type(None)):
        return False
    mod = qualname(tp)[0].split(".")[0]
    if mod in ("numpy", "pandas"):
        return False  # paged as a table (preview_page on its path), not as a tree
    return has_attributes(value)


def child(name: str, step: Any, value: Any) -> dict[str, Any]:
    """One ``children`` entry: ``{"name", "step", "type", "summary", "size", "expandable"}`` (no user code runs).

    ``step`` is ``None`` when the child cannot be addressed by a path (a set member,
    a dict key that is neither a string nor an integer).
    """
    return {"name": name, "step": step, "type": qualname(type(value))[1], "summary": short(value, DEFAULT_LIMITS),
            "size": _size(value), "expandable": step is not None and _expandable(value)}


# -- text ---------------------------------------------------------------------------------------------------


def page_text(obj: str | bytes | bytearray, offset: int, limit: int) -> dict[str, Any]:
    """Rows of text: lines (without their newline), a line longer than :data:`LINE_CHUNK` split in pieces.

    ``index`` holds each row's 0-based line number (pieces of one line share it);
    ``total`` is the number of rows. Strings beyond :data:`MAX_LINE_INDEXED_CHARS`
    characters or :data:`MAX_LINE_INDEXED_LINES` lines are paged in pieces of
    :data:`LINE_CHUNK` characters instead (``unit: "chunks"``, ``index`` = piece number).
    """
    nl: Any = "\n" if type(obj) is str else b"\n"
    n = len(obj)
    by_lines = n <= MAX_LINE_INDEXED_CHARS and obj.count(nl) < MAX_LINE_INDEXED_LINES
    rows: list[list[str]] = []
    index: list[int] = []
    chars = 0

    def add(start: int, stop: int, label: int) -> bool:
        nonlocal chars
        if rows and chars + (stop - start) > MAX_TEXT:
            return False
        piece = obj[start:stop]
        rows.append([safe_text(piece) if type(piece) is str else piece.decode("utf-8", "backslashreplace")])
        index.append(label)
        chars += stop - start
        return True

    if not by_lines:
        total = -(-n // LINE_CHUNK) if n else 0
        for i in range(offset, min(offset + limit, total)):
            if not add(i * LINE_CHUNK, min(n, (i + 1) * LINE_CHUNK), i):
                break
        return {"total": total, "columns": ["text"], "rows": rows, "index": index, "unit": "chunks"}
    row, line, pos, full = 0, 0, 0, False
    while True:
        end = obj.find(nl, pos)
        stop = n if end < 0 else end
        for start in range(pos, max(stop, pos + 1), LINE_CHUNK):
            if offset <= row < offset + limit and not full:
                full = not add(start, min(stop, start + LINE_CHUNK), line)
            row += 1
        if end < 0:
            break
        pos, line = end + 1, line + 1
    return {"total": row, "columns": ["text"], "rows": rows, "index": index, "unit": "lines"}


# -- tables -------------------------------------------------------------------------------------------------


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
    width = int(df.shape[1])
    if columns is not None:
        labels = [_column_label(df, c, f"columns[{i}]={c!r}") for i, c in enumerate(columns)]
        limit = _fit_rows(limit, len(labels))
        part = df.iloc[offset: offset + limit][labels]
    else:
        limit = _fit_rows(limit, min(width, MAX_COLUMNS))
        part = df.iloc[offset: offset + limit, :MAX_COLUMNS]
    lim = PAGE_LIMITS
    return {"limit": limit, "total": int(df.shape[0]), "total_columns": width,
            "columns": [safe_text(str(c)) for c in part.columns],
            "rows": [[json_cell(v, lim) for v in r] for r in part.itertuples(index=False, name=None)],
            "index": [json_cell(i, lim) for i in part.index.tolist()]}


def _array_columns(a: Any, columns: list[str] | None) -> list[int]:
    if columns is None:
        return list(range(min(a.shape[1], MAX_COLUMNS)))
    try:
        cols = [int(c) for c in columns]
    except (TypeError, ValueError):
        raise ValueError("array columns are integer positions") from None
    if any(not 0 <= c < a.shape[1] for c in cols):
        raise KeyError(f"array column out of range (width {a.shape[1]})")
    return cols


def _page_array(a: Any, offset: int, limit: int, columns: list[str] | None) -> dict[str, Any]:
    if a.ndim == 0:
        raise ValueError("a 0-d array has no rows to page")
    lim = PAGE_LIMITS
    if a.ndim == 1:
        part = a[offset: offset + limit]
        return {"total": int(a.shape[0]), "columns": ["value"], "rows": [[json_cell(v, lim)] for v in part.tolist()]}
    if a.ndim > 2:
        raise ValueError("arrays with more than 2 dimensions are paged by first stepping into them")
    cols = _array_columns(a, columns)
    limit = _fit_rows(limit, len(cols))
    part = a[offset: offset + limit][:, cols]
    return {"limit": limit, "total": int(a.shape[0]), "total_columns": int(a.shape[1]),
            "columns": [str(c) for c in cols],
            "rows": [[json_cell(v, lim) for v in r] for r in part.tolist()]}


def binary_columns(obj: Any, offset: int, limit: int, columns: list[str] | None) -> tuple[dict[str, Any], list[bytes]]:
    """Numeric columns of a DataFrame or array page as little-endian buffers (for ``binary=True``).

    At most :data:`MAX_COLUMNS` columns (so buffers) and :data:`MAX_PAGE_BYTES` bytes;
    beyond that :class:`PageTooLarge` says how to ask instead.
    """
    import numpy as np

    offset, limit = _bounds(offset, limit)
    _check_columns(columns)
    if _is(obj, "pandas.core.frame.DataFrame"):
        part = obj.iloc[offset: offset + limit]
        names = list(part.columns[:MAX_COLUMNS]) if columns is None else [
            _column_label(obj, c, f"columns[{i}]={c!r}") for i, c in enumerate(columns)]
        arrays = [(safe_text(str(c)), part[c].to_numpy()) for c in names]
        total, width = int(obj.shape[0]), int(obj.shape[1])
    elif _is(obj, "numpy.ndarray") and obj.ndim in (1, 2):
        part = obj[offset: offset + limit]
        if obj.ndim == 1:
            arrays = [("value", part)]
        else:
            arrays = [(str(i), part[:, i]) for i in _array_columns(obj, columns)]
        total, width = int(obj.shape[0]), 1 if obj.ndim == 1 else int(obj.shape[1])
    else:
        raise ValueError("binary pages exist for DataFrames and 1-2 d arrays only")
    nbytes = sum(arr.dtype.itemsize * len(arr) for _, arr in arrays if arr.dtype.kind in "biuf")
    if nbytes > MAX_PAGE_BYTES:
        raise PageTooLarge(f"the binary page would be {nbytes / 2**20:.1f} MB, more than the "
                           f"{MAX_PAGE_BYTES // 2**20} MB cap: ask for fewer rows (limit) or fewer columns "
                           "(columns=[...]) per request")
    specs, buffers = [], []
    for name, arr in arrays:
        if arr.dtype.kind not in "biuf":
            specs.append({"column": name, "dtype": str(arr.dtype), "buffer": None})
            continue
        data = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<"), copy=False)
        specs.append({"column": name, "dtype": data.dtype.str, "buffer": len(buffers)})
        buffers.append(data.tobytes())
    return {"offset": offset, "limit": limit, "total": total, "total_columns": width, "columns": specs}, buffers
