"""The wire protocol against a real kernel process (see docs/protocol.md).

One kernel serves the whole module; tests that need shared state pick unique keys.
"""

from __future__ import annotations

import asyncio
import json
import signal
import uuid
from pathlib import Path

import anyio
import pytest

import beakerlike
from beakerlike.client import ActionAborted, ActionError, Exchange, KernelClient, _send_on
from beakerlike.testing import running_kernel

pytestmark = pytest.mark.anyio

SUPPORT = str(Path(__file__).parent / "support")


@pytest.fixture(scope="module")
async def kernel():
    async with running_kernel("sample_actions", "protocol_actions", pythonpath=[SUPPORT], autoload=False) as k:
        yield k


def key() -> str:
    return uuid.uuid4().hex


async def wait(*exchanges: Exchange, timeout: float = 30) -> None:
    with anyio.fail_after(timeout):
        for ex in exchanges:
            await ex.done.wait()


async def first_of_type(ex: Exchange, msg_type: str, timeout: float = 30) -> dict:
    """Wait for the first iopub message of ``msg_type`` of this exchange."""
    with anyio.fail_after(timeout):
        while True:
            found = ex.of_type(msg_type)
            if found:
                return found[0]
            await ex.queue.get()


def msg_types(ex: Exchange) -> list[str]:
    return [m["header"]["msg_type"] for m in ex.iopub]


def states(ex: Exchange) -> list[str]:
    return [m["content"]["execution_state"] for m in ex.of_type("status")]


def stream_text(ex: Exchange) -> str:
    return "".join(m["content"]["text"] for m in ex.of_type("stream"))


# -- order and parents ------------------------------------------------------------


async def test_streaming_order_and_parents(kernel: KernelClient) -> None:
    await kernel.execute("df = [1, 2, 3]")
    ex = await kernel.request("save_var_request", {"name": "df"})
    msg_id = ex.request["header"]["msg_id"]

    assert ex.reply is not None
    assert ex.reply["header"]["msg_type"] == "save_var_reply"
    assert ex.reply["parent_header"]["msg_id"] == msg_id
    assert ex.content == {"status": "ok", "return": {"id": 42, "repr": "[1, 2, 3]", "store": "default"}}

    types = msg_types(ex)
    assert types[0] == "status" and states(ex)[0] == "busy"
    assert types[-1] == "status" and states(ex)[-1] == "idle"
    assert states(ex) == ["busy", "idle"]
    assert "save_var_response" in types and "stream" in types
    assert all(m["parent_header"]["msg_id"] == msg_id for m in ex.iopub)
    assert ex.of_type("save_var_response")[0]["content"] == {"progress": 0.5}
    assert stream_text(ex) == "saving df\n"
    assert ex.of_type("stream")[0]["content"]["name"] == "stdout"


async def test_async_generator_streams_each_yield(kernel: KernelClient) -> None:
    ex = await kernel.request("count_request", {"n": 5})
    assert [m["content"] for m in ex.of_type("count_response")] == [{"i": i} for i in range(5)]
    assert ex.content == {"status": "ok", "return": None}
    assert msg_types(ex)[0] == "status" and msg_types(ex)[-1] == "status"
    # The client helper yields the same contents.
    assert [r async for r in kernel.stream("count", n=3)] == [{"i": 0}, {"i": 1}, {"i": 2}]


async def test_non_dict_response_is_wrapped(kernel: KernelClient) -> None:
    ex = await kernel.request("bare_values_request", {})
    assert [m["content"] for m in ex.of_type("bare_values_response")] == [
        {"data": [1, 2]}, {"data": "text"}, {"data": None},
    ]
    # Coalesced batches hold the bare values unwrapped.
    ex = await kernel.request("burst_request", {"n": 1})
    assert [m["content"] for m in ex.of_type("burst_response")] == [{"batch": [0]}]


