"""The beakerlike kernel: IPython's kernel plus ``<action>_request`` handling.

Standard Jupyter messages go through ipykernel untouched. Any other ``*_request`` on
the shell channel is taken on ipykernel's shell-channel thread, *before* its hop to
the main thread, and run by the :class:`~beakerlike.runner.ActionRunner` on the action
loop (its own thread), so actions are answered while a cell blocks the main thread.
Actions declared ``main_thread=True`` are forwarded to the main thread like a cell
and run between cells. Every request ends in exactly one ``*_reply`` (see
``docs/protocol.md``, sections "Concurrency" and "Interrupts and cancellation").
"""

from __future__ import annotations

import asyncio
import hmac
import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Mapping
from functools import cached_property
from typing import Any

import zmq
from ipykernel.ipkernel import IPythonKernel
from traitlets import Bool, Float, Int

from . import protocol
from ._mainpause import MainThreadPause
from ._output import ActionOutStream, guard_display_pub
from ._shellpipes import unbound_shell_pipes
from ._version import __version__
from ._wire import WireParent, WireSession
from .actions import Action
from .comm import CommTransport
from .fastlane import FastLane
from .plugins import PluginHost
from .request import Publisher
from .runner import ActionCall, ActionLoop, ActionRunner


def _flush_output() -> None:
    """Publish buffered ``print`` output of cells without blocking the loop.

    ipykernel's ``OutStream.flush()`` waits for a round trip to the IOPub thread.
    ``_flush()`` packs the buffered text and queues its send on the IOPub thread at
    once, so it still goes out before whatever we queue next (that thread sends in
    FIFO order): a cell's output before its ``preview``.
    """
    for out in (sys.stdout, sys.stderr):
        if out is None:
            continue
        if getattr(out, "pub_thread", None) is not None and hasattr(out, "_flush"):
            if getattr(out, "_flush_pending", True):
                out._flush()
        else:
            out.flush()


def _send_now(stream: Any, frames: list[Any]) -> None:
    """Send a reply on the shell ROUTER's stream, from its own thread, at once.

    Straight on the socket when the stream has nothing queued (a ZMQStream send plus
    ``flush`` costs 3-4x as much: two polls and a re-registration). Then the re-check
    ZMQStream makes after its own sends: the socket's file descriptor is edge-triggered
    and this send may have consumed the edge of a request that arrived meanwhile, so if
    one is waiting the stream is told to read it (ipykernel's subshell_manager describes
    the wedge that follows otherwise).
    """
    socket = stream.socket
    if socket is None:  # closed: the kernel is exiting
        return
    if stream.sending():  # earlier replies queued in the stream go first
        stream.send_multipart(frames)
        stream.flush(zmq.POLLOUT)
        return
    socket.send_multipart(frames)
    if socket.getsockopt(zmq.EVENTS) & zmq.POLLIN:
        stream.io_loop.add_callback(stream._handle_events, socket, 0)


def _authentic(session: Any, frames: list[Any]) -> bool:
    """Whether ``frames`` carry a valid, fresh signature (as ``Session.deserialize`` checks it)."""
    if getattr(session, "auth", None) is None:
        return True
    signature = _frame_bytes(frames[0])
    if not signature or signature in session.digest_history:
        return False
    return hmac.compare_digest(signature, session.sign([_frame_bytes(f) for f in frames[1:5]]))


def _parent_and_metadata(session: Any, frames: list[Any]) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """The parent_header and metadata frames as dicts (``{}`` when broken) and the names of the broken ones."""
    values: list[dict[str, Any]] = []
    broken = []
    for name, index in (("parent_header", 2), ("metadata", 3)):
        try:
            value = session.unpack(_frame_bytes(frames[index]))
        except Exception:
            value = None
        if not isinstance(value, dict):
            broken.append(name)
            value = {}
        values.append(value)
    return values[0], values[1], broken


def _frame_bytes(frame: Any) -> bytes:
    return frame.bytes if hasattr(frame, "bytes") else bytes(frame)


