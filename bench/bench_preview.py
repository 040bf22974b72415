"""Preview cost per cell, side by side in one run.

    .venv/bin/python -m bench.bench_preview [--quick]

Four kernel processes hold the same namespace (10,000 small variables, a
10,000,000 x 10 DataFrame and a 1,000,000-item list):

- ``plain``: stock ipykernel (``python -m ipykernel_launcher``), the baseline;
- ``idle``: beakerlike, default context, nobody watching previews;
- ``watch``: beakerlike, default context, one client watching (``preview_watch``);
- ``inspector``: stock ipykernel running jupyterlab-variableinspector's kernel-side
  ``_jupyterlab_variableinspector_dict_list()`` after every cell (what its panel does).

Measured:

1. per-cell latency of a cell that changes one variable (``v1 = i``), rounds
   interleaved across kernels in random order; *added* latency = median over
   rounds of (kernel - plain) in the same round ("paired"), plus the plain
   difference of medians;
2. in-kernel time of the per-cell hooks (beakerlike's pre/post-run-cell hooks,
   the inspector's function), timed inside each kernel;
3. back-to-back ``x = 1`` cells, each sent as soon as the previous reply and idle
   arrived, in alternating blocks: total time ratio vs plain.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import random
import sys
import time
from typing import Any

from ._util import KernelProcess, RawClient, median, quantile

SETUP = """
import numpy as np, pandas as pd
for _i in range({nvars}):
    globals()[f"v{{_i}}"] = _i
big_df = pd.DataFrame(np.random.default_rng(0).random(({rows}, 10)), columns=[f"c{{j}}" for j in range(10)])
big_list = list(range(1_000_000))
del _i
"""

TIMERS = """
import time as _time
_TPRE, _TPOST = [], []
def _bench_wrap(_f, _out):
    def _w(*_a):
        _t = _time.perf_counter()
        _f(*_a)
        _out.append(_time.perf_counter() - _t)
    return _w
_k = get_ipython().kernel
for _name, _cb, _out in (("pre_run_cell", _k._before_execute, _TPRE), ("post_run_cell", _k._after_execute, _TPOST)):
    get_ipython().events.unregister(_name, _cb)
    get_ipython().events.register(_name, _bench_wrap(_cb, _out))
"""

INSPECTOR_HOOK = """
import time as _time
_TPRE, _TPOST = [], []
_jupyterlab_variableinspector_changesettings(maxitems=10)
def _bench_inspect(_result):
    _t = _time.perf_counter()
    _jupyterlab_variableinspector_dict_list()
    _TPOST.append(_time.perf_counter() - _t)
get_ipython().events.register("post_run_cell", _bench_inspect)
"""

STATS = "__import__('json').dumps([_TPRE[-{n} - 1:-1], _TPOST[-{n} - 1:-1]])"


def inspector_script() -> str:
    """The Python half of jupyterlab-variableinspector, as its labextension ships it."""
    pattern = f"{sys.prefix}/share/jupyter/labextensions/@lckr/jupyterlab_variableinspector/static/*.js"
    for path in sorted(glob.glob(pattern)):
        with open(path, encoding="utf-8") as f:
            js = f.read()
        start = js.find("py_script='")
        if start < 0:
            continue
        i, out = start + len("py_script='"), []
        while js[i] != "'":
            if js[i] == "\\":
                out.append(js[i: i + 2])
                i += 2
            else:
                out.append(js[i])
                i += 1
        literal = "".join(out).replace('"', '\\"').replace("\\'", "'")
        return json.loads(f'"{literal}"')
    raise SystemExit("lckr-jupyterlab-variableinspector is not installed "
                     "(pip install lckr-jupyterlab-variableinspector)")


def execute(client: RawClient, code: str, expressions: dict[str, str] | None = None, timeout: float = 600) -> Any:
    """Run a cell; returns its reply content (raises on error)."""
    ex = client.roundtrip("execute_request", {"code": code, "silent": False, "store_history": True,
                                              "user_expressions": expressions or {}, "allow_stdin": False,
                                              "stop_on_error": True}, timeout=timeout)
    assert ex.reply is not None
    content = ex.reply["content"]
    if content.get("status") != "ok":
        raise RuntimeError(f"cell failed: {content.get('ename')}: {content.get('evalue')}")
    return content


def cell_latency(client: RawClient, code: str) -> float:
    """Seconds from sending ``code`` to its reply and idle."""
    ex = client.roundtrip("execute_request", {"code": code, "silent": False, "store_history": True,
                                              "user_expressions": {}, "allow_stdin": False,
                                              "stop_on_error": True}, timeout=600)
    return ex.latency


def hook_times(client: RawClient, n: int) -> tuple[list[float], list[float]]:
    """The last ``n`` in-kernel pre/post hook durations."""
    content = execute(client, "pass", {"t": STATS.format(n=n)})
    data = content["user_expressions"]["t"]["data"]["text/plain"]
    pre, post = json.loads(eval(data))  # a repr'd str from our own kernel
    return pre, post


def engine_scaling(sizes: tuple[int, ...] = (100, 10_000, 100_000), cells: int = 300) -> None:
    """In-process: the engine's own time per cell (no publishing) against namespace size."""
    import numpy as np
    import pandas as pd

    from beakerlike.preview import PreviewEngine

    print("engine only, in-process, cell `v1 = i` then `lst.append(i)`, median microseconds per cell:")
    for n in sizes:
        ns: dict[str, Any] = {f"v{i}": i for i in range(n)}
        ns["df"] = pd.DataFrame(np.zeros((100_000, 10)))
        ns["lst"] = list(range(1_000_000))
        engine = PreviewEngine(ns)
        engine.watch("bench", lambda update: None)
        row = []
        for code in ("v1 = {i}", "lst.append({i})"):
            times = []
            for i in range(cells):
                cell = code.format(i=i)
                exec(cell, ns)
                t = time.perf_counter()
                engine.after_execute(cell)
                times.append(time.perf_counter() - t)
            row.append(f"{median(times) * 1e6:8.1f}")
        print(f"  {n:>7,} names: {row[0]} (rebind)  {row[1]} (mutate a 1M list)")


