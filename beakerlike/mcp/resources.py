"""The variables as MCP resources: URIs and their JSON text.

=========================================================  ==============================================
``beakerlike://variables``                                 every preview a panel sees (bounded by the kernel)
``beakerlike://variables/{name}``                          one ITEM (the preview's mime bundle)
``beakerlike://variables/{name}/rows{?offset,limit,columns}``  one page of rows (``preview_page``)
=========================================================  ==============================================

Names are percent-encoded in URIs. Everything is returned as JSON text (``application/json``):
previews are data, never HTML to render or code to run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

SCHEME = "beakerlike"
VARIABLES_URI = "beakerlike://variables"
ITEM_TEMPLATE = "beakerlike://variables/{name}"
ROWS_TEMPLATE = "beakerlike://variables/{name}/rows{?offset,limit,columns}"
PREVIEW_MIME = "application/vnd.beakerlike.preview+json"
JSON_MIME = "application/json"
#: Rows per page when the URI gives no ``limit``, and the most one read returns.
DEFAULT_ROWS = 50
MAX_ROWS = 1000


class BadUri(ValueError):
    """A ``beakerlike://`` URI that names nothing we serve."""


@dataclass(frozen=True)
class Target:
    """What a resource URI asks for: ``kind`` is ``variables``, ``item`` or ``rows``."""

    kind: str
    name: str | None = None
    offset: int = 0
    limit: int = DEFAULT_ROWS
    columns: list[str] | None = None


def item_uri(name: str) -> str:
    """The URI of one variable's ITEM."""
    return f"{VARIABLES_URI}/{quote(name, safe='')}"


def _int(query: dict[str, list[str]], key: str, default: int, upper: int | None = None) -> int:
    raw = query.get(key, [None])[-1]
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadUri(f"{key}={raw!r} is not an integer") from None
    if value < 0:
        raise BadUri(f"{key} must be >= 0, got {value}")
    return min(value, upper) if upper is not None else value


def parse(uri: str) -> Target:
    """What ``uri`` names; :class:`BadUri` with the reason if nothing."""
    parts = urlsplit(uri)
    if parts.scheme != SCHEME or parts.netloc != "variables":
        raise BadUri(f"unknown resource {uri!r}: expected {VARIABLES_URI}[/<name>[/rows?offset=&limit=]]")
    segments = [unquote(s) for s in parts.path.split("/")[1:]] if parts.path not in ("", "/") else []
    if not segments:
        return Target("variables")
    if not segments[0]:
        raise BadUri(f"empty variable name in {uri!r}")
    if len(segments) == 1:
        return Target("item", segments[0])
    if len(segments) == 2 and segments[1] == "rows":
        query = parse_qs(parts.query, keep_blank_values=True)
        cols = query.get("columns")
        columns = [c for chunk in cols for c in chunk.split(",") if c] if cols else None
        return Target("rows", segments[0], _int(query, "offset", 0), _int(query, "limit", DEFAULT_ROWS, MAX_ROWS),
                      columns)
    raise BadUri(f"unknown resource {uri!r}: after the name only '/rows' is served")


def dumps(value: Any) -> str:
    """JSON text of a resource (non-ASCII kept, ``<`` etc. left as data)."""
    return json.dumps(value, ensure_ascii=False, default=str)


def variables_json(snapshot: dict[str, Any]) -> dict[str, Any]:
    """``beakerlike://variables``: each variable's preview fields, plus the snapshot's counters."""
    items = snapshot.get("variables") or {}
    out: dict[str, Any] = {k: v for k, v in snapshot.items() if k not in ("variables", "removed")}
    out["variables"] = {name: (item.get(PREVIEW_MIME) or {"text/plain": item.get("text/plain")})
                        for name, item in items.items()}
    return out


def summary(item: dict[str, Any]) -> str | None:
    """One line describing an ITEM (its ``text/plain``)."""
    text = item.get("text/plain")
    return text if isinstance(text, str) else None
