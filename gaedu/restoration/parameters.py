r"""Choosing a regularisation weight without the clean image: SURE and the discrepancy principle."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from gaedu._validation import check_choice
from gaedu.restoration.operators import Identity
from gaedu.restoration.problem import Problem

RULES = ("sure", "discrepancy")
SURE_SEED = 1_000_003  # the probe's seed: it must not be the seed that drew the noise


def sure(problem: Problem, restore: Callable[[torch.Tensor], torch.Tensor], *, seed: int = SURE_SEED, delta: float = 1e-3) -> float:
    r"""Stein's unbiased estimate of ``‖x̂ − x‖²`` for a denoiser ``x̂ = restore(y)``, without ``x``.

    :math:`\mathrm{SURE} = \|y - \hat x\|^2 - Nσ^2 + 2σ^2 \operatorname{div}\hat x(y)`, the divergence
    estimated by Monte Carlo (Ramani, Blu and Unser 2008):
    :math:`\operatorname{div} \approx b^\top(\hat x(y + δb) - \hat x(y))/δ`, ``b`` standard Gaussian.
    Only for denoising (``A = I``). The probe ``b`` must be independent of the noise: drawn
    with the noise's own seed it *is* the noise, and the estimate is badly biased.
    """
    if not isinstance(problem.operator, Identity):
        raise ValueError("SURE here is for denoising problems (identity operator) only")
    y = problem.observed.double()
    b = torch.randn(y.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    x_hat = restore(y).double()
    x_pert = restore(y + delta * b).double()
    divergence = (b * (x_pert - x_hat)).sum().item() / delta
    sigma2 = problem.noise_std**2
    return (y - x_hat).pow(2).sum().item() - y.numel() * sigma2 + 2 * sigma2 * divergence


def choose_weight(
    problem: Problem,
    restore: Callable[[torch.Tensor, float], torch.Tensor],
    weights,
    *,
    rule: str | None = None,
) -> tuple[float, np.ndarray]:
    """Choose a weight on the grid ``weights`` without the clean image; return it and each weight's score.

    ``restore(y, w)`` restores an observation with weight ``w``.

    * ``'sure'`` (the default for denoising): the weight with the smallest SURE, an unbiased
      estimate of the squared error.
    * ``'discrepancy'`` (the default otherwise; Morozov): the largest weight whose residual
      ``‖A x̂ − y‖²`` stays within the noise's expected ``N σ²`` (over the observed pixels).

    The scores are SURE per pixel, or the residual divided by ``N σ²``.
    """
    rule = check_choice("rule", rule or ("sure" if isinstance(problem.operator, Identity) else "discrepancy"), RULES)
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 1 or weights.size == 0 or not np.all(np.isfinite(weights)) or np.any(weights <= 0):
        raise ValueError("weights must be a non-empty 1-D grid of positive numbers")
    if problem.noise_std == 0:
        raise ValueError("choosing a weight needs a known noise level noise_std > 0")
    y = problem.observed.double()
    n = int(problem.mask.sum())
    scores = []
    for w in weights:
        if rule == "sure":
            scores.append(sure(problem, lambda obs, w=w: restore(obs, float(w))) / y.numel())
        else:
            x_hat = restore(problem.observed, float(w)).double()
            residual = (problem.operator(x_hat) - y).pow(2).sum().item()
            scores.append(residual / (n * problem.noise_std**2))
    scores = np.asarray(scores)
    if rule == "sure":
        return float(weights[int(np.argmin(scores))]), scores
    within = np.flatnonzero(scores <= 1.0)
    return float(weights[within.max() if within.size else 0]), scores


