"""Hand action responses to ipykernel's IOPub thread in batches.

Every ``session.send`` on ipykernel's iopub ``BackgroundSocket`` queues one callback
on the IOPub thread and wakes it with one inproc message. A handler streaming
thousands of responses pays that wake-up (and the GIL hand-off it causes) per
message. :class:`IOPubBatcher` is a drop-in target for ``session.send``: messages
are still serialized by the session on the caller's thread, but queued here, and
one wake-up sends everything queued so far.

Order is kept with everything else on iopub: a message queued before some other
iopub send is scheduled goes out before it, because the drain it belongs to is
either still waiting in the IOPub thread's FIFO or running (and only returns once
the queue is empty).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

log = logging.getLogger("beakerlike.kernel")


class IOPubBatcher:
    """A ``send_multipart`` sink that forwards to ipykernel's ``IOPubThread`` in batches."""

    def __init__(self, iopub_thread: Any) -> None:
        self._thread = iopub_thread
        self._lock = threading.Lock()
        self._queue: list[tuple[list[Any], dict[str, Any]]] = []
        self._scheduled = False

    @classmethod
    def for_socket(cls, iopub_socket: Any) -> IOPubBatcher | None:
        """A batcher for ipykernel's iopub ``BackgroundSocket``, or ``None`` if it is something else."""
        thread = getattr(iopub_socket, "io_thread", None)
        if thread is None or not all(hasattr(thread, a) for a in ("schedule", "_really_send")):
            return None
        return cls(thread)

    def send_multipart(self, parts: list[Any], **kwargs: Any) -> None:
        """Queue one serialized message; wake the IOPub thread unless a drain is already due."""
        with self._lock:
            self._queue.append((parts, kwargs))
            if self._scheduled:
                return
            self._scheduled = True
        self._thread.schedule(self._drain)

    def _drain(self) -> None:
        # Runs on the IOPub thread (or inline if that thread is gone).
        while True:
            with self._lock:
                batch, self._queue = self._queue, []
                if not batch:
                    self._scheduled = False
                    return
            for parts, kwargs in batch:
                try:
                    self._thread._really_send(parts, **kwargs)
                except Exception:  # one bad send must not stop the queue for good
                    log.error("beakerlike: iopub send failed", exc_info=True)
