"""Messages parented to one action request, packed the cheap way.

Every message the kernel sends for a request (``busy``, the responses, the reply,
``idle``) carries the request's header as its ``parent_header``. jupyter_client's
``Session.send`` packs that dict again for each message and builds each header through
half a dozen traitlets; on a no-op action that was a third of the kernel's CPU per
request, and on a 2-CPU machine every microsecond a thread holds the GIL is one the
other threads wait. Here:

- the parent header is the request's header frame exactly as the client sent it (it
  *is* that header's JSON), packed zero times;
- a message's own header is formatted from the session's fixed fields, with a fresh
  ``msg_id`` and ``date`` (``msg_id``: the session's ``<session>_<pid>_`` prefix and
  a counter of its own, so ids stay unique beside the ones ``Session`` makes);
- content is packed by one reused JSON encoder with jupyter_client's rules (UTF-8,
  no NaN, its ``json_default``), falling back to ``Session.pack`` for anything that
  encoder refuses, or always when the session uses another packer;
- the signature is the session's HMAC, as ``Session.sign`` computes it.

:class:`WireSession` holds what is fixed per session; :class:`WireParent` one request.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from jupyter_client.jsonutil import json_default
from jupyter_client.session import DELIM, Session, json_packer, protocol_version

_EMPTY = b"{}"
_ENCODER = json.JSONEncoder(default=json_default, ensure_ascii=False, allow_nan=False)


class WireSession:
    """What one ``Session`` contributes to every message: identity, packer, key."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.auth = session.auth
        self._fast_pack = session.pack is json_packer
        self._prefix = f"{session.session}_{os.getpid()}_w"
        self._ids = itertools.count()
        self._fixed = (f',"username":{json.dumps(session.username)},"session":{json.dumps(session.session)},'
                       f'"version":{json.dumps(protocol_version)}')
        self._types: dict[str, str] = {}
        self._status = {state: self.pack({"execution_state": state}) for state in ("busy", "idle")}

    def pack(self, obj: Any) -> bytes:
        """``obj`` as the session's packer would pack it."""
        if self._fast_pack:
            try:
                return _ENCODER.encode(obj).encode("utf8", errors="surrogateescape")
            except (TypeError, ValueError):
                pass  # jupyter_client cleans such content and warns: let it
        return self.session.pack(obj)

    def header(self, msg_type: str) -> bytes:
        """A new header for a ``msg_type`` message, packed."""
        quoted = self._types.get(msg_type)
        if quoted is None:
            quoted = self._types[msg_type] = json.dumps(msg_type)
        date = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
        return (f'{{"msg_id":"{self._prefix}{next(self._ids)}","msg_type":{quoted},"date":"{date}"'
                f"{self._fixed}}}").encode("utf8", errors="surrogateescape")

    def sign(self, parts: Sequence[bytes]) -> bytes:
        """The HMAC of the four packed parts (``b""`` without a key), as ``Session.sign``."""
        if self.auth is None:
            return b""
        h = self.auth.copy()
        for part in parts:
            h.update(part)
        return h.hexdigest().encode()

    def status_content(self, state: str) -> bytes:
        """Packed ``{"execution_state": state}``."""
        content = self._status.get(state)
        return content if content is not None else self.pack({"execution_state": state})


class WireParent:
    """Builds the frames of messages parented to one request.

    ``header_bytes`` is the request's header frame (already verified by the caller).
    """

    __slots__ = ("wire", "header_bytes")

    def __init__(self, wire: WireSession, header_bytes: bytes) -> None:
        self.wire = wire
        self.header_bytes = header_bytes

    def frames(
        self,
        msg_type: str,
        content: Any,
        ident: Sequence[bytes] | bytes | None = None,
        metadata: Any = None,
        buffers: Sequence[Any] | None = None,
    ) -> list[Any]:
        """Signed frames of a ``msg_type`` message with ``content`` (raises if not JSON-able).

        ``content``/``metadata`` may be already packed ``bytes``.
        """
        wire = self.wire
        body = content if isinstance(content, bytes) else wire.pack(content)
        meta = _EMPTY if metadata is None else (metadata if isinstance(metadata, bytes) else wire.pack(metadata))
        parts = [wire.header(msg_type), self.header_bytes, meta, body]
        out: list[Any] = []
        if ident is not None:
            out.extend([ident] if isinstance(ident, bytes) else ident)
        out.append(DELIM)
        out.append(wire.sign(parts))
        out.extend(parts)
        if buffers:
            out.extend(buffers)
        return out

    def status(self, state: str, ident: bytes) -> list[Any]:
        """Frames of a ``status`` message (``busy``/``idle``) on the IOPub topic ``ident``."""
        return self.frames("status", self.wire.status_content(state), ident=ident)
