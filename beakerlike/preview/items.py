"""Building one preview ITEM (a Beaker mime bundle) for one variable."""

from __future__ import annotations

import itertools
import threading
from collections import deque
from typing import Any

from ..messages import PREVIEW_MIME, PreviewFields
from ..protocol import packable
from .previewers import Previewer, PreviewerRegistry
from .safe import (
    DEFAULT_LIMITS,
    Limits,
    ReprGuard,
    clip,
    escape,
    is_over_budget,
    json_cell,
    qualname,
    short,
    type_label,
)

#: The ITEM's fields a previewer may leave out, with their defaults (from the message model).
_FIELDS: dict[str, Any] = PreviewFields.defaults()


def _base(name: str, obj: Any) -> dict[str, Any]:
    mod, qual = qualname(type(obj))
    return {"name": name, "type": qual, "module": mod, **_FIELDS}


def bundle(meta: dict[str, Any]) -> dict[str, Any]:
    """Render ``meta`` (the preview JSON) as a mime bundle with escaped HTML."""
    summary = meta.get("summary") or ""
    plain = f"{meta['name']}: {meta['type']} {summary}".rstrip()
    if meta["status"] != "ok":
        plain += f" [{meta['status']}: {meta.get('error') or ''}]"
    parts = [f"<code>{escape(meta['name'])}</code> <i>{escape(meta['type'])}</i> {escape(summary)}"]
    if meta["status"] != "ok":
        parts.append(f" <b>[{escape(meta['status'])}: {escape(str(meta.get('error') or ''))}]</b>")
    rows = meta.get("rows")
    if rows:
        head = "".join(f"<th>{escape(str(c))}</th>" for c in meta.get("columns") or [])
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(cell if isinstance(cell, str) else str(cell))}</td>" for cell in r)
            + "</tr>" for r in rows
        )
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    return {"text/plain": plain, "text/html": "".join(parts), PREVIEW_MIME: meta}


def _text(exc: BaseException) -> str:
    try:  # an exception's __str__ is user code too
        return str(exc)
    except Exception:
        return "<unprintable>"


def _int_or_none(v: Any) -> int | None:
    return None if v is None else int(v)


def _first(values: Any, n: int) -> list[Any]:
    # islice, not list(...)[:n]: a previewer may hand back a huge or endless iterable.
    return list(itertools.islice(values, n))


#: Most characters the ``extra`` field of an item may take as JSON; keys past it are dropped.
EXTRA_MAX_CHARS = 2000
_KNOWN = frozenset({*_FIELDS, "index", "nbytes", "name", "type", "module", "extra"})


def _json_extra(value: Any, limits: Limits, depth: int = 0) -> Any:
    """A previewer's extra value as bounded JSON: nested lists/dicts up to 3 levels, cells elsewhere."""
    tp = type(value)
    if depth < 3 and tp in (list, tuple):
        return [_json_extra(v, limits, depth + 1) for v in _first(value, limits.rows * 4)]
    if depth < 3 and tp is dict:
        return {clip(str(k), 80)[0]: _json_extra(v, limits, depth + 1)
                for k, v in itertools.islice(dict.items(value), limits.cols)}
    return json_cell(value, limits)


def extra_fields(fields: dict[str, Any], limits: Limits) -> dict[str, Any] | None:
    """The previewer's keys the ITEM does not define, JSON-safe and at most :data:`EXTRA_MAX_CHARS`."""
    import json

    out: dict[str, Any] = {}
    size = 2
    for key, value in fields.items():
        if key in _KNOWN:
            continue
        cell = _json_extra(value, limits)
        cost = len(json.dumps(cell, default=str)) + len(str(key)) + 4
        if size + cost > EXTRA_MAX_CHARS:
            continue
        out[clip(str(key), 80)[0]] = cell
        size += cost
    return out or None


