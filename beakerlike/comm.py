"""The comm binding of the action protocol: the same requests, responses, replies and previews over one comm.

Servers that whitelist message types (``MappingKernelManager.allowed_message_types``)
drop ``<name>_request``; frontends such as VS Code or Colab expose comms but no way
to send arbitrary message types. A client opens a comm with target ``beakerlike``
and speaks the protocol inside ``comm_msg`` data (see docs/protocol.md, "Comm binding")::

    kernel -> {"hello": {"beakerlike_version", "protocol_version", "features"}}
    client -> {"request": {"id", "action", "payload"}}            (+ buffers)
    kernel -> {"response": {"id", "data"}}                        (+ buffers), any number
    kernel -> {"reply": {"id", "status", ...}}                    exactly one per request
    client -> {"cancel": {"id"}}                                  that request replies "aborted"
    kernel -> {"preview": {"variables", "metadata"}}              after preview_watch on this comm

Every request is handed to the kernel's :class:`~beakerlike.runner.ActionRunner`, the
same runner the message path uses (validation, unknown actions, timeouts, ``cancel``,
interrupts: identical); only how the responses and the reply travel differs. The
kernel hands this transport the ``comm_open``/``comm_msg``/``comm_close`` messages of
``beakerlike`` comms on ipykernel's shell-channel thread (:meth:`CommTransport.take`),
so they are answered while a cell blocks the main thread, as action messages are.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import protocol
from ._version import __version__
from .runner import ActionCall

log = logging.getLogger("beakerlike.comm")

#: Comm target name a client opens.
TARGET_NAME = "beakerlike"
#: What this binding supports, sent in ``hello``.
FEATURES = ["actions", "streaming", "buffers", "cancel", "previews"]
#: Session a request on a comm carries (``req.header["session"]``): the key a preview watch uses.
SESSION_PREFIX = "comm:"


class ProtocolError(ValueError):
    """A comm message that is not one of the binding's shapes."""


@dataclass
class _Inflight:
    """A request of one comm between its arrival and its reply."""

    msg_id: str