async def test_coalesced_responses_arrive_in_batches(kernel: KernelClient) -> None:
    ex = await kernel.request("burst_request", {"n": 500})
    responses = ex.of_type("burst_response")
    assert all(set(m["content"]) == {"batch"} for m in responses)
    flat = [x for m in responses for x in m["content"]["batch"]]
    assert flat == list(range(500))
    assert len(responses) < 500
    assert ex.content["status"] == "ok"


async def test_sync_handler_runs_and_its_print_is_parented(kernel: KernelClient) -> None:
    ex = await kernel.request("sync_add_request", {"a": 2, "b": 3})
    assert ex.content == {"status": "ok", "return": 5}
    assert stream_text(ex) == "adding in a thread\n"
    assert all(m["parent_header"]["msg_id"] == ex.request["header"]["msg_id"] for m in ex.iopub)


async def test_display_data_is_parented(kernel: KernelClient) -> None:
    ex = await kernel.request("show_request", {})
    assert ex.content["status"] == "ok", ex.content
    shown = ex.of_type("display_data")
    assert len(shown) == 3
    assert "text/plain" in shown[0]["content"]["data"]
    assert shown[1]["content"]["data"] == {"text/plain": "raw bundle"}
    assert shown[2]["content"]["data"]["text/plain"] == "'from IPython display'"
    assert states(ex) == ["busy", "idle"]


async def test_buffers_both_ways(kernel: KernelClient) -> None:
    payloads = [b"abc", bytes(range(256)), b""]
    ex = await kernel.request("echo_buffers_request", {}, buffers=payloads)
    assert ex.content == {"status": "ok", "return": {"sizes": [3, 256, 0]}}
    (response,) = ex.of_type("echo_buffers_response")
    assert response["content"] == {"n": 3}
    assert [bytes(b) for b in response["buffers"]] == [p[::-1] for p in payloads]


async def test_pydantic_model_parameter(kernel: KernelClient) -> None:
    assert await kernel.call("norm", x=3, y=-4) == 7
    assert await kernel.call("norm", x=-2) == 2
    with pytest.raises(ActionError) as err:
        await kernel.call("norm", x="not a number")
    assert err.value.ename == "ValidationError"
    assert [e["loc"] for e in err.value.errors] == [["x"]]


async def test_raw_action_gets_content_unvalidated(kernel: KernelClient) -> None:
    payload = {"anything": [1, {"nested": None}], "n": 1.5}
    assert await kernel.call("raw_echo", payload) == payload


async def test_return_values_are_converted_to_json(kernel: KernelClient) -> None:
    assert await kernel.call("rich_return") == {"set": [1], "tuple": [1, 2]}


async def test_action_named_in_decorator(kernel: KernelClient) -> None:
    assert await kernel.call("renamed") == 7
    assert await kernel.call("renamed", value=3) == 3
    with pytest.raises(ActionError) as err:
        await kernel.call("some_function_name")
    assert err.value.ename == "UnknownAction"


# -- error paths: every request gets exactly one reply ----------------------------


async def test_unknown_action(kernel: KernelClient) -> None:
    ex = await kernel.request("no_such_thing_request", {"x": 1})
    assert ex.reply["header"]["msg_type"] == "no_such_thing_reply"
    c = ex.content
    assert c["status"] == "error"
    assert c["ename"] == "UnknownAction"
    assert "no_such_thing" in c["evalue"]
    assert "save_var" in c["evalue"]  # lists what is available
    assert "hidden" not in c["evalue"]  # but not internal actions
    assert states(ex) == ["busy", "idle"]


async def test_reply_name_swaps_only_the_trailing_suffix(kernel: KernelClient) -> None:
    ex = await kernel.request("a_request_b_request", {})
    assert ex.reply["header"]["msg_type"] == "a_request_b_reply"
    assert ex.content["ename"] == "UnknownAction"


