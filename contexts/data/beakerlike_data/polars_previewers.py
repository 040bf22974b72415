"""Previewers for polars objects, matched by type name so polars is never imported here."""

from __future__ import annotations

from typing import Any

from beakerlike import Limits, Previewer
from beakerlike.preview.safe import json_cell


def preview_polars_frame(df: Any, limits: Limits) -> dict[str, Any]:
    """Shape, column names and the first rows of an (eager) polars DataFrame."""
    nrows, ncols = (int(s) for s in df.shape)
    cols = list(df.columns[: limits.cols])
    head = df.select(cols).head(limits.rows).rows()
    return {"kind": "table", "shape": [nrows, ncols], "length": nrows,
            "summary": f"polars DataFrame {nrows:,} rows × {ncols} columns", "columns": [str(c) for c in cols],
            "rows": [[json_cell(v, limits) for v in r] for r in head],
            "truncated": nrows > limits.rows or ncols > limits.cols, "pageable": nrows > 0}


def page_polars_frame(df: Any, offset: int, limit: int, columns: list[str] | None) -> dict[str, Any]:
    """One page of a polars DataFrame."""
    part = df.slice(offset, limit)
    if columns is not None:
        part = part.select(columns)
    return {"total": int(df.shape[0]), "columns": [str(c) for c in part.columns],
            "rows": [[json_cell(v) for v in r] for r in part.rows()]}


def preview_polars_series(s: Any, limits: Limits) -> dict[str, Any]:
    """Length, dtype and first values of a polars Series."""
    n = int(s.len())
    return {"kind": "table", "shape": [n], "length": n, "summary": f"polars Series {n:,} × {s.dtype}",
            "columns": [str(s.name) or "value"],
            "rows": [[json_cell(v, limits)] for v in s.head(limits.rows).to_list()],
            "truncated": n > limits.rows, "pageable": False}


def preview_lazy(lf: Any, limits: Limits) -> dict[str, Any]:
    """A LazyFrame is never collected: only its type is shown."""
    return {"kind": "table", "summary": "polars LazyFrame (not computed; collect() it to preview rows)"}


def polars_previewers() -> list[Previewer]:
    """Previewers for polars DataFrame, Series and LazyFrame."""
    return [
        Previewer(("polars.DataFrame",), preview_polars_frame, name="polars.DataFrame", page=page_polars_frame),
        Previewer(("polars.Series",), preview_polars_series, name="polars.Series"),
        Previewer(("polars.LazyFrame",), preview_lazy, name="polars.LazyFrame"),
    ]
