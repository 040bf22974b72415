import io
import math

import numpy as np
import pandas as pd
import pytest
from beakerlike_varstore.codec import UnsupportedType, decode, encode


def roundtrip(value, **kw):
    enc = encode(value, **kw)
    return enc, decode(enc.kind, enc.format, enc.data)


@pytest.mark.parametrize("value", [0, -7, 2**70, 1.25, "héllo", "", None, True, [], {},
                                   [1, "a", None, [2.5, {"k": False}]], {"nested": {"list": [1, 2]}}])
def test_plain_values_roundtrip_as_json(value):
    enc, back = roundtrip(value)
    assert enc.format == "json"
    assert back == value and type(back) is type(value)


def test_nan_and_inf_roundtrip():
    _, back = roundtrip([math.inf, -math.inf, math.nan])
    assert back[:2] == [math.inf, -math.inf] and math.isnan(back[2])


@pytest.mark.parametrize("arr", [np.arange(12, dtype=np.int32).reshape(3, 4), np.linspace(0, 1, 7),
                                 np.array([True, False]), np.array(["a", "bc"]), np.zeros((0, 3)),
                                 np.array([1 + 2j]), np.array(["2020-01-01"], dtype="datetime64[D]")])
def test_numpy_arrays_roundtrip_exactly(arr):
    enc, back = roundtrip(arr)
    assert enc.format == "npy" and enc.summary["shape"] == list(arr.shape)
    assert back.dtype == arr.dtype and np.array_equal(back, arr)


def test_numpy_scalar_keeps_its_type():
    enc, back = roundtrip(np.int16(-3))
    assert enc.kind == "numpy-scalar" and type(back) is np.int16 and back == -3


def test_dataframe_roundtrips_without_pyarrow():
    df = pd.DataFrame({
        "i": [1, 2, 3], "f": [0.1, 1 / 3, None], "s": ["x", None, "z"],
        "c": pd.Categorical(["u", "v", "u"], ordered=True), "t": pd.to_datetime(["2020-01-01", None, "2021-06-30"]),
        "b": [True, False, True],
    }, index=pd.Index([10, 20, 30], name="key"))
    enc, back = roundtrip(df, parquet=False)
    assert enc.format == "columns" and enc.kind == "dataframe" and enc.summary["shape"] == [3, 6]
    pd.testing.assert_frame_equal(back, df, check_exact=True)


def test_series_keeps_name_and_index():
    s = pd.Series([1.5, 2.5], index=["a", "b"], name="price")
    enc, back = roundtrip(s, parquet=False)
    assert enc.kind == "series"
    pd.testing.assert_series_equal(back, s, check_exact=True)


def test_empty_frame_roundtrips():
    df = pd.DataFrame({"a": pd.Series([], dtype="int64")})
    _, back = roundtrip(df, parquet=False)
    pd.testing.assert_frame_equal(back, df)


@pytest.mark.parametrize("value, message", [
    ((1, 2), "cannot store a builtins.tuple"),
    ({1: "a"}, "dict keys must be str"),
    ([1, {2, 3}], "a set inside a list/dict"),
    (object(), "cannot store a builtins.object"),
    (np.array([object()], dtype=object), "dtype object are refused"),
    (pd.DataFrame({"mixed": [1, "a"]}), "only store with pyarrow"),
    (pd.DataFrame({"a": [1]}, index=pd.MultiIndex.from_tuples([(1, 2)])), "MultiIndex"),
])
def test_unsupported_values_are_refused_clearly(value, message):
    with pytest.raises(UnsupportedType, match=message):
        encode(value, parquet=False)


def test_decoding_never_unpickles():
    # An .npy holding a pickled object array, as a malicious store could contain.
    buf = io.BytesIO()
    np.save(buf, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="allow_pickle"):
        decode("ndarray", "npy", buf.getvalue())
    with pytest.raises(ValueError, match="unknown stored format"):
        decode("x", "pickle", b"\x80\x04N.")


def test_dataframes_use_parquet_when_pyarrow_is_installed():
    pytest.importorskip("pyarrow", reason="install beakerlike-varstore[parquet] to test the parquet path")
    df = pd.DataFrame({"a": [1, 2], "s": ["x", None]}, index=pd.MultiIndex.from_tuples([(1, "p"), (2, "q")]))
    enc, back = roundtrip(df)
    assert enc.format == "parquet"
    pd.testing.assert_frame_equal(back, df)
    enc, back = roundtrip(pd.Series([1.5], name="n"))
    assert enc.format == "parquet" and back.name == "n"
    with pytest.raises(UnsupportedType, match="cannot be stored as parquet"):
        encode(pd.DataFrame({"mixed": [1, "a"]}))


def test_format_choice_follows_pyarrow_availability():
    from beakerlike_varstore.codec import have_parquet

    assert encode(pd.DataFrame({"a": [1]})).format == ("parquet" if have_parquet() else "columns")
