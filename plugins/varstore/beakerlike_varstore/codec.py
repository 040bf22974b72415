"""Turning values into bytes and back, without pickle.

=====================  =========================================================
value                  stored as
=====================  =========================================================
None, bool, int,       ``json``: JSON (exact built-in types only; dict keys must be
float, str, list,      strings)
dict
numpy array / scalar   ``npy``: ``numpy.save(..., allow_pickle=False)``; object
                       arrays are refused
pandas DataFrame /     ``parquet`` when pyarrow is installed, else ``columns``: an
Series                 ``.npz`` of numeric columns (``allow_pickle=False``) plus
                       JSON for string columns and labels
anything else          refused with :class:`UnsupportedType`
=====================  =========================================================

Every encoding is decoded again before it is accepted and must give back an equal
value, so a value either round-trips exactly or is refused with a clear error.
Decoding never unpickles.
"""

from __future__ import annotations

import importlib.util
import io
import json
import sys
from dataclasses import dataclass, field
from typing import Any

PLAIN_TYPES = (type(None), bool, int, float, str, list, dict)


class UnsupportedType(TypeError):
    """The value's type (or content) cannot be stored safely."""


@dataclass
class Encoded:
    """A value as bytes plus what is needed to decode and describe it."""

    kind: str
    format: str
    data: bytes
    summary: dict[str, Any] = field(default_factory=dict)


def have_parquet() -> bool:
    """Whether DataFrames are stored as parquet (pyarrow is importable)."""
    return importlib.util.find_spec("pyarrow") is not None


def encode(value: Any, *, parquet: bool | None = None) -> Encoded:
    """Encode ``value``; raises :class:`UnsupportedType` for anything not listed above."""
    if type(value) in PLAIN_TYPES:
        return _encode_json(value)
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.ndarray | np.generic):
        return _encode_numpy(value, np)
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(value, pd.DataFrame | pd.Series):
        return _encode_pandas(value, pd, have_parquet() if parquet is None else parquet)
    raise UnsupportedType(
        f"varstore cannot store a {type(value).__module__}.{type(value).__qualname__}: it stores JSON data "
        f"(None, bool, int, float, str, list, dict with str keys), numpy arrays and pandas DataFrames/Series"
    )


def decode(kind: str, fmt: str, data: bytes) -> Any:
    """Decode what :func:`encode` produced (never unpickles)."""
    if fmt == "json":
        return json.loads(data)
    if fmt == "npy":
        import numpy as np

        arr = np.load(io.BytesIO(data), allow_pickle=False)
        return arr[()] if kind == "numpy-scalar" else arr
    if fmt in ("parquet", "columns"):
        import pandas as pd

        frame = pd.read_parquet(io.BytesIO(data)) if fmt == "parquet" else _frame_from_columns(data, pd)
        if kind == "series":  # stored as a one-column frame named by the JSON of the series' name
            series = frame.iloc[:, 0]
            series.name = json.loads(frame.columns[0])
            return series
        return frame
    raise ValueError(f"unknown stored format {fmt!r}")


# -- JSON ----------------------------------------------------------------------
def _check_plain(value: Any, path: str, depth: int = 0) -> None:
    if depth > 200:
        raise UnsupportedType(f"{path}: nested too deeply")
    t = type(value)
    if t is list:
        for i, item in enumerate(value):
            _check_plain(item, f"{path}[{i}]", depth + 1)
    elif t is dict:
        for k, item in value.items():
            if type(k) is not str:
                raise UnsupportedType(f"{path}: dict keys must be str to store as JSON, got {type(k).__name__}")
            _check_plain(item, f"{path}[{k!r}]", depth + 1)
    elif t not in PLAIN_TYPES:
        raise UnsupportedType(
            f"{path}: a {t.__name__} inside a list/dict cannot be stored as JSON "
            f"(only None, bool, int, float, str, list, dict)")


def _encode_json(value: Any) -> Encoded:
    _check_plain(value, "value")
    data = json.dumps(value, allow_nan=True, ensure_ascii=False).encode()
    summary: dict[str, Any] = {"type": type(value).__name__}
    if isinstance(value, list | dict | str):
        summary["len"] = len(value)
    return Encoded("json", "json", data, summary)


# -- numpy ---------------------------------------------------------------------
def _encode_numpy(value: Any, np: Any) -> Encoded:
    arr = np.asarray(value)
    if arr.dtype.hasobject:
        raise UnsupportedType("numpy arrays of dtype object are refused (they would need pickle)")
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    kind = "numpy-scalar" if isinstance(value, np.generic) else "ndarray"
    return Encoded(kind, "npy", buf.getvalue(),
                   {"type": type(value).__name__, "shape": list(arr.shape), "dtype": str(arr.dtype)})


