"""One kernel as seen by an MCP server: its tools, calls, cancellation and change events.

The bridge owns a :class:`~beakerlike.client.KernelClient`. It turns ``context_info`` into
tool specs, runs an action for a tool call (progress from its streamed responses,
cancellation by ``cancel_action`` or an interrupt) and watches iopub for what changes the
tool list (a context switch, a kernel restart) or the variables (``preview`` messages).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio

from .. import protocol
from ..client import ActionError, Exchange, KernelClient
from .config import McpConfig
from .progress import ProgressTracker

log = logging.getLogger("beakerlike.mcp")

#: ``(progress, total, message)`` reporter for one tool call.
Report = Callable[[float, "float | None", "str | None"], Awaitable[None]]

#: Traceback lines kept in a tool error (the end of the traceback, where the error is).
TRACEBACK_LINES = 8
#: Characters of printed output kept in a tool result.
OUTPUT_CHARS = 10_000
#: Seconds to wait for a cancelled action's reply.
CANCEL_WAIT = 5.0
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def trim_traceback(lines: list[str], keep: int = TRACEBACK_LINES) -> list[str]:
    """The last ``keep`` non-empty lines of a traceback, without ANSI colours."""
    flat = [ln for chunk in lines for ln in _ANSI.sub("", str(chunk)).splitlines() if ln.strip()]
    return flat[-keep:]


@dataclass
class Outcome:
    """How one request ended: the reply content plus text printed while it ran."""

    content: dict[str, Any]
    stdout: str = ""
    stderr: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """The reply's ``status`` (``ok``, ``error`` or ``aborted``)."""
        return str(self.content.get("status", "error"))


def _collect_output(ex: Exchange) -> tuple[str, str]:
    out: dict[str, list[str]] = {"stdout": [], "stderr": []}
    for msg in ex.of_type("stream"):
        name = msg["content"].get("name", "stdout")
        out.setdefault(name, []).append(str(msg["content"].get("text", "")))
    return "".join(out["stdout"])[-OUTPUT_CHARS:], "".join(out["stderr"])[-OUTPUT_CHARS:]