def clean_fields(fields: dict[str, Any], limits: Limits, trusted: bool) -> dict[str, Any]:
    """Coerce a previewer's fields to the ITEM's JSON types (plugins may return numpy ints etc.).

    Keys the ITEM does not define go, JSON-safe and bounded, under ``extra``.
    """
    if type(fields) is not dict:
        raise TypeError(f"a previewer must return a dict, not {type_label(fields)}")
    if trusted:
        out = {k: v for k, v in fields.items() if k in _KNOWN and k not in ("name", "type", "module", "extra")}
        if len(out) < len(fields):
            extra = extra_fields(fields, limits)
            if extra:
                out["extra"] = extra
        return out
    out = {}
    extra = extra_fields(fields, limits)
    if extra:
        out["extra"] = extra
    for key, value in fields.items():
        if key in ("name", "type", "module"):
            continue
        if key in ("kind", "summary", "error"):
            out[key] = None if value is None and key == "error" else clip(str(value), limits.chars * 2)[0]
        elif key in ("truncated", "pageable"):
            out[key] = bool(value)
        elif key == "length":
            out[key] = _int_or_none(value)
        elif key == "nbytes":
            n = _int_or_none(value)
            out[key] = n if n is None or n >= 0 else None
        elif key == "shape":
            out[key] = None if value is None else [int(v) for v in _first(value, 32)]
        elif key in ("columns", "index"):
            out[key] = None if value is None else [json_cell(v, limits) if key == "index" else
                                                   clip(str(v), limits.chars)[0]
                                                   for v in _first(value, max(limits.cols, limits.rows))]
        elif key == "rows":
            out[key] = None if value is None else [[json_cell(c, limits) for c in _first(r, limits.cols)]
                                                   for r in _first(value, limits.rows)]
        elif key == "status" and value in ("ok", "over_budget", "error"):
            out[key] = value
    return out


def stub_item(name: str, obj: Any, status: str, error: str) -> dict[str, Any]:
    """An item that could not be computed (over budget or failed), still naming the type."""
    meta = _base(name, obj)
    meta.update(status=status, error=error, summary="", pageable=False)
    return bundle(meta)


def item_size(item: dict[str, Any]) -> int:
    """A cheap upper estimate of an item's size in a JSON message (its HTML is at least as long as its data)."""
    html, plain = item.get("text/html", ""), item.get("text/plain", "")
    return 2 * (len(html) if type(html) is str else 0) + (len(plain) if type(plain) is str else 0) + 200


