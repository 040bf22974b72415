"""beakerlike kernels behind a gateway, reached through a real ``jupyter server --gateway-url``.

- ``kernel-gateway``: ``jupyter kernelgateway`` (same environment) starts the plain ``beakerlike``
  kernelspec.
- ``enterprise-gateway``: ``jupyter enterprisegateway`` runs in its own virtualenv (EG 3.3 pins
  jupyter_server 1 / jupyter_client 6, which cannot live beside ours; the venv is created once under
  ``.venv/eg-env``, or set ``BEAKERLIKE_EG_PYTHON`` to a Python that has it). It launches the kernel with
  the ``beakerlike_distributed`` kernelspec: EG's ``DistributedProcessProxy`` with remote host 127.0.0.1,
  which runs the launcher directly instead of over ssh but otherwise takes the full remote path
  (``beakerlike.gateway.launcher``: encrypted connection info to EG's response address, signals over
  the launcher's communication port). The kernel runs in this test environment, where the plugin
  packages are installed; EG's environment has neither beakerlike nor the plugins.

Every test body runs against both gateways, with actions as messages and over the comm. jupyter_server's
gateway proxy speaks the legacy kernel websocket protocol (JSON text frames), so the client uses that.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from comm_ws import SUPPORT, Server, WsClient, free_port, jupyter_env, jupyter_server, run_server

from beakerlike.kernelspec import enterprise_gateway_kernel_json, kernel_json

ROOT = Path(__file__).resolve().parent.parent
EG_REQUIREMENT = "jupyter-enterprise-gateway"


def eg_python() -> Path:
    """A Python with Jupyter Enterprise Gateway installed, in its own virtualenv (created on first use)."""
    given = os.environ.get("BEAKERLIKE_EG_PYTHON")
    if given:
        return Path(given)
    venv = ROOT / ".venv" / "eg-env"
    python = venv / "bin" / "python"
    if not (venv / "bin" / "jupyter-enterprisegateway").exists():
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", EG_REQUIREMENT, "pycryptodomex"], check=True)
    return python


#: Gateways pass only allow-listed variables of their own environment to kernels; a kernelspec's env stanza
#: is the documented way to configure the kernel (docs/deploy.md), so the test plugins are named there.
KERNEL_ENV = {"BEAKERLIKE_PLUGINS": "sample_actions,protocol_actions", "PYTHONPATH": str(SUPPORT)}


def write_spec(prefix: Path, name: str, spec: dict) -> None:
    d = prefix / "share" / "jupyter" / "kernels" / name
    d.mkdir(parents=True)
    (d / "kernel.json").write_text(json.dumps({**spec, "env": {**spec.get("env", {}), **KERNEL_ENV}}))


def install_kernelspecs(kind: str, prefix: Path) -> None:
    """KG: the plain ``beakerlike`` spec. EG: ``beakerlike_distributed`` on 127.0.0.1, plus a variant whose
    interrupts are signals delivered through the launcher's communication port."""
    if kind == "kernel-gateway":
        write_spec(prefix, "beakerlike", kernel_json())
        return
    for name, mode in (("beakerlike_distributed", "message"), ("beakerlike_distributed_signal", "signal")):
        spec = enterprise_gateway_kernel_json("distributed", remote_hosts="127.0.0.1")
        write_spec(prefix, name, {**spec, "interrupt_mode": mode})


def gateway_env(tmp: Path) -> dict[str, str]:
    # Entry-point plugins load (autoload on): the kernel must find those of *its* environment.
    env = jupyter_env(tmp, EG_KERNEL_LOG_DIR=str(tmp),
                      EG_KERNEL_LAUNCH_TIMEOUT="60")
    env.pop("BEAKERLIKE_DISABLE_PLUGIN_AUTOLOAD")
    return env


@pytest.fixture(scope="module", params=["kernel-gateway", "enterprise-gateway"])
def gateway(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Server]]:
    kind = request.param
    tmp = tmp_path_factory.mktemp(kind)
    (tmp / "root").mkdir()
    prefix = tmp / "prefix"
    token, port = secrets.token_hex(16), free_port()
    install_kernelspecs(kind, prefix)
    if kind == "kernel-gateway":
        cmd = [sys.executable, "-m", "kernel_gateway", "--KernelGatewayApp.ip=127.0.0.1",
               f"--KernelGatewayApp.port={port}", f"--KernelGatewayApp.auth_token={token}",
               "--KernelGatewayApp.port_retries=0"]
    else:
        cmd = [str(eg_python()), "-m", "enterprise_gateway", "--EnterpriseGatewayApp.ip=127.0.0.1",
               f"--EnterpriseGatewayApp.port={port}", f"--EnterpriseGatewayApp.auth_token={token}",
               "--EnterpriseGatewayApp.port_retries=0", "--EnterpriseGatewayApp.remote_hosts=127.0.0.1",
               # EG refuses kernels for 'root' by default; CI containers run as root.
               "--EnterpriseGatewayApp.unauthorized_users=nobody"]
    with run_server(cmd, port, token, gateway_env(tmp), tmp / "gateway.log", tmp / "root") as gw:
        yield kind, gw


