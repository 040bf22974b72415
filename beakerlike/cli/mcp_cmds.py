"""``beakerlike mcp``: serve one kernel's actions and variables over the Model Context Protocol."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer

from . import app


@app.command()
def mcp(
    existing: Annotated[str | None, typer.Option("--existing", help="Connection file of a running kernel.")] = None,
    kernel: Annotated[str | None, typer.Option("--kernel", help="Kernelspec to start (default: beakerlike).")] = None,
    transport: Annotated[str, typer.Option("--transport", help="stdio or http (streamable HTTP).")] = "stdio",
    host: Annotated[str, typer.Option("--host", help="Address for --transport http.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port for --transport http.")] = 8765,
    allow: Annotated[list[str] | None, typer.Option(
        "--allow", help="Only expose these actions (names or globs; repeatable; env BEAKERLIKE_MCP_ALLOW).")] = None,
    deny: Annotated[list[str] | None, typer.Option(
        "--deny", help="Never expose these actions (names or globs; repeatable; env BEAKERLIKE_MCP_DENY).")] = None,
    execute_code: Annotated[bool, typer.Option(
        "--execute-code", help="Also offer the execute_code tool: ARBITRARY CODE EXECUTION in the kernel "
                               "(env BEAKERLIKE_MCP_EXECUTE_CODE=1).")] = False,
) -> None:
    """Run an MCP server bound to one kernel: its public actions become tools, its variables resources."""
    try:
        from ..mcp import McpConfig, serve
    except ImportError as exc:
        print(f"error: the MCP server needs the 'mcp' package: pip install 'beakerlike[mcp]' ({exc})",
              file=sys.stderr)
        raise typer.Exit(2) from None
    if existing and kernel:
        print("error: give --existing or --kernel, not both", file=sys.stderr)
        raise typer.Exit(2)
    if transport not in ("stdio", "http"):
        print(f"error: --transport must be stdio or http, not {transport!r}", file=sys.stderr)
        raise typer.Exit(2)
    if existing and not Path(existing).is_file():
        print(f"error: no connection file {existing!r}", file=sys.stderr)
        raise typer.Exit(2)
    if kernel:
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

        try:
            KernelSpecManager().get_kernel_spec(kernel)
        except NoSuchKernel:
            print(f"error: no kernelspec named {kernel!r} (see `jupyter kernelspec list`)", file=sys.stderr)
            raise typer.Exit(2) from None
    config = McpConfig.from_env(allow=allow, deny=deny, execute_code=True if execute_code else None)

    def ready(url: str | None) -> None:
        if url:
            print(f"beakerlike mcp: serving on {url}", file=sys.stderr, flush=True)

    try:
        asyncio.run(serve(config, existing=existing, kernel_name=kernel, transport=transport, host=host, port=port,
                          ready=ready))
    except KeyboardInterrupt:
        pass
    except Exception as exc:  # e.g. the kernel died at startup; task groups wrap it in an ExceptionGroup
        while getattr(exc, "exceptions", None):
            exc = exc.exceptions[0]  # type: ignore[attr-defined]
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        raise typer.Exit(1) from None
