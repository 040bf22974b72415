"""Let a quick action run without fighting a pure-Python cell for the GIL.

A cell running pure-Python code holds the GIL and takes it back every time another
thread lets go of it, which every ZMQ frame sent or received does. An action's
threads (shell channel, IOPub) then wait for the GIL dozens of times per request:
a no-op took 2.3-2.6x its idle latency during such a cell, whatever the switch
interval, while a cell burning CPU with the GIL released cost nothing (1.1x).

So while a *quick* action (one in the fast lane, see :mod:`beakerlike.fastlane`) is
answered during a cell, the main thread is asked to step aside: a pending call
(``Py_AddPendingCall``, the mechanism Python's own signal handlers use) makes it wait,
with the GIL released, until the action's ``idle`` has been sent, and never longer than
:attr:`MainThreadPause.max_seconds`. The cell loses the fraction of a millisecond it
would have spent contending anyway. The main thread runs the pending call at its next
bytecode; a cell in ``time.sleep`` or in C code that released the GIL is not touched
(the call runs after the action is done and returns at once).
"""

from __future__ import annotations

import _thread
import ctypes
import logging
import sys
import threading
from collections.abc import Callable

log = logging.getLogger("beakerlike.kernel")

_PENDING = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)


class MainThreadPause:
    """Holds the main thread (GIL released) while any hold is open; see the module docstring."""

    #: The longest one pending call keeps the main thread waiting, in seconds.
    max_seconds: float = 0.01

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._holds = 0
        self._scheduled = False
        #: How many times the main thread has waited (for diagnostics and tests).
        self.pauses = 0
        self._callback = _PENDING(self._wait)  # kept alive as long as this object
        add = getattr(ctypes.pythonapi, "Py_AddPendingCall", None)
        gil = getattr(sys, "_is_gil_enabled", lambda: True)()
        self._add = add if add is not None and gil and sys.implementation.name == "cpython" else None
        if self._add is not None:
            self._add.argtypes = [_PENDING, ctypes.c_void_p]
            self._add.restype = ctypes.c_int

    @property
    def available(self) -> bool:
        """Whether this interpreter can pause its main thread (CPython with a GIL)."""
        return self._add is not None

    def hold(self) -> Callable[[], None]:
        """Ask the main thread to wait until the returned ``release()`` is called (any thread, idempotent)."""
        if self._add is None:
            return _nothing
        with self._cond:
            self._holds += 1
            schedule = not self._scheduled
            self._scheduled = True
        if schedule and self._add(self._callback, None) != 0:  # the pending-call queue is full: no pause
            with self._cond:
                self._scheduled = False
        released = False

        def release() -> None:
            nonlocal released
            with self._cond:
                if released:
                    return
                released = True
                self._holds -= 1
                if self._holds == 0:
                    self._cond.notify_all()

        return release

    def _wait(self, _arg: int | None) -> int:
        # Runs on the main thread, GIL held, between two bytecodes of whatever it runs: never raise.
        try:
            with self._cond:
                self._scheduled = False
                if self._holds:
                    self.pauses += 1
                    self._cond.wait_for(lambda: self._holds == 0, timeout=self.max_seconds)
        except KeyboardInterrupt:  # an interrupt landed during the pause: it belongs to the cell
            _thread.interrupt_main()
        except Exception:  # noqa: BLE001 - a callback's exception would be lost; never fail the cell for it
            log.debug("beakerlike: main-thread pause failed", exc_info=True)
        return 0


def _nothing() -> None:
    pass
