"""Plugin used by the preview and context tests: a counting previewer and two contexts."""

from __future__ import annotations

import pydantic

import beakerlike

#: Calls of the counting previewer (read from cells: `from preview_support import CALLS`).
CALLS = [0]


class Counted:
    """Values previewed by :func:`preview_counted`."""


def preview_counted(obj, limits):
    CALLS[0] += 1
    return {"kind": "object", "summary": f"counted #{CALLS[0]}"}


def preview_int_as_lab(obj, limits):
    return {"kind": "scalar", "summary": f"lab int {int(obj)}"}


class LabSetup(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    greeting: str = "hello"
    loud: bool = False


SETUPS: list = []


def _lab_setup(kernel, info):
    SETUPS.append(info.greeting)


async def greet(req, name: str) -> str:
    """Greet someone with the configured greeting (a plain function: only the context exposes it)."""
    text = f"{SETUPS[-1]} {name}"
    return text


def _broken_setup(kernel, info):
    raise RuntimeError("cannot start the broken context")


LAB = beakerlike.Context(
    name="lab",
    docs="A test context: greets, previews ints its own way, publishes previews always.",
    actions=[greet],
    previewers=[beakerlike.Previewer((int,), preview_int_as_lab, name="lab-int", trusted=True, exact=True)],
    setup_model=LabSetup,
    always_on=True,
    setup=_lab_setup,
)

BROKEN = beakerlike.Context(name="broken", docs="Its setup always fails.", setup=_broken_setup)


@beakerlike.hookimpl
def register_previewers(register):
    register(beakerlike.Previewer((Counted,), preview_counted, name="counted"))


@beakerlike.hookimpl
def register_contexts(register):
    register(LAB)
    register(BROKEN)


class SlowThing:
    """Previewed by a plugin previewer that hangs."""


def preview_slow(obj, limits):
    import time

    time.sleep(5)
    return {"summary": "too late"}


@beakerlike.hookimpl(specname="register_previewers")
def register_slow_previewer(register):
    register(beakerlike.Previewer((SlowThing,), preview_slow, name="slow"))
