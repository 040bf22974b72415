"""Running one action request to exactly one reply.

This is the straight line every request follows, shared by the real kernel and
the in-process test harness::

    content -> validated kwargs -> handler -> responses -> one reply content

:func:`run_action` never raises (except on cancellation of the caller): every
outcome becomes an ``ok``, ``error`` or ``aborted`` reply.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Mapping
from typing import Any

import anyio
from pydantic_core import to_jsonable_python

from . import protocol
from .actions import Action, PayloadError
from .request import Request

log = logging.getLogger("beakerlike")


class UnknownAction(LookupError):
    """No action is registered under the requested name."""


class ActionTimeout(TimeoutError):
    """The action ran longer than its ``timeout``."""


def unknown_action_reply(name: str, known: list[str]) -> dict[str, Any]:
    """The error reply for a request whose action does not exist."""
    hint = f"; available: {', '.join(sorted(known))}" if known else ""
    return protocol.error_reply("UnknownAction", f"no action named {name!r}{hint}")


async def run_action(
    action: Action,
    request: Request,
    *,
    scope: anyio.CancelScope,
    serial_lock: anyio.Lock | None = None,
    reason: Callable[[], str] = lambda: "interrupted",
) -> dict[str, Any]:
    """Validate, run and reply.

    ``scope`` lets the caller cancel (reply ``aborted`` with ``reason()``);
    ``serial_lock`` runs non-concurrent actions one at a time.
    """
    try:
        kwargs = action.bind(request.content)
    except PayloadError as exc:
        return protocol.error_reply("ValidationError", str(exc), [], errors=exc.errors)
    except Exception as exc:  # e.g. a payload model's validator raising TypeError (pydantic passes it on)
        return protocol.exception_reply(exc)
    result: Any = None
    try:
        with scope:
            if serial_lock is not None and not action.concurrent:
                async with serial_lock:
                    result = await _invoke_with_timeout(action, request, kwargs)
            else:
                result = await _invoke_with_timeout(action, request, kwargs)
    except ActionTimeout as exc:
        return _flushed(request, protocol.exception_reply(exc))
    except KeyboardInterrupt:  # a SIGINT that landed inside the handler is an interrupt
        return _flushed(request, protocol.aborted_reply("interrupted"))
    except anyio.get_cancelled_exc_class():  # our caller is being cancelled (e.g. shutdown): not ours to report
        raise
    except BaseException as exc:  # the handler's own error (also SystemExit, GeneratorExit, custom BaseException)
        return _flushed(request, protocol.exception_reply(exc))
    if scope.cancelled_caught:
        return _flushed(request, protocol.aborted_reply(reason()))
    try:
        reply = protocol.ok_reply(to_jsonable_python(result))
        why = protocol.packable(reply)  # e.g. a lone surrogate: to_jsonable_python lets it through
    except Exception as exc:
        reply, why = None, f"{protocol.type_name(exc)}: {protocol.describe(exc)}"
    if why is not None:
        reply = protocol.error_reply(
            "SerializationError",
            f"action {action.name!r} returned a {protocol.type_name(result)} that is not JSON "
            f"serializable: {why}",
        )
    return _flushed(request, reply)


def _flushed(request: Request, reply: dict[str, Any]) -> dict[str, Any]:
    """``reply``, once the last coalesced responses are sent; an error reply if they cannot be."""
    try:
        request.flush()
    except Exception as exc:  # e.g. a batched response that is not JSON serializable
        if reply.get("status") == "ok":
            return protocol.exception_reply(exc)
        log.warning("action %r: coalesced responses lost (%s: %s)", request.action, type(exc).__name__, exc)
    return reply


async def _invoke_with_timeout(action: Action, request: Request, kwargs: Mapping[str, Any]) -> Any:
    if action.timeout is None:
        return await _invoke(action, request, kwargs)
    try:
        with anyio.fail_after(action.timeout):
            return await _invoke(action, request, kwargs)
    except TimeoutError:
        raise ActionTimeout(f"action {action.name!r} timed out after {action.timeout:g} s") from None


async def _invoke(action: Action, request: Request, kwargs: Mapping[str, Any]) -> Any:
    if not action.coalesce:
        return await _call(action, request, kwargs)
    # Errors are raised below, outside the task group, which would wrap them in an ExceptionGroup.
    errors: list[BaseException] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(_flush_periodically, request, action.coalesce, errors, tg.cancel_scope)
        try:
            result = await _call(action, request, kwargs)
        except anyio.get_cancelled_exc_class():
            raise
        except BaseException as exc:
            errors.append(exc)
        finally:
            tg.cancel_scope.cancel()
    if errors:
        raise errors[0]
    return result


async def _flush_periodically(
    request: Request, interval: float, errors: list[BaseException], handler_scope: anyio.CancelScope
) -> None:
    """Send coalesced responses every ``interval``; one that cannot be sent stops the handler."""
    while True:
        await anyio.sleep(interval)
        try:
            request.flush()
        except Exception as exc:
            errors.append(exc)
            handler_scope.cancel()
            return


async def _call(action: Action, request: Request, kwargs: Mapping[str, Any]) -> Any:
    kind = action.kind
    if kind == "async":
        return await action.func(request, **kwargs)
    if kind == "asyncgen":
        agen = action.func(request, **kwargs)
        try:
            async for item in agen:
                request.respond(item)
        finally:
            await agen.aclose()
        return None
    if action.main_thread:
        return _call_here(lambda: action.func(request, **kwargs))
    # Plain functions run in a worker thread so they never stall the kernel's loop;
    # on cancellation the thread is abandoned and the reply is sent at once.
    return await anyio.to_thread.run_sync(
        lambda: action.func(request, **kwargs), abandon_on_cancel=True
    )


def _call_here(func: Callable[[], Any]) -> Any:
    """Run a ``main_thread`` action's plain handler on this thread, interruptible like a cell.

    On the interpreter's main thread SIGINT raises ``KeyboardInterrupt`` in the handler while
    it runs (the reply is then ``aborted``), as ipykernel arranges for cells.
    """
    if threading.current_thread() is not threading.main_thread():
        return func()
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return func()
    finally:
        signal.signal(signal.SIGINT, previous)
