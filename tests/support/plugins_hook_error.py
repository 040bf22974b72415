"""A plugin whose hooks raise; its action must still work."""

import beakerlike
from beakerlike import hookimpl


@beakerlike.action
async def hook_error_alive(req) -> str:
    """Still callable although every hook of this plugin fails."""
    return "alive"


@hookimpl
def kernel_started(kernel):
    raise RuntimeError("kernel_started exploded")


@hookimpl
def after_execute(kernel, result):
    raise ValueError("after_execute exploded")


@hookimpl
def register_contexts(register):
    raise KeyError("register_contexts exploded")
