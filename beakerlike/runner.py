"""One runner for action requests, whatever transport carried them.

The kernel takes ``<name>_request`` shell messages on ipykernel's shell-channel thread
and hands them to :meth:`ActionRunner.submit`; a comm transport (or any other) does the
same with its own callbacks, and gets identical semantics: payload validation, one reply
per request, timeouts, ``concurrent=False``, cancellation by ``msg_id``
(:meth:`ActionRunner.cancel`, the ``cancel_action`` built-in) and aborts on interrupt
(:meth:`ActionRunner.cancel_all`).

Where an action runs:

- by default on the **action loop**, an asyncio event loop on its own thread
  (:class:`ActionLoop`), so it is answered while a cell blocks the main thread; a plain
  ``def`` handler runs in a worker thread from there;
- an action declared ``main_thread=True`` runs on the kernel's **main thread**, between
  cells: the transport calls :meth:`ActionRunner.hold` when the request arrives and
  :meth:`ActionRunner.run_held` on the main thread once the running cell has finished
  (the shell transport forwards the message through ipykernel's own queue to keep its
  arrival order with cells). Until then an interrupt or ``cancel_action`` aborts it at once.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio

from . import protocol
from .actions import Action
from .dispatch import run_action, unknown_action_reply
from .fastlane import FastLane
from .request import CURRENT, Publisher, Request

log = logging.getLogger("beakerlike.kernel")


class ActionLoop:
    """An asyncio event loop running on a daemon thread of its own."""

    def __init__(self, name: str = "beakerlike-actions") -> None:
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self._main, name=name, daemon=True)

    def start(self) -> ActionLoop:
        """Start the thread; returns once its loop runs."""
        self.thread.start()
        self._ready.wait()
        return self

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._ready.set)
        try:
            self.loop.run_forever()
        finally:
            self.loop.close()

    def call_soon(self, func: Callable[..., Any], *args: Any) -> None:
        """Run ``func(*args)`` on the loop, from any thread."""
        if threading.get_ident() == self.thread.ident:
            self.loop.call_soon(func, *args)
        else:
            self.loop.call_soon_threadsafe(func, *args)

    def stop(self) -> None:
        """Stop the loop (pending tasks are dropped; the kernel is exiting)."""
        if not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.loop.stop)


@dataclass
class ActionCall:
    """One action request, as any transport hands it to :meth:`ActionRunner.submit`.

    ``message`` is the request as a Jupyter message dict: ``header`` (its ``msg_id`` names the
    request for cancellation and parents its output), ``content`` (the payload; ``bytes`` are
    parsed as JSON here, so a transport need not parse it), ``metadata``, ``buffers``.
    ``send_reply(content)`` is called exactly once with the reply content, from the thread the
    action ran on (or the one that cancelled it); it must be thread-safe. ``publish`` sends iopub
    messages parented to the request (responses, ``stream``, ``display_data``).
    """

    action: str
    message: dict[str, Any]
    send_reply: Callable[[dict[str, Any]], None]
    publish: Publisher
    #: Serial key for ``concurrent=False`` actions (JEP 91 subshell id on the shell transport).
    lane: str | None = None
    #: Parent to install for ``print``/``display`` (ipykernel's ``set_parent``); defaults to ``message``.
    parent: Mapping[str, Any] | None = None

    @property
    def msg_id(self) -> str:
        """The request's ``header.msg_id``."""
        return str(self.message.get("header", {}).get("msg_id", ""))


@dataclass
class _Entry:
    call: ActionCall
    state: str = "queued"  # queued -> running -> done
    reason: str = "interrupted"
    scope: anyio.CancelScope | None = None
    loop: asyncio.AbstractEventLoop | None = None
    main_thread: bool = False
    blocking: bool = False  # a main-thread `def` handler: only SIGINT can stop it
    request: Request | None = None
    action: Action | None = None
    fast: bool = False  # runs in the fast lane (the receiving thread's loop)
    extra: dict[str, Any] = field(default_factory=dict)


