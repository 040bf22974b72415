"""Declares ``dup_action`` (loaded first)."""

import beakerlike


@beakerlike.action
async def dup_action(req) -> str:
    return "a"
