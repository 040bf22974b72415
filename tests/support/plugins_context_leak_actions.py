import beakerlike


@beakerlike.action
async def describe_leak(req) -> str:
    return "described"
