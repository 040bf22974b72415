"""Bounded, side-effect-free formatting of arbitrary values.

Everything here looks at values through ``type(obj)`` and the C-level slots of
builtin types only: no ``isinstance`` (it may call a hostile ``__class__``), no
``repr``/``str``/``len`` on user types, no iteration past a fixed number of items.
Unknown objects are shown as ``<module.Type>``; only :func:`guarded_repr` calls a
user's ``__repr__``, in a daemon thread with a timeout.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import html
import math
import sys
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from ..protocol import safe_text

#: Builtin types shown as scalars.
SCALAR_TYPES = (type(None), bool, int, float, complex, decimal.Decimal, _dt.date, _dt.datetime, _dt.time,
                _dt.timedelta)
SEQUENCE_TYPES = (list, tuple, deque)
SET_TYPES = (set, frozenset)


@dataclass(frozen=True)
class Limits:
    """Size bounds every previewer respects."""

    rows: int = 5
    cols: int = 20
    items: int = 10
    chars: int = 120
    depth: int = 2
    repr_timeout: float = 0.1


DEFAULT_LIMITS = Limits()


def qualname(tp: type) -> tuple[str, str]:
    """``(module, qualified name)`` of a type, never raising."""
    try:
        mod = type.__getattribute__(tp, "__module__")
        name = type.__getattribute__(tp, "__qualname__")
        return (safe_text(mod) if type(mod) is str else "?", safe_text(name) if type(name) is str else "?")
    except Exception:
        return ("?", "?")


def type_label(obj: Any) -> str:
    """Short type name of ``obj`` (``DataFrame``, ``int``)."""
    return qualname(type(obj))[1]


def clip(text: str, chars: int) -> tuple[str, bool]:
    """Cut ``text`` to ``chars`` characters with an ellipsis; returns ``(text, truncated)``.

    The result is JSON-safe (lone surrogates escaped, see :func:`beakerlike.protocol.safe_text`).
    """
    if len(text) <= chars:
        return safe_text(text), False
    return safe_text(text[: max(chars - 1, 0)]) + "…", True


def short(obj: Any, limits: Limits = DEFAULT_LIMITS, _depth: int = 0, _seen: frozenset[int] = frozenset()) -> str:
    """A bounded one-line description of ``obj``; never calls user code."""
    tp = type(obj)
    if type(tp) is not type:  # a custom metaclass may override ==/hash: never compare such types
        mod, name = qualname(tp)
        return f"<{mod}.{name}>"
    if tp is str or tp is bytes or tp is bytearray:
        return clip(repr(obj[: limits.chars + 1]), limits.chars)[0]
    if tp in (type(None), bool, float, complex):
        return repr(obj)
    if tp is int:
        return _int_text(obj, limits.chars)
    if tp in (_dt.date, _dt.datetime, _dt.time, _dt.timedelta):
        return repr(obj)
    if tp is decimal.Decimal:
        return clip(str(obj), limits.chars)[0] if obj.adjusted() < 1000 else "Decimal(…)"
    if tp in SEQUENCE_TYPES or tp in SET_TYPES or tp is dict:
        if id(obj) in _seen:
            return "[...]" if tp is list else "{...}" if tp is dict else "(...)"
        if _depth >= limits.depth:
            return f"<{tp.__name__} of {len(obj)}>"
        seen = _seen | {id(obj)}
        parts: list[str] = []
        n = len(obj)
        if tp is dict:
            for i, (k, v) in enumerate(dict.items(obj)):
                if i >= limits.items:
                    break
                parts.append(f"{short(k, limits, _depth + 1, seen)}: {short(v, limits, _depth + 1, seen)}")
        else:
            it = iter(obj) if tp in SET_TYPES else (obj[i] for i in range(min(n, limits.items)))
            for i, v in enumerate(it):
                if i >= limits.items:
                    break
                parts.append(short(v, limits, _depth + 1, seen))
        more = ", …" if n > limits.items else ""
        body = ", ".join(parts) + more
        if tp is list:
            text = f"[{body}]"
        elif tp is tuple:
            text = f"({body}{',' if n == 1 else ''})"
        elif tp is dict:
            text = "{" + body + "}"
        elif tp in SET_TYPES:
            text = "{" + body + "}" if n else f"{tp.__name__}()"
        else:
            text = f"deque([{body}])"
        return clip(text, limits.chars * 2)[0]
    mod, name = qualname(tp)
    if mod.startswith("numpy") and _is_numpy_scalar(obj):
        return clip(repr(obj.item()), limits.chars)[0]
    return f"<{name}>" if mod == "builtins" else f"<{mod}.{name}>"


def _int_text(value: int, chars: int) -> str:
    # str() of a huge int is quadratic and limited by sys.int_max_str_digits; estimate instead.
    if value.bit_length() > 3000:
        return f"<int with ~{int(value.bit_length() * 0.30103)} digits>"
    return clip(str(value), chars)[0]


def _is_numpy_scalar(obj: Any) -> bool:
    np = sys.modules.get("numpy")  # not imported yet: obj cannot be a numpy scalar (and we do not import it)
    return np is not None and np.generic in type(obj).__mro__


def json_cell(obj: Any, limits: Limits = DEFAULT_LIMITS) -> Any:
    """A JSON-safe, bounded value for one table cell or list element."""
    tp = type(obj)
    if type(tp) is not type:
        return short(obj, limits)
    if obj is None or tp is bool:
        return obj
    if tp is str and len(obj) <= limits.chars:
        return safe_text(obj)
    if tp is int:
        return obj if -(2**53) < obj < 2**53 else _int_text(obj, limits.chars)
    if tp is float:
        return obj if math.isfinite(obj) else repr(obj)
    if tp is str:
        return clip(obj[: limits.chars + 1], limits.chars)[0]
    if _is_numpy_scalar(obj):
        try:
            return json_cell(obj.item(), limits)
        except Exception:
            return short(obj, limits)
    mod, name = qualname(tp)
    if mod.startswith("pandas") and name in {"Timestamp", "Timedelta", "Period"}:
        try:
            return str(obj)
        except Exception:
            return f"<{name}>"
    if mod.startswith("pandas") and name in {"NaTType", "NAType"}:
        return None
    return short(obj, limits)


def escape(text: str) -> str:
    """HTML-escape text (quotes included)."""
    return html.escape(text, quote=True)


def is_over_budget(why: str) -> bool:
    """Whether a :class:`ReprGuard` or guarded-previewer message means "too slow" rather than "failed"."""
    return not (why.startswith("repr raised") or " raised " in why)


class _ReprCall:
    """One ``repr`` call running in a daemon thread."""

    def __init__(self, obj: Any, chars: int) -> None:
        self.obj = obj
        self.chars = chars
        self.result: str | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()

    def run(self) -> None:
        try:
            text = repr(self.obj)
            self.result = text[: self.chars + 1] if type(text) is str else "<repr returned a non-string>"
        except BaseException as exc:  # noqa: BLE001 - a hostile repr may raise anything
            self.error = exc
        finally:
            self.obj = None
            self.done.set()


class ReprGuard:
    """Runs user ``__repr__`` calls with a timeout; remembers types whose repr timed out."""

    MAX_STUCK = 4

    def __init__(self) -> None:
        #: Types whose repr timed out, by ``id`` (hashing a type may run a hostile metaclass).
        self.slow_types: dict[int, type] = {}
        self.stuck: list[threading.Thread] = []

    def repr(self, obj: Any, limits: Limits = DEFAULT_LIMITS) -> tuple[str | None, str | None]:
        """``(text, None)`` on success, ``(None, why)`` when it failed or ran out of time.

        ``why`` starts with ``"repr raised"`` for a failure; otherwise the call was
        skipped or timed out (:func:`is_over_budget`).
        """
        tp = type(obj)
        if id(tp) in self.slow_types:
            return None, "repr skipped: it timed out before for this type"
        self.stuck = [t for t in self.stuck if t.is_alive()]
        if len(self.stuck) >= self.MAX_STUCK:
            return None, f"repr skipped: {len(self.stuck)} earlier repr calls are still running"
        call = _ReprCall(obj, limits.chars)
        thread = threading.Thread(target=call.run, name="beakerlike-repr", daemon=True)
        thread.start()
        if not call.done.wait(limits.repr_timeout):
            self.slow_types[id(tp)] = tp
            self.stuck.append(thread)
            return None, f"repr took longer than {limits.repr_timeout:g} s"
        if call.error is not None:
            return None, f"repr raised {type_label(call.error)}"
        assert call.result is not None
        return clip(call.result, limits.chars)[0], None
