"""pip-install plugins/varstore into a fresh virtualenv and use it through its entry point in a real kernel."""

import json
import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "support"))
from plugins_venv import REPO, shared_venv  # noqa: E402

CLIENT = textwrap.dedent("""
    import asyncio, json, sys
    from beakerlike.client import KernelClient

    async def main():
        async with await KernelClient.start() as kernel:
            await kernel.execute("x = {'a': [1, 2.5, None], 'b': 'text'}")
            progress = []
            saved = await kernel.call("save_var", name="x", store=sys.argv[1],
                                      on_response=lambda m: progress.append(m["content"]))
            await kernel.execute("del x")
            loaded = await kernel.call("load_var", name="x", as_name="y", store=sys.argv[1])
            ex = await kernel.execute("import beakerlike; print(repr(y)); print(beakerlike.__file__)")
            out = "".join(m["content"].get("text", "") for m in ex.of_type("stream"))
            info = await kernel.info()
            listed = await kernel.call("list_vars", store=sys.argv[1])
        print(json.dumps({"saved": saved, "loaded": loaded, "out": out, "listed": listed,
                          "actions": sorted(info["actions"]), "errors": info["plugin_errors"]}))

    asyncio.run(main())
""")


@pytest.fixture(scope="session")
def venv(tmp_path_factory):
    return shared_venv(tmp_path_factory)


def test_varstore_from_its_entry_point_in_a_fresh_venv(venv):
    venv.run("pip", "install", "--quiet", "--no-build-isolation", REPO / "plugins" / "varstore")
    listed = {p["name"]: p for p in json.loads(venv.run("beakerlike", "plugins", "--json").stdout)}
    assert listed["varstore"]["source"] == "entrypoint"
    assert listed["varstore"]["distribution"] == "beakerlike-varstore" and listed["varstore"]["version"] == "0.1.0"
    assert sorted(listed["varstore"]["actions"]) == ["list_vars", "load_var", "save_var"]

    script = venv.work / "use_varstore.py"
    script.write_text(CLIENT)
    store = venv.work / "vars.sqlite3"
    # no BEAKERLIKE_PLUGINS; the store is outside the default varstore root, so name the root
    run = venv.run("python", script, store, BEAKERLIKE_VARSTORE_ROOT=str(venv.work))
    result = json.loads(run.stdout.splitlines()[-1])

    assert {"save_var", "load_var", "list_vars", "context_info"} <= set(result["actions"])
    assert result["errors"] == []
    assert result["saved"]["id"] == 1 and result["saved"]["format"] == "json"
    assert result["loaded"]["variable"] == "y"
    repr_line, location = result["out"].strip().splitlines()
    assert repr_line == "{'a': [1, 2.5, None], 'b': 'text'}"
    assert location.startswith(str(venv.path))  # the kernel ran the venv's beakerlike, not the checkout
    assert [row["name"] for row in result["listed"]] == ["x"]
    assert store.exists()
