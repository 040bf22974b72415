"""The beakerlike kernel: IPython's kernel plus ``<action>_request`` handling.

Standard Jupyter messages go through ipykernel untouched. Any other
``*_request`` on the shell channel is taken here *before* ipykernel's per-shell
lock, so actions run concurrently with cells and with each other, and every
one of them ends in exactly one ``*_reply`` (see ``docs/protocol.md``).
"""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
from contextvars import copy_context
from dataclasses import dataclass
from typing import Any

import anyio
from ipykernel.ipkernel import IPythonKernel

from . import protocol
from ._shellpipes import unbound_shell_pipes
from ._version import __version__
from .actions import Action
from .comm import CommTransport
from .dispatch import run_action, unknown_action_reply
from .plugins import PluginHost
from .request import Request


@dataclass
class RunningAction:
    """An action in flight, so interrupts and shutdown can cancel it."""

    name: str
    msg_id: str
    scope: anyio.CancelScope
    loop: asyncio.AbstractEventLoop

    reason: str = "interrupted"

    def cancel(self, reason: str) -> None:
        """Cancel from any thread; the action replies ``aborted``."""
        self.reason = reason
        try:
            self.loop.call_soon_threadsafe(self.scope.cancel)
        except RuntimeError:  # loop already closed
            pass


def _flush_output() -> None:
    """Publish buffered ``print`` output before the idle status, without blocking the loop.

    ipykernel's ``OutStream.flush()`` waits for a round trip to the IOPub thread,
    stalling every other action on the loop. ``_flush()`` here packs the buffered
    text and queues its send on the IOPub thread at once, so it still goes out
    before the ``idle`` we queue next (that thread sends in FIFO order).
    """
    for out in (sys.stdout, sys.stderr):
        if out is None:
            continue
        if getattr(out, "pub_thread", None) is not None and hasattr(out, "_flush"):
            if getattr(out, "_flush_pending", True):
                out._flush()
        else:
            out.flush()


