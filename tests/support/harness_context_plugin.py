"""A plugin with a context, a previewer for its own type, hooks that print and log."""

import logging

import pydantic

import beakerlike


class Thing:
    def __init__(self, name, size):
        self.name, self.size = name, size


def preview_thing(obj, limits):
    return {"kind": "object", "summary": f"Thing {obj.name}", "length": obj.size,
            "bbox": [0, 0, obj.size, obj.size], "crs": "EPSG:4326", "blob": "x" * 5000}


def page_thing(obj, offset, limit, columns):
    rows = [[i] for i in range(offset, min(obj.size, offset + limit))]
    return {"total": obj.size, "columns": ["i"], "rows": rows, "index": None}


class Setup(pydantic.BaseModel):
    scale: int = 1


SEEN: list = []


async def double(req, name: str) -> int:  # not @action: module-level @action functions are global
    """Double a variable, scaled by the context's setup."""
    return req.namespace[name] * 2 * req.kernel.contexts.info.scale


@beakerlike.hookimpl
def register_contexts(register):
    register(beakerlike.Context(
        name="things", docs="Things.", actions=[double], setup_model=Setup,
        previewers=[beakerlike.Previewer(("harness_context_plugin.Thing",), preview_thing, page=page_thing)],
        setup=lambda kernel, info: SEEN.append(("setup", info.scale))))


@beakerlike.hookimpl
def kernel_started(kernel):
    print("started: hello from kernel_started")
    kernel.shell.user_ns["THINGS_READY"] = True


@beakerlike.hookimpl
def before_execute(kernel, info):
    SEEN.append(("before", info.raw_cell))


@beakerlike.hookimpl
def after_execute(kernel, result):
    SEEN.append(("after", result.success))
    print("after: printed by after_execute")
    logging.getLogger("harness_context_plugin").warning("after: logged by after_execute")