async def test_invalid_payload_lists_each_bad_field(kernel: KernelClient) -> None:
    ex = await kernel.request("save_var_request", {"store": 3, "colour": "red"})
    c = ex.content
    assert c["status"] == "error"
    assert c["ename"] == "ValidationError"
    by_loc = {tuple(e["loc"]): e for e in c["errors"]}
    assert set(by_loc) == {("name",), ("store",), ("colour",)}
    assert by_loc[("name",)]["type"] == "missing"
    assert by_loc[("store",)]["type"] == "string_type"
    assert by_loc[("colour",)]["type"] == "extra_forbidden"
    assert all(isinstance(e["msg"], str) and e["msg"] for e in c["errors"])
    for field in ("name", "store", "colour"):
        assert field in c["evalue"]
    assert states(ex) == ["busy", "idle"]
    assert ex.of_type("save_var_response") == []  # the handler never ran


async def test_wrong_type_is_converted_when_lossless(kernel: KernelClient) -> None:
    assert await kernel.call("sync_add", a="2", b=3) == 5
    with pytest.raises(ActionError) as err:
        await kernel.call("sync_add", a="two", b=[3])
    assert {tuple(e["loc"]) for e in err.value.errors} == {("a",), ("b",)}


async def test_handler_exception_carries_traceback(kernel: KernelClient) -> None:
    ex = await kernel.request("fail_request", {})
    c = ex.content
    assert c["status"] == "error"
    assert c["ename"] == "RuntimeError"
    assert c["evalue"] == "boom from handler"
    tb = "".join(c["traceback"])
    assert "Traceback" in tb and "sample_actions.py" in tb and "boom from handler" in tb
    assert states(ex) == ["busy", "idle"]


async def test_handler_key_error_from_namespace(kernel: KernelClient) -> None:
    with pytest.raises(ActionError) as err:
        await kernel.call("save_var", name="never_defined_anywhere")
    assert err.value.ename == "KeyError"
    assert "never_defined_anywhere" in err.value.evalue


async def test_timeout(kernel: KernelClient) -> None:
    ex = await kernel.request("too_slow_request", {})
    c = ex.content
    assert c["status"] == "error"
    assert c["ename"] == "ActionTimeout"
    assert "too_slow" in c["evalue"]
    assert states(ex) == ["busy", "idle"]


async def test_timeout_of_sync_handler(kernel: KernelClient) -> None:
    ex = await kernel.request("sync_too_slow_request", {})
    assert ex.content["status"] == "error"
    assert ex.content["ename"] == "ActionTimeout"
    assert await kernel.call("noop") is None


async def test_non_serializable_return(kernel: KernelClient) -> None:
    ex = await kernel.request("bad_return_request", {})
    c = ex.content
    assert c["status"] == "error"
    assert c["ename"] == "SerializationError"
    assert "bad_return" in c["evalue"] and "object" in c["evalue"]


async def test_non_serializable_response_is_a_handler_error(kernel: KernelClient) -> None:
    ex = await kernel.request("bad_respond_request", {})
    assert ex.content["status"] == "error"
    assert "JSON" in ex.content["evalue"]
    assert ex.content["traceback"]
    assert await kernel.call("noop") is None


async def test_system_exit_in_handler_is_an_error_and_kernel_lives(kernel: KernelClient) -> None:
    ex = await kernel.request("exit_handler_request", {})
    assert ex.content["status"] == "error"
    assert ex.content["ename"] == "SystemExit"
    assert ex.content["evalue"] == "3"
    assert await kernel.manager.is_alive()
    assert await kernel.call("noop") is None


async def test_keyboard_interrupt_in_handler_is_aborted(kernel: KernelClient) -> None:
    ex = await kernel.request("interrupt_handler_request", {})
    assert ex.content == {"status": "aborted", "reason": "interrupted"}
    assert await kernel.call("noop") is None


@pytest.mark.parametrize("content", [[1, 2], "text", 7])
async def test_non_object_content_is_a_validation_error(kernel: KernelClient, content: object) -> None:
    # KernelClient only sends objects; put other JSON on the wire directly.
    msg = kernel.client.session.msg("noop_request", {})
    msg["content"] = json.dumps(content).encode()  # Session.serialize sends bytes as already packed
    ex = Exchange(request=msg)
    kernel._pending[msg["header"]["msg_id"]] = ex
    try:
        frames = kernel.client.session.serialize(msg)
        kernel.client.shell_channel.socket.send_multipart(frames)
        await wait(ex)
    finally:
        kernel._pending.pop(msg["header"]["msg_id"], None)
    assert ex.content["ename"] == "ValidationError"
    assert ex.content["errors"][0]["type"] == "object_type"


