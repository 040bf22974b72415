"""Kernel launcher for Jupyter Enterprise Gateway's remote process proxies.

Enterprise Gateway (EG) does not start a remote kernel from a connection file it wrote.
It starts a *launcher* with ``--kernel-id``, ``--response-address`` and ``--public-key``
(``--RemoteProcessProxy.*`` in EG's own kernelspecs; ``KERNEL_ID``, ``RESPONSE_ADDRESS``,
``PUBLIC_KEY`` and ``PORT_RANGE`` in the environment of a Kubernetes/Docker kernel image),
and waits for the launcher to send back the kernel's connection information:

1. the launcher binds the kernel's five ZMQ ports (within ``--port-range`` if given) and a
   TCP *communication port* on which EG later sends ``{"signum": n}`` (interrupts, and polls
   with ``0``) and ``{"shutdown": 1}`` requests, one JSON object per connection;
2. it encrypts the connection info (plus ``pid``, ``pgid``, ``comm_port``, ``kernel_id``)
   with a fresh AES key (ECB, PKCS#7 padding) and that key with EG's RSA public key
   (PKCS#1 v1.5), and sends ``base64(json({"version": 1, "key", "conn_info"}))`` to the
   response address;
3. then it runs the kernel.

This module does the same for the beakerlike kernel, so the kernel gets beakerlike's kernel
app and its settings (deep iopub queue, unbounded shell pipes) rather than a plain
``IPKernelApp``. Written from EG's documentation of the launcher contract (its
``launch_ipykernel.py`` is the reference implementation). Needs ``pycryptodomex``
(``pip install 'beakerlike[gateway]'``)::

    python -m beakerlike.gateway.launcher --kernel-id ID --response-address IP:PORT --public-key KEY
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import random
import socket
import tempfile
import threading
from collections.abc import Sequence
from typing import Any

log = logging.getLogger("beakerlike.gateway")

#: Version of the connection-info payload this launcher sends (EG's "version 1").
PAYLOAD_VERSION = 1
PORT_NAMES = ("shell_port", "iopub_port", "stdin_port", "hb_port", "control_port")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command line, with EG's ``--RemoteProcessProxy.*`` spellings and environment fallbacks."""
    p = argparse.ArgumentParser(prog="python -m beakerlike.gateway.launcher", description=__doc__.splitlines()[0])

    def opt(name: str, env: str, help: str, default: str | None = None) -> None:
        p.add_argument(f"--{name}", f"--RemoteProcessProxy.{name}", dest=name.replace("-", "_"),
                       default=os.environ.get(env, os.environ.get(f"EG_{env}", default)), help=help)

    opt("kernel-id", "KERNEL_ID", "the kernel id EG assigned")
    opt("response-address", "RESPONSE_ADDRESS", "<ip>:<port> to send the connection info to")
    opt("public-key", "PUBLIC_KEY", "EG's RSA public key (base64 DER) to encrypt the connection info with")
    opt("port-range", "PORT_RANGE", "<lower>..<upper> for the kernel's ports (0..0: any)", "0..0")
    # Accepted for compatibility with EG's kernelspecs; beakerlike starts no Spark/Dask context.
    opt("spark-context-initialization-mode", "KERNEL_SPARK_CONTEXT_INIT_MODE", "ignored", "none")
    opt("cluster-type", "KERNEL_CLUSTER_TYPE", "ignored", "none")
    p.add_argument("--ip", default=os.environ.get("BEAKERLIKE_KERNEL_IP", "0.0.0.0"),  # noqa: S104
                   help="address the kernel binds (EG connects to the host's address; default all interfaces)")
    p.add_argument("connection_file", nargs="?", help="where to write the connection file (default: a temp file)")
    args = p.parse_args(argv)
    missing = [n for n in ("kernel_id", "response_address", "public_key") if not getattr(args, n)]
    if missing:
        p.error("missing " + ", ".join("--" + n.replace("_", "-") for n in missing))
    return args


def port_range(spec: str | None) -> tuple[int, int]:
    """``"lo..hi"`` -> ``(lo, hi)``; ``0..0`` (or empty) means any port."""
    if not spec:
        return 0, 0
    try:
        lo, hi = (int(x) for x in spec.split(".."))
    except ValueError:
        raise ValueError(f"port range must look like 40000..41000, not {spec!r}") from None
    if (lo, hi) != (0, 0) and not 0 < lo < hi <= 65535:
        raise ValueError(f"bad port range {spec!r}")
    return lo, hi


