"""The ``data`` context: pandas / numpy / polars helpers for beakerlike.

Registered through the ``beakerlike`` entry-point group; switch to it with
``context_setup_request {"context": "data", "context_info": {...}}``.
"""

from __future__ import annotations

from typing import Any

import pydantic

import beakerlike

from . import actions as _actions  # not imported by name: module-level actions would become global
from .polars_previewers import polars_previewers

__all__ = ["CONTEXT", "DataSetup"]


class DataSetup(pydantic.BaseModel):
    """Setup payload of the data context."""

    model_config = pydantic.ConfigDict(extra="forbid")

    sample_rows: int = pydantic.Field(100_000, ge=100, le=10_000_000,
                                      description="Rows sampled (evenly strided) for statistics.")
    max_page_rows: int = pydantic.Field(1_000, ge=1, le=10_000, description="Cap on rows per page_rows call.")


SETTINGS: dict[str, Any] = DataSetup().model_dump()


def _setup(kernel: Any, info: DataSetup | None) -> None:
    SETTINGS.update((info or DataSetup()).model_dump())


def _teardown(kernel: Any) -> None:
    SETTINGS.update(DataSetup().model_dump())


CONTEXT = beakerlike.Context(
    name="data",
    docs="Data work with pandas, numpy and polars: list frames, describe them on a bounded sample, page rows.",
    actions=[_actions.list_frames, _actions.describe_dataframe, _actions.page_rows],
    previewers=polars_previewers(),
    setup_model=DataSetup,
    setup=_setup,
    teardown=_teardown,
)


@beakerlike.hookimpl
def register_contexts(register: Any) -> None:
    """Register the ``data`` context."""
    register(CONTEXT)
