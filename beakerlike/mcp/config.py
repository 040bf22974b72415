"""Which actions an MCP server exposes: allow/deny lists, the opt-in ``execute_code`` tool."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

#: Environment variables read by :meth:`McpConfig.from_env` (comma-separated action names or globs).
ENV_ALLOW = "BEAKERLIKE_MCP_ALLOW"
ENV_DENY = "BEAKERLIKE_MCP_DENY"
#: ``1``/``true`` enables the ``execute_code`` tool (arbitrary code execution in the kernel).
ENV_EXECUTE_CODE = "BEAKERLIKE_MCP_EXECUTE_CODE"

#: Framework plumbing that is never a tool: discovery, previews (served as resources),
#: context switching (the ``switch_context`` tool) and cancellation (MCP's own).
PLUMBING = frozenset({
    "context_info", "context_setup", "cancel_action",
    "preview_watch", "preview_unwatch", "preview_snapshot", "preview_page",
})
#: Tool names the server defines itself; an action of the same name is not exposed.
RESERVED = frozenset({"execute_code", "switch_context"})


def _names(value: str | Iterable[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(s.strip() for s in items if s and s.strip())


@dataclass(frozen=True)
class McpConfig:
    """What an MCP server bound to a kernel offers.

    ``allow``: if non-empty, only actions matching one of these names/globs become tools.
    ``deny``: actions matching one of these never do (deny wins). ``execute_code``: also
    offer the ``execute_code`` tool (off by default: it runs arbitrary code).
    """

    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    execute_code: bool = False
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        allow: str | Iterable[str] | None = None,
        deny: str | Iterable[str] | None = None,
        execute_code: bool | None = None,
    ) -> McpConfig:
        """Options given here, added to (allow/deny) or overriding (execute_code) the environment's."""
        env = os.environ if env is None else env
        flag = env.get(ENV_EXECUTE_CODE, "").strip().lower() in {"1", "true", "yes", "on"}
        return cls(
            allow=_names(env.get(ENV_ALLOW)) + _names(allow),
            deny=_names(env.get(ENV_DENY)) + _names(deny),
            execute_code=flag if execute_code is None else execute_code,
        )

    def exposes(self, name: str, spec: Mapping[str, object]) -> bool:
        """Whether the action ``name`` (its ``context_info`` entry ``spec``) becomes a tool."""
        if spec.get("scope", "public") != "public" or name in PLUMBING or name in RESERVED:
            return False
        if any(fnmatch.fnmatchcase(name, pat) for pat in self.deny):
            return False
        return not self.allow or any(fnmatch.fnmatchcase(name, pat) for pat in self.allow)
