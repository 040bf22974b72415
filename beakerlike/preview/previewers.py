"""Previewers: per-type summarizers, each bounded in time and size.

A previewer returns the fields of the ``application/vnd.beakerlike.preview+json``
part of an item (``kind``, ``shape``, ``length``, ``summary``, ``columns``,
``rows``, ``truncated``, ``pageable``); :meth:`beakerlike.preview.items.ItemMaker.make`
fills in the rest and renders ``text/plain`` and ``text/html``.

Types are matched along ``type(obj).__mro__`` (never ``isinstance``), by type
object or by ``"module.QualName"`` string so optional libraries are never
imported just to be matched.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .safe import (
    SCALAR_TYPES,
    SEQUENCE_TYPES,
    SET_TYPES,
    Limits,
    clip,
    json_cell,
    qualname,
    short,
)


def type_key(module: str, name: str | None = None) -> str:
    """Registry key of a type: top-level package plus qualified name.

    ``"pandas.core.frame.DataFrame"`` and pandas 3's ``"pandas.DataFrame"`` both
    become ``"pandas.DataFrame"``, so string registrations survive libraries
    moving classes between submodules.
    """
    if name is None:
        module, _, name = module.rpartition(".")
        # "pkg.mod.Outer.Inner" cannot be split unambiguously; assume a top-level class.
    return f"{module.split('.')[0]}.{name}"


PreviewFunc = Callable[[Any, Limits], dict[str, Any]]


@dataclass
class Previewer:
    """Summarizes values of some types for the preview panel.

    ``types`` holds type objects or ``"module.QualName"`` strings (matched along
    the MRO, e.g. ``"pandas.core.frame.DataFrame"``). ``preview(obj, limits)``
    returns preview fields and must stay within ``limits`` without materializing
    lazy objects. ``page(obj, offset, limit, columns)``, when given, returns
    ``{"total", "columns", "rows", "index"}`` for ``preview_page``. Previewers not
    marked ``trusted`` run in a guarded thread with a timeout; so does a trusted one
    on a subclass from another package (its overrides are user code, see :meth:`trusts`).
    """

    types: tuple[type | str, ...]
    preview: PreviewFunc
    name: str = ""
    page: Callable[[Any, int, int, list[str] | None], dict[str, Any]] | None = None
    trusted: bool = False
    #: Match only the exact types, not subclasses (which may override ``__len__`` etc.).
    exact: bool = False
    keys: frozenset[str] = field(init=False, default=frozenset())
    #: Top-level packages of ``keys``: their own subclasses share the trust.
    packages: frozenset[str] = field(init=False, default=frozenset())

    def __post_init__(self) -> None:
        if isinstance(self.types, (str, type)):
            self.types = (self.types,)
        keys = set()
        for t in self.types:
            keys.add(type_key(t) if isinstance(t, str) else type_key(*qualname(t)))
        self.keys = frozenset(keys)
        self.packages = frozenset(k.split(".")[0] for k in keys)
        if not self.name:
            self.name = getattr(self.preview, "__qualname__", "previewer")

    def trusts(self, tp: type) -> bool:
        """Whether to run unguarded on values of type ``tp`` (found for it by the registry).

        Only ``trusted`` previewers, and for a subclass (when not ``exact``) only one
        defined in the same top-level package: a user's ``ndarray`` or ``DataFrame``
        subclass may override ``tolist``/``head`` with slow code.
        """
        return self.trusted and (self.exact or qualname(tp)[0].split(".")[0] in self.packages)


class PreviewerRegistry:
    """Finds the previewer for a value's type; later registrations win."""

    def __init__(self, previewers: Iterable[Previewer] = ()) -> None:
        self._by_key: dict[str, Previewer] = {}
        self._cache: dict[int, tuple[type, Previewer | None]] = {}
        for p in previewers:
            self.add(p)

    def add(self, previewer: Previewer) -> None:
        """Register ``previewer`` for its types (replacing earlier ones)."""
        for key in previewer.keys:
            self._by_key[key] = previewer
        self._cache.clear()

    def find(self, obj: Any) -> Previewer | None:
        """The previewer for ``type(obj)``, or ``None`` (use the generic fallback)."""
        tp = type(obj)
        hit = self._cache.get(id(tp))  # by id: hashing a type may run a hostile metaclass __hash__
        if hit is not None and hit[0] is tp:
            return hit[1]
        found = None
        try:
            mro = type.__getattribute__(tp, "__mro__")
        except Exception:
            mro = (tp,)
        for klass in mro:
            candidate = self._by_key.get(type_key(*qualname(klass)))
            if candidate is not None and not (candidate.exact and klass is not tp):
                found = candidate
                break
        if len(self._cache) > 4096:
            self._cache.clear()
        self._cache[id(tp)] = (tp, found)
        return found


