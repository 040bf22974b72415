"""mkdocs hooks for the beakerlike site (see mkdocs.yml)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _present(entry: Any, docs: Path) -> Any:
    """The nav entry without pages that do not exist yet (None if nothing is left)."""
    if isinstance(entry, str):
        return entry if entry.startswith(("http://", "https://")) or (docs / entry).exists() else None
    if isinstance(entry, dict):
        kept = {k: v for k, v in ((k, _present(v, docs)) for k, v in entry.items()) if v not in (None, [])}
        return kept or None
    if isinstance(entry, list):
        return [e for e in (_present(e, docs) for e in entry) if e is not None]
    return entry


def on_config(config: Any) -> Any:
    """Drop nav entries of pages other contributors have not written yet (the build stays strict)."""
    docs = Path(config["docs_dir"])
    if config.get("nav"):
        config["nav"] = _present(config["nav"], docs)
    return config


SCHEMA_TABLE = "<!-- schema-table"


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Fill the table of schemas in schemas.md from the files themselves (so it cannot go stale)."""
    if SCHEMA_TABLE not in markdown:
        return markdown
    rows = ["| schema | describes |", "|---|---|"]
    for path in sorted((Path(config["docs_dir"]) / "schemas").glob("*.json")):
        description = json.loads(path.read_text()).get("description", "").strip().splitlines()
        rows.append(f"| [`{path.name}`](schemas/{path.name}) | {description[0] if description else ''} |")
    head, _, tail = markdown.partition(SCHEMA_TABLE)
    return head + "\n".join(rows) + "\n" + tail.partition("-->")[2]
