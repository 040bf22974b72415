"""Pure-function tests of ``beakerlike.actions`` and ``beakerlike.protocol`` (no kernel)."""

from __future__ import annotations

import types
from typing import Literal

import pydantic
import pytest

import beakerlike
from beakerlike import protocol
from beakerlike.actions import Action, PayloadError, action, action_of, actions_in, make_action

# -- the decorator ----------------------------------------------------------------------


class Point(pydantic.BaseModel):
    x: int
    y: int = 0


def test_bare_decorator_names_the_action_after_the_function() -> None:
    @action
    async def save_var(req, name: str, store: str = "default") -> dict:
        """Save a variable."""
        return {}

    act = action_of(save_var)
    assert isinstance(act, Action)
    assert act.name == "save_var"
    assert act.docs == "Save a variable."
    assert act.kind == "async"
    assert act.concurrent is True and act.timeout is None and act.scope == "public"
    assert act.origin.endswith("save_var")
    assert callable(save_var) and save_var.__name__ == "save_var"  # returned unchanged


def test_decorator_with_name_and_options() -> None:
    @action("train", timeout=60, concurrent=False, scope="internal", docs="Train it.", coalesce=0.1,
            default_payload={"epochs": 5})
    async def train_model(req, epochs: int = 3):
        """Ignored docstring."""
        yield epochs

    act = action_of(train_model)
    assert act.name == "train"
    assert act.timeout == 60
    assert act.concurrent is False
    assert act.scope == "internal"
    assert act.docs == "Train it."
    assert act.coalesce == 0.1
    assert act.kind == "asyncgen"
    info = act.info()
    assert info["default_payload"] == {"epochs": 5}
    assert info["streaming"] is True
    assert info["concurrent"] is False and info["timeout"] == 60 and info["scope"] == "internal"


def test_decorator_with_empty_parentheses() -> None:
    @action()
    def plain(req) -> int:
        return 1

    act = action_of(plain)
    assert act.name == "plain"
    assert act.kind == "sync"
    assert plain(None) == 1


def test_docstring_is_cleaned() -> None:
    @action
    async def documented(req) -> None:
        """First line.

        Detail.
            Indented detail.
        """

    assert action_of(documented).docs == "First line.\n\nDetail.\n    Indented detail."


def test_public_api_is_flat() -> None:
    assert beakerlike.action is action
    assert beakerlike.PayloadError is PayloadError
    assert beakerlike.ActionError.__name__ == "ActionError"


@pytest.mark.parametrize("name", ["save_var_request", "x_reply", "x_response"])
def test_suffixes_are_refused_at_decoration_time(name: str) -> None:
    with pytest.raises(ValueError, match="must not end with"):

        @action(name)
        async def handler(req) -> None: ...


def test_function_named_like_a_request_is_refused() -> None:
    with pytest.raises(ValueError, match="'save_request' must not end with '_request'"):

        @action
        async def save_request(req) -> None: ...


@pytest.mark.parametrize("name", ["has space", "1starts_with_digit", "semi;colon", "a/b"])
def test_invalid_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="invalid action name"):
        make_action(lambda req: None, name=name)


def test_name_must_be_a_string() -> None:
    with pytest.raises(TypeError, match="action name as a string"):
        action(123)  # type: ignore[call-overload]


def test_bad_options_are_refused() -> None:
    async def handler(req) -> None: ...

    with pytest.raises(ValueError, match="timeout must be positive"):
        make_action(handler, timeout=0)
    with pytest.raises(ValueError, match="scope must be"):
        make_action(handler, scope="private")  # type: ignore[arg-type]


# -- signatures -------------------------------------------------------------------------


def test_handler_without_request_parameter_is_refused() -> None:
    with pytest.raises(TypeError, match="first parameter must receive the request handle"):

        @action
        async def no_params() -> None: ...


def test_keyword_only_first_parameter_is_refused() -> None:
    with pytest.raises(TypeError, match="first parameter must receive the request handle"):

        @action
        async def kw_only(*, req) -> None: ...


def test_var_args_are_refused() -> None:
    with pytest.raises(TypeError, match=r"\*args/\*\*kwargs are not supported"):

        @action
        async def star(req, *args) -> None: ...

    with pytest.raises(TypeError, match=r"\*args/\*\*kwargs are not supported"):

        @action
        async def star_star(req, **kwargs) -> None: ...


def test_raw_handler_must_take_req_and_content() -> None:
    with pytest.raises(TypeError, match=r"raw handlers take \(req, content\)"):

        @action(raw=True)
        async def raw3(req, content, extra) -> None: ...


# -- schema and defaults ----------------------------------------------------------------


async def _save_var(req, name: str, store: str = "default", count: int = 1, tags: list[str] | None = None) -> None:
    """Save."""


def test_schema_describes_the_payload() -> None:
    act = make_action(_save_var, name="save_var")
    schema = act.schema()
    assert schema["type"] == "object"
    assert set(schema["properties"]) == {"name", "store", "count", "tags"}
    assert schema["required"] == ["name"]
    assert schema["properties"]["name"]["type"] == "string"
    assert schema["properties"]["count"]["type"] == "integer"
    assert schema["properties"]["count"]["default"] == 1
    assert schema["additionalProperties"] is False


def test_default_payload_comes_from_parameter_defaults() -> None:
    info = make_action(_save_var, name="save_var").info()
    assert info["default_payload"] == {"store": "default", "count": 1}
    assert info["docs"] == "Save."


def test_literal_hints_become_enums() -> None:
    async def pick(req, mode: Literal["fast", "slow"] = "fast") -> None: ...

    schema = make_action(pick).schema()
    assert schema["properties"]["mode"]["enum"] == ["fast", "slow"]


