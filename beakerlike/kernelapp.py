"""Launch the beakerlike kernel: ``python -m beakerlike.kernelapp -f {connection_file}``."""

from __future__ import annotations


def main() -> None:
    """Start an IPKernelApp whose kernel class is :class:`BeakerlikeKernel`."""
    from ipykernel.kernelapp import IPKernelApp

    from .kernel import BeakerlikeKernel

    IPKernelApp.launch_instance(kernel_class=BeakerlikeKernel)


if __name__ == "__main__":
    main()
