"""An in-process harness: call action handlers the way the kernel does, without ZMQ.

The harness loads plugins into a real :class:`~beakerlike.plugins.PluginHost` and runs
each call through :func:`beakerlike.dispatch.run_action` (validation, streaming, one
reply) with a recording publisher and a plain dict as the user namespace::

    from beakerlike.testing import Harness

    async def test_hello():
        harness = Harness("beakerlike_hello")
        outcome = await harness.run("hello", name="Ada")
        assert outcome.value == "Hello, Ada!"
        assert outcome.responses == [{"progress": 1.0}]

The harness also has what hooks and contexts need: a small namespace-backed
``shell`` (``shell.user_ns``), the real context manager (``harness.contexts``) and
preview engine (``harness.preview``), ``kernel_started`` hooks run when it is built,
and :meth:`Harness.execute` runs code as a cell, firing ``before_execute`` and
``after_execute`` (so previews are published to watchers)::

    harness = Harness("my_plugin")
    await harness.call("context_setup", context="mine")
    executed = await harness.execute("x = 1")
    assert executed.previews[0]["variables"]["x"]

It is fast (no kernel process) and checks the handler, its payload model and what it
publishes. What needs a real kernel (ZMQ, comms, subshells, interrupting a cell,
IPython magics) raises an error naming the ``beakerlike_kernel`` fixture; use it, or
:func:`beakerlike.testing.running_kernel`, for the real wire path.
"""

from __future__ import annotations

import ast
import contextlib
import contextvars
import io
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import anyio

from . import protocol
from .actions import Action, action_of
from .dispatch import run_action, unknown_action_reply
from .hookspecs import hookimpl
from .plugins import PluginHost
from .request import Request


@dataclass
class Published:
    """One iopub message the handler published (``<action>_response``, ``display_data``...)."""

    msg_type: str
    content: dict[str, Any]
    buffers: list[bytes] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    """Everything one call produced: the reply content and the published messages."""

    action: str
    reply: dict[str, Any]
    published: list[Published]

    @property
    def status(self) -> str:
        """``ok``, ``error`` or ``aborted``."""
        return str(self.reply.get("status"))

    @property
    def responses(self) -> list[dict[str, Any]]:
        """Contents of the streamed ``<action>_response`` messages, in order."""
        return [p.content for p in self.of_type(protocol.response_type(self.action))]

    def of_type(self, msg_type: str) -> list[Published]:
        """Published messages of one type."""
        return [p for p in self.published if p.msg_type == msg_type]

    @property
    def value(self) -> Any:
        """The reply's ``return``; raises :class:`beakerlike.ActionError` unless ``ok``."""
        from .client import _result

        return _result(self.action, self.reply)


@dataclass
class Executed:
    """What :meth:`Harness.execute` produced: IPython's ``ExecutionResult`` plus the output."""

    #: IPython's ``ExecutionResult`` (``success``, ``result``, ``error_in_exec``, ``info.raw_cell``),
    #: the object ``after_execute`` hooks received.
    result: Any
    #: What the cell printed (hook output goes to the kernel log, not here).
    stdout: str
    stderr: str
    #: iopub messages published while the cell and its hooks ran (e.g. ``preview``).
    published: list[Published]

    @property
    def success(self) -> bool:
        """Whether the cell ran without raising."""
        return bool(self.result.success)

    @property
    def previews(self) -> list[dict[str, Any]]:
        """Contents of the ``preview`` messages the cell caused, each with its ``metadata`` merged in."""
        return [{**p.content, **p.metadata} for p in self.published if p.msg_type == protocol.PREVIEW_MSG_TYPE]


class HarnessShell:
    """The part of IPython's shell that hooks and the preview engine use, backed by a dict.

    ``user_ns`` is the harness's namespace and ``user_ns_hidden`` is empty. Cells run
    with plain ``exec``: IPython syntax (magics, ``!cmd``) needs the ``beakerlike_kernel``
    fixture.
    """

    def __init__(self, namespace: MutableMapping[str, Any]) -> None:
        self.user_ns = namespace
        self.user_ns_hidden: dict[str, Any] = {}
        self.execution_count = 0

    def transform_cell(self, code: str) -> str:
        """Identity (IPython would expand magics here)."""
        return code

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(
            f"the harness shell has no {name!r}: it is a namespace-backed stand-in for IPython's shell "
            f"(user_ns, user_ns_hidden, transform_cell); use the beakerlike_kernel fixture for a real one")


_sink: contextvars.ContextVar[tuple[list[Published], dict[str, Any]] | None] = contextvars.ContextVar(
    "beakerlike_harness_sink", default=None)


class _RecordingSession:
    """Stands in for ``kernel.session``: ``send`` records into the current call's published messages."""

    def __init__(self, harness: Harness) -> None:
        self.harness = harness
        self.session = "harness"

    def send(self, stream: Any, msg_type: str, content: Any = None, parent: Any = None, ident: Any = None,
             buffers: Any = None, metadata: Any = None, **_: Any) -> dict[str, Any]:
        """Record one message (``stream`` and ``ident`` are ignored)."""
        msg = Published(msg_type, dict(content or {}), [bytes(b) for b in buffers or []], dict(metadata or {}))
        current = _sink.get()
        (current[0] if current is not None else self.harness.unparented).append(msg)
        return {"header": {"msg_type": msg_type}, "content": msg.content, "parent_header": parent or {}}


