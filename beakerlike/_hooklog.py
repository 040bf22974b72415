"""Hook output goes to the kernel log, not to the user's cell.

Inside a kernel ``sys.stdout``/``sys.stderr`` are forwarded to the frontend, parented
to whatever message is current: ``print`` (or a ``logging`` call without handlers) in
``after_execute`` would land in the user's cell, and in ``kernel_started`` it would be
lost. While a hook runs, :func:`to_kernel_log` routes *that thread's* writes to the
process's real stderr (the kernel log, which Jupyter servers keep), one prefixed line
each; other threads (e.g. a sync action handler printing meanwhile) are untouched.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from typing import Any, TextIO

_lock = threading.Lock()
#: thread id -> (plugin name, pending partial line)
_routed: dict[int, list[str]] = {}
_installed: dict[str, Any] = {}


def kernel_log() -> TextIO | None:
    """The kernel log: the process's original stderr."""
    return sys.__stderr__


def _emit(plugin: str, text: str) -> None:
    out = kernel_log()
    if out is None:
        return
    try:
        out.write(f"[beakerlike plugin {plugin}] {text}\n")
        out.flush()
    except Exception:  # a closed log must not break the hook
        pass


class _Router:
    """Stands in for ``sys.stdout``/``sys.stderr``: routed threads write to the log."""

    def __init__(self, original: Any) -> None:
        self._original = original

    def write(self, text: str) -> int:
        entry = _routed.get(threading.get_ident())
        if entry is None:
            return self._original.write(text)
        buffered = entry[1] + str(text)
        *lines, entry[1] = buffered.split("\n")
        for line in lines:
            _emit(entry[0], line)
        return len(text)

    def flush(self) -> None:
        if threading.get_ident() not in _routed:
            self._original.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)


@contextlib.contextmanager
def to_kernel_log(plugin: str) -> Iterator[None]:
    """Route this thread's ``print``/stderr output to the kernel log while the block runs."""
    tid = threading.get_ident()
    if tid in _routed:  # nested hook call: the outer one routes already
        yield
        return
    with _lock:
        if not _installed:
            _installed["stdout"], _installed["stderr"] = sys.stdout, sys.stderr
            sys.stdout, sys.stderr = _Router(sys.stdout), _Router(sys.stderr)  # type: ignore[assignment]
        _installed["users"] = _installed.get("users", 0) + 1
        _routed[tid] = [plugin, ""]
    try:
        yield
    finally:
        with _lock:
            entry = _routed.pop(tid)
            if entry[1]:
                _emit(entry[0], entry[1])
            _installed["users"] -= 1
            if not _installed["users"]:
                # Restore only our own routers: leave a stream someone set meanwhile alone.
                if isinstance(sys.stdout, _Router):
                    sys.stdout = _installed["stdout"]
                if isinstance(sys.stderr, _Router):
                    sys.stderr = _installed["stderr"]
                _installed.clear()
