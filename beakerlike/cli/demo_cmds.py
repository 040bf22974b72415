"""``beakerlike demo`` (a scripted session in the terminal) and ``beakerlike lab`` (JupyterLab + tour notebook)."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console, Group
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from ..preview.items import PREVIEW_MIME
from . import app

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
#: Code objects the panel hides by default; the terminal view hides them too.
_CODE_TYPES = {"module", "function", "builtin_function_or_method", "method", "type"}


def _console() -> Console:
    # Not a terminal (CI, a pipe): plain text, wide enough for the tables.
    if sys.stdout.isatty():
        return Console()
    return Console(width=110, no_color=True, highlight=False, emoji=False)


def demo_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment of a demo kernel: the normal one plus the demo action plugin."""
    from ..demo import PLUGIN

    env = dict(os.environ if base is None else base)
    plugins = [p for p in env.get("BEAKERLIKE_PLUGINS", "").split(",") if p.strip()]
    if PLUGIN not in plugins:
        plugins.append(PLUGIN)
    env["BEAKERLIKE_PLUGINS"] = ",".join(plugins)
    return env


class VariablesView:
    """The terminal's copy of the preview panel: applies ``preview`` updates, renders a table."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.seq = -1
        self.added: set[str] = set()
        self.changed: set[str] = set()
        self.removed: list[str] = []

    def apply(self, variables: dict[str, Any], removed: list[str], seq: int, full: bool) -> None:
        """Merge one update (the snapshot or a cell's ``preview`` message)."""
        fresh = {name: _preview(name, item) for name, item in variables.items()}
        self.added = set() if full else {n for n in fresh if n not in self.items}
        self.changed = set() if full else {n for n in fresh if n in self.items}
        if full:
            self.items = {}
        self.items.update(fresh)
        self.removed = [n for n in removed if n in self.items]
        for name in removed:
            self.items.pop(name, None)
        self.seq = seq

    def render(self) -> Table:
        """The panel as a rich table: new/changed rows marked, removed names listed."""
        table = Table(title=f"preview panel (update {self.seq})", title_justify="left", expand=False)
        for col, style in (("", "bold"), ("name", "bold"), ("type", "dim"), ("size", ""), ("summary", "")):
            table.add_column(col, style=style, overflow="ellipsis", no_wrap=True,
                             max_width=50 if col == "summary" else None)
        for name in sorted(self.items):
            item = self.items[name]
            if item.get("type") in _CODE_TYPES:
                continue
            mark = "+" if name in self.added else "~" if name in self.changed else ""
            status = item.get("status", "ok")
            summary = item.get("summary", "") if status == "ok" else f"could not preview: {item.get('error') or status}"
            mark_text = Text(mark, style="green" if mark == "+" else "yellow")
            table.add_row(mark_text, name, item.get("type", ""), _size(item), Text(summary))
        for name in self.removed:
            table.add_row(Text("-", style="red"), Text(name, style="strike"), "", "", Text("(deleted)", style="red"))
        return table


def _preview(name: str, item: Any) -> dict[str, Any]:
    preview = item.get(PREVIEW_MIME) if isinstance(item, dict) else None
    if isinstance(preview, dict):
        return dict(preview)
    return {"name": name, "summary": str(item.get("text/plain", "")) if isinstance(item, dict) else "", "status": "ok"}


def _size(item: dict[str, Any]) -> str:
    n = item.get("length")
    if item.get("kind") == "text" and n is not None:
        return f"{n} chars"
    if item.get("kind") == "container" and n is not None:
        return f"{n} items"
    shape = item.get("shape")
    if shape:
        return " × ".join(str(s) for s in shape)
    return "" if n is None else str(n)


def _outputs(iopub: list[dict[str, Any]]) -> list[Any]:
    parts: list[Any] = []
    for msg in iopub:
        kind, content = msg["header"]["msg_type"], msg["content"]
        if kind == "stream":
            parts.append(Text(content.get("text", "").rstrip("\n")))
        elif kind in ("execute_result", "display_data"):
            parts.append(Text(str(content.get("data", {}).get("text/plain", "")).rstrip("\n")))
        elif kind == "error":
            parts.append(Text(_ANSI.sub("", "\n".join(content.get("traceback", []))) or content.get("evalue", ""),
                              style="red"))
    return parts


def _preview_messages(iopub: list[dict[str, Any]]) -> list[tuple[dict[str, Any], list[str], int, bool]]:
    found = []
    for msg in iopub:
        if msg["header"]["msg_type"] != "preview":
            continue
        meta = (msg.get("metadata") or {}).get("beakerlike", {})
        removed = list((meta.get("removed") or {}).get("variables", []))
        found.append((msg["content"].get("variables", {}), removed, int(meta.get("seq", -1)),
                      bool(meta.get("full", False))))
    return found


async def run_demo(console: Console, delay: float, timeout: float = 60) -> None:
    """Start a demo kernel and play :data:`beakerlike.demo.STEPS`, printing each step."""
    from ..client import KernelClient
    from ..kernelspec import install, is_installed

    if not is_installed():
        where = install()
        console.print(f"Installed the beakerlike kernelspec in {where}")
    console.rule("beakerlike demo")
    started = time.monotonic()
    with tempfile.TemporaryFile() as kernel_log:
        try:
            with _stderr_to(kernel_log):  # the kernel process inherits it: its log stays out of the demo
                kernel = await KernelClient.start(env=demo_env())
            async with kernel:
                await _play(console, kernel, timeout, delay)
        except BaseException:
            kernel_log.seek(0)
            tail = kernel_log.read()[-3000:].decode(errors="replace").strip()
            if tail:
                console.print(Panel(Text(tail), title="kernel log", title_align="left"))
            raise
    console.rule(f"Demo finished in {time.monotonic() - started:.1f} s")
    console.print("Next: [bold]beakerlike lab[/] opens JupyterLab with the live PreviewPanel and this session "
                  "as a notebook.")


@contextlib.contextmanager
def _stderr_to(file: Any) -> Iterator[None]:
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        os.dup2(file.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


async def _play(console: Console, kernel: Any, timeout: float, delay: float) -> None:
    """Play the steps; raises :class:`DemoError` at the end if a cell failed."""
    from ..demo import STEPS

    failed: list[int] = []
    info = await kernel.info()
    context = (info.get("context") or {}).get("name", "?")
    console.print(f"Started a beakerlike kernel (context [bold]{context}[/], "
                  f"{len(info.get('actions', {}))} actions: {', '.join(sorted(info.get('actions', {})))})")
    for err in info.get("plugin_errors", []):
        console.print(f"[red]plugin error[/] {err['plugin']}: {err['error']}")
    snapshot = await kernel.call("preview_watch", timeout=timeout)
    view = VariablesView()
    view.apply(snapshot.get("variables", {}), snapshot.get("removed", []), snapshot.get("seq", 0), True)
    console.print("Watching previews: after each cell the kernel sends what changed.\n")

    for number, step in enumerate(STEPS, start=1):
        await asyncio.sleep(delay)
        console.rule(f"Step {number}/{len(STEPS)}: {step.title}", align="left")
        if step.action is not None:
            await _run_action(console, kernel, step.action, step.payload or {}, timeout)
            continue
        console.print(Panel(Syntax(step.code, "python", theme="ansi_dark", background_color="default"),
                            title=f"In [{number}]", title_align="left", expand=False))
        ex = await kernel.execute(step.code, timeout=timeout)
        outputs = _outputs(ex.iopub)
        status = ex.content.get("status")
        if outputs:
            console.print(Panel(Group(*outputs), title=f"Out [{number}]", title_align="left", expand=False))
        if status != "ok":
            failed.append(number)
            console.print(f"[red]cell failed: {ex.content.get('ename')}: {ex.content.get('evalue')}[/]")
        previews = _preview_messages(ex.iopub)
        for variables, removed, seq, full in previews:
            view.apply(variables, removed, seq, full)
        if not previews:
            view.apply({}, [], view.seq, False)
        shown = {n for n, item in view.items.items() if item.get("type") not in _CODE_TYPES}
        console.print(_change_line(sorted(view.added & shown), sorted(view.changed & shown), view.removed))
        console.print(view.render())
        for name in sorted(view.added | view.changed):
            table = _rows_table(name, view.items[name])
            if table is not None:
                console.print(table)
    if failed:
        raise DemoError(f"step(s) {', '.join(map(str, failed))} failed")


class DemoError(RuntimeError):
    """A step of the demo did not work."""


def _rows_table(name: str, item: dict[str, Any]) -> Table | None:
    """The first rows the engine put in a table/array preview, as the panel shows them."""
    rows, columns = item.get("rows"), item.get("columns")
    if item.get("kind") not in ("table", "array") or not rows or not columns:
        return None
    table = Table(title=f"{name}: first rows", title_justify="left")
    index = item.get("index")
    if index is not None:
        table.add_column("", style="dim")
    for col in columns:
        table.add_column(str(col), justify="right")
    for i, row in enumerate(rows[:5]):
        cells = [repr(float(f"{c:.12g}")) if isinstance(c, float) else str(c) for c in row]
        table.add_row(*([str(index[i])] if index is not None and i < len(index) else []), *cells)
    return table


def _change_line(added: list[str], changed: list[str], removed: list[str]) -> Text:
    parts = []
    if added:
        parts.append(f"added {', '.join(added)}")
    if changed:
        parts.append(f"changed {', '.join(changed)}")
    if removed:
        parts.append(f"removed {', '.join(removed)}")
    return Text("preview: " + ("; ".join(parts) if parts else "nothing changed"), style="cyan")


async def _run_action(console: Console, kernel: Any, name: str, payload: dict[str, Any], timeout: float) -> None:
    args = " ".join(f"{k}={v}" for k, v in payload.items())
    console.print(Panel(Text(f"{name}_request  {args}".rstrip()), title="Action call (from the client)",
                        title_align="left", expand=False))

    def on_response(msg: dict[str, Any]) -> None:
        content = msg["content"]
        progress = float(content.get("progress", 0.0))
        filled = round(progress * 20)
        bar = "█" * filled + "░" * (20 - filled)
        console.print(f"  {msg['header']['msg_type']}: epoch {content.get('epoch')}/{content.get('epochs')} "
                      f"{bar} {progress:4.0%}  loss {content.get('loss')}")

    result = await kernel.call(name, payload, on_response=on_response, timeout=timeout)
    console.print(f"  {name}_reply: ok, return = {result}")


@app.command()
def demo(
    delay: Annotated[float | None, typer.Option(
        help="Seconds to pause between steps (default: 1.5 in a terminal, 0 otherwise).")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each step.")] = 60,
) -> None:
    """Run a short scripted session in a real kernel and show each cell, its output and the preview panel."""
    console = _console()
    if delay is None:
        delay = 1.5 if sys.stdout.isatty() else 0.0
    if delay < 0:
        console.print("[red]error:[/] --delay must be >= 0")
        raise typer.Exit(2)
    missing = [m for m in ("pandas",) if importlib.util.find_spec(m) is None]
    if missing:
        console.print(f"[red]error:[/] the demo needs {', '.join(missing)}: pip install 'beakerlike[data]'")
        raise typer.Exit(1)
    try:
        asyncio.run(run_demo(console, delay, timeout))
    except KeyboardInterrupt:
        console.print("interrupted")
        raise typer.Exit(130) from None
    except Exception as exc:
        console.print(f"[red]demo failed:[/] {type(exc).__name__}: {exc}")
        raise typer.Exit(1) from None


@app.command()
def lab(
    directory: Annotated[Path, typer.Option("--dir", help="Working directory for the example notebook.")] = Path(
        "beakerlike-lab"),
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Do not open a browser.")] = False,
    extra: Annotated[list[str] | None, typer.Argument(help="Extra arguments for `jupyter lab`.")] = None,
) -> None:
    """Install the kernelspec and open JupyterLab on the example notebook (beakerlike-tour.ipynb)."""
    from ..demo import tour_notebook_json
    from ..kernelspec import install, is_installed

    console = _console()
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        console.print("[red]JupyterLab is not installed.[/] Install it with: pip install 'beakerlike[browser,panel]'")
        raise typer.Exit(1) from None
    try:
        import anywidget  # noqa: F401
    except ImportError:
        console.print("[red]anywidget is not installed (the panel needs it).[/] pip install 'beakerlike[panel]'")
        raise typer.Exit(1) from None
    if not is_installed():
        console.print(f"Installed the beakerlike kernelspec in {install()}")
    directory.mkdir(parents=True, exist_ok=True)
    notebook = directory / "beakerlike-tour.ipynb"
    if not notebook.exists():
        notebook.write_text(tour_notebook_json())
        console.print(f"Wrote {notebook}")
    args = [sys.executable, "-m", "jupyter", "lab", notebook.name, *(["--no-browser"] if no_browser else []),
            *(extra or [])]
    console.print(f"Starting JupyterLab in {directory.resolve()} (Ctrl+C to stop)")
    if shutil.which("jupyter") is None and not (Path(sys.executable).parent / "jupyter").exists():
        console.print("[yellow]note:[/] the `jupyter` script is not on PATH; using the current Python")
    try:
        code = subprocess.call(args, cwd=directory, env=demo_env())
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)
