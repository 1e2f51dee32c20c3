"""Exercises of the chapter "Subgradient ascent": a supergradient on a kink line and the bounce of a constant step."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from gaedu.ascent import ascend
from gaedu.exercises._feedback import _call, _fail, _ok, _scalar_output, _to_array
from gaedu.objectives import ConcaveQuadratic, PiecewiseLinear


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


#: The exponents of the schedule exercise, η_t = a / (t + 1)^p.
SCHEDULE_POWERS = (0.25, 0.5, 0.6, 0.75, 1.0, 1.5, 2.0)


def check_schedule_powers(answer: Any) -> None:
    """Check, for each p of :data:`SCHEDULE_POWERS`, whether a/(t + 1)^p meets both conditions (``True``/``False``).

    The conditions are :math:`\\sum_t \\eta_t = \\infty` and :math:`\\sum_t \\eta_t^2 < \\infty`.
    """
    if isinstance(answer, (str, bytes)) or not hasattr(answer, "__len__"):
        _fail(f"a list of {len(SCHEDULE_POWERS)} True/False values was expected, one per p of SCHEDULE_POWERS")
    given = list(answer)
    if len(given) != len(SCHEDULE_POWERS) or not all(isinstance(v, (bool, np.bool_)) for v in given):
        _fail(f"a list of {len(SCHEDULE_POWERS)} True/False values was expected, one per p of SCHEDULE_POWERS")
    for p, allowed in zip(SCHEDULE_POWERS, given, strict=True):
        diverges = p <= 1  # Σ (t + 1)^−p = ∞
        squares_converge = 2 * p > 1  # Σ (t + 1)^−2p < ∞
        if bool(allowed) != (diverges and squares_converge):
            which = "the sum of the steps" if bool(allowed) and not diverges else "the sum of their squares"
            if not bool(allowed):
                which = "both sums"
            _fail(f"p = {p:g} is misjudged: check {which} again with the p-series Σ 1/t^q")
    _ok("right: both conditions hold exactly for the p with 1/2 < p ≤ 1")


def check_stalling_tent(tent: Any) -> None:
    """Check a ``tent(x)`` equal to min(x, 2 − x) from which ``ascend`` started at exactly 0 never moves.

    ``x`` is a float64 tensor of shape ``(1,)``; ``tent(x)`` returns a scalar tensor.
    """
    import torch

    if not callable(tent):
        _fail("a function tent(x) was expected")
    for value in (-2.0, -0.5, 0.0, 0.25, 1.0, 1.5, 3.0):
        x = torch.tensor([value], dtype=torch.float64, requires_grad=True)
        out = _scalar_output(_call(tent, x), "your function", source="x")
        if not math.isclose(out.item(), min(value, 2 - value), abs_tol=1e-9):
            _fail(f"at x = {value:g} your function gives {out.item():.4g}, not min(x, 2 − x)")
    x = torch.tensor([0.0], dtype=torch.float64, requires_grad=True)
    (slope,) = torch.autograd.grad(_scalar_output(_call(tent, x), "your function", source="x"), x)
    if float(slope) != 0.0:
        _fail(f"autograd gives slope {float(slope):g} at x = 0, so ascent climbs from there: build the function "
              "so that autograd's choices at the kink cancel")  # fmt: skip
    stuck = ascend(tent, [0.0], lr=0.1, num_steps=100, tol=1e-12)
    moving = ascend(tent, [1e-9], lr=0.1, num_steps=100, tol=1e-12)
    _ok(f"from 0 ascend reports {stuck.status!r} at J = {stuck.best_value:g}, from 1e-9 it climbs to "
        f"{moving.best_value:.3f}: autograd's 0 at a shared kink is not a supergradient")  # fmt: skip


def _polyak_cases() -> list[tuple[Any, list[float]]]:
    kink = kink_objective()
    return [
        (kink, [2.0, 1.0]),
        (kink, [0.5, 1.0]),  # on the kink line x₁ = 0.5: autograd's slope there is 0
        (kink, [-1.0, -0.2]),
        (kink, [0.5, -0.5]),  # the maximizer itself: the step must stay put
        (ConcaveQuadratic(condition_number=4.0, angle=0.3, centre=(0.2, -0.1)), [1.5, 1.0]),
    ]


#: Start and length of the run that the Polyak-step checker replays with the student's step.
POLYAK_START, POLYAK_STEPS = (2.0, 1.0), 30


def _reference_polyak(objective: Any, x: torch.Tensor, max_value: float) -> torch.Tensor:
    point = x.clone().requires_grad_(True)
    value = objective(point)
    (grad,) = torch.autograd.grad(value, point)
    gap, norm2 = max_value - value.item(), float(grad.pow(2).sum())
    return x.clone() if gap <= 0 or norm2 == 0 else x + gap / norm2 * grad


def check_polyak_step(polyak_step: Any) -> None:
    """Check ``polyak_step(objective, x, max_value)``: x + (J* − J(x)) / ‖g‖² · g, and x itself at the top.

    Then replay :data:`POLYAK_STEPS` steps on ``kink_objective()`` from :data:`POLYAK_START`
    and confirm what the proof says: the distance to the maximizer never grows.
    """
    for objective, start in _polyak_cases():
        x = torch.tensor(start, dtype=torch.float64)
        out = _call(polyak_step, objective, x.clone(), objective.max_value)
        top = np.allclose(start, objective.maximizer)
        if top and isinstance(out, (torch.Tensor, np.ndarray)) and not np.all(np.isfinite(np.asarray(out, dtype=float))):
            _fail("at the maximizer the gap is 0 and the step must leave x where it is (and not divide 0 by 0)")
        new = _to_array(out, "the new x (2 numbers)").reshape(-1)
        if new.size != 2:
            _fail(f"the new x should have 2 numbers, like x; got {new.size}")
        want = _reference_polyak(objective, x, objective.max_value).numpy()
        if np.allclose(new, want, atol=1e-9):
            continue
        if top:
            _fail("at the maximizer the gap is 0 and the step must leave x where it is (and not divide 0 by 0)")
        back = 2 * x.numpy() - want
        if np.allclose(new, back, atol=1e-9):
            _fail("your step goes downhill: move along the supergradient g, not against it")
        point = x.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(objective(point), point)
        gap, norm = objective.max_value - float(objective(x)), float(grad.norm())
        if norm > 0 and np.allclose(new, x.numpy() + gap / norm * grad.numpy(), atol=1e-9):
            _fail("the step length is J* − J(x) divided by ‖g‖ squared, not by ‖g‖")
        _fail(f"on {objective.name} from {start} your step lands elsewhere than x + (J* − J(x)) / ‖g‖² · g")
    objective = kink_objective()
    x, distances = torch.tensor(POLYAK_START, dtype=torch.float64), []
    for _ in range(POLYAK_STEPS):
        distances.append(float(np.linalg.norm(x.numpy() - objective.maximizer)))
        x = torch.as_tensor(_to_array(_call(polyak_step, objective, x, objective.max_value), "the new x"))
    distances.append(float(np.linalg.norm(x.numpy() - objective.maximizer)))
    if any(b > a + 1e-12 for a, b in zip(distances, distances[1:], strict=False)):
        _fail("in the replayed run the distance to the maximizer grew at some step, which the proof rules out")
    _ok(f"Polyak's step: over {POLYAK_STEPS} steps the distance to the maximizer fell from {distances[0]:.3f} "
        f"to {distances[-1]:.2e} and never grew")  # fmt: skip
