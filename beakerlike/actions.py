"""The ``@action`` decorator and the description of one callable action.

An :class:`Action` knows how to turn a request's content into the keyword
arguments of its handler (validated by pydantic from the type hints), how to
describe itself (docs, JSON Schema, default payload) and how to run.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, overload

import pydantic

from . import protocol

ACTION_ATTR = "__beakerlike_action__"
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")

Scope = Literal["public", "internal"]


class PayloadError(ValueError):
    """A request's content does not match the action's parameters.

    ``errors`` lists one dict per bad field: ``{"loc": [...], "msg": str, "type": str}``.
    """

    def __init__(self, action: str, errors: list[dict[str, Any]]):
        self.action = action
        self.errors = errors
        lines = [f"{'.'.join(map(str, e['loc'])) or '<payload>'}: {e['msg']}" for e in errors]
        super().__init__(f"invalid payload for {action!r}: " + "; ".join(lines))


@dataclass
class Action:
    """One callable action: its handler plus everything needed to call and describe it."""

    name: str
    func: Callable[..., Any]
    docs: str = ""
    timeout: float | None = None
    concurrent: bool = True
    scope: Scope = "public"
    raw: bool = False
    coalesce: float | None = None
    default_payload: dict[str, Any] | None = None
    #: Run on the kernel's main thread between cells instead of on the action loop (see ``docs/protocol.md``).
    main_thread: bool = False
    model: type[pydantic.BaseModel] | None = field(default=None, repr=False)
    #: Name of the single pydantic-model parameter, when the handler takes one.
    model_param: str | None = None
    origin: str = ""

    @property
    def kind(self) -> Literal["async", "asyncgen", "sync"]:
        """How the handler runs: a coroutine, an async generator, or a plain function."""
        if inspect.isasyncgenfunction(self.func):
            return "asyncgen"
        if inspect.iscoroutinefunction(self.func):
            return "async"
        return "sync"

    def bind(self, content: Any) -> dict[str, Any]:
        """Validate ``content`` and return the handler's keyword arguments.

        Raises :class:`PayloadError` listing every bad field.
        """
        if self.raw:
            return {"content": content}
        if content is None:
            content = {}
        if not isinstance(content, dict):
            raise PayloadError(
                self.name,
                [{"loc": [], "msg": f"content must be a JSON object, got {type(content).__name__}",
                  "type": "object_type"}],
            )
        assert self.model is not None
        try:
            validated = self.model.model_validate(content)
        except pydantic.ValidationError as exc:
            errors = [
                {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]}
                for e in exc.errors(include_url=False, include_context=False, include_input=False)
            ]
            raise PayloadError(self.name, errors) from None
        if self.model_param is not None:
            return {self.model_param: validated}
        return {name: getattr(validated, name) for name in type(validated).model_fields}

    def schema(self) -> dict[str, Any]:
        """JSON Schema of the request content."""
        if self.raw or self.model is None:
            return {"type": "object"}
        return self.model.model_json_schema()

    def info(self) -> dict[str, Any]:
        """The action's entry in ``context_info_reply.return.actions``."""
        return {
            "docs": self.docs,
            "schema": self.schema(),
            "default_payload": self.default_payload if self.default_payload is not None
            else _defaults(self),
            "streaming": self.kind == "asyncgen",
            "concurrent": self.concurrent,
            "main_thread": self.main_thread,
            "timeout": self.timeout,
            "scope": self.scope,
            "origin": self.origin,
        }


def _defaults(action: Action) -> dict[str, Any]:
    if action.raw or action.model is None:
        return {}
    out: dict[str, Any] = {}
    for name, f in action.model.model_fields.items():
        if not f.is_required() and f.default is not None:
            try:
                out[f.alias or name] = pydantic.TypeAdapter(Any).dump_python(f.default, mode="json")
            except Exception:  # an exotic default is simply not shown
                continue
    return out


def _build_model(name: str, func: Callable[..., Any]) -> tuple[type[pydantic.BaseModel], str | None]:
    sig = inspect.signature(func)
    params = list(sig.parameters.values())
    if not params or params[0].kind not in (
        inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD
    ):
        raise TypeError(
            f"action {name!r}: the first parameter must receive the request handle, "
            f"e.g. `def {func.__name__}(req, ...)`"
        )
    try:
        hints = inspect.get_annotations(func, eval_str=True)
    except Exception:  # unresolvable forward refs: fall back to raw annotations
        hints = dict(getattr(func, "__annotations__", {}))
    rest = params[1:]
    if len(rest) == 1:
        hint = hints.get(rest[0].name)
        if inspect.isclass(hint) and issubclass(hint, pydantic.BaseModel):
            return hint, rest[0].name
    fields: dict[str, Any] = {}
    for p in rest:
        if p.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            raise TypeError(f"action {name!r}: *args/**kwargs are not supported; use raw=True")
        hint = hints.get(p.name, Any)
        default = ... if p.default is inspect.Parameter.empty else p.default
        fields[p.name] = (hint, default)
    model = pydantic.create_model(  # type: ignore[call-overload]
        f"{name}_payload",
        __config__=pydantic.ConfigDict(extra="forbid", arbitrary_types_allowed=True),
        **fields,
    )
    return model, None


