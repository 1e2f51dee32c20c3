"""The one set of argument checks every module uses.

Each check returns the value in a plain Python type or raises ``ValueError`` with
one line naming the argument, what it must be and what it got. A wrong *type*
raises ``ValueError`` too, so that one ``except ValueError`` (the command line's,
a notebook's) catches every bad input. ``bool`` is never a number here
(``True`` is not a learning rate), NaN and infinities are never accepted, and
NumPy scalars are accepted wherever Python ones are.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import torch


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_int(name: str, value: Any, *, minimum: int | None = 1, maximum: int | None = None) -> int:
    """Return ``value`` as an ``int`` after checking it is an integer in ``[minimum, maximum]``.

    ``minimum=None`` or ``maximum=None`` leaves that side open. Accepts NumPy integers; refuses ``bool``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        bounds = (
            f"from {minimum} to {maximum}" if minimum is not None and maximum is not None
            else f">= {minimum}" if minimum is not None else f"<= {maximum}"
        )  # fmt: skip
        raise ValueError(f"{name} must be an integer {bounds}, got {value}")
    return value


def check_number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a finite ``float`` after checking it lies between ``low`` and ``high``.

    ``low_open``/``high_open`` exclude the bound itself (``low=0, low_open=True`` means ``> 0``).
    A 0-d tensor or NumPy scalar is accepted; ``bool``, NaN and infinities are refused.
    """
    if isinstance(value, torch.Tensor) and value.ndim == 0 and value.dtype != torch.bool:
        value = value.item()
    try:
        finite = _is_real(value) and math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        finite = False
    if not finite:
        raise ValueError(f"{name} must be a finite number, got {type(value).__name__} {value!r}")
    value = float(value)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        parts = []
        if low is not None:
            parts.append(f"{'>' if low_open else '>='} {low:g}")
        if high is not None:
            parts.append(f"{'<' if high_open else '<='} {high:g}")
        raise ValueError(f"{name} must be a finite number {' and '.join(parts)}, got {value:g}")
    return value


def check_positive(name: str, value: Any) -> float:
    """Return ``value`` as a float after checking it is a finite number ``> 0``."""
    return check_number(name, value, low=0.0, low_open=True)


def check_nonnegative(name: str, value: Any) -> float:
    """Return ``value`` as a float after checking it is a finite number ``>= 0``."""
    return check_number(name, value, low=0.0)


def check_fraction(name: str, value: Any, *, high_open: bool = True) -> float:
    """Return ``value`` after checking it lies in ``[0, 1)`` (or ``[0, 1]`` with ``high_open=False``)."""
    return check_number(name, value, low=0.0, high=1.0, high_open=high_open)


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """Return ``value`` after checking it is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def check_images(
    images: Any, name: str = "images", *, shape: tuple[int, ...] | None = None, range01: bool = True
) -> torch.Tensor:
    """Return ``images`` unchanged after checking it is a non-empty floating-point ``(N, C, H, W)`` tensor.

    Args:
        images: the tensor to check.
        name: how the error message calls it.
        shape: the required ``(C, H, W)`` of one image (``None``: any).
        range01: also require every value to lie in ``[0, 1]``.

    Raises:
        ValueError: one line saying what is wrong.
    """
    if not isinstance(images, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(images).__name__}")
    wanted = "(N, " + ", ".join(map(str, shape)) + ")" if shape is not None else "(N, C, H, W)"
    if images.ndim != 4 or len(images) == 0 or (shape is not None and tuple(images.shape[1:]) != tuple(shape)):
        raise ValueError(f"{name} must have shape {wanted} with N >= 1, got {tuple(images.shape)}")
    if not images.is_floating_point():
        raise ValueError(f"{name} must be floating point, got {images.dtype}")
    if not torch.isfinite(images).all():
        raise ValueError(f"{name}: NaN or infinite values are not allowed")
    if range01 and (images.min() < 0 or images.max() > 1):
        low, high = images.min().item(), images.max().item()
        raise ValueError(f"{name} must lie in [0, 1], got values from {low:.3g} to {high:.3g}")
    return images


def check_sizes(name: str, value: Any, *, length: int | None = None, minimum: int = 1) -> tuple[int, ...]:
    """Return ``value`` as a tuple of ints after checking it is a non-empty tuple or list of sizes (of ``length`` if given)."""
    if not isinstance(value, (tuple, list)) or not value or (length is not None and len(value) != length):
        what = f"{length} sizes" if length is not None else "a non-empty tuple of sizes"
        raise ValueError(f"{name} must be {what}, got {value!r}")
    return tuple(check_int(name, size, minimum=minimum) for size in value)


def set_checked(config: Any, name: str, check: Callable[..., Any], **bounds: Any) -> None:
    """Check the field ``name`` of a (frozen) dataclass with ``check(name, value, **bounds)`` and store what it returns.

    The one way a config validates itself in ``__post_init__``: every field comes out as the
    plain Python type the check returns (a NumPy integer becomes an ``int``), so the config's
    ``to_dict`` (and the model cache's key) does not depend on how it was written.
    """
    object.__setattr__(config, name, check(name, getattr(config, name), **bounds))
