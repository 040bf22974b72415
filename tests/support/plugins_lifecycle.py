"""Implements every hook; records each call so tests can check they happen.

Calls are appended to ``CALLS`` (in process) and, in a kernel, to the file named by
``PLUGINS_LIFECYCLE_LOG`` (one JSON line per call), readable after the kernel exits.
"""

import json
import os

import beakerlike
from beakerlike import hookimpl

CALLS = []


class Thing:
    """A type previewed by this plugin's previewer."""


def _log(hook, **detail):
    CALLS.append((hook, detail))
    path = os.environ.get("PLUGINS_LIFECYCLE_LOG")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps({"hook": hook, **detail}) + "\n")


async def lifecycle_registered(req) -> str:
    """Added through the register_actions hook."""
    return "registered"


@beakerlike.action
async def lifecycle_calls(req) -> list:
    """The hook calls seen so far in this process."""
    return [c[0] for c in CALLS]


def preview_thing(obj, limits):
    return {"summary": "a Thing"}


@hookimpl
def register_actions(register):
    _log("register_actions")
    register(lifecycle_registered)


@hookimpl
def register_contexts(register):
    _log("register_contexts")
    register(beakerlike.Context(name="lifecycle_ctx", docs="A context from the lifecycle plugin."))


@hookimpl
def register_previewers(register):
    _log("register_previewers")
    register(beakerlike.Previewer(types=(Thing,), preview=preview_thing, name="thing"))


@hookimpl
def kernel_started(kernel):
    _log("kernel_started", has_shell=kernel.shell is not None)


@hookimpl
def before_execute(kernel, info):
    _log("before_execute", cell=info.raw_cell)


@hookimpl
def after_execute(kernel, result):
    _log("after_execute", cell=result.info.raw_cell, success=result.success)


@hookimpl
def kernel_shutdown(kernel):
    _log("kernel_shutdown")