class BeakerlikeKernel(IPythonKernel):
    """An IPython kernel that answers plugin-defined ``<action>_request`` messages."""

    implementation = "beakerlike"
    implementation_version = __version__
    banner = f"beakerlike {__version__}: IPython kernel with plugin actions"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._standard_shell_types = frozenset(self.shell_handlers)
        self.running: dict[str, RunningAction] = {}
        # Reentrant: the SIGINT handler takes it on the main thread, maybe while _run holds it.
        self._running_lock = threading.RLock()
        self._serial_locks: dict[int, anyio.Lock] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.host = PluginHost().load()
        for err in self.host.errors:
            self.log.error("beakerlike plugin %s failed (%s): %s", err.plugin, err.phase, err.error)
        if self.shell is not None:
            self.shell.events.register("pre_run_cell", self._before_execute)
            self.shell.events.register("post_run_cell", self._after_execute)
        self.host.call_each("kernel_started", kernel=self)
        self.comm_transport = CommTransport(self)  # the same protocol over a comm (docs/protocol.md)

    # -- discovery -------------------------------------------------------------
    @property
    def kernel_info(self) -> dict[str, Any]:  # type: ignore[override]
        """``kernel_info_reply`` content, advertising beakerlike (JEP 92)."""
        info = dict(super().kernel_info)
        info["supported_features"] = [*info.get("supported_features", []), protocol.FEATURE]
        info["beakerlike"] = {"version": __version__, "protocol_version": protocol.PROTOCOL_VERSION}
        return info

    def resolve_action(self, name: str) -> Action | None:
        """The action a ``<name>_request`` calls, or ``None``."""
        contexts = getattr(self, "contexts", None)
        if contexts is not None:
            found = contexts.resolve_action(name)
            if found is not None:
                return found
        return self.host.actions.get(name)

    def callable_actions(self) -> dict[str, Action]:
        """All actions callable now, by name (plugin actions plus the active context's)."""
        actions = dict(self.host.actions)
        contexts = getattr(self, "contexts", None)
        if contexts is not None:
            actions.update(contexts.active_actions())
        return actions

    # -- shell routing ---------------------------------------------------------
    async def shell_main(self, subshell_id: str | None, msg: Any) -> None:  # type: ignore[override]
        """Route ``*_request`` messages ipykernel does not know to the action runner."""
        msg_type = self._peek_msg_type(msg)
        if (
            msg_type is not None
            and msg_type not in self._standard_shell_types
            and protocol.action_of(msg_type) is not None
        ):
            task = asyncio.create_task(
                self._handle_action_message(subshell_id, msg), context=copy_context()
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        if msg_type == "comm_msg" and self.comm_transport.take(msg):  # a request on a beakerlike comm
            return
        await super().shell_main(subshell_id, msg)

    def _peek_msg_type(self, msg: Any) -> str | None:
        # Unverified peek at the header; the full deserialize below verifies the HMAC.
        if self.session is None or (len(msg) == 1 and getattr(msg[0], "buffer", b"") == b"stop aborting"):
            return None
        try:
            _, frames = self.session.feed_identities(msg, copy=False)
            header = self.session.unpack(frames[1].bytes if hasattr(frames[1], "bytes") else frames[1])
            return header.get("msg_type")
        except Exception:
            return None

    def _reply_stream(self, subshell_id: str | None) -> Any:
        if self._supports_kernel_subshells:
            return self.shell_channel_thread.manager.get_subshell_to_shell_channel_socket(subshell_id)
        return self.shell_stream

    async def _handle_action_message(self, subshell_id: str | None, raw: Any) -> None:
        session = self.session
        assert session is not None
        idents, frames = session.feed_identities(raw, copy=False)
        try:
            parent = session.deserialize(frames, content=True, copy=False)
        except Exception:
            # Bad signature or malformed frames: nothing trustworthy to reply to.
            self.log.error("Invalid action message", exc_info=True)
            return
        stream = self._reply_stream(subshell_id)
        msg_type = parent["header"]["msg_type"]
        name = protocol.action_of(msg_type) or msg_type
        # Output of this task (print, display) is parented to this request only.
        super(IPythonKernel, self).set_parent(idents, parent, channel="shell")
        display_pub = getattr(self.shell, "display_pub", None)
        for out in (sys.stdout, sys.stderr, display_pub):
            if hasattr(out, "set_thread_parent"):
                out.set_thread_parent(parent)
        self._publish_status("busy", "shell", parent=parent)
        try:
            content = await self._run(name, parent)
        except Exception as exc:  # last line of defence: still exactly one reply
            content = protocol.exception_reply(exc)
        except BaseException:  # e.g. the task cancelled at shutdown
            content = protocol.aborted_reply("cancelled")
        _flush_output()
        session.send(stream, protocol.reply_type(name), content, parent, ident=idents)
        self._publish_status("idle", "shell", parent=parent)

    async def _run(self, name: str, parent: dict[str, Any], publish: Any = None) -> dict[str, Any]:
        act = self.resolve_action(name)
        if act is None:
            return unknown_action_reply(name, [
                n for n, a in self.callable_actions().items() if a.scope == "public"
            ])
        request = Request(
            name,
            parent,
            publish=publish or self._publisher(parent),
            namespace=self.shell.user_ns if self.shell is not None else {},
            kernel=self,
            format_display=self._format_display,
            coalesce=act.coalesce,
        )
        scope = anyio.CancelScope()
        msg_id = parent["header"].get("msg_id", "")
        running = RunningAction(name=name, msg_id=msg_id, scope=scope, loop=asyncio.get_running_loop())
        with self._running_lock:
            self.running[msg_id] = running
        try:
            return await run_action(act, request, scope=scope, serial_lock=self._serial_lock(),
                                    reason=lambda: running.reason)
        finally:
            with self._running_lock:
                self.running.pop(msg_id, None)

    def _serial_lock(self) -> anyio.Lock:
        key = threading.get_ident()
        lock = self._serial_locks.get(key)
        if lock is None:
            lock = self._serial_locks[key] = anyio.Lock()
        return lock

    def _publisher(self, parent: dict[str, Any]) -> Any:
        session, iopub = self.session, self.iopub_socket
        topic = self._topic

        def publish(msg_type: str, content: dict[str, Any], buffers: list[bytes] | None = None) -> None:
            session.send(iopub, msg_type, content, parent=parent, ident=topic(msg_type),
                         buffers=buffers)

        return publish

    def _format_display(self, obj: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        data, md = self.shell.display_formatter.format(obj)
        return data, md

    # -- cancellation ----------------------------------------------------------
    def cancel_actions(self, reason: str = "interrupted") -> int:
        """Cancel every running action (they reply ``aborted``); returns how many."""
        with self._running_lock:
            running = list(self.running.values())
        for r in running:
            r.cancel(reason)
        return len(running)

    async def interrupt_request(self, stream: Any, ident: Any, parent: Any) -> None:  # type: ignore[override]
        """Cancel running actions, then interrupt the running cell as ipykernel does."""
        self.cancel_actions("interrupted")
        await super().interrupt_request(stream, ident, parent)

    def _on_sigint(self, signum: int, frame: Any) -> None:
        # SIGINT outside a cell (signal-mode interrupts): cancel actions, keep running.
        self.cancel_actions("interrupted")

    def start(self) -> None:
        """Start the kernel and take SIGINT outside cells for action cancellation."""
        unbound_shell_pipes(self)  # floods must not deadlock the shell threads (see _shellpipes)
        super().start()
        if threading.current_thread() is threading.main_thread():
            try:
                signal.signal(signal.SIGINT, self._on_sigint)
            except ValueError:  # not the main interpreter thread
                pass

    async def shutdown_request(self, stream: Any, ident: Any, parent: Any) -> None:  # type: ignore[override]
        """Cancel running actions and tell plugins before shutting down."""
        self.cancel_actions("shutdown")
        self.host.call_each("kernel_shutdown", kernel=self)
        await super().shutdown_request(stream, ident, parent)

    # -- execution hooks -------------------------------------------------------
    def _before_execute(self, info: Any) -> None:
        self.host.call_each("before_execute", kernel=self, info=info)

    def _after_execute(self, result: Any) -> None:
        self.host.call_each("after_execute", kernel=self, result=result)
