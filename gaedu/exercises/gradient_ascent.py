"""Exercises of the chapter "Gradient ascent": one step with autograd and the largest stable learning rate."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from gaedu.ascent import ascend
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


#: The learning rates of the best-rate exercise: 0.100, 0.105, …, 0.195 (below 2/L = 0.2).
BEST_LR_GRID = tuple(round(0.1 + 0.005 * k, 3) for k in range(20))
#: The start of the learning-rate and momentum exercises (the chapter's ``start``).
EXERCISE_START = (-1.5, 1.5)
#: The momentum values of the momentum exercise.
MOMENTUM_VALUES = (0.0, 0.3, 0.5, 0.7, 0.9)


def _steps_to_converge(objective: ConcaveQuadratic, lr: float, num_steps: int, momentum: float = 0.0) -> int:
    return ascend(objective, EXERCISE_START, lr, num_steps, momentum=momentum, tol=1e-6).steps_taken


def check_best_constant_lr(answer: Any) -> None:
    """Check the rate of :data:`BEST_LR_GRID` that needs the fewest steps on ``ConcaveQuadratic(10, angle=0.5)``.

    The run is ``ascend(q10, EXERCISE_START, lr, 1000, tol=1e-6)``, as the exercise says.
    """
    lr = _to_number(answer, "one learning rate")
    q10 = ConcaveQuadratic(condition_number=10, angle=0.5)
    steps = {rate: _steps_to_converge(q10, rate, 1000) for rate in BEST_LR_GRID}
    fewest = min(steps.values())
    matches = [rate for rate in BEST_LR_GRID if math.isclose(lr, rate, abs_tol=1e-6)]
    star = 2 / float(np.sum(q10.eigenvalues))
    if not matches:
        if math.isclose(lr, star, rel_tol=1e-3):
            _fail("that is the rate the theory picks for the worst start; the exercise asks which rate of the "
                  "grid wins in the experiment: count the steps for each rate of BEST_LR_GRID")  # fmt: skip
        _fail("answer with one of the rates of the grid, BEST_LR_GRID (0.100, 0.105, …, 0.195)")
    rate = matches[0]
    if steps[rate] == fewest:
        _ok(f"lr = {rate:g} needs {fewest} steps, the fewest in the grid; η* = 2/(λ_min + λ_max) = {star:.4f} "
            "minimizes the worst case over all starts, not the count from this one")  # fmt: skip
        return
    winner = min(steps, key=steps.get)
    if rate > winner:
        _fail(f"with lr = {rate:g} ascend needs {steps[rate]} steps: the steep direction overshoots and rings; "
              "a smaller rate of the grid needs fewer")  # fmt: skip
    _fail(f"with lr = {rate:g} ascend needs {steps[rate]} steps; a larger rate of the grid needs fewer")


def check_momentum_steps(answer: Any) -> None:
    """Check the step counts of heavy-ball ascent on ``q20``: a dict ``{μ: steps}`` for every μ of :data:`MOMENTUM_VALUES`.

    The run is ``ascend(q20, EXERCISE_START, 1 / 20, 2000, momentum=μ, tol=1e-6)`` on
    ``q20 = ConcaveQuadratic(condition_number=20, angle=0.5)``.
    """
    if not isinstance(answer, dict):
        _fail(f"a dict {{momentum: steps}} was expected, not a {type(answer).__name__}")
    given = {}
    for key, value in answer.items():
        mu = _to_number(key, "a momentum value as each key")
        given[round(mu, 6)] = _to_number(value, "a step count as each value")
    missing = [mu for mu in MOMENTUM_VALUES if round(mu, 6) not in given]
    if missing:
        _fail(f"give the step count for every momentum of MOMENTUM_VALUES; missing: {missing}")
    q20 = ConcaveQuadratic(condition_number=20, angle=0.5)
    counts = {mu: _steps_to_converge(q20, 1 / 20, 2000, momentum=mu) for mu in MOMENTUM_VALUES}
    for mu in MOMENTUM_VALUES:
        if given[round(mu, 6)] != counts[mu]:
            _fail(f"for momentum {mu} your count is not what ascend reports: run it on q20 from the chapter's "
                  "start with lr = 1/20, at most 2000 steps and tol=1e-6, and read steps_taken")  # fmt: skip
    best = min(counts, key=counts.get)
    _ok(f"the counts are right: μ = {best} needs the fewest steps ({counts[best]}), and more momentum than "
        "that swings around the maximum and needs more")  # fmt: skip


def check_overshoot_rates(answer: Any) -> None:
    """Check ``(largest rate with a gain, rate of the largest gain)`` for one step from (0, 1) along g = (2, −4).

    The objective is the chapter's running example, J(θ) = −½ θᵀAθ + bᵀθ with
    A = [[2, 1], [1, 4]] and b = (3, 0); its gradient at (0, 1) is g.
    """
    values = _to_array(answer, "two learning rates: the largest with a gain and the best").reshape(-1)
    if values.size != 2:
        _fail(f"two learning rates were expected (the largest with a gain, then the best); got {values.size}")
    g = np.array([2.0, -4.0])
    A = np.array([[2.0, 1.0], [1.0, 4.0]])
    gain = lambda lr: lr * (g @ g) - 0.5 * lr**2 * (g @ A @ g)  # noqa: E731  J(θ0 + ηg) − J(θ0)
    break_even, best = 2 * (g @ g) / (g @ A @ g), (g @ g) / (g @ A @ g)
    largest, peak = values
    if math.isclose(largest, best, rel_tol=1e-3) and math.isclose(peak, break_even, rel_tol=1e-3):
        _fail("the two rates are in the wrong order: the largest rate with a gain comes first")
    eigen = np.linalg.eigvalsh(A)
    if any(math.isclose(largest, c / eigen.max(), rel_tol=1e-3) for c in (1, 2)):
        _fail("that is a rate that works for every step at once; this question is about this one step along g")
    if not math.isclose(largest, break_even, rel_tol=1e-3):
        _fail(f"at lr = {largest:.4g} the step changes J by {gain(largest):.3g}, not by 0: find where the gain, "
              "a parabola in η, comes back to zero")  # fmt: skip
    if not math.isclose(peak, best, rel_tol=1e-3):
        _fail(f"at lr = {peak:.4g} the gain is {gain(peak):.4g}; a nearby rate gains more: find the vertex of "
              "the parabola")  # fmt: skip
    _ok(f"every rate in (0, {break_even:.4f}) raises J and {best:.4f} raises it most: exact line search along g")


#: The reduction of the gap J* − J asked for in the proof exercise on the ascent lemma.
LEMMA_REDUCTION = 1e-6


def _lemma_bound_steps() -> int:
    """The steps the ascent-lemma bound guarantees on ``stability_quadratic()`` for a gap reduced by ``LEMMA_REDUCTION``.

    With η = 1/L the lemma and strong concavity give ``J* − J(θ_t) ≤ (1 − μ/L)^t (J* − J(θ_0))``;
    this is the smallest ``t`` that makes the factor at most :data:`LEMMA_REDUCTION`.
    """
    mu, big_l = np.sort(stability_quadratic().eigenvalues)
    return math.ceil(math.log(LEMMA_REDUCTION) / math.log(1 - mu / big_l))


def check_lemma_steps(answer: Any) -> None:
    """Check the number of steps that the ascent lemma's linear rate guarantees on ``stability_quadratic()``."""
    steps = _to_number(answer, "one number of steps")
    mu, big_l = np.sort(stability_quadratic().eigenvalues)
    want = _lemma_bound_steps()
    if steps == want:
        _ok(f"{want} steps: a bound for every μ-strongly concave, L-smooth function, not only for quadratics")
        return
    exact = math.ceil(math.log(LEMMA_REDUCTION) / (2 * math.log(1 - mu / big_l)))
    if steps == exact:
        _fail("that is what the quadratic's exact eigenvalue analysis guarantees for the gap; the lemma's proof "
              "gives a weaker factor per step, and the exercise asks what that weaker bound guarantees")  # fmt: skip
    if steps == math.ceil(big_l / mu * math.log(1 / LEMMA_REDUCTION)):
        _fail("you used −ln(1 − x) ≈ x: that gives a safe but larger number; take the exact logarithm")
    if steps == want - 1:
        _fail("one step short: after that many steps the factor is still just above the reduction; round up")
    if steps != round(steps) or steps < 0:
        _fail("a number of steps is a whole number, at least 0")
    _fail("not the smallest number of steps after which the proved factor per step, compounded, reaches the "
          "reduction: find μ and L from the Hessian's eigenvalues")  # fmt: skip
