"""The aliases a moved module leaves behind: they warn once on import and forward every name."""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from typing import Any


def forward(old: str, new: str) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Warn that module ``old`` moved to ``new``; return the ``__getattr__`` and ``__dir__`` that forward to it.

    Usage, as the whole body of the old module::

        __getattr__, __dir__ = forward(__name__, "gaedu.restoration.dip")
    """
    moved = importlib.import_module(new)
    warnings.warn(f"{old} moved to {new}; import it from there (this alias goes in gaedu 0.2)", DeprecationWarning,
                  stacklevel=3)  # fmt: skip

    def getattr_(name: str) -> Any:
        return getattr(moved, name)

    def dir_() -> list[str]:
        return dir(moved)

    return getattr_, dir_
