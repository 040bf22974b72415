"""Streamed ``<name>_response`` contents → MCP progress values (the progress convention).

A response carrying ``progress`` (a number in 0..1) or ``done`` and ``total`` (numbers)
states how far the action is (see docs/protocol.md, "Progress"). Coalesced responses
(``{"batch": [...]}``) count by their last element that states progress.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Longest ``message`` of a progress notification (compact JSON of the response).
MESSAGE_CHARS = 200


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def progress_of(content: Any) -> tuple[float, float | None] | None:
    """``(progress, total)`` stated by one response's content, or ``None``."""
    if not isinstance(content, Mapping):
        return None
    batch = content.get("batch")
    if isinstance(batch, list):
        for item in reversed(batch):
            found = progress_of(item)
            if found is not None:
                return found
        return None
    fraction = _number(content.get("progress"))
    if fraction is not None:
        return min(max(fraction, 0.0), 1.0), 1.0
    done, total = _number(content.get("done")), _number(content.get("total"))
    if done is not None and total is not None and total > 0:
        return min(max(done, 0.0), total), total
    return None


def short_json(content: Any, limit: int = MESSAGE_CHARS) -> str:
    """Compact JSON of ``content``, cut to ``limit`` characters."""
    try:
        text = json.dumps(content, separators=(",", ":"), default=str)
    except (TypeError, ValueError):
        text = "<response>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class ProgressTracker:
    """Turns a request's responses into MCP progress values that only increase.

    Responses that state no progress count as steps (``progress`` = responses so far,
    no ``total``) until one does; a value not above the last one sent is skipped, since
    MCP requires progress to increase with each notification.
    """

    responses: int = 0
    last: float | None = None
    stated: bool = False

    def update(self, content: Any) -> tuple[float, float | None, str] | None:
        """The ``(progress, total, message)`` to notify for one response, or ``None``."""
        self.responses += 1
        found = progress_of(content)
        if found is None:
            if self.stated:
                return None
            found = (float(self.responses), None)
        else:
            self.stated = True
        value, total = found
        if self.last is not None and value <= self.last:
            return None
        self.last = value
        return value, total, short_json(content)
