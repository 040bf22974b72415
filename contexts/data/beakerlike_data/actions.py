"""Actions of the data context; each one bounded by the context's settings."""

from __future__ import annotations

from typing import Any

import beakerlike
from beakerlike.preview.paging import _is
from beakerlike.preview.safe import json_cell

FRAME_TYPES = ("pandas.DataFrame", "pandas.Series", "numpy.ndarray", "polars.DataFrame", "polars.Series",
               "polars.LazyFrame")


def _kind(obj: Any) -> str | None:
    for name in FRAME_TYPES:
        if _is(obj, name):
            return name
    return None


def _frame(req: Any, name: str) -> Any:
    ns = req.namespace
    if name not in ns or name.startswith("_"):
        raise KeyError(f"no variable named {name!r}")
    obj = ns[name]
    if not _is(obj, "pandas.DataFrame"):
        raise TypeError(f"{name!r} is a {type(obj).__name__}, not a pandas DataFrame")
    return obj


@beakerlike.action
async def list_frames(req) -> list[dict[str, Any]]:
    """List the user's DataFrames, Series and arrays with their shapes (nothing is computed)."""
    out = []
    for name, obj in list(req.namespace.items()):
        if name.startswith("_"):
            continue
        kind = _kind(obj)
        if kind is None:
            continue
        shape = None if kind == "polars.LazyFrame" else [int(s) for s in obj.shape]
        out.append({"name": name, "type": kind, "shape": shape})
    return out


@beakerlike.action
async def describe_dataframe(req, name: str, columns: list[str] | None = None) -> dict[str, Any]:
    """Summary statistics of a pandas DataFrame, on an evenly strided sample of ``sample_rows`` rows.

    Returns ``{"name", "rows", "sampled", "sample_rows", "columns", "stats": {stat: [value per column]}}``.
    """
    from . import SETTINGS

    df = _frame(req, name)
    if columns is not None:
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise KeyError(f"no such columns: {missing[:10]!r}")
        df = df[columns]
    nrows = int(df.shape[0])
    limit = int(SETTINGS["sample_rows"])
    sample = df.iloc[:: max(1, -(-nrows // limit))] if nrows > limit else df
    desc = sample.describe(include="all")
    return {
        "name": name,
        "rows": nrows,
        "sampled": sample is not df,
        "sample_rows": int(sample.shape[0]),
        "columns": [str(c) for c in desc.columns],
        "stats": {str(stat): [None if type(v) is float and v != v else json_cell(v) for v in row]
                  for stat, row in zip(desc.index, desc.to_numpy().tolist(), strict=True)},
    }


@beakerlike.action
async def page_rows(req, name: str, offset: int = 0, limit: int = 50, columns: list[str] | None = None
                    ) -> dict[str, Any]:
    """Rows ``offset .. offset+limit`` of a DataFrame (capped by ``max_page_rows``), like ``preview_page``."""
    from . import SETTINGS

    _frame(req, name)
    return req.kernel.preview.page([name], offset, min(limit, int(SETTINGS["max_page_rows"])), columns)
