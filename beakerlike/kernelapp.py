"""Launch the beakerlike kernel: ``python -m beakerlike.kernelapp -f {connection_file}``."""

from __future__ import annotations

from typing import Any

import zmq
from ipykernel.kernelapp import IPKernelApp
from traitlets import DottedObjectName, Integer


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
