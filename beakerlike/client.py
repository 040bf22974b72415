"""An async client for beakerlike kernels, on top of jupyter_client.

    async with await KernelClient.start() as kernel:
        result = await kernel.call("save_var", name="df")
        async for response in kernel.stream("train", epochs=3):
            print(response)

Replies and iopub messages are routed by parent ``msg_id``, so any number of
requests can be in flight at once; a call completes when both its reply and its
``status: idle`` have arrived (their order on the wire is not fixed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio
from jupyter_client import AsyncKernelClient, AsyncKernelManager

from . import protocol
from .kernelspec import KERNEL_NAME

log = logging.getLogger("beakerlike.client")


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


class KernelClient:
    """A connection to one kernel, started by us or already running."""

    def __init__(self, client: AsyncKernelClient, manager: AsyncKernelManager | None = None) -> None:
        self.client = client
        self.manager = manager
        self._pending: dict[str, Exchange] = {}
        self._readers: list[asyncio.Task[None]] = []
        self.unrouted: list[dict[str, Any]] = []
        #: Called with every iopub message whose parent is not one of ours (e.g. previews of cells).
        self.on_iopub: Callable[[dict[str, Any]], None] | None = None

    # -- lifecycle -------------------------------------------------------------
    @classmethod
    async def start(
        cls,
        kernel_name: str = KERNEL_NAME,
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        ready_timeout: float = 60,
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
        self = cls(client, manager)
        try:
            await self._connect(ready_timeout)
        except BaseException:
            await manager.shutdown_kernel(now=True)
            raise
        return self

    @classmethod
    async def connect(cls, connection_file: str, *, ready_timeout: float = 30) -> KernelClient:
        """Connect to a running kernel through its connection file."""
        client = AsyncKernelClient(connection_file=connection_file)
        client.load_connection_file()
        self = cls(client)
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

    async def close(self, *, shutdown: bool = True) -> None:
        """Stop reading; shut the kernel down if we started it."""
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


def _result(action: str, content: Mapping[str, Any]) -> Any:
    status = content.get("status")
    if status == "ok":
        return content.get("return")
    if status == "aborted":
        raise ActionAborted(action, content)
    raise ActionError(action, content)

