"""Contexts: named bundles of actions, previewers and a typed setup payload.

A plugin ships a context through the ``register_contexts`` hook::

    class DataSetup(pydantic.BaseModel):
        max_rows: int = 5

    @beakerlike.hookimpl
    def register_contexts(register):
        register(beakerlike.Context(name="data", docs="pandas helpers", actions=[describe],
                                    setup_model=DataSetup))

Exactly one context is active per kernel. Switching (``context_setup_request``)
validates the new context's setup payload first, then tears the old context
down and sets the new one up; the user's namespace is never touched. If
anything fails the previous context stays active and the request gets an error
reply. Plugin actions stay callable in every context; a context's own actions
are callable only while it is active.
"""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pydantic

from .actions import Action, PayloadError, action_of, make_action
from .preview.previewers import Previewer

log = logging.getLogger("beakerlike.contexts")

ENV_CONTEXT = "BEAKERLIKE_CONTEXT"
ENV_CONTEXT_INFO = "BEAKERLIKE_CONTEXT_INFO"
DEFAULT_CONTEXT = "default"


class UnknownContext(LookupError):
    """No context is registered under the requested name."""


class InvalidContextInfo(PayloadError):
    """The ``context_info`` payload does not match the context's setup model."""


class ContextSetupError(RuntimeError):
    """A context's ``setup`` raised; the previous context is still active."""


@dataclass
class Context:
    """A named bundle a user switches to with one ``context_setup_request``.

    ``actions`` are ``@action`` functions (or plain functions, or :class:`Action`
    objects) callable only while the context is active. ``previewers``
    (:class:`~beakerlike.Previewer` objects) win over the global ones while it is
    active. ``setup_model`` is a pydantic model for
    the ``context_info`` payload (its JSON Schema is advertised in
    ``context_info_reply``). ``setup(kernel, info)`` and ``teardown(kernel)`` are
    plain functions run on switch; ``info`` is the validated model (or ``None``).
    ``always_on`` makes the kernel publish previews after every cell even when no
    client watches.
    """

    name: str
    docs: str = ""
    actions: Sequence[Any] = ()
    previewers: Sequence[Any] = ()
    setup_model: type[pydantic.BaseModel] | None = None
    always_on: bool = False
    setup: Callable[[Any, pydantic.BaseModel | None], None] | None = None
    teardown: Callable[[Any], None] | None = None
    _actions: dict[str, Action] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError("a context needs a non-empty name")
        if self.setup_model is not None and not (
            inspect.isclass(self.setup_model) and issubclass(self.setup_model, pydantic.BaseModel)
        ):
            raise TypeError(f"context {self.name!r}: setup_model must be a pydantic.BaseModel subclass")
        for fn in (self.setup, self.teardown):
            if fn is not None and (inspect.iscoroutinefunction(fn) or not callable(fn)):
                raise TypeError(f"context {self.name!r}: setup/teardown must be plain (sync) callables")
        for p in self.previewers:
            if not isinstance(p, Previewer):
                raise TypeError(f"context {self.name!r}: previewers must be beakerlike.Previewer objects, "
                                f"got {type(p).__name__}")
        for obj in self.actions:
            act = obj if isinstance(obj, Action) else action_of(obj) or make_action(obj)
            self._actions[act.name] = act

    @property
    def action_map(self) -> dict[str, Action]:
        """The context's own actions by name."""
        return dict(self._actions)

    def validate(self, info: Mapping[str, Any] | None) -> pydantic.BaseModel | None:
        """Validate a ``context_info`` payload; raises :class:`InvalidContextInfo`."""
        if info is None:
            info = {}
        if not isinstance(info, Mapping):
            raise InvalidContextInfo(self.name, [{"loc": ["context_info"], "type": "object_type",
                                                  "msg": f"must be a JSON object, got {type(info).__name__}"}])
        if self.setup_model is None:
            if info:
                raise InvalidContextInfo(self.name, [{"loc": ["context_info"], "type": "extra_forbidden",
                                                      "msg": "this context takes no setup payload"}])
            return None
        try:
            return self.setup_model.model_validate(dict(info))
        except pydantic.ValidationError as exc:
            errors = [{"loc": ["context_info", *e["loc"]], "msg": e["msg"], "type": e["type"]}
                      for e in exc.errors(include_url=False, include_context=False, include_input=False)]
            raise InvalidContextInfo(self.name, errors) from None

    def schema(self) -> dict[str, Any]:
        """JSON Schema of the setup payload."""
        if self.setup_model is None:
            return {"type": "object", "properties": {}, "additionalProperties": False}
        return self.setup_model.model_json_schema()

    def default_info(self) -> dict[str, Any]:
        """The setup payload used when none is given."""
        if self.setup_model is None:
            return {}
        try:
            return self.setup_model().model_dump(mode="json")
        except pydantic.ValidationError:  # required fields: no default payload
            return {}

    def describe(self) -> dict[str, Any]:
        """The entry of the context in ``context_info_reply.return.contexts``."""
        return {
            "docs": inspect.cleandoc(self.docs or ""),
            "setup_schema": self.schema(),
            "default_info": self.default_info(),
            "actions": sorted(n for n, a in self._actions.items() if a.scope == "public"),
            "previewers": [p.name for p in self.previewers],
            "always_on": self.always_on,
        }


