"""Two users on one kernel (real-time collaboration) through a real ``jupyter server``.

Each user is a websocket connection with its own session, as two JupyterLab tabs or two
collaborators are. Previews of a cell must reach both; a reply goes only to whoever sent the request.
"""

from __future__ import annotations

import urllib.error
import uuid
from collections.abc import Iterator

import pytest
from comm_ws import Server, WsClient, jupyter_server


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    with jupyter_server(tmp_path_factory.mktemp("rtc")) as srv:
        kid = srv.start_kernel()
        try:
            yield srv, kid
        finally:
            try:
                srv.api("DELETE", f"/api/kernels/{kid}")
            except (urllib.error.URLError, ConnectionError):
                pass


@pytest.fixture(params=["messages", "comm"])
def users(request: pytest.FixtureRequest, kernel: tuple[Server, str]) -> Iterator[tuple[WsClient, WsClient]]:
    srv, kid = kernel
    a, b = WsClient(srv.ws_url(kid), request.param), WsClient(srv.ws_url(kid), request.param)
    try:
        yield a, b
    finally:
        a.close()
        b.close()


def test_previews_reach_both_users(users: tuple[WsClient, WsClient]) -> None:
    a, b = users
    a.call("preview_watch")
    b.call("preview_watch")
    try:
        name = f"shared_{uuid.uuid4().hex[:8]}"
        reply, _ = a.execute(f"{name} = {{'who': 'alice'}}")  # alice runs the cell
        assert reply["content"]["status"] == "ok"
        seen_a, seen_b = a.next_preview(), b.next_preview()
        assert seen_a == seen_b
        assert name in seen_a["variables"]
        assert seen_a["metadata"]["beakerlike"]["full"] is False
    finally:
        a.call("preview_unwatch")
        b.call("preview_unwatch")


def test_replies_reach_only_the_sender(users: tuple[WsClient, WsClient]) -> None:
    a, b = users
    rid = a.start("sync_add", {"a": 40, "b": 2})
    assert a.finish("sync_add", rid).reply == {"status": "ok", "return": 42}
    b.call("noop")  # b has read everything the kernel sent up to its own reply
    if a.transport == "messages":
        # Shell replies are routed to the sending connection only.
        assert not [m for m in b.received if m["channel"] == "shell" and m["parent_header"].get("msg_id") == rid]
    else:
        # Comm messages travel on iopub, which every connection receives; b's own comm carries nothing of a's.
        on_b = [m for m in b.received if b._comm_data(m) is not None]
        assert not [m for m in on_b if rid in str(b._comm_data(m))]
        assert any("reply" in b._comm_data(m) for m in on_b)  # b's noop reply is there
