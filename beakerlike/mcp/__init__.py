"""An MCP server for a live beakerlike kernel (``beakerlike mcp``; needs the ``mcp`` extra).

Tools are the kernel's public actions, plus ``switch_context`` (and ``execute_code`` when
enabled); resources are the variables' previews. See docs/agents.md.
"""

from .bridge import KernelBridge, Outcome
from .config import McpConfig
from .progress import ProgressTracker, progress_of
from .server import build_server, serve
from .tools import tool_result, tools_of

__all__ = ["KernelBridge", "McpConfig", "Outcome", "ProgressTracker", "build_server", "progress_of", "serve",
           "tool_result", "tools_of"]
