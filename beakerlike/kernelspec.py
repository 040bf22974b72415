"""Install the ``beakerlike`` kernelspec (also in the variants Enterprise Gateway's process proxies need)."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

KERNEL_NAME = "beakerlike"


def kernel_json(python: str | None = None) -> dict[str, Any]:
    """The kernelspec: interrupts arrive as messages so running actions can be cancelled."""
    return {
        "argv": [python or sys.executable, "-m", "beakerlike.kernelapp", "-f", "{connection_file}"],
        "display_name": "Python 3 (beakerlike)",
        "language": "python",
        "interrupt_mode": "message",
        "metadata": {"debugger": True},
    }


#: Enterprise Gateway process proxies a beakerlike kernelspec can name (``beakerlike install --enterprise-gateway``).
EG_PROCESS_PROXIES = {
    "distributed": "enterprise_gateway.services.processproxies.distributed.DistributedProcessProxy",
    "kubernetes": "enterprise_gateway.services.processproxies.k8s.KubernetesProcessProxy",
    "docker": "enterprise_gateway.services.processproxies.docker_swarm.DockerProcessProxy",
    "docker-swarm": "enterprise_gateway.services.processproxies.docker_swarm.DockerSwarmProcessProxy",
}
#: EG's container launch scripts (shipped in EG's kernelspecs tarball, copied with ``eg_scripts``).
EG_CONTAINER_SCRIPTS = {"kubernetes": "launch_kubernetes.py", "docker": "launch_docker.py",
                        "docker-swarm": "launch_docker.py"}
_EG_ARGS = ["--RemoteProcessProxy.kernel-id", "{kernel_id}", "--RemoteProcessProxy.response-address",
            "{response_address}", "--RemoteProcessProxy.public-key", "{public_key}",
            "--RemoteProcessProxy.port-range", "{port_range}"]


def enterprise_gateway_kernel_json(
    proxy: str = "distributed",
    *,
    python: str | None = None,
    image: str | None = None,
    remote_hosts: str | None = None,
    display_name: str | None = None,
) -> dict[str, Any]:
    """A kernelspec for Enterprise Gateway's ``proxy`` (a key of :data:`EG_PROCESS_PROXIES`).

    ``distributed``: EG runs ``python -m beakerlike.gateway.launcher`` on one of ``remote_hosts``
    (over ssh, or directly when the host is EG's own), so ``python`` must be that path on every host.
    ``kubernetes``/``docker``/``docker-swarm``: EG runs its own container launch script (in the
    kernelspec's ``scripts/``), which starts ``image``; the image runs the beakerlike launcher
    (``deploy/Dockerfile``).
    """
    if proxy not in EG_PROCESS_PROXIES:
        raise ValueError(f"unknown process proxy {proxy!r}; choose one of {', '.join(EG_PROCESS_PROXIES)}")
    config: dict[str, Any] = {}
    if proxy == "distributed":
        argv = [python or sys.executable, "-m", "beakerlike.gateway.launcher", *_EG_ARGS]
        if remote_hosts:
            config["remote_hosts"] = remote_hosts
    else:
        if not image:
            raise ValueError(f"the {proxy} process proxy needs an image (e.g. --image my-registry/beakerlike-kernel:1)")
        config["image_name"] = image
        argv = ["python", "{resource_dir}/scripts/" + EG_CONTAINER_SCRIPTS[proxy], *_EG_ARGS]
    return {
        "argv": argv,
        "display_name": display_name or f"Python 3 (beakerlike, {proxy})",
        "language": "python",
        "interrupt_mode": "message",
        "env": {},
        "metadata": {"debugger": True, "process_proxy": {"class_name": EG_PROCESS_PROXIES[proxy], "config": config}},
    }


def install_enterprise_gateway(
    proxy: str = "distributed",
    *,
    user: bool = False,
    prefix: str | None = None,
    name: str | None = None,
    python: str | None = None,
    image: str | None = None,
    remote_hosts: str | None = None,
    eg_scripts: str | None = None,
) -> str:
    """Install a kernelspec for Enterprise Gateway (see :func:`enterprise_gateway_kernel_json`).

    For container proxies, ``eg_scripts`` is the ``scripts`` directory of EG's matching kernelspec
    (e.g. ``python_kubernetes/scripts`` from EG's kernelspecs tarball); it is copied next to kernel.json.
    Returns where the kernelspec went.
    """
    spec = enterprise_gateway_kernel_json(proxy, python=python, image=image, remote_hosts=remote_hosts)

    def fill(tmp: Path) -> None:
        if eg_scripts is not None:
            src = Path(eg_scripts)
            if not (src / EG_CONTAINER_SCRIPTS.get(proxy, "")).is_file():
                raise FileNotFoundError(f"{src} has no {EG_CONTAINER_SCRIPTS.get(proxy)} (EG's kernelspec scripts)")
            shutil.copytree(src, tmp / "scripts")

    return _install_spec(spec, name or f"{KERNEL_NAME}_{proxy.replace('-', '_')}", user=user, prefix=prefix, fill=fill)


def install(
    *, user: bool = False, prefix: str | None = None, name: str = KERNEL_NAME, python: str | None = None
) -> str:
    """Install the kernelspec and return where it went.

    With neither ``user`` nor ``prefix`` it goes to ``sys.prefix`` (the active environment).
    """
    return _install_spec(kernel_json(python), name, user=user, prefix=prefix)


def _install_spec(spec: dict[str, Any], name: str, *, user: bool, prefix: str | None,
                  fill: Any = None) -> str:
    from jupyter_client.kernelspec import KernelSpecManager

    if not user and prefix is None:
        prefix = sys.prefix
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "kernel.json").write_text(json.dumps(spec, indent=2))
        if fill is not None:
            fill(Path(tmp))
        return KernelSpecManager().install_kernel_spec(
            tmp, kernel_name=name, user=user, prefix=None if user else prefix
        )


def is_installed(name: str = KERNEL_NAME) -> bool:
    """Whether Jupyter can find a kernelspec called ``name``."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        return False
    return True
