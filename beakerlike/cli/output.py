"""Console output shared by the commands: tables that do not wrap mid-word when piped, plain cells."""

from __future__ import annotations

import re
import sys
from typing import Any

from rich.console import Console
from rich.text import Text

#: Width used when stdout is not a terminal: wide enough that table cells never wrap.
PIPED_WIDTH = 10_000
_RST_LITERAL = re.compile(r"``(.+?)``")


def console(stderr: bool = False) -> Console:
    """A terminal-sized console, or (piped) a plain one so wide that rows are never wrapped."""
    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        return Console(stderr=stderr)
    return Console(stderr=stderr, width=PIPED_WIDTH, no_color=True, highlight=False, emoji=False, soft_wrap=True)


def cell(value: Any) -> Text:
    """A table cell shown as-is (no rich markup: ``[a, b]`` stays), RST ````x```` shown as ```x```."""
    return Text(_RST_LITERAL.sub(r"`\1`", "" if value is None else str(value)))


def first_line(doc: str | None) -> str:
    """The first line of a docstring."""
    return (doc or "").strip().splitlines()[0] if (doc or "").strip() else ""


def schema_type(spec: dict[str, Any]) -> str:
    """A JSON Schema property's type for a table: ``string``, ``string|null``, ``array``, ``any``."""
    if "type" in spec:
        return str(spec["type"])
    options = spec.get("anyOf") or spec.get("oneOf")
    if options:
        return "|".join(dict.fromkeys(schema_type(o) for o in options))
    if "$ref" in spec:
        return spec["$ref"].rsplit("/", 1)[-1]
    return "any"
