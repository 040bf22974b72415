"""Static attribute lookup: an object's stored attributes, read without running any of its code.

Only the instance ``__dict__`` and ``__slots__`` values are seen, the way
:func:`inspect.getattr_static` reaches them: through the C-level slots of
``type`` and ``object``, never ``getattr`` (so no property, descriptor,
``__getattr__`` or ``__getattribute__`` of the user's class runs). A class that
overrides ``__dict__`` itself shows no instance attributes.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from typing import Any

_type_mro = type.__dict__["__mro__"].__get__
_type_dict = type.__dict__["__dict__"].__get__
_type_flags = type.__dict__["__flags__"].__get__
_HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class defined in Python (C types' members are internals)


def _mro(tp: type) -> tuple[type, ...]:
    try:
        return _type_mro(tp)
    except Exception:
        return ()


def _is_type(obj: Any) -> bool:
    try:
        _type_mro(obj)
        return True
    except TypeError:
        return False


def instance_dict(obj: Any) -> dict[str, Any] | None:
    """``obj.__dict__`` if it is the plain instance dict (never a class-defined ``__dict__``), else ``None``."""
    if _is_type(obj):
        return None  # a class's attributes are its namespace (methods...), not stored state
    for klass in _mro(type(obj)):
        found = _type_dict(klass).get("__dict__")
        if found is None:
            continue
        plain = (type(found) is types.GetSetDescriptorType and found.__name__ == "__dict__"
                 and found.__objclass__ is klass) or type(found) is types.MemberDescriptorType
        if not plain:
            return None
        break
    try:
        d = object.__getattribute__(obj, "__dict__")
    except Exception:
        return None
    return d if type(d) is dict else None


def _slots(tp: type) -> Iterator[tuple[str, Any]]:
    seen: set[str] = set()
    for klass in _mro(tp):
        if not _type_flags(klass) & _HEAPTYPE:
            continue
        for name, value in list(_type_dict(klass).items()):
            if type(value) is types.MemberDescriptorType and type(name) is str and name not in seen:
                if name in ("__dict__", "__weakref__"):
                    continue
                seen.add(name)
                yield name, value


def attributes(obj: Any) -> Iterator[tuple[str, Any]]:
    """``(name, value)`` of every stored attribute: instance ``__dict__`` entries, then set ``__slots__``."""
    d = instance_dict(obj)
    if d is not None:
        for name, value in list(d.items()):
            if type(name) is str:
                yield name, value
    if _is_type(obj):
        return
    for name, slot in _slots(type(obj)):
        try:
            yield name, slot.__get__(obj, type(obj))  # a C-level slot read
        except AttributeError:  # slot not set
            continue


def has_attributes(obj: Any) -> bool:
    """Whether :func:`attributes` yields anything (cheap: stops at the first)."""
    return next(attributes(obj), None) is not None


def attribute(obj: Any, name: str) -> Any:
    """The stored attribute ``name`` of ``obj``; raises ``KeyError`` if it has none of that name."""
    d = instance_dict(obj)
    if d is not None and name in d:
        return d[name]
    if not _is_type(obj):
        for slot_name, slot in _slots(type(obj)):
            if slot_name == name:
                try:
                    return slot.__get__(obj, type(obj))
                except AttributeError:
                    break
    raise KeyError(f"no stored attribute {name!r} (properties and other computed attributes are never evaluated)")
