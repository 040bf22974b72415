"""The plugin host: finds plugins, isolates their failures, collects what they add.

Plugins come from three places, in this order (the first loaded wins on name clashes):

1. built-in plugins shipped in this package (:data:`BUILTIN_PLUGINS`),
2. modules named in ``BEAKERLIKE_PLUGINS`` (comma-separated, importable),
3. entry points in the ``beakerlike`` group of installed distributions, sorted by name.

``BEAKERLIKE_BLOCK_PLUGINS`` (comma-separated plugin, module or distribution names)
skips plugins, ``BEAKERLIKE_DISABLE_PLUGIN_AUTOLOAD=1`` skips entry points altogether
and ``BEAKERLIKE_TRACE_HOOKS=1`` writes every hook call to the process's stderr (the
kernel log). A plugin that fails to import (even with ``SystemExit``), raises in a
hook or declares a broken action is recorded in :attr:`PluginHost.errors` and changes
nothing for the others. On the main thread, an import or hook call that runs longer
than ``BEAKERLIKE_PLUGIN_TIMEOUT`` seconds (default 60, ``0`` turns it off) is stopped
and recorded the same way, so a hanging plugin cannot hang the kernel.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata as md
import inspect
import logging
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from types import ModuleType
from typing import Any

import pluggy

from . import hookspecs
from ._hooklog import to_kernel_log
from ._version import __version__
from .actions import Action, action_of, actions_in, make_action

log = logging.getLogger("beakerlike.plugins")

ENTRY_POINT_GROUP = "beakerlike"
ENV_PLUGINS = "BEAKERLIKE_PLUGINS"
ENV_BLOCK = "BEAKERLIKE_BLOCK_PLUGINS"
ENV_NO_AUTOLOAD = "BEAKERLIKE_DISABLE_PLUGIN_AUTOLOAD"
ENV_TRACE = "BEAKERLIKE_TRACE_HOOKS"
ENV_TIMEOUT = "BEAKERLIKE_PLUGIN_TIMEOUT"
DEFAULT_TIMEOUT = 60.0

#: Built-in behaviour, registered as ordinary plugins (pluggy's eggsample style).
BUILTIN_PLUGINS: list[str] = [
    "beakerlike.builtin.discovery",
    "beakerlike.builtin.contexts_plugin",
    "beakerlike.builtin.preview_plugin",
    "beakerlike.builtin.cancel",
    "beakerlike.builtin.variables_plugin",
]


@dataclass
class PluginError:
    """A failure attributed to one plugin.

    ``phase`` is where it happened: ``import``, ``register`` (pluggy refused it or it
    implements an unknown hook), or the name of the hook that raised.
    """

    plugin: str
    phase: str
    error: str
    traceback: str = ""
    #: How many times this same failure happened (e.g. a hook failing after every cell).
    count: int = 1

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
    blocked: bool = False
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """JSON form for ``beakerlike plugins --json``."""
        return asdict(self)


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _seconds(value: str | None, default: float) -> float:
    try:
        return max(0.0, float(value)) if value not in (None, "") else default
    except ValueError:
        log.warning("%s=%r is not a number of seconds; using %g", ENV_TIMEOUT, value, default)
        return default


def _trace_writer(line: str) -> None:
    # The real stderr: inside a kernel sys.stderr is forwarded to the frontend.
    stream = sys.__stderr__ or sys.stderr
    print(f"[beakerlike hook] {line}", file=stream, flush=True)


class PluginTimeout(BaseException):
    """A plugin's import or hook call ran past ``BEAKERLIKE_PLUGIN_TIMEOUT``.

    A ``BaseException`` so a plugin's ``except Exception`` cannot swallow it.
    """


@contextlib.contextmanager
def _deadline(seconds: float, what: str) -> Iterator[None]:
    """Raise :class:`PluginTimeout` in the block after ``seconds`` (main thread only: SIGALRM).

    An interval timer already running (e.g. pytest-timeout's) is suspended and re-armed
    afterwards with its remaining time; if it would fire first, it is left alone.
    """
    if seconds <= 0 or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return
    outer, outer_interval = signal.getitimer(signal.ITIMER_REAL)
    if outer and outer <= seconds:
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise PluginTimeout(f"{what} did not finish within {seconds:g} s ({ENV_TIMEOUT})")

    started = time.monotonic()
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - started), 0.001), outer_interval)


class PluginHost:
    """Loads plugins through pluggy and keeps the registries they fill.

    Use ``PluginHost().load()`` (what the kernel does); then read :attr:`actions`,
    :attr:`contexts`, :attr:`previewers`, :attr:`errors` and :meth:`describe`.
    """

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}
        self.errors: list[PluginError] = []
        self.actions: dict[str, Action] = {}
        self.action_owner: dict[str, str] = {}
        self.contexts: dict[str, Any] = {}
        self.previewers: list[Any] = []
        self.trace: Callable[[str], None] | None = None
        self.timeout = DEFAULT_TIMEOUT
        self._order: list[str] = []
        self._current: str | None = None
        self._loaded = False

    # -- loading ---------------------------------------------------------------
    def load(
        self,
        env: Mapping[str, str] | None = None,
        *,
        builtins: bool = True,
        extra_modules: Iterable[str] = (),
        extra_plugins: Iterable[Any] = (),
    ) -> PluginHost:
        """Discover, register and collect all plugins; never raises for a plugin's fault.

        ``env`` defaults to ``os.environ``; ``extra_modules`` are loaded like
        ``BEAKERLIKE_PLUGINS`` entries and ``extra_plugins`` (modules or objects with
        hookimpls) are registered right after them.
        """
        env = os.environ if env is None else env
        if _truthy(env.get(ENV_TRACE)):
            self.trace = _trace_writer
        self.timeout = _seconds(env.get(ENV_TIMEOUT), DEFAULT_TIMEOUT)
        blocked = set(_split(env.get(ENV_BLOCK)))
        if builtins:
            for modname in BUILTIN_PLUGINS:
                self._load_module(modname, "builtin", blocked)
        for modname in [*_split(env.get(ENV_PLUGINS)), *extra_modules]:
            self._load_module(modname, "env", blocked)
        for plugin in extra_plugins:
            name = getattr(plugin, "__name__", None) or type(plugin).__name__
            if not self._block(name, blocked, source="manual", module=name):
                self.register(plugin, name=name if name not in self.infos else f"{name}-{id(plugin):x}")
        if not _truthy(env.get(ENV_NO_AUTOLOAD)):
            self._load_entry_points(blocked)
        self.collect()
        self._loaded = True
        return self

    def _block(self, name: str, blocked: set[str], **info: Any) -> bool:
        names = {name, info.get("module"), info.get("distribution")}
        if not blocked & {n for n in names if n}:
            return False
        if name not in self.infos:
            self.infos[name] = PluginInfo(name=name, loaded=False, blocked=True, **info)
        self.pm.set_blocked(name)
        return True

    def _load_module(self, modname: str, source: str, blocked: set[str]) -> None:
        if self._block(modname, blocked, source=source, module=modname) or modname in self.infos:
            return
        try:
            # Built-ins are ours and trusted: a slow machine must not time them out.
            timeout = 0 if source == "builtin" else self.timeout
            with _deadline(timeout, f"importing {modname!r}"):
                module = importlib.import_module(modname)
        except BaseException as exc:  # noqa: BLE001 - SystemExit in a plugin must not kill the kernel
            if isinstance(exc, KeyboardInterrupt):
                raise
            self._fail(modname, "import", exc, source=source, module=modname)
            return
        builtin = {"version": __version__, "distribution": "beakerlike"} if source == "builtin" else {}
        self.register(module, name=modname, source=source, **builtin)

    def _entry_points(self) -> list[md.EntryPoint]:
        # The same distribution can be visible twice (e.g. two sys.path entries): keep one.
        seen: set[tuple[str, str]] = set()
        found = []
        for ep in sorted(md.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: (ep.name, ep.value)):
            if (ep.name, ep.value) not in seen:
                seen.add((ep.name, ep.value))
                found.append(ep)
        return found

    def _load_entry_points(self, blocked: set[str]) -> None:
        for ep in self._entry_points():
            dist = getattr(ep, "dist", None)
            meta = {"source": "entrypoint", "module": ep.value, "version": getattr(dist, "version", None),
                    "distribution": getattr(dist, "name", None)}
            if self._block(ep.name, blocked, **meta):
                continue
            if ep.name in self.infos:
                other = self.infos[ep.name]
                if other.source == "entrypoint" and other.module != ep.value:
                    self._fail(ep.name, "import", RuntimeError(
                        f"two entry points are named {ep.name!r}: {other.module!r} "
                        f"({other.distribution}) and {ep.value!r} ({meta['distribution']}); "
                        f"only the first is loaded"), record_only=True)
                continue
            try:
                with _deadline(self.timeout, f"importing {ep.value!r}"):
                    plugin = ep.load()
            except BaseException as exc:  # noqa: BLE001
                if isinstance(exc, KeyboardInterrupt):
                    raise
                self._fail(ep.name, "import", exc, **meta)
                continue
            if self.pm.is_registered(plugin):
                # Also named in BEAKERLIKE_PLUGINS: loaded once, under its first name.
                first = self.pm.get_name(plugin)
                if first in self.infos:
                    self.infos[first].version = self.infos[first].version or meta["version"]
                    self.infos[first].distribution = self.infos[first].distribution or meta["distribution"]
                continue
            self.register(plugin, name=ep.name, **meta)

    def register(
        self,
        plugin: Any,
        *,
        name: str | None = None,
        source: str = "manual",
        module: str | None = None,
        version: str | None = None,
        distribution: str | None = None,
    ) -> str | None:
        """Register a plugin object or module; returns its name, ``None`` if it failed.

        Call :meth:`collect` afterwards to gather what it adds.
        """
        name = name or getattr(plugin, "__name__", None) or repr(plugin)
        modname = plugin.__name__ if isinstance(plugin, ModuleType) else getattr(
            plugin, "__module__", type(plugin).__module__)
        meta = {"source": source, "module": module or modname, "version": version, "distribution": distribution}
        try:
            self.pm.register(plugin, name=name)
        except BaseException as exc:  # noqa: BLE001 - e.g. a hookimpl with unknown arguments
            if isinstance(exc, KeyboardInterrupt):
                raise
            self._fail(name, "register", exc, **meta)
            return None
        callers = self.pm.get_hookcallers(plugin) or []
        self.infos[name] = PluginInfo(name=name, hooks=sorted(c.name for c in callers), **meta)
        self._order.append(name)
        for caller in callers:
            if caller.spec is None:
                impl = next((i for i in caller.get_hookimpls() if i.plugin is plugin), None)
                if impl is not None and not impl.optionalhook:
                    self._fail(name, "register", LookupError(
                        f"{caller.name!r} is not a beakerlike hook (typo?); it will never be "
                        f"called. Known hooks: {', '.join(sorted(hookspec_names()))}"), record_only=True)
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin and (impl.hookwrapper or impl.wrapper):
                    self._fail(name, "register", TypeError(
                        f"hook wrappers are not supported ({caller.name})"), record_only=True)
        return name

    def _fail(self, name: str, phase: str, exc: BaseException, *, record_only: bool = False,
              **info: Any) -> None:
        if record_only:
            tb = ""
        else:
            tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        err = PluginError(plugin=name, phase=phase, error=f"{type(exc).__name__}: {exc}", traceback=tb)
        if name not in self.infos:
            self.infos[name] = PluginInfo(name=name, loaded=False, **{"source": "manual", **info})
        self.record(err)

    def record(self, err: PluginError) -> None:
        """Keep a plugin error and log it (the kernel log); a repeat only bumps ``count``."""
        for seen in self.errors:
            if (seen.plugin, seen.phase, seen.error) == (err.plugin, err.phase, err.error):
                seen.count += 1
                if seen.count in (10, 100, 1000):
                    log.error("plugin %r failed %d times during %s", err.plugin, seen.count, err.phase)
                return
        self.errors.append(err)
        if log.hasHandlers():
            log.error("plugin %r failed during %s: %s", err.plugin, err.phase, err.error)
        elif self._loaded:
            # Inside a kernel sys.stderr goes to the frontend; the kernel log is the real stderr
            # (the kernel itself logs the errors found while loading).
            print(f"[beakerlike] ERROR | plugin {err.plugin!r} failed during {err.phase}: {err.error}",
                  file=sys.__stderr__ or sys.stderr, flush=True)
        info = self.infos.get(err.plugin)
        if info is not None and err.error not in info.errors:
            info.errors.append(err.error)

    # -- collecting ------------------------------------------------------------
    def collect(self) -> None:
        """Gather actions, contexts and previewers, plugin by plugin in load order.

        A plugin's module-level ``@action`` functions come before its ``register_actions``.
        """
        impls = {i.plugin_name: i for i in self.pm.hook.register_actions.get_hookimpls()}
        for plugin_name in self._order:
            plugin = self.pm.get_plugin(plugin_name)
            if plugin is None:
                continue
            if isinstance(plugin, ModuleType):
                for act in actions_in(plugin):
                    self._add_action(act, plugin_name)
            elif action_of(plugin) is not None:  # an entry point naming one function: "pkg.mod:func"
                self._add_action(action_of(plugin), plugin_name)  # type: ignore[arg-type]
            impl = impls.get(plugin_name)
            if impl is not None:
                self._call_impl(impl, "register_actions",
                                {"register": self._registrar("register_actions", self._register_action)})
        self.call_each("register_contexts", register=self._registrar("register_contexts", self._register_context))
        self.call_each("register_previewers",
                       register=self._registrar("register_previewers", self._register_previewer))
        self._check_context_actions()

    def _check_context_actions(self) -> None:
        """Record an error when a context's action is also a global action (same function).

        The usual cause: ``from .actions import describe`` at the top level of the plugin
        module, whose ``@action`` functions are all collected as global actions.
        """
        by_func = {id(act.func): (name, act) for name, act in self.actions.items()}
        for ctx_name, ctx in self.contexts.items():
            for act in getattr(ctx, "action_map", {}).values():
                found = by_func.get(id(act.func))
                if found is None or found[1].func is not act.func:
                    continue
                owner = self.action_owner.get(found[0], "?")
                self.record(PluginError(
                    plugin=owner, phase="register_contexts",
                    error=f"ContextActionLeak: {act.origin or act.name!r} is an action of context {ctx_name!r} "
                          f"and also a global action {found[0]!r} of plugin {owner!r}, so it is callable in "
                          f"every context. Module-level @action functions of a plugin module are global: "
                          f"import the module (`from . import actions`), not the function.",
                ))

    def _registrar(self, hook: str, add: Callable[..., None]) -> Callable[..., None]:
        # One bad registration is recorded and skipped; the plugin's other ones still count.
        def register(obj: Any, *args: Any, **kwargs: Any) -> None:
            plugin_name = self._current or "?"
            try:
                add(obj, *args, **kwargs)
            except Exception as exc:
                self._fail(plugin_name, hook, exc)

        register.__doc__ = f"The ``register`` callback of ``{hook}``."
        return register

    def _register_action(self, obj: Any, **options: Any) -> None:
        act = obj if isinstance(obj, Action) else None
        if act is None and not options:
            act = action_of(obj)
        if act is None:
            if not callable(obj):
                raise TypeError(f"register_actions: {obj!r} is not a function or Action")
            act = make_action(obj, **options)
        self._add_action(act, self._current or "?")

    def _add_action(self, act: Action, plugin_name: str) -> None:
        owner = self.action_owner.get(act.name)
        if owner is not None:
            if self.actions[act.name].func is act.func:
                return
            self.record(PluginError(
                plugin=plugin_name, phase="register_actions",
                error=f"ActionConflict: action {act.name!r} is already provided by plugin "
                      f"{owner!r}; {plugin_name!r}'s version is ignored (the first loaded wins)",
            ))
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
            info.previewers.append(str(getattr(previewer, "name", None) or repr(previewer)))

    # -- calling hooks ---------------------------------------------------------
    def call_each(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call every implementation of a hook in load order, isolating failures per plugin.

        Returns the non-``None`` results. A plugin that raises (anything but
        ``KeyboardInterrupt``) is recorded in :attr:`errors` and skipped.
        """
        caller = getattr(self.pm.hook, hook_name)
        rank = {name: i for i, name in enumerate(self._order)}
        impls = sorted(caller.get_hookimpls(), key=lambda i: rank.get(i.plugin_name, len(rank)))
        results = []
        for impl in impls:
            ok, res = self._call_impl(impl, hook_name, kwargs)
            if ok and res is not None:
                results.append(res)
        return results

    def _call_impl(self, impl: pluggy.HookImpl, hook_name: str, kwargs: Mapping[str, Any]) -> tuple[bool, Any]:
        if impl.hookwrapper or impl.wrapper:
            return False, None
        previous, self._current = self._current, impl.plugin_name
        if self.trace is not None:
            self.trace(f"{hook_name}({', '.join(impl.argnames)}) -> {impl.plugin_name}")
        try:
            builtin = impl.plugin_name in BUILTIN_PLUGINS
            with _deadline(0 if builtin else self.timeout, f"hook {hook_name!r}"), to_kernel_log(impl.plugin_name):
                res = impl.function(**{k: kwargs[k] for k in impl.argnames})
            if inspect.isawaitable(res):
                if inspect.iscoroutine(res):
                    res.close()
                raise TypeError(f"hook {hook_name!r} must be a plain function, not async; "
                                f"start a task from it if you need to await")
        except BaseException as exc:  # noqa: BLE001
            if isinstance(exc, KeyboardInterrupt):
                raise
            self._fail(impl.plugin_name, hook_name, exc)
            return False, None
        finally:
            self._current = previous
        return True, res

    def describe(self) -> list[dict[str, Any]]:
        """Every known plugin as JSON, failed and blocked ones included, in load order."""
        return [info.to_json() for info in self.infos.values()]


def hookspec_names() -> list[str]:
    """Names of every hook a plugin can implement."""
    return sorted(name for name, fn in vars(hookspecs).items()
                  if callable(fn) and hasattr(fn, f"{hookspecs.PROJECT}_spec"))
