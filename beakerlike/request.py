"""The request handle an action's handler receives as its first argument."""

from __future__ import annotations

import concurrent.futures
import contextvars
import threading
from collections.abc import Callable, Generator, Mapping, MutableMapping
from typing import Any, Protocol

from . import protocol

#: The request whose handler is running in this context (also in its worker thread), so that
#: ``print`` and IPython's ``display`` inside a handler are published in order with its responses.
CURRENT: contextvars.ContextVar[Request | None] = contextvars.ContextVar("beakerlike_request", default=None)

#: Seconds ``print`` output of a handler may wait before it is published (as ipykernel's ``flush_interval``).
OUTPUT_FLUSH_INTERVAL = 0.2


class ActionCancelled(concurrent.futures.CancelledError):
    """The request already has its reply (interrupted, cancelled or timed out): stop working on it.

    Raised by :meth:`Request.respond` and :meth:`Request.display` in a handler that kept running
    after that, e.g. a plain ``def`` handler whose worker thread was abandoned. What it would
    have published is dropped, so nothing belonging to a request arrives after its ``idle``.
    """


class Publisher(Protocol):
    """Sends iopub messages parented to one request (the kernel or a test harness)."""

    def __call__(
        self, msg_type: str, content: dict[str, Any], buffers: list[bytes] | None = None
    ) -> None:
        """Publish one iopub message of ``msg_type``."""


class _Sent:
    """Awaitable that is already done, so ``req.respond`` works with or without ``await``."""

    __slots__ = ()

    def __await__(self) -> Generator[None, None, None]:
        return
        yield  # pragma: no cover - makes this a generator


_SENT = _Sent()


class Request:
    """One incoming ``<action>_request`` as seen by its handler.

    Attributes: ``action`` (the name), ``message`` (the whole request), ``msg_id``,
    ``header``, ``content``, ``metadata``, ``buffers`` (binary frames as ``memoryview``),
    ``namespace`` (the user's IPython namespace), ``kernel`` (the running kernel, or the
    :class:`~beakerlike.testing.Harness` in process), ``responses_sent`` and ``closed``
    (the reply is decided; publishing now raises :class:`ActionCancelled`).
    """

    def __init__(
        self,
        action: str,
        message: Mapping[str, Any],
        publish: Publisher,
        namespace: MutableMapping[str, Any],
        kernel: Any = None,
        format_display: Callable[[Any], tuple[dict[str, Any], dict[str, Any]]] | None = None,
        coalesce: float | None = None,
        schedule: Callable[[float, Callable[[], None]], None] | None = None,
    ) -> None:
        self.action = action
        self.message = message
        self.header: dict[str, Any] = dict(message.get("header", {}))
        self.msg_id: str = self.header.get("msg_id", "")
        self.content: Any = message.get("content", {})
        self.metadata: dict[str, Any] = dict(message.get("metadata", {}))
        self.buffers: list[memoryview] = [memoryview(b) for b in message.get("buffers", [])]
        self.namespace = namespace
        self.kernel = kernel
        self._publish = publish
        self._format_display = format_display
        self._response_type = protocol.response_type(action)
        self._coalesce = coalesce
        self._batch: list[Any] = []
        # One lock orders everything this request publishes (responses, output, display) and its closing.
        self._lock = threading.RLock()
        self._output: list[tuple[str, str]] = []  # (stream name, text) written by print, not yet sent
        self._output_scheduled = False
        self._schedule = schedule
        self.closed = False
        self.responses_sent = 0

    # -- streaming ---------------------------------------------------------------
    def respond(self, data: Any, buffers: list[bytes] | None = None) -> _Sent:
        """Publish one ``<action>_response`` on iopub, parented to this request.

        ``data`` must be JSON-serializable; ``buffers`` are sent as binary frames.
        Works with or without ``await``. When the action sets ``coalesce``, messages
        without buffers are batched as ``{"batch": [data, ...]}`` (see the protocol doc).
        Output the handler printed before is published first. Raises :class:`ActionCancelled`
        once the request has its reply.
        """
        with self._lock:
            if self.closed:
                raise ActionCancelled(f"request {self.msg_id!r} ({self.action}) already replied; response dropped")
            if self._coalesce and not buffers:
                if self._output:  # keep the order: earlier batched responses, then the output
                    self._flush_batch()
                    self._flush_output()
                self._batch.append(data)
                return _SENT
            self._flush_output()
            self._flush_batch()
            self._send(data, buffers)
        return _SENT

    def flush(self) -> None:
        """Send pending output and coalesced responses now (the kernel also does so before replying)."""
        with self._lock:
            self._flush_output()
            self._flush_batch()

    def close(self) -> None:
        """Publish what is pending, then refuse everything later (called by the runner before the reply).

        Pending coalesced responses are *not* sent here (:func:`~beakerlike.dispatch.run_action` sends
        them first and turns a failure into the reply); ``print`` output still pending is.
        """
        with self._lock:
            if self.closed:
                return
            try:
                self._flush_output()
            finally:
                self.closed = True
                self._batch = []

    def _flush_batch(self) -> None:
        if self._batch:
            batch, self._batch = self._batch, []
            self._send({"batch": batch}, None)

    def _send(self, data: Any, buffers: list[bytes] | None) -> None:
        content = data if isinstance(data, dict) else {"data": data}
        self._publish(self._response_type, content, buffers)
        self.responses_sent += 1

    # -- print output --------------------------------------------------------------
    def write_output(self, name: str, text: str) -> None:
        """Buffer ``text`` printed to stream ``name`` by the handler (dropped once closed).

        It is published as ``stream`` before the next response or display, at the end, or
        after :data:`OUTPUT_FLUSH_INTERVAL` seconds, whichever comes first.
        """
        with self._lock:
            if self.closed:
                return
            if self._output and self._output[-1][0] == name:
                self._output[-1] = (name, self._output[-1][1] + text)
            else:
                self._output.append((name, text))
            if self._output_scheduled or self._schedule is None:
                return
            self._output_scheduled = True
        self._schedule(OUTPUT_FLUSH_INTERVAL, self.flush_output)

    def flush_output(self) -> None:
        """Publish buffered ``print`` output now."""
        with self._lock:
            if not self.closed:
                self._flush_output()

    def _flush_output(self) -> None:
        self._output_scheduled = False
        if not self._output:
            return
        chunks, self._output = self._output, []
        for name, text in chunks:
            self._publish("stream", {"name": name, "text": text}, None)

    # -- rich output -------------------------------------------------------------
    def display(self, obj: Any, *, raw: bool = False, metadata: dict[str, Any] | None = None) -> None:
        """Publish ``display_data`` for ``obj`` parented to this request.

        With ``raw=True`` ``obj`` is already a ``{mimetype: data}`` bundle. Raises
        :class:`ActionCancelled` once the request has its reply.
        """
        if raw:
            data, md = dict(obj), {}
        elif self._format_display is not None:
            data, md = self._format_display(obj)
        else:
            data, md = {"text/plain": repr(obj)}, {}
        if metadata:
            md = {**md, **metadata}
        with self._lock:
            if self.closed:
                raise ActionCancelled(f"request {self.msg_id!r} ({self.action}) already replied; display dropped")
            self._flush_output()
            self._flush_batch()
            self._publish("display_data", {"data": data, "metadata": md, "transient": {}}, None)

    def __repr__(self) -> str:
        return f"<Request {self.action!r} msg_id={self.msg_id!r}>"
