"""Plugin commands: ``beakerlike plugins`` lists them, ``beakerlike new plugin`` creates one."""

from __future__ import annotations

import contextlib
import json
import keyword
import re
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from . import app
from .output import cell
from .output import console as _make_console

console = _make_console()
err_console = _make_console(stderr=True)

#: ``beakerlike new ...``; other command modules may add their own ``new`` commands to it.
new_app = typer.Typer(help="Create a new project from a template.", no_args_is_help=True)
app.add_typer(new_app, name="new")

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
_NAME_RE = re.compile(r"^[a-z][a-z0-9]*([_-][a-z0-9]+)*$")


def plugin_listing(hook: str | None = None) -> list[dict[str, Any]]:
    """Load plugins in-process as the kernel does and describe each one.

    Anything a plugin prints while loading goes to stderr, so JSON output stays clean.
    """
    from ..plugins import PluginHost

    with contextlib.redirect_stdout(sys.stderr):
        host = PluginHost().load()
    plugins = host.describe()
    if hook:
        plugins = [p for p in plugins if hook in p["hooks"]]
    return plugins


@app.command("plugins")
def plugins_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    hook: Annotated[str | None, typer.Option("--hook", help="Only plugins implementing this hook.")] = None,
) -> None:
    """List installed plugins: version, origin, hooks, actions, and errors of those that failed.

    Plugins load the way a new kernel loads them (honouring BEAKERLIKE_PLUGINS,
    BEAKERLIKE_BLOCK_PLUGINS and BEAKERLIKE_DISABLE_PLUGIN_AUTOLOAD); no kernel is started.
    """
    plugins = plugin_listing(hook)
    if as_json:
        print(json.dumps(plugins, indent=2))
        return
    table = Table(title="beakerlike plugins")
    for column in ("plugin", "version", "source", "hooks", "adds", "status"):
        table.add_column(column)
    for p in plugins:
        adds = [*p["actions"], *(f"context:{c}" for c in p["contexts"]), *(f"previewer:{v}" for v in p["previewers"])]
        if p["blocked"]:
            status = cell("blocked")
            status.stylize("yellow")
        elif p["errors"]:
            status = cell(("failed: " if not p["loaded"] else "error: ") + "; ".join(p["errors"]))
            status.stylize("red")
        else:
            status = cell("ok")
            status.stylize("green")
        table.add_row(cell(p["name"]), cell(p["version"] or ""), cell(p["source"]), cell(", ".join(p["hooks"])),
                      cell(", ".join(adds)), status)
    console.print(table)


def plugin_names(name: str) -> dict[str, str]:
    """Template variables for plugin ``name``: ``hello`` -> dist ``beakerlike-hello``, module ``beakerlike_hello``.

    Raises ``ValueError`` for a name that cannot become a package and an action.
    """
    if not _NAME_RE.match(name):
        raise ValueError(
            f"invalid plugin name {name!r}: use lowercase letters, digits, '-' or '_', starting with a letter"
        )
    action = name.replace("-", "_")
    if keyword.iskeyword(action):
        raise ValueError(f"invalid plugin name {name!r}: {action!r} is a Python keyword")
    if action.endswith(("_request", "_reply", "_response")):
        raise ValueError(f"invalid plugin name {name!r}: action names must not end in _request/_reply/_response")
    from .._version import __version__

    bare = action[len("beakerlike_"):] if action.startswith("beakerlike_") else action
    return {
        "name": name,
        "action": action,
        "module": f"beakerlike_{bare}",
        "dist": f"beakerlike-{bare.replace('_', '-')}",
        "beakerlike_version": __version__,
    }


def render(text: str, variables: dict[str, str]) -> str:
    """Replace ``{{key}}`` placeholders."""
    for key, value in variables.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def create_plugin(name: str, directory: Path | None = None, template: str = "plugin") -> Path:
    """Write a pip-installable plugin package for ``name`` and return its directory.

    ``directory`` defaults to ``./<name>``; it must not exist or must be empty.
    ``template`` is ``plugin`` (one action) or ``context`` (a context with a setup
    model, a previewer for its own type and a context action).
    """
    variables = plugin_names(name)
    target = Path(directory) if directory is not None else Path.cwd() / name
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise FileExistsError(f"{target} already exists and is not an empty directory")
    source = TEMPLATES / template
    if not source.is_dir():
        raise ValueError(f"no template named {template!r}")
    for src in sorted(source.rglob("*.tmpl")):
        rel = render(str(src.relative_to(source))[: -len(".tmpl")], variables)
        if rel == "gitignore":
            rel = ".gitignore"
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(render(src.read_text(encoding="utf-8"), variables), encoding="utf-8")
    return target


@new_app.command("plugin")
def new_plugin(
    name: Annotated[str, typer.Argument(help="Plugin name, e.g. hello (action hello, package beakerlike_hello).")],
    directory: Annotated[Path | None, typer.Option("--dir", help="Where to create it (default: ./NAME).")] = None,
) -> None:
    """Create a plugin package with one example action and one test, ready for `pip install -e`."""
    try:
        target = create_plugin(name, directory)
    except (ValueError, FileExistsError) as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    variables = plugin_names(name)
    console.print(f"Created plugin [bold]{variables['dist']}[/] in {target}")
    console.print(f"  pip install -e {target}\n  pytest {target}\n  beakerlike call {variables['action']}")


@new_app.command("context")
def new_context(
    name: Annotated[str, typer.Argument(help="Context name, e.g. rain (package beakerlike_rain).")],
    directory: Annotated[Path | None, typer.Option("--dir", help="Where to create it (default: ./NAME).")] = None,
) -> None:
    """Create a context package: setup model, previewer for its own type, a context action, passing tests."""
    try:
        target = create_plugin(name, directory, template="context")
    except (ValueError, FileExistsError) as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    variables = plugin_names(name)
    console.print(f"Created context [bold]{variables['name']}[/] (package {variables['dist']}) in {target}")
    console.print(f"  pip install -e {target}\n  pytest {target}\n"
                  f"  beakerlike call context_setup context={variables['name']}")
