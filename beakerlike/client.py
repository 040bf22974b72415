"""An async client for beakerlike kernels, on top of jupyter_client.

    async with await KernelClient.start() as kernel:
        result = await kernel.call("save_var", name="df")
        async for response in kernel.stream("train", epochs=3):
            print(response)

Replies and iopub messages are routed by parent ``msg_id``, so any number of
requests can be in flight at once; a call completes when both its reply and its
``status: idle`` have arrived (their order on the wire is not fixed).

Actions travel either as ``<name>_request`` messages or, where custom message
types are not delivered (a server with ``allowed_message_types``), over a
``beakerlike`` comm (``transport="comm"``; ``"auto"`` probes and picks). See
docs/protocol.md, "Comm binding".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio
from jupyter_client import AsyncKernelClient, AsyncKernelManager

from . import protocol
from .kernelspec import KERNEL_NAME

log = logging.getLogger("beakerlike.client")

#: How actions travel: ``messages`` (``<name>_request``), ``comm`` (the ``beakerlike`` comm), or
#: ``auto`` (messages if the kernel answers a ``context_info_request`` within ``probe_timeout``, else the comm).
Transport = Literal["auto", "messages", "comm"]
COMM_TARGET = "beakerlike"


class ActionError(Exception):
    """An action replied ``error`` or ``aborted``; carries ``ename``, ``evalue``, ``traceback``."""

    def __init__(self, action: str, content: Mapping[str, Any]) -> None:
        self.action = action
        self.content = dict(content)
        self.status: str = content.get("status", "error")
        self.ename: str = content.get("ename", "Aborted" if self.status == "aborted" else "Error")
        self.evalue: str = content.get("evalue", content.get("reason", ""))
        self.traceback: list[str] = list(content.get("traceback", []))
        self.errors: list[dict[str, Any]] = list(content.get("errors", []))
        super().__init__(f"{action}: {self.ename}: {self.evalue}")


class ActionAborted(ActionError):
    """The action was cancelled (interrupt or shutdown) and replied ``aborted``."""


@dataclass
class Exchange:
    """Everything a request produced: the reply and its iopub messages, in arrival order."""

    request: dict[str, Any]
    reply: dict[str, Any] | None = None
    #: How many shell replies arrived for this request (the protocol promises exactly one).
    replies: int = 0
    iopub: list[dict[str, Any]] = field(default_factory=list)
    idle: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)

    @property
    def content(self) -> dict[str, Any]:
        """The reply's content."""
        assert self.reply is not None
        return self.reply["content"]

    def of_type(self, msg_type: str) -> list[dict[str, Any]]:
        """The iopub messages of one type."""
        return [m for m in self.iopub if m["header"]["msg_type"] == msg_type]


@dataclass
class _CommCall:
    """One action request in flight on the comm: its responses, then its reply."""

    action: str
    queue: asyncio.Queue[tuple[str, dict[str, Any] | None]] = field(default_factory=asyncio.Queue)


