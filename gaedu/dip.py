"""Moved to :mod:`gaedu.restoration.dip`: this alias warns, forwards every name, and goes in gaedu 0.2."""

from gaedu._moved import forward

__getattr__, __dir__ = forward(__name__, "gaedu.restoration.dip")
