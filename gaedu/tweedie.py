r"""A denoiser is a score model: the one protocol, Tweedie's formula both ways, and denoising score matching.

A *denoiser* is any function ``D(x, sigma)`` that returns an estimate of the clean image
behind ``x``, an image blurred by Gaussian noise of standard deviation ``sigma`` (a number,
or a tensor ``(B,)`` of one level per image). Trained for the squared error it learns the
posterior mean, and Tweedie's formula ties that mean to the score of the noisy data,
:math:`p_\sigma = p * \mathcal N(0, \sigma^2 I)`:

.. math::

    D(x, \sigma) = \mathbb E[x_0 \mid x] = x + \sigma^2 \nabla_x \log p_\sigma(x).

So every denoiser is a score model (:func:`denoiser_score`, :func:`as_score`) and every score
gives a denoiser (:func:`tweedie`). The photographs' prior
(:class:`gaedu.restoration.denoiser.Denoiser`) and the digits' score model
(:class:`gaedu.score.model.ScoreNet`) are both denoisers in this sense, and both are trained on
the same loss, :func:`dsm_loss` (denoising score matching, Vincent 2011).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import torch

from gaedu._validation import check_positive

#: ``score_fn(x, sigma)``: the score :math:`\nabla_x \log p_\sigma(x)`, shaped like ``x``.
ScoreFn = Callable[[torch.Tensor, "float | torch.Tensor"], torch.Tensor]


class DenoiserFn(Protocol):
    """The denoiser protocol: ``D(x, sigma)`` returns the denoised ``x``, same shape."""

    def __call__(self, x: torch.Tensor, sigma: float | torch.Tensor) -> torch.Tensor: ...


def _per_sample(sigma: float | torch.Tensor, x: torch.Tensor) -> float | torch.Tensor:
    """``sigma`` shaped to broadcast against ``x``: a number stays a number, a ``(B,)`` tensor becomes ``(B, 1, ...)``."""
    if isinstance(sigma, torch.Tensor) and sigma.ndim == 1:
        return sigma.view((-1,) + (1,) * (x.ndim - 1))
    return sigma


def tweedie(x: torch.Tensor, score: torch.Tensor, sigma: float) -> torch.Tensor:
    r"""Tweedie's formula: the denoised estimate :math:`\mathbb E[x_0 \mid x] = x + \sigma^2\,\nabla\log p_\sigma(x)`."""
    return x + check_positive("sigma", sigma) ** 2 * score


def denoiser_score(x: torch.Tensor, denoised: torch.Tensor, sigma: float | torch.Tensor) -> torch.Tensor:
    r"""Tweedie's formula read backwards: the score :math:`(D(x, \sigma) - x)/\sigma^2` from a denoised ``x``."""
    return (denoised - x) / _per_sample(sigma, x) ** 2


def as_score(denoiser: DenoiserFn) -> ScoreFn:
    """The score model of a denoiser: ``score_fn(x, sigma) = (D(x, sigma) − x)/sigma²``."""
    return lambda x, sigma: denoiser_score(x, denoiser(x, sigma), sigma)


def dsm_loss(score_fn: ScoreFn, x0: torch.Tensor, sigma: torch.Tensor, noise: torch.Tensor,
             weight: torch.Tensor | None = None) -> torch.Tensor:  # fmt: skip
    r"""Denoising score matching (Vincent 2011) with the weighting :math:`\lambda(\sigma) = \sigma^2` (Song and Ermon 2019).

    For clean samples :math:`x_0`, levels :math:`\sigma` and noise :math:`\varepsilon`, the
    noisy points are :math:`x = x_0 + \sigma\varepsilon`, and the loss is the mean over
    samples (times ``weight``) and over coordinates of
    :math:`\lVert \sigma\,s(x, \sigma) + \varepsilon \rVert^2`: the score must point back
    along the noise, :math:`-\varepsilon/\sigma`. Its minimum over all functions is reached
    by the true score of the blurred data, :math:`s = \nabla\log p_\sigma` (for data
    :math:`\mathcal N(\mu, v I)` it is :math:`v/(v + \sigma^2)`); a score that is 0 everywhere
    scores 1.

    For a denoiser's score (:func:`as_score`) the term is :math:`\lVert D(x, \sigma) - x_0\rVert^2/\sigma^2`:
    with ``weight`` :math:`\sigma^2` the loss is the denoiser's mean squared error, which is
    how the photographs' denoiser is trained (in that form, which stays exact as
    :math:`\sigma \to 0`; see :func:`denoiser_mse`).

    Args:
        score_fn: ``score_fn(x, sigma)`` with ``sigma`` a tensor ``(B,)`` of per-sample levels.
        x0: clean samples ``(B, ...)``.
        sigma: noise levels ``(B,)``, ``> 0``.
        noise: standard normal noise shaped like ``x0``.
        weight: per-sample weights ``(B,)`` (default: 1).
    """
    if sigma.shape != x0.shape[:1] or noise.shape != x0.shape:
        raise ValueError(f"sigma must be ({len(x0)},) and noise {tuple(x0.shape)}, got {tuple(sigma.shape)} and {tuple(noise.shape)}")
    view = (-1,) + (1,) * (x0.ndim - 1)
    x = x0 + sigma.view(view) * noise
    per_sample = ((sigma.view(view) * score_fn(x, sigma) + noise) ** 2).flatten(1).mean(1)
    return (per_sample if weight is None else weight * per_sample).mean()


def denoiser_mse(denoiser: DenoiserFn, x0: torch.Tensor, sigma: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    r""":func:`dsm_loss` of ``as_score(denoiser)`` with the weight :math:`\sigma^2`, computed as the mean squared error.

    :math:`\sigma^2 \lVert \sigma s + \varepsilon\rVert^2 = \lVert D(x_0 + \sigma\varepsilon, \sigma) - x_0\rVert^2`;
    written this way no :math:`\sigma^2` is divided by, so a level near 0 costs no precision.
    """
    if sigma.shape != x0.shape[:1] or noise.shape != x0.shape:
        raise ValueError(f"sigma must be ({len(x0)},) and noise {tuple(x0.shape)}, got {tuple(sigma.shape)} and {tuple(noise.shape)}")
    x = x0 + sigma.view((-1,) + (1,) * (x0.ndim - 1)) * noise
    return (denoiser(x, sigma) - x0).pow(2).mean()
