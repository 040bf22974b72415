"""A plugin with a misspelled hook name and an async hook."""

import beakerlike
from beakerlike import hookimpl


@hookimpl
def kernel_startd(kernel):  # typo: never called
    pass


@hookimpl
async def kernel_shutdown(kernel):
    pass


@beakerlike.action
async def unknown_hook_alive(req) -> bool:
    return True
