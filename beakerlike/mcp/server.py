"""The MCP server (the SDK's low-level ``Server``) for one :class:`~.bridge.KernelBridge`.

Tools are built from ``context_info`` on every ``tools/list``; change notifications go
out both ways the SDK knows: as events on a subscription bus (``subscriptions/listen``,
2026-07-28 clients) and as notifications on each handshake-era connection.
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

import anyio
import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel.server import NotificationOptions, Server
from mcp.server.models import InitializationOptions
from mcp.server.subscriptions import InMemorySubscriptionBus, ListenHandler
from mcp.shared.exceptions import MCPError
from mcp.shared.subscriptions import ResourcesListChanged, ResourceUpdated, ToolsListChanged

from .._version import __version__
from . import resources
from .bridge import KernelBridge, Outcome, trim_traceback
from .config import McpConfig

log = logging.getLogger("beakerlike.mcp")

RESOURCE_NOT_FOUND = -32002
#: Variables per ``resources/list`` page (``nextCursor`` fetches the next).
RESOURCES_PAGE = 500

INSTRUCTIONS = (
    "Tools are the actions of a live beakerlike (Jupyter) kernel; their list follows the kernel's active "
    "context (switch_context changes it). Read beakerlike://variables for previews of the notebook's "
    "variables and beakerlike://variables/{name}/rows?offset=0&limit=50 to page a table."
)


class BeakerlikeServer(Server[Any]):
    """The low-level server, announcing ``listChanged`` for tools and resources by default."""

    def create_initialization_options(  # type: ignore[override]
        self,
        notification_options: NotificationOptions | None = None,
        experimental_capabilities: dict[str, dict[str, Any]] | None = None,
        extensions: dict[str, dict[str, Any]] | None = None,
    ) -> InitializationOptions:
        """Capabilities with ``tools.listChanged`` and ``resources.listChanged`` set."""
        options = notification_options or NotificationOptions(tools_changed=True, resources_changed=True)
        return super().create_initialization_options(options, experimental_capabilities, extensions)


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
        _target(params.uri)
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


def _target(uri: str) -> resources.Target:
    try:
        return resources.parse(str(uri))
    except resources.BadUri as exc:
        raise MCPError(RESOURCE_NOT_FOUND, str(exc)) from None


def _text(value: Any) -> list[types.TextContent]:
    return [types.TextContent(text=value if isinstance(value, str) else resources.dumps(value))]


def tool_result(outcome: Outcome) -> types.CallToolResult:
    """A reply as a tool result: ``return`` as structured content, errors with ename/evalue."""
    content = outcome.content
    printed = [types.TextContent(text=f"[{name}]\n{text}") for name, text in
               (("stdout", outcome.stdout), ("stderr", outcome.stderr)) if text]
    if outcome.status == "ok":
        value = content.get("return")
        structured = value if isinstance(value, dict) else {"result": value}
        return types.CallToolResult(content=_text(value) + printed, structured_content=structured)
    if outcome.status == "aborted":
        reason = content.get("reason", "aborted")
        detail = {"ename": "Aborted", "evalue": f"the action was cancelled ({reason})", "reason": reason}
    else:
        detail = {"ename": content.get("ename", "Error"), "evalue": content.get("evalue", ""),
                  "traceback": trim_traceback(list(content.get("traceback") or []))}
        if content.get("errors"):
            detail["errors"] = content["errors"]
    text = f"{detail['ename']}: {detail['evalue']}"
    if detail.get("traceback"):
        text += "\n" + "\n".join(detail["traceback"])
    return types.CallToolResult(content=[types.TextContent(text=text), *printed], structured_content=detail,
                                is_error=True)


def _switch_tool(bridge: KernelBridge) -> types.Tool:
    contexts = bridge.contexts
    lines = [f"- {name}: {(spec.get('docs') or '').strip().splitlines()[0] if spec.get('docs') else ''}"
             for name, spec in sorted(contexts.items())]
    return types.Tool(
        name="switch_context",
        description=("Switch the kernel's active context (the namespace is kept); the tool list changes to the "
                     f"new context's actions. Active now: {bridge.context}. Contexts:\n" + "\n".join(lines)),
        input_schema={
            "type": "object",
            "properties": {
                "context": {"type": "string", "enum": sorted(contexts) or [""], "description": "Context name."},
                "context_info": {"type": ["object", "null"], "default": None,
                                 "description": "The context's setup payload (its setup_schema)."},
            },
            "required": ["context"],
            "additionalProperties": False,
        },
    )


EXECUTE_TOOL = types.Tool(
    name="execute_code",
    description="Run Python code as a notebook cell in the kernel (arbitrary code execution); returns its output.",
    input_schema={
        "type": "object",
        "properties": {
            "code": {"type": "string", "description": "The cell's source."},
            "timeout": {"type": "number", "default": 60, "exclusiveMinimum": 0,
                        "description": "Seconds to wait before interrupting the cell."},
        },
        "required": ["code"],
        "additionalProperties": False,
    },
)


def tools_of(bridge: KernelBridge) -> list[types.Tool]:
    """The tool list: one per exposed action, then ``switch_context`` (and ``execute_code`` if enabled)."""
    tools = [types.Tool(name=name, description=spec.get("docs") or f"The {name!r} action.",
                        input_schema=spec.get("schema") or {"type": "object"})
             for name, spec in sorted(bridge.actions.items())]
    tools.append(_switch_tool(bridge))
    if bridge.config.execute_code:
        tools.append(EXECUTE_TOOL)
    return tools


def build_server(bridge: KernelBridge) -> tuple[BeakerlikeServer, Notifier]:
    """The MCP server for ``bridge``, and the notifier the bridge's change callbacks use."""
    notifier = Notifier(bridge)
    bridge.on_tools_changed = notifier.tools_changed
    bridge.on_variables_changed = notifier.variables_changed

    async def list_tools(ctx: ServerRequestContext[Any], params: Any) -> types.ListToolsResult:
        await bridge.refresh()  # announces a change not announced yet (e.g. a restart whose message was lost)
        return types.ListToolsResult(tools=tools_of(bridge))

    async def call_tool(ctx: ServerRequestContext[Any], params: types.CallToolRequestParams) -> types.CallToolResult:
        args = dict(params.arguments or {})

        async def report(progress: float, total: float | None, message: str | None) -> None:
            await ctx.session.report_progress(progress, total, message)

        if params.name == "switch_context":
            if not isinstance(args.get("context"), str):
                return _usage_error("switch_context needs 'context', the name of a context")
            info = args.get("context_info")
            if info is not None and not isinstance(info, dict):
                return _usage_error("'context_info' must be an object or null")
            outcome = await bridge.switch_context(args["context"], info)
            if outcome.status == "ok":
                outcome.content = {"status": "ok", "return": {"context": bridge.context,
                                                              "tools": [t.name for t in tools_of(bridge)]}}
            return tool_result(outcome)
        if params.name == "execute_code" and bridge.config.execute_code:
            code, timeout = args.get("code"), args.get("timeout", 60)
            if not isinstance(code, str) or not isinstance(timeout, int | float) or timeout <= 0:
                return _usage_error("execute_code needs 'code' (a string) and an optional positive 'timeout'")
            try:
                outcome = await bridge.execute(code, timeout=float(timeout))
            except TimeoutError:
                return _usage_error(f"the cell did not finish within {timeout:g} s and was interrupted",
                                    ename="Timeout")
            if outcome.status == "ok":
                outcome.content = {"status": "ok", "return": {"result": outcome.extra.get("result")}}
            return tool_result(outcome)
        if params.name not in bridge.actions:
            await bridge.refresh()
            if params.name not in bridge.actions:
                return _usage_error(f"no tool named {params.name!r}; available: "
                                    + ", ".join(t.name for t in tools_of(bridge)), ename="UnknownTool")
        return tool_result(await bridge.call_action(params.name, args, report))

    async def list_resources(ctx: ServerRequestContext[Any], params: Any) -> types.ListResourcesResult:
        try:
            start = int(params.cursor) if params is not None and params.cursor else 0
        except ValueError:
            raise MCPError(types.INVALID_PARAMS, f"invalid cursor {params.cursor!r}") from None
        snap = await bridge.snapshot()
        items = list((snap.get("variables") or {}).items())
        notifier.names = {name for name, _ in items}
        listed = [] if start else [types.Resource(
            uri=resources.VARIABLES_URI, name="variables", mime_type=resources.JSON_MIME,
            description="Previews of the notebook's variables (what a preview panel shows).")]
        for name, item in items[start:start + RESOURCES_PAGE]:
            listed.append(types.Resource(uri=resources.item_uri(name), name=name, mime_type=resources.JSON_MIME,
                                         description=resources.summary(item)))
        more = start + RESOURCES_PAGE < len(items)
        return types.ListResourcesResult(resources=listed, next_cursor=str(start + RESOURCES_PAGE) if more else None)

    async def list_templates(ctx: ServerRequestContext[Any], params: Any) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(resource_templates=[
            types.ResourceTemplate(uri_template=resources.ITEM_TEMPLATE, name="variable",
                                   mime_type=resources.JSON_MIME,
                                   description="The preview (mime bundle) of one variable."),
            types.ResourceTemplate(uri_template=resources.ROWS_TEMPLATE, name="rows",
                                   mime_type=resources.JSON_MIME,
                                   description=f"Rows offset..offset+limit of a table, array, list or dict "
                                               f"variable (limit <= {resources.MAX_ROWS}); columns: comma-separated."),
        ])

    async def read_resource(ctx: ServerRequestContext[Any], params: types.ReadResourceRequestParams) -> Any:
        uri = str(params.uri)
        target = _target(uri)
        if target.kind == "rows":
            assert target.name is not None
            try:
                value: Any = await bridge.page(target.name, target.offset, target.limit, target.columns)
            except Exception as exc:
                raise MCPError(RESOURCE_NOT_FOUND, f"{uri}: {getattr(exc, 'ename', type(exc).__name__)}: "
                                                   f"{getattr(exc, 'evalue', exc)}") from None
        else:
            snap = await bridge.snapshot()
            if target.kind == "variables":
                value = resources.variables_json(snap)
            else:
                items = snap.get("variables") or {}
                if target.name not in items:
                    raise MCPError(RESOURCE_NOT_FOUND, f"no variable named {target.name!r} is previewed "
                                                       f"(read {resources.VARIABLES_URI} for the list)")
                value = items[target.name]
        return types.ReadResourceResult(contents=[types.TextResourceContents(
            uri=uri, mime_type=resources.JSON_MIME, text=resources.dumps(value))])

    server = BeakerlikeServer(
        "beakerlike",
        version=__version__,
        instructions=INSTRUCTIONS,
        get_tool_input_schema=lambda name: bridge.actions.get(name, {}).get("schema"),
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_list_resource_templates=list_templates,
        on_read_resource=read_resource,
        on_subscribe_resource=notifier.on_subscribe,
        on_unsubscribe_resource=notifier.on_unsubscribe,
        on_subscriptions_listen=notifier.on_listen,
    )
    server.add_notification_handler("notifications/initialized", types.NotificationParams, notifier.on_initialized)
    return server, notifier


