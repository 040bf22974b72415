from pathlib import Path

import pytest

PLUGIN_ROOT = str(Path(__file__).resolve().parent.parent)

pytestmark = [pytest.mark.anyio,
              pytest.mark.beakerlike_plugins("beakerlike_varstore", autoload=False, pythonpath=[PLUGIN_ROOT])]


async def test_save_and_load_through_a_real_kernel(store_path, beakerlike_kernel):  # store_path first: env
    kernel = beakerlike_kernel
    await kernel.execute("import numpy as np, pandas as pd\n"
                         "df = pd.DataFrame({'a': [1, 2, 3], 'b': ['x', 'y', 'z']})\n"
                         "big = np.arange(300_000, dtype='float64')")
    progress = []
    saved = await kernel.call("save_var", name="big", on_response=lambda m: progress.append(m["content"]))
    assert saved["kind"] == "ndarray" and saved["store"] == str(store_path)
    assert progress[-1] == {"stage": "writing", "done": saved["size"], "total": saved["size"]}
    await kernel.call("save_var", name="df")
    assert [v["name"] for v in await kernel.call("list_vars")] == ["df", "big"]

    await kernel.execute("del df, big")
    await kernel.call("load_var", name="df", as_name="df2")
    await kernel.call("load_var", name="big")
    ex = await kernel.execute("print(df2.b.tolist(), float(big.sum()))")
    out = "".join(m["content"].get("text", "") for m in ex.of_type("stream"))
    assert out.strip() == "['x', 'y', 'z'] 44999850000.0"
    assert (await kernel.info())["plugin_errors"] == []