@dataclass
class CommChannel:
    """One open ``beakerlike`` comm: its requests in flight and the preview keys it watches."""

    transport: CommTransport
    comm: Any
    open_msg: dict[str, Any]
    inflight: dict[str, _Inflight] = field(default_factory=dict)
    watch_keys: set[str] = field(default_factory=set)
    last_preview_seq: int | None = None
    closed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def comm_id(self) -> str:
        """The comm's id."""
        return self.comm.comm_id

    @property
    def session(self) -> str:
        """The session this comm's requests carry (one per comm, so comms never share watchers)."""
        return SESSION_PREFIX + self.comm_id

    # -- sending -------------------------------------------------------------------
    def send(self, data: dict[str, Any], parent: dict[str, Any], buffers: list[Any] | None = None,
             metadata: dict[str, Any] | None = None) -> None:
        """Send one ``comm_msg`` on iopub, parented to ``parent`` (any thread)."""
        if self.closed:
            return
        kernel = self.transport.kernel
        content = {"comm_id": self.comm_id, "data": data}
        kernel.session.send(kernel.iopub_socket, "comm_msg", content, parent=parent,
                            metadata=metadata or {}, ident=self.comm.topic, buffers=buffers)

    def send_preview(self, content: dict[str, Any], metadata: dict[str, Any], seq: int, parent: Any) -> None:
        """Forward one preview update, once per ``seq``."""
        with self.lock:
            if seq == self.last_preview_seq:
                return
            self.last_preview_seq = seq
        self.send({"preview": {"variables": content.get("variables", {}), "metadata": metadata}}, parent)

    def watches(self, watchers: list[str]) -> bool:
        """Whether one of this comm's preview keys is among the engine's ``watchers``."""
        with self.lock:
            return any(k in watchers for k in self.watch_keys)

    # -- receiving -----------------------------------------------------------------
    def on_msg(self, msg: dict[str, Any]) -> None:
        """Handle one ``comm_msg`` (runs on the thread that dispatched it)."""
        data = msg.get("content", {}).get("data")
        try:
            kind, body = _parse(data)
        except ProtocolError as exc:
            rid = _id_of(data)
            self.send({"reply": {"id": rid, **protocol.error_reply("ProtocolError", str(exc))}}, msg)
            return
        if kind == "cancel":
            self.cancel(body["id"])
            return
        rid = body["id"]
        with self.lock:
            duplicate = rid in self.inflight
            if not duplicate:
                self.inflight[rid] = _Inflight(msg["header"]["msg_id"])
        if duplicate:  # id null: the reply for ``rid`` still belongs to the request already running
            self.send({"reply": {"id": None, **protocol.error_reply(
                "ProtocolError", f"request id {rid!r} is already in flight on this comm", request_id=rid)}}, msg)
            return
        if body["action"] == "preview_watch":  # before it runs: the first update may follow at once
            with self.lock:
                self.watch_keys.add(_watch_key(body["payload"], self.session))
        self.transport.submit(self._call(rid, body, msg))

    def cancel(self, rid: str, reason: str = "cancelled") -> bool:
        """Cancel the request ``rid`` of this comm (it replies ``aborted``); False if not in flight."""
        with self.lock:
            inflight = self.inflight.get(rid)
        return inflight is not None and self.transport.kernel.runner.cancel(inflight.msg_id, reason)

    def close(self) -> None:
        """The comm closed: cancel its requests and stop its preview watches."""
        with self.lock:
            self.closed = True
            ids = list(self.inflight)
            keys, self.watch_keys = set(self.watch_keys), set()
        for rid in ids:
            self.cancel(rid, "closed")
        engine = getattr(self.transport.kernel, "preview", None)
        if engine is not None:
            for key in keys:
                engine.unwatch(key)

    def _call(self, rid: str, body: dict[str, Any], msg: dict[str, Any]) -> ActionCall:
        """The runner's view of a comm request: responses and the reply go back on this comm."""
        action = body["action"]
        message = {
            "header": {**msg["header"], "msg_type": protocol.request_type(action), "session": self.session},
            "parent_header": msg.get("parent_header", {}),
            "metadata": msg.get("metadata", {}),
            "content": body["payload"],
            "buffers": msg.get("buffers", []),
        }
        kernel = self.transport.kernel
        response_type = protocol.response_type(action)
        iopub = kernel._publisher(msg)

        def publish(msg_type: str, content: dict[str, Any], buffers: list[bytes] | None = None) -> None:
            if msg_type == response_type:
                self.send({"response": {"id": rid, "data": content}}, msg, buffers)
            else:  # stream, display_data and the like stay on iopub, parented to the comm_msg
                iopub(msg_type, content, buffers)

        def send_reply(content: dict[str, Any]) -> None:
            with self.lock:
                self.inflight.pop(rid, None)
                if action == "preview_watch" and content.get("status") != "ok":
                    self.watch_keys.discard(_watch_key(body["payload"], self.session))
            self.send({"reply": {"id": rid, **content}}, msg)
            kernel._publish_status("idle", "shell", parent=msg)

        return ActionCall(action=action, message=message, send_reply=send_reply, publish=publish, parent=msg)


