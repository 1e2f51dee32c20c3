"""Exercises of the chapter "Ascent in practice": a projected step, the minibatch error, a Newton step."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from gaedu.data import load_digits
from gaedu.exercises._feedback import _call, _fail, _ok, _to_array, _to_number
from gaedu.objectives import ConcaveQuadratic, CurvedRidge, GaussianBumps

BOX = (0.0, 1.0)  # the box [0, 1]² of the projected-step exercise
MINIBATCH_SIZE = 32  # the batch of the minibatch-error exercise


def _projection_cases() -> list[tuple[Callable[[torch.Tensor], torch.Tensor], list[float], float]]:
    return [
        (ConcaveQuadratic(condition_number=5.0, angle=0.6, centre=(1.6, 0.5)), [0.9, 0.2], 0.15),
        (ConcaveQuadratic(condition_number=5.0, angle=0.6, centre=(1.6, 0.5)), [0.5, 0.5], 0.05),
        (ConcaveQuadratic(condition_number=2.0, angle=-0.3, centre=(-0.4, 0.3)), [0.1, 0.9], 0.4),
        (GaussianBumps(), [0.3, 0.7], 0.5),
    ]


def check_projected_step(projected_step: Callable[[Callable, torch.Tensor, float], Any]) -> None:
    """Check ``projected_step(objective, theta, lr)``: one ascent step, then back into the box ``BOX`` (as a new tensor)."""
    low, high = BOX
    for objective, start, lr in _projection_cases():
        theta = torch.tensor(start, dtype=torch.float64)
        new = _to_array(_call(projected_step, objective, theta.clone(), lr), "the new theta (2 numbers)").reshape(-1)
        if new.size != 2:
            _fail(f"the new theta should have 2 numbers, like theta; got {new.size}")
        point = theta.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(objective(point), point)
        free = (theta + lr * grad).numpy()
        want = np.clip(free, low, high)
        if np.allclose(new, want, atol=1e-9):
            continue
        if np.any(new < low - 1e-12) or np.any(new > high + 1e-12):
            _fail(f"on {objective.name} your point leaves the box [{low:g}, {high:g}]²: bring it back after the step")
        if np.allclose(new, free, atol=1e-9):
            _fail("that is a plain ascent step: here it leaves the box, so it must be brought back")
        if np.allclose(new, np.clip(2 * theta.numpy() - free, low, high), atol=1e-9):
            _fail("your step goes downhill: it lowers the objective, and an ascent step must raise it")
        _fail(f"on {objective.name} with lr = {lr} your point is inside the box but not the nearest one to the ascent step")
    _ok("your step is projected gradient ascent: the ascent step, then the nearest point of the box")


def minibatch_problem() -> tuple[torch.Tensor, torch.Tensor]:
    """The per-example gradients of the minibatch exercise: softmax regression on the training digits at zero weights.

    Returns ``(G, full)``: ``G`` is ``(n, 650)``, one flattened gradient per training digit of the
    log-likelihood :math:`\\log p_W(y_i \\mid x_i)` with respect to ``W`` (65 × 10, bias included),
    and ``full`` is their mean, the gradient of :math:`J`.
    """
    x, y = load_digits("train")
    X = torch.cat([x.flatten(1), torch.ones(len(x), 1)], dim=1).double()  # (n, 65)
    Y = torch.nn.functional.one_hot(y, 10).double()
    P = torch.full_like(Y, 0.1)  # the softmax of zero weights
    G = torch.einsum("ni,nk->nik", X, Y - P).reshape(len(X), -1)
    return G, G.mean(dim=0)


def check_minibatch_mse(answer: Any) -> None:
    """Check the exact mean squared error E‖g_B − ∇J‖² of a minibatch gradient, B = ``MINIBATCH_SIZE``, drawn with replacement."""
    value = _to_number(answer, "one number, the expected squared error")
    G, full = minibatch_problem()
    trace = float(((G - full) ** 2).sum(dim=1).mean())
    want = trace / MINIBATCH_SIZE
    if math.isclose(value, want, rel_tol=1e-3):
        _ok(f"E‖g_B − ∇J‖² = {value:.4g}: the noise power falls like 1/B")
        return
    if math.isclose(value, trace, rel_tol=1e-3):
        _fail("that is the error of a single example's gradient; a batch averages several independent ones")
    if math.isclose(value, math.sqrt(want), rel_tol=1e-3) or math.isclose(value, math.sqrt(trace), rel_tol=1e-3):
        _fail("that is a length; the question asks for the mean of the squared length")
    if math.isclose(value, float((G**2).sum(dim=1).mean()) / MINIBATCH_SIZE, rel_tol=1e-3):
        _fail("that measures each gradient from zero; measure it from the full gradient, its mean")
    if math.isclose(value, trace / MINIBATCH_SIZE**2, rel_tol=1e-3):
        _fail("too small: averaging B independent terms divides their variance by less than that")
    _fail("not the expected squared error: write g_B as an average of B independent draws and expand the square")


def _newton_cases() -> list[tuple[Callable[[torch.Tensor], torch.Tensor], list[float]]]:
    return [
        (ConcaveQuadratic(condition_number=1000.0, angle=0.3, centre=(1.0, 1.0)), [-1.0, -1.0]),
        (ConcaveQuadratic(condition_number=3.0, curvature=0.2, angle=-1.0, centre=(0.5, -2.0)), [2.0, 1.0]),
        (CurvedRidge(), [-1.2, 1.0]),
        (GaussianBumps(), [0.3, -0.2]),
    ]


def check_newton_step(newton_step: Callable[[Callable, torch.Tensor], Any]) -> None:
    """Check ``newton_step(objective, theta)``: one step of Newton's method from ``theta``, as a new tensor."""
    for objective, start in _newton_cases():
        theta = torch.tensor(start, dtype=torch.float64)
        new = _to_array(_call(newton_step, objective, theta.clone()), "the new theta (2 numbers)").reshape(-1)
        if new.size != 2:
            _fail(f"the new theta should have 2 numbers, like theta; got {new.size}")
        point = theta.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(objective(point), point)
        hessian = torch.autograd.functional.hessian(objective, theta)
        step = torch.linalg.solve(hessian, grad).numpy()
        want = theta.numpy() - step
        if np.allclose(new, want, rtol=1e-7, atol=1e-9):
            continue
        if np.allclose(new, theta.numpy() + step, rtol=1e-7, atol=1e-9):
            _fail("your step has the wrong sign: at a maximum the Hessian is negative, so follow its inverse with care")
        if np.allclose(new, theta.numpy() + grad.numpy(), atol=1e-9):
            _fail("that is a plain gradient step with lr = 1; Newton's step also uses the curvature")
        _fail(f"on {objective.name} from {start} your step lands elsewhere than Newton's")
    _ok("your step is Newton's: on a concave quadratic it lands on the maximizer at once")


