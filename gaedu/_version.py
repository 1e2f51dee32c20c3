"""The package's version: one place, at the bottom layer (the model cache's keys include it)."""

__version__ = "0.1.0"
