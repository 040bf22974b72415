"""Commands that talk to kernels: ``install``, ``kernel``, ``actions``, ``call``."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from . import app
from .output import cell, first_line, schema_type
from .output import console as _make_console

console = _make_console()
err_console = _make_console(stderr=True)


def kernel_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment of a kernel the CLI starts: no TCP encryption warning (it listens on loopback)."""
    from ..kernelapp import ENV_QUIET_LOOPBACK

    return {**(os.environ if base is None else base), ENV_QUIET_LOOPBACK: "1"}


@app.command()
def install(
    user: Annotated[bool, typer.Option("--user", help="Install for the current user.")] = False,
    sys_prefix: Annotated[bool, typer.Option("--sys-prefix", help="Install into sys.prefix (default).")] = False,
    prefix: Annotated[str | None, typer.Option("--prefix", help="Install under this prefix.")] = None,
    enterprise_gateway: Annotated[str | None, typer.Option(
        "--enterprise-gateway", metavar="PROXY",
        help="Install a kernelspec for Enterprise Gateway's process proxy: distributed, kubernetes, docker, "
             "docker-swarm (see docs/deploy.md).")] = None,
    image: Annotated[str | None, typer.Option("--image", help="Kernel image (container proxies).")] = None,
    remote_hosts: Annotated[str | None, typer.Option("--remote-hosts", help="Hosts (distributed proxy).")] = None,
    eg_scripts: Annotated[str | None, typer.Option(
        "--eg-scripts", help="EG's kernelspec scripts/ dir to copy in (container proxies).")] = None,
) -> None:
    """Install the `beakerlike` kernelspec so Jupyter frontends (or Enterprise Gateway) can start it."""
    from ..kernelspec import install as do_install
    from ..kernelspec import install_enterprise_gateway

    if sum([user, sys_prefix, prefix is not None]) > 1:
        err_console.print("[red]error:[/] choose at most one of --user, --sys-prefix, --prefix")
        raise typer.Exit(2)
    if enterprise_gateway is None:
        where = do_install(user=user, prefix=prefix)
        console.print(f"Installed kernelspec [bold]beakerlike[/] in {where}")
        from ..serverext import install_server_config

        # What a wheel install ships as shared data (editable installs skip it): the server extension.
        console.print(f"Enabled the jupyter_server extension in {install_server_config(user=user, prefix=prefix)}")
        return
    try:
        where = install_enterprise_gateway(enterprise_gateway, user=user, prefix=prefix, image=image,
                                           remote_hosts=remote_hosts, eg_scripts=eg_scripts)
    except (ValueError, FileNotFoundError) as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    console.print(f"Installed Enterprise Gateway kernelspec in {where}")


def parse_payload(payload: str | None, pairs: list[str]) -> dict[str, Any]:
    """Build a request payload from ``--payload JSON`` and ``key=value`` pairs.

    Values of pairs are parsed as JSON when they parse (``n=3`` gives an int),
    else kept as strings. Raises ``ValueError`` with a readable message.
    """
    content: dict[str, Any] = {}
    if payload:
        try:
            content = json.loads(payload)
        except json.JSONDecodeError as exc:
            raise ValueError(f"--payload is not valid JSON: {exc}") from None
        if not isinstance(content, dict):
            raise ValueError("--payload must be a JSON object")
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"expected key=value, got {pair!r}")
        try:
            content[key] = json.loads(value)
        except json.JSONDecodeError:
            content[key] = value
    return content


async def _with_kernel(existing: str | None, fn: Any) -> Any:
    from ..client import KernelClient
    from ..kernelspec import is_installed

    if existing:
        kernel = await KernelClient.connect(existing)
        try:
            return await fn(kernel)
        finally:
            await kernel.close(shutdown=False)
    if not is_installed():
        from ..kernelspec import install as do_install

        do_install()
    async with await KernelClient.start(env=kernel_env()) as kernel:
        return await fn(kernel)