# -- interrupts -----------------------------------------------------------------


async def test_interrupt_aborts_running_action_and_keeps_kernel(kernel: KernelClient) -> None:
    await kernel.execute("kept_value = 1234")
    ex = kernel.send("wait_forever_request", {})
    await first_of_type(ex, "wait_forever_response")
    await kernel.interrupt()
    await wait(ex, timeout=10)
    assert ex.content == {"status": "aborted", "reason": "interrupted"}
    assert states(ex) == ["busy", "idle"]
    assert ex.of_type("wait_forever_response")[0]["content"] == {"started": True}

    # Alive, namespace kept, actions still work.
    after = await kernel.execute("kept_value + 1")
    assert after.content["status"] == "ok"
    (result,) = after.of_type("execute_result")
    assert result["content"]["data"]["text/plain"] == "1235"
    assert await kernel.call("sync_add", a=1, b=1) == 2


async def test_interrupt_aborts_sync_action(kernel: KernelClient) -> None:
    ex = kernel.send("sync_wait_request", {"seconds": 2})
    await first_of_type(ex, "sync_wait_response")
    await kernel.interrupt()
    await wait(ex, timeout=10)
    assert ex.content["status"] == "aborted"
    assert await kernel.call("noop") is None


async def test_interrupt_during_cell_and_action(kernel: KernelClient) -> None:
    ex = kernel.send("wait_forever_request", {})
    await first_of_type(ex, "wait_forever_response")
    cell = kernel.send(
        "execute_request",
        {"code": "import time\nprint('cell started', flush=True)\ntime.sleep(60)", "silent": False,
         "store_history": False, "user_expressions": {}, "allow_stdin": False, "stop_on_error": False},
    )
    await first_of_type(cell, "stream")
    await kernel.interrupt()
    await wait(ex, cell, timeout=20)
    assert ex.content["status"] == "aborted"
    assert cell.content["status"] == "error"
    assert cell.content["ename"] == "KeyboardInterrupt"
    assert await kernel.call("noop") is None
    assert (await kernel.execute("1 + 1")).content["status"] == "ok"


async def test_sigint_signal_aborts_action_and_keeps_kernel(kernel: KernelClient) -> None:
    # A signal-mode interrupt (e.g. `kill -INT`) outside a cell cancels actions instead of killing.
    assert kernel.manager is not None
    ex = kernel.send("wait_forever_request", {})
    await first_of_type(ex, "wait_forever_response")
    await kernel.manager.signal_kernel(signal.SIGINT)
    await wait(ex, timeout=10)
    assert ex.content == {"status": "aborted", "reason": "interrupted"}
    assert await kernel.manager.is_alive()
    assert await kernel.call("noop") is None


async def test_interrupt_when_idle_keeps_kernel(kernel: KernelClient) -> None:
    await kernel.interrupt()
    assert await kernel.call("noop") is None


async def test_aborted_maps_to_client_error(kernel: KernelClient) -> None:
    started = asyncio.Event()
    task = asyncio.create_task(kernel.call("wait_forever", on_response=lambda msg: started.set()))
    with anyio.fail_after(10):
        await started.wait()
    await kernel.interrupt()
    with pytest.raises(ActionAborted) as err:
        await task
    assert err.value.status == "aborted"
    assert err.value.content["reason"] == "interrupted"


# -- concurrency ----------------------------------------------------------------


