"""The wire format of beakerlike messages, in one place.

Every other module asks this one how a request, response or reply is named and
what a reply's content looks like, so the protocol documented in
``docs/protocol.md`` lives in exactly one module.
"""

from __future__ import annotations

import traceback as _traceback
from typing import Any

from . import messages

REQUEST_SUFFIX = "_request"
REPLY_SUFFIX = "_reply"
RESPONSE_SUFFIX = "_response"

#: Advertised in ``kernel_info_reply.supported_features`` (JEP 92).
FEATURE = "beakerlike"
#: Version of the beakerlike message protocol (not the Jupyter protocol).
PROTOCOL_VERSION = "1.0"

#: iopub message type carrying variable previews (Beaker's name).
PREVIEW_MSG_TYPE = "preview"


def action_of(msg_type: str) -> str | None:
    """Return the action name of a ``<name>_request`` message type, else ``None``."""
    if msg_type.endswith(REQUEST_SUFFIX) and len(msg_type) > len(REQUEST_SUFFIX):
        return msg_type[: -len(REQUEST_SUFFIX)]
    return None


def request_type(action: str) -> str:
    """``save_var`` -> ``save_var_request``."""
    return action + REQUEST_SUFFIX


def reply_type(action: str) -> str:
    """``save_var`` -> ``save_var_reply`` (so ``a_request_request`` is answered by ``a_request_reply``)."""
    return action + REPLY_SUFFIX


def response_type(action: str) -> str:
    """``save_var`` -> ``save_var_response`` (streamed on iopub)."""
    return action + RESPONSE_SUFFIX


def ok_reply(value: Any) -> dict[str, Any]:
    """Content of a successful reply (built from :class:`beakerlike.messages.OkReply`)."""
    return messages.ok_reply(value)


def error_reply(
    ename: str, evalue: str, traceback: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    """Content of an error reply; ``extra`` adds ``errors`` (see :class:`~beakerlike.messages.ErrorReply`)."""
    return messages.error_reply(ename, evalue, traceback, **extra)


def exception_reply(exc: BaseException, **extra: Any) -> dict[str, Any]:
    """Content of an error reply describing ``exc`` with its formatted traceback."""
    tb = _traceback.format_exception(type(exc), exc, exc.__traceback__)
    return error_reply(type(exc).__name__, str(exc), tb, **extra)


def aborted_reply(reason: str = "cancelled") -> dict[str, Any]:
    """Content of a reply for a request that was cancelled before it finished."""
    return messages.aborted_reply(reason)
