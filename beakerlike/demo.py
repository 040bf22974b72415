"""The scripted demo session behind ``beakerlike demo`` and the example notebook.

It is also a tiny plugin: the demo kernel loads this module through
``BEAKERLIKE_PLUGINS=beakerlike.demo`` to get :func:`demo_train`, a streaming
action that reports progress. Normal kernels do not load it.
"""

from __future__ import annotations

import asyncio
import json
import math
from dataclasses import dataclass
from typing import Any

from .actions import action

#: The plugin module name to put in ``BEAKERLIKE_PLUGINS`` for a demo kernel.
PLUGIN = "beakerlike.demo"


@action("demo_train", timeout=120)
async def demo_train(req, epochs: int = 5, delay: float = 0.05, target: str = "model") -> dict[str, Any]:
    """Pretend to train a model: stream one progress message per epoch, store the result as ``target``.

    Each ``demo_train_response`` is ``{"epoch", "epochs", "progress", "loss"}``; the
    return value is ``{"target", "epochs", "loss"}``. ``delay`` is the pause per epoch (s).
    """
    if not 1 <= epochs <= 1000:
        raise ValueError("epochs must be between 1 and 1000")
    if not 0 <= delay <= 10:
        raise ValueError("delay must be between 0 and 10 seconds")
    if not target.isidentifier():
        raise ValueError(f"target must be a Python identifier, got {target!r}")
    losses = []
    for epoch in range(1, epochs + 1):
        await asyncio.sleep(delay)
        loss = round(math.exp(-0.6 * epoch) + 0.05, 4)
        losses.append(loss)
        await req.respond({"epoch": epoch, "epochs": epochs, "progress": epoch / epochs, "loss": loss})
    req.namespace[target] = {"kind": "demo model", "epochs": epochs, "losses": losses}
    return {"target": target, "epochs": epochs, "loss": losses[-1]}


@dataclass(frozen=True)
class Step:
    """One step of the demo: a cell to run, or an action to call (``action`` set)."""

    title: str
    code: str = ""
    action: str | None = None
    payload: dict[str, Any] | None = None
    #: Code for the example notebook when it must differ from ``code``.
    notebook_code: str | None = None


STEPS: list[Step] = [
    Step("Plain variables appear in the preview",
         "x = 42\ngreeting = 'hello, beakerlike'\nprimes = [2, 3, 5, 7, 11]"),
    Step("A pandas DataFrame: shape, columns and a table preview",
         "import pandas as pd\n"
         "sales = pd.DataFrame({\n"
         "    'city': ['Lyon', 'Oslo', 'Lima', 'Pune', 'Kobe', 'Nice'],\n"
         "    'units': [12, 7, 30, 22, 9, 15],\n"
         "    'price': [2.5, 4.0, 1.2, 0.9, 3.1, 2.2],\n"
         "})\n"
         "sales['revenue'] = sales.units * sales.price\n"
         "sales.head(3)"),
    Step("Changes only: a rebound int and a list mutated in place",
         "x += 1\nprimes.append(13)\nprint(f'x is now {x}; {len(primes)} primes')"),
    Step("A streaming action with progress, called by the client (not a cell)",
         action="demo_train", payload={"epochs": 5}),
    Step("The action stored its result; a deleted variable disappears",
         "del greeting\nmodel['losses'][-1]",
         # In the notebook the action runs in the background: "Run all" may get here first.
         notebook_code="if 'greeting' in globals():\n    del greeting\n"
                       "model['losses'][-1] if 'model' in globals() else 'still training: run this cell again'"),
]


def tour_notebook() -> dict[str, Any]:
    """The example notebook (``examples/beakerlike-tour.ipynb``): the panel, the demo cells, an action call."""

    def md(text: str) -> dict[str, Any]:
        return {"cell_type": "markdown", "metadata": {}, "source": text}

    def code(text: str) -> dict[str, Any]:
        return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": text}

    cells = [
        md("# beakerlike tour\n\nRun the cells one by one (Shift+Enter) and watch the **Variables** panel "
           "below update after each cell, without re-running it. Click a DataFrame to page through its rows."),
        code("import beakerlike\n\npanel = beakerlike.PreviewPanel()\npanel"),
    ]
    for step in STEPS:
        cells.append(md(f"## {step.title}"))
        if step.action is None:
            cells.append(code(step.notebook_code or step.code))
        else:
            args = ", ".join(f"{k}={v!r}" for k, v in (step.payload or {}).items())
            cells.append(md(
                "Actions are called by clients (a frontend, `beakerlike call`, `beakerlike.KernelClient`) with a "
                f"`{step.action}_request` message. This cell opens such a client on its own kernel and calls "
                f"`{step.action}` in the background; its streamed responses move the progress bar. (The demo "
                "kernel loads this action with `BEAKERLIKE_PLUGINS=beakerlike.demo`; `beakerlike lab` sets it.)"))
            cells.append(code(
                "from beakerlike.demo import call_with_progress\n\n"
                f"call_with_progress({step.action!r}{', ' if args else ''}{args})"))
    cells.append(md("## Previews the engine could not make say so\n\nAn object whose `repr` raises:"))
    cells.append(code("class Stubborn:\n    def __repr__(self):\n        raise ValueError('no repr for you')\n\n"
                      "stubborn = Stubborn()"))
    for i, cell in enumerate(cells):
        cell["id"] = f"tour-{i:02d}"
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"name": "beakerlike", "display_name": "Python 3 (beakerlike)", "language": "python"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def tour_notebook_json() -> str:
    """The example notebook as the text written to ``examples/beakerlike-tour.ipynb``."""
    return json.dumps(tour_notebook(), indent=1, ensure_ascii=False) + "\n"


def call_with_progress(name: str, **payload: Any) -> Any:
    """From a notebook cell: call action ``name`` of this same kernel over the wire, with a progress bar.

    Opens a :class:`~beakerlike.client.KernelClient` on the kernel's own connection
    file and sends ``<name>_request`` in the background (the kernel answers it once
    the cell is done; actions run next to cells). Each streamed response carrying
    ``progress`` (0..1) moves the bar; the reply's value is shown when it arrives.
    Returns the widget to display.
    """
    import ipywidgets
    from ipykernel import get_connection_file

    from .client import KernelClient

    bar = ipywidgets.FloatProgress(value=0.0, min=0.0, max=1.0, description=name)
    label = ipywidgets.Label("waiting for the kernel…")
    box = ipywidgets.HBox([bar, label])

    def on_response(msg: dict[str, Any]) -> None:
        content = msg["content"]
        if isinstance(content.get("progress"), (int, float)):
            bar.value = float(content["progress"])
        label.value = ", ".join(f"{k} {v}" for k, v in content.items() if k != "progress")

    async def call() -> None:
        kernel = await KernelClient.connect(get_connection_file())
        try:
            result = await kernel.call(name, payload, on_response=on_response, timeout=None)
            bar.bar_style = "success"
            label.value = f"done: {json.dumps(result)}"
        except Exception as exc:
            bar.bar_style = "danger"
            label.value = f"failed: {exc}"
        finally:
            await kernel.close(shutdown=False)

    task = asyncio.get_running_loop().create_task(call())
    _background.add(task)
    task.add_done_callback(_background.discard)
    return box


#: Running background calls, so they are not garbage collected mid-flight.
_background: set[asyncio.Task[None]] = set()
