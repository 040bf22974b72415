"""``python -m beakerlike``: the command-line interface."""

from .cli import main

main()
