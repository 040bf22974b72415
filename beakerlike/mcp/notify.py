"""Change notifications to every connected MCP client, in both protocol eras.

2026-07-28 clients get events through ``subscriptions/listen`` (the SDK's
:class:`~mcp.server.subscriptions.ListenHandler` on a bus); handshake-era clients
(Claude Desktop today) get notifications on their connection, remembered at
``notifications/initialized``.
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from typing import Any

import anyio
import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.subscriptions import InMemorySubscriptionBus, ListenHandler
from mcp.shared.exceptions import MCPError
from mcp.shared.subscriptions import ResourcesListChanged, ResourceUpdated, ToolsListChanged

from . import resources
from .bridge import KernelBridge

log = logging.getLogger("beakerlike.mcp")

RESOURCE_NOT_FOUND = -32002


def resource_target(uri: str) -> resources.Target:
    """What ``uri`` names, or an MCP "resource not found" error saying why."""
    try:
        return resources.parse(str(uri))
    except resources.BadUri as exc:
        raise MCPError(RESOURCE_NOT_FOUND, str(exc)) from None


def _connection_key(ctx: ServerRequestContext[Any]) -> object:
    # One ServerSession is built per request; they share the connection object.
    return getattr(ctx.session, "_connection", ctx.session)


class Notifier:
    """Sends tool-list and resource notifications to every connected client."""

    def __init__(self, bridge: KernelBridge) -> None:
        self.bridge = bridge
        self.bus = InMemorySubscriptionBus()
        self.listen = ListenHandler(self.bus)
        #: handshake-era connections: key -> (a session to notify through, subscribed URIs)
        self.legacy: dict[object, tuple[Any, set[str]]] = {}
        #: URIs subscribed through ``subscriptions/listen`` streams
        self.listened: Counter[str] = Counter()
        #: variable names as of the last ``resources/list`` and later previews (None: never listed)
        self.names: set[str] | None = None

    # -- handshake era -----------------------------------------------------------
    async def on_initialized(self, ctx: ServerRequestContext[Any], params: Any) -> None:
        """Remember a handshake-era connection so list changes reach it."""
        self.legacy.setdefault(_connection_key(ctx), (ctx.session, set()))

    async def on_subscribe(self, ctx: ServerRequestContext[Any], params: types.SubscribeRequestParams) -> Any:
        """``resources/subscribe``: validate the URI, watch previews while anyone subscribes."""
        resource_target(params.uri)
        _, uris = self.legacy.setdefault(_connection_key(ctx), (ctx.session, set()))
        if params.uri not in uris:
            uris.add(params.uri)
            await self.bridge.watch_variables(True)
        return types.EmptyResult()

    async def on_unsubscribe(self, ctx: ServerRequestContext[Any], params: types.UnsubscribeRequestParams) -> Any:
        """``resources/unsubscribe``."""
        entry = self.legacy.get(_connection_key(ctx))
        if entry is not None and params.uri in entry[1]:
            entry[1].discard(params.uri)
            await self.bridge.watch_variables(False)
        return types.EmptyResult()

    # -- 2026-07-28 era ----------------------------------------------------------
    async def on_listen(self, ctx: ServerRequestContext[Any], params: types.SubscriptionsListenRequestParams) -> Any:
        """``subscriptions/listen``: the SDK's handler, plus preview watching for our URIs."""
        uris = [u for u in (params.notifications.resource_subscriptions or []) if u.startswith("beakerlike://")]
        if uris:
            self.listened.update(uris)
            await self.bridge.watch_variables(True)
        try:
            return await self.listen(ctx, params)
        finally:
            if uris:
                self.listened.subtract(uris)
                self.listened += Counter()  # drop zero counts
                with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                    await self.bridge.watch_variables(False)

    # -- sending -----------------------------------------------------------------
    async def _each_legacy(self, send: Any) -> None:
        for key, (session, uris) in list(self.legacy.items()):
            try:
                await send(session, uris)
            except Exception as exc:  # a closed connection: forget it
                log.info("dropping an MCP connection (%s: %s)", type(exc).__name__, exc)
                self.legacy.pop(key, None)

    async def tools_changed(self) -> None:
        """``notifications/tools/list_changed`` to everyone."""
        await self.bus.publish(ToolsListChanged())
        await self._each_legacy(lambda session, uris: session.send_tool_list_changed())

    async def variables_changed(self, changed: list[str], removed: list[str], full: bool) -> None:
        """``resources/updated`` for the subscribed URIs a cell touched; ``list_changed`` if names came or went."""
        subscribed = set(self.listened) | {u for _, uris in self.legacy.values() for u in uris}
        touched = {resources.VARIABLES_URI, *(resources.item_uri(n) for n in [*changed, *removed])}
        items = touched - {resources.VARIABLES_URI}

        def hit(uri: str) -> bool:
            return full or uri in touched or any(uri.startswith(t + "/") for t in items)

        updated = sorted(u for u in subscribed if hit(u))
        for uri in updated:
            await self.bus.publish(ResourceUpdated(uri=uri))
        list_changed = False
        if self.names is not None:
            list_changed = full or bool(removed) or not set(changed) <= self.names
            self.names = (self.names | set(changed)) - set(removed)
        if list_changed:
            await self.bus.publish(ResourcesListChanged())

        async def send(session: Any, uris: set[str]) -> None:
            for uri in updated:
                if uri in uris:
                    await session.send_resource_updated(uri)
            if list_changed:
                await session.send_resource_list_changed()

        await self._each_legacy(send)
