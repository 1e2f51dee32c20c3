r"""Restoration as ascent on a log-posterior, with a total-variation prior.

For an observation ``y = A x + σ ε`` the log-likelihood is
:math:`\log p(y \mid x) = -\|Ax - y\|^2 / (2σ^2) + \text{const}`, and a prior
:math:`p(x) \propto \exp(-λ\,\mathrm{TV}(x))` adds :math:`-λ\,\mathrm{TV}(x)`. Multiplying the
log-posterior by :math:`σ^2` changes nothing about its maximum, and gives the form
scikit-image's ``denoise_tv_chambolle`` uses, with ``weight`` :math:`w = λσ^2`:

.. math::

    J(x) = -\tfrac12 \|Ax - y\|^2 - w\,\mathrm{TV}(x),
    \qquad \mathrm{TV}(x) = \sum_{ij} \sqrt{(\partial_1 x)_{ij}^2 + (\partial_2 x)_{ij}^2},

with forward differences that are zero past the last row and column (scikit-image's
discretisation). TV is not differentiable where a difference vanishes, so

* :func:`tv_subgradient_ascent` climbs ``J`` with a subgradient and a diminishing step, and
* :func:`tv_map` climbs the smoothed :math:`J_ε`, in which each :math:`\sqrt{\cdot}` becomes
  :math:`\sqrt{\cdot + ε^2} - ε`. Its gradient is Lipschitz with constant
  :math:`L \le \|A^\top A\| + 8w/ε`, so a step of :math:`1/L` is safe, and Nesterov's
  momentum with adaptive restart (O'Donoghue and Candès 2015) makes it fast.

:func:`tv_restore` picks ``w`` without the clean image (:mod:`gaedu.restoration.parameters`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import torch

from gaedu._validation import check_int, check_nonnegative, check_positive
from gaedu.restoration.parameters import choose_weight
from gaedu.restoration.problem import Problem
from gaedu.restoration.result import RestorationResult, check_clean, check_problem, image_psnr


def differences(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward differences along rows and columns, zero in the last row (column): shape of ``x`` each."""
    d1 = torch.zeros_like(x)
    d2 = torch.zeros_like(x)
    d1[..., :-1, :] = x[..., 1:, :] - x[..., :-1, :]
    d2[..., :, :-1] = x[..., :, 1:] - x[..., :, :-1]
    return d1, d2


def tv(x: torch.Tensor, eps: float = 0.0) -> torch.Tensor:
    """Isotropic total variation of ``x`` (..., H, W), or its smoothed version ``Σ √(|∇x|² + ε²) − ε``."""
    d1, d2 = differences(x)
    if eps == 0:
        return (d1.pow(2) + d2.pow(2)).sqrt().sum()
    return ((d1.pow(2) + d2.pow(2) + eps**2).sqrt() - eps).sum()


def tv_objective(problem: Problem, x: torch.Tensor, weight: float, eps: float = 0.0) -> float:
    """``J(x) = −½‖Ax − y‖² − w TV(x)`` (exact TV unless ``eps`` > 0), in float64."""
    x = x.double()
    return -(problem.data_fit(x) + weight * tv(x, eps)).item()


def tv_gradient(x: torch.Tensor, eps: float, exact: bool) -> torch.Tensor:
    """A (sub)gradient of TV at ``x``; with ``exact``, 0 is chosen where the difference vanishes."""
    d1, d2 = differences(x)
    norm = (d1.pow(2) + d2.pow(2) + eps**2).sqrt()
    if exact:
        norm = torch.where(norm > 0, norm, torch.ones_like(norm))
    p1, p2 = d1 / norm, d2 / norm  # the unit direction of each pixel's gradient
    # TV's gradient is −div p, with div the negative adjoint of the forward differences.
    g = torch.zeros_like(x)
    g[..., :-1, :] -= p1[..., :-1, :]
    g[..., 1:, :] += p1[..., :-1, :]
    g[..., :, :-1] -= p2[..., :, :-1]
    g[..., :, 1:] += p2[..., :, :-1]
    return g


