r"""Exact scores: the log-density and the score of a Gaussian mixture blurred by noise, for checking samplers."""

from __future__ import annotations

import math

import torch

from gaedu._validation import check_number, check_positive
from gaedu.score.samplers import _check_start


def _mixture_terms(x, centres, std, sigma, weights):
    x = _check_start(x, "x")
    if not isinstance(centres, torch.Tensor) or centres.ndim != 2 or centres.shape[1] != x.shape[1] or x.ndim != 2:
        got = tuple(centres.shape) if isinstance(centres, torch.Tensor) else type(centres).__name__
        raise ValueError(f"x (n, d) and centres (k, d) must agree in d, got {tuple(x.shape)} and {got}")
    var = check_positive("std", std) ** 2 + check_number("sigma", sigma, low=0.0) ** 2  # the blurred modes' variance
    k = len(centres)
    if weights is None:
        log_w = torch.full((k,), -math.log(k), dtype=x.dtype, device=x.device)
    else:
        weights = torch.as_tensor(weights, dtype=x.dtype, device=x.device)
        if weights.shape != (k,) or (weights < 0).any() or not torch.isclose(weights.sum(), weights.new_tensor(1.0)):
            raise ValueError(f"weights must be {k} numbers >= 0 summing to 1, got {weights.tolist()}")
        log_w = weights.log()
    centres = centres.to(x)
    squared = ((x**2).sum(1, keepdim=True) - 2 * x @ centres.T + (centres**2).sum(1)).clamp_min(0)  # (n, k)
    d = x.shape[1]
    log_terms = log_w - squared / (2 * var) - d / 2 * math.log(2 * math.pi * var)  # (n, k)
    return centres, var, log_terms


def mixture_log_density(x, centres, std: float, *, sigma: float = 0.0, weights=None) -> torch.Tensor:
    r"""Return :math:`\log p_\sigma(x)` ``(n,)`` for a mixture of isotropic Gaussians blurred by noise ``sigma``.

    The mixture has modes at ``centres`` ``(k, d)``, each of standard deviation ``std``
    and weight ``weights`` (default: equal); blurring by :math:`\mathcal N(0, \sigma^2 I)`
    widens each mode to :math:`\sqrt{\text{std}^2 + \sigma^2}`.
    """
    _, _, log_terms = _mixture_terms(x, centres, std, sigma, weights)
    return torch.logsumexp(log_terms, dim=1)


def mixture_score(x, centres, std: float, *, sigma: float = 0.0, weights=None) -> torch.Tensor:
    r"""Return the exact score :math:`\nabla_x \log p_\sigma(x)` ``(n, d)`` of the mixture of :func:`mixture_log_density`.

    It is :math:`-\sum_k r_k(x)\,(x - c_k)/(\text{std}^2 + \sigma^2)`, with :math:`r_k` the
    posterior probability of mode :math:`k`: each point is pulled toward the modes that
    claim it.
    """
    centres, var, log_terms = _mixture_terms(x, centres, std, sigma, weights)
    resp = torch.softmax(log_terms, dim=1)  # (n, k)
    return -(x - resp @ centres) / var  # Σ_k r_k (x - c_k) = x - Σ_k r_k c_k




def mixture_log_posterior(x, centres, std: float, *, sigma: float = 0.0, weights=None) -> torch.Tensor:
    r"""Return :math:`\log p_\sigma(k \mid x)` ``(n, k)``: how strongly each mode claims each blurred point.

    It is the exact noise-conditional classifier of the mixture, labels being the modes. Its
    gradient :math:`\nabla_x \log p_\sigma(k \mid x) = s_k(x, \sigma) - s(x, \sigma)` (the score of
    mode :math:`k` alone minus the mixture's) is what guidance adds to the score: with scale 1 the
    sum is the exact score of :math:`p_\sigma(x \mid k)` (:func:`gaedu.score.guidance.guided_score`).
    """
    _, _, log_terms = _mixture_terms(x, centres, std, sigma, weights)
    return torch.log_softmax(log_terms, dim=1)