class KernelClient:
    """A connection to one kernel, started by us or already running.

    ``transport`` chooses how actions travel (see :data:`Transport`); after connecting,
    :attr:`transport` holds the one in use.
    """

    def __init__(
        self,
        client: AsyncKernelClient,
        manager: AsyncKernelManager | None = None,
        *,
        transport: Transport = "auto",
        probe_timeout: float = 2.0,
    ) -> None:
        if transport not in ("auto", "messages", "comm"):
            raise ValueError(f"transport must be 'auto', 'messages' or 'comm', not {transport!r}")
        self.client = client
        self.manager = manager
        self.transport: Transport = transport
        self.probe_timeout = probe_timeout
        self._pending: dict[str, Exchange] = {}
        self._readers: list[asyncio.Task[None]] = []
        self.unrouted: list[dict[str, Any]] = []
        #: Called with every iopub message whose parent is not one of ours (e.g. previews of cells).
        self.on_iopub: Callable[[dict[str, Any]], None] | None = None
        #: Over the comm: called with each ``{"variables", "metadata"}`` preview after ``preview_watch``.
        self.on_preview: Callable[[dict[str, Any]], None] | None = None
        #: Over the comm: the kernel's ``hello`` (``beakerlike_version``, ``protocol_version``, ``features``).
        self.hello: dict[str, Any] | None = None
        self.comm_id: str | None = None
        self._comm_calls: dict[str, _CommCall] = {}
        self._comm_ready: asyncio.Event | None = None
        self._comm_closed = False

    # -- lifecycle -------------------------------------------------------------
    @classmethod
    async def start(
        cls,
        kernel_name: str = KERNEL_NAME,
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        ready_timeout: float = 60,
        transport: Transport = "auto",
    ) -> KernelClient:
        """Start a new kernel process from a kernelspec and connect to it."""
        manager = AsyncKernelManager(kernel_name=kernel_name)
        kwargs: dict[str, Any] = {}
        if env is not None:
            kwargs["env"] = dict(env)
        if cwd is not None:
            kwargs["cwd"] = cwd
        await manager.start_kernel(**kwargs)
        client = manager.client()
        self = cls(client, manager, transport=transport)
        try:
            await self._connect(ready_timeout)
        except BaseException:
            await manager.shutdown_kernel(now=True)
            raise
        return self

    @classmethod
    async def connect(
        cls, connection_file: str, *, ready_timeout: float = 30, transport: Transport = "auto"
    ) -> KernelClient:
        """Connect to a running kernel through its connection file."""
        client = AsyncKernelClient(connection_file=connection_file)
        client.load_connection_file()
        self = cls(client, transport=transport)
        await self._connect(ready_timeout)
        return self

    async def _connect(self, timeout: float) -> None:
        self.client.start_channels()
        try:
            await self.client.wait_for_ready(timeout=timeout)
        except BaseException:  # no kernel answered: do not leak the channels' sockets
            self.client.stop_channels()
            raise
        self._readers = [
            asyncio.create_task(self._read(self.client.get_shell_msg, "shell")),
            asyncio.create_task(self._read(self.client.get_iopub_msg, "iopub")),
        ]
        try:
            if self.transport == "auto":
                self.transport = "messages" if await self._answers_messages() else "comm"
            if self.transport == "comm":
                await self._open_comm(timeout)
        except BaseException:
            await self.close(shutdown=False)
            raise

    async def _answers_messages(self) -> bool:
        """Whether action messages reach the kernel.

        True for a kernel that is not beakerlike (nothing else to try) or one that answers a
        ``context_info_request`` within :attr:`probe_timeout`.
        """
        info = await self.request("kernel_info_request", {}, timeout=max(self.probe_timeout, 10))
        if protocol.FEATURE not in info.content.get("supported_features", []):
            return True
        ex = self.send(protocol.request_type("context_info"), {})
        try:
            await asyncio.wait_for(ex.done.wait(), self.probe_timeout)
            return True
        except asyncio.TimeoutError:
            log.info("no context_info_reply within %g s: using the beakerlike comm", self.probe_timeout)
            return False
        finally:
            self._pending.pop(ex.request["header"]["msg_id"], None)

    async def _open_comm(self, timeout: float) -> None:
        self.comm_id = uuid.uuid4().hex
        self._comm_ready = asyncio.Event()
        msg = self.client.session.msg("comm_open", {"comm_id": self.comm_id, "target_name": COMM_TARGET, "data": {}})
        _send_on(self.client.shell_channel, self.client.session, msg)
        try:
            await asyncio.wait_for(self._comm_ready.wait(), timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"no hello on the {COMM_TARGET!r} comm within {timeout:g} s") from None
        if self.hello is None:
            raise RuntimeError(f"the kernel closed the {COMM_TARGET!r} comm: it is not a beakerlike kernel")

    async def close(self, *, shutdown: bool = True) -> None:
        """Stop reading (closing our comm, if any); shut the kernel down if we started it."""
        if self.comm_id is not None and not self._comm_closed:
            self._comm_closed = True
            msg = self.client.session.msg("comm_close", {"comm_id": self.comm_id, "data": {}})
            with contextlib.suppress(Exception):
                _send_on(self.client.shell_channel, self.client.session, msg)
        for t in self._readers:
            t.cancel()
        for t in self._readers:
            with contextlib.suppress(BaseException):
                await t
        self.client.stop_channels()
        if shutdown and self.manager is not None:
            await self.manager.shutdown_kernel(now=False)

    async def __aenter__(self) -> KernelClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- routing ---------------------------------------------------------------
    async def _read(self, get: Callable[..., Any], channel: str) -> None:
        while True:
            try:
                # A bounded poll re-checks the socket's level, so a lost wake-up
                # (see _send_on) can delay a message by at most this long.
                msg = await get(timeout=READ_POLL_INTERVAL)
            except queue.Empty:
                continue
            if channel == "iopub" and self.comm_id is not None and self._route_comm(msg):
                continue
            parent = msg.get("parent_header", {}).get("msg_id")
            ex = self._pending.get(parent) if parent else None
            if ex is None:
                if channel == "iopub" and self.on_iopub is not None:
                    try:
                        self.on_iopub(msg)
                    except Exception:  # a faulty callback must not stop the routing of every reply
                        log.exception("KernelClient.on_iopub raised; message skipped")
                else:
                    self.unrouted.append(msg)
                    del self.unrouted[:-1000]
                continue
            if channel == "shell":
                ex.reply = msg
                ex.replies += 1
            else:
                ex.iopub.append(msg)
                if msg["header"]["msg_type"] == "status" and msg["content"].get("execution_state") == "idle":
                    ex.idle = True
            ex.queue.put_nowait(msg)
            if ex.reply is not None and ex.idle:
                ex.done.set()

    def _route_comm(self, msg: dict[str, Any]) -> bool:
        """Deliver a message of our comm; False if it is not one."""
        msg_type = msg["header"]["msg_type"]
        if msg_type not in ("comm_msg", "comm_close") or msg["content"].get("comm_id") != self.comm_id:
            return False
        if msg_type == "comm_close":
            self._comm_closed = True
            for call in self._comm_calls.values():
                call.queue.put_nowait(("closed", None))
            if self._comm_ready is not None:
                self._comm_ready.set()
            return True
        data = msg["content"].get("data") or {}
        if "hello" in data:
            self.hello = data["hello"]
            if self._comm_ready is not None:
                self._comm_ready.set()
        elif "preview" in data:
            if self.on_preview is not None:
                try:
                    self.on_preview(data["preview"])
                except Exception:
                    log.exception("KernelClient.on_preview raised; preview skipped")
        else:
            kind = "response" if "response" in data else "reply" if "reply" in data else None
            call = self._comm_calls.get((data.get(kind) or {}).get("id")) if kind else None
            if call is None:
                self.unrouted.append(msg)
                del self.unrouted[:-1000]
            else:
                call.queue.put_nowait((kind, msg))
        return True

    def send(
        self,
        msg_type: str,
        content: Mapping[str, Any] | None = None,
        *,
        buffers: list[bytes] | None = None,
        channel: str = "shell",
        metadata: Mapping[str, Any] | None = None,
    ) -> Exchange:
        """Send one request and return its :class:`Exchange` (not yet complete).

        With ``channel="control"`` only the request's iopub messages are routed to the
        exchange (control replies are not read), so do not wait for it to complete.
        """
        msg = self.client.session.msg(msg_type, dict(content or {}), metadata=dict(metadata or {}))
        ex = Exchange(request=msg)
        self._pending[msg["header"]["msg_id"]] = ex
        if buffers:
            msg["buffers"] = list(buffers)
        chan = self.client.shell_channel if channel == "shell" else self.client.control_channel
        _send_on(chan, self.client.session, msg)
        return ex

    async def request(
        self, msg_type: str, content: Mapping[str, Any] | None = None, *, timeout: float | None = 60,
        **kwargs: Any,
    ) -> Exchange:
        """Send a request and wait for its reply and idle status."""
        ex = self.send(msg_type, content, **kwargs)
        try:
            await asyncio.wait_for(ex.done.wait(), timeout)
        finally:
            self._pending.pop(ex.request["header"]["msg_id"], None)
        return ex

    # -- actions ---------------------------------------------------------------
    async def call(
        self,
        action: str,
        payload: Mapping[str, Any] | None = None,
        /,
        *,
        buffers: list[bytes] | None = None,
        timeout: float | None = 60,
        on_response: Callable[[dict[str, Any]], Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Call an action and return its ``return`` value.

        Payload fields come from ``payload`` and/or keyword arguments. Raises
        :class:`ActionError` (or :class:`ActionAborted`) unless the reply is ``ok``.
        ``on_response`` sees each streamed ``<action>_response`` message as it arrives.
        ``timeout`` bounds the whole call (``TimeoutError``; ``None`` waits forever).
        """
        content = {**(payload or {}), **kwargs}
        if self.transport == "comm":
            return await self._comm_call(action, content, buffers, timeout, on_response)
        ex = self.send(protocol.request_type(action), content, buffers=buffers)
        rtype = protocol.response_type(action)
        try:
            with anyio.fail_after(timeout):
                while not (ex.reply is not None and ex.idle):
                    msg = await ex.queue.get()
                    if on_response is not None and msg["header"]["msg_type"] == rtype:
                        res = on_response(msg)
                        if asyncio.iscoroutine(res):
                            await res
        finally:
            self._pending.pop(ex.request["header"]["msg_id"], None)
        return _result(action, ex.content)

    async def stream(
        self, action: str, payload: Mapping[str, Any] | None = None, /, *,
        timeout: float | None = 60, **kwargs: Any,
    ) -> AsyncIterator[dict[str, Any]]:
        """Iterate over the content of each ``<action>_response``; raise on error at the end.

        ``timeout`` bounds the wait for each next message, not the whole stream.
        """
        content = {**(payload or {}), **kwargs}
        if self.transport == "comm":
            async for data in self._comm_stream(action, content, timeout):
                yield data
            return
        ex = self.send(protocol.request_type(action), content)
        rtype = protocol.response_type(action)
        try:
            while not (ex.reply is not None and ex.idle):
                msg = await asyncio.wait_for(ex.queue.get(), timeout)
                if msg["header"]["msg_type"] == rtype:
                    yield msg["content"]
        finally:
            self._pending.pop(ex.request["header"]["msg_id"], None)
        _result(action, ex.content)

    # -- the comm binding ------------------------------------------------------
    def _comm_send(self, data: dict[str, Any], buffers: list[bytes] | None = None) -> None:
        if self.comm_id is None or self._comm_closed:
            raise ConnectionError(f"the {COMM_TARGET!r} comm is not open")
        msg = self.client.session.msg("comm_msg", {"comm_id": self.comm_id, "data": data})
        if buffers:
            msg["buffers"] = list(buffers)
        _send_on(self.client.shell_channel, self.client.session, msg)

    async def _comm_exchange(
        self, action: str, payload: dict[str, Any], buffers: list[bytes] | None
    ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """Send one request on the comm; yield ``("response", message)``s, then ``("reply", content)``.

        If the caller stops early (timeout, cancellation) the kernel is told to cancel the request.
        """
        rid = uuid.uuid4().hex
        call = self._comm_calls[rid] = _CommCall(action)
        replied = False
        try:
            self._comm_send({"request": {"id": rid, "action": action, "payload": payload}}, buffers)
            while True:
                kind, msg = await call.queue.get()
                if kind == "closed" or msg is None:
                    raise ConnectionError(f"the {COMM_TARGET!r} comm closed before {action!r} replied")
                body = msg["content"]["data"][kind]
                if kind == "reply":
                    replied = True
                    yield kind, {k: v for k, v in body.items() if k != "id"}
                    return
                yield kind, _as_response(action, msg, body.get("data"))
        finally:
            self._comm_calls.pop(rid, None)
            if not replied and not self._comm_closed:
                with contextlib.suppress(Exception):
                    self._comm_send({"cancel": {"id": rid}})

    async def _comm_call(
        self, action: str, payload: dict[str, Any], buffers: list[bytes] | None, timeout: float | None,
        on_response: Callable[[dict[str, Any]], Any] | None,
    ) -> Any:
        exchange = self._comm_exchange(action, payload, buffers)
        try:
            with anyio.fail_after(timeout):
                async for kind, item in exchange:
                    if kind == "reply":
                        return _result(action, item)
                    if on_response is not None:
                        res = on_response(item)
                        if asyncio.iscoroutine(res):
                            await res
        finally:
            await exchange.aclose()
        raise AssertionError("unreachable: a comm exchange ends with its reply")  # pragma: no cover

    async def _comm_stream(self, action: str, payload: dict[str, Any], timeout: float | None
                           ) -> AsyncIterator[dict[str, Any]]:
        exchange = self._comm_exchange(action, payload, None)
        try:
            while True:
                kind, item = await asyncio.wait_for(exchange.__anext__(), timeout)
                if kind == "reply":
                    _result(action, item)
                    return
                yield item["content"]
        finally:
            await exchange.aclose()

    async def execute(self, code: str, *, timeout: float | None = 60, silent: bool = False) -> Exchange:
        """Run a cell and wait for its reply and idle; the exchange holds its output."""
        return await self.request(
            "execute_request",
            {"code": code, "silent": silent, "store_history": not silent, "user_expressions": {},
             "allow_stdin": False, "stop_on_error": False},
            timeout=timeout,
        )

    async def info(self) -> dict[str, Any]:
        """``context_info``'s return: actions, contexts, plugin errors."""
        return await self.call("context_info")

    async def interrupt(self) -> None:
        """Interrupt the kernel: running actions reply ``aborted``.

        In message mode (the beakerlike kernelspec) this returns once the kernel has answered
        the ``interrupt_request``, so a request sent afterwards is not interrupted.
        """
        spec = getattr(self.manager, "kernel_spec", None) if self.manager is not None else None
        if self.manager is not None and getattr(spec, "interrupt_mode", "signal") != "message":
            await self.manager.interrupt_kernel()
        else:
            msg = self.client.session.msg("interrupt_request", {})
            _send_on(self.client.control_channel, self.client.session, msg)
            with anyio.fail_after(10):
                while True:
                    reply = await self.client.control_channel.get_msg(timeout=None)
                    if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
                        return


#: Seconds a reader waits on a socket before re-checking it (safety net, not a latency).
READ_POLL_INTERVAL = 0.5


def _send_on(channel: Any, session: Any, msg: dict[str, Any]) -> None:
    """Send ``msg`` through the channel's asyncio socket itself.

    ``Session.send`` writes on a *sync shadow* of an asyncio socket. That raw send
    lets libzmq consume the socket's pending "readable" notification (its FD is
    edge-triggered) without pyzmq's asyncio layer noticing, so a reader already
    waiting on the socket may never wake up: after one earlier request, a burst
    of a few hundred requests left every reply unread. Sending through the
    asyncio socket keeps pyzmq's bookkeeping, which re-checks pending reads.
    """
    frames = session.serialize(msg)
    frames.extend(msg.get("buffers") or [])
    channel.socket.send_multipart(frames, copy=False)


def _as_response(action: str, msg: dict[str, Any], data: Any) -> dict[str, Any]:
    """A comm ``response`` in the shape of the ``<action>_response`` message it stands for."""
    return {
        "header": {**msg["header"], "msg_type": protocol.response_type(action)},
        "parent_header": msg.get("parent_header", {}),
        "metadata": msg.get("metadata", {}),
        "content": data,
        "buffers": msg.get("buffers", []),
    }


def _result(action: str, content: Mapping[str, Any]) -> Any:
    status = content.get("status")
    if status == "ok":
        return content.get("return")
    if status == "aborted":
        raise ActionAborted(action, content)
    raise ActionError(action, content)

