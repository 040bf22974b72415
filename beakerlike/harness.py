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

It is fast (no kernel process) and checks the handler, its payload model and what it
publishes. Use :func:`beakerlike.testing.running_kernel` for the real wire path.
"""

from __future__ import annotations

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


class _LooseActions:
    """Wraps handlers given directly to the harness as one plugin."""

    def __init__(self, items: list[Any]) -> None:
        self.items = items

    @hookimpl
    def register_actions(self, register: Any) -> None:
        for item in self.items:
            register(item)


class Harness:
    """A kernel stand-in: a plugin host, a namespace and a recording publisher.

    ``plugins`` are module names (as in ``BEAKERLIKE_PLUGINS``), modules, plugin
    objects, or handler functions (``@action``-decorated or plain). Built-in plugins
    load too unless ``builtins=False``; installed entry points only with ``autoload=True``.
    Handlers receive this object as ``req.kernel`` (it has ``host``,
    ``callable_actions()`` and ``shell = None``).
    """

    shell: Any = None

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

    @property
    def errors(self) -> list[Any]:
        """Plugin errors recorded while loading (and in hooks since)."""
        return self.host.errors

    def callable_actions(self) -> dict[str, Action]:
        """Every loaded action by name."""
        return dict(self.host.actions)

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

        act = self.host.actions.get(action)
        if act is None:
            known = [n for n, a in self.host.actions.items() if a.scope == "public"]
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
        try:
            reply = await run_action(act, request, scope=scope, serial_lock=self._serial_lock,
                                     reason=lambda: self._reasons.get(msg_id, "interrupted"))
        finally:
            self.running.pop(msg_id, None)
            self._reasons.pop(msg_id, None)
        return Outcome(action, reply, published)

    async def call(self, action: str, payload: Mapping[str, Any] | None = None, /, **kwargs: Any) -> Any:
        """Like :meth:`run` but return the value, raising :class:`beakerlike.ActionError` unless ``ok``."""
        return (await self.run(action, payload, **kwargs)).value

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


def _is_handler(obj: Any) -> bool:
    return isinstance(obj, Action) or action_of(obj) is not None or (
        callable(obj) and not isinstance(obj, type) and hasattr(obj, "__code__"))
