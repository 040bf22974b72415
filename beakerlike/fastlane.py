"""Which actions may run on the thread that received them: the fast lane.

An action request normally crosses two thread hand-overs: from the thread that
receives it (ipykernel's shell-channel thread, for the shell transport) to the
action loop, and back for the reply. For a cheap async handler those hand-overs
are most of its latency. The fast lane runs such a handler directly on the
receiving thread's event loop instead.

That thread also forwards cells to the main thread, so a handler that blocks it
would hold back every request behind it. An action therefore earns the fast lane
by evidence and loses it the same way:

- it must be an ``async def`` handler (not a generator, not ``def``), ``concurrent``
  and not ``main_thread``;
- it is *promoted* after :attr:`FastLane.promote_after` consecutive runs on the action
  loop that each took at most :attr:`FastLane.fast_seconds` from start to reply;
- it is *demoted* for good the first time a fast-lane run takes longer than
  :attr:`FastLane.slow_seconds` (it may have blocked, or it awaits real work: either
  way the action loop is the right place for it).

Wall time bounds any blocking step, so an action that ever blocked for longer than
``fast_seconds`` is never promoted, and one that starts blocking after promotion
holds the receiving thread at most once.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from .actions import Action

log = logging.getLogger("beakerlike.kernel")


@dataclass
class _Record:
    fast_runs: int = 0
    promoted: bool = False
    demoted: bool = False


class FastLane:
    """Per-action promotion to (and demotion from) the fast lane; thread-safe."""

    #: Consecutive quick runs on the action loop before an action is promoted (0: eligible actions
    #: start in the fast lane).
    promote_after: int = 8
    #: A run at most this long (seconds, start to reply) counts as quick.
    fast_seconds: float = 0.001
    #: A fast-lane run longer than this demotes the action for good.
    slow_seconds: float = 0.005
    #: Actions remembered at most (contexts create new action objects on every switch).
    max_actions: int = 4096

    def __init__(self, enabled: bool = True, promote_after: int | None = None) -> None:
        self.enabled = enabled
        if promote_after is not None:
            self.promote_after = max(0, promote_after)
        self._lock = threading.Lock()
        self._records: dict[int, tuple[Action, _Record]] = {}

    @staticmethod
    def eligible(action: Action) -> bool:
        """Whether ``action`` could ever run in the fast lane (its declaration allows it)."""
        return action.kind == "async" and action.concurrent and not action.main_thread

    def allows(self, action: Action) -> bool:
        """Whether the next run of ``action`` goes to the fast lane."""
        if not self.enabled:
            return False
        entry = self._records.get(id(action))
        if entry is None or entry[0] is not action:
            return self.promote_after == 0 and self.eligible(action)
        return entry[1].promoted or (self.promote_after == 0 and not entry[1].demoted)

    def record(self, action: Action, seconds: float, fast: bool) -> None:
        """Account one finished run of ``action`` (``fast``: it ran in the fast lane)."""
        if not self.enabled:
            return
        with self._lock:
            entry = self._records.get(id(action))
            if entry is None or entry[0] is not action:  # new action (or a recycled id)
                if not self.eligible(action):
                    return
                if len(self._records) >= self.max_actions:  # actions of many context switches: start afresh
                    self._records.clear()
                entry = self._records[id(action)] = (action, _Record())
            rec = entry[1]
            if rec.demoted:
                return
            if fast:
                if seconds > self.slow_seconds:
                    rec.promoted, rec.demoted = False, True
                    log.info("beakerlike: action %r took %.1f ms in the fast lane (it awaited longer work, or "
                             "blocked the shell-channel thread); it runs on the action loop from now on",
                             action.name, seconds * 1e3)
                return
            if seconds <= self.fast_seconds:
                rec.fast_runs += 1
                if rec.fast_runs >= self.promote_after:
                    rec.promoted = True
            else:
                rec.fast_runs = 0

    def state(self, action: Action) -> str:
        """``"fast"``, ``"demoted"`` or ``"loop"`` (for diagnostics and tests)."""
        entry = self._records.get(id(action))
        if entry is None or entry[0] is not action:
            return "fast" if self.enabled and self.promote_after == 0 and self.eligible(action) else "loop"
        rec = entry[1]
        return "demoted" if rec.demoted else "fast" if rec.promoted or self.promote_after == 0 else "loop"
