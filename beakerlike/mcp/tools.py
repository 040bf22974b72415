"""Tool definitions and tool results: actions as MCP tools, replies as tool results."""

from __future__ import annotations

from typing import Any

import mcp_types as types

from . import resources
from .bridge import KernelBridge, Outcome, trim_traceback


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


def usage_error(text: str, ename: str = "ValidationError") -> types.CallToolResult:
    """A tool error found before reaching the kernel (bad arguments, unknown tool)."""
    return types.CallToolResult(content=[types.TextContent(text=f"{ename}: {text}")],
                                structured_content={"ename": ename, "evalue": text}, is_error=True)
