"""Regression tests for issue 11 items 14-16: the write lock, load_var's targets, store paths."""

import sqlite3
from pathlib import Path

import anyio
import pytest
from beakerlike_varstore.store import Store

from beakerlike.testing import Harness

pytestmark = pytest.mark.anyio
PLUGIN_ROOT = str(Path(__file__).resolve().parent.parent)


@pytest.fixture
def harness(store_path):
    return Harness("beakerlike_varstore", builtins=False)


def hold_write_lock(path):
    """Another connection (another process, in real life) in the middle of a write."""
    Store(path).close()  # the store exists
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    return conn


# -- 14: the write lock ------------------------------------------------------------
@pytest.mark.beakerlike_plugins("beakerlike_varstore", autoload=False, pythonpath=[PLUGIN_ROOT])
async def test_interrupting_a_save_waiting_for_the_lock_aborts_it(store_path, beakerlike_kernel):
    kernel = beakerlike_kernel
    await kernel.execute("x = {'a': 1}")
    other = hold_write_lock(store_path)
    try:
        waiting = kernel.send("save_var_request", {"name": "x"})
        with anyio.fail_after(20):
            while not waiting.of_type("save_var_response"):
                await anyio.sleep(0.01)
        assert waiting.of_type("save_var_response")[0]["content"] == {"stage": "waiting for lock",
                                                                      "store": str(store_path)}
        start = anyio.current_time()
        await kernel.interrupt()
        with anyio.fail_after(10):  # it used to reply after SQLite's 30 s busy timeout
            await waiting.done.wait()
        print(f"aborted {1000 * (anyio.current_time() - start):.0f} ms after the interrupt")
        assert waiting.content["status"] == "aborted"
    finally:
        other.rollback()
        other.close()
    assert (await kernel.call("save_var", name="x"))["id"] == 1  # nothing left locked


async def test_a_lock_held_too_long_is_a_clear_store_busy_error(harness, store_path, monkeypatch):
    monkeypatch.setenv("BEAKERLIKE_VARSTORE_LOCK_TIMEOUT", "0.2")
    harness.namespace["x"] = 1
    other = hold_write_lock(store_path)
    try:
        outcome = await harness.run("save_var", name="x")
    finally:
        other.rollback()
        other.close()
    assert outcome.reply["ename"] == "StoreBusy"
    assert str(store_path) in outcome.reply["evalue"] and "locked by another writer" in outcome.reply["evalue"]
    assert (await harness.call("save_var", name="x"))["id"] == 1


# -- 15: load_var's target -----------------------------------------------------------
async def test_load_var_refuses_dunders_and_silent_overwrites(harness, store_path):
    db = Store(store_path)
    db.save("__builtins__", "json", "json", b"{}", {})
    db.save("pd", "json", "json", b"[1, 2]", {})
    db.close()
    harness.namespace.update(__builtins__=__builtins__, pd="the pandas module", pd_1=0)

    dunder = await harness.run("load_var", name="__builtins__")
    assert dunder.reply["ename"] == "ValueError" and "special name '__builtins__'" in dunder.reply["evalue"]
    assert (await harness.run("load_var", name="pd", as_name="__main__")).status == "error"
    assert harness.namespace["__builtins__"] is __builtins__

    clash = await harness.run("load_var", name="pd")
    assert clash.status == "error"
    assert "'pd' already exists" in clash.reply["evalue"] and "as_name" in clash.reply["evalue"]
    assert "'pd_2'" in clash.reply["evalue"] and "overwrite: true" in clash.reply["evalue"]
    assert harness.namespace["pd"] == "the pandas module"

    assert (await harness.call("load_var", name="pd", as_name="pd_2"))["variable"] == "pd_2"
    assert (await harness.call("load_var", name="pd", overwrite=True))["variable"] == "pd"
    assert harness.namespace["pd"] == [1, 2] == harness.namespace["pd_2"]


# -- 16: store paths -------------------------------------------------------------------
async def test_reads_never_change_a_foreign_database(harness, tmp_path):
    foreign = tmp_path / "app.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE users (id INTEGER, name TEXT)")
    conn.commit()
    conn.close()
    before = foreign.read_bytes()
    listed = await harness.run("list_vars", store=str(foreign))
    assert listed.reply["ename"] == "NotAVarstore" and "'users'" in listed.reply["evalue"]
    assert (await harness.run("load_var", name="x", store=str(foreign))).reply["ename"] == "NotAVarstore"
    harness.namespace["x"] = 1
    assert (await harness.run("save_var", name="x", store=str(foreign))).reply["ename"] == "NotAVarstore"
    assert foreign.read_bytes() == before and not Path(f"{foreign}-wal").exists()

    text = tmp_path / "notes.txt"
    text.write_text("hello, not a database\n" * 100)
    refused = await harness.run("list_vars", store=str(text))
    assert refused.reply["ename"] == "NotAVarstore" and "notes.txt" in refused.reply["evalue"]
    assert text.read_text() == "hello, not a database\n" * 100
    assert await harness.call("list_vars", store=str(tmp_path / "not-yet.db")) == []
    assert not (tmp_path / "not-yet.db").exists()


async def test_writes_stay_under_the_root_unless_allowed(harness, tmp_path, monkeypatch):
    root = tmp_path / "root"
    monkeypatch.setenv("BEAKERLIKE_VARSTORE_ROOT", str(root))
    harness.namespace["v"] = [1]
    for store in (str(tmp_path / "elsewhere" / "s.db"), str(root / ".." / "escape" / "s.db"), "/s.db"):
        refused = await harness.run("save_var", name="v", store=store)
        assert refused.reply["ename"] == "StorePathRefused", store
        assert "outside the varstore root" in refused.reply["evalue"]
        assert "BEAKERLIKE_VARSTORE_ALLOW" in refused.reply["evalue"]
    assert not (tmp_path / "elsewhere").exists() and not (tmp_path / "escape").exists()

    inside = await harness.call("save_var", name="v", store=f"sqlite:///{root}/sub/dir/s.db")
    assert Path(inside["store"]).exists()
    monkeypatch.setenv("BEAKERLIKE_VARSTORE_ALLOW", str(tmp_path / "shared"))
    allowed = await harness.call("save_var", name="v", store=str(tmp_path / "shared" / "team.db"))
    assert [r["id"] for r in await harness.call("list_vars", store=allowed["store"])] == [1]
