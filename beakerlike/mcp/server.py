"""The MCP server (the SDK's low-level ``Server``) for one :class:`~.bridge.KernelBridge`, and ``serve``.

Tools are built from ``context_info`` on every ``tools/list`` (:mod:`.tools`); change
notifications go out through :class:`~.notify.Notifier`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel.server import NotificationOptions, Server
from mcp.server.models import InitializationOptions
from mcp.shared.exceptions import MCPError

from .._version import __version__
from . import resources
from .bridge import KernelBridge
from .config import McpConfig
from .notify import RESOURCE_NOT_FOUND, Notifier, resource_target
from .tools import tool_result, tools_of, usage_error

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
                return usage_error("switch_context needs 'context', the name of a context")
            info = args.get("context_info")
            if info is not None and not isinstance(info, dict):
                return usage_error("'context_info' must be an object or null")
            outcome = await bridge.switch_context(args["context"], info)
            if outcome.status == "ok":
                outcome.content = {"status": "ok", "return": {"context": bridge.context,
                                                              "tools": [t.name for t in tools_of(bridge)]}}
            return tool_result(outcome)
        if params.name == "execute_code" and bridge.config.execute_code:
            code, timeout = args.get("code"), args.get("timeout", 60)
            if not isinstance(code, str) or not isinstance(timeout, int | float) or timeout <= 0:
                return usage_error("execute_code needs 'code' (a string) and an optional positive 'timeout'")
            try:
                outcome = await bridge.execute(code, timeout=float(timeout))
            except TimeoutError:
                return usage_error(f"the cell did not finish within {timeout:g} s and was interrupted",
                                    ename="Timeout")
            if outcome.status == "ok":
                outcome.content = {"status": "ok", "return": {"result": outcome.extra.get("result")}}
            return tool_result(outcome)
        if params.name not in bridge.actions:
            await bridge.refresh()
            if params.name not in bridge.actions:
                return usage_error(f"no tool named {params.name!r}; available: "
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
        target = resource_target(uri)
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
