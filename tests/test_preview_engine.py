"""The preview engine in-process: change detection, budgets, previewer lookup, paging (no kernel needed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from beakerlike import Limits, PreviewEngine, Previewer
from beakerlike.preview import PREVIEW_MIME, PreviewerRegistry, builtin_previewers
from beakerlike.preview.cellnames import analyze, called_globals
from beakerlike.preview.previewers import type_key


def run(engine: PreviewEngine, ns: dict, code: str):
    exec(code, ns)
    return engine.after_execute(code)


def test_cell_analysis():
    cell = analyze("a = 1\nb.x = 2\nc[0] += 1\nd.append(e)\nimport os.path as p, sys\n"
                   "def f():\n    global g\n    h = 1\nfor i in r: pass\ndel j\nprint(k.shape)")
    assert cell.stored == {"a", "p", "sys", "f", "g", "i", "j"}
    assert {"b", "c", "d", "e", "k"} <= cell.touched
    assert cell.called == {"print"} and not cell.opaque
    assert analyze("from m import *").opaque
    assert analyze("exec('x=1')").opaque
    assert analyze("%time x = 1").opaque  # not Python: the engine scans everything


def test_called_globals_follow_user_functions():
    ns: dict = {}
    exec("def inner():\n    global z\n    z = 1\ndef outer():\n    inner()\n", ns)
    assert {"inner", "z"} <= called_globals(frozenset({"outer"}), ns)
    assert called_globals(frozenset({"len"}), ns) == set()


def test_only_candidates_are_examined_in_a_large_namespace():
    ns = {f"v{i}": i for i in range(5000)}
    ns["lst"] = [1]
    engine = PreviewEngine(ns, small_namespace=100)
    updates = []
    engine.watch("t", updates.append)
    built = engine.stats.items_built
    assert run(engine, ns, "v1 = -1").items.keys() == {"v1"}
    assert engine.stats.items_built - built == 1 and engine.stats.full_scans == 0
    assert run(engine, ns, "lst.append(2)").items["lst"][PREVIEW_MIME]["length"] == 2
    assert run(engine, ns, "print(v2)") is None
    # A rebinding the code cannot show (no exec, no call) in a large namespace waits for the next snapshot.
    ns["v3"] = "changed behind the engine"
    assert run(engine, ns, "pass") is None
    assert engine.snapshot().items["v3"][PREVIEW_MIME]["summary"] == "'changed behind the engine'"
    assert [u.seq for u in updates] == [1, 2]


def test_nothing_happens_without_watchers():
    ns = {"a": 1}
    engine = PreviewEngine(ns)
    assert run(engine, ns, "a = 2") is None
    assert engine.stats.items_built == 0 and engine.stats.skipped_not_watching == 1
    engine.watch("k", lambda u: None)
    engine.unwatch("k")
    assert not engine.watching and run(engine, ns, "a = 3") is None


def test_budget_marks_and_retries_items():
    ns: dict = {}
    engine = PreviewEngine(ns, budget=0.0, max_items=3)
    engine.watch("k", lambda u: None)
    update = run(engine, ns, "a = [1]\nb = [2]\nc = [3]\nd = [4]\ne = [5]")
    statuses = {n: i[PREVIEW_MIME]["status"] for n, i in update.items.items()}
    assert set(statuses) == {"a", "b", "c"} and set(statuses.values()) == {"over_budget"}
    assert update.omitted == 2 and update.more  # d and e: left out of the bounded message, to be paged
    engine.budget = 10.0
    del ns["c"]  # deleted behind the engine's back while pending: reported as removed, not retried
    retried = run(engine, ns, "pass")
    assert {n for n, i in retried.items.items() if i[PREVIEW_MIME]["status"] == "ok"} == {"a", "b"}
    assert retried.removed == ["c"]


def test_watcher_errors_are_isolated():
    ns: dict = {}
    engine = PreviewEngine(ns)
    got = []
    engine.watch("bad", lambda u: 1 / 0)
    engine.watch("good", got.append)
    run(engine, ns, "x = 1")
    assert [list(u.items) for u in got] == [["x"]]


def test_registry_matches_mro_names_and_exact_builtins():
    class MyList(list):
        def __len__(self):
            raise AssertionError("never called")

    reg = PreviewerRegistry(builtin_previewers())
    assert reg.find([1]).name == "sequence"
    assert reg.find(MyList()) is None  # builtin previewers do not apply to subclasses
    assert reg.find(pd.DataFrame()).name == "pandas.DataFrame"
    assert type_key("pandas.core.frame.DataFrame") == type_key("pandas", "DataFrame")
    reg.add(Previewer(("numpy.ndarray",), lambda o, lim: {"summary": "mine"}, name="mine"))
    assert reg.find(np.zeros(2)).name == "mine"


def test_items_are_bounded():
    ns = {"wide": pd.DataFrame(np.zeros((3, 500))), "cube": np.zeros((4, 4, 4)), "s": "y" * 100_000,
          "nested": [[[[[1]]]]], "many": dict.fromkeys(range(10_000))}
    engine = PreviewEngine(ns, limits=Limits(rows=2, cols=3))
    items = {n: i[PREVIEW_MIME] for n, i in engine.snapshot().items.items()}
    assert items["wide"]["columns"] == ["0", "1", "2"] and len(items["wide"]["rows"]) == 2
    assert items["wide"]["truncated"] and items["cube"]["truncated"] and items["cube"]["rows"] is None
    assert len(items["s"]["summary"]) <= 240 and items["s"]["pageable"]
    assert "<list of 1>" in items["nested"]["summary"]
    assert len(items["many"]["rows"]) == 2 and items["many"]["length"] == 10_000


def test_page_limits_and_errors():
    ns = {"lst": list(range(100_000)), "fs": frozenset({1})}
    engine = PreviewEngine(ns)
    assert engine.page(["lst"], 0, 10**9)["limit"] == 10_000
    assert len(engine.page(["lst"], 0, 10**9)["rows"]) == 10_000
    assert engine.page(["fs"])["rows"] == [[1]]
    with pytest.raises(ValueError, match="non-negative"):
        engine.page(["lst"], limit=-5)
    with pytest.raises(KeyError, match="no variable"):
        engine.page(["missing"])
    with pytest.raises(ValueError, match="cannot step"):
        engine.page(["fs", 0])


def test_plugin_previewer_output_is_made_json_safe_and_failures_marked():
    class Thing:
        pass

    class Broken:
        pass

    reg = PreviewerRegistry(builtin_previewers())
    reg.add(Previewer((Thing,), lambda o, lim: {"shape": (np.int64(3),), "length": np.int64(3),
                                                "rows": [[np.float32(0.5), Thing()]], "summary": 7}))
    reg.add(Previewer((Broken,), lambda o, lim: 1 / 0))
    engine = PreviewEngine({"t": Thing(), "b": Broken()}, registry=reg)
    items = engine.snapshot().items
    t = items["t"][PREVIEW_MIME]
    assert t["shape"] == [3] and type(t["length"]) is int and t["summary"] == "7"
    assert t["rows"][0][0] == 0.5 and t["rows"][0][1].startswith("<test_preview_engine.")
    import json

    json.dumps(items, allow_nan=False)
    b = items["b"][PREVIEW_MIME]
    assert b["status"] == "error" and "ZeroDivisionError" in b["error"]


def test_plugin_previewer_returning_endless_iterables_is_cut_to_the_limits():
    import itertools

    class Endless:
        pass

    reg = PreviewerRegistry(builtin_previewers())
    reg.add(Previewer((Endless,), lambda o, lim: {"shape": itertools.count(1), "columns": itertools.count(),
                                                  "rows": (itertools.count() for _ in itertools.count())}))
    item = PreviewEngine({"e": Endless()}, registry=reg, limits=Limits(rows=2, cols=3)).snapshot().items["e"]
    meta = item[PREVIEW_MIME]
    assert meta["status"] == "ok" and len(meta["shape"]) == 32
    assert meta["columns"] == ["0", "1", "2"] and meta["rows"] == [[0, 1, 2], [0, 1, 2]]


def test_user_subclasses_of_trusted_types_are_previewed_in_the_guarded_thread():
    import threading

    release = threading.Event()

    class Stuck(np.ndarray):
        def tolist(self):  # user code in a subclass: must not run on the kernel's thread unguarded
            release.wait(30)
            return []

    ns = {"stuck": np.zeros(3).view(Stuck), "rng": pd.RangeIndex(4), "masked": np.ma.array([1, 2])}
    try:
        items = PreviewEngine(ns, limits=Limits(repr_timeout=0.02)).snapshot().items
    finally:
        release.set()
    stuck = items["stuck"][PREVIEW_MIME]
    assert stuck["status"] == "over_budget" and "previewer 'numpy.ndarray'" in stuck["error"]
    # The libraries' own subclasses keep the trusted previewers.
    assert items["rng"][PREVIEW_MIME]["status"] == "ok" and items["rng"][PREVIEW_MIME]["rows"] == [[0], [1], [2], [3]]
    assert items["masked"][PREVIEW_MIME]["status"] == "ok" and items["masked"][PREVIEW_MIME]["rows"] == [[1], [2]]


def test_in_place_changes_beyond_the_preview_are_seen_by_fingerprints():
    ns = {"lst": list(range(100)), "big": list(range(100_000)), "arr": np.zeros(1000),
          "df": pd.DataFrame({"a": np.zeros(100_000)}), "d": {"k": [1]}}
    engine = PreviewEngine(ns)
    engine.watch("k", lambda u: None)
    assert run(engine, ns, "lst[50] = -1").items.keys() == {"lst"}  # not among the 5 rows shown
    assert run(engine, ns, "big[-1] = -1").items.keys() == {"big"}
    assert run(engine, ns, "arr[500] = 1.0").items.keys() == {"arr"}
    assert run(engine, ns, "df.iloc[-1, 0] = 2.0").items.keys() == {"df"}
    assert run(engine, ns, "d['k'].append(2)").items.keys() == {"d"}  # nested: the bounded preview differs
    assert run(engine, ns, "print(len(lst), arr.sum(), df.shape)") is None


def test_fingerprint_of_a_strided_object_array_view_sees_edits_near_its_start():
    from beakerlike.preview.fingerprint import fingerprint

    view = np.empty((100_000, 2), dtype=object)[:, 0]  # not contiguous: sampled, never copied whole
    before = fingerprint(view)
    assert before is not None and fingerprint(view) == before
    view[20] = "edited"
    assert fingerprint(view) != before


def test_fingerprint_of_an_extension_dtype_series_is_stable_and_sees_tail_edits():
    from beakerlike.preview.fingerprint import fingerprint

    for n in (10, 50_000):  # tz-aware datetimes convert to fresh Timestamp objects
        s = pd.Series(pd.date_range("2000", periods=n, freq="s", tz="UTC"))
        before = fingerprint(s)
        assert before is not None and fingerprint(s) == before
        s.iloc[-1] = pd.Timestamp("1999", tz="UTC")
        assert fingerprint(s) != before


def test_previewing_does_not_import_numpy_for_the_user():
    import subprocess
    import sys

    code = ("import sys, decimal, datetime\nfrom beakerlike.preview import PreviewEngine\n"
            "ns = {'d': [decimal.Decimal(1), datetime.date(2000, 1, 1)], 'o': object()}\n"
            "PreviewEngine(ns).snapshot()\nprint('numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_a_snapshot_for_another_client_does_not_hide_changes_from_the_watchers():
    ns: dict = {"a": 1}
    engine = PreviewEngine(ns)
    engine.watch("panel", lambda u: None)
    ns["model"] = {"k": 1}  # written between cells, e.g. by an action
    assert "model" in engine.snapshot().items  # another client's snapshot...
    assert "model" in engine.watch("second", lambda u: None).items  # ...or a second watcher's
    assert run(engine, ns, "x = 1").items.keys() == {"model", "x"}  # the first watcher still hears of it
    assert run(engine, ns, "y = 2").items.keys() == {"y"}


def test_deque_pages_are_read_from_the_nearer_end():
    from collections import deque

    from beakerlike.preview.paging import page_of

    d = deque(range(10))
    for offset, limit in ((0, 3), (4, 2), (7, 5), (9, 1), (10, 3), (0, 100)):
        page = page_of(d, offset, limit)
        assert [r[0] for r in page["rows"]] == list(range(10))[offset:offset + limit]
        assert page["index"] == list(range(offset, min(offset + limit, 10))) and page["total"] == 10


def test_cell_analysis_sees_stores_into_items_and_attributes_in_every_target_form():
    cases = {"a[0], b = 1, 2": {"a"}, "[a.x, *c[1:]] = 1, 2, 3": {"a", "c"}, "for d[0] in range(3): pass": {"d"},
             "with open('f') as e.x: pass": {"e"}, "f.x: int = 3": {"f"}, "del g[0], h.y": {"g", "h"}}
    for code, touched in cases.items():
        assert touched <= analyze(code).touched, code
    ns = {f"v{i}": i for i in range(1000)}
    ns["lst"] = [0, 0]
    engine = PreviewEngine(ns)  # more names than small_namespace: only candidates are examined
    engine.watch("k", lambda u: None)
    assert run(engine, ns, "lst[1], y = 5, 6").items.keys() == {"lst", "y"}


def test_cell_analysis_sees_names_bound_by_except_and_match():
    assert analyze("try:\n    pass\nexcept E as err:\n    pass").stored == {"err"}
    cell = analyze("match v:\n    case [a, *b]: pass\n    case {'k': c, **d}: pass\n    case P(x=e) as f: pass")
    assert cell.stored == {"a", "b", "c", "d", "e", "f"}
    ns = {f"v{i}": i for i in range(1000)}
    ns["err"] = "an earlier value"
    engine = PreviewEngine(ns)
    engine.watch("k", lambda u: None)
    update = run(engine, ns, "try:\n    1 / 0\nexcept ZeroDivisionError as err:\n    pass")
    assert update.removed == ["err"]  # Python deletes the handler's name when the handler ends


def test_frame_memory_size_is_the_shallow_memory_usage_summed_over_blocks():
    from beakerlike.preview.previewers import MEMORY_USAGE_MAX_COLUMNS, frame_nbytes

    mixed = pd.DataFrame({"a": np.arange(100), "b": np.ones(100), "c": ["s"] * 100,
                          "d": pd.Categorical(["x", "y"] * 50)}, index=pd.Index([f"r{i}" for i in range(100)]))
    assert frame_nbytes(mixed) == int(mixed.memory_usage(index=True, deep=False).sum())
    multi = pd.DataFrame({"v": np.arange(6)}, index=pd.MultiIndex.from_product([["a", "b"], [1, 2, 3]]))
    assert frame_nbytes(multi) == int(multi.memory_usage(index=True, deep=False).sum())

    # Without readable blocks (another pandas, a look-alike): the public call, only for narrow frames.
    class Narrow:
        shape = (3, 2)
        index = pd.RangeIndex(3)
        _mgr = None  # no .blocks

        def memory_usage(self, index: bool, deep: bool) -> pd.Series:
            assert index and not deep
            return pd.Series([10, 20, 30])

    class Wide(Narrow):
        shape = (3, MEMORY_USAGE_MAX_COLUMNS + 1)

        def memory_usage(self, index: bool, deep: bool) -> pd.Series:
            raise AssertionError("O(columns): not called for a wide frame")

    assert frame_nbytes(Narrow()) == 60
    assert frame_nbytes(Wide()) is None
