"""Validate beakerlike messages against the committed JSON Schemas (docs/schemas)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from beakerlike.messages import COMM_KERNEL_KEYS, JUPYTER_REQUESTS

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "docs" / "schemas"


class MessageChecker:
    """Knows which schema each received message type must satisfy."""

    def __init__(self, directory: Path = SCHEMA_DIR) -> None:
        self.validators = {
            p.name[: -len(".json")]: Draft202012Validator(json.loads(p.read_text()))
            for p in sorted(directory.glob("*.json"))
        }
        self.checked: dict[str, int] = {}

    def _check(self, stem: str, value: Any, where: str) -> list[str]:
        validator = self.validators.get(stem)
        if validator is None:
            return []
        self.checked[stem] = self.checked.get(stem, 0) + 1
        return [f"{where} does not match {stem}.json at {'/'.join(map(str, e.absolute_path)) or '<root>'}: "
                f"{e.message[:300]}" for e in validator.iter_errors(value)]

    def check(self, msg: dict[str, Any]) -> list[str]:
        """Schema violations of one received message (empty if it conforms or is not ours)."""
        msg_type = msg.get("header", {}).get("msg_type", "")
        content = msg.get("content", {})
        if msg_type == "preview":
            return (self._check("preview.content", content, "preview content")
                    + self._check("preview.metadata", msg.get("metadata", {}), "preview metadata"))
        if msg_type == "comm_msg":
            data = content.get("data")
            if isinstance(data, dict) and len(data) == 1 and set(data) <= COMM_KERNEL_KEYS:  # a beakerlike comm
                return self._check("comm.from_kernel", data, "beakerlike comm_msg")
            return []
        if msg_type == "kernel_info_reply":
            if "beakerlike" not in content:  # a stock kernel (tests compare with one)
                return []
            return self._check("kernel_info_reply.beakerlike", content.get("beakerlike"), msg_type)
        if msg_type.endswith("_reply"):
            name = msg_type[: -len("_reply")]
            if name in JUPYTER_REQUESTS:
                return []
            errors = self._check("reply", content, msg_type)
            if not errors and content.get("status") == "ok":
                errors += self._check(f"{name}_reply.return", content.get("return"), f"{msg_type} return")
            return errors
        if msg_type.endswith("_response"):
            return self._check(msg_type, content, msg_type)
        return []