def idle_hook_cost(cells: int = 20_000) -> None:
    """In-process: beakerlike's whole post-run-cell hook chain when nobody watches."""
    from types import SimpleNamespace

    from beakerlike.plugins import PluginHost
    from beakerlike.preview import PreviewEngine

    host = PluginHost().load({"BEAKERLIKE_DISABLE_PLUGIN_AUTOLOAD": "1"})
    kernel = SimpleNamespace(host=host, preview=PreviewEngine({f"v{i}": i for i in range(10_000)}))
    result = SimpleNamespace(info=SimpleNamespace(raw_cell="v1 = 1"), success=True)
    times = []
    for _ in range(cells):
        t = time.perf_counter()
        host.call_each("before_execute", kernel=kernel, info=result.info)
        host.call_each("after_execute", kernel=kernel, result=result)
        times.append(time.perf_counter() - t)
    print(f"hook chain (pre + post run cell, all built-in plugins), nobody watching, in-process: "
          f"median {median(times) * 1e6:.1f} µs per cell")

    from jupyter_client.session import Session

    ns: dict[str, Any] = {f"v{i}": i for i in range(10_000)}
    engine = PreviewEngine(ns)
    session = Session(key=b"bench-key")
    parent = session.msg("execute_request", {"code": "v1 = 1"})
    sent: list[Any] = []
    engine.watch("bench", lambda update: sent.append(session.serialize(
        session.msg("preview", update.message()[0], parent=parent, metadata=update.message()[1]))))
    times = []
    for i in range(2_000):
        ns["v1"] = i
        t = time.perf_counter()
        engine.after_execute("v1 = i")
        times.append(time.perf_counter() - t)
    print(f"watching, one variable changed, in-process, engine + building, serializing and signing the preview "
          f"message (no socket): median {median(times) * 1e6:.1f} µs per cell")


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller DataFrame (1M rows), fewer rounds")
    args = parser.parse_args(argv)
    rows = 1_000_000 if args.quick else 10_000_000
    rounds = 100 if args.quick else 400
    inspector_rounds = 5 if args.quick else 20
    b2b = 200 if args.quick else 1000
    nvars = 10_000
    engine_scaling(cells=100 if args.quick else 300)
    idle_hook_cost()

    kernels = {
        "plain": KernelProcess("ipykernel_launcher"),
        "idle": KernelProcess("beakerlike.kernelapp", env={"BEAKERLIKE_DISABLE_PLUGIN_AUTOLOAD": "1"}),
        "watch": KernelProcess("beakerlike.kernelapp", env={"BEAKERLIKE_DISABLE_PLUGIN_AUTOLOAD": "1"}),
        "inspector": KernelProcess("ipykernel_launcher"),
    }
    clients: dict[str, RawClient] = {}
    try:
        print(f"namespace: {nvars:,} ints + {rows:,} x 10 DataFrame + 1,000,000-item list; starting 4 kernels")
        for name, proc in kernels.items():
            proc.start()
            clients[name] = RawClient(proc.conn)
            t = time.perf_counter()
            execute(clients[name], SETUP.format(nvars=nvars, rows=rows))
            print(f"  {name:9s} ready, namespace built in {time.perf_counter() - t:.1f} s")
        for name in ("idle", "watch"):
            execute(clients[name], TIMERS)
        t = time.perf_counter()
        snap = clients["watch"].roundtrip("preview_watch_request", {}, timeout=600)
        assert snap.reply is not None and snap.reply["content"]["status"] == "ok", snap.reply
        print(f"  watch     preview_watch (full snapshot of {nvars + 2:,} items): "
              f"{time.perf_counter() - t:.2f} s, one-time")
        execute(clients["plain"], "_TPRE, _TPOST = [], []")
        execute(clients["inspector"], inspector_script())
        execute(clients["inspector"], INSPECTOR_HOOK)

        # 1. a cell that changes one variable, interleaved
        lat: dict[str, list[float]] = {name: [] for name in kernels}
        for name in ("plain", "idle", "watch"):
            for i in range(20):
                cell_latency(clients[name], f"v1 = {i}")
        for r in range(rounds):
            order = ["plain", "idle", "watch"] + (["inspector"] if r < inspector_rounds else [])
            random.shuffle(order)
            for name in order:
                lat[name].append(cell_latency(clients[name], f"v1 = {r}"))
        hooks = {name: hook_times(clients[name], rounds) for name in ("idle", "watch")}
        hooks["inspector"] = hook_times(clients["inspector"], inspector_rounds)

        # 2. back-to-back x = 1, alternating blocks in random order; ratios per block pair are robust to drift
        totals = {"plain": 0.0, "idle": 0.0, "watch": 0.0}
        blocks: dict[str, list[float]] = {name: [] for name in totals}
        block = 20
        for _ in range(b2b // block):
            order = list(totals)
            random.shuffle(order)
            for name in order:
                t = time.perf_counter()
                for _ in range(block):
                    cell_latency(clients[name], "x = 1")
                blocks[name].append(time.perf_counter() - t)
                totals[name] += blocks[name][-1]
        block_ratio = {name: median(a / b for a, b in zip(blocks[name], blocks["plain"], strict=True))
                       for name in totals}

        base = median(lat["plain"])
        print(f"\nload average (1 min) at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
        ms = 1e3
        print()
        print(f"per-cell latency, cell `v1 = i` ({rounds} rounds, inspector {inspector_rounds}), milliseconds:")
        print(f"  {'kernel':10s} {'median':>9s} {'p90':>9s} {'added':>9s} {'paired':>9s} "
              f"{'in-kernel hooks (median)':>26s}")
        for name in kernels:
            m = median(lat[name])
            paired = median(a - b for a, b in zip(lat[name], lat["plain"], strict=False))
            hk = ""
            if name in hooks:
                pre, post = hooks[name]
                per = [a + b for a, b in zip(pre, post, strict=False)] if pre else post
                hk = f"{median(per) * ms:.3f}"
            print(f"  {name:10s} {m * ms:9.3f} {quantile(lat[name], 0.9) * ms:9.3f} {(m - base) * ms:9.3f} "
                  f"{paired * ms:9.3f} {hk:>26s}")
        # Paired per round (same round, same machine state), robust against drift from other load.
        added_watch = median(a - b for a, b in zip(lat["watch"], lat["plain"], strict=False))
        added_idle = median(a - b for a, b in zip(lat["idle"], lat["plain"], strict=False))
        added_insp = median(a - b for a, b in zip(lat["inspector"], lat["plain"], strict=False))
        pre_w, post_w = hooks["watch"]
        pre_i, post_i = hooks["idle"]
        hook_watch = median([a + b for a, b in zip(pre_w, post_w, strict=False)])
        hook_idle = median([a + b for a, b in zip(pre_i, post_i, strict=False)])
        hook_insp = median(hooks["inspector"][1])
        print()
        print("targets:")
        print(f"  added latency watching      {added_watch * ms:8.3f} ms  (target <= 2 ms;   "
              f"in-kernel {hook_watch * ms:.3f} ms)")
        print(f"  added latency not watching  {added_idle * ms:8.3f} ms  (target <= 0.2 ms; "
              f"in-kernel {hook_idle * ms:.3f} ms)")
        print(f"  back-to-back x = 1, default context / plain ipykernel: "
              f"{totals['idle'] / totals['plain']:.3f}x total, "
              f"{block_ratio['idle']:.3f}x median of {block}-cell block pairs (target <= 1.05x; watching: "
              f"{totals['watch'] / totals['plain']:.3f}x / {block_ratio['watch']:.3f}x; {b2b} cells each, "
              f"plain {totals['plain'] / b2b * ms:.3f} ms/cell)")
        print(f"  cost vs variableinspector: added latency {added_watch / added_insp:.5f}x "
              f"({added_watch * ms:.3f} ms vs {added_insp * ms:.1f} ms), "
              f"in-kernel {hook_watch / hook_insp:.5f}x ({hook_watch * ms:.3f} ms vs {hook_insp * ms:.1f} ms)")
    finally:
        for c in clients.values():
            c.close()
        for proc in kernels.values():
            proc.stop()


if __name__ == "__main__":
    main()
