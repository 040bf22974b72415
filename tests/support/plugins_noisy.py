"""A plugin that prints while being imported (must not break ``beakerlike plugins --json``)."""

import beakerlike

print("hello from a noisy plugin")


@beakerlike.action
async def noisy(req) -> None:
    """Do nothing."""
