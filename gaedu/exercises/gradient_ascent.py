"""Exercises of the chapter "Gradient ascent": one step with autograd and the largest stable learning rate."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from gaedu.exercises._feedback import _call, _fail, _ok, _to_array, _to_number
from gaedu.objectives import ConcaveQuadratic, CurvedRidge, GaussianBumps
from gaedu.optim import GradientAscent


def _step_objectives() -> list[tuple[Callable[[torch.Tensor], torch.Tensor], list[float]]]:
    return [
        (ConcaveQuadratic(condition_number=5.0, angle=0.4), [1.0, -0.5]),
        (GaussianBumps(), [0.3, -0.2]),
        (CurvedRidge(), [-1.0, 1.5]),
    ]


def check_ascent_step(ascent_step: Callable[[Callable, torch.Tensor, float], Any]) -> None:
    """Check ``ascent_step(objective, theta, lr)``: one gradient-ascent step from ``theta``, as a new tensor."""
    for objective, start in _step_objectives():
        for lr in (0.05, 0.2):
            theta = torch.tensor(start, dtype=torch.float64)
            out = _call(ascent_step, objective, theta.clone(), lr)
            new = _to_array(out, "the new theta (2 numbers)").reshape(-1)
            if new.size != 2:
                _fail(f"the new theta should have 2 numbers, like theta; got {new.size}")
            reference = theta.clone().requires_grad_(True)
            optimizer = GradientAscent([reference], lr=lr)
            objective(reference).backward()
            optimizer.step()
            want = reference.detach().numpy()
            if np.allclose(new, want, atol=1e-9):
                continue
            if np.allclose(new, start, atol=1e-12):
                _fail("theta did not move: return the point after the step, not the point it starts from")
            if np.allclose(new, 2 * np.asarray(start) - want, atol=1e-9):
                _fail("your step goes downhill: it lowers the objective, and an ascent step must raise it")
            _fail(f"on {objective.name} with lr = {lr} your step lands elsewhere than GradientAscent's")
    _ok("your step is exactly GradientAscent's step")


def stability_quadratic() -> ConcaveQuadratic:
    """The quadratic of the learning-rate exercise: condition number 8, smallest curvature 0.5, turned by 0.3 rad."""
    return ConcaveQuadratic(condition_number=8.0, curvature=0.5, angle=0.3)


def check_max_stable_lr(answer: Any) -> None:
    """Check the largest learning rate for which ascent on ``stability_quadratic()`` still converges (the supremum)."""
    lr = _to_number(answer, "one learning rate")
    small, large = np.sort(stability_quadratic().eigenvalues)
    if math.isclose(lr, 2 / large, rel_tol=1e-3):
        _ok(f"η < {lr:g} = 2/λ_max: above it the steep direction overshoots more every step")
        return
    if math.isclose(lr, 2 / small, rel_tol=1e-3):
        _fail("that keeps the flat direction stable, but along the steep direction the error then grows")
    if math.isclose(lr, 1 / large, rel_tol=1e-3):
        _fail("with that rate the steep direction converges without oscillating; larger rates can still converge")
    if lr > 2 / large:
        _fail("ascent with that learning rate diverges: along some direction each step overshoots more than the last")
    _fail(
        "ascent still converges a little above that rate: the limit comes from the most curved direction, "
        "the first one where a step overshoots so far that the error stops shrinking"
    )
