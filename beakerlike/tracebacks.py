"""Tracebacks of error replies start at the handler's frame.

A handler's exception passes through the framework (dispatch, anyio, asyncio, the
worker thread) before it is caught; those frames tell the caller nothing. An error
reply's ``traceback`` therefore starts at the first frame outside the framework
(usually the handler itself); the full traceback goes to the kernel log.
"""

from __future__ import annotations

import sys
import traceback
from types import TracebackType

#: Modules whose leading frames are dropped: beakerlike's dispatch path and the async machinery.
FRAMEWORK_MODULES = frozenset({
    "beakerlike.dispatch", "beakerlike.runner", "beakerlike.kernel", "beakerlike.harness", "beakerlike.protocol",
    "threading", "contextlib", "concurrent.futures.thread", "concurrent.futures._base",
})
#: Packages whose every module is machinery.
FRAMEWORK_PACKAGES = ("anyio.", "asyncio.")


def is_framework(module: str | None) -> bool:
    """Whether a frame of ``module`` (its ``__name__``) belongs to the machinery that runs handlers."""
    if not module:
        return False
    return module in FRAMEWORK_MODULES or module.startswith(FRAMEWORK_PACKAGES) or module in ("anyio", "asyncio")


def first_user_frame(tb: TracebackType | None) -> TracebackType | None:
    """The first traceback entry outside the framework, or ``tb`` itself if every frame is the framework's."""
    entry = tb
    while entry is not None and is_framework(entry.tb_frame.f_globals.get("__name__")):
        entry = entry.tb_next
    return entry if entry is not None else tb


def handler_traceback(exc: BaseException) -> list[str]:
    """``exc``'s formatted traceback, starting at the handler's frame (chained exceptions kept)."""
    trimmed = first_user_frame(exc.__traceback__)
    return traceback.TracebackException(type(exc), exc, trimmed).format()  # type: ignore[return-value]


def full_traceback(exc: BaseException) -> list[str]:
    """``exc``'s complete formatted traceback (for the kernel log)."""
    return traceback.format_exception(type(exc), exc, exc.__traceback__)


def log_full(exc: BaseException) -> None:
    """Write the full traceback to the kernel log (the process's stderr, not the frontend)."""
    out = sys.__stderr__
    if out is None:
        return
    try:
        out.write("[beakerlike] error reply; full traceback:\n" + "".join(full_traceback(exc)))
        out.flush()
    except Exception:  # a closed log must not stop the reply
        pass
