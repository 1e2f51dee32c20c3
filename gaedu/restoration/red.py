r"""Regularization by denoising (RED): restoration as accelerated ascent on a learned log-density.

Tweedie's formula makes a denoiser a score: :math:`(D(x, σ) - x)/σ^2 = \nabla \log p_σ(x)`, the
gradient of the log-density of photographs blurred by noise of standard deviation σ. RED
(Romano, Elad and Milanfar 2017) climbs

.. math::

    \log p(y \mid x) + \log p_σ(x), \qquad
    \nabla = \frac{A^\top (y - A x)}{σ_n^2} + \frac{D(x, σ) - x}{σ^2},

by gradient ascent, here accelerated as in Part II (Nesterov's momentum) with the step
:math:`1/(\lVert A^\top A\rVert/σ_n^2 + 1/σ^2)`. For exact data (noise-free inpainting or super-resolution) the
data term is kept by projection instead: each step climbs the prior and projects back onto
:math:`A x = y` (copies the observed pixels back, or shifts each block to its observed mean).
It is one member of the plug-and-play family (Venkatakrishnan et al. 2013), whose other member in
this package, :func:`gaedu.restoration.learned_prior`, splits the two terms and lowers σ as it goes.
"""

from __future__ import annotations

import math
import time

import torch
from tqdm.auto import tqdm

from gaedu._validation import check_int, check_positive
from gaedu.restoration.denoiser import denoise
from gaedu.restoration.problem import Problem
from gaedu.restoration.result import RestorationResult, check_clean, check_problem, image_psnr

#: RED's settings per task: the prior's noise level σ and the number of steps, chosen by the mean PSNR
#: on six training photographs over σ in (0.01, 0.02, 0.03, 0.04, 0.05, 0.1) and 5 to 100 steps
#: (``python -m bench.restoration --red-only``); an operator of one's own gets deblurring's.
#: In denoising the PSNR peaks after a few steps and falls as the ascent nears its maximum, so
#: the step count there is a stopping rule; in the other tasks the ascent has levelled off.
RED_SETTINGS = {
    "denoise": {"sigma": 0.03, "num_steps": 8},
    "inpaint": {"sigma": 0.03, "num_steps": 25},
    "deblur": {"sigma": 0.03, "num_steps": 50},
    "super-resolution": {"sigma": 0.03, "num_steps": 50},
}


def red_step_size(problem: Problem, sigma: float) -> float:
    r"""The ascent's step :math:`1/(L_\text{data} + 1/σ^2)`, :math:`L_\text{data} = \lVert A^\top A\rVert/σ_n^2` (0 when projected)."""
    data = 0.0 if problem.projected else problem.normal_bound() / problem.noise_std**2
    return 1.0 / (data + 1.0 / sigma**2)


def red_gradient(problem: Problem, model, x: torch.Tensor, sigma: float, *, transform: int | None = None) -> torch.Tensor:
    r"""The ascent direction at ``x``: the learned score :math:`(D(x, σ) - x)/σ^2`, plus the data term unless projected."""
    prior = (denoise(model, x, sigma, transform=transform) - x) / sigma**2
    if problem.projected:
        return prior
    y = problem.observed.double()
    return problem.operator.adjoint(y - problem.operator(x)) / problem.noise_std**2 + prior


def red(
    problem: Problem,
    model,
    *,
    sigma: float | None = None,
    num_steps: int | None = None,
    clean: torch.Tensor | None = None,
    progress: bool = False,
) -> RestorationResult:
    r"""Restore ``problem`` by RED: accelerated ascent on :math:`\log p(y \mid x) + \log p_σ(x)` (see the module).

    Starts from the operator's estimate (:meth:`Problem.start`). Each step evaluates the denoiser
    once, on the ``k``-th rotation or reflection of the image (:func:`gaedu.restoration.denoiser.denoise`),
    so the network's errors average out over steps. Unspecified settings come from
    :data:`RED_SETTINGS`. ``clean``, if given, only records PSNR per step; ``info['step_norms']``
    holds :math:`\lVert x_{k} - x_{k-1}\rVert` per step, the size of each move.
    """
    check_problem(problem)
    check_clean(clean, problem)
    settings = dict(RED_SETTINGS.get(problem.task, RED_SETTINGS["deblur"]))
    if sigma is not None:
        settings["sigma"] = sigma
    if num_steps is not None:
        settings["num_steps"] = num_steps
    sigma = check_positive("sigma", settings["sigma"])
    num_steps = check_int("num_steps", settings["num_steps"], minimum=1)
    start = time.perf_counter()
    eta = red_step_size(problem, sigma)
    y = problem.observed.double()
    keep = (lambda v: problem.operator.project(v, y)) if problem.projected else (lambda v: v)
    x = keep(problem.start())
    z, t, norms = x.clone(), 1.0, []
    result = RestorationResult(image=problem.observed)
    for k in tqdm(range(num_steps), desc="RED", unit="step", disable=not progress, leave=False):
        x_new = keep(z + eta * red_gradient(problem, model, z, sigma, transform=k % 8))
        t_new = (1 + math.sqrt(1 + 4 * t * t)) / 2  # Nesterov's momentum, as in Part II
        z = keep(x_new + (t - 1) / t_new * (x_new - x))
        norms.append(float((x_new - x).norm()))
        x, t = x_new, t_new
        if not torch.isfinite(x).all():
            raise ValueError(f"RED diverged at step {k + 1}: the step {eta:.3g} is too large for this problem")
        if clean is not None:
            result.psnrs.append(image_psnr(x, clean))
            result.recorded_steps.append(k + 1)
    result.image = x.clamp(0, 1).to(problem.observed.dtype)
    result.seconds = time.perf_counter() - start
    result.info = {**settings, "step": eta, "step_norms": norms}
    return result
