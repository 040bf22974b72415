"""Issue 9, kernel side: tree children, attribute steps, strings by lines, ``delete_variable`` (real kernel)."""

from __future__ import annotations

import pytest

from beakerlike.client import ActionError
from beakerlike.preview.paging import LINE_CHUNK
from beakerlike.testing import running_kernel

pytestmark = pytest.mark.anyio

SETUP = '''
RAN = []
class Point:
    def __init__(self):
        self.x = 1
        self.tags = ["a", "b"]
        self.inner = {"k": [1, 2, 3]}
    @property
    def expensive(self):
        RAN.append("property")
        return 1
    def __getattr__(self, name):
        RAN.append("getattr " + name)
        raise AttributeError(name)
class Slotted:
    __slots__ = ("a", "b")
class Shadow:
    @property
    def __dict__(self):
        RAN.append("__dict__ property")
        return {"fake": 1}
s = Slotted(); s.a = 10
p = Point()
shadow = Shadow()
tree = {"p": p, "items": [p, (1, 2)], 7: "seven", (1, 2): "tuple key", "empty": []}
tags = {"x", "y"}
text = "first line\\nsecond\\n\\n" + "z" * (LINE_CHUNK + 5) + "\\nlast"
'''.replace("LINE_CHUNK", str(LINE_CHUNK))


@pytest.fixture(scope="module")
async def kernel():
    async with running_kernel(autoload=False) as k:
        ex = await k.execute(SETUP)
        assert ex.content["status"] == "ok", ex.content
        yield k


async def page(kernel, path, **kw):
    return await kernel.call("preview_page", path=path, timeout=30, **kw)


def by_name(children: list[dict]) -> dict[str, dict]:
    return {c["name"]: c for c in children}


async def test_dict_children_describe_each_value(kernel):
    got = await page(kernel, ["tree"])
    kids = by_name(got["children"])
    assert list(kids) == ["p", "items", "7", "(1, 2)", "empty"]
    assert kids["p"] == {"name": "p", "step": "p", "type": "Point", "summary": "<__main__.Point>", "size": None,
                         "expandable": True}
    assert kids["items"]["step"] == "items" and kids["items"]["size"] == 2 and kids["items"]["expandable"]
    assert kids["7"]["step"] == 7 and kids["7"]["type"] == "str" and not kids["7"]["expandable"]
    assert kids["(1, 2)"]["step"] is None and not kids["(1, 2)"]["expandable"]  # not addressable by a path
    assert kids["empty"]["expandable"] is False and kids["empty"]["size"] == 0
    # Each step reaches its child.
    items = await page(kernel, ["tree", kids["items"]["step"]])
    assert [c["step"] for c in items["children"]] == [0, 1] and items["children"][1]["type"] == "tuple"
    assert (await page(kernel, ["tree", "items", 1]))["rows"] == [[1], [2]]
    sets = await page(kernel, ["tags"])
    assert sorted(c["name"] for c in sets["children"]) == ["0", "1"]
    assert all(c["step"] is None for c in sets["children"])


async def test_object_attributes_are_read_statically(kernel):
    got = await page(kernel, ["p"])
    kids = by_name(got["children"])
    assert list(kids) == ["x", "tags", "inner"] and got["total"] == 3 and got["index"] == ["x", "tags", "inner"]
    assert kids["tags"]["step"] == {"attr": "tags"} and kids["tags"]["expandable"] is True
    inner = await page(kernel, ["tree", "p", {"attr": "inner"}, "k"])
    assert inner["rows"] == [[1], [2], [3]]
    slots = await page(kernel, ["s"])
    assert slots["children"] == [{"name": "a", "step": {"attr": "a"}, "type": "int", "summary": "10",
                                  "size": None, "expandable": False}]
    with pytest.raises(ActionError) as err:  # the step resolves; an int has nothing to page
        await page(kernel, ["s", {"attr": "a"}])
    assert err.value.ename == "ValueError" and "int cannot be paged" in err.value.evalue
    for path in (["p", {"attr": "expensive"}], ["p", {"attr": "missing"}], ["s", {"attr": "b"}]):
        with pytest.raises(ActionError) as err:
            await page(kernel, path)
        assert err.value.ename == "KeyError" and "never evaluated" in err.value.evalue
    for step in ({"attr": 1}, {"attr": "x", "more": 1}, {"key": "x"}):
        with pytest.raises(ActionError) as err:
            await page(kernel, ["p", step])
        assert err.value.ename == "ValidationError"
    with pytest.raises(ActionError) as err:  # a class-defined __dict__ is not called: no attributes to page
        await page(kernel, ["shadow"])
    assert err.value.ename == "ValueError"
    ex = await kernel.execute("print(RAN)")
    assert "".join(m["content"]["text"] for m in ex.of_type("stream")).strip() == "[]"


async def test_strings_page_by_lines(kernel):
    got = await page(kernel, ["text"])
    assert got["unit"] == "lines" and got["total"] == 6  # 5 lines, the long one in 2 rows
    assert [r[0] for r in got["rows"][:3]] == ["first line", "second", ""]
    assert got["index"] == [0, 1, 2, 3, 3, 4]
    assert len(got["rows"][3][0]) == LINE_CHUNK and got["rows"][4][0] == "zzzzz"
    got = await page(kernel, ["text"], offset=1, limit=2)
    assert got["rows"] == [["second"], [""]] and got["index"] == [1, 2] and got["total"] == 6


async def test_delete_variable(kernel):
    await kernel.execute("doomed = [1, 2]\nkeep = doomed")
    snap = await kernel.call("preview_watch", timeout=30)
    assert "doomed" in snap["variables"]
    ex = await kernel.request("delete_variable_request", {"name": "doomed"}, timeout=30)
    assert ex.content == {"status": "ok", "return": {"deleted": "doomed"}}
    (msg,) = ex.of_type("preview")
    assert msg["metadata"]["beakerlike"]["removed"] == {"variables": ["doomed"]}
    assert msg["metadata"]["beakerlike"]["seq"] == snap["seq"] + 1
    assert msg["parent_header"]["msg_id"] == ex.request["header"]["msg_id"]
    ex = await kernel.execute("print('doomed' in globals(), keep)")
    assert "".join(m["content"]["text"] for m in ex.of_type("stream")).strip() == "False [1, 2]"
    for name, ename in (("doomed", "UnknownVariable"), ("__builtins__", "ProtectedVariable"),
                        ("__name__", "ProtectedVariable"), ("In", "ProtectedVariable"),
                        ("get_ipython", "ProtectedVariable"), ("_", "ProtectedVariable"),
                        ("x; import os", "UnknownVariable")):
        with pytest.raises(ActionError) as err:
            await kernel.call("delete_variable", name=name, timeout=30)
        assert err.value.ename == ename, (name, err.value)
        assert repr(name) in err.value.evalue
    with pytest.raises(ActionError) as err:
        await kernel.call("delete_variable", timeout=30)
    assert err.value.ename == "ValidationError"
    assert (await kernel.execute("len([1])")).content["status"] == "ok"
    await kernel.call("preview_unwatch", timeout=30)