def make_action(
    func: Callable[..., Any],
    *,
    name: str | None = None,
    docs: str | None = None,
    timeout: float | None = None,
    concurrent: bool = True,
    scope: Scope = "public",
    raw: bool = False,
    coalesce: float | None = None,
    default_payload: dict[str, Any] | None = None,
    main_thread: bool = False,
) -> Action:
    """Build an :class:`Action` from a handler; raises on an invalid name or signature."""
    action_name = name or func.__name__
    if not isinstance(action_name, str) or not _NAME_RE.match(action_name):
        raise ValueError(f"invalid action name {action_name!r}")
    for suffix in (protocol.REQUEST_SUFFIX, protocol.REPLY_SUFFIX, protocol.RESPONSE_SUFFIX):
        if action_name.endswith(suffix):
            raise ValueError(
                f"action name {action_name!r} must not end with {suffix!r}: the kernel adds "
                f"the suffixes itself (the request for action 'x' is 'x_request')"
            )
    if timeout is not None and timeout <= 0:
        raise ValueError(f"action {action_name!r}: timeout must be positive")
    if scope not in ("public", "internal"):
        raise ValueError(f"action {action_name!r}: scope must be 'public' or 'internal'")
    model, model_param = (None, None)
    if raw:
        params = list(inspect.signature(func).parameters)
        if len(params) != 2:
            raise TypeError(f"action {action_name!r}: raw handlers take (req, content)")
    else:
        model, model_param = _build_model(action_name, func)
    return Action(
        name=action_name,
        func=func,
        docs=inspect.cleandoc(docs if docs is not None else (func.__doc__ or "")),
        timeout=timeout,
        concurrent=concurrent,
        scope=scope,
        raw=raw,
        coalesce=coalesce,
        default_payload=default_payload,
        main_thread=bool(main_thread),
        model=model,
        model_param=model_param,
        origin=f"{func.__module__}.{func.__qualname__}",
    )


@overload
def action(func: Callable[..., Any], /) -> Callable[..., Any]: ...
@overload
def action(
    name: str | None = None,
    /,
    *,
    docs: str | None = None,
    timeout: float | None = None,
    concurrent: bool = True,
    scope: Scope = "public",
    raw: bool = False,
    coalesce: float | None = None,
    default_payload: dict[str, Any] | None = None,
    main_thread: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]: ...


def action(func_or_name: Any = None, /, **options: Any) -> Any:
    """Declare a function as a kernel action answering ``<name>_request``.

    Use bare (``@action``: the name is the function's) or with a name and options::

        @beakerlike.action
        async def save_var(req, name: str, store: str = "default") -> dict: ...

        @beakerlike.action("train", timeout=60, concurrent=False)
        async def train_model(req, epochs: int = 3): ...

    Options: ``docs`` (overrides the docstring), ``timeout`` (seconds; the reply is
    an ``ActionTimeout`` error), ``concurrent`` (``False`` runs one at a time with
    other non-concurrent actions), ``scope`` (``"internal"`` hides it from listings),
    ``raw`` (the handler takes ``(req, content)`` unvalidated), ``coalesce``
    (seconds; batch streamed responses, see ``docs/protocol.md``),
    ``default_payload`` and ``main_thread``.

    Actions run on the kernel's action thread, so they answer while a cell blocks
    the main thread (a plain ``def`` handler runs in a worker thread). Declare
    ``main_thread=True`` for an action that must run *between* cells on the main
    thread (it drives a GUI library, or must never see a half-run cell): it waits
    behind the running cell, in arrival order, and an interrupt aborts it before it
    starts. A ``def`` handler of such an action runs on the main thread itself.

    The function is returned unchanged, so it stays directly callable in unit tests;
    the :class:`Action` is stored on it and collected when its module is loaded as
    a plugin.
    """

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        setattr(func, ACTION_ATTR, make_action(func, name=name, **options))
        return func

    if callable(func_or_name):
        name = None
        return decorate(func_or_name)
    name = func_or_name
    if name is not None and not isinstance(name, str):
        raise TypeError("@action takes the action name as a string")
    return decorate


def action_of(obj: Any) -> Action | None:
    """The :class:`Action` attached to ``obj`` by ``@action``, if any."""
    found = getattr(obj, ACTION_ATTR, None)
    return found if isinstance(found, Action) else None


def actions_in(module: Any) -> list[Action]:
    """All ``@action`` functions defined at the top level of ``module``, in source order."""
    found = []
    for value in vars(module).values():
        act = action_of(value)
        if act is not None:
            found.append(act)
    return found
