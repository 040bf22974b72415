"""Also declares ``dup_action`` (loaded second: ignored, with an ActionConflict error)."""

import beakerlike


@beakerlike.action("dup_action")
async def dup_action_b(req) -> str:
    return "b"


@beakerlike.action
async def dup_b_only(req) -> str:
    return "b-only"