def _ascent_direction(problem: Problem, x: torch.Tensor, weight: float, eps: float, exact: bool) -> torch.Tensor:
    """The ascent direction of ``J`` (or ``J_ε``): ``Aᵀ(y − Ax) − w ∇TV``; only ``−w ∇TV`` under projection.

    Under projected ascent (exact data, an operator with a projection) every iterate fits the
    data exactly, so the data term is 0 and its gradient vanishes there.
    """
    g = -weight * tv_gradient(x, eps, exact)
    if problem.projected:
        return g
    return g + problem.operator.adjoint(problem.observed.double() - problem.operator(x))


def _step(problem: Problem, x: torch.Tensor, size: float, direction: torch.Tensor) -> torch.Tensor:
    """One ascent step ``x + size · direction``, projected back onto ``A x = y`` when the problem is."""
    x = x + size * direction
    return problem.operator.project(x, problem.observed.double()) if problem.projected else x


def _check_common(problem: Problem, weight: float, num_steps: int, clean: torch.Tensor | None, record_every: int):
    check_problem(problem)
    check_positive("weight", weight)
    check_int("num_steps", num_steps)
    check_int("record_every", record_every)
    check_clean(clean, problem)


def tv_map(
    problem: Problem,
    weight: float,
    *,
    eps: float = 1e-3,
    num_steps: int = 3000,
    tol: float = 1e-7,
    clean: torch.Tensor | None = None,
    record_every: int = 10,
    restart: bool = True,
    callback: Callable[[int, torch.Tensor], None] | None = None,
) -> RestorationResult:
    r"""Maximise the smoothed TV log-posterior :math:`J_ε` by accelerated gradient ascent.

    Step :math:`1/L` with :math:`L = \|A^\top A\| + 8w/ε`; Nesterov momentum :math:`(k-1)/(k+2)`,
    restarted whenever a step lowers :math:`J_ε`. Stops after ``num_steps`` steps or when a step
    changes :math:`J_ε` by less than ``tol`` times :math:`|J_ε|`. For noise-free inpainting the
    observed pixels are kept fixed (projected ascent) and only TV is climbed.

    Args:
        problem: from :func:`gaedu.restoration.degrade`.
        weight: :math:`w = λσ^2`.
        eps: the smoothing :math:`ε` (> 0); smaller is closer to exact TV and slower.
        clean: if given, PSNR against it is recorded for plots; the method never uses it.
        restart: restart the momentum when ``J_ε`` falls. Without it (and with ``tol=0``) the
            result is a smooth function of the observation, which SURE's divergence needs.

    Returns:
        a :class:`RestorationResult` whose ``values`` are :math:`J_ε` at the recorded steps.
    """
    _check_common(problem, weight, num_steps, clean, record_every)
    eps = check_positive("eps", eps)
    check_nonnegative("tol", tol)
    start = time.perf_counter()
    lipschitz = (0.0 if problem.projected else problem.normal_bound()) + 8 * weight / eps
    step = 1.0 / lipschitz

    def objective(x):  # with observed pixels held fixed the data term of noise-free inpainting is 0
        return -(weight * tv(x, eps) + problem.data_fit(x)).item()

    x = problem.start()
    previous, k = x.clone(), 1
    value = objective(x)
    result = RestorationResult(image=x)
    for t in range(1, num_steps + 1):
        momentum = (k - 1) / (k + 2)
        z = x + momentum * (x - previous)
        previous = x
        x = _step(problem, z, step, _ascent_direction(problem, z, weight, eps, exact=False))
        new_value = objective(x)
        k += 1
        if restart and new_value < value:  # adaptive restart: drop the momentum, take a plain step from x
            k = 1
            x = _step(problem, previous, step, _ascent_direction(problem, previous, weight, eps, exact=False))
            new_value = objective(x)
        converged = abs(new_value - value) <= tol * abs(new_value)
        value = new_value
        if t % record_every == 0 or t == num_steps or converged:
            result.values.append(value)
            result.recorded_steps.append(t)
            if clean is not None:
                result.psnrs.append(image_psnr(x, clean))
        if callback is not None:
            callback(t, x)
        if converged:
            break
    result.image = x.clamp(0, 1).to(problem.observed.dtype)
    result.seconds = time.perf_counter() - start
    result.info = {"steps_taken": t, "weight": weight, "eps": eps, "step_size": step}
    return result