@app.command("kernel")
def kernel_cmd(
    connection_file: Annotated[Path | None, typer.Option(
        "--connection-file", "-f", help="Where to write the connection file (default: Jupyter's runtime dir).")] = None,
) -> None:
    """Start a standalone beakerlike kernel, print its connection file, run until Ctrl+C.

    Other commands reach it with `--existing FILE` (`beakerlike call --existing FILE NAME`),
    as do `jupyter console --existing FILE` and `KernelClient.connect(FILE)`. The file is
    written before its path is printed.
    """
    import signal
    import time

    from jupyter_client import KernelManager

    from ..kernelspec import KERNEL_NAME, install, is_installed

    if not is_installed():
        install()
    manager = KernelManager(kernel_name=KERNEL_NAME)
    if connection_file is not None:
        manager.connection_file = str(connection_file.resolve())
    manager.start_kernel(env=kernel_env())
    print(manager.connection_file, flush=True)
    err_console.print(f"beakerlike kernel running (pid {manager.provisioner.pid if manager.provisioner else '?'}); "
                      f"connect with --existing {manager.connection_file}; Ctrl+C stops it")
    stop = {"now": False}

    def request_stop(signum: int, frame: Any) -> None:
        stop["now"] = True

    previous = signal.signal(signal.SIGTERM, request_stop)
    try:
        while not stop["now"] and manager.is_alive():
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        if manager.is_alive():
            manager.shutdown_kernel(now=False)
        manager.cleanup_resources()


@app.command()
def actions(
    existing: Annotated[str | None, typer.Option("--existing", help="Connection file of a running kernel.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the actions a kernel offers, with their docs and payload schema."""

    async def run(kernel: Any) -> Any:
        return await kernel.info()

    info = asyncio.run(_with_kernel(existing, run))
    if as_json:
        print(json.dumps(info["actions"], indent=2))
        return
    table = Table("action", "payload", "docs", title="beakerlike actions")
    for name, spec in info["actions"].items():
        props = spec["schema"].get("properties", {})
        required = set(spec["schema"].get("required", []))
        fields = ", ".join(f"{k}{'' if k in required else '?'}: {schema_type(v)}" for k, v in props.items())
        table.add_row(cell(name), cell(fields), cell(first_line(spec["docs"])))
    console.print(table)
    for err in info.get("plugin_errors", []):
        err_console.print(f"[yellow]plugin error[/] {err['plugin']} ({err['phase']}): {err['error']}")


@app.command()
def call(
    name: Annotated[str, typer.Argument(help="Action name, e.g. save_var.")],
    pairs: Annotated[list[str] | None, typer.Argument(help="Payload fields as key=value.")] = None,
    payload: Annotated[str | None, typer.Option("--payload", help="Payload as a JSON object.")] = None,
    existing: Annotated[str | None, typer.Option("--existing", help="Connection file of a running kernel.")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the reply.")] = 600,
    exec_code: Annotated[list[str] | None, typer.Option(
        "--exec", help="Python code to run in the kernel first (repeatable), e.g. --exec 'df = make()'.")] = None,
) -> None:
    """Call an action, show its streamed responses live, print its return value.

    With `--exec CODE` the code runs as a cell first (its output goes to stderr);
    a failing cell stops before the call.
    """
    from ..client import ActionError

    try:
        content = parse_payload(payload, pairs or [])
    except ValueError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None

    def show(msg: dict[str, Any]) -> None:
        console.print(f"[cyan]{msg['header']['msg_type']}[/]", json.dumps(msg["content"]))

    async def run(kernel: Any) -> Any:
        kernel.on_iopub = lambda msg: None  # other requests' output is not ours to keep
        for code in exec_code or []:
            await _run_cell(kernel, code, timeout)
        return await kernel.call(name, content, timeout=timeout, on_response=show)

    try:
        result = asyncio.run(_with_kernel(existing, run))
    except ActionError as exc:
        err_console.print(f"[red]{exc.status}[/] {exc.ename}: {exc.evalue}")
        for e in exc.errors:
            err_console.print(f"  - {'.'.join(map(str, e['loc'])) or '<payload>'}: {e['msg']}")
        if exc.traceback:
            err_console.print("".join(exc.traceback).rstrip())
        raise typer.Exit(1) from None
    except TimeoutError:
        err_console.print(f"[red]error:[/] no reply from {name!r} within {timeout:g} s")
        raise typer.Exit(1) from None
    except FileNotFoundError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    except CellError as exc:
        err_console.print(f"[red]--exec failed:[/] {exc}")
        raise typer.Exit(1) from None
    print(json.dumps(result, indent=2))
    sys.stdout.flush()


class CellError(RuntimeError):
    """Code given with ``--exec`` raised in the kernel."""


async def _run_cell(kernel: Any, code: str, timeout: float) -> None:
    ex = await kernel.execute(code, timeout=timeout)
    for msg in ex.iopub:
        kind, body = msg["header"]["msg_type"], msg["content"]
        if kind == "stream":
            sys.stderr.write(body.get("text", ""))
        elif kind in ("execute_result", "display_data"):
            sys.stderr.write(str(body.get("data", {}).get("text/plain", "")) + "\n")
    if ex.content.get("status") != "ok":
        raise CellError(f"{ex.content.get('ename')}: {ex.content.get('evalue')}")