async def test_execute_not_delayed_by_slow_action(kernel: KernelClient) -> None:
    slow = kernel.send("slow_request", {"seconds": 5})
    cell = await kernel.execute("concurrency_probe = 6 * 7\nconcurrency_probe")
    # The cell finished (reply and idle) while the action had not replied yet.
    assert cell.content["status"] == "ok"
    assert slow.reply is None
    assert cell.of_type("execute_result")[0]["content"]["data"]["text/plain"] == "42"
    # Other actions are not delayed either.
    assert await kernel.call("noop") is None
    assert slow.reply is None
    await wait(slow)
    assert slow.content == {"status": "ok", "return": "done"}


async def test_actions_run_concurrently_with_each_other(kernel: KernelClient) -> None:
    # Each call returns only once the other one runs at the same time.
    k = key()
    a = kernel.send("meet_request", {"key": k})
    b = kernel.send("meet_request", {"key": k})
    await wait(a, b)
    assert a.content == b.content == {"status": "ok", "return": 2}


async def test_prints_of_concurrent_actions_go_to_their_own_request(kernel: KernelClient) -> None:
    k = key()
    a = kernel.send("chatty_request", {"tag": "A", "key": k})
    b = kernel.send("chatty_request", {"tag": "B", "key": k})
    await wait(a, b)
    assert a.content["status"] == b.content["status"] == "ok"
    assert stream_text(a) == "A-before\nA-after\n"
    assert stream_text(b) == "B-before\nB-after\n"


async def test_prints_of_concurrent_sync_actions_go_to_their_own_request(kernel: KernelClient) -> None:
    k = key()
    a = kernel.send("sync_chatty_request", {"tag": "A", "key": k})
    b = kernel.send("sync_chatty_request", {"tag": "B", "key": k})
    await wait(a, b)
    assert a.content["status"] == b.content["status"] == "ok", (a.content, b.content)
    assert stream_text(a) == "A-before\nA-after\n"
    assert stream_text(b) == "B-before\nB-after\n"


async def test_non_concurrent_actions_run_one_at_a_time(kernel: KernelClient) -> None:
    k = key()
    hold = kernel.send("serial_hold_request", {"key": k})
    await first_of_type(hold, "serial_hold_response")
    step = kernel.send("serial_step_request", {"key": k, "tag": "step"})
    # Concurrent actions and cells are not blocked by the serial slot being taken.
    assert await kernel.call("noop") is None
    assert (await kernel.execute("0")).content["status"] == "ok"
    await kernel.call("release", key=k)
    await wait(hold, step)
    assert hold.content["status"] == step.content["status"] == "ok"
    assert await kernel.call("read_log", key=k) == ["hold-start", "hold-end", "step-start", "step-end"]


async def test_non_concurrent_actions_reply_in_order(kernel: KernelClient) -> None:
    k = key()
    exchanges = [kernel.send("serial_step_request", {"key": k, "tag": str(i)}) for i in range(5)]
    await wait(*exchanges)
    log = await kernel.call("read_log", key=k)
    assert log == [f"{i}-{when}" for i in range(5) for when in ("start", "end")]
    assert [await kernel.call("say", text=t) for t in "ab"] == ["a", "b"]


async def test_many_requests_in_flight_from_two_clients(kernel: KernelClient) -> None:
    assert kernel.manager is not None
    other = await KernelClient.connect(kernel.manager.connection_file)
    kinds = [
        ("noop_request", {}),
        ("count_request", {"n": 2}),
        ("sync_add_request", {"a": 1, "b": 2}),
        ("nope_request", {}),
        ("save_var_request", {}),
        ("kernel_info_request", {}),
    ]
    sent: list[tuple[KernelClient, Exchange]] = []
    try:
        for i in range(250):
            for client in (kernel, other):
                msg_type, content = kinds[i % len(kinds)]
                sent.append((client, client.send(msg_type, content)))
        await wait(*(ex for _, ex in sent), timeout=120)
        # A final round trip on each connection, so a late second reply would have been counted.
        assert await kernel.call("noop") is None
        assert await other.call("noop") is None
        for _, ex in sent:
            req_type = ex.request["header"]["msg_type"]
            assert ex.replies == 1
            assert ex.reply["header"]["msg_type"] == req_type.replace("_request", "_reply")
            assert ex.reply["parent_header"]["msg_id"] == ex.request["header"]["msg_id"]
            assert states(ex) == ["busy", "idle"]
        statuses = {ex.request["header"]["msg_type"]: ex.content["status"] for _, ex in sent}
        assert statuses == {
            "noop_request": "ok", "count_request": "ok", "sync_add_request": "ok",
            "nope_request": "error", "save_var_request": "error", "kernel_info_request": "ok",
        }
        # Shell replies go only to the connection that asked.
        mine = {ex.request["header"]["msg_id"] for c, ex in sent if c is kernel}
        assert not any(m["parent_header"].get("msg_id") in mine for m in other.unrouted
                       if m["header"]["msg_type"].endswith("_reply"))
    finally:
        for client, ex in sent:
            client._pending.pop(ex.request["header"]["msg_id"], None)
        await other.close(shutdown=False)