# -- pandas --------------------------------------------------------------------
def _encode_pandas(value: Any, pd: Any, parquet: bool) -> Encoded:
    kind = "series" if isinstance(value, pd.Series) else "dataframe"
    frame = value.to_frame(name=json.dumps(_json_label(value.name))) if kind == "series" else value
    fmt = "parquet" if parquet else "columns"
    try:
        if parquet:
            buf = io.BytesIO()
            frame.to_parquet(buf)
            data = buf.getvalue()
        else:
            data = _frame_to_columns(frame, pd)
        back = decode(kind, fmt, data)
    except UnsupportedType:
        raise
    except Exception as exc:  # e.g. pyarrow refusing a mixed-type column
        raise UnsupportedType(f"this {kind} cannot be stored as {fmt}: {type(exc).__name__}: {exc}") from None
    try:
        (pd.testing.assert_series_equal if kind == "series" else pd.testing.assert_frame_equal)(
            back, value, check_exact=True)
    except AssertionError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "values differ"
        raise UnsupportedType(
            f"this {kind} does not round-trip exactly through {fmt} ({first}); "
            + ("install pyarrow to store it as parquet" if fmt == "columns" else "convert it to simpler dtypes")
        ) from None
    summary = {"type": type(value).__name__, "shape": list(value.shape)}
    if kind == "dataframe":
        summary["columns"] = [str(c) for c in value.columns[:50]]
    else:
        summary["dtype"] = str(value.dtype)
    return Encoded(kind, fmt, data, summary)


def _json_label(label: Any) -> Any:
    if label is None or type(label) in (bool, int, float, str):
        return label
    raise UnsupportedType(f"label {label!r} must be None, bool, int, float or str")


def _column_part(values: Any, pd: Any, np: Any, where: str, arrays: dict[str, Any], key: str) -> dict[str, Any]:
    """Describe one column/index as meta, putting numeric data in ``arrays[key]``."""
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "biufcmM":
        arrays[key] = np.asarray(values)
        return {"as": "npy", "dtype": str(dtype)}
    if isinstance(dtype, pd.CategoricalDtype):
        cats = _column_part(pd.Series(dtype.categories), pd, np, where, arrays, key + "c")
        arrays[key] = np.asarray(values.codes if hasattr(values, "codes") else values.cat.codes)
        return {"as": "categorical", "categories": cats, "ordered": bool(dtype.ordered)}
    items = list(values)
    if all(v is None or type(v) is str or (type(v) is float and v != v) for v in items):
        return {"as": "json", "dtype": str(dtype), "values": [v if type(v) is str else None for v in items]}
    raise UnsupportedType(
        f"{where} has dtype {dtype} that varstore can only store with pyarrow installed (parquet)")


def _frame_to_columns(frame: Any, pd: Any) -> bytes:
    import numpy as np

    arrays: dict[str, Any] = {}
    meta: dict[str, Any] = {"columns": []}
    if isinstance(frame.columns, pd.MultiIndex) or isinstance(frame.index, pd.MultiIndex):
        raise UnsupportedType("MultiIndex labels need pyarrow (parquet) to be stored")
    for i, label in enumerate(frame.columns):
        col = frame.iloc[:, i]
        meta["columns"].append({"label": _json_label(label),
                                **_column_part(col.array if not isinstance(col.dtype, np.dtype) else col.to_numpy(),
                                               pd, np, f"column {label!r}", arrays, f"c{i}")})
    index = frame.index
    if isinstance(index, pd.RangeIndex):
        meta["index"] = {"as": "range", "start": index.start, "stop": index.stop, "step": index.step,
                         "name": _json_label(index.name)}
    else:
        meta["index"] = {"name": _json_label(index.name),
                         **_column_part(index if not isinstance(index.dtype, np.dtype) else index.to_numpy(),
                                        pd, np, "the index", arrays, "i")}
    meta["columns_dtype"] = str(frame.columns.dtype)
    buf = io.BytesIO()
    np.savez(buf, __meta__=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays, allow_pickle=False)
    return buf.getvalue()


def _part_values(part: dict[str, Any], npz: Any, key: str, pd: Any) -> Any:
    if part["as"] == "npy":
        return npz[key]
    if part["as"] == "categorical":
        cats = _part_values(part["categories"], npz, key + "c", pd)
        return pd.Categorical.from_codes(npz[key], categories=cats, ordered=part["ordered"])
    return pd.array(part["values"], dtype=part["dtype"])


def _frame_from_columns(data: bytes, pd: Any) -> Any:
    import numpy as np

    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        meta = json.loads(npz["__meta__"].tobytes())
        cols = {i: _part_values(c, npz, f"c{i}", pd) for i, c in enumerate(meta["columns"])}
        ix = meta["index"]
        if ix["as"] == "range":
            index = pd.RangeIndex(ix["start"], ix["stop"], ix["step"], name=ix["name"])
        else:
            index = pd.Index(_part_values(ix, npz, "i", pd), name=ix["name"])
    frame = pd.DataFrame({i: pd.Series(v, index=index) if not isinstance(v, np.ndarray)
                          else pd.Series(v, index=index, copy=False) for i, v in cols.items()})
    if not cols:
        frame = pd.DataFrame(index=index)
    frame.columns = pd.Index([c["label"] for c in meta["columns"]], dtype=meta["columns_dtype"])
    return frame
