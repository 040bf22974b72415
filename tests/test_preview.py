"""Previews in a real kernel process: watching, updates per cell, paging, escaping."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from beakerlike.client import ActionError, Exchange
from beakerlike.preview import PREVIEW_MIME
from beakerlike.testing import running_kernel

pytestmark = pytest.mark.anyio

SUPPORT = str(Path(__file__).parent / "support")


@pytest.fixture
async def kernel():
    async with running_kernel("preview_support", pythonpath=[SUPPORT], autoload=False) as k:
        yield k


def previews(ex: Exchange) -> list[dict]:
    return ex.of_type("preview")


def one_preview(ex: Exchange) -> tuple[dict, dict]:
    found = previews(ex)
    assert len(found) == 1, [m["header"]["msg_type"] for m in ex.iopub]
    msg = found[0]
    types = [m["header"]["msg_type"] for m in ex.iopub]
    # Published for the cell, before that cell's idle.
    assert msg["parent_header"]["msg_id"] == ex.request["header"]["msg_id"]
    assert types.index("preview") < max(i for i, m in enumerate(ex.iopub)
                                         if m["header"]["msg_type"] == "status"
                                         and m["content"]["execution_state"] == "idle")
    return msg["content"]["variables"], msg["metadata"]["beakerlike"]


def meta(item: dict) -> dict:
    return item[PREVIEW_MIME]


async def stdout(kernel, code: str) -> str:
    ex = await kernel.execute(code)
    assert ex.content["status"] == "ok", ex.content
    return "".join(m["content"]["text"] for m in ex.of_type("stream")).strip()


async def test_added_changed_mutated_deleted(kernel):
    await kernel.execute("a = 1\nkeep = [1, 2]\nd = {'k': 'v'}")
    snap = await kernel.call("preview_watch")
    assert snap["full"] is True and snap["removed"] == []
    assert {"a", "keep", "d"} <= set(snap["variables"])
    assert not any(name.startswith("_") for name in snap["variables"])
    assert "In" not in snap["variables"] and "get_ipython" not in snap["variables"]
    seq = snap["seq"]

    items, md = one_preview(await kernel.execute("b = 'new'\na = 2"))
    assert set(items) == {"a", "b"}
    assert meta(items["a"])["summary"] == "2" and meta(items["a"])["kind"] == "scalar"
    assert meta(items["b"])["kind"] == "text"
    assert md == {"removed": {"variables": []}, "seq": seq + 1, "full": False, "more": False, "omitted": 0}

    items, md = one_preview(await kernel.execute("keep.append(3)\nd['k2'] = 'w'"))
    assert set(items) == {"keep", "d"}
    assert meta(items["keep"])["length"] == 3 and meta(items["keep"])["rows"] == [[1], [2], [3]]
    assert meta(items["d"])["length"] == 2
    assert md["seq"] == seq + 2

    items, md = one_preview(await kernel.execute("del a"))
    assert items == {} and md["removed"] == {"variables": ["a"]} and md["seq"] == seq + 3

    # A function that rebinds a global it declares is followed through the call.
    await kernel.execute("def bump():\n    global counter\n    counter = counter + 1\ncounter = 0")
    items, _ = one_preview(await kernel.execute("bump()"))
    assert set(items) == {"counter"} and meta(items["counter"])["summary"] == "1"

    # Nothing changed: no message at all.
    assert previews(await kernel.execute("x = len(keep)\ndel x")) == []
    assert previews(await kernel.execute("print(keep[0])")) == []

    # exec() is opaque to the code analysis: the engine falls back to a full scan.
    items, _ = one_preview(await kernel.execute("exec('hidden_from_ast = 5')"))
    assert meta(items["hidden_from_ast"])["summary"] == "5"


async def test_nothing_computed_while_nobody_watches(kernel):
    await kernel.execute(
        "from preview_support import Counted, CALLS\n"
        "class ReprCounter:\n"
        "    calls = 0\n"
        "    def __repr__(self):\n"
        "        type(self).calls += 1\n"
        "        return 'counted repr'\n"
    )
    for i in range(3):
        await kernel.execute(f"c{i} = Counted()\nr{i} = ReprCounter()\nr{i}.touched = {i}")
    assert await stdout(kernel, "print(CALLS[0], ReprCounter.calls)") == "0 0"

    snap = await kernel.call("preview_watch")
    assert meta(snap["variables"]["c0"])["summary"].startswith("counted #")
    assert meta(snap["variables"]["r0"])["summary"] == "counted repr"
    calls = await stdout(kernel, "print(CALLS[0], ReprCounter.calls)")
    assert calls == "3 3"

    items, _ = one_preview(await kernel.execute("c9 = Counted()"))
    assert meta(items["c9"])["summary"] == "counted #4"

    assert (await kernel.call("preview_unwatch")) == {"watching": False, "watchers": 0}
    ex = await kernel.execute("c10 = Counted()\nr10 = ReprCounter()")
    assert previews(ex) == []
    assert await stdout(kernel, "print(CALLS[0], ReprCounter.calls)") == "4 3"


async def test_snapshot_without_watching_and_html_escaping(kernel):
    await kernel.execute(
        "import pandas as pd\n"
        "evil = '<script>alert(1)</script>'\n"
        "frame = pd.DataFrame({'<b>col</b>': ['<img src=x onerror=alert(1)>']})\n"
        "nested = {'<tag>': ['&amp;', '\"quoted\"']}\n"
    )
    snap = await kernel.call("preview_snapshot")
    for name in ("evil", "frame", "nested"):
        html = snap["variables"][name]["text/html"]
        assert "<script" not in html and "<img" not in html and "<b>col" not in html and "<tag>" not in html
    assert "&lt;script&gt;" in snap["variables"]["evil"]["text/html"]
    assert "&lt;img src=x onerror=alert(1)&gt;" in snap["variables"]["frame"]["text/html"]
    assert meta(snap["variables"]["frame"])["columns"] == ["<b>col</b>"]  # JSON keeps the raw text
    # A snapshot does not start watching.
    assert previews(await kernel.execute("evil2 = evil")) == []


async def test_paging(kernel):
    await kernel.execute(
        "import numpy as np, pandas as pd\n"
        "df = pd.DataFrame({'a': np.arange(1000), 'b': np.arange(1000) * 0.5, 'c': ['s'] * 1000})\n"
        "arr = np.arange(12).reshape(4, 3)\n"
        "tree = {'level': [10, 20, {'deep': list(range(100))}]}\n"
        "text = 'abcdefghij' * 10\n"
    )
    snap = await kernel.call("preview_watch")
    df_meta = meta(snap["variables"]["df"])
    assert df_meta["shape"] == [1000, 3] and df_meta["pageable"] and df_meta["truncated"]
    assert len(df_meta["rows"]) == 5

    page = await kernel.call("preview_page", path=["df"], offset=998, limit=10, columns=["c", "a"])
    assert page == {"path": ["df"], "offset": 998, "limit": 10, "total": 1000, "total_columns": 3,
                    "columns": ["c", "a"], "rows": [["s", 998], ["s", 999]], "index": [998, 999]}
    page = await kernel.call("preview_page", path=["df", "b"], offset=2, limit=2)
    assert page["rows"] == [[1.0], [1.5]] and page["total"] == 1000
    page = await kernel.call("preview_page", path=["tree", "level", 2, "deep"], offset=95, limit=50)
    assert page["rows"] == [[95], [96], [97], [98], [99]] and page["total"] == 100
    page = await kernel.call("preview_page", path=["arr"], offset=1, limit=2, columns=["2"])
    assert page["rows"] == [[5], [8]]
    page = await kernel.call("preview_page", path=["text"], offset=0, limit=10)  # strings page by lines
    assert page["rows"] == [["abcdefghij" * 10]] and page["total"] == 1 and page["unit"] == "lines"

    got = []
    spec = await kernel.call("preview_page", path=["df"], offset=10, limit=3, binary=True, on_response=got.append)
    assert [c["column"] for c in spec["columns"]] == ["a", "b", "c"]
    assert spec["columns"][2]["buffer"] is None
    (msg,) = got
    import numpy as np

    a = np.frombuffer(msg["buffers"][spec["columns"][0]["buffer"]], dtype=spec["columns"][0]["dtype"])
    b = np.frombuffer(msg["buffers"][spec["columns"][1]["buffer"]], dtype=spec["columns"][1]["dtype"])
    assert a.tolist() == [10, 11, 12] and b.tolist() == [5.0, 5.5, 6.0]

    bad = [
        ({"path": ["nope"]}, "KeyError"),
        ({"path": ["_private"]}, "KeyError"),
        ({"path": ["df", "zz"]}, "KeyError"),
        ({"path": ["tree", "level", 7]}, "KeyError"),
        ({"path": ["tree", "level", "0"]}, "ValueError"),
        ({"path": []}, "ValueError"),
        ({"path": ["df"], "offset": -1}, "ValueError"),
        ({"path": ["df"], "columns": ["missing"]}, "KeyError"),
        ({"path": ["df.a"]}, "KeyError"),
        ({"path": ["__import__('os').getcwd()"]}, "KeyError"),
        ({"path": "df"}, "ValidationError"),
    ]
    for payload, ename in bad:
        with pytest.raises(ActionError) as err:
            await kernel.call("preview_page", payload)
        assert err.value.ename == ename, (payload, err.value)
    assert await stdout(kernel, "print(df.shape)") == "(1000, 3)"


async def test_two_sessions_one_message_per_cell(kernel):
    await kernel.call("preview_watch")
    await kernel.call("preview_watch", key="panel-2")
    items, _ = one_preview(await kernel.execute("z = 3"))
    assert set(items) == {"z"}
    await kernel.call("preview_unwatch")
    assert (await kernel.call("preview_unwatch", key="panel-2"))["watching"] is False
    assert previews(await kernel.execute("z = 4")) == []


async def test_memory_size_where_cheap(kernel):
    # nbytes: numpy's nbytes, pandas' shallow memory_usage (object cells as pointers), getsizeof of
    # str/bytes; absent where knowing it would cost (containers, objects).
    await kernel.execute(
        "import sys, numpy as np, pandas as pd\n"
        "arr = np.zeros((300, 40))\n"
        "df = pd.DataFrame({'a': np.arange(1000), 'b': np.arange(1000) * 0.5, 'c': ['s'] * 1000})\n"
        "wide = pd.DataFrame(np.ones((10, 3000)))\n"
        "ser = pd.Series(np.arange(50, dtype='int32'), name='s')\n"
        "text = 'x' * 5000\n"
        "blob = b'y' * 700\n"
        "items = [1, 2, 3]\n"
        "want = {'df': int(df.memory_usage(index=True, deep=False).sum()),\n"
        "        'wide': int(wide.memory_usage(index=True, deep=False).sum()),\n"
        "        'ser': int(ser.memory_usage(index=True, deep=False)),\n"
        "        'text': sys.getsizeof(text), 'blob': sys.getsizeof(blob)}")
    want = ast.literal_eval(await stdout(kernel, "print(want)"))
    snap = await kernel.call("preview_watch")
    got = {name: meta(item).get("nbytes") for name, item in snap["variables"].items()}
    assert got["arr"] == 300 * 40 * 8
    assert got["df"] == want["df"] > 2 * 1000 * 8  # shallow: never the strings' own memory
    assert got["wide"] == want["wide"] > 10 * 3000 * 8  # 3,000 columns: from its one block, not per column
    assert got["ser"] == want["ser"]
    assert got["text"] == want["text"] and got["blob"] == want["blob"]
    assert got["items"] is None  # a list's memory is not cheap to know (its items)
    assert "nbytes" not in meta(snap["variables"]["items"])

    # Updates carry it too.
    items, _ = one_preview(await kernel.execute("arr = np.zeros(10, dtype='int8')"))
    assert meta(items["arr"])["nbytes"] == 10
