"""A five-line plugin: module-level actions only, no hookimpl."""

import beakerlike


@beakerlike.action
async def good_ping(req, text: str = "pong") -> str:
    """Answer with ``text``."""
    return text