def send_to_subshell(kernel: KernelClient, subshell_id: str, msg_type: str, content: dict) -> Exchange:
    msg = kernel.client.session.msg(msg_type, content)
    msg["header"]["subshell_id"] = subshell_id
    ex = Exchange(request=msg)
    kernel._pending[msg["header"]["msg_id"]] = ex
    _send_on(kernel.client.shell_channel, kernel.client.session, msg)
    return ex


async def test_actions_in_a_subshell(kernel: KernelClient) -> None:
    # JupyterLab may send requests to subshells (JEP 91); actions work there too.
    msg = kernel.client.session.msg("create_subshell_request", {})
    _send_on(kernel.client.control_channel, kernel.client.session, msg)
    with anyio.fail_after(10):
        created = await kernel.client.control_channel.get_msg(timeout=10)
    assert created["content"]["status"] == "ok"
    sid = created["content"]["subshell_id"]

    ex = send_to_subshell(kernel, sid, "save_var_request", {"name": "__name__"})
    await wait(ex)
    assert ex.content["status"] == "ok"
    assert stream_text(ex) == "saving __name__\n"
    assert states(ex) == ["busy", "idle"]

    # An action waiting in the subshell does not hold up a cell; it returns once its peer arrives.
    k = key()
    waiting = send_to_subshell(kernel, sid, "meet_request", {"key": k})
    assert (await kernel.execute("1")).content["status"] == "ok"
    assert waiting.reply is None
    assert await kernel.call("meet", key=k) == 2
    await wait(waiting)
    assert waiting.content == {"status": "ok", "return": 2}

    stuck = send_to_subshell(kernel, sid, "wait_forever_request", {})
    await first_of_type(stuck, "wait_forever_response")
    await kernel.interrupt()
    await wait(stuck)
    assert stuck.content == {"status": "aborted", "reason": "interrupted"}


# -- discovery and standard messages ----------------------------------------------


async def test_context_info_lists_actions(kernel: KernelClient) -> None:
    info = await kernel.info()
    actions = info["actions"]
    save_var = actions["save_var"]
    assert save_var["docs"] == "Save a notebook variable to a store."
    assert save_var["schema"]["type"] == "object"
    assert set(save_var["schema"]["properties"]) == {"name", "store"}
    assert save_var["schema"]["required"] == ["name"]
    assert save_var["default_payload"] == {"store": "default"}
    assert actions["count"]["streaming"] is True
    assert actions["say"]["concurrent"] is False
    assert actions["too_slow"]["timeout"] == 0.2
    assert actions["renamed"]["docs"] == "Docs given in the decorator."
    assert actions["renamed"]["default_payload"] == {"value": 7}
    assert set(actions["norm"]["schema"]["properties"]) == {"x", "y"}
    assert "hidden" not in actions
    assert await kernel.call("hidden") == "hidden"
    assert "context_info" in actions
    assert info["plugin_errors"] == []
    assert info["beakerlike_version"] == beakerlike.__version__