class ContextManager:
    """Holds the available contexts and the active one (``kernel.contexts``)."""

    def __init__(self, kernel: Any, contexts: Mapping[str, Context]) -> None:
        self.kernel = kernel
        self.available: dict[str, Context] = dict(contexts)
        self.active: Context | None = None
        self.info: pydantic.BaseModel | None = None
        #: Called as ``listener(manager)`` after every successful switch.
        self.listeners: list[Callable[[ContextManager], None]] = []

    # -- the kernel's integration points ------------------------------------------
    def resolve_action(self, name: str) -> Action | None:
        """The active context's action ``name``, if it has one."""
        return self.active._actions.get(name) if self.active is not None else None

    def active_actions(self) -> dict[str, Action]:
        """The active context's actions."""
        return self.active.action_map if self.active is not None else {}

    def describe(self) -> dict[str, Any]:
        """Merged into ``context_info_reply.return``: the active context and all available ones."""
        active = self.active
        return {
            "context": None if active is None else {
                "name": active.name,
                "docs": inspect.cleandoc(active.docs or ""),
                "info": self.info.model_dump(mode="json") if self.info is not None else {},
                "always_on": active.always_on,
            },
            "contexts": {name: ctx.describe() for name, ctx in sorted(self.available.items())},
        }

    # -- switching ------------------------------------------------------------------
    def get(self, name: str) -> Context:
        """The context ``name``; raises :class:`UnknownContext` listing what exists."""
        ctx = self.available.get(name) if isinstance(name, str) else None
        if ctx is None:
            raise UnknownContext(f"no context named {name!r}; available: {', '.join(sorted(self.available))}")
        return ctx

    def switch(self, name: str, info: Mapping[str, Any] | None = None) -> Context:
        """Make ``name`` the active context; on any error the current one stays active."""
        ctx = self.get(name)
        model = ctx.validate(info)
        old, old_info = self.active, self.info
        if old is not None and old.teardown is not None:
            try:
                old.teardown(self.kernel)
            except Exception:
                log.exception("teardown of context %r failed; switching anyway", old.name)
        try:
            if ctx.setup is not None:
                ctx.setup(self.kernel, model)
        except Exception as exc:
            if old is not None and old.setup is not None:
                try:
                    old.setup(self.kernel, old_info)
                except Exception:
                    log.exception("could not restore context %r", old.name)
            raise ContextSetupError(f"setup of context {name!r} failed: {type(exc).__name__}: {exc}") from exc
        self.active, self.info = ctx, model
        for listener in list(self.listeners):
            try:
                listener(self)
            except Exception:
                log.exception("context switch listener failed")
        return ctx

    def start(self, env: Mapping[str, str] | None = None) -> None:
        """Activate the configured startup context (``BEAKERLIKE_CONTEXT``), falling back to the default."""
        env = os.environ if env is None else env
        wanted = env.get(ENV_CONTEXT) or DEFAULT_CONTEXT
        raw_info = env.get(ENV_CONTEXT_INFO)
        try:
            import json

            info = json.loads(raw_info) if raw_info else None
            self.switch(wanted, info)
        except Exception as exc:
            log.error("cannot start in context %r (%s); using %r", wanted, exc, DEFAULT_CONTEXT)
            if wanted != DEFAULT_CONTEXT and DEFAULT_CONTEXT in self.available:
                self.switch(DEFAULT_CONTEXT)