# -- built-ins ----------------------------------------------------------------


def label(value: Any, limits: Limits) -> str:
    """A column or index label as a bounded string."""
    return clip(value, limits.chars)[0] if type(value) is str else short(value, limits)


def preview_scalar(obj: Any, limits: Limits) -> dict[str, Any]:
    """None, bools, numbers, dates."""
    return {"kind": "scalar", "summary": short(obj, limits), "rows": None}


def preview_text(obj: Any, limits: Limits) -> dict[str, Any]:
    """``str``/``bytes``: length and size are O(1); only a prefix is ever copied."""
    n = len(obj)
    summary = short(obj, limits)
    return {"kind": "text", "length": n, "shape": [n], "nbytes": sys.getsizeof(obj), "summary": summary,
            "truncated": n > limits.chars, "pageable": n > limits.chars}


def preview_sequence(obj: Any, limits: Limits) -> dict[str, Any]:
    """Lists, tuples, deques and sets: the first items only."""
    n = len(obj)
    if type(obj) in SET_TYPES:
        first = []
        for i, v in enumerate(obj):
            if i >= limits.rows:
                break
            first.append(v)
    else:
        first = [obj[i] for i in range(min(n, limits.rows))]
    rows = [[json_cell(v, limits)] for v in first]
    return {"kind": "container", "length": n, "shape": [n], "summary": short(obj, limits), "rows": rows,
            "columns": ["value"], "truncated": n > limits.rows, "pageable": n > 0}


def preview_dict(obj: dict[Any, Any], limits: Limits) -> dict[str, Any]:
    """Dicts: the first keys and values."""
    n = len(obj)
    rows = []
    for i, (k, v) in enumerate(dict.items(obj)):
        if i >= limits.rows:
            break
        rows.append([json_cell(k, limits), json_cell(v, limits)])
    return {"kind": "container", "length": n, "shape": [n], "summary": short(obj, limits), "rows": rows,
            "columns": ["key", "value"], "truncated": n > limits.rows, "pageable": n > 0}


def preview_ndarray(obj: Any, limits: Limits) -> dict[str, Any]:
    """Summarize numpy arrays: shape, dtype and a corner; no reductions over the data."""
    shape = [int(s) for s in obj.shape]
    summary = f"{obj.dtype} array {'×'.join(map(str, shape)) or 'scalar'}"
    rows: list[list[Any]] | None = None
    columns = None
    if obj.ndim == 1:
        rows = [[json_cell(v, limits)] for v in obj[: limits.rows].tolist()]
        columns = ["value"]
    elif obj.ndim == 2:
        corner = obj[: limits.rows, : limits.cols]
        rows = [[json_cell(v, limits) for v in r] for r in corner.tolist()]
        columns = [str(i) for i in range(corner.shape[1])]
    elif obj.ndim == 0:
        summary = f"{obj.dtype} array scalar {short(obj.item(), limits)}"
    return {"kind": "array", "shape": shape, "length": shape[0] if shape else None, "nbytes": int(obj.nbytes),
            "summary": summary, "rows": rows, "columns": columns, "pageable": obj.ndim in (1, 2) and obj.size > 0,
            "truncated": bool(obj.ndim > 2 or (shape and shape[0] > limits.rows) or
                              (len(shape) > 1 and shape[1] > limits.cols))}


def frame_columns(df: Any, n: int, col_positions: range) -> list[list[Any]]:
    """The first ``n`` values of some columns, without building intermediate frames."""
    out = []
    for j in col_positions:
        try:
            values = df._get_column_array(j)[:n].tolist()  # O(n): no block consolidation
        except Exception:
            values = df.iloc[:n, j].tolist()
        out.append(values)
    return out


