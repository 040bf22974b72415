"""The server extension's activity tracking: the same ``execution_state`` and ``last_activity``.

A real ``jupyter server`` (the extension enabled as a pip install enables it) runs a cell on a
beakerlike kernel over its websocket; ``/api/kernels/<id>`` must report ``busy`` while the cell
runs, ``idle`` after it, and a newer ``last_activity``, with beakerlike's watcher and with the
server's own (``--BeakerlikeServer.cheap_activity=False``).
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
from test_wire_server_nodelay import _server  # the extension enabled through jupyter_server_config.d


def _state(server, kid: str) -> dict:
    return server.api("GET", f"/api/kernels/{kid}")


def _wait_for(server, kid: str, state: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        info = _state(server, kid)
        if info["execution_state"] == state:
            return info
        assert time.monotonic() < deadline, f"kernel never {state!r}: {info}"
        time.sleep(0.05)


@pytest.mark.parametrize("cheap", [True, False], ids=["beakerlike-watcher", "server-watcher"])
def test_kernel_state_and_activity_follow_a_cell(tmp_path: Path, cheap: bool) -> None:
    args = () if cheap else ("--BeakerlikeServer.cheap_activity=False",)
    with _server(tmp_path, *args) as server:
        kernel = server.kernel()
        try:
            (kid,) = [k["id"] for k in server.api("GET", "/api/kernels")]
            before = _wait_for(server, kid, "idle")
            header = {"msg_id": uuid.uuid4().hex, "msg_type": "execute_request", "session": kernel.session,
                      "username": "test", "date": datetime.now(timezone.utc).isoformat(), "version": "5.3"}
            kernel.ws.send(json.dumps({"header": header, "parent_header": {}, "metadata": {}, "channel": "shell",
                                       "buffers": [], "content": {"code": "import time; time.sleep(2)",
                                                                  "silent": False}}))
            _wait_for(server, kid, "busy")
            after = _wait_for(server, kid, "idle")
            assert after["last_activity"] > before["last_activity"]
            assert after["execution_state"] == "idle"
        finally:
            kernel.close()
    log = Path(server.log_file).read_text()
    assert ("kernel activity tracked without date parsing" in log) is cheap, log
