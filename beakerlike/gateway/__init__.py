"""Running the beakerlike kernel under Jupyter Enterprise Gateway (see docs/deploy.md).

:mod:`beakerlike.gateway.launcher` is the kernel launcher EG's remote process proxies
(distributed/ssh, Kubernetes, Docker) start instead of EG's ``launch_ipykernel.py``.
"""