#: Above this many columns a frame's memory size is left unknown when its blocks cannot be read
#: (``DataFrame.memory_usage`` builds a Series of one entry per column: ~15 ms per 1,000 columns).
MEMORY_USAGE_MAX_COLUMNS = 100


def frame_nbytes(df: Any) -> int | None:
    """A frame's shallow memory size, or ``None`` when that is not cheap to know.

    Equal to ``df.memory_usage(index=True, deep=False).sum()`` (object cells count as pointers), but
    in O(blocks) rather than O(columns): the frame's blocks' ``nbytes`` plus its index's shallow size.
    """
    try:
        index = int(df.index.memory_usage(deep=False))
        blocks = df._mgr.blocks  # private, as in frame_columns; fall back to the public call below
        return index + sum(int(b.values.nbytes) for b in blocks)
    except Exception:
        pass
    try:
        if int(df.shape[1]) <= MEMORY_USAGE_MAX_COLUMNS:
            return int(df.memory_usage(index=True, deep=False).sum())
    except Exception:
        pass
    return None


def preview_dataframe(obj: Any, limits: Limits) -> dict[str, Any]:
    """Summarize pandas DataFrames: shape, shallow memory size, column names and the first rows (no stats)."""
    nrows, ncols = (int(s) for s in obj.shape)
    positions = range(min(ncols, limits.cols))
    columns = frame_columns(obj, limits.rows, positions)
    height = min(nrows, limits.rows)
    rows = [[json_cell(col[i], limits) for col in columns] for i in range(height)]
    return {"kind": "table", "shape": [nrows, ncols], "length": nrows, "nbytes": frame_nbytes(obj),
            "summary": f"DataFrame {nrows:,} rows × {ncols} columns",
            "columns": [label(c, limits) for c in obj.columns[: limits.cols].tolist()],
            "index": [json_cell(i, limits) for i in obj.index[:height].tolist()],
            "rows": rows, "truncated": nrows > limits.rows or ncols > limits.cols, "pageable": nrows > 0}


def preview_series(obj: Any, limits: Limits) -> dict[str, Any]:
    """Summarize pandas Series: length, dtype, shallow memory size and the first values."""
    n = int(obj.shape[0])
    try:
        nbytes: int | None = int(obj.memory_usage(index=True, deep=False))  # values.nbytes + index: O(1)
    except Exception:
        nbytes = None
    head = obj.head(limits.rows)
    name = obj.name
    return {"kind": "table", "shape": [n], "length": n, "nbytes": nbytes, "summary": f"Series {n:,} × {obj.dtype}",
            "columns": [label(name, limits) if name is not None else "value"],
            "index": [json_cell(i, limits) for i in head.index.tolist()],
            "rows": [[json_cell(v, limits)] for v in head.tolist()], "truncated": n > limits.rows,
            "pageable": n > 0}


def preview_index(obj: Any, limits: Limits) -> dict[str, Any]:
    """Summarize a pandas Index: length and first labels."""
    n = int(len(obj))
    return {"kind": "container", "shape": [n], "length": n, "summary": f"{type(obj).__name__} of {n:,}",
            "rows": [[json_cell(v, limits)] for v in obj[: limits.rows].tolist()], "columns": ["value"],
            "truncated": n > limits.rows, "pageable": False}


def builtin_previewers() -> list[Previewer]:
    """The previewers every kernel has."""
    return [
        Previewer(SCALAR_TYPES, preview_scalar, name="scalar", trusted=True, exact=True),
        Previewer((str, bytes, bytearray), preview_text, name="text", trusted=True, exact=True),
        Previewer((*SEQUENCE_TYPES, *SET_TYPES), preview_sequence, name="sequence", trusted=True, exact=True),
        Previewer((dict,), preview_dict, name="dict", trusted=True, exact=True),
        Previewer(("numpy.ndarray",), preview_ndarray, name="numpy.ndarray", trusted=True),
        Previewer(("pandas.core.frame.DataFrame",), preview_dataframe, name="pandas.DataFrame", trusted=True),
        Previewer(("pandas.core.series.Series",), preview_series, name="pandas.Series", trusted=True),
        Previewer(("pandas.core.indexes.base.Index",), preview_index, name="pandas.Index", trusted=True),
    ]
