import os
import subprocess
import sys
import textwrap
from pathlib import Path

import beakerlike_varstore
import numpy as np
import pandas as pd
import pytest
from beakerlike_varstore.store import Store

from beakerlike.testing import Harness

pytestmark = pytest.mark.anyio
PLUGIN_ROOT = Path(beakerlike_varstore.__file__).resolve().parent.parent


@pytest.fixture
def harness(store_path):
    return Harness("beakerlike_varstore", builtins=False)


async def test_save_list_load_roundtrip(harness, store_path):
    df = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    harness.namespace.update(n=42, df=df, arr=np.eye(3))
    ids = [await harness.call("save_var", name=n) for n in ("n", "df", "arr")]
    assert [i["id"] for i in ids] == [1, 2, 3]
    assert ids[1]["kind"] == "dataframe" and ids[1]["store"] == str(store_path)

    listed = await harness.call("list_vars")
    assert [r["name"] for r in listed] == ["arr", "df", "n"]
    assert listed[0]["summary"] == {"type": "ndarray", "shape": [3, 3], "dtype": "float64"}

    harness.namespace.clear()
    for n in ("n", "df", "arr"):
        info = await harness.call("load_var", name=n)
        assert info["variable"] == n
    assert harness.namespace["n"] == 42
    pd.testing.assert_frame_equal(harness.namespace["df"], df)
    assert np.array_equal(harness.namespace["arr"], np.eye(3))


async def test_load_by_id_under_a_new_name_and_newest_wins(harness):
    harness.namespace["x"] = 1
    first = await harness.call("save_var", name="x")
    harness.namespace["x"] = 2
    await harness.call("save_var", name="x")
    await harness.call("load_var", name="x", as_name="latest")
    await harness.call("load_var", id=first["id"], as_name="old")
    assert harness.namespace["latest"] == 2 and harness.namespace["old"] == 1
    assert [r["id"] for r in await harness.call("list_vars", name="x")] == [2, 1]


async def test_store_payload_field_and_sqlite_url(harness, tmp_path):
    harness.namespace["v"] = [1, 2]
    other = tmp_path / "sub" / "other.db"
    saved = await harness.call("save_var", name="v", store=f"sqlite:///{other}", as_name="w")
    assert saved["store"] == str(other) and other.exists()
    assert await harness.call("list_vars") == []
    assert [r["name"] for r in await harness.call("list_vars", store=str(other))] == ["w"]
    bad = await harness.run("list_vars", store="postgres://db/x")
    assert bad.status == "error" and "unsupported store URL scheme 'postgres'" in bad.reply["evalue"]


async def test_large_values_stream_progress(harness):
    harness.namespace["big"] = np.arange(3 * 2**20 // 8 + 10, dtype=np.float64)  # a bit over 3 MiB
    outcome = await harness.run("save_var", name="big")
    assert outcome.status == "ok"
    stages = outcome.responses
    assert stages[0]["stage"] == "serialized" and stages[0]["format"] == "npy"
    writing = [s for s in stages if s["stage"] == "writing"]
    assert len(writing) == 4
    assert [w["done"] for w in writing] == sorted(w["done"] for w in writing)
    assert writing[-1]["done"] == writing[-1]["total"] == outcome.value["size"]


async def test_small_values_do_not_stream(harness):
    harness.namespace["s"] = "tiny"
    outcome = await harness.run("save_var", name="s")
    assert outcome.status == "ok" and outcome.responses == []


async def test_errors_are_clear(harness):
    missing = await harness.run("save_var", name="nope")
    assert missing.reply["ename"] == "NameError" and "'nope' is not defined" in missing.reply["evalue"]
    harness.namespace["t"] = (1, 2)
    refused = await harness.run("save_var", name="t")
    assert refused.reply["ename"] == "UnsupportedType" and "tuple" in refused.reply["evalue"]
    both = await harness.run("load_var", name="t", id=1)
    assert "exactly one of 'name' or 'id'" in both.reply["evalue"]
    unknown = await harness.run("load_var", name="never_saved")
    assert unknown.reply["ename"] == "LookupError"
    harness.namespace["u"] = 1
    await harness.call("save_var", name="u")
    bad_target = await harness.run("load_var", name="u", as_name="not valid")
    assert "not a valid Python identifier" in bad_target.reply["evalue"]
    assert (await harness.run("save_var")).reply["ename"] == "ValidationError"
    assert len(await harness.call("list_vars")) == 1


async def test_cancelled_save_leaves_nothing(harness):
    harness.namespace["keep"] = {"a": 1}
    await harness.call("save_var", name="keep")
    harness.namespace["big"] = np.ones(4 * 2**20 // 8)

    def cancel_when_writing(msg):
        if msg.content.get("stage") == "writing":
            harness.cancel_actions()

    outcome = await harness.run("save_var", name="big", on_publish=cancel_when_writing)
    assert outcome.status == "aborted"
    assert [r["name"] for r in await harness.call("list_vars")] == ["keep"]
    await harness.call("load_var", name="keep", as_name="k2")
    assert harness.namespace["k2"] == {"a": 1}


def test_crash_mid_save_loses_nothing_stored(store_path):
    db = Store(store_path)
    kept = db.save("kept", "json", "json", b'{"a": [1, 2, 3]}', {"type": "dict"})
    db.close()
    # A process dies (no cleanup at all) half way through writing a big value.
    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(PLUGIN_ROOT)!r})
        from beakerlike_varstore.store import Store, chunks
        db = Store({os.fspath(store_path)!r})
        data = bytes(range(256)) * 4000
        var_id = db.begin_save("doomed", "json", "json", data, {{}})
        for seq, chunk in enumerate(chunks(data, 10_000)):
            db.write_chunk(var_id, seq, chunk)
            if seq == 50:
                os._exit(3)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3, proc.stderr
    db = Store(store_path)
    try:
        assert [r.name for r in db.rows()] == ["kept"]
        assert db.read(db.find(var_id=kept)) == b'{"a": [1, 2, 3]}'
        assert db.conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0] == 1
        new_id = db.save("after", "json", "json", b"1", {})  # the store is not left locked
        assert new_id > kept
    finally:
        db.close()


def test_corruption_is_detected(store_path):
    db = Store(store_path)
    var_id = db.save("v", "json", "json", b"[1, 2]", {})
    db.conn.execute("UPDATE chunks SET data = ? WHERE var_id = ?", (b"[1, 3]", var_id))
    with pytest.raises(OSError, match="corrupt"):
        db.read(db.find(name="v"))
    db.close()
