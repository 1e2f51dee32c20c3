"""Exercises of the chapter "Core concepts": descent on a negated objective and a supergradient at a kink."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from gaedu.exercises._feedback import _call, _fail, _ok, _scalar_output, _to_number


def bowl_objective(theta: torch.Tensor) -> torch.Tensor:
    r"""The core-concepts chapter's objective :math:`J(\theta) = 1 - (\theta - 2)^2`."""
    return 1 - (theta - 2) ** 2


def check_negated_objective(loss: Callable[[torch.Tensor], Any]) -> None:
    """Check a ``loss(theta)`` whose gradient descent retraces gradient ascent on ``bowl_objective``."""
    for value in (-3.0, -0.5, 0.0, 1.25, 2.0, 4.5):
        theta = torch.tensor(value, dtype=torch.float64, requires_grad=True)
        out = _scalar_output(_call(loss, theta), "your loss", source="theta")
        (grad,) = torch.autograd.grad(out, theta)
        want = 2 * (value - 2)  # the slope that descent needs: the slope of −J(θ) = (θ − 2)² − 1
        if not math.isfinite(float(grad)):
            _fail(f"the gradient at theta = {value} is not finite")
        if abs(float(grad) - want) > 1e-6:
            if abs(float(grad) + want) < 1e-6:
                _fail("this has the slope of J itself: descending on it walks downhill on J, away from its maximum")
            _fail(
                f"at theta = {value} your loss has slope {float(grad):.4g}; there a descent step on it "
                "must move theta exactly as an ascent step on J does"
            )
    _ok("descent on your loss takes exactly the steps of ascent on J")


def check_supergradient(answer: Any) -> None:
    r"""Check a supergradient of :math:`f(x) = -|x|` at the kink :math:`x = 0`."""
    g = _to_number(answer, "one number (a slope)")
    if abs(g) <= 1 + 1e-12:
        _ok(f"g = {g:g} works: the line y = g·x stays on or above −|x| everywhere")
        return
    side = "right" if g < 0 else "left"
    _fail(
        f"with slope {g:g} the line through the kink falls below the graph of −|x| on the {side}; "
        "a supergradient's line must stay on or above the graph on both sides"
    )