class KernelBridge:
    """A connected kernel plus what the MCP server needs to know about it.

    Callbacks the server sets: ``on_tools_changed()`` after the exposed actions changed,
    ``on_variables_changed(changed, removed, full)`` after a cell changed variables (while
    anyone watches previews: :meth:`watch_variables`, or another client such as a panel).
    """

    def __init__(self, kernel: KernelClient, config: McpConfig, *, owns_kernel: bool = False) -> None:
        self.kernel = kernel
        self.config = config
        self.owns_kernel = owns_kernel
        self.info: dict[str, Any] = {}
        self.actions: dict[str, dict[str, Any]] = {}
        self.on_tools_changed: Callable[[], Awaitable[None]] | None = None
        self.on_variables_changed: Callable[[list[str], list[str], bool], Awaitable[None]] | None = None
        self.watch_key = f"beakerlike-mcp-{uuid.uuid4().hex[:12]}"
        self._watchers = 0
        self._cancel_action: bool | None = None  # listed in context_info, else unknown until tried
        self._kernel_session: str | None = None  # the kernel process's Session id: new after a restart
        self._events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._pump: asyncio.Task[None] | None = None

    # -- lifecycle -------------------------------------------------------------
    @classmethod
    async def open(
        cls, config: McpConfig, *, existing: str | None = None, kernel_name: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> KernelBridge:
        """Connect to ``existing`` (a connection file) or start a kernel of ``kernel_name``."""
        if existing:
            kernel = await KernelClient.connect(existing)
            owns = False
        else:
            from ..kernelspec import KERNEL_NAME, install, is_installed

            name = kernel_name or KERNEL_NAME
            if name == KERNEL_NAME and not is_installed(KERNEL_NAME):
                install()
            kernel = await KernelClient.start(name, env=env)
            owns = True
        self = cls(kernel, config, owns_kernel=owns)
        try:
            await self.start()
        except BaseException:
            await kernel.close(shutdown=owns)
            raise
        return self

    async def start(self) -> None:
        """Read ``context_info`` and start following iopub."""
        await self.refresh(announce=False)
        self.kernel.on_iopub = self._on_iopub
        self._pump = asyncio.create_task(self._run_pump())

    async def close(self) -> None:
        """Stop following the kernel; shut it down if we started it."""
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(BaseException):
                await self._pump
        self.kernel.on_iopub = None
        if self._watchers and not self.owns_kernel:
            with contextlib.suppress(Exception):
                await self.kernel.call("preview_unwatch", key=self.watch_key, timeout=5)
        await self.kernel.close(shutdown=self.owns_kernel)

    # -- discovery -------------------------------------------------------------
    async def refresh(self, *, announce: bool = True) -> bool:
        """Re-read ``context_info``; returns whether the exposed actions changed.

        A change is announced through ``on_tools_changed`` (unless ``announce`` is false),
        whoever noticed it first: a tool call, a ``tools/list`` or an iopub event.
        """
        outcome = await self.run("context_info_request", {}, timeout=30)
        if outcome.status != "ok":
            raise ActionError("context_info", outcome.content)
        info = outcome.content["return"]
        actions = {n: s for n, s in info.get("actions", {}).items() if self.config.exposes(n, s)}
        changed = actions != self.actions or info.get("context") != self.info.get("context")
        if "cancel_action" in info.get("actions", {}):
            self._cancel_action = True  # listed: cancel one request without interrupting the kernel
        self.info, self.actions = info, actions
        if changed and announce and self.on_tools_changed is not None:
            await self.on_tools_changed()
        return changed

    @property
    def contexts(self) -> dict[str, Any]:
        """Available contexts, by name (``context_info``'s ``contexts``)."""
        return dict(self.info.get("contexts") or {})

    @property
    def context(self) -> str | None:
        """The active context's name."""
        ctx = self.info.get("context")
        return ctx.get("name") if isinstance(ctx, dict) else None

    # -- calls -----------------------------------------------------------------
    async def run(self, msg_type: str, content: Mapping[str, Any], report: Report | None = None,
                  response_type: str | None = None, timeout: float | None = None) -> Outcome:
        """Send one request and wait for its reply and idle.

        Each ``response_type`` message is passed to ``report`` as progress. If the
        caller is cancelled the request is cancelled in the kernel (``cancel_action``,
        else an interrupt) before the cancellation goes on.
        """
        ex = self.kernel.send(msg_type, content)
        msg_id = ex.request["header"]["msg_id"]
        tracker = ProgressTracker()
        try:
            with anyio.fail_after(timeout):
                while not (ex.reply is not None and ex.idle):
                    msg = await ex.queue.get()
                    if report is not None and msg["header"]["msg_type"] == response_type:
                        step = tracker.update(msg["content"])
                        if step is not None:
                            await report(*step)
        except BaseException:
            if ex.reply is None:
                with anyio.CancelScope(shield=True):
                    try:
                        how = await self.cancel(msg_id, ex)
                        log.info("cancelled %s (%s) by %s", msg_type, msg_id, how)
                    except Exception:  # the original error (usually the cancellation) goes on, not this one
                        log.exception("could not cancel %s (%s)", msg_type, msg_id)
            raise
        finally:
            # The client keeps an exchange until someone pops it (call/request do the same).
            self.kernel._pending.pop(msg_id, None)
        assert ex.reply is not None
        self._note_session(ex.reply)
        stdout, stderr = _collect_output(ex)
        outcome = Outcome(ex.content, stdout, stderr)
        results = [m["content"].get("data", {}).get("text/plain") for m in ex.of_type("execute_result")]
        if results and isinstance(results[-1], str):
            outcome.extra["result"] = results[-1][:OUTPUT_CHARS]
        self._note_previews(ex)
        return outcome

    async def call_action(self, name: str, arguments: Mapping[str, Any], report: Report | None = None) -> Outcome:
        """Run the action ``name`` with ``arguments`` as its payload."""
        return await self.run(protocol.request_type(name), arguments, report, protocol.response_type(name))

    async def cancel(self, msg_id: str, ex: Exchange | None = None) -> str:
        """Cancel the running request ``msg_id``; returns how (``cancel_action`` or ``interrupt``).

        ``cancel_action`` stops just that request; an interrupt is the fallback when the
        kernel has no such action or could not cancel it (a handler only an interrupt stops).
        """
        how = "interrupt"
        if self._cancel_action is not False:
            try:
                result = await self.kernel.call("cancel_action", {"msg_id": msg_id}, timeout=CANCEL_WAIT)
                self._cancel_action = True
                if isinstance(result, dict) and result.get("cancelled"):
                    how = "cancel_action"
                elif ex is not None:  # not in flight any more, or not cancellable: give its reply a moment
                    with anyio.move_on_after(0.5):
                        await ex.done.wait()
                    if ex.reply is not None:
                        how = "cancel_action"
            except ActionError as exc:
                if exc.ename not in ("UnknownAction", "ValidationError"):
                    raise
                self._cancel_action = False
            except TimeoutError:
                log.warning("cancel_action did not reply; interrupting the kernel")
        if how == "interrupt":
            await self.kernel.interrupt()
        if ex is not None:
            with anyio.move_on_after(CANCEL_WAIT):
                await ex.done.wait()
        return how

    async def switch_context(self, context: str, context_info: Mapping[str, Any] | None) -> Outcome:
        """Run ``context_setup``; the tool list is refreshed (and announced) on success."""
        payload: dict[str, Any] = {"context": context}
        if context_info is not None:
            payload["context_info"] = dict(context_info)
        outcome = await self.run("context_setup_request", payload)
        if outcome.status == "ok":
            await self.refresh()
        return outcome

    async def execute(self, code: str, timeout: float | None = None) -> Outcome:
        """Run a cell; ``extra["result"]`` holds its ``execute_result`` text, if any."""
        content = {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                   "allow_stdin": False, "stop_on_error": False}
        return await self.run("execute_request", content, timeout=timeout)

    # -- previews --------------------------------------------------------------
    async def snapshot(self) -> dict[str, Any]:
        """``preview_snapshot``'s return: the items a panel sees."""
        return await self.kernel.call("preview_snapshot", timeout=60)

    async def page(self, name: str, offset: int, limit: int, columns: list[str] | None) -> dict[str, Any]:
        """One ``preview_page`` of the variable ``name``."""
        payload: dict[str, Any] = {"path": [name], "offset": offset, "limit": limit}
        if columns is not None:
            payload["columns"] = columns
        return await self.kernel.call("preview_page", payload, timeout=60)

    async def watch_variables(self, on: bool) -> None:
        """Count one more (``on``) or one fewer subscriber; previews are watched while any exist."""
        self._watchers = max(0, self._watchers + (1 if on else -1))
        if on and self._watchers == 1:
            await self.kernel.call("preview_watch", key=self.watch_key, timeout=60)
        elif not on and self._watchers == 0:
            await self.kernel.call("preview_unwatch", key=self.watch_key, timeout=60)

    def _note_previews(self, ex: Exchange) -> None:
        for msg in ex.of_type("preview"):
            self._on_preview(msg)

    def _on_preview(self, msg: dict[str, Any]) -> None:
        meta = (msg.get("metadata") or {}).get("beakerlike") or {}
        changed = list((msg.get("content") or {}).get("variables") or {})
        removed = list(((meta.get("removed") or {}).get("variables")) or [])
        self._events.put_nowait(("variables", (changed, removed, bool(meta.get("full")))))

    # -- iopub -----------------------------------------------------------------
    def _note_session(self, msg: dict[str, Any]) -> None:
        """A message from a new kernel process (a restart, even one whose ``starting`` we missed)."""
        session = msg.get("header", {}).get("session")
        if not session or session == self._kernel_session:
            return
        if self._kernel_session is not None:
            self._events.put_nowait(("restart", None))
        self._kernel_session = session

    def _on_iopub(self, msg: dict[str, Any]) -> None:
        self._note_session(msg)
        kind = msg["header"]["msg_type"]
        if kind == "preview":
            self._on_preview(msg)
        elif kind == "context_setup_response":
            self._events.put_nowait(("tools", None))

    async def _run_pump(self) -> None:
        while True:
            kind, data = await self._events.get()
            try:
                if kind == "variables":
                    if self.on_variables_changed is not None:
                        await self.on_variables_changed(*data)
                elif kind == "restart":
                    await self._after_restart()
                else:
                    await self.refresh()
            except Exception:  # one failed notification must not stop the others
                log.exception("beakerlike mcp: handling a kernel event (%s) failed", kind)

    async def _after_restart(self) -> None:
        """A new kernel process: re-read its actions, re-watch previews, announce both."""
        self._cancel_action = None
        for attempt in range(30):  # the new process may not answer at once
            try:
                await self.refresh(announce=False)
                break
            except (TimeoutError, ActionError):
                if attempt == 29:
                    raise
                await anyio.sleep(1)
        if self._watchers:
            await self.kernel.call("preview_watch", key=self.watch_key, timeout=60)
        if self.on_tools_changed is not None:
            await self.on_tools_changed()
        if self.on_variables_changed is not None:
            await self.on_variables_changed([], [], True)
