"""Exercises of the chapter "Subgradient ascent": a supergradient on a kink line and the bounce of a constant step."""

from __future__ import annotations

from typing import Any

import numpy as np

from gaedu.ascent import ascend
from gaedu.exercises._feedback import _fail, _ok, _to_array
from gaedu.objectives import PiecewiseLinear


def kink_objective() -> PiecewiseLinear:
    """The function of the supergradient exercise, ``PiecewiseLinear(weights=(1, 2), centre=(0.5, -0.5))``."""
    return PiecewiseLinear(weights=(1.0, 2.0), centre=(0.5, -0.5))


KINK_POINT = (0.5, 1.0)


def check_supergradient_at_kink(answer: Any) -> None:
    """Check a supergradient of ``kink_objective()`` at ``KINK_POINT``, shape ``(2,)``."""
    g = _to_array(answer, "a supergradient (2 numbers)").reshape(-1)
    if g.size != 2:
        _fail(f"a supergradient has one number per coordinate, 2 here; got {g.size}")
    low, high = kink_objective().superdifferential(KINK_POINT)
    inside = (g >= low - 1e-12) & (g <= high + 1e-12)
    if inside.all():
        _ok(f"g = {g.tolist()} is a supergradient: J(y) ≤ J(x) + g·(y − x) for every y")
        return
    if not inside[1]:
        _fail("coordinate 2 is away from its kink, so there the only choice is the ordinary partial derivative")
    _fail("coordinate 1 sits exactly on its kink: any slope between its two one-sided slopes works, yours does not")


BAND_START, BAND_LR = 0.35, 0.1


def check_constant_step_band(answer: Any) -> None:
    """Check the two points between which constant-step subgradient ascent on ``−|x|`` ends up bouncing."""
    points = np.sort(_to_array(answer, "two numbers").reshape(-1))
    if points.size != 2:
        _fail(f"two points were expected, got {points.size}")
    trajectory = ascend(lambda x: -x.abs().sum(), [BAND_START], lr=BAND_LR, num_steps=50)
    want = np.sort(np.unique(np.round(trajectory.points[-4:, 0], 12)))
    if np.allclose(points, want, atol=1e-9):
        _ok(f"the iterates bounce between {want[0]:g} and {want[1]:g} forever: a band of width {want[1] - want[0]:g} = η")
        return
    _fail("not the two points of the final bounce: follow the first few steps by hand (each moves by exactly η)")
