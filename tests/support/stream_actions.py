"""A fast streaming action for the iopub backlog test."""

import beakerlike


@beakerlike.action
async def blast(req, n: int, size: int = 1000) -> int:
    """Publish ``n`` responses of about ``size`` bytes as fast as possible."""
    pad = "x" * size
    for i in range(n):
        req.respond({"i": i, "pad": pad})
    return n