class _LooseActions:
    """Wraps handlers given directly to the harness as one plugin."""

    def __init__(self, items: list[Any]) -> None:
        self.items = items

    @hookimpl
    def register_actions(self, register: Any) -> None:
        for item in self.items:
            register(item)


class Harness:
    """A kernel stand-in: a plugin host, a namespace-backed shell and a recording publisher.

    ``plugins`` are module names (as in ``BEAKERLIKE_PLUGINS``), modules, plugin
    objects, or handler functions (``@action``-decorated or plain). Built-in plugins
    load too unless ``builtins=False`` (then there are no ``contexts``, no ``preview``
    and no built-in actions); installed entry points only with ``autoload=True``.
    Building the harness runs the ``kernel_started`` hooks, as a kernel does.
    Handlers and hooks receive this object as ``kernel`` (``req.kernel``): it has
    ``host``, ``shell`` (:class:`HarnessShell`), ``contexts``, ``preview``, ``log``,
    ``session`` (recording), ``callable_actions()`` and ``resolve_action()``.
    Messages published outside any call or cell land in :attr:`unparented`.
    """

    def __init__(
        self,
        *plugins: str | ModuleType | Any,
        namespace: MutableMapping[str, Any] | None = None,
        builtins: bool = True,
        autoload: bool = False,
        env: Mapping[str, str] | None = None,
    ) -> None:
        names = [p for p in plugins if isinstance(p, str)]
        loose = [p for p in plugins if not isinstance(p, str | ModuleType) and _is_handler(p)]
        objects: list[Any] = [p for p in plugins if not isinstance(p, str) and p not in loose]
        if loose:
            objects.append(_LooseActions(loose))
        full_env = dict(env or {})
        if not autoload:
            full_env["BEAKERLIKE_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        self.host = PluginHost().load(full_env, builtins=builtins, extra_modules=names, extra_plugins=objects)
        self.namespace: MutableMapping[str, Any] = {} if namespace is None else namespace
        self.running: dict[str, anyio.CancelScope] = {}
        self._reasons: dict[str, str] = {}
        self._serial_lock = anyio.Lock()
        self.shell = HarnessShell(self.namespace)
        self.session = _RecordingSession(self)
        self.iopub_socket: Any = None
        #: The kernel log stand-in (a real kernel's ``kernel.log`` writes to the process's stderr).
        self.log = logging.getLogger("beakerlike.harness")
        self.unparented: list[Published] = []
        self._closed = False
        self.host.call_each("kernel_started", kernel=self)

    def __getattr__(self, name: str) -> Any:
        # Only called for attributes the harness lacks: say what to use instead of a bare AttributeError.
        if name.startswith("__"):
            raise AttributeError(name)
        hint = ("it is set by the built-in plugins: build the Harness with builtins=True"
                if name in ("contexts", "preview", "preview_publisher") else
                "the in-process harness has no ZMQ sockets, comms, subshells or IPython; use the "
                "beakerlike_kernel fixture (a real kernel process) to test this")
        raise AttributeError(f"Harness has no attribute {name!r}: {hint}")

    # -- what the kernel's built-in plugins use ---------------------------------
    def get_parent(self, channel: str = "shell") -> dict[str, Any]:
        """The message being handled (the request, or the cell's stand-in ``execute_request``)."""
        current = _sink.get()
        return current[1] if current is not None else {}

    def _topic(self, msg_type: str) -> bytes:
        return f"kernel.harness.{msg_type}".encode()

    def resolve_action(self, name: str) -> Action | None:
        """The action a ``<name>_request`` calls (the active context's first), or ``None``."""
        contexts = self.__dict__.get("contexts")
        if contexts is not None:
            found = contexts.resolve_action(name)
            if found is not None:
                return found
        return self.host.actions.get(name)

    @property
    def errors(self) -> list[Any]:
        """Plugin errors recorded while loading (and in hooks since)."""
        return self.host.errors

    def callable_actions(self) -> dict[str, Action]:
        """Every action callable now, by name (plugin actions plus the active context's)."""
        actions = dict(self.host.actions)
        contexts = self.__dict__.get("contexts")
        if contexts is not None:
            actions.update(contexts.active_actions())
        return actions

    async def run(
        self,
        action: str,
        payload: Mapping[str, Any] | Any = None,
        /,
        *,
        buffers: Iterable[bytes] = (),
        metadata: Mapping[str, Any] | None = None,
        on_publish: Callable[[Published], Any] | None = None,
        **fields: Any,
    ) -> Outcome:
        """Call ``action`` with ``payload`` and/or keyword fields; never raises for the handler's fault.

        ``on_publish`` sees each published message as it happens (e.g. to cancel mid-way).
        """
        content = payload if payload is not None and not fields else {**(payload or {}), **fields}
        published: list[Published] = []

        def publish(msg_type: str, content: dict[str, Any], buffers: list[bytes] | None = None) -> None:
            published.append(Published(msg_type, content, [bytes(b) for b in buffers or []]))
            if on_publish is not None:
                on_publish(published[-1])

        act = self.resolve_action(action)
        if act is None:
            known = [n for n, a in self.callable_actions().items() if a.scope == "public"]
            return Outcome(action, unknown_action_reply(action, known), published)
        msg_id = uuid.uuid4().hex
        message = {
            "header": {"msg_id": msg_id, "msg_type": protocol.request_type(action), "session": "harness"},
            "content": content,
            "metadata": dict(metadata or {}),
            "buffers": [bytes(b) for b in buffers],
        }
        request = Request(action, message, publish=publish, namespace=self.namespace, kernel=self,
                          coalesce=act.coalesce)
        scope = anyio.CancelScope()
        self.running[msg_id] = scope
        token = _sink.set((_Recorder(published, on_publish), message))
        try:
            reply = await run_action(act, request, scope=scope, serial_lock=self._serial_lock,
                                     reason=lambda: self._reasons.get(msg_id, "interrupted"))
        finally:
            _sink.reset(token)
            self.running.pop(msg_id, None)
            self._reasons.pop(msg_id, None)
        return Outcome(action, reply, published)

    async def call(self, action: str, payload: Mapping[str, Any] | None = None, /, **kwargs: Any) -> Any:
        """Like :meth:`run` but return the value, raising :class:`beakerlike.ActionError` unless ``ok``."""
        return (await self.run(action, payload, **kwargs)).value

    async def execute(self, code: str) -> Executed:
        """Run ``code`` in the namespace as a cell, firing ``before_execute`` and ``after_execute``.

        Like IPython, a trailing expression's value is ``result.result`` and top-level
        ``await`` works. An exception in the cell is not raised: it is
        ``result.error_in_exec`` (``success`` is false) and its traceback goes to ``stderr``.
        """
        from IPython.core.interactiveshell import ExecutionInfo, ExecutionResult

        self.shell.execution_count += 1
        info = ExecutionInfo(code, store_history=True, silent=False, shell_futures=True, cell_id=None)
        result = ExecutionResult(info)
        result.execution_count = self.shell.execution_count
        published: list[Published] = []
        parent = {"header": {"msg_id": uuid.uuid4().hex, "msg_type": "execute_request", "session": "harness"},
                  "content": {"code": code}}
        out, err = io.StringIO(), io.StringIO()
        token = _sink.set((published, parent))
        try:
            self.host.call_each("before_execute", kernel=self, info=info)
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    result.result = await self._run_cell(code)
                except Exception as exc:
                    result.error_in_exec = exc
                    import traceback

                    traceback.print_exception(type(exc), exc, exc.__traceback__, file=err)
            self.host.call_each("after_execute", kernel=self, result=result)
        finally:
            _sink.reset(token)
        return Executed(result, out.getvalue(), err.getvalue(), published)

    async def _run_cell(self, code: str) -> Any:
        flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        tree = ast.parse(code, "<harness cell>", "exec")
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        ns = self.namespace
        ns.setdefault("__builtins__", __builtins__)
        for node, mode in ((tree, "exec"), (ast.Expression(last.value) if last else None, "eval")):
            if node is None:
                continue
            value = eval(compile(node, "<harness cell>", mode, flags=flags), ns)  # noqa: S307 - the test's own code
            if hasattr(value, "__await__") and getattr(value, "cr_code", None) is not None:
                value = await value
            if mode == "eval":
                return value
        return None

    def close(self) -> None:
        """Cancel running calls and run the ``kernel_shutdown`` hooks (once), as a shutdown does."""
        if self._closed:
            return
        self._closed = True
        self.cancel_actions("shutdown")
        self.host.call_each("kernel_shutdown", kernel=self)

    def cancel_action(self, msg_id: str, reason: str = "cancelled") -> bool:
        """Cancel one running call by its ``msg_id`` (it replies ``aborted``); ``False`` if none."""
        scope = self.running.get(msg_id)
        if scope is None:
            return False
        self._reasons[msg_id] = reason
        scope.cancel()
        return True

    def cancel_actions(self, reason: str = "interrupted") -> int:
        """Cancel every running call (they reply ``aborted``), as an interrupt does."""
        running = list(self.running.items())
        for msg_id, scope in running:
            self._reasons[msg_id] = reason
            scope.cancel()
        return len(running)


class _Recorder(list):  # type: ignore[type-arg]
    """A call's published list that also tells ``on_publish`` about messages sent through ``session``."""

    def __init__(self, target: list[Published], on_publish: Callable[[Published], Any] | None) -> None:
        super().__init__()
        self.target, self.on_publish = target, on_publish

    def append(self, item: Published) -> None:  # type: ignore[override]
        """Record ``item`` in the call's outcome."""
        self.target.append(item)
        if self.on_publish is not None:
            self.on_publish(item)


def _is_handler(obj: Any) -> bool:
    return isinstance(obj, Action) or action_of(obj) is not None or (
        callable(obj) and not isinstance(obj, type) and hasattr(obj, "__code__"))
