"""The request handle an action's handler receives as its first argument."""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Mapping, MutableMapping
from typing import Any, Protocol

from . import protocol


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
    :class:`~beakerlike.testing.Harness` in process) and ``responses_sent``.
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
        self._batch_lock = threading.Lock()
        self.responses_sent = 0

    # -- streaming ---------------------------------------------------------------
    def respond(self, data: Any, buffers: list[bytes] | None = None) -> _Sent:
        """Publish one ``<action>_response`` on iopub, parented to this request.

        ``data`` must be JSON-serializable; ``buffers`` are sent as binary frames.
        Works with or without ``await``. When the action sets ``coalesce``, messages
        without buffers are batched as ``{"batch": [data, ...]}`` (see the protocol doc).
        """
        if self._coalesce and not buffers:
            with self._batch_lock:
                self._batch.append(data)
            return _SENT
        self.flush()
        self._send(data, buffers)
        return _SENT

    def flush(self) -> None:
        """Send any coalesced responses now (the kernel also does so before replying)."""
        if not self._batch:
            return
        with self._batch_lock:
            batch, self._batch = self._batch, []
        if batch:
            self._send({"batch": batch}, None)

    def _send(self, data: Any, buffers: list[bytes] | None) -> None:
        content = data if isinstance(data, dict) else {"data": data}
        self._publish(self._response_type, content, buffers)
        self.responses_sent += 1

    # -- rich output -------------------------------------------------------------
    def display(self, obj: Any, *, raw: bool = False, metadata: dict[str, Any] | None = None) -> None:
        """Publish ``display_data`` for ``obj`` parented to this request.

        With ``raw=True`` ``obj`` is already a ``{mimetype: data}`` bundle.
        """
        if raw:
            data, md = dict(obj), {}
        elif self._format_display is not None:
            data, md = self._format_display(obj)
        else:
            data, md = {"text/plain": repr(obj)}, {}
        if metadata:
            md = {**md, **metadata}
        self._publish("display_data", {"data": data, "metadata": md, "transient": {}}, None)

    def __repr__(self) -> str:
        return f"<Request {self.action!r} msg_id={self.msg_id!r}>"
