"""Exercises of the chapter "Local optima": how many random starts, and the area of a basin."""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from gaedu.ascent import ascend_many
from gaedu.exercises._feedback import _fail, _ok, _to_number
from gaedu.objectives import GaussianBumps

#: The multi-start exercise: the chance that one random start reaches the global maximum,
#: and the chance of success that k independent starts must reach together.
MULTISTART_P = 0.2
MULTISTART_TARGET = 0.99


def _multistart_success(k: int) -> float:
    return 1 - (1 - MULTISTART_P) ** k


def check_multistart_starts(answer: Any) -> None:
    """Check the fewest independent starts ``k`` with ``1 − (1 − MULTISTART_P)^k ≥ MULTISTART_TARGET``."""
    k = _to_number(answer, "one number of starts")
    if k != round(k):
        _fail("a number of starts is a whole number: round, in the direction that keeps the 0.99")
    k = int(round(k))
    if k < 1:
        _fail("at least one start is needed to reach anything")
    want = 1
    while _multistart_success(want) < MULTISTART_TARGET:  # counting up avoids round-off at an exact power
        want += 1
    if k == want:
        chance = _multistart_success(k)
        _ok(f"{k} starts reach the global maximum with probability {chance:.4f} ≥ {MULTISTART_TARGET}")
        return
    if k == math.ceil(math.log(1 - MULTISTART_TARGET) / math.log(MULTISTART_P)):
        _fail("that treats p as the chance that a start misses; p is the chance that it succeeds")
    if k < want:
        _fail(
            f"with {k} starts the chance of reaching the global maximum is only {_multistart_success(k):.4f}, "
            f"below the target {MULTISTART_TARGET}"
        )
    _fail(f"{k} starts are enough, but fewer are too: find the smallest k")


#: The basin-share exercise: a BASIN_GRID × BASIN_GRID grid of starts over GaussianBumps().bounds
#: (np.linspace, endpoints included), plain ascend_many with BASIN_LR for BASIN_STEPS steps, and a
#: start counts for a maximum when it ends within BASIN_RADIUS of it.
BASIN_GRID, BASIN_LR, BASIN_STEPS, BASIN_RADIUS = 21, 1.0, 800, 0.05


@functools.lru_cache(maxsize=1)
def _basin_shares() -> tuple[float, ...]:
    """Return the share of the exercise's grid that reaches each local maximum, highest maximum first."""
    bumps = GaussianBumps()
    xmin, xmax, ymin, ymax = bumps.bounds
    X, Y = np.meshgrid(np.linspace(xmin, xmax, BASIN_GRID), np.linspace(ymin, ymax, BASIN_GRID))
    ends = ascend_many(bumps, np.stack([X.ravel(), Y.ravel()], axis=1), BASIN_LR, BASIN_STEPS).points
    maxima, _ = bumps.local_maxima
    distance = np.linalg.norm(ends[:, None, :] - maxima[None, :, :], axis=-1)  # (n, 3)
    reached = np.where(distance.min(axis=1) <= BASIN_RADIUS, distance.argmin(axis=1), -1)
    return tuple(float(np.mean(reached == k)) for k in range(len(maxima)))


def check_basin_share(answer: Any) -> None:
    """Check the share of the exercise's grid of starts that ends at the lowest local maximum of ``GaussianBumps()``."""
    share = _to_number(answer, "one share between 0 and 1")
    shares, n = _basin_shares(), BASIN_GRID**2

    def close(a: float, b: float) -> bool:
        return abs(a - b) < 0.5 / n  # closer than one start of the grid

    if share > 1 and any(close(share / n, s) for s in shares):
        _fail("that is a number of starts; a share divides it by the number of starts on the grid")
    if share > 1 and any(close(share / 100, s) for s in shares):
        _fail("that is a percentage; give the share as a number between 0 and 1")
    if not 0 <= share <= 1:
        _fail("a share is a number between 0 and 1")
    if close(share, shares[-1]):
        _ok(f"{share:.4f}: {round(share * n)} of the {n} starts climb the lowest hill")
        return
    if close(share, shares[0]):
        _fail("that is the share of the global maximum; the lowest hill is the last of local_maxima")
    if close(share, shares[1]):
        _fail("that is the share of the middle hill; the lowest hill is the last of local_maxima")
    _fail("not the lowest hill's share: check the grid (linspace over the bounds), lr, num_steps and the radius")