def test_raw_action_schema_is_any_object() -> None:
    async def raw(req, content): ...

    act = make_action(raw, raw=True)
    assert act.schema() == {"type": "object"}
    assert act.info()["default_payload"] == {}


def test_single_model_parameter_is_the_whole_payload() -> None:
    async def norm(req, point: Point) -> int: ...

    act = make_action(norm)
    assert act.model is Point
    assert act.model_param == "point"
    assert set(act.schema()["properties"]) == {"x", "y"}
    assert act.info()["default_payload"] == {"y": 0}
    bound = act.bind({"x": 3})
    assert bound == {"point": Point(x=3, y=0)}


# -- binding ----------------------------------------------------------------------------


def test_bind_converts_and_fills_defaults() -> None:
    act = make_action(_save_var, name="save_var")
    assert act.bind({"name": "df", "count": "3"}) == {"name": "df", "store": "default", "count": 3, "tags": None}
    assert act.bind({"name": "df", "tags": ["a"]})["tags"] == ["a"]


def test_bind_lists_every_bad_field() -> None:
    act = make_action(_save_var, name="save_var")
    with pytest.raises(PayloadError) as err:
        act.bind({"store": 3, "count": "many", "colour": "red"})
    errors = {tuple(e["loc"]): e["type"] for e in err.value.errors}
    assert errors == {
        ("name",): "missing",
        ("store",): "string_type",
        ("count",): "int_parsing",
        ("colour",): "extra_forbidden",
    }
    assert all(set(e) == {"loc", "msg", "type"} for e in err.value.errors)
    assert err.value.action == "save_var"
    message = str(err.value)
    assert message.startswith("invalid payload for 'save_var': ")
    for field in ("name", "store", "count", "colour"):
        assert f"{field}: " in message


def test_bind_nested_locations() -> None:
    act = make_action(_save_var, name="save_var")
    with pytest.raises(PayloadError) as err:
        act.bind({"name": "x", "tags": ["ok", 5]})
    assert [e["loc"] for e in err.value.errors] == [["tags", 1]]


def test_bind_none_content_is_empty_payload() -> None:
    async def noop(req, n: int = 2) -> None: ...

    assert make_action(noop).bind(None) == {"n": 2}


@pytest.mark.parametrize("content", [[1, 2], "text", 3])
def test_bind_refuses_non_object_content(content: object) -> None:
    async def noop(req) -> None: ...

    with pytest.raises(PayloadError) as err:
        make_action(noop).bind(content)
    (e,) = err.value.errors
    assert e["loc"] == [] and e["type"] == "object_type"
    assert "<payload>: content must be a JSON object" in str(err.value)


def test_bind_raw_passes_content_through() -> None:
    async def raw(req, content): ...

    assert make_action(raw, raw=True).bind([1, "x"]) == {"content": [1, "x"]}


def test_bind_model_errors() -> None:
    async def norm(req, point: Point) -> int: ...

    with pytest.raises(PayloadError) as err:
        make_action(norm).bind({"y": "z"})
    assert {tuple(e["loc"]) for e in err.value.errors} == {("x",), ("y",)}


def test_actions_in_collects_in_source_order() -> None:
    module = types.ModuleType("fake_plugin")

    @action("b_first")
    async def b(req) -> None: ...

    @action("a_second")
    async def a(req) -> None: ...

    def not_an_action(req) -> None: ...

    module.b, module.helper, module.a = b, not_an_action, a
    assert [act.name for act in actions_in(module)] == ["b_first", "a_second"]
    assert action_of(not_an_action) is None
    assert action_of(object()) is None


# -- protocol ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("msg_type", "name"),
    [
        ("save_var_request", "save_var"),
        ("a_request_b_request", "a_request_b"),
        ("context_info_request", "context_info"),
        ("_request", ""),
        (42, None),
        ("save_var_reply", None),
        ("status", None),
    ],
)
def test_action_of_msg_type(msg_type: object, name: str | None) -> None:
    assert protocol.action_of(msg_type) == name


def test_message_names() -> None:
    assert protocol.request_type("save_var") == "save_var_request"
    assert protocol.reply_type("save_var") == "save_var_reply"
    assert protocol.response_type("save_var") == "save_var_response"
    assert protocol.reply_type(protocol.action_of("a_request_b_request")) == "a_request_b_reply"
    assert protocol.FEATURE == "beakerlike"


def test_reply_contents() -> None:
    assert protocol.ok_reply({"id": 1}) == {"status": "ok", "return": {"id": 1}}
    assert protocol.ok_reply(None) == {"status": "ok", "return": None}
    assert protocol.aborted_reply() == {"status": "aborted", "reason": "cancelled"}
    assert protocol.aborted_reply("interrupted") == {"status": "aborted", "reason": "interrupted"}
    err = protocol.error_reply("ValidationError", "bad", None, errors=[{"loc": ["x"], "msg": "m", "type": "t"}])
    assert err == {
        "status": "error", "ename": "ValidationError", "evalue": "bad", "traceback": [],
        "errors": [{"loc": ["x"], "msg": "m", "type": "t"}],
    }


def test_exception_reply_has_traceback_lines() -> None:
    def explode() -> None:
        raise KeyError("missing thing")

    try:
        explode()
    except KeyError as exc:
        content = protocol.exception_reply(exc)
    assert content["status"] == "error"
    assert content["ename"] == "KeyError"
    assert content["evalue"] == "'missing thing'"
    assert all(isinstance(line, str) for line in content["traceback"])
    text = "".join(content["traceback"])
    assert text.startswith("Traceback") and "explode" in text and "KeyError: 'missing thing'" in text
