"""Pure functions of the MCP server: progress values, resource URIs, allow/deny lists, tool errors."""

import math

import pytest

from beakerlike.mcp import McpConfig, Outcome, ProgressTracker, progress_of, tool_result
from beakerlike.mcp.bridge import trim_traceback
from beakerlike.mcp.resources import BadUri, item_uri, parse


@pytest.mark.parametrize("content, expected", [
    ({"progress": 0.25}, (0.25, 1.0)),
    ({"progress": 7}, (1.0, 1.0)),
    ({"done": 3, "total": 12, "stage": "writing"}, (3.0, 12.0)),
    ({"batch": [{"progress": 0.1}, {"x": 1}, {"progress": 0.3}, {"y": 2}]}, (0.3, 1.0)),
    ({"progress": True}, None),
    ({"progress": math.nan}, None),
    ({"done": 1}, None),
    ({"done": 1, "total": 0}, None),
    ({"data": [1, 2]}, None),
    ("text", None),
])
def test_progress_of(content, expected):
    assert progress_of(content) == expected


def test_tracker_counts_steps_until_progress_is_stated_and_never_goes_back():
    tracker = ProgressTracker()
    assert tracker.update({"stage": "start"})[:2] == (1.0, None)
    assert tracker.update({"stage": "more"})[:2] == (2.0, None)
    assert tracker.update({"progress": 0.5}) is None  # below what was sent: MCP progress must increase
    assert tracker.update({"done": 5, "total": 4})[:2] == (4.0, 4.0)
    assert tracker.update({"stage": "no progress"}) is None
    tracker = ProgressTracker()
    steps = [tracker.update({"progress": p}) for p in (0.5, 0.5, 0.75)]
    assert [s and s[0] for s in steps] == [0.5, None, 0.75]
    long = ProgressTracker().update({"text": "x" * 1000})
    assert len(long[2]) == 200 and long[2].endswith("…")


def test_resource_uris():
    assert parse("beakerlike://variables").kind == "variables"
    assert parse(item_uri("df")) == parse("beakerlike://variables/df")
    assert parse(item_uri("a b/c")).name == "a b/c"
    rows = parse("beakerlike://variables/df/rows?offset=10&limit=5000&columns=a,b&columns=c")
    assert (rows.kind, rows.name, rows.offset, rows.limit, rows.columns) == ("rows", "df", 10, 1000, ["a", "b", "c"])
    assert parse("beakerlike://variables/df/rows").limit == 50
    for bad, why in [("file:///etc/passwd", "unknown resource"), ("beakerlike://other/x", "unknown resource"),
                     ("beakerlike://variables/df/rows?offset=-1", "offset must be >= 0"),
                     ("beakerlike://variables/df/rows?limit=ten", "not an integer"),
                     ("beakerlike://variables/df/cols", "only '/rows'")]:
        with pytest.raises(BadUri, match=why):
            parse(bad)


def test_allow_and_deny_lists():
    spec = {"scope": "public"}
    plain = McpConfig()
    assert plain.exposes("run_job", spec)
    assert not plain.exposes("run_job", {"scope": "internal"})
    assert not plain.exposes("preview_page", spec) and not plain.exposes("context_setup", spec)
    assert not plain.exposes("execute_code", spec)
    config = McpConfig.from_env({"BEAKERLIKE_MCP_ALLOW": "run_*, list_jobs", "BEAKERLIKE_MCP_DENY": "run_secret"},
                                deny=["list_*"])
    assert config.exposes("run_job", spec) and not config.exposes("run_secret", spec)
    assert not config.exposes("list_jobs", spec) and not config.exposes("save_var", spec)
    assert not config.execute_code
    assert McpConfig.from_env({"BEAKERLIKE_MCP_EXECUTE_CODE": "1"}).execute_code
    assert not McpConfig.from_env({"BEAKERLIKE_MCP_EXECUTE_CODE": "1"}, execute_code=False).execute_code


def test_tool_results():
    ok = tool_result(Outcome({"status": "ok", "return": [1, 2]}, stdout="hi\n"))
    assert not ok.is_error and ok.structured_content == {"result": [1, 2]}
    assert [c.text for c in ok.content] == ["[1, 2]", "[stdout]\nhi\n"]
    tb = ["Traceback (most recent call last):\n", *[f"  line {i}\n" for i in range(20)], "\x1b[31mKeyError\x1b[0m: 'x'"]
    err = tool_result(Outcome({"status": "error", "ename": "KeyError", "evalue": "'x'", "traceback": tb}))
    assert err.is_error and err.structured_content["traceback"][-1] == "KeyError: 'x'"
    assert len(err.structured_content["traceback"]) == 8 == len(trim_traceback(tb))
    aborted = tool_result(Outcome({"status": "aborted", "reason": "interrupted"}))
    assert aborted.is_error and aborted.structured_content["ename"] == "Aborted"