def _usage_error(text: str, ename: str = "ValidationError") -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=f"{ename}: {text}")],
                                structured_content={"ename": ename, "evalue": text}, is_error=True)


async def serve(
    config: McpConfig, *, existing: str | None = None, kernel_name: str | None = None, transport: str = "stdio",
    host: str = "127.0.0.1", port: int = 8765, ready: Callable[[str | None], None] | None = None,
) -> None:
    """Connect to (or start) a kernel and serve it over ``stdio`` or streamable ``http`` until stopped.

    Over HTTP the endpoint is ``http://host:port/mcp``. ``ready(url_or_None)`` is called once
    the transport accepts connections.
    """
    if transport == "stdio":
        from mcp.server.stdio import stdio_server

        # Inside stdio_server fd 1 points at stderr, so the kernel process we start (and
        # anything else printing) cannot write into the JSON-RPC stream.
        async with stdio_server() as (read_stream, write_stream):
            bridge = await KernelBridge.open(config, existing=existing, kernel_name=kernel_name)
            try:
                server, _ = build_server(bridge)
                if ready is not None:
                    ready(None)
                await server.run(read_stream, write_stream, server.create_initialization_options())
            finally:
                with anyio.CancelScope(shield=True):
                    await bridge.close()
        return
    if transport != "http":
        raise ValueError(f"unknown transport {transport!r}: use 'stdio' or 'http'")
    import uvicorn

    bridge = await KernelBridge.open(config, existing=existing, kernel_name=kernel_name)
    try:
        server, notifier = build_server(bridge)
        app = server.streamable_http_app(host=host)
        web = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on"))

        async def announce() -> None:
            while not web.started:
                await anyio.sleep(0.05)
            if ready is not None:
                ready(f"http://{host}:{port}/mcp")

        async with anyio.create_task_group() as tg:
            tg.start_soon(announce)
            try:
                await web.serve()
            finally:
                notifier.listen.close()
                tg.cancel_scope.cancel()
    finally:
        with anyio.CancelScope(shield=True):
            await bridge.close()
