"""Launch the beakerlike kernel: ``python -m beakerlike.kernelapp -f {connection_file}``."""

from __future__ import annotations

import ipaddress
import logging
import os
from typing import Any

import zmq
from ipykernel.kernelapp import IPKernelApp
from traitlets import DottedObjectName, Integer

#: Set by the ``beakerlike`` CLI for kernels it starts: no encryption warning on loopback.
ENV_QUIET_LOOPBACK = "BEAKERLIKE_QUIET_LOOPBACK_WARNING"


def _is_loopback(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return ip == "localhost"


def _drop_unencrypted_tcp_warning(record: logging.LogRecord) -> bool:
    # Only other hosts could eavesdrop, and a loopback kernel cannot be reached from them.
    return "running over TCP without encryption" not in str(record.msg)


class BeakerlikeKernelApp(IPKernelApp):
    """ipykernel's app with the beakerlike kernel and an iopub queue deep enough for streaming.

    ZMQ's default high-water mark (1,000 messages per subscriber) makes the iopub
    PUB socket *silently drop* messages, ``status: idle`` included, as soon as a
    subscriber falls that far behind: a streaming action then loses responses and
    the client waits forever for its idle. A deeper queue trades bounded memory
    for not losing messages to a briefly slow frontend.
    """

    name = "beakerlike-kernel"

    # print() inside an action handler goes to its request, in order with its responses (see _output).
    outstream_class = DottedObjectName(
        "beakerlike._output.ActionOutStream", allow_none=True, config=True,
        help="The OutStream class for sys.stdout/sys.stderr (beakerlike's routes action output to its request).",
    )

    iopub_hwm = Integer(
        100_000,
        config=True,
        help="Messages queued per iopub subscriber before ZMQ drops (0 = unbounded; ZMQ's default is 1000).",
    )

    def init_sockets(self) -> None:
        """Create the sockets; skip the TCP-without-encryption warning for loopback kernels the CLI starts."""
        if os.environ.get(ENV_QUIET_LOOPBACK) and self.transport == "tcp" and _is_loopback(self.ip):
            self.log.addFilter(_drop_unencrypted_tcp_warning)
        super().init_sockets()

    def init_iopub(self, context: zmq.Context[Any]) -> None:
        """Create the iopub socket with :attr:`iopub_hwm` as its send high-water mark."""
        previous = context.sockopts.get(zmq.SNDHWM)
        # Socket options must be set before bind; the context applies defaults to new sockets.
        context.setsockopt(zmq.SNDHWM, self.iopub_hwm)
        try:
            super().init_iopub(context)
        finally:
            if previous is None:
                context.sockopts.pop(zmq.SNDHWM, None)
            else:
                context.setsockopt(zmq.SNDHWM, previous)


def main() -> None:
    """Start the kernel (what the ``beakerlike`` kernelspec runs)."""
    from .kernel import BeakerlikeKernel

    BeakerlikeKernelApp.launch_instance(kernel_class=BeakerlikeKernel)


if __name__ == "__main__":
    main()
