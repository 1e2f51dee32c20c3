r"""The learned prior: restoration by half-quadratic splitting with a learned denoiser (DPIR)."""

from __future__ import annotations

import time

import numpy as np
import torch
from tqdm.auto import tqdm

from gaedu._validation import check_int, check_positive
from gaedu.restoration.denoiser import denoise
from gaedu.restoration.operators import Identity
from gaedu.restoration.problem import Problem
from gaedu.restoration.result import RestorationResult, check_clean, check_problem, image_psnr
from gaedu.restoration.total_variation import tv_map


def _conjugate_gradient(apply, rhs: torch.Tensor, x: torch.Tensor, num_steps: int, tol: float = 1e-6) -> torch.Tensor:
    """Solve ``apply(x) = rhs`` for a symmetric positive definite ``apply`` by conjugate gradients from ``x``."""
    r = rhs - apply(x)
    p, rs = r.clone(), (r * r).sum()
    for _ in range(num_steps):
        if rs.sqrt() <= tol:
            break
        ap = apply(p)
        alpha = rs / (p * ap).sum()
        x, r = x + alpha * p, r - alpha * ap
        rs_new = (r * r).sum()
        p, rs = r + rs_new / rs * p, rs_new
    return x


# The learned prior's schedules, chosen on training photographs (bench/restoration.py --tune).
PRIOR_SCHEDULES = {
    "denoise": {"iterations": 1},
    "inpaint": {"iterations": 20, "sigma_max": 0.1, "sigma_min": 0.01},
    "deblur": {"iterations": 8, "sigma_max": 0.2, "sigma_min": 0.01, "coupling": 0.23},
    "super-resolution": {"iterations": 32, "sigma_max": 0.1, "sigma_min": 0.01, "coupling": 0.23},
}


def learned_prior(
    problem: Problem,
    model,
    *,
    iterations: int | None = None,
    sigma_max: float | None = None,
    sigma_min: float | None = None,
    coupling: float | None = None,
    cg_steps: int = 30,
    clean: torch.Tensor | None = None,
    progress: bool = False,
) -> RestorationResult:
    r"""Restore by ascent on :math:`\log p(y \mid x) + \log p_σ(x)` with a learned denoiser as the prior.

    * Denoising: one Tweedie step, :math:`\hat x = y + σ^2 \nabla \log p_σ(y) = D(y, σ)`, the
      posterior mean under the learned prior (averaged over the 8 rotations and reflections).
    * Inpainting and deblurring: half-quadratic splitting with a falling noise level
      :math:`σ_1 > \dots > σ_K` (geometric from ``sigma_max`` to ``sigma_min``; DPIR, Zhang et al.
      2021). Each iteration climbs the data term exactly,
      :math:`x_k = \arg\max_x -\|Ax - y\|^2 - α_k\|x - z_{k-1}\|^2` with
      :math:`α_k = \text{coupling}\cdot σ_n^2 / σ_k^2` (conjugate gradients; for noise-free
      inpainting the observed pixels are copied in), then takes the prior's Tweedie step
      :math:`z_k = D(x_k, σ_k)`, on the image turned by the ``k``-th rotation or reflection (see
      :func:`gaedu.restoration.denoiser.denoise`). Noise-free inpainting starts from the TV
      inpainting, every other problem from the operator's estimate (for deblurring, ``y``).
      Any operator of one's own is restored the same way, with deblurring's schedule.

    Unspecified settings come from ``PRIOR_SCHEDULES``. ``model`` is a
    :class:`gaedu.restoration.denoiser.Denoiser`; ``clean``, if given, only records PSNR per iteration;
    ``progress`` shows a progress bar over the denoiser's passes.
    """
    check_problem(problem)
    check_clean(clean, problem)
    operator, pointwise = problem.operator, isinstance(problem.operator, Identity)
    settings = {"coupling": PRIOR_SCHEDULES["deblur"]["coupling"], **PRIOR_SCHEDULES.get(problem.task, PRIOR_SCHEDULES["denoise" if pointwise else "deblur"])}
    for key, value in (("iterations", iterations), ("sigma_max", sigma_max), ("sigma_min", sigma_min), ("coupling", coupling)):
        if value is not None:
            settings[key] = value
    k_total = check_int("iterations", settings["iterations"])
    cg_steps = check_int("cg_steps", cg_steps)
    start = time.perf_counter()
    result = RestorationResult(image=problem.observed)
    y = problem.observed.double()
    sigma_n = problem.noise_std
    bar = tqdm(total=8 if pointwise else k_total, desc="learned prior", unit="pass", disable=not progress, leave=False)
    if pointwise:  # A = I: the posterior mean at the noise level is one Tweedie step
        x = denoise(model, y, sigma_n, transform="all", bar=bar)
        if clean is not None:
            result.psnrs.append(image_psnr(x, clean))
            result.recorded_steps.append(1)
    else:
        s_max, s_min = check_positive("sigma_max", settings["sigma_max"]), check_positive("sigma_min", settings["sigma_min"])
        s_min = max(s_min, sigma_n)
        sigmas = np.geomspace(s_max, min(s_min, s_max), k_total)
        coupling = check_positive("coupling", settings["coupling"])
        # projected ascent starts from TV's fill of what the data leave open, the rest from the operator's estimate
        z = tv_map(problem, 1.0, eps=0.03, num_steps=2000, tol=1e-8).image.double() if problem.projected else problem.start()
        rhs_data = operator.adjoint(y)
        for k, s in enumerate(sigmas, 1):
            if problem.projected:
                x = operator.project(z, y)
            else:  # argmax of −‖Ax − y‖² − α‖x − z‖²: (AᵀA + α) x = Aᵀy + α z
                alpha = coupling * sigma_n**2 / s**2
                x = _conjugate_gradient(lambda v, a=alpha: operator.adjoint(operator(v)) + a * v, rhs_data + alpha * z, z, cg_steps)
            z = denoise(model, x, float(s), transform=k - 1)
            bar.update(1)
            if clean is not None:
                result.psnrs.append(image_psnr(operator.project(z, y) if problem.projected else x, clean))
                result.recorded_steps.append(k)
        if problem.projected:
            x = operator.project(z, y)
    bar.close()
    result.image = x.clamp(0, 1).to(problem.observed.dtype)
    result.seconds = time.perf_counter() - start
    result.info = settings
    return result