class ActionRunner:
    """Runs action requests from any transport; see the module docstring.

    ``kernel`` provides ``resolve_action(name)``, ``callable_actions()``, ``shell`` (for the
    namespace and display formatting) and optionally ``set_parent``-style output parenting
    via :meth:`bind_output`.
    """

    def __init__(self, kernel: Any, loop: ActionLoop, fast_lane: FastLane | None = None) -> None:
        self.kernel = kernel
        self.action_loop = loop
        #: Which actions have earned the fast lane (see :mod:`beakerlike.fastlane`).
        self.fast_lane = fast_lane if fast_lane is not None else FastLane()
        self._lock = threading.RLock()
        self._entries: dict[str, _Entry] = {}
        self._held: collections.deque[_Entry] = collections.deque()
        self._serial_locks: dict[tuple[int, str | None], anyio.Lock] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        #: Installs a request's parent for ``print``/``display`` in the current context (kernel-provided).
        self.bind_output: Callable[[Mapping[str, Any]], None] | None = None

    # -- entry points ----------------------------------------------------------------
    def submit(self, call: ActionCall, fast: Action | None = None) -> None:
        """Run ``call`` on the action loop (from any thread; returns at once).

        ``fast``: the action ``call`` resolves to, which :attr:`fast_lane` allows; it then
        starts on the caller's own running loop (a transport's receiving thread) instead,
        without a thread hand-over.

        A ``main_thread`` action submitted here is queued onto the main thread's loop
        (transports that must keep arrival order with cells use :meth:`hold` instead).
        """
        entry = self._register(call)
        if fast is not None:
            entry.action, entry.fast = fast, True
            self._spawn(entry)
        else:
            self.action_loop.call_soon(self._spawn, entry)

    def hold(self, call: ActionCall) -> None:
        """Register a ``main_thread`` request that will be started by :meth:`run_held` (any thread).

        Held requests are started in the order they were held; until then
        :meth:`cancel`/:meth:`cancel_all` abort them at once.
        """
        entry = self._register(call)
        entry.main_thread = True
        with self._lock:
            self._held.append(entry)

    async def run_held(self) -> None:
        """On the main thread, between cells: run the oldest held request (skipped if aborted)."""
        with self._lock:
            entry = self._held.popleft() if self._held else None
        if entry is not None:
            # Its own context: ipykernel runs every main-shell message in one persistent context.
            await asyncio.get_running_loop().create_task(self._run(entry), context=contextvars.copy_context())

    def cancel(self, msg_id: str, reason: str = "cancelled") -> bool:
        """Cancel the request ``msg_id``: it replies ``aborted`` with ``reason``.

        Returns ``False`` for an unknown or finished request (and for a running main-thread
        ``def`` handler, which only an interrupt can stop).
        """
        with self._lock:
            entry = self._entries.get(msg_id)
            if entry is None or entry.state == "done" or entry.blocking:
                return False
            self._cancel_locked(entry, reason)
        return True

    def cancel_all(self, reason: str = "interrupted") -> int:
        """Cancel every queued and running request (interrupt, shutdown); returns how many."""
        with self._lock:
            entries = [e for e in self._entries.values() if e.state != "done"]
            for entry in entries:
                self._cancel_locked(entry, reason)
        return len(entries)

    @property
    def settled(self) -> bool:
        """No request is queued, running, or still handing its reply to its transport."""
        with self._lock:
            return not self._entries

    @property
    def running(self) -> list[str]:
        """``msg_id`` of every request not finished yet."""
        with self._lock:
            return [k for k, e in self._entries.items() if e.state != "done"]

    # -- internals -------------------------------------------------------------------
    def _register(self, call: ActionCall) -> _Entry:
        entry = _Entry(call)
        with self._lock:
            # A client reusing a msg_id: the newest request is the one cancel addresses.
            self._entries[call.msg_id] = entry
        return entry

    def _cancel_locked(self, entry: _Entry, reason: str) -> None:
        entry.reason = reason
        if entry.state == "queued":
            # Not started: it never will; reply at once (from this thread).
            self._finish(entry, protocol.aborted_reply(reason))
            return
        scope, loop = entry.scope, entry.loop
        if scope is not None and loop is not None:
            try:
                loop.call_soon_threadsafe(scope.cancel)
            except RuntimeError:  # loop closed: the kernel is exiting
                pass

    def _spawn(self, entry: _Entry) -> None:
        ctx = contextvars.copy_context()  # each request its own output parent and CURRENT request
        task = asyncio.get_running_loop().create_task(self._run(entry), context=ctx)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, entry: _Entry) -> None:
        with self._lock:
            if entry.state != "queued":
                return  # aborted before it could start
            entry.state = "running"
            entry.loop = asyncio.get_running_loop()
            entry.scope = anyio.CancelScope()
        started = time.perf_counter()
        try:
            content = await self._execute(entry)
            if entry.action is not None:
                self.fast_lane.record(entry.action, time.perf_counter() - started, entry.fast)
        except anyio.get_cancelled_exc_class():  # the loop itself is going away
            content = protocol.aborted_reply("shutdown")
        except BaseException as exc:  # last line of defence: still exactly one reply
            content = protocol.exception_reply(exc)
        finally:
            if entry.request is not None:
                entry.request.close()  # nothing this request publishes may follow its reply
        self._finish(entry, content)

    def _finish(self, entry: _Entry, content: dict[str, Any]) -> None:
        with self._lock:
            if entry.state == "done":
                return
            entry.state = "done"
        try:
            entry.call.send_reply(content)
        except Exception:
            log.exception("beakerlike: could not send the reply of %s", entry.call.action)
        finally:
            with self._lock:  # only now: `settled` means every reply has been handed to its transport
                if self._entries.get(entry.call.msg_id) is entry:
                    del self._entries[entry.call.msg_id]

    async def _execute(self, entry: _Entry) -> dict[str, Any]:
        call = entry.call
        message = call.message
        content = message.get("content")
        if isinstance(content, bytes | bytearray | memoryview):
            parsed = parse_content(bytes(content))
            if isinstance(parsed, _Invalid):
                return protocol.error_reply("ValidationError", parsed.reason, [],
                                            errors=[{"loc": [], "msg": parsed.reason, "type": "json_invalid"}])
            message = {**message, "content": parsed}
        kernel = self.kernel
        act = entry.action if entry.action is not None else kernel.resolve_action(call.action)
        if act is None:
            return unknown_action_reply(call.action, [
                n for n, a in kernel.callable_actions().items() if a.scope == "public"
            ])
        loop = asyncio.get_running_loop()
        shell = getattr(kernel, "shell", None)
        request = Request(
            call.action,
            message,
            publish=call.publish,
            namespace=shell.user_ns if shell is not None else {},
            kernel=kernel,
            format_display=getattr(kernel, "_format_display", None),
            coalesce=act.coalesce,
            schedule=lambda delay, fn: loop.call_soon_threadsafe(loop.call_later, delay, fn),
        )
        entry.request, entry.action = request, act
        entry.blocking = entry.main_thread and act.kind == "sync"
        if self.bind_output is not None:
            self.bind_output(call.parent if call.parent is not None else message)
        token = CURRENT.set(request)
        assert entry.scope is not None
        serial = None if entry.main_thread else self._serial_lock(call.lane)
        try:
            return await run_action(act, request, scope=entry.scope, serial_lock=serial,
                                    reason=lambda: entry.reason)
        finally:
            CURRENT.reset(token)  # main-thread requests run in a context ipykernel reuses for cells

    def _serial_lock(self, lane: str | None) -> anyio.Lock:
        key = (threading.get_ident(), lane)
        lock = self._serial_locks.get(key)
        if lock is None:
            lock = self._serial_locks[key] = anyio.Lock()
        return lock


class _Invalid:
    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def parse_content(raw: bytes) -> Any:
    """The JSON value of a request's content frame, or an :class:`_Invalid` saying why not.

    Never raises: malformed text, invalid UTF-8 and nesting too deep for the parser
    (``RecursionError``) all give "content is not valid JSON".
    """
    import json

    try:
        return json.loads(raw)
    except RecursionError:
        return _Invalid("content is not valid JSON: nested too deeply")
    except (ValueError, TypeError) as exc:
        detail = str(exc).encode("ascii", "backslashreplace").decode("ascii")[:200]
        return _Invalid(f"content is not valid JSON: {detail}")