def sendable(items: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``items`` if they can go into a message as they are, else with each unsendable item replaced.

    A replaced item keeps its name and type, with ``status: error`` saying why (a trusted
    previewer may still hand back text no message can carry, e.g. a lone surrogate).
    """
    if packable(items) is None:
        return items
    out = {}
    for name, item in items.items():
        why = packable(item)
        if why is None:
            out[name] = item
            continue
        meta = item.get(PREVIEW_MIME) if type(item) is dict else None
        meta = meta if type(meta) is dict else {}
        fixed = {**_FIELDS, "name": name, "status": "error", "error": f"preview not sendable: {why}"}
        for key in ("type", "module"):
            fixed[key] = meta.get(key) if type(meta.get(key)) is str and packable(meta.get(key)) is None else "?"
        out[name] = bundle(fixed)
    return out


def _run_guarded(previewer: Previewer, obj: Any, limits: Limits) -> tuple[dict[str, Any] | None, str | None]:
    box: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            box["fields"] = previewer.preview(obj, limits)
        except BaseException as exc:  # noqa: BLE001
            box["error"] = f"{type_label(exc)}: {clip(_text(exc), 200)[0]}"
        finally:
            done.set()

    threading.Thread(target=run, name="beakerlike-previewer", daemon=True).start()
    if not done.wait(limits.repr_timeout * 5):
        return None, f"previewer {previewer.name!r} took longer than {limits.repr_timeout * 5:g} s"
    if "error" in box:
        return None, f"previewer {previewer.name!r} raised {box['error']}"
    return box.get("fields"), None


#: Builtin types whose C ``repr`` walks the whole value while holding the GIL (so no timeout can stop it).
C_REPR_BASES: tuple[type, ...] = (int, str, bytes, bytearray, list, tuple, dict, set, frozenset, deque)
_type_mro = type.__dict__["__mro__"].__get__
_type_dict = type.__dict__["__dict__"].__get__


def builtin_repr_base(tp: type) -> type | None:
    """The builtin in :data:`C_REPR_BASES` whose ``__repr__`` ``tp`` inherits, else ``None`` (looked up statically)."""
    try:
        for klass in _type_mro(tp):
            if "__repr__" in _type_dict(klass):
                return klass if any(klass is b for b in C_REPR_BASES) else None
    except Exception:
        return None
    return None


def builtin_view(obj: Any, base: type, qual: str, limits: Limits) -> dict[str, Any]:
    """Preview a subclass of a builtin through the builtin's own C slots: no repr, no user overrides.

    ``list.__repr__`` of ten million items (or ``int.__repr__`` of a huge int) holds the
    GIL for seconds, so the repr timeout could not stop it; the first items read
    through ``base``'s iterator (and its length) say as much without running it.
    """
    n = items = limits.items
    if base is int:
        return {"kind": "scalar", "summary": f"{qual}({short(int.__pos__(obj), limits)})"}
    if base in (str, bytes, bytearray):
        n = base.__len__(obj)
        view: Any = base.__getitem__(obj, slice(0, limits.chars + 1))
        return {"kind": "text", "length": n, "shape": [n], "summary": f"{qual}({short(view, limits)})",
                "truncated": n > limits.chars}
    n = base.__len__(obj)
    if base is dict:
        view = dict(itertools.islice(dict.items(obj), items))
    else:
        view = list(itertools.islice(base.__iter__(obj), items))
    more = f" of {n:,}" if n > items else ""
    return {"kind": "container", "length": n, "shape": [n], "summary": f"{qual}{more}: {short(view, limits)}",
            "truncated": n > items}


class ItemMaker:
    """Turns ``(name, value)`` into an ITEM using the registered previewers."""

    def __init__(self, registry: PreviewerRegistry, limits: Limits = DEFAULT_LIMITS) -> None:
        self.registry = registry
        self.limits = limits
        self.guard = ReprGuard()
        #: ``(previewer name, id(type))`` pairs that timed out once and are not run again (the type is kept alive).
        self.slow: dict[tuple[str, int], type] = {}

    def make(self, name: str, obj: Any) -> dict[str, Any]:
        """The ITEM for one variable; never raises and never runs unbounded."""
        meta = _base(name, obj)
        trusted = True
        previewer: Previewer | None = None
        try:
            previewer = self.registry.find(obj)
            trusted = previewer is None or previewer.trusts(type(obj))
            if previewer is None:
                fields, error = self._generic(obj)
            elif trusted:
                fields, error = previewer.preview(obj, self.limits), None
            elif (previewer.name, id(type(obj))) in self.slow:
                fields, error = None, f"previewer {previewer.name!r} skipped: it timed out before for this type"
            else:
                fields, error = _run_guarded(previewer, obj, self.limits)
                if error is not None and is_over_budget(error):
                    self.slow[(previewer.name, id(type(obj)))] = type(obj)
        except Exception as exc:  # a previewer bug marks the item, never breaks the update
            fields, error = None, f"previewer raised {type_label(exc)}: {clip(_text(exc), 200)[0]}"
        if previewer is not None and previewer.page is not None and error is None:
            meta["pageable"] = True  # a previewer's fields may still say False (e.g. an empty value)
        if fields:
            try:
                meta.update(clean_fields(fields, self.limits, trusted=trusted))
            except Exception as exc:
                error = f"previewer returned invalid fields: {clip(_text(exc), 200)[0]}"
        if error is not None:
            meta["status"] = "over_budget" if is_over_budget(error) else "error"
            meta["error"] = error
        meta["summary"] = clip(str(meta.get("summary") or ""), self.limits.chars * 2)[0]
        return bundle(meta)

    def _generic(self, obj: Any) -> tuple[dict[str, Any], str | None]:
        """Fallback: type name plus a guarded, truncated ``repr``; never ``len``/iteration."""
        tp = type(obj)
        mod, qual = qualname(tp)
        try:
            custom_repr = type.__getattribute__(tp, "__repr__") is not object.__repr__
        except Exception:
            custom_repr = True
        if mod == "builtins" and qual in {"function", "builtin_function_or_method", "type", "module"}:
            kind_name = {"function": "function", "builtin_function_or_method": "function",
                         "type": "class", "module": "module"}[qual]
            try:
                label = object.__getattribute__(obj, "__name__")
            except Exception:
                label = "?"
            return {"kind": "object", "summary": f"{kind_name} {clip(str(label), 80)[0]}"}, None
        if not custom_repr:
            return {"kind": "object", "summary": f"<{mod}.{qual} object>"}, None
        base = builtin_repr_base(tp)
        if base is not None:  # its repr is a C loop over the whole value: never called (see builtin_view)
            return builtin_view(obj, base, qual, self.limits), None
        text, why = self.guard.repr(obj, self.limits)
        if text is None:
            return {"kind": "object", "summary": f"<{mod}.{qual}>", "truncated": True}, why
        return {"kind": "object", "summary": text, "truncated": text.endswith("…")}, None
