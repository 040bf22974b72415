"""PreviewPanel helpers in process: page request validation, JSON safety, fallbacks for odd items."""

from __future__ import annotations

import math

import pytest

pytest.importorskip("anywidget", reason="the panel needs the `panel` extra (anywidget)")

from beakerlike.panel import MAX_PAGE_LIMIT, PREVIEW_MIME, _json_safe, _page_args, item_view  # noqa: E402


def test_page_args_accepts_a_good_request() -> None:
    assert _page_args({"path": ["df", 0, "col"], "offset": 10, "limit": 5, "columns": ["a"]}) == (
        ["df", 0, "col"], 10, 5, ["a"])
    assert _page_args({"path": ["df"]}) == (["df"], 0, 10, None)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({}, "path must be"),
        ({"path": "df"}, "path must be"),
        ({"path": []}, "path must be"),
        ({"path": [1.5]}, "path must be"),
        ({"path": [True]}, "path must be"),
        ({"path": ["__import__('os')"], "offset": -1}, "offset must be"),
        ({"path": ["df"], "offset": "3"}, "offset must be"),
        ({"path": ["df"], "limit": 0}, "limit must be between"),
        ({"path": ["df"], "limit": MAX_PAGE_LIMIT + 1}, "limit must be between"),
        ({"path": ["df"], "columns": "a"}, "columns must be"),
        ({"path": ["df"], "columns": [1]}, "columns must be"),
    ],
)
def test_page_args_rejects_bad_requests(content: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _page_args(content)


def test_json_safe_makes_widget_messages_json() -> None:
    np = pytest.importorskip("numpy")
    out = _json_safe({"a": [np.int64(3), np.float64(1.5), math.nan, math.inf], 1: (None, True), "o": object()})
    assert out["a"] == [3, 1.5, "nan", "inf"]
    assert out["1"] == [None, True]
    assert out["o"].startswith("<object object")


def test_json_safe_bounds_depth() -> None:
    nested: list = []
    cur = nested
    for _ in range(50):
        cur.append([])
        cur = cur[0]
    flat = _json_safe(nested)
    depth = 0
    while isinstance(flat, list) and flat:
        flat, depth = flat[0], depth + 1
    assert flat == "…" and depth <= 22


def test_item_view_uses_the_preview_part_or_says_what_is_missing() -> None:
    preview = {"name": "x", "type": "int", "summary": "1", "status": "ok"}
    assert item_view("x", {"text/plain": "1", PREVIEW_MIME: preview})["summary"] == "1"
    plain = item_view("y", {"text/plain": "2"})
    assert plain["summary"] == "2" and plain["status"] == "ok"
    broken = item_view("z", "not a bundle")
    assert broken["status"] == "error" and broken["error"] == "no preview data"
