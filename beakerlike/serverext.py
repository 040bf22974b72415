"""A jupyter_server extension: kernel websockets without Nagle's 40 ms stall, cheaper activity tracking.

jupyter_server's kernel websocket leaves Nagle's algorithm on. For a request/reply
exchange the server writes the ``busy`` frame, then the reply frame; the second small
write waits for the client's (delayed, ~40 ms) ACK of the first, so every action
through a stock server took ~47 ms instead of ~3 ms, in browsers too. This extension
sets ``TCP_NODELAY`` on every kernel websocket (any kernel, not only beakerlike's).

It is enabled on ``pip install beakerlike`` by
``etc/jupyter/jupyter_server_config.d/beakerlike.json`` (an editable install does not
install that file: ``beakerlike install`` writes it, see :func:`install_server_config`).
Switch it off with ``c.BeakerlikeServer.kernel_ws_nodelay = False`` (or
``--BeakerlikeServer.kernel_ws_nodelay=False``), or disable the whole extension with
``jupyter server extension disable beakerlike.serverext``.

It wraps whatever ``kernel_websocket_connection_class`` the server uses (the ZMQ one,
a gateway's...) in a subclass whose ``connect`` sets the flag first.

It also tracks kernel activity without parsing dates (:mod:`beakerlike._activity`;
``c.BeakerlikeServer.cheap_activity = False`` keeps the server's own watcher).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from traitlets import Bool
from traitlets.config import Configurable

#: Name of the file in ``jupyter_server_config.d`` that enables the extension.
CONFIG_FILE = "beakerlike.json"
EXTENSION = "beakerlike.serverext"


class BeakerlikeServer(Configurable):
    """Settings of beakerlike's jupyter_server extension."""

    kernel_ws_nodelay = Bool(
        True,
        config=True,
        help="Set TCP_NODELAY on kernel websockets (removes a ~40 ms stall per request/reply).",
    )
    cheap_activity = Bool(
        True,
        config=True,
        help="Track kernel activity (last_activity, execution_state) without parsing every IOPub message's dates "
        "(see beakerlike._activity); the same fields, by the same rules.",
    )


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": EXTENSION}]


def nodelay_connection_class(base: type) -> type:
    """A subclass of the kernel websocket connection class ``base`` that sets TCP_NODELAY on connect."""
    if getattr(base, "_beakerlike_nodelay", False):
        return base

    async def connect(self: Any, *args: Any, **kwargs: Any) -> Any:
        from jupyter_core.utils import ensure_async

        handler = getattr(self, "websocket_handler", None)
        if handler is not None and getattr(handler, "ws_connection", None) is not None:
            handler.set_nodelay(True)
            handler.log.info("beakerlike: kernel websocket %s TCP_NODELAY=%s", getattr(handler, "kernel_id", "?"),
                             _nodelay_of(handler))
        return await ensure_async(super(cls, self).connect(*args, **kwargs))

    cls = type(base.__name__, (base,), {"connect": connect, "_beakerlike_nodelay": True,
                                        "__module__": __name__, "__doc__": base.__doc__})
    return cls


def _nodelay_of(handler: Any) -> int | None:
    """The TCP_NODELAY option as the kernel websocket's socket reports it (``None`` if unknown)."""
    import socket

    try:
        sock = handler.ws_connection.stream.socket
        return int(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
    except (AttributeError, OSError):
        return None


def _load_jupyter_server_extension(serverapp: Any) -> None:
    settings = BeakerlikeServer(parent=serverapp)
    if settings.cheap_activity:
        from ._activity import watch_activity_cheaply

        if watch_activity_cheaply(serverapp.kernel_manager):
            serverapp.log.info("beakerlike: kernel activity tracked without date parsing")
    if not settings.kernel_ws_nodelay:
        serverapp.log.info("beakerlike: kernel websockets keep Nagle's algorithm (kernel_ws_nodelay=False)")
        return
    web_settings = serverapp.web_app.settings
    base = web_settings.get("kernel_websocket_connection_class")
    if base is None:
        serverapp.log.warning("beakerlike: no kernel_websocket_connection_class; TCP_NODELAY not set")
        return
    web_settings["kernel_websocket_connection_class"] = nodelay_connection_class(base)
    serverapp.log.info("beakerlike: TCP_NODELAY on kernel websockets (%s)", base.__name__)


def config_dir(*, user: bool = False, prefix: str | None = None) -> Path:
    """Where ``jupyter_server_config.d`` lives for the user, a prefix, or (default) ``sys.prefix``."""
    import sys

    from jupyter_core.paths import jupyter_config_dir

    if user:
        return Path(jupyter_config_dir()) / "jupyter_server_config.d"
    return Path(prefix or sys.prefix) / "etc" / "jupyter" / "jupyter_server_config.d"


def install_server_config(*, user: bool = False, prefix: str | None = None) -> Path:
    """Write the file enabling the extension (what a wheel install puts in place); returns its path.

    For editable installs, which do not install a wheel's shared data.
    """
    path = config_dir(user=user, prefix=prefix) / CONFIG_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"ServerApp": {"jpserver_extensions": {EXTENSION: True}}}, indent=2) + "\n")
    return path
