"""Actions that return or raise hostile values, for ``tests/test_hardening*.py``."""

import beakerlike


class UnprintableError(Exception):
    """An exception whose ``__str__`` raises."""

    def __str__(self) -> str:
        raise RuntimeError("no text for you")


class SurrogateError(Exception):
    """An exception whose text holds a lone surrogate."""

    def __str__(self) -> str:
        return "half an emoji: \ud83d"


@beakerlike.action
async def return_surrogate(req, nested: bool = False):
    """Return a lone surrogate (alone or deep inside a structure)."""
    return {"a": [1, {"b": "\ud800"}]} if nested else "\ud800"


@beakerlike.action
async def return_surrogate_key(req):
    """Return a dict whose key is a lone surrogate."""
    return {"\udfff": 1}


@beakerlike.action
async def raise_unprintable(req):
    """Raise an exception whose ``__str__`` raises."""
    raise UnprintableError()


@beakerlike.action
def raise_unprintable_sync(req):
    """The same from a worker thread."""
    raise UnprintableError()


@beakerlike.action
async def raise_surrogate(req):
    """Raise an exception whose text holds a lone surrogate."""
    raise SurrogateError()


@beakerlike.action
async def ok(req):
    """A plain action, to show the kernel still answers."""
    return "fine"


class RawRows:
    """Previewed by a *trusted* previewer whose rows hold a lone surrogate (trusted fields are not cleaned)."""


def preview_raw_rows(obj, limits):
    return {"kind": "container", "rows": [["\ud800"]], "columns": ["value"]}


@beakerlike.hookimpl
def register_previewers(register):
    register(beakerlike.Previewer((RawRows,), preview_raw_rows, name="raw-rows", trusted=True, exact=True))
