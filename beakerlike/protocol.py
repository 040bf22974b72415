"""The wire format of beakerlike messages, in one place.

Every other module asks this one how a request, response or reply is named and
what a reply's content looks like, so the protocol documented in
``docs/protocol.md`` lives in exactly one module.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

from jupyter_client.session import json_packer

from . import messages, tracebacks

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
    """Return the action name of a ``<name>_request`` message type, else ``None``.

    A bare ``_request`` names the empty action (it gets an ``UnknownAction`` reply like any
    other unknown request, never silence).
    """
    if type(msg_type) is str and msg_type.endswith(REQUEST_SUFFIX):
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


def safe_text(text: str) -> str:
    r"""``text`` as valid UTF-8: a lone surrogate (``"\ud800"``) becomes a visible escape (``\ud800``).

    jupyter_client encodes every message as UTF-8, which a lone surrogate makes fail; text
    built from user objects passes through here before it goes into a message.
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def json_safe(value: Any) -> Any:
    """``value`` (JSON types only) with every string, key included, passed through :func:`safe_text`."""
    tp = type(value)
    if tp is str:
        return safe_text(value)
    if tp is dict:
        return {safe_text(k) if type(k) is str else k: json_safe(v) for k, v in value.items()}
    if tp is list or tp is tuple:
        return [json_safe(v) for v in value]
    return value


def describe(obj: Any) -> str:
    """``str(obj)`` made safe for a message; never raises (a user's ``__str__`` may)."""
    try:
        text = str(obj)
        if type(text) is not str:
            raise TypeError("__str__ returned a non-string")
    except Exception as exc:
        return f"<unprintable {type_name(obj)} object: its __str__ raised {type_name(exc)}>"
    return safe_text(text)


def type_name(obj: Any) -> str:
    """The name of ``obj``'s type, safe for a message; never raises (a metaclass may be hostile)."""
    try:
        name = type.__getattribute__(type(obj), "__name__")
    except Exception:
        return "?"
    return safe_text(name) if type(name) is str else "?"


def packable(content: dict[str, Any]) -> str | None:
    """``None`` if jupyter_client can send ``content``, else why not (checked as its JSON packer does)."""
    try:
        json.dumps(content, ensure_ascii=False, allow_nan=False).encode("utf-8")
        return None
    except (TypeError, ValueError, RecursionError):  # jupyter_client retries such content after cleaning it
        pass
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            json_packer(content).decode("utf-8")  # the strict decode rejects surrogateescape'd bytes
    except Exception as exc:  # noqa: BLE001 - whatever the packer raises, the content cannot be sent
        return f"{type_name(exc)}: {describe(exc)}"
    return None


def ok_reply(value: Any) -> dict[str, Any]:
    """Content of a successful reply (built from :class:`beakerlike.messages.OkReply`)."""
    return messages.ok_reply(value)


def error_reply(
    ename: str, evalue: str, traceback: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    """Content of an error reply; ``extra`` adds ``errors`` (see :class:`~beakerlike.messages.ErrorReply`).

    Every text is made JSON-safe here, so an error reply can always be sent.
    """
    return messages.error_reply(safe_text(ename), safe_text(evalue), [safe_text(line) for line in traceback or []],
                                **json_safe(extra))


def exception_reply(exc: BaseException, **extra: Any) -> dict[str, Any]:
    """Content of an error reply describing ``exc`` with its formatted traceback.

    Never raises: an exception whose ``__str__`` raises (or returns a lone surrogate)
    still gives a sendable reply.
    """
    try:
        tb = tracebacks.handler_traceback(exc)  # from the handler's frame; the full one goes to the kernel log
        tracebacks.log_full(exc)
    except Exception:  # formatting runs user code (__str__, __notes__)
        tb = []
    return error_reply(type_name(exc), describe(exc), tb, **extra)


def aborted_reply(reason: str = "cancelled") -> dict[str, Any]:
    """Content of a reply for a request that was cancelled before it finished."""
    return messages.aborted_reply(reason)
