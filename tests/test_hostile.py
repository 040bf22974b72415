"""A hostile namespace: the user's cells finish promptly, the kernel lives, previews mark what they could not show.

Includes a real 1 GB string (``"x" * 10**9``, 1 GB of RAM for the length of one test) because the
point is that nothing in the preview path ever copies, hashes or scans it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from beakerlike.client import ActionError
from beakerlike.preview import PREVIEW_MIME
from beakerlike.testing import running_kernel

pytestmark = pytest.mark.anyio

SUPPORT = str(Path(__file__).parent / "support")

HOSTILE = '''
import time
MATERIALIZED = [0]

class RaisingRepr:
    def __repr__(self):
        raise RuntimeError("repr exploded")

class SleepyRepr:
    def __repr__(self):
        time.sleep(10)
        return "finally"

class NoAttributes:
    def __getattribute__(self, name):
        raise RuntimeError(f"no attribute {name} for you")

class Lazy:
    """Computes its data on any access but repr."""
    def _materialize(self):
        MATERIALIZED[0] += 1
        return list(range(10))
    def __len__(self): return len(self._materialize())
    def __iter__(self): return iter(self._materialize())
    def __getitem__(self, i): return self._materialize()[i]
    def __array__(self, *args, **kwargs):
        import numpy
        return numpy.array(self._materialize())
    def __bool__(self):
        self._materialize()
        return True
    def __contains__(self, x): return x in self._materialize()
    def __eq__(self, other):
        self._materialize()
        return False
    __hash__ = object.__hash__
    def __getattr__(self, name):
        self._materialize()
        raise AttributeError(name)
    @property
    def shape(self): return (len(self._materialize()),)
    def __repr__(self): return "<Lazy, not computed>"

class SleepyLenList(list):
    def __len__(self):
        time.sleep(10)
        return 0

raising = RaisingRepr()
sleepy = SleepyRepr()
noattr = NoAttributes()
lazy = Lazy()
lazy_in_list = [Lazy(), noattr, sleepy]
selfref = [1]
selfref.append(selfref)
selfdict = {}
selfdict["me"] = selfdict
huge_int = 10 ** 100_000
sleepy_len = SleepyLenList([1, 2, 3])
class HostileMeta(type):
    def __eq__(cls, other):
        raise RuntimeError("metaclass ==")
    def __hash__(cls):
        raise RuntimeError("metaclass hash")
    def __getattribute__(cls, name):
        if name in ("__repr__", "__len__", "__iter__"):
            raise RuntimeError("metaclass getattr")
        return type.__getattribute__(cls, name)

class Weird(metaclass=HostileMeta):
    pass

weird = Weird()
weird_in_list = [weird, 1]
globals()[42] = "a non-string key"
from preview_support import SlowThing
slow_thing = SlowThing()  # its plugin previewer sleeps 5 s
'''


@pytest.fixture
async def kernel():
    async with running_kernel("preview_support", pythonpath=[SUPPORT], autoload=False) as k:
        yield k


def meta(items: dict, name: str) -> dict:
    return items[name][PREVIEW_MIME]


async def test_hostile_namespace(kernel):
    await kernel.call("preview_watch")
    ex = await kernel.execute('big = "<" * 10**9', timeout=120)  # allocating 1 GB alone takes a while
    (msg,) = ex.of_type("preview")
    items = msg["content"]["variables"]
    assert meta(items, "big")["length"] == 10**9 and meta(items, "big")["truncated"] is True
    assert len(items["big"]["text/html"]) < 2000 and "&lt;&lt;&lt;" in items["big"]["text/html"]

    # Liveness bound: SleepyRepr and SleepyLenList would each take 10 s if called unguarded.
    ex = await kernel.execute(HOSTILE, timeout=9)
    assert ex.content["status"] == "ok", ex.content
    (msg,) = ex.of_type("preview")
    items = msg["content"]["variables"]
    for name in ("raising", "sleepy", "noattr", "lazy", "selfref", "selfdict", "huge_int", "lazy_in_list",
                 "sleepy_len", "weird", "weird_in_list"):
        m = meta(items, name)
        # Every item is either shown or marked (the per-cell time budget may defer some to the next cell).
        assert m["status"] == "ok" or m["error"], (name, m)
        assert len(items[name]["text/plain"]) < 2000 and len(items[name]["text/html"]) < 20000

    # A snapshot has a larger budget: everything is shown or marked for a reason of its own.
    snap = (await kernel.call("preview_snapshot", timeout=9))["variables"]
    assert meta(snap, "raising")["status"] == "error"
    assert "repr raised RuntimeError" in meta(snap, "raising")["error"]
    assert meta(snap, "sleepy")["status"] == "over_budget"
    assert "repr" in meta(snap, "sleepy")["error"]
    assert meta(snap, "noattr")["status"] == "ok" and meta(snap, "noattr")["type"] == "NoAttributes"
    assert meta(snap, "lazy")["summary"] == "<Lazy, not computed>"
    assert meta(snap, "selfref")["summary"] == "[1, [...]]"
    assert meta(snap, "selfdict")["summary"] == "{'me': {...}}"
    assert "digits" in meta(snap, "huge_int")["summary"]
    assert meta(snap, "lazy_in_list")["length"] == 3
    assert meta(snap, "big")["length"] == 10**9
    assert meta(snap, "weird")["type"] == "Weird" and meta(snap, "weird")["status"] in ("ok", "error")
    assert meta(snap, "weird_in_list")["summary"] == "[<__main__.Weird>, 1]"
    assert 42 not in snap and "42" not in snap
    assert meta(snap, "slow_thing")["status"] == "over_budget"
    assert "previewer 'slow'" in meta(snap, "slow_thing")["error"]

    # Mutating, passing and reading hostile objects in later cells stays prompt too.
    ex = await kernel.execute("lazy_in_list.append(lazy)\nprint(type(lazy).__name__)\nid(noattr)\n"
                              "selfref.append(sleepy)", timeout=9)
    assert ex.content["status"] == "ok"
    (msg,) = ex.of_type("preview")
    assert {"lazy_in_list", "selfref"} <= set(msg["content"]["variables"])

    page = await kernel.call("preview_page", path=["big"], offset=10**9 // 65536, limit=50)  # 64 KiB pieces
    assert page["rows"] == [["<" * (10**9 % 65536)]] and page["total"] == 10**9 // 65536 + 1
    for path, ename in ((["lazy"], "ValueError"), (["lazy", 0], "ValueError"), (["noattr", "x"], "ValueError"),
                        (["selfdict", "me", "me", "nope"], "KeyError")):
        with pytest.raises(ActionError) as err:
            await kernel.call("preview_page", path=path)
        assert err.value.ename == ename
    page = await kernel.call("preview_page", path=["selfdict", "me", "me", "me"])
    assert page["total"] == 1 and page["index"] == ["me"]

    ex = await kernel.execute("print(MATERIALIZED[0], len(big))\ndel big")
    assert "".join(m["content"]["text"] for m in ex.of_type("stream")).strip() == "0 1000000000"
    (msg,) = ex.of_type("preview")
    assert msg["metadata"]["beakerlike"]["removed"] == {"variables": ["big"]}
    assert (await kernel.execute("1 + 1")).content["status"] == "ok"