#: The seeds of the spread exercise, and the run it repeats (see :func:`noisy_ascent`).
SPREAD_SEEDS = tuple(range(10))
NOISY_LR, NOISY_STEPS, NOISY_STD = 0.1, 200, 1.0


def noisy_quadratic() -> ConcaveQuadratic:
    """The objective of the spread exercise: condition number 5, smallest curvature 1, turned by 0.4 rad."""
    return ConcaveQuadratic(condition_number=5.0, angle=0.4)


def noisy_ascent(seed: int) -> float:
    r"""Return the gap :math:`J^\star - J` after ascent with noisy gradients on :func:`noisy_quadratic`.

    From ``(2, -1)``, :data:`NOISY_STEPS` steps of :math:`\theta \leftarrow \theta + \eta\,(\nabla J(\theta) + \sigma\xi_t)`
    with :math:`\eta` = :data:`NOISY_LR`, :math:`\sigma` = :data:`NOISY_STD` and :math:`\xi_t \sim \mathcal N(0, I)`
    drawn from a ``torch.Generator`` seeded with ``seed`` (the global random state is untouched).
    """
    objective, rng = noisy_quadratic(), torch.Generator().manual_seed(int(seed))
    theta = torch.tensor([2.0, -1.0], dtype=torch.float64)
    for _ in range(NOISY_STEPS):
        point = theta.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(objective(point), point)
        theta = theta + NOISY_LR * (grad + NOISY_STD * torch.randn(2, generator=rng, dtype=torch.float64))
    return objective.max_value - objective(theta).item()


def check_seed_spread(answer: Any) -> None:
    """Check ``(mean, sd, se)`` of :func:`noisy_ascent` over :data:`SPREAD_SEEDS`: the sample sd and the mean's standard error."""
    values = _to_array(answer, "three numbers (mean, standard deviation, standard error)").reshape(-1)
    if values.size != 3:
        _fail(f"three numbers were expected, the mean, the standard deviation and the standard error; got {values.size}")
    mean, sd, se = values
    gaps = np.array([noisy_ascent(seed) for seed in SPREAD_SEEDS])
    n, want_sd = len(gaps), gaps.std(ddof=1)
    if not math.isclose(mean, gaps.mean(), rel_tol=1e-6):
        _fail(f"the mean is not that of the {n} gaps of noisy_ascent over SPREAD_SEEDS: run every seed once")
    if math.isclose(sd, gaps.std(ddof=0), rel_tol=1e-6):
        _fail("that standard deviation divides by the number of seeds; from a sample, divide by one less")
    if not math.isclose(sd, want_sd, rel_tol=1e-6):
        _fail("the standard deviation is not the spread of the gaps around their mean")
    if math.isclose(se, sd, rel_tol=1e-6):
        _fail("the standard error is how well the mean is known, and it shrinks as seeds are added")
    if math.isclose(se, sd / n, rel_tol=1e-6):
        _fail("the standard error shrinks more slowly with the number of seeds than that")
    if not math.isclose(se, want_sd / math.sqrt(n), rel_tol=1e-6):
        _fail("not the standard error of the mean: it follows from the standard deviation and the number of seeds")
    _ok(f"gap {mean:.4f} ± {sd:.4f} (sd over {n} seeds); the mean is known to ± {se:.4f}")