async def test_kernel_info_advertises_feature(kernel: KernelClient) -> None:
    ex = await kernel.request("kernel_info_request", {})
    c = ex.content
    assert c["status"] == "ok"
    assert "beakerlike" in c["supported_features"]
    assert c["beakerlike"]["version"] == beakerlike.__version__
    assert c["beakerlike"]["protocol_version"]
    assert c["implementation"] == "beakerlike"
    assert c["language_info"]["name"] == "python"


async def test_standard_messages_unaffected(kernel: KernelClient) -> None:
    ex = await kernel.execute("standard_x = 5\nprint('out')\nstandard_x * 2")
    assert ex.content["status"] == "ok"
    assert ex.content["execution_count"] >= 1
    assert stream_text(ex) == "out\n"
    assert ex.of_type("execute_result")[0]["content"]["data"]["text/plain"] == "10"
    assert "execute_input" in msg_types(ex)

    err = await kernel.execute("1/0")
    assert err.content["status"] == "error" and err.content["ename"] == "ZeroDivisionError"

    comp = await kernel.request("complete_request", {"code": "standard_", "cursor_pos": 9})
    assert comp.content["status"] == "ok"
    assert "standard_x" in comp.content["matches"]

    insp = await kernel.request("inspect_request", {"code": "standard_x", "cursor_pos": 10, "detail_level": 0})
    assert insp.content["status"] == "ok" and insp.content["found"] is True

    isc = await kernel.request("is_complete_request", {"code": "for i in x:"})
    assert isc.content["status"] == "incomplete"

    comm = await kernel.request("comm_info_request", {})
    assert comm.content["status"] == "ok"

    hist = await kernel.request("history_request", {"hist_access_type": "tail", "n": 3, "raw": True,
                                                    "output": False})
    assert hist.content["status"] == "ok"


async def test_burst_after_a_call_gets_every_reply(kernel: KernelClient) -> None:
    # Regression: jupyter_client's Session.send writes on a sync shadow of the asyncio
    # socket, which swallowed the reader's wake-up; every reply of the burst stayed unread.
    assert await kernel.call("noop") is None
    burst = [kernel.send("noop_request", {}) for _ in range(300)]
    await wait(*burst, timeout=60)
    assert all(ex.content == {"status": "ok", "return": None} and ex.replies == 1 for ex in burst)
    for ex in burst:
        kernel._pending.pop(ex.request["header"]["msg_id"], None)


async def test_shutdown_aborts_running_actions() -> None:
    # Its own kernel: this one is shut down.
    async with running_kernel("protocol_actions", pythonpath=[SUPPORT]) as k:
        ex = k.send("wait_forever_request", {})
        await first_of_type(ex, "wait_forever_response")
        k.send("shutdown_request", {"restart": False}, channel="control")
        await wait(ex, timeout=15)
        assert ex.content == {"status": "aborted", "reason": "shutdown"}
        assert states(ex) == ["busy", "idle"]


STANDARD_REQUESTS = [
    ("execute_request", {"code": "std_v = 3\nprint('out')\nstd_v * 2", "silent": False, "store_history": True,
                         "user_expressions": {"e": "std_v + 1"}, "allow_stdin": False, "stop_on_error": True}),
    ("execute_request", {"code": "1/0", "silent": False, "store_history": True, "user_expressions": {},
                         "allow_stdin": False, "stop_on_error": True}),
    ("execute_request", {"code": "from IPython.display import HTML, display; display(HTML('<b>x</b>'))",
                         "silent": False, "store_history": True, "user_expressions": {}, "allow_stdin": False,
                         "stop_on_error": True}),
    ("complete_request", {"code": "std_", "cursor_pos": 4}),
    ("inspect_request", {"code": "std_v", "cursor_pos": 5, "detail_level": 0}),
    ("is_complete_request", {"code": "for i in x:"}),
    ("history_request", {"hist_access_type": "tail", "n": 2, "raw": True, "output": False}),
    ("comm_info_request", {}),
]