def _json_safe(obj: Any) -> Any:
    """``obj`` with every lone surrogate in its strings shown as a backslash escape."""
    if isinstance(obj, str):
        return obj.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(obj, dict):
        return {_json_safe(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    return obj


def _unencodable(header: Mapping[str, Any]) -> list[str]:
    """Header fields holding text that cannot be sent back (lone surrogates)."""
    bad = []
    for key, value in header.items():
        if type(value) is str and value.isascii():
            continue  # the usual case, checked without encoding
        try:
            json.dumps(value, ensure_ascii=False, default=str).encode("utf-8")
        except (UnicodeError, ValueError, TypeError):
            bad.append(str(key).encode("utf-8", "backslashreplace").decode("utf-8"))
    return bad


class BeakerlikeKernel(IPythonKernel):
    """An IPython kernel that answers plugin-defined ``<action>_request`` messages."""

    implementation = "beakerlike"
    implementation_version = __version__
    banner = f"beakerlike {__version__}: IPython kernel with plugin actions"

    cell_switch_interval = Float(
        0.00002,
        config=True,
        help="sys.setswitchinterval() once an action request arrives while a cell runs, until the cell ends, in "
        "seconds (0: leave Python's 0.005). A cell running pure-Python code holds the GIL; each thread answering "
        "an action (shell channel, action loop, IOPub) waits up to this long for it at every step (every ZMQ "
        "frame it sends or receives), so with Python's default a no-op action took 5-10x longer during such a "
        "cell (0.25 ms: 2.4x, 0.1 ms: 1.4-2.6x, 0.02 ms: 0.9-1.6x). "
        "Cells without concurrent actions and everything between cells keep the interpreter's own value.",
    )
    fast_lane = Bool(
        True,
        config=True,
        help="Let async actions that have proved quick run on the shell-channel thread that received them, without "
        "a hand-over to the action loop and back (see beakerlike.fastlane; one that turns slow is moved back for "
        "good). False: every action runs on the action loop.",
    )
    fast_lane_pause = Bool(
        True,
        config=True,
        help="While a fast-lane action is answered during a cell, have the main thread wait (GIL released, at most "
        "10 ms) until its idle is sent, instead of contending for the GIL at every ZMQ frame (see "
        "beakerlike._mainpause). False: the cell never pauses; actions during pure-Python cells are slower.",
    )
    fast_lane_after = Int(
        FastLane.promote_after,
        config=True,
        help="Consecutive quick runs (each at most 1 ms from start to reply) on the action loop before an async "
        "action moves to the fast lane; 0 puts every eligible action there from its first call.",
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._standard_shell_types = frozenset(self.shell_handlers)
        self.action_loop = ActionLoop().start()
        self.runner = ActionRunner(self, self.action_loop, FastLane(self.fast_lane, self.fast_lane_after))
        self.runner.bind_output = self._bind_output
        self._main_pause = MainThreadPause()
        self._pause_releases: dict[str, Callable[[], None]] = {}
        self.host = PluginHost().load()
        for err in self.host.errors:
            self.log.error("beakerlike plugin %s failed (%s): %s", err.plugin, err.phase, err.error)
        if self.shell is not None:
            self.shell.events.register("pre_run_cell", self._before_execute)
            self.shell.events.register("post_run_cell", self._after_execute)
            display_pub = getattr(self.shell, "display_pub", None)
            if display_pub is not None:
                guard_display_pub(display_pub)
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

    # -- shell transport: routing on the shell-channel thread ---------------------
    def shell_channel_thread_main(self, msg: Any) -> Coroutine[Any, Any, None] | None:  # type: ignore[override]
        """Take action requests before ipykernel forwards shell messages to the main thread.

        Called by the shell stream as each message is read. Action requests are routed right here,
        synchronously (no task, no extra loop iteration); anything else returns ipykernel's coroutine,
        which the stream schedules as it did before.
        """
        try:
            if self.route_shell_message(msg):
                return None
        except Exception:  # never into the stream's callback: it would stop reading the shell socket
            self.log.exception("beakerlike: could not route a shell message; dropped")
            return None
        return super().shell_channel_thread_main(msg)

    def route_shell_message(self, msg: Any) -> bool:
        """On the shell-channel thread: handle ``msg`` here and return ``True``, or leave it to ipykernel.

        Action requests go to the action runner (``main_thread`` ones on to the main thread
        through ipykernel's queue, keeping their order with cells); a header whose ``msg_type``
        is not a string is dropped. This is the hook where a transport for other message types
        (e.g. ``comm_msg`` of beakerlike comms) can take its messages too.
        """
        session = self.session
        if session is None:
            return False
        try:
            idents, frames = session.feed_identities(msg, copy=False)
            header = session.unpack(_frame_bytes(frames[1]))  # unverified peek; verified below
        except Exception:
            return False  # ipykernel logs it as an invalid message
        if not isinstance(header, dict):
            return False
        msg_type = header.get("msg_type")
        if not isinstance(msg_type, str):
            self.log.warning("Ignoring a shell message whose header.msg_type is a %s, not a string",
                             type(msg_type).__name__)
            return True
        if msg_type in ("comm_open", "comm_msg", "comm_close"):  # beakerlike comms: the comm transport's
            return self.comm_transport.take(msg_type, frames)
        if msg_type in self._standard_shell_types or protocol.action_of(msg_type) is None:
            return False
        # Verified here rather than by Session.deserialize: the same checks (signed, fresh, HMAC of the four
        # frames), without parsing the header twice or its dates (dateutil: ~35 us per request, and a datetime
        # parent date is formatted again in every message parented to it); a broken parent_header/metadata
        # frame of a signed request gets an error reply instead of silence.
        if len(frames) < 5 or "msg_id" not in header or not _authentic(session, frames):
            self.log.error("Invalid action message: %s", "bad signature" if len(frames) >= 5 else "too few frames")
            return True
        add_digest = getattr(session, "_add_digest", None)
        if add_digest is not None:  # replay protection, as Session.deserialize records it
            add_digest(_frame_bytes(frames[0]))
        parent_header, metadata, broken = _parent_and_metadata(session, frames)
        parent = {"header": header, "msg_id": header["msg_id"], "msg_type": msg_type, "parent_header": parent_header,
                  "metadata": metadata, "content": _frame_bytes(frames[4]), "buffers": list(frames[5:])}
        self._take_action_request(idents, parent, msg, broken, WireParent(self._wire, _frame_bytes(frames[1])))
        return True

    def _take_action_request(self, idents: list[Any], parent: dict[str, Any], raw: Any,
                             broken: list[str] | None = None, wire: WireParent | None = None) -> None:
        bad = _unencodable(parent["header"])
        if broken and not bad:
            header = parent["header"]
            self._publish_status("busy", "shell", parent=parent)
            reason = f"request {' and '.join(broken)} frame is not valid JSON"
            reply = protocol.error_reply("ValidationError", reason, [],
                                         errors=[{"loc": [b], "msg": reason, "type": "json_invalid"} for b in broken])
            name = protocol.action_of(header["msg_type"]) or header["msg_type"]
            self._shell_reply_sender(idents, parent, protocol.reply_type(name))(reply)
            return
        if bad:
            safe = {**parent, "header": _json_safe(parent["header"])}
            name = protocol.action_of(safe["header"]["msg_type"]) or "unknown"
            self._publish_status("busy", "shell", parent=safe)
            reply = protocol.error_reply(
                "ValidationError",
                f"request header is not valid Unicode: {', '.join(bad)} holds a lone surrogate",
                [], errors=[{"loc": ["header", b], "msg": "lone surrogate", "type": "unicode"} for b in bad])
            self._shell_reply_sender(idents, safe, protocol.reply_type(name))(reply)
            return
        header = parent["header"]
        name = protocol.action_of(header["msg_type"]) or header["msg_type"]
        parent["buffers"] = parent.get("buffers") or []
        call = ActionCall(
            action=name,
            message=parent,
            send_reply=self._shell_reply_sender(idents, parent, protocol.reply_type(name), wire),
            publish=self._publisher(parent, wire),
            lane=header.get("subshell_id") if isinstance(header.get("subshell_id"), str) else None,
        )
        self._lower_switch_interval()
        self._publish_wire_status("busy", parent, wire)
        act = self.resolve_action(name)
        if act is not None and act.main_thread:
            self.runner.hold(call)
            # Forward through ipykernel's queue to the main shell: it runs after the cells sent before it.
            socket = self.shell_channel_thread.manager.get_shell_channel_to_subshell_socket(None)
            socket.send_multipart(raw, copy=False)
        elif act is not None and wire is not None and self.runner.fast_lane.allows(act):
            # The fast lane: runs here, on this thread's loop. During a cell, the main thread steps aside
            # (GIL released) until this request's idle is out: see _mainpause.
            release, self._recv_hold = self._recv_hold, None  # the pause taken while reading it, if any
            if release is None and self._cell_running and self.fast_lane_pause:
                release = self._main_pause.hold()
            if release is not None:
                self._pause_releases[call.msg_id] = release
            self.runner.submit(call, fast=act)
        else:
            self.runner.submit(call)

    def _shell_reply_sender(self, idents: list[Any], parent: dict[str, Any], reply_type: str,
                            wire: WireParent | None = None) -> Any:
        """``send_reply(content)`` for a shell request: ``idle`` on IOPub and the reply on the shell socket."""
        session, stream = self.session, self.shell_stream
        shell_thread = self.shell_channel_thread
        io_loop = shell_thread.io_loop

        def serialize(content: dict[str, Any]) -> list[Any]:
            if wire is not None:
                return wire.frames(reply_type, content, ident=idents)
            return session.serialize(session.msg(reply_type, content, parent=parent), ident=idents)

        def send_reply(content: dict[str, Any]) -> None:
            try:
                frames = serialize(content)
            except (TypeError, ValueError, UnicodeError) as exc:
                frames = serialize(protocol.error_reply("SerializationError", f"reply not JSON serializable: {exc!r}"))
            # The reply and `idle` travel on different sockets, so clients never rely on their order (here the
            # shell-channel thread sends the reply while the IOPub thread sends `idle`). `idle` is queued first:
            # the IOPub thread then works while the reply goes out, and the whole exchange ends sooner.
            self._publish_wire_status("idle", parent, wire)
            if threading.current_thread() is shell_thread:
                _send_now(stream, frames)
            else:
                io_loop.add_callback(_send_now, stream, frames)
            release = self._pause_releases.pop(parent["msg_id"], None)
            if release is not None:  # the cell resumes once the IOPub thread has sent the idle
                self._iopub.io_thread.schedule(release)

        return send_reply

    def _publisher(self, parent: dict[str, Any], wire: WireParent | None = None) -> Publisher:
        session, iopub = self.session, self._iopub
        topics: dict[str, bytes] = {}

        def publish(msg_type: str, content: dict[str, Any], buffers: list[bytes] | None = None) -> None:
            ident = topics.get(msg_type)
            if ident is None:
                ident = topics[msg_type] = self._topic(msg_type)
            if wire is None or buffers:  # Session.send checks buffers and sends large ones without a copy
                session.send(iopub, msg_type, content, parent=parent, ident=ident, buffers=buffers)
            else:
                iopub.send_multipart(wire.frames(msg_type, content, ident=ident))

        return publish

    def _publish_wire_status(self, state: str, parent: dict[str, Any], wire: WireParent | None) -> None:
        """``status`` busy/idle of an action request (packed once per request when ``wire`` is given)."""
        if wire is None:
            self._publish_status(state, "shell", parent=parent)
        else:
            self._iopub.send_multipart(wire.status(state, self._status_topic))

    @cached_property
    def _status_topic(self) -> bytes:
        return self._topic("status")

    @cached_property
    def _wire(self) -> WireSession:
        """The session's fixed parts for :class:`WireParent` (made on first use, once the session exists)."""
        return WireSession(self.session)

    @cached_property
    def _iopub(self) -> Any:
        return self.iopub_socket

    def _bind_output(self, parent: Mapping[str, Any]) -> None:
        """Parent ``display``/``input``/``get_parent`` in the current context to an action request."""
        super(IPythonKernel, self).set_parent([], parent, channel="shell")
        display_pub = getattr(self.shell, "display_pub", None)
        for out in (sys.stdout, sys.stderr, display_pub):
            # ActionOutStream hands text to the request itself; any other OutStream needs the parent.
            if hasattr(out, "set_thread_parent") and not isinstance(out, ActionOutStream):
                out.set_thread_parent(parent)

    def _format_display(self, obj: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        data, md = self.shell.display_formatter.format(obj)
        return data, md

    # -- main-thread actions --------------------------------------------------------
    async def shell_main(self, subshell_id: str | None, msg: Any) -> None:  # type: ignore[override]
        """Run ``main_thread`` actions forwarded by :meth:`route_shell_message`, between cells."""
        if subshell_id is None and self._is_action(msg):
            async with self._main_asyncio_lock:
                await self.runner.run_held()
            return
        await super().shell_main(subshell_id, msg)

    def _is_action(self, msg: Any) -> bool:
        if self.session is None or (len(msg) == 1 and getattr(msg[0], "buffer", b"") == b"stop aborting"):
            return False
        try:
            _, frames = self.session.feed_identities(msg, copy=False)
            msg_type = self.session.unpack(_frame_bytes(frames[1])).get("msg_type")
        except Exception:
            return False
        return (isinstance(msg_type, str) and msg_type not in self._standard_shell_types
                and protocol.action_of(msg_type) is not None)

    # -- cancellation ----------------------------------------------------------
    def cancel_actions(self, reason: str = "interrupted") -> int:
        """Cancel every queued and running action (they reply ``aborted``); returns how many."""
        return self.runner.cancel_all(reason)

    def cancel_action(self, msg_id: str, reason: str = "cancelled") -> bool:
        """Cancel one action request by ``msg_id``; ``False`` if unknown or already finished."""
        return self.runner.cancel(msg_id, reason)

    async def interrupt_request(self, stream: Any, ident: Any, parent: Any) -> None:  # type: ignore[override]
        """Cancel queued and running actions, then interrupt the running cell as ipykernel does."""
        self.cancel_actions("interrupted")
        # ipykernel signals SIGINT next; when it lands outside a cell it must not abort requests that
        # arrived after this interrupt (the handler runs whenever the main thread gets to it).
        self._own_sigint_until = time.monotonic() + 1.0
        await super().interrupt_request(stream, ident, parent)

    _own_sigint_until = 0.0

    def _on_sigint(self, signum: int, frame: Any) -> None:
        # SIGINT outside a cell (signal-mode interrupts, `kill -INT`): cancel actions, keep running.
        if time.monotonic() < self._own_sigint_until:
            self._own_sigint_until = 0.0  # the one an interrupt_request sent: it already cancelled
            return
        self.cancel_actions("interrupted")

    _recv_hold: Callable[[], None] | None = None

    def _pause_cell_while_reading(self) -> None:
        """Pause a running cell (see _mainpause) while the shell stream reads and routes a message.

        Reading a request frame by frame would otherwise contend for the GIL with a pure-Python cell
        at every frame. A fast-lane action keeps the pause until its idle is sent; for anything else
        it ends as soon as the message is routed. Installed on the shell stream's own thread.
        """
        stream = self.shell_stream
        original = getattr(stream, "_handle_recv", None)
        if original is None or not self._main_pause.available:
            return

        def handle_recv() -> None:
            if self._cell_running and self.fast_lane_pause:
                self._recv_hold = self._main_pause.hold()
            try:
                original()
            finally:
                release, self._recv_hold = self._recv_hold, None
                if release is not None:
                    release()

        stream._handle_recv = handle_recv

    def start(self) -> None:
        """Start the kernel and take SIGINT outside cells for action cancellation."""
        unbound_shell_pipes(self)  # floods must not deadlock the shell threads (see _shellpipes)
        super().start()
        if self.shell_stream is not None and self.shell_channel_thread is not None:
            self.shell_channel_thread.io_loop.add_callback(self._pause_cell_while_reading)
        if threading.current_thread() is threading.main_thread():
            try:
                signal.signal(signal.SIGINT, self._on_sigint)
            except ValueError:  # not the main interpreter thread
                pass

    async def shutdown_request(self, stream: Any, ident: Any, parent: Any) -> None:  # type: ignore[override]
        """Cancel running actions (their ``aborted`` replies go out first) and tell plugins, then shut down."""
        self.cancel_actions("shutdown")
        await self._settle_actions(timeout=2.0)
        self.host.call_each("kernel_shutdown", kernel=self)
        await super().shutdown_request(stream, ident, parent)

    async def _settle_actions(self, timeout: float) -> None:
        """Wait (bounded) until cancelled actions have replied and the shell thread has sent the replies."""
        deadline = time.monotonic() + timeout
        while not self.runner.settled and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        thread = self.shell_channel_thread
        if thread is None:
            return
        sent = threading.Event()
        thread.io_loop.add_callback(sent.set)  # runs after every reply handed to that thread before it
        while not sent.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(0.005)

    # -- execution hooks -------------------------------------------------------
    _cell_running = False
    _interval_between_cells: float | None = None
    _interval_lock = threading.Lock()

    def _lower_switch_interval(self) -> None:
        """An action arrived while a cell runs: hand the GIL over quickly until the cell ends.

        Only then, so short cells and everything between cells keep the interpreter's own value.
        """
        if not self._cell_running or self._interval_between_cells is not None or self.cell_switch_interval <= 0:
            return
        with self._interval_lock:
            if self._cell_running and self._interval_between_cells is None:
                self._interval_between_cells = sys.getswitchinterval()
                sys.setswitchinterval(self.cell_switch_interval)

    def _before_execute(self, info: Any) -> None:
        self._cell_running = True
        self.host.call_each("before_execute", kernel=self, info=info)

    def _after_execute(self, result: Any) -> None:
        self._cell_running = False
        if self._interval_between_cells is not None:
            with self._interval_lock:
                if self._interval_between_cells is not None:
                    sys.setswitchinterval(self._interval_between_cells)
                    self._interval_between_cells = None
        self._own_sigint_until = 0.0  # an interrupt's SIGINT that reached this cell is spent
        _flush_output()  # the cell's own output goes out before anything a hook publishes (its preview)
        self.host.call_each("after_execute", kernel=self, result=result)