@pytest.fixture(scope="module")
def server(gateway: tuple[str, Server], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``jupyter server --gateway-url``: kernels and kernelspecs come from the gateway."""
    _, gw = gateway
    args = (f"--GatewayClient.url={gw.url}", f"--GatewayClient.auth_token={gw.token}",
            "--GatewayClient.request_timeout=120")
    with jupyter_server(tmp_path_factory.mktemp("front"), args=args) as srv:
        yield srv


@pytest.fixture(scope="module")
def kernels(gateway: tuple[str, Server], server: Server) -> Iterator[dict[str, str]]:
    kind, _ = gateway
    names = {"message": "beakerlike"} if kind == "kernel-gateway" else {
        "message": "beakerlike_distributed", "signal": "beakerlike_distributed_signal"}
    started: dict[str, str] = {}
    try:
        for mode, name in names.items():
            started[mode] = server.start_kernel(name)
        yield started
    finally:
        for kid in started.values():
            try:
                server.api("DELETE", f"/api/kernels/{kid}")
            except (urllib.error.URLError, ConnectionError):
                pass


@pytest.fixture(params=["messages", "comm"])
def ws(request: pytest.FixtureRequest, server: Server, kernels: dict[str, str]) -> Iterator[WsClient]:
    client = WsClient(server.ws_url(kernels["message"]), request.param, protocol="json")
    try:
        yield client
    finally:
        client.close()


def test_the_kernel_is_beakerlike(ws: WsClient, gateway: tuple[str, Server]) -> None:
    reply, _ = ws.roundtrip("kernel_info_request", {})
    assert "beakerlike" in reply["content"]["supported_features"]
    if gateway[0] == "enterprise-gateway":
        # The kernel came up through the beakerlike launcher under DistributedProcessProxy.
        log = gateway[1].log.read_text()
        assert "DistributedProcessProxy" in log or "Kernel launched on '127.0.0.1'" in log
        assert "beakerlike.gateway.launcher" in log


def test_actions_errors_and_streaming(ws: WsClient) -> None:
    out = ws.call("sync_add", {"a": 40, "b": 2})
    assert out.reply == {"status": "ok", "return": 42}
    assert "".join(m["content"]["text"] for m in out.output if m["header"]["msg_type"] == "stream") \
        == "adding in a thread\n"
    out = ws.call("count", {"n": 3})
    assert [r for r, _ in out.responses] == [{"i": 0}, {"i": 1}, {"i": 2}]
    # No binary buffers here: jupyter_server's gateway proxy forwards every frame as text (see docs/deploy.md).
    out = ws.call("sync_add", {"a": 1, "c": 2})
    assert out.reply["ename"] == "ValidationError"
    assert {tuple(e["loc"]) for e in out.reply["errors"]} == {("b",), ("c",)}
    assert ws.call("nope").reply["ename"] == "UnknownAction"


def test_previews(ws: WsClient) -> None:
    snap = ws.call("preview_watch").reply["return"]
    try:
        name = f"g_{uuid.uuid4().hex[:8]}"
        ws.execute(f"{name} = 'remote'")
        update = ws.next_preview()
        assert name in update["variables"]
        assert update["metadata"]["beakerlike"]["seq"] == snap["seq"] + 1
    finally:
        ws.call("preview_unwatch")


def test_plugins_come_from_the_kernels_environment(ws: WsClient, gateway: tuple[str, Server]) -> None:
    info = ws.call("context_info").reply["return"]
    # beakerlike-jobs is installed here (the kernel's environment) and found through its entry point.
    assert "list_jobs" in info["actions"]
    assert "data" in info["contexts"]  # the beakerlike-data context package, same
    if gateway[0] == "enterprise-gateway":
        probe = "import importlib.util as u; print([u.find_spec(m) is not None for m in " \
                "('beakerlike', 'beakerlike_jobs', 'beakerlike_data')])"
        out = subprocess.run([str(eg_python()), "-c", probe], capture_output=True, text=True, check=True, cwd="/",
                             env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
        assert out.stdout.strip() == "[False, False, False]"  # not in the gateway's environment


def test_interrupt_aborts_running_actions(server: Server, kernels: dict[str, str],
                                         gateway: tuple[str, Server]) -> None:
    # "message": interrupt_request on the control channel; "signal" (EG only): EG sends SIGINT's number to
    # the launcher's communication port, which signals the kernel process.
    for mode, kid in kernels.items():
        client = WsClient(server.ws_url(kid), "messages", protocol="json")
        try:
            rid = client.start("slow", {"seconds": 30})
            time.sleep(1.0)
            server.api("POST", f"/api/kernels/{kid}/interrupt")
            assert client.finish("slow", rid).reply == {"status": "aborted", "reason": "interrupted"}, mode
            assert client.call("noop").reply == {"status": "ok", "return": None}  # the kernel lives on
            if mode == "signal":  # it really went through the launcher's communication port
                kernel_log = gateway[1].log.parent / f"kernel-{kid}.log"
                assert "signal 2 from the gateway" in kernel_log.read_text()
        finally:
            client.close()
