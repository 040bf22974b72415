"""The data context in a real kernel process (loaded by module name, not by its entry point)."""

from pathlib import Path

import pytest

from beakerlike import ActionError
from beakerlike.testing import running_kernel

HERE = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.anyio


@pytest.fixture
async def kernel():
    async with running_kernel("beakerlike_data", pythonpath=[HERE], autoload=False) as k:
        yield k


async def test_switch_describe_page_and_back(kernel):
    await kernel.execute("import numpy as np, pandas as pd\n"
                         "df = pd.DataFrame({'a': np.arange(10_000), 'b': ['x'] * 10_000})\nkeep = 41")
    info = await kernel.info()
    assert "data" in info["contexts"]
    assert info["contexts"]["data"]["setup_schema"]["properties"]["sample_rows"]["type"] == "integer"
    assert "list_frames" not in info["actions"]

    reply = await kernel.call("context_setup", context="data", context_info={"sample_rows": 1000})
    assert reply["context"]["name"] == "data"
    assert reply["context"]["info"]["sample_rows"] == 1000
    assert {"list_frames", "describe_dataframe", "page_rows"} <= set(reply["actions"])

    frames = await kernel.call("list_frames")
    assert frames == [{"name": "df", "type": "pandas.DataFrame", "shape": [10_000, 2]}]
    desc = await kernel.call("describe_dataframe", name="df")
    assert desc["sampled"] is True and desc["sample_rows"] == 1000 and desc["rows"] == 10_000
    assert desc["columns"] == ["a", "b"]
    page = await kernel.call("page_rows", name="df", offset=9_998, limit=5, columns=["a"])
    assert page["rows"] == [[9998], [9999]] and page["total"] == 10_000

    with pytest.raises(ActionError) as err:
        await kernel.call("describe_dataframe", name="keep")
    assert err.value.ename == "TypeError"

    await kernel.call("context_setup", context="default")
    with pytest.raises(ActionError) as err:
        await kernel.call("list_frames")
    assert err.value.ename == "UnknownAction"
    ex = await kernel.execute("print(keep + 1, df.shape)")
    assert ex.of_type("stream")[0]["content"]["text"].strip() == "42 (10000, 2)"


async def test_bad_setup_payload_keeps_context(kernel):
    for bad in ({"sample_rows": "lots"}, {"sample_rows": 1}, {"unknown": True}):
        with pytest.raises(ActionError) as err:
            await kernel.call("context_setup", context="data", context_info=bad)
        assert err.value.ename == "InvalidContextInfo"
    assert (await kernel.info())["context"]["name"] == "default"


async def test_polars_previews_never_collect_lazy_frames(kernel):
    pytest.importorskip("polars")
    await kernel.call("context_setup", context="data")
    snap = await kernel.call("preview_watch")
    assert snap["full"] is True
    ex = await kernel.execute(
        "import polars as pl\n"
        "pf = pl.DataFrame({'a': list(range(100)), 'b': ['<x>'] * 100})\n"
        "lazy = pf.lazy().select(pl.col('a') * 2)\n"
    )
    (msg,) = ex.of_type("preview")
    items = msg["content"]["variables"]
    pf = items["pf"]["application/vnd.beakerlike.preview+json"]
    assert pf["shape"] == [100, 2] and pf["columns"] == ["a", "b"] and pf["rows"][0] == [0, "<x>"]
    assert "&lt;x&gt;" in items["pf"]["text/html"]
    lazy = items["lazy"]["application/vnd.beakerlike.preview+json"]
    assert "not computed" in lazy["summary"] and lazy["rows"] is None
    page = await kernel.call("preview_page", path=["pf"], offset=98, limit=5, columns=["a"])
    assert page["rows"] == [[98], [99]] and page["total"] == 100
