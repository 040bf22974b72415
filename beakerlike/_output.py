"""``print`` and ``display`` inside action handlers: parented, in order, and dropped after the reply.

ipykernel's :class:`~ipykernel.iostream.OutStream` buffers text per parent and publishes it
from its IOPub thread every 0.2 s, so a handler's ``print`` output arrived after all of its
responses. :class:`ActionOutStream` (the kernel app's ``outstream_class``) hands text written
while a handler runs (:data:`~beakerlike.request.CURRENT` is set, also in its worker thread) to
that :class:`~beakerlike.request.Request`, which publishes it before its next response, display
or reply, and drops it once the request has replied. Everything else (cells, threads started
by the user) goes through ipykernel unchanged.
"""

from __future__ import annotations

from typing import Any

from ipykernel.iostream import OutStream

from .request import CURRENT


class ActionOutStream(OutStream):
    """ipykernel's ``OutStream`` that routes a running action's text to its request."""

    def write(self, string: str) -> int | None:  # type: ignore[override]
        """Write to the current request's output, or as ipykernel does outside handlers."""
        req = CURRENT.get()
        if req is None or not isinstance(string, str):
            return super().write(string)
        if self.echo is not None:
            try:
                self.echo.write(string)
            except OSError:
                pass
        req.write_output(self.name, string)
        return len(string)

    def flush(self) -> None:
        """Publish the current request's pending output, or flush as ipykernel does."""
        req = CURRENT.get()
        if req is None:
            super().flush()
        else:
            req.flush_output()


def guard_display_pub(display_pub: Any) -> None:
    """Make IPython's ``display``/``clear_output`` in a handler respect its request's order and end.

    Output is published under the request's lock (after its pending ``print`` text) and
    dropped once the request has replied (an abandoned worker thread displaying late).
    """
    for name in ("publish", "clear_output"):
        original = getattr(display_pub, name, None)
        if original is None:
            continue

        def guarded(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            req = CURRENT.get()
            if req is None:
                return _original(*args, **kwargs)
            with req._lock:
                if req.closed:
                    return None
                req._flush_output()
                return _original(*args, **kwargs)

        setattr(display_pub, name, guarded)