def bind_socket(ip: str, lo: int, hi: int, tries: int = 50) -> socket.socket:
    """A TCP socket bound to a free port in ``lo..hi`` (any port for ``0..0``)."""
    for _ in range(tries):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind((ip, 0 if hi == 0 else random.randint(lo, hi)))
            return sock
        except OSError:
            sock.close()
    raise RuntimeError(f"no free port in {lo}..{hi} after {tries} tries")


def encrypt(conn_info: dict[str, Any], public_key: str) -> bytes:
    """The version-1 payload EG's response manager decrypts."""
    from Cryptodome.Cipher import AES, PKCS1_v1_5
    from Cryptodome.PublicKey import RSA
    from Cryptodome.Random import get_random_bytes
    from Cryptodome.Util.Padding import pad

    aes_key = get_random_bytes(16)
    secret = AES.new(aes_key, AES.MODE_ECB).encrypt(pad(json.dumps(conn_info).encode(), 16))
    wrapped_key = PKCS1_v1_5.new(RSA.import_key(base64.b64decode(public_key))).encrypt(aes_key)
    payload = {"version": PAYLOAD_VERSION, "key": base64.b64encode(wrapped_key).decode(),
               "conn_info": base64.b64encode(secret).decode()}
    return base64.b64encode(json.dumps(payload).encode())


def send_connection_info(address: str, payload: bytes) -> None:
    """Send ``payload`` to EG's ``<ip>:<port>`` response address."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"response address must be <ip>:<port>, not {address!r}")
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(payload)


class Listener(threading.Thread):
    """Serves EG's requests on the communication port: signals to this process, shutdown."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__(name="beakerlike-eg-listener", daemon=True)
        self.sock = sock
        self.sock.listen(4)
        self.stopped = threading.Event()

    @property
    def port(self) -> int:
        """The communication port EG connects to."""
        return int(self.sock.getsockname()[1])

    def run(self) -> None:
        """Handle one JSON request per connection until ``{"shutdown": ...}``."""
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                data = b""
                try:
                    while chunk := conn.recv(4096):
                        data += chunk
                except OSError:
                    pass
            self.handle(data)
        self.sock.close()

    def handle(self, data: bytes) -> None:
        """Act on one request (bad ones are logged and ignored: EG sends nothing else)."""
        try:
            request = json.loads(data or b"{}")
            signum = int(request.get("signum", 0) or 0)
        except (ValueError, TypeError, AttributeError):
            log.warning("beakerlike launcher: ignoring bad request %r", data[:200])
            return
        if signum > 0:
            log.info("beakerlike launcher: signal %d from the gateway", signum)
            # SIGINT reaches the kernel's handler: it interrupts the cell and cancels running actions.
            os.kill(os.getpid(), signum)
        if request.get("shutdown"):
            self.stopped.set()


def main(argv: Sequence[str] | None = None) -> None:
    """Launch the beakerlike kernel for Enterprise Gateway."""
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"))
    args = parse_args(argv)
    lo, hi = port_range(args.port_range)

    # Ports: bound here (within the range), released just before the kernel binds them.
    held = [bind_socket(args.ip, lo, hi) for _ in PORT_NAMES]
    ports = {name: s.getsockname()[1] for name, s in zip(PORT_NAMES, held, strict=True)}
    listener = Listener(bind_socket(args.ip, lo, hi))
    for s in held:
        s.close()

    conn_file = args.connection_file
    if not conn_file or not os.path.isdir(os.path.dirname(os.path.abspath(conn_file))):
        fd, conn_file = tempfile.mkstemp(prefix=f"kernel-{args.kernel_id}-", suffix=".json")
        os.close(fd)
        os.unlink(conn_file)  # the kernel app writes it

    from ..kernel import BeakerlikeKernel
    from ..kernelapp import BeakerlikeKernelApp

    app = BeakerlikeKernelApp.instance(kernel_class=BeakerlikeKernel, connection_file=conn_file, ip=args.ip,
                                       **ports)
    app.initialize([])
    info = {name: getattr(app, name) for name in PORT_NAMES}
    info.update(ip=args.ip, transport=app.transport, signature_scheme=app.session.signature_scheme,
                key=app.session.key.decode(), kernel_name="beakerlike")
    pid = os.getpid()
    info.update(pid=pid, pgid=os.getpgid(pid), comm_port=listener.port, kernel_id=args.kernel_id)
    listener.start()
    send_connection_info(args.response_address, encrypt(info, args.public_key))
    try:
        app.start()
    finally:
        try:
            os.remove(conn_file)
        except OSError:
            pass


if __name__ == "__main__":
    main()
