"""The ``beakerlike`` command line (typer). Each command group lives in its own module."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="beakerlike",
    help="beakerlike: Jupyter kernel actions and live variable previews.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

def _no_type_after_flags() -> None:
    """Typer prints ``--help <bool>``: flags take no value, so show no type for them."""
    from typer.core import TyperOption

    original = TyperOption.display_type_rich
    if getattr(original, "_flags_fixed", False):
        return

    def display_type_rich(self: TyperOption, ctx: typer.Context) -> str | None:
        return None if self.is_flag else original(self, ctx)

    display_type_rich._flags_fixed = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_no_type_after_flags()

#: Modules that add commands to :data:`app` when imported.
COMMAND_MODULES = [
    "beakerlike.cli.kernel_cmds",
    "beakerlike.cli.plugin_cmds",
    "beakerlike.cli.demo_cmds",
    "beakerlike.cli.schema_cmds",
    "beakerlike.cli.mcp_cmds",
]

for _mod in COMMAND_MODULES:
    try:
        importlib.import_module(_mod)
    except ModuleNotFoundError as _exc:  # a command group not written yet
        if _exc.name != _mod:
            raise


def main() -> None:
    """Entry point of the ``beakerlike`` script."""
    app()
