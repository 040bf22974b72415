"""Keep ipykernel's shell pipes from deadlocking under a flood of requests.

ipykernel 7 routes every shell message through two threads: the shell-channel
thread reads the shell ROUTER and forwards each request over an inproc PAIR
socket to the main thread (or a subshell thread); replies travel back over a
second PAIR to the shell-channel thread, which writes them to the ROUTER.
Both forwards are *blocking* sends, and inproc pipes hold only
``SNDHWM + RCVHWM`` = 2,000 messages. Under a burst of a few thousand
requests the reply pipe fills while the shell-channel thread is busy
forwarding requests; the main thread then blocks in its reply send, stops
reading requests, the request pipe fills too, and the shell-channel thread
blocks in its forward. Each thread waits on the other forever: the kernel
never answers again (stock ipykernel 7.4 wedges after ~4,000 back-to-back
``kernel_info_request`` from one client).

The fix is to make those sends never block: a zero high-water mark means an
unbounded pipe. This costs no backpressure that existed before, because the
main thread already drains its pipe into one asyncio task per message. The
shell ROUTER gets an unbounded send queue too, so a reply to a connected client
that reads slowly is queued rather than silently dropped.
"""

from __future__ import annotations

import logging
from typing import Any

import zmq

log = logging.getLogger("beakerlike.kernel")


def unbound_shell_pipes(kernel: Any) -> bool:
    """Lift the high-water marks that let the shell pipes deadlock; call before ``Kernel.start``.

    Returns ``False`` (and logs a warning) if this ipykernel has no shell-channel
    thread or a layout this module does not know, in which case nothing changes.
    """
    thread = getattr(kernel, "shell_channel_thread", None)
    if thread is None:
        return False
    try:
        manager = thread.manager  # created lazily; this is the thread that may create it
        original_create = manager._create_subshell
        cache, cache_lock = manager._cache, manager._lock_cache
    except (AttributeError, AssertionError) as exc:  # another ipykernel layout, or not the app's thread
        log.warning("beakerlike: unknown ipykernel shell layout (%r); flood protection off", exc)
        return False
    # A zero RCVHWM on the receiving end makes an inproc pipe unbounded (libzmq
    # passes it to the sender's side of the pipe; a zero SNDHWM does not). Each
    # socket is changed on the thread that owns it.
    manager._shell_channel_to_main.to_socket.rcvhwm = 0  # the main thread's; not polled yet
    _on_loop(thread.io_loop, manager._main_to_shell_channel.to_socket)

    def create_subshell() -> str:
        # Runs on the shell-channel thread; the new subshell gets no request before this returns.
        subshell_id = original_create()
        with cache_lock:
            sub = cache[subshell_id]
        sub.subshell_to_shell_channel.to_socket.rcvhwm = 0
        _on_loop(sub.io_loop, sub.shell_channel_to_subshell.to_socket)
        return subshell_id

    manager._create_subshell = create_subshell

    stream = getattr(thread, "shell_stream", None)
    if stream is not None and stream.socket is not None:
        # The ROUTER belongs to the shell-channel thread: change it there.
        socket = stream.socket
        thread.io_loop.add_callback(lambda: socket.setsockopt(zmq.SNDHWM, 0))
    return True


def _on_loop(io_loop: Any, socket: zmq.Socket[Any]) -> None:
    """Make ``socket``'s incoming pipe unbounded, on the loop of the thread that polls it."""
    io_loop.add_callback(lambda: socket.setsockopt(zmq.RCVHWM, 0))
