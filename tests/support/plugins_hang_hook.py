"""A plugin whose kernel_started hook never returns (a busy loop that swallows exceptions)."""

import beakerlike
from beakerlike import hookimpl


@beakerlike.action
async def hang_hook_alive(req) -> str:
    return "alive"


@hookimpl
def kernel_started(kernel):
    while True:
        try:
            pass
        except Exception:  # a careless plugin: the timeout must still get through
            pass