def tv_subgradient_ascent(
    problem: Problem,
    weight: float,
    *,
    num_steps: int = 1000,
    step0: float = 0.1,
    clean: torch.Tensor | None = None,
    record_every: int = 10,
) -> RestorationResult:
    r"""Climb the exact TV objective ``J`` with subgradients and the step :math:`η_t = η_0/\sqrt{t}`.

    Where a pixel's difference vanishes the subgradient 0 is used. Subgradient ascent does not
    increase ``J`` at every step, so the best iterate so far is returned, as the subgradient
    chapter does; ``values`` holds the best ``J`` up to each recorded step.
    """
    _check_common(problem, weight, num_steps, clean, record_every)
    step0 = check_positive("step0", step0)
    start = time.perf_counter()
    x = problem.start()
    best, best_value = x.clone(), tv_objective(problem, x, weight)
    result = RestorationResult(image=x)
    for t in range(1, num_steps + 1):
        x = _step(problem, x, step0 / math.sqrt(t), _ascent_direction(problem, x, weight, 0.0, exact=True))
        value = tv_objective(problem, x, weight)
        if value > best_value:
            best, best_value = x.clone(), value
        if t % record_every == 0 or t == num_steps:
            result.values.append(best_value)
            result.recorded_steps.append(t)
            if clean is not None:
                result.psnrs.append(image_psnr(best, clean))
    result.image = best.clamp(0, 1).to(problem.observed.dtype)
    result.seconds = time.perf_counter() - start
    result.info = {"steps_taken": num_steps, "weight": weight}
    return result


_POINTWISE_GRID = np.geomspace(0.02, 0.3, 12)  # for operators that keep every pixel where it is
_SPREADING_GRID = np.geomspace(3e-4, 0.03, 9)  # for operators that mix neighbouring pixels
TV_WEIGHTS = {
    "denoise": _POINTWISE_GRID,
    "inpaint": _POINTWISE_GRID,
    "deblur": _SPREADING_GRID,
    "super-resolution": _SPREADING_GRID,
}


def tv_restore(problem: Problem, *, clean: torch.Tensor | None = None) -> RestorationResult:
    """TV-MAP with the weight chosen without the clean image.

    The weight comes from SURE (denoising) or the discrepancy principle (any other noisy
    problem), on the grid ``TV_WEIGHTS`` of the task (deblurring's for a task of one's own).
    Under projected ascent (noise-free inpainting) the weight only scales the objective, so it
    is 1; exact data without a projection take the grid's smallest weight, the nearest to
    fitting the data exactly. ``info['scores']`` holds each grid weight's score (``None`` when
    there was no choice).
    """
    check_problem(problem)
    start = time.perf_counter()
    grid = TV_WEIGHTS.get(problem.task, TV_WEIGHTS["deblur"])
    if problem.projected:
        weight, eps, scores = 1.0, 0.03, None  # projected ascent on −TV: the weight only scales it
    elif problem.exact:
        weight, eps, scores = float(grid[0]), 1e-3, None
    else:
        eps = 1e-3

        def quick(y, w):  # a fixed number of steps: a smooth map of y, as SURE's divergence needs
            return tv_map(replace(problem, observed=y), w, eps=eps, num_steps=300, tol=0, restart=False).image

        weight, scores = choose_weight(problem, quick, grid)
    result = tv_map(problem, weight, eps=eps, clean=clean)
    result.seconds = time.perf_counter() - start
    result.info["scores"] = scores
    return result
