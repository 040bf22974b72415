"""The plugin host: finds plugins, isolates their failures, collects what they add.

Plugins come from three places, in this order (earlier wins on name clashes):

1. built-in plugins shipped in this package (:data:`BUILTIN_PLUGINS`),
2. modules named in ``BEAKERLIKE_PLUGINS`` (comma-separated, importable),
3. entry points in the ``beakerlike`` group of installed distributions, sorted by name.

``BEAKERLIKE_BLOCK_PLUGINS`` (comma-separated plugin names) skips plugins,
``BEAKERLIKE_DISABLE_PLUGIN_AUTOLOAD=1`` skips entry points altogether and
``BEAKERLIKE_TRACE_HOOKS=1`` logs every hook call. A plugin that fails to import,
raises in a hook or declares a broken action is recorded in :attr:`PluginHost.errors`
and changes nothing for the others.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import logging
import os
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from types import ModuleType
from typing import Any

import pluggy

from . import hookspecs
from .actions import Action, action_of, actions_in, make_action

log = logging.getLogger("beakerlike.plugins")

ENTRY_POINT_GROUP = "beakerlike"
ENV_PLUGINS = "BEAKERLIKE_PLUGINS"
ENV_BLOCK = "BEAKERLIKE_BLOCK_PLUGINS"
ENV_NO_AUTOLOAD = "BEAKERLIKE_DISABLE_PLUGIN_AUTOLOAD"
ENV_TRACE = "BEAKERLIKE_TRACE_HOOKS"

#: Built-in behaviour, registered as ordinary plugins (pluggy's eggsample style).
BUILTIN_PLUGINS: list[str] = [
    "beakerlike.builtin.discovery",
]


@dataclass
class PluginError:
    """A failure attributed to one plugin."""

    plugin: str
    phase: str
    error: str
    traceback: str = ""

    def to_json(self) -> dict[str, Any]:
        """JSON form, as shown in listings and ``context_info_reply``."""
        return asdict(self)


@dataclass
class PluginInfo:
    """What one plugin is, where it came from and what it adds."""

    name: str
    source: str
    module: str | None = None
    version: str | None = None
    distribution: str | None = None
    hooks: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    contexts: list[str] = field(default_factory=list)
    previewers: list[str] = field(default_factory=list)
    loaded: bool = True
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON form for ``beakerlike plugins --json``."""
        return asdict(self)


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