def shape(ex: Exchange) -> tuple:
    """What must not differ from stock ipykernel: reply type, status, keys and iopub sequence."""
    content = ex.content
    return (
        ex.reply["header"]["msg_type"],
        content.get("status"),
        sorted(content),
        content.get("ename"),
        [m["header"]["msg_type"] for m in ex.iopub],
        [m["content"]["data"].get("text/plain") for m in ex.of_type("execute_result")],
        content.get("user_expressions", {}).get("e", {}).get("data"),
    )


async def test_standard_messages_behave_as_in_stock_ipykernel(kernel: KernelClient) -> None:
    stock = await KernelClient.start("python3")
    try:
        for msg_type, content in STANDARD_REQUESTS:
            ours, theirs = await kernel.request(msg_type, content), await stock.request(msg_type, content)
            assert shape(ours) == shape(theirs), msg_type
        # A message type ipykernel does not know and that is not a *_request: no reply, busy/idle only.
        for client in (kernel, stock):
            ex = client.send("not_a_request_type", {})
            with anyio.fail_after(30):
                while not ex.idle:
                    await ex.queue.get()
            assert ex.reply is None
            assert states(ex) == ["busy", "idle"]
            client._pending.pop(ex.request["header"]["msg_id"], None)
    finally:
        await stock.close()


# -- the Python client's view of the protocol -------------------------------------------


async def test_client_call_raises_typed_errors(kernel: KernelClient) -> None:
    with pytest.raises(ActionError) as err:
        await kernel.call("fail")
    e = err.value
    assert (e.action, e.status, e.ename, e.evalue) == ("fail", "error", "RuntimeError", "boom from handler")
    assert "boom from handler" in "".join(e.traceback)
    assert not isinstance(e, ActionAborted)

    with pytest.raises(ActionError) as err:
        await kernel.call("save_var", colour=1)
    assert {tuple(x["loc"]) for x in err.value.errors} == {("name",), ("colour",)}


async def test_client_call_sees_each_response(kernel: KernelClient) -> None:
    seen: list[dict] = []

    async def on_response(msg: dict) -> None:
        seen.append(msg["content"])

    assert await kernel.call("count", n=3, on_response=on_response) is None
    assert seen == [{"i": 0}, {"i": 1}, {"i": 2}]


async def test_client_stream_yields_then_raises(kernel: KernelClient) -> None:
    got = []
    with pytest.raises(ActionError) as err:
        async for item in kernel.stream("stream_then_fail", n=2):
            got.append(item)
    assert got == [{"i": 0}, {"i": 1}]
    assert err.value.ename == "ValueError" and err.value.evalue == "after streaming"


async def test_client_call_timeout(kernel: KernelClient) -> None:
    with pytest.raises(TimeoutError):
        await kernel.call("wait_forever", timeout=0.5)
    await kernel.interrupt()  # let the abandoned request finish
    assert await kernel.call("noop") is None


async def test_client_connect_failure_stops_its_channels(tmp_path: Path) -> None:
    from jupyter_client import AsyncKernelClient
    from jupyter_client.connect import write_connection_file

    connection_file, _ = write_connection_file(str(tmp_path / "nobody.json"))  # no kernel behind it
    client = AsyncKernelClient(connection_file=connection_file)
    client.load_connection_file()
    with pytest.raises(RuntimeError):
        await KernelClient(client)._connect(0.5)
    assert not client.channels_running


async def test_client_routes_on_when_on_iopub_raises(kernel: KernelClient, caplog: pytest.LogCaptureFixture) -> None:
    seen = []

    def faulty(msg: dict) -> None:
        seen.append(msg)
        raise RuntimeError("callback bug")

    kernel.on_iopub = faulty
    try:
        foreign = kernel.client.session.msg("kernel_info_request", {})  # not ours: its iopub goes to on_iopub
        _send_on(kernel.client.shell_channel, kernel.client.session, foreign)
        with anyio.fail_after(30):
            while not seen:
                await anyio.sleep(0.01)
        assert await kernel.call("noop") is None
    finally:
        kernel.on_iopub = None
    assert "on_iopub raised" in caplog.text
