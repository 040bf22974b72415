"""Enterprise Gateway kernelspecs and launcher arguments (pure units; the real EG run is tests/test_gateway.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from beakerlike.cli import app
from beakerlike.gateway.launcher import parse_args, port_range
from beakerlike.kernelspec import EG_PROCESS_PROXIES, enterprise_gateway_kernel_json

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_kubernetes_kernelspec_is_what_the_installer_writes() -> None:
    shipped = json.loads((ROOT / "deploy" / "kernelspecs" / "beakerlike_kubernetes" / "kernel.json").read_text())
    assert shipped == enterprise_gateway_kernel_json(
        "kubernetes", image="my-registry/beakerlike-kernel:1", display_name="Python 3 (beakerlike on Kubernetes)")


def test_kernelspecs_name_each_process_proxy() -> None:
    distributed = enterprise_gateway_kernel_json("distributed", python="/opt/py/bin/python", remote_hosts="a,b")
    assert distributed["argv"][:3] == ["/opt/py/bin/python", "-m", "beakerlike.gateway.launcher"]
    assert "{response_address}" in distributed["argv"] and "{public_key}" in distributed["argv"]
    assert distributed["metadata"]["process_proxy"] == {
        "class_name": EG_PROCESS_PROXIES["distributed"], "config": {"remote_hosts": "a,b"}}
    docker = enterprise_gateway_kernel_json("docker", image="img:1")
    assert docker["argv"][1] == "{resource_dir}/scripts/launch_docker.py"
    assert docker["metadata"]["process_proxy"]["config"] == {"image_name": "img:1"}
    with pytest.raises(ValueError, match="needs an image"):
        enterprise_gateway_kernel_json("kubernetes")
    with pytest.raises(ValueError, match="unknown process proxy"):
        enterprise_gateway_kernel_json("yarn")


def test_cli_installs_an_eg_kernelspec_with_egs_scripts(tmp_path: Path) -> None:
    scripts = tmp_path / "eg" / "scripts"
    scripts.mkdir(parents=True)
    (scripts / "launch_kubernetes.py").write_text("# EG's launcher\n")
    (scripts / "kernel-pod.yaml.j2").write_text("kind: Pod\n")
    result = CliRunner().invoke(app, ["install", "--enterprise-gateway", "kubernetes", "--image", "img:2",
                                      "--eg-scripts", str(scripts), "--prefix", str(tmp_path / "prefix")])
    assert result.exit_code == 0, result.output
    spec_dir = tmp_path / "prefix" / "share" / "jupyter" / "kernels" / "beakerlike_kubernetes"
    assert json.loads((spec_dir / "kernel.json").read_text())["metadata"]["process_proxy"]["config"] == {
        "image_name": "img:2"}
    assert (spec_dir / "scripts" / "kernel-pod.yaml.j2").read_text() == "kind: Pod\n"

    bad = CliRunner().invoke(app, ["install", "--enterprise-gateway", "kubernetes", "--image", "img:2",
                                   "--eg-scripts", str(tmp_path), "--prefix", str(tmp_path / "p2")])
    assert bad.exit_code == 2 and "launch_kubernetes.py" in bad.output


def test_launcher_arguments_from_egs_kernelspecs_or_the_container_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    args = parse_args(["--RemoteProcessProxy.kernel-id", "k1", "--RemoteProcessProxy.response-address", "10.0.0.1:8877",
                       "--RemoteProcessProxy.public-key", "KEY", "--RemoteProcessProxy.port-range", "40000..41000",
                       "--RemoteProcessProxy.spark-context-initialization-mode", "none"])
    assert (args.kernel_id, args.response_address, args.public_key) == ("k1", "10.0.0.1:8877", "KEY")
    assert port_range(args.port_range) == (40000, 41000)
    # In a Kubernetes/Docker kernel image EG passes them as environment variables.
    for k, v in {"KERNEL_ID": "k2", "RESPONSE_ADDRESS": "10.0.0.2:1", "PUBLIC_KEY": "K2", "PORT_RANGE": "0..0"}.items():
        monkeypatch.setenv(k, v)
    args = parse_args([])
    assert (args.kernel_id, args.response_address, port_range(args.port_range)) == ("k2", "10.0.0.2:1", (0, 0))
    with pytest.raises(ValueError, match="bad port range"):
        port_range("5..3")
    monkeypatch.delenv("PUBLIC_KEY")
    with pytest.raises(SystemExit):
        parse_args([])
