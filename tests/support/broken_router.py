"""A plugin that breaks the kernel's routing of one action (for tests/test_wire_hardening.py).

Its ``kernel_started`` hook makes routing ``route_boom_request`` raise inside the shell stream's
read callback, as a bug in a transport hook would.
"""

import beakerlike


@beakerlike.hookimpl
def kernel_started(kernel) -> None:
    """Raise while routing ``route_boom_request``; route everything else as before."""
    take = kernel._take_action_request

    def take_or_raise(idents, parent, raw, *rest) -> None:
        if parent["msg_type"] == "route_boom_request":
            raise RuntimeError("broken router")
        take(idents, parent, raw, *rest)

    kernel._take_action_request = take_or_raise