class CommTransport:
    """The ``beakerlike`` comm target of one kernel: opens channels and runs their requests."""

    def __init__(self, kernel: Any) -> None:
        self.kernel = kernel
        self.channels: dict[str, CommChannel] = {}
        self._lock = threading.Lock()
        kernel.comm_manager.register_target(TARGET_NAME, self._open)
        publisher = getattr(kernel, "preview_publisher", None)
        if publisher is not None:
            kernel.preview_publisher = _PreviewFanout(publisher, self)

    def _open(self, comm: Any, msg: dict[str, Any]) -> None:
        channel = CommChannel(self, comm, msg)
        with self._lock:
            self.channels[comm.comm_id] = channel
        comm.on_msg(channel.on_msg)
        comm.on_close(lambda _msg: self._closed(channel))
        channel.send({"hello": {"beakerlike_version": __version__, "protocol_version": protocol.PROTOCOL_VERSION,
                                "features": list(FEATURES)}}, msg)

    def take(self, msg_type: str, frames: list[Any]) -> bool:
        """Handle a shell ``comm_*`` message if it belongs to a ``beakerlike`` comm; False to leave it.

        Called by the kernel on ipykernel's shell-channel thread with the frames after the
        identities: ``comm_open`` for target ``beakerlike``, ``comm_msg`` and ``comm_close``
        of open ``beakerlike`` comms. Everything else goes on to ipykernel (widgets etc.).
        """
        session = self.kernel.session
        try:  # unverified peek; the full deserialize below verifies the signature
            content = session.unpack(_frame_bytes(frames[4]))
            if msg_type == "comm_open":
                ours = content.get("target_name") == TARGET_NAME
            else:
                ours = content.get("comm_id") in self.channels
        except Exception:
            return False
        if not ours:
            return False
        try:
            msg = session.deserialize(frames, content=True, copy=False)
        except Exception:
            self.kernel.log.error("Invalid comm message", exc_info=True)
            return True
        if msg_type == "comm_msg":
            channel = self.channels.get(msg["content"].get("comm_id"))
            if channel is not None:
                channel.on_msg(msg)
            return True
        # Opening and closing go through ipykernel's comm manager (it keeps the Comm objects).
        kernel = self.kernel
        kernel._publish_status("busy", "shell", parent=msg)
        try:
            getattr(kernel.comm_manager, msg_type)(None, None, msg)
        finally:
            kernel._publish_status("idle", "shell", parent=msg)
        return True

    def _closed(self, channel: CommChannel) -> None:
        with self._lock:
            self.channels.pop(channel.comm_id, None)
        channel.close()

    # -- the seam to the kernel's action runner -------------------------------------------
    def submit(self, call: ActionCall) -> None:
        """Hand one request to the kernel's runner, as the message path does."""
        kernel = self.kernel
        kernel._publish_status("busy", "shell", parent=call.parent)
        act = kernel.resolve_action(call.action)
        if act is not None and act.main_thread and self._on_shell_channel_thread():
            # Between cells on the main thread: ipykernel's queue keeps its order with cells. The forwarded
            # placeholder only tells the main shell to run the oldest held request (kernel.shell_main).
            kernel.runner.hold(call)
            session = kernel.session
            placeholder = session.serialize(session.msg(protocol.request_type(call.action), {}))
            kernel.shell_channel_thread.manager.get_shell_channel_to_subshell_socket(None).send_multipart(placeholder)
        else:
            kernel.runner.submit(call)

    def _on_shell_channel_thread(self) -> bool:
        return threading.current_thread() is getattr(self.kernel, "shell_channel_thread", None)


class _PreviewFanout:
    """The kernel's preview publisher, plus delivery to every comm watching previews."""

    def __init__(self, iopub: Callable[[Any], None], transport: CommTransport) -> None:
        self.iopub = iopub
        self.transport = transport

    def __call__(self, update: Any) -> None:
        """Publish ``update`` on iopub (once) and on each comm that watches."""
        self.iopub(update)
        kernel = self.transport.kernel
        engine = getattr(kernel, "preview", None)
        watchers = engine.watchers if engine is not None else []
        with self.transport._lock:
            channels = list(self.transport.channels.values())
        content, metadata = update.message()
        parent = kernel.get_parent("shell")
        for channel in channels:
            if channel.watches(watchers):
                channel.send_preview(content, metadata, update.seq, parent)


def _frame_bytes(frame: Any) -> bytes:
    return frame.bytes if hasattr(frame, "bytes") else bytes(frame)


def _parse(data: Any) -> tuple[str, dict[str, Any]]:
    """``("request"|"cancel", body)`` of a comm message's data, or :class:`ProtocolError`."""
    if not isinstance(data, dict) or len(data) != 1:
        raise ProtocolError('a beakerlike comm message is one of {"request": {...}} or {"cancel": {...}}')
    kind, body = next(iter(data.items()))
    if kind not in ("request", "cancel") or not isinstance(body, dict):
        raise ProtocolError(f'unknown comm message {kind!r}: expected {{"request": {{...}}}} or {{"cancel": {{...}}}}')
    rid = body.get("id")
    if not isinstance(rid, str) or not rid:
        raise ProtocolError(f"{kind}.id must be a non-empty string")
    if kind == "cancel":
        return kind, body
    action = body.get("action")
    if not isinstance(action, str) or not action:
        raise ProtocolError("request.action must be a non-empty string")
    payload = body.get("payload", {})
    extra = set(body) - {"id", "action", "payload"}
    if extra:
        raise ProtocolError(f"unknown request fields: {', '.join(sorted(extra))}")
    return kind, {"id": rid, "action": action, "payload": {} if payload is None else payload}


def _id_of(data: Any) -> str | None:
    if isinstance(data, dict) and len(data) == 1:
        body = next(iter(data.values()))
        if isinstance(body, dict) and isinstance(body.get("id"), str):
            return body["id"]
    return None


def _watch_key(payload: Any, session: str) -> str:
    key = payload.get("key") if isinstance(payload, dict) else None
    return key if isinstance(key, str) and key else session