class PluginHost:
    """Loads plugins through pluggy and keeps the registries they fill."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}
        self.errors: list[PluginError] = []
        self.actions: dict[str, Action] = {}
        self.action_owner: dict[str, str] = {}
        self.contexts: dict[str, Any] = {}
        self.previewers: list[Any] = []
        self._current: str | None = None

    # -- loading ---------------------------------------------------------------
    def load(
        self,
        env: Mapping[str, str] | None = None,
        *,
        builtins: bool = True,
        extra_modules: Iterable[str] = (),
    ) -> PluginHost:
        """Discover, register and collect all plugins; never raises for a plugin's fault."""
        env = os.environ if env is None else env
        if _truthy(env.get(ENV_TRACE)):
            self.pm.trace.root.setwriter(lambda msg: log.info("hook: %s", msg.rstrip()))
            self.pm.enable_tracing()
        blocked = set(_split(env.get(ENV_BLOCK)))
        for name in blocked:
            self.pm.set_blocked(name)
        if builtins:
            for modname in BUILTIN_PLUGINS:
                self._load_module(modname, modname, "builtin", blocked)
        for modname in [*_split(env.get(ENV_PLUGINS)), *extra_modules]:
            self._load_module(modname, modname, "env", blocked)
        if not _truthy(env.get(ENV_NO_AUTOLOAD)):
            self._load_entry_points(blocked)
        self.collect()
        return self

    def _load_module(self, name: str, modname: str, source: str, blocked: set[str]) -> None:
        if name in blocked or modname in blocked:
            self.infos[name] = PluginInfo(name=name, source=source, module=modname, loaded=False,
                                          error="blocked")
            return
        if name in self.infos:
            return
        try:
            module = importlib.import_module(modname)
        except BaseException as exc:  # noqa: BLE001 - SystemExit in a plugin must not kill the kernel
            self._fail(name, "import", exc, source=source, module=modname)
            return
        self.register(module, name=name, source=source)

    def _load_entry_points(self, blocked: set[str]) -> None:
        eps = sorted(md.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)
        for ep in eps:
            dist = getattr(ep, "dist", None)
            version = getattr(dist, "version", None)
            dist_name = getattr(dist, "name", None)
            if ep.name in blocked:
                self.infos[ep.name] = PluginInfo(name=ep.name, source="entrypoint", module=ep.value,
                                                 version=version, distribution=dist_name,
                                                 loaded=False, error="blocked")
                continue
            if ep.name in self.infos:
                continue
            try:
                plugin = ep.load()
            except BaseException as exc:  # noqa: BLE001
                self._fail(ep.name, "import", exc, source="entrypoint", module=ep.value,
                           version=version, distribution=dist_name)
                continue
            self.register(plugin, name=ep.name, source="entrypoint", version=version,
                          distribution=dist_name)

    def register(
        self,
        plugin: Any,
        *,
        name: str | None = None,
        source: str = "manual",
        version: str | None = None,
        distribution: str | None = None,
    ) -> str | None:
        """Register a plugin object or module; returns its name, ``None`` if it failed."""
        name = name or getattr(plugin, "__name__", None) or repr(plugin)
        modname = plugin.__name__ if isinstance(plugin, ModuleType) else type(plugin).__module__
        try:
            self.pm.register(plugin, name=name)
        except BaseException as exc:  # noqa: BLE001 - e.g. a hookimpl with unknown arguments
            self._fail(name, "register", exc, source=source, module=modname, version=version,
                       distribution=distribution)
            return None
        hooks = sorted(c.name for c in (self.pm.get_hookcallers(plugin) or []))
        self.infos[name] = PluginInfo(name=name, source=source, module=modname, version=version,
                                      distribution=distribution, hooks=hooks)
        return name

    def _fail(self, name: str, phase: str, exc: BaseException, **info: Any) -> None:
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        err = PluginError(plugin=name, phase=phase, error=f"{type(exc).__name__}: {exc}", traceback=tb)
        self.errors.append(err)
        log.error("plugin %r failed during %s: %s", name, phase, err.error)
        existing = self.infos.get(name)
        if existing is None:
            self.infos[name] = PluginInfo(name=name, loaded=False, error=err.error, **info)
        elif existing.error is None:
            existing.error = err.error
            if phase in {"import", "register"}:
                existing.loaded = False

    # -- collecting ------------------------------------------------------------
    def collect(self) -> None:
        """Run the ``register_*`` hooks, one plugin at a time, and module-level actions."""
        for plugin_name, plugin in self.pm.list_name_plugin():
            if plugin is None:
                continue
            info = self.infos.get(plugin_name)
            self._current = plugin_name
            if isinstance(plugin, ModuleType):
                for act in actions_in(plugin):
                    self._add_action(act, plugin_name)
            self._current = None
            del info
        self.call_each("register_actions", register=self._registrar(self._register_action))
        self.call_each("register_contexts", register=self._registrar(self._register_context))
        self.call_each("register_previewers", register=self._registrar(self._register_previewer))

    def _registrar(self, add: Callable[[Any], None]) -> Callable[..., None]:
        def register(obj: Any, *args: Any, **kwargs: Any) -> None:
            add(obj, *args, **kwargs)

        return register

    def _register_action(self, obj: Any, **options: Any) -> None:
        act = obj if isinstance(obj, Action) else action_of(obj)
        if act is None:
            act = make_action(obj, **options)
        self._add_action(act, self._current or "?")

    def _add_action(self, act: Action, plugin_name: str) -> None:
        owner = self.action_owner.get(act.name)
        if owner is not None:
            if self.actions[act.name].func is act.func:
                return
            self.errors.append(PluginError(
                plugin=plugin_name, phase="register_actions",
                error=f"ActionConflict: action {act.name!r} is already provided by plugin "
                      f"{owner!r}; {plugin_name!r}'s version is ignored (the first loaded wins)",
            ))
            log.error("action %r declared by both %r and %r; keeping %r", act.name, owner,
                      plugin_name, owner)
            return
        self.actions[act.name] = act
        self.action_owner[act.name] = plugin_name
        info = self.infos.get(plugin_name)
        if info is not None:
            info.actions.append(act.name)

    def _register_context(self, ctx: Any) -> None:
        name = getattr(ctx, "name", None)
        plugin_name = self._current or "?"
        if not isinstance(name, str) or not name:
            raise TypeError(f"register_contexts: {ctx!r} has no name")
        if name in self.contexts:
            raise ValueError(f"context {name!r} is already registered")
        self.contexts[name] = ctx
        info = self.infos.get(plugin_name)
        if info is not None:
            info.contexts.append(name)

    def _register_previewer(self, previewer: Any) -> None:
        self.previewers.append(previewer)
        info = self.infos.get(self._current or "?")
        if info is not None:
            info.previewers.append(getattr(previewer, "name", repr(previewer)))

    # -- calling hooks ---------------------------------------------------------
    def call_each(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call every implementation of a hook, isolating failures per plugin."""
        caller = getattr(self.pm.hook, hook_name)
        results = []
        for impl in reversed(caller.get_hookimpls()):  # registration order
            self._current = impl.plugin_name
            try:
                args = {k: kwargs[k] for k in impl.argnames}
                res = impl.function(**args)
            except BaseException as exc:  # noqa: BLE001
                if isinstance(exc, KeyboardInterrupt):
                    raise
                self._fail(impl.plugin_name, hook_name, exc)
                continue
            finally:
                self._current = None
            if res is not None:
                results.append(res)
        return results

    def describe(self) -> list[dict[str, Any]]:
        """Every known plugin as JSON, errors included."""
        return [info.to_json() for info in self.infos.values()]
