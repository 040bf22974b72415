"""``beakerlike demo`` end to end (subprocess, real kernel), the tour notebook, ``beakerlike lab``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from beakerlike.cli.demo_cmds import demo_env
from beakerlike.demo import STEPS, tour_notebook, tour_notebook_json
from beakerlike.testing import running_kernel

ROOT = Path(__file__).resolve().parents[1]


def beakerlike(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "beakerlike", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env={**os.environ, "COLUMNS": "110"})


def test_demo_shows_each_step() -> None:
    proc = beakerlike("demo")
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert "\x1b[" not in out  # not a terminal: plain text
    assert "context default" in out and "demo_train" in out
    for number, step in enumerate(STEPS, start=1):
        assert f"Step {number}/{len(STEPS)}: {step.title}" in out
    lines = out.splitlines()
    # Step 1: three new variables in the preview.
    assert "preview: added greeting, primes, x" in lines
    # Step 2: the DataFrame with its shape, and its first rows.
    assert "preview: added sales" in lines
    sales_row = next(line for line in lines if "│ sales " in line and "DataFrame 6 rows" in line)
    assert "DataFrame" in sales_row and "6 × 4" in sales_row
    assert "sales: first rows" in out and "Lyon" in out
    # Step 3: only what changed, including an in-place mutation.
    assert "preview: changed primes, x" in lines
    assert "x is now 43; 6 primes" in out
    # Step 4: the streaming action's progress, then its one reply.
    for epoch in range(1, 6):
        assert f"demo_train_response: epoch {epoch}/5" in out
    assert "100%" in out and "demo_train_reply: ok" in out
    # Step 5: the action's result shows up, the deleted variable goes.
    assert "preview: added model; removed greeting" in lines
    assert "(deleted)" in out
    assert "Demo finished" in out
    assert "running over TCP" not in out  # the kernel's own log stays out of the show


def test_demo_rejects_negative_delay() -> None:
    proc = beakerlike("demo", "--delay", "-1")
    assert proc.returncode == 2
    assert "--delay must be >= 0" in proc.stdout


def test_demo_env_adds_plugin_once() -> None:
    env = demo_env({"BEAKERLIKE_PLUGINS": "a,beakerlike.demo"})
    assert env["BEAKERLIKE_PLUGINS"] == "a,beakerlike.demo"
    assert demo_env({})["BEAKERLIKE_PLUGINS"] == "beakerlike.demo"


def test_example_notebook_is_generated_from_the_demo() -> None:
    path = ROOT / "examples" / "beakerlike-tour.ipynb"
    assert path.read_text() == tour_notebook_json(), "regenerate: python -c 'from beakerlike.demo import " \
        "tour_notebook_json; open(\"examples/beakerlike-tour.ipynb\", \"w\").write(tour_notebook_json())'"
    nbformat = pytest.importorskip("nbformat")
    nbformat.validate(nbformat.reads(path.read_text(), as_version=4))


@pytest.mark.anyio
async def test_tour_notebook_runs_and_calls_the_action_over_the_wire() -> None:
    code_cells = [c["source"] for c in tour_notebook()["cells"] if c["cell_type"] == "code"]
    async with running_kernel("beakerlike.demo") as kernel:
        for source in code_cells:
            ex = await kernel.execute(source)
            assert ex.content["status"] == "ok", (source, ex.content)
        # The action cell sent demo_train_request through a client of its own; it stores `model`.
        with anyio.move_on_after(90):  # generous: CI machines are busy
            while True:
                ex = await kernel.execute("print('model' in globals())")
                if "True" in "".join(m["content"].get("text", "") for m in ex.of_type("stream")):
                    break
                await anyio.sleep(0.2)
        ex = await kernel.execute("labels = [w.children[1].value for w in Out.values() if hasattr(w, 'children')]\n"
                                  "print('model' in globals(), labels)")
        printed = "".join(m["content"].get("text", "") for m in ex.of_type("stream"))
        assert printed.startswith("True"), f"the background demo_train call never stored `model`: {printed}"
        assert "done: " in printed
        ex = await kernel.execute("model['epochs'], len(model['losses'])")
        assert ex.of_type("execute_result")[0]["content"]["data"]["text/plain"] == "(5, 5)"


def test_lab_writes_the_notebook_and_runs_jupyter_lab(tmp_path: Path) -> None:
    # `--version` makes `jupyter lab` print its version and exit instead of serving.
    proc = beakerlike("lab", "--dir", str(tmp_path / "work"), "--no-browser", "--", "--version")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    written = tmp_path / "work" / "beakerlike-tour.ipynb"
    assert json.loads(written.read_text())["metadata"]["kernelspec"]["name"] == "beakerlike"
    assert proc.stdout.strip().splitlines()[-1][0].isdigit()  # e.g. 4.6.6
