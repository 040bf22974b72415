"""jupyter_server's kernel activity tracking, without parsing dates it never reads.

The server watches each kernel's IOPub stream to keep ``last_activity`` (for the idle
culler) and ``execution_state`` (for ``/api/kernels``). Its watcher runs
``Session.deserialize`` on every message, twice for ``status``; that parses the
``date`` of the header and of the parent header with dateutil, which was the largest
cost per request the server adds on a websocket (about 4 date-parsing
deserializations per action: its ``busy`` and its ``idle``). The watcher only reads
``msg_type``, the parent's ``msg_type`` and a status's ``execution_state``.

:func:`watch_activity_cheaply` keeps the server's own ``start_watching_activity`` (it
connects the stream and initialises the kernel's fields), then gives the stream a
callback that checks the signature as ``Session.deserialize`` does and reads those
three fields with the session's plain unpacker; it updates the same fields by the same
rules (``track_message_type``, ``untracked_message_types``). A server whose kernel
manager lacks these pieces is left as it is.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timezone
from typing import Any

from jupyter_client.session import Session


def utcnow() -> datetime:
    """Now, timezone-aware UTC (what the server stores in ``last_activity``)."""
    return datetime.now(timezone.utc)


def watch_activity_cheaply(kernel_manager: Any) -> bool:
    """Make ``kernel_manager`` track activity without date parsing; ``False`` if it cannot."""
    original = getattr(kernel_manager, "start_watching_activity", None)
    if original is None or not hasattr(kernel_manager, "track_message_type") or getattr(
            kernel_manager, "_beakerlike_activity", False):
        return False

    def start_watching_activity(kernel_id: str) -> None:
        original(kernel_id)
        kernel = getattr(kernel_manager, "_kernels", {}).get(kernel_id)
        stream = getattr(kernel, "_activity_stream", None)
        if kernel is None or stream is None:
            return
        stream.on_recv(_recorder(kernel_manager, kernel, kernel_id))

    kernel_manager.start_watching_activity = start_watching_activity
    kernel_manager._beakerlike_activity = True
    return True


def _recorder(manager: Any, kernel: Any, kernel_id: str) -> Any:
    session = Session(config=kernel.session.config, key=kernel.session.key)
    unpack, auth, tracked, log = session.unpack, session.auth, manager.track_message_type, manager.log

    def record_activity(msg_list: list[bytes]) -> None:
        _idents, frames = session.feed_identities(msg_list)
        if len(frames) < 5:
            return
        if auth is not None:
            check = auth.copy()
            for part in frames[1:5]:
                check.update(part)
            if not hmac.compare_digest(check.hexdigest().encode(), frames[0]):
                log.warning("beakerlike: activity message with an invalid signature on kernel %s", kernel_id)
                return
        header, parent = unpack(frames[1]), unpack(frames[2])
        msg_type = header.get("msg_type")
        parent_type = parent.get("msg_type") if isinstance(parent, dict) else None
        if tracked(msg_type) or tracked(parent_type) or kernel.execution_state == "busy":
            manager.last_kernel_activity = kernel.last_activity = utcnow()
        if msg_type == "status":
            state = unpack(frames[4]).get("execution_state")
            if tracked(parent_type):
                kernel.execution_state = state
            elif kernel.execution_state == "starting" and state != "starting":
                kernel.execution_state = "idle"  # the server's rule: untracked status after start means idle
            log.debug("activity on %s: %s (%s)", kernel_id, msg_type, kernel.execution_state)
        else:
            log.debug("activity on %s: %s", kernel_id, msg_type)

    return record_activity
