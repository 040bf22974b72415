"""``beakerlike schema``: export the JSON Schemas of every beakerlike message."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from . import app


@app.command()
def schema(
    out: Annotated[Path | None, typer.Option("--out", help="Write one NAME.json per message into this directory "
                                                           "(stale files there are removed).")] = None,
    name: Annotated[str | None, typer.Argument(help="Print one schema, e.g. reply or item.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="List the schema names as JSON.")] = False,
) -> None:
    """Export the JSON Schemas of beakerlike messages (generated from beakerlike.messages)."""
    from ..messages import schemas, write_schemas

    if out is not None:
        for path in write_schemas(out):
            print(path)
        return
    found = schemas()
    if name is None:
        print(json.dumps(list(found), indent=2) if as_json else "\n".join(found))
        return
    if name not in found:
        typer.echo(f"error: no schema named {name!r}; available: {', '.join(found)}", err=True)
        raise typer.Exit(2)
    print(json.dumps(found[name], indent=2, sort_keys=True))
