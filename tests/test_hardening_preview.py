"""Issue 11 preview regressions in a real kernel: previews survive any string (item 9)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from beakerlike.client import ActionError
from beakerlike.preview import PREVIEW_MIME
from beakerlike.preview.paging import MAX_CELLS, MAX_COLUMNS
from beakerlike.testing import running_kernel

pytestmark = pytest.mark.anyio

SUPPORT = str(Path(__file__).parent / "support")

SURROGATES = r'''
import json
bad = ['\ud800']
scraped = json.loads('{"title": "\\ud83d half an emoji", "\\udfff": 1}')
long_bad = 'x\udc80' * 1000
class SurrogateRepr:
    def __repr__(self):
        return 'repr \ud800'
r = SurrogateRepr()
globals()['\ud800name'] = 1
from hardening_actions import RawRows
raw_rows = RawRows()
'''


@pytest.fixture
async def kernel():
    async with running_kernel("hardening_actions", pythonpath=[SUPPORT], autoload=False) as k:
        yield k


def meta(items: dict, name: str) -> dict:
    return items[name][PREVIEW_MIME]


async def test_lone_surrogates_never_lose_a_preview(kernel):
    seq = (await kernel.call("preview_watch", timeout=20))["seq"]
    ex = await kernel.execute(SURROGATES, timeout=20)
    assert ex.content["status"] == "ok", ex.content
    assert not ex.of_type("stream"), ex.of_type("stream")  # nothing landed in the cell's stderr
    (msg,) = ex.of_type("preview")
    assert msg["metadata"]["beakerlike"]["seq"] == seq + 1
    items = msg["content"]["variables"]
    assert meta(items, "bad")["rows"] == [["\\ud800"]] and meta(items, "bad")["status"] == "ok"
    assert meta(items, "scraped")["rows"][0][1] == "\\ud83d half an emoji"
    assert meta(items, "scraped")["rows"][1][0] == "\\udfff"
    assert meta(items, "long_bad")["status"] == "ok" and "\\udc80" in meta(items, "long_bad")["summary"]
    assert meta(items, "r")["summary"] == "repr \\ud800"
    assert meta(items, "raw_rows")["status"] == "error" and "not sendable" in meta(items, "raw_rows")["error"]
    assert not any("name" in n and n != "name" for n in items)  # a name no message can carry is not shown

    # Everything keeps replying and publishing afterwards, seq without gaps.
    snap = await kernel.call("preview_snapshot", timeout=20)
    assert {"bad", "scraped", "r", "raw_rows"} <= set(snap["variables"]) and snap["seq"] == seq + 1
    again = await kernel.call("preview_watch", key="second", timeout=20)
    assert again["seq"] == seq + 1
    (msg,) = (await kernel.execute("bad.append('\\udfff')", timeout=20)).of_type("preview")
    assert msg["metadata"]["beakerlike"]["seq"] == seq + 2
    assert meta(msg["content"]["variables"], "bad")["rows"] == [["\\ud800"], ["\\udfff"]]
    page = await kernel.call("preview_page", path=["scraped"], timeout=20)
    assert page["index"] == ["title", "\\udfff"]
    page = await kernel.call("preview_page", path=["long_bad"], timeout=20)
    assert page["rows"][0][0].startswith("x\\udc80x\\udc80")


# -- item 10: page caps --------------------------------------------------------------------------------------------
async def _page_error(kernel, **payload) -> ActionError:
    with pytest.raises(ActionError) as err:
        await kernel.call("preview_page", payload, timeout=60)
    return err.value


async def test_page_caps_columns_buffers_bytes(kernel):
    ex = await kernel.execute("import numpy as np, pandas as pd\nwide = np.zeros((1, 300_000))\n"
                              "tall = np.zeros((10_000, 1_000))\nframe = pd.DataFrame(np.zeros((100, 2_000)))\n"
                              "strings = ['s' * 5000] * 10_000", timeout=60)
    assert ex.content["status"] == "ok", ex.content
    got = []
    spec = await kernel.call("preview_page", path=["wide"], binary=True, on_response=got.append, timeout=60)
    (msg,) = got
    assert len(msg["buffers"]) == len(spec["columns"]) == MAX_COLUMNS and spec["total_columns"] == 300_000
    page = await kernel.call("preview_page", path=["wide"], timeout=60)
    assert len(page["columns"]) == MAX_COLUMNS and page["total_columns"] == 300_000

    err = await _page_error(kernel, path=["wide"], columns=["0"] * 5000)
    assert err.ename == "PageTooLarge" and "columns" in err.evalue
    err = await _page_error(kernel, path=["wide"], columns=["0"] * 5000, binary=True)
    assert err.ename == "PageTooLarge"
    err = await _page_error(kernel, path=["tall"], limit=10_000, binary=True)  # 80 MB of float64
    assert err.ename == "PageTooLarge" and "16 MB" in err.evalue and "fewer rows" in err.evalue
    err = await _page_error(kernel, path=["strings"], limit=10_000)  # 2,000-character cells: ~20 MB of JSON
    assert err.ename == "PageTooLarge"

    page = await kernel.call("preview_page", path=["frame"], limit=100, timeout=60)
    assert len(page["columns"]) == MAX_COLUMNS and page["total_columns"] == 2_000
    assert len(page["rows"]) * len(page["columns"]) <= MAX_CELLS and page["limit"] == len(page["rows"])
    assert (await kernel.call("preview_page", path=["strings"], limit=100, timeout=60))["total"] == 10_000


# -- items 11, 12: bounded snapshots and messages -----------------------------------------------------------------
async def test_snapshots_hold_at_most_20000_items_and_page_the_rest(kernel):
    assert (await kernel.execute("for _i in range(30_000): globals()[f'v{_i:05}'] = _i", timeout=60)).content[
        "status"] == "ok"
    snap = await kernel.call("preview_watch", timeout=60)
    assert len(snap["variables"]) <= 20_000 and snap["more"] is True and snap["offset"] == 0
    assert snap["total"] == 30_000 and snap["omitted"] == 30_000 - len(snap["variables"])
    names = set(snap["variables"])
    while True:  # the documented way to fetch the rest
        page = await kernel.call("preview_snapshot", offset=snap["offset"] + len(snap["variables"]), timeout=60)
        assert page["seq"] == snap["seq"] and len(page["variables"]) <= 20_000
        names |= set(page["variables"])
        snap = page
        if not page["more"]:
            break
    assert names == {f"v{i:05}" for i in range(30_000)}
    page = await kernel.call("preview_snapshot", offset=29_990, limit=5, timeout=60)
    assert list(page["variables"]) == [f"v{i}" for i in range(29_990, 29_995)] and page["omitted"] == 5


async def test_one_cell_with_100000_new_names_gives_one_bounded_message(kernel):
    seq = (await kernel.call("preview_watch", timeout=60))["seq"]
    ex = await kernel.execute("for _i in range(100_000): globals()[f'w{_i:06}'] = [_i]", timeout=120)
    assert ex.content["status"] == "ok", ex.content
    (msg,) = ex.of_type("preview")
    md = msg["metadata"]["beakerlike"]
    items = msg["content"]["variables"]
    assert md["seq"] == seq + 1 and md["more"] is True and md["omitted"] == 100_000 - len(items)
    assert len(items) <= 2_000 and len(json.dumps(msg["content"])) <= 2 * 1024 * 1024
    # The names left out are not sent again by later cells (the client pages them) ...
    ex = await kernel.execute("w000000.append(1)\nnew_one = 1", timeout=60)
    (msg,) = ex.of_type("preview")
    assert {"w000000", "new_one"} <= set(msg["content"]["variables"])
    # (the message also retries the items the first one had no time for, so it may itself be full)
    assert msg["metadata"]["beakerlike"]["omitted"] < 100 and len(msg["content"]["variables"]) <= 2_000
    # ... but deleting one of them is reported.
    (msg,) = (await kernel.execute("del w099999", timeout=60)).of_type("preview")
    assert "w099999" in msg["metadata"]["beakerlike"]["removed"]["variables"]


# -- item 13: reprs that are C loops holding the GIL are never called ------------------------------------------
async def test_builtin_subclasses_are_previewed_without_their_c_repr(kernel):
    await kernel.call("preview_watch", timeout=30)
    ex = await kernel.execute(
        "import sys\nsys.set_int_max_str_digits(0)\nCALLED = []\n"
        "class Tracked:\n    def __repr__(self):\n        CALLED.append(1)\n        return 'T'\n"
        "class MyList(list): pass\nclass MyInt(int): pass\nclass MyDict(dict): pass\n"
        "tracked = MyList([Tracked()] * 3)\nbig_int = MyInt(10 ** 300_000)\n"
        "nested = MyDict(a=[Tracked()], b=2)", timeout=60)
    (msg,) = ex.of_type("preview")
    items = msg["content"]["variables"]
    assert meta(items, "tracked")["summary"] == "MyList: [<__main__.Tracked>, <__main__.Tracked>, <__main__.Tracked>]"
    assert meta(items, "big_int")["summary"] == "MyInt(<int with ~300000 digits>)"
    assert meta(items, "big_int")["status"] == "ok"
    assert meta(items, "nested")["summary"] == "MyDict: {'a': [<__main__.Tracked>], 'b': 2}"
    ex = await kernel.execute("print(len(CALLED))", timeout=30)
    assert "".join(m["content"]["text"] for m in ex.of_type("stream")).strip() == "0"
