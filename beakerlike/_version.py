"""Version of the beakerlike package."""

__version__ = "0.1.0"
