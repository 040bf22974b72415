"""Make the kernel ignore ``<name>_request`` messages, as a server with ``allowed_message_types`` would.

Used to check that ``KernelClient(transport="auto")`` falls back to the comm. Loaded as a
plugin; its ``kernel_started`` hook replaces the kernel's action-message handler.
"""

import beakerlike


@beakerlike.hookimpl
def kernel_started(kernel) -> None:
    """Drop every action request message unanswered (comm requests still run)."""

    def dropped(idents, parent, raw, *rest) -> None:
        return None

    kernel._take_action_request = dropped
