r"""Generating by climbing a log-density: Langevin dynamics, denoising score matching and diffusion.

**Langevin dynamics** is noisy gradient ascent on :math:`\log p`:

.. math::

    x \leftarrow x + \eta\,\nabla_x \log p(x) + \sqrt{2\eta}\,\xi, \qquad \xi \sim \mathcal N(0, I).

It is the noisy ascent of :mod:`gaedu.ascent` at temperature :math:`\mathcal T = 1`; its
stationary law is :math:`\propto \exp(J/\mathcal T) = p` when :math:`J = \log p`, so the
chain *samples* :math:`p` once it has mixed (for a small step :math:`\eta`).

The **score** :math:`s(x, \sigma) = \nabla_x \log p_\sigma(x)` of the data blurred by Gaussian
noise of standard deviation :math:`\sigma` is what a *score model* learns. Tweedie's formula
ties it to denoising: :math:`\mathbb E[x_0 \mid x] = x + \sigma^2 s(x, \sigma)`, so a network
:math:`D(x, \sigma)` trained to denoise (:func:`dsm_loss`, denoising score matching, Vincent
2011) gives the score :math:`(D(x, \sigma) - x)/\sigma^2`.

Three samplers, each a loop of explicit ascent steps plus noise, all seeded by a
``generator=`` (a :class:`torch.Generator`; the global random state is untouched):

- :func:`langevin`: plain Langevin at one density;
- :func:`annealed_langevin`: Langevin over a ladder of decreasing noise levels (Song and
  Ermon 2019), step :math:`\eta_i = \epsilon\,\sigma_i^2/\sigma_L^2` at level :math:`\sigma_i`;
- :func:`reverse_diffusion`: the diffusion model's ancestral sampler (Ho et al. 2020),
  written in the variance-exploding form: one ascent step of size
  :math:`\sigma_i^2 - \sigma_{i+1}^2` per level, plus the noise of the posterior
  :math:`q(x_{i+1} \mid x_i, \hat x_0)`.

The exact scores of Gaussian mixtures (:func:`mixture_score`) let the samplers be checked
on the book's ring of Gaussians; :class:`ScoreNet` and :func:`train_score` learn the score
of the 8×8 digits; :func:`posterior_score` adds an observation's log-likelihood for
reconstruction (posterior sampling).
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from gaedu._validation import check_choice, check_fraction, check_int, check_number, check_positive
from gaedu.checkpoint import load_model, save_checkpoint
from gaedu.device import get_device
from gaedu.nets import device_of, seeded
from gaedu.optim import update_ema

#: A score function of a noise level: ``score(x, sigma) -> ∇ log p_sigma(x)``, same shape as ``x``.
ScoreFn = Callable[[torch.Tensor, float], torch.Tensor]
METHODS = ("langevin", "diffusion")


# ----------------------------------------------------------------------------------------------
# Checks shared by the samplers
# ----------------------------------------------------------------------------------------------


def _check_start(x: Any, name: str = "x0") -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point() or x.ndim < 2 or not len(x):
        raise ValueError(f"{name} must be a float tensor of shape (N, ...), got {x.dtype} {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


def _check_generator(generator: Any) -> torch.Generator:
    if generator is None:
        raise ValueError("generator must be a torch.Generator (seed it, e.g. torch.Generator().manual_seed(0))")
    if not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    return generator


def _check_sigmas(sigmas: Any) -> torch.Tensor:
    sigmas = torch.as_tensor(sigmas, dtype=torch.float64)
    if sigmas.ndim != 1 or not len(sigmas) or not torch.isfinite(sigmas).all() or (sigmas <= 0).any():
        raise ValueError(f"sigmas must be a non-empty 1-D list of noise levels > 0, got {sigmas.tolist()}")
    if len(sigmas) > 1 and (sigmas[1:] >= sigmas[:-1]).any():
        raise ValueError("sigmas must decrease strictly (from the noisiest level to the cleanest)")
    return sigmas


def _randn(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Standard normal noise shaped like ``x``, drawn on the CPU (the same numbers on every device)."""
    return torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)


def _finite(score: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    if score.shape != x.shape:
        raise ValueError(f"the score function returned shape {tuple(score.shape)} for x of shape {tuple(x.shape)}")
    if not torch.isfinite(score).all():
        raise ValueError("the score is not finite: lower the step size")
    return score


def noise_levels(sigma_max: float, sigma_min: float, num: int, *, rho: float | None = None) -> torch.Tensor:
    r"""Return ``num`` decreasing noise levels from ``sigma_max`` to ``sigma_min``, float64.

    With ``rho=None`` they are geometric (evenly spaced in :math:`\log\sigma`, Song and Ermon
    2019); with a number :math:`\rho`, evenly spaced in :math:`\sigma^{1/\rho}` (Karras et al.
    2022). :math:`\rho = 1` spaces the levels evenly, :math:`\rho \to \infty` tends to the geometric
    ladder; Karras et al. found :math:`\rho = 7`, in between, best for images.
    """
    sigma_max, sigma_min = check_positive("sigma_max", sigma_max), check_positive("sigma_min", sigma_min)
    num = check_int("num", num)
    if sigma_min >= sigma_max and num > 1:
        raise ValueError(f"sigma_min ({sigma_min}) must be below sigma_max ({sigma_max})")
    if num == 1:
        return torch.tensor([sigma_max], dtype=torch.float64)
    t = torch.linspace(0, 1, num, dtype=torch.float64)
    if rho is None:
        return sigma_max * (sigma_min / sigma_max) ** t
    rho = check_positive("rho", rho)
    return (sigma_max ** (1 / rho) + t * (sigma_min ** (1 / rho) - sigma_max ** (1 / rho))) ** rho


# ----------------------------------------------------------------------------------------------
# Exact scores
# ----------------------------------------------------------------------------------------------


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


def tweedie(x: torch.Tensor, score: torch.Tensor, sigma: float) -> torch.Tensor:
    r"""Tweedie's formula: the denoised estimate :math:`\mathbb E[x_0 \mid x] = x + \sigma^2\,\nabla\log p_\sigma(x)`."""
    return x + check_positive("sigma", sigma) ** 2 * score


# ----------------------------------------------------------------------------------------------
# Samplers: explicit ascent steps plus noise
# ----------------------------------------------------------------------------------------------


def langevin_step(x: torch.Tensor, score: torch.Tensor, step: float, *, generator: torch.Generator,
                  temperature: float = 1.0) -> torch.Tensor:  # fmt: skip
    r"""One Langevin step: :math:`x + \eta\,s + \sqrt{2\eta\mathcal T}\,\xi`, ascent on :math:`\log p` plus noise.

    At temperature :math:`\mathcal T` the chain's stationary law is :math:`\propto p^{1/\mathcal T}`
    (for small :math:`\eta`); :math:`\mathcal T = 1` samples :math:`p` itself.
    """
    step = check_positive("step", step)
    temperature = check_number("temperature", temperature, low=0.0)
    return x + step * score + math.sqrt(2 * step * temperature) * _randn(x, generator)


def langevin(score_fn: Callable[[torch.Tensor], torch.Tensor], x0: torch.Tensor, step: float, num_steps: int, *,
             generator: torch.Generator, temperature: float = 1.0, every: int = 0) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    r"""Run ``num_steps`` Langevin steps (:func:`langevin_step`) from ``x0`` ``(N, ...)``.

    Args:
        score_fn: ``score_fn(x)`` returns :math:`\nabla\log p(x)`, shaped like ``x``.
        x0: the chains' starts (one chain per row).
        step: the step size :math:`\eta`.
        num_steps: the number of steps, ``>= 0``.
        generator: the seeded source of the noise.
        temperature: :math:`\mathcal T` (1: sample ``p``).
        every: keep the chains every this many steps (0: only the start and the end).

    Returns:
        ``(x, path)``: the final points, and the kept points ``(K, N, ...)`` (start included).
    """
    x, generator = _check_start(x0).clone(), _check_generator(generator)
    num_steps, every = check_int("num_steps", num_steps, minimum=0), check_int("every", every, minimum=0)
    path = [x.clone()]
    with torch.no_grad():
        for t in range(1, num_steps + 1):
            x = langevin_step(x, _finite(score_fn(x), x), step, generator=generator, temperature=temperature)
            if (every and t % every == 0) or (not every and t == num_steps):
                path.append(x.clone())
    return x, torch.stack(path)


def annealed_langevin(score_fn: ScoreFn, x0: torch.Tensor, sigmas, *, epsilon: float, steps_per_level: int,
                      generator: torch.Generator, denoise: bool = True, every: int = 0) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    r"""Annealed Langevin dynamics (Song and Ermon 2019): Langevin on :math:`p_{\sigma_i}` for each level in turn.

    At level :math:`\sigma_i` it takes ``steps_per_level`` steps of size
    :math:`\eta_i = \epsilon\,\sigma_i^2/\sigma_L^2`, :math:`\sigma_L` the last level: the step
    shrinks with the blur, so every level mixes about equally well. With ``denoise``, the
    last points are moved to Tweedie's estimate at :math:`\sigma_L`, removing the last
    level's noise.

    Args:
        score_fn: ``score_fn(x, sigma)`` returns :math:`\nabla\log p_\sigma(x)`.
        x0: the starts ``(N, ...)``; the first level should be wide enough to cover them.
        sigmas: the decreasing noise levels (:func:`noise_levels`).
        epsilon: the step size at the last level.
        steps_per_level: steps at each level.
        generator: the seeded source of the noise.
        denoise: end with Tweedie's formula.
        every: keep the chains every this many steps (0: one frame per level).

    Returns:
        ``(x, path)``: the final points and the kept frames ``(K, N, ...)``, start included.
    """
    x, generator, sigmas = _check_start(x0).clone(), _check_generator(generator), _check_sigmas(sigmas)
    epsilon = check_positive("epsilon", epsilon)
    steps_per_level, every = check_int("steps_per_level", steps_per_level), check_int("every", every, minimum=0)
    path, t = [x.clone()], 0
    with torch.no_grad():
        for sigma in sigmas.tolist():
            eta = epsilon * sigma**2 / sigmas[-1].item() ** 2
            for _ in range(steps_per_level):
                x = langevin_step(x, _finite(score_fn(x, sigma), x), eta, generator=generator)
                t += 1
                if every and t % every == 0:
                    path.append(x.clone())
            if not every:
                path.append(x.clone())
        if denoise:
            sigma = sigmas[-1].item()
            x = tweedie(x, _finite(score_fn(x, sigma), x), sigma)
            path[-1] = x.clone()
    return x, torch.stack(path)


def reverse_diffusion(score_fn: ScoreFn, x0: torch.Tensor, sigmas, *, generator: torch.Generator,
                      denoise: bool = True, every: int = 0) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    r"""The diffusion model's ancestral sampler: one noisy ascent step per noise level, from the noisiest down.

    From :math:`x` at level :math:`\sigma_i` to level :math:`\sigma_{i+1}`:

    .. math::

        x \leftarrow x + (\sigma_i^2 - \sigma_{i+1}^2)\, s(x, \sigma_i)
              + \frac{\sigma_{i+1}}{\sigma_i}\sqrt{\sigma_i^2 - \sigma_{i+1}^2}\;\xi,

    a draw from the Gaussian posterior :math:`q(x_{i+1} \mid x_i, \hat x_0)` with
    :math:`\hat x_0` Tweedie's estimate. This is DDPM's sampler (Ho et al. 2020, with the
    posterior variance :math:`\tilde\beta_t`) for the variance-exploding parametrization
    :math:`x_t/\sqrt{\bar\alpha_t}`. With ``denoise``, a last step to Tweedie's estimate
    at :math:`\sigma_L` removes the remaining noise.

    Args and returns: as :func:`annealed_langevin` (``every`` counts levels; 0 keeps only start and end).
    """
    x, generator, sigmas = _check_start(x0).clone(), _check_generator(generator), _check_sigmas(sigmas)
    every = check_int("every", every, minimum=0)
    levels = sigmas.tolist()
    path = [x.clone()]
    with torch.no_grad():
        for i, sigma in enumerate(levels[:-1]):
            below = levels[i + 1]
            drop = sigma**2 - below**2  # the step size of this level's ascent
            x = x + drop * _finite(score_fn(x, sigma), x) + below / sigma * math.sqrt(drop) * _randn(x, generator)
            if every and (i + 1) % every == 0:
                path.append(x.clone())
        if denoise:
            x = tweedie(x, _finite(score_fn(x, levels[-1]), x), levels[-1])
        if not every or len(path) == 1 or not torch.equal(path[-1], x):
            path.append(x.clone())
    return x, torch.stack(path)


def posterior_score(score_fn: ScoreFn, observed: torch.Tensor, mask: torch.Tensor, noise_std: float) -> ScoreFn:
    r"""The score of the posterior :math:`p(x \mid y)`, for sampling reconstructions with the same samplers.

    The observation is :math:`y = m \odot x + \text{noise}`, noise of standard deviation
    ``noise_std`` on the known pixels (mask :math:`m = 1`). At noise level :math:`\sigma`
    the returned score is

    .. math::

        s(x, \sigma) + \frac{m \odot (y - x)}{\text{noise\_std}^2 + \sigma^2},

    the prior's score plus the gradient of the log-likelihood of :math:`y` given the
    blurred :math:`x` (the likelihood's variance widened by :math:`\sigma^2`, a common
    approximation, e.g. Jalal et al. 2021). At :math:`\sigma \to 0` it is exact.
    """
    observed = _check_start(observed, "observed")
    if not isinstance(mask, torch.Tensor):
        raise ValueError(f"mask must be a torch.Tensor, got {type(mask).__name__}")
    try:
        mask = torch.broadcast_to(mask.to(observed), observed.shape)
    except RuntimeError:
        raise ValueError(f"mask of shape {tuple(mask.shape)} does not fit observed of shape {tuple(observed.shape)}") from None
    noise_std = check_number("noise_std", noise_std, low=0.0)

    def score(x: torch.Tensor, sigma: float) -> torch.Tensor:
        return score_fn(x, sigma) + mask * (observed - x) / (noise_std**2 + sigma**2)

    return score


# ----------------------------------------------------------------------------------------------
# Learning the score
# ----------------------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class ScoreConfig:
    r"""The score model and its training (immutable: use ``dataclasses.replace``).

    The network is a denoiser :math:`D(x, \sigma)` with the preconditioning of Karras et
    al. (2022): it sees the noisy image scaled to unit variance and :math:`\log\sigma`, and
    predicts a correction that is mixed with the input so that the output stays of the
    right size at every noise level. Its score is Tweedie's :math:`(D - x)/\sigma^2`.

    Attributes:
        shape: the shape of one image.
        width: width of the residual MLP.
        blocks: residual blocks.
        sigma_data: the data's standard deviation about 1/2 (the preconditioning's scale).
        sigma_min, sigma_max: the range of noise levels of the samplers; ``sigma_max``
            should be at least the largest distance between two training images
            (Song and Ermon 2020), so that the first level hides the data entirely.
        p_mean, p_std: training draws :math:`\log\sigma \sim \mathcal N(p_\text{mean}, p_\text{std}^2)`.
        num_steps, batch_size, lr: Adam on :func:`dsm_loss`, the learning rate warmed up
            over the first 200 steps, then cosine-decayed to 0.
        ema: decay of the weight average that samples (0: none).
        seed: seed of the initial weights and of the training noise.
    """

    shape: tuple[int, ...] = (1, 8, 8)
    width: int = 256
    blocks: int = 3
    sigma_data: float = 0.4
    sigma_min: float = 0.01
    sigma_max: float = 5.0
    p_mean: float = -1.2
    p_std: float = 1.2
    num_steps: int = 8000
    batch_size: int = 256
    lr: float = 2e-3
    ema: float = 0.9995
    seed: int = 0

    def __post_init__(self) -> None:
        def put(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        if not isinstance(self.shape, (tuple, list)) or not self.shape:
            raise ValueError(f"shape must be a non-empty tuple of sizes, got {self.shape!r}")
        put("shape", tuple(check_int("shape", s) for s in self.shape))
        for name in ("width", "blocks", "batch_size"):
            put(name, check_int(name, getattr(self, name)))
        put("num_steps", check_int("num_steps", self.num_steps, minimum=0))
        put("seed", check_int("seed", self.seed, minimum=0))
        for name in ("sigma_data", "sigma_min", "sigma_max", "p_std", "lr"):
            put(name, check_positive(name, getattr(self, name)))
        put("p_mean", check_number("p_mean", self.p_mean))
        put("ema", check_fraction("ema", self.ema))
        if self.sigma_min >= self.sigma_max:
            raise ValueError(f"sigma_min ({self.sigma_min}) must be below sigma_max ({self.sigma_max})")

    def to_dict(self) -> dict:
        """Return the configuration as plain Python values (for checkpoints)."""
        return asdict(self)


class _Block(nn.Module):
    def __init__(self, width: int, embed: int) -> None:
        super().__init__()
        self.norm, self.inner, self.noise, self.outer = nn.LayerNorm(width), nn.Linear(width, width), nn.Linear(embed, width), nn.Linear(width, width)

    def forward(self, h: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        return h + self.outer(F.silu(self.inner(F.silu(self.norm(h))) + self.noise(emb)))


class ScoreNet(nn.Module):
    r"""A noise-conditional denoiser :math:`D(x, \sigma)` for images of ``config.shape``; its score by Tweedie.

    ``model(x, sigma)`` returns the denoised images; :meth:`score` returns
    :math:`(D(x, \sigma) - x)/\sigma^2`. ``sigma`` is a number or a tensor ``(B,)``.
    """

    def __init__(self, config: ScoreConfig) -> None:
        super().__init__()
        self.config = config
        self.image_shape = config.shape
        size, embed = math.prod(config.shape), 128
        self.register_buffer("frequencies", torch.randn(embed // 4, generator=torch.Generator().manual_seed(0)) * 4)
        self.embed = nn.Sequential(nn.Linear(embed // 2, embed), nn.SiLU())
        self.inp = nn.Linear(size, config.width)
        self.blocks = nn.ModuleList(_Block(config.width, embed) for _ in range(config.blocks))
        self.out = nn.Sequential(nn.LayerNorm(config.width), nn.SiLU(), nn.Linear(config.width, size))

    def _sigma(self, sigma, x: torch.Tensor) -> torch.Tensor:
        sigma = torch.as_tensor(sigma, dtype=x.dtype, device=x.device)
        return sigma.expand(len(x)) if sigma.ndim == 0 else sigma

    def forward(self, x: torch.Tensor, sigma) -> torch.Tensor:
        sigma = self._sigma(sigma, x)
        s, sd = sigma[:, None], self.config.sigma_data
        u = x.flatten(1) - 0.5  # pixels in [0, 1], centred
        c_skip, c_out, c_in = sd**2 / (s**2 + sd**2), s * sd / (s**2 + sd**2).sqrt(), 1 / (s**2 + sd**2).sqrt()
        angles = 2 * math.pi * (sigma.log() / 4)[:, None] * self.frequencies
        emb = self.embed(torch.cat([angles.sin(), angles.cos()], dim=1))
        h = self.inp(c_in * u)
        for block in self.blocks:
            h = block(h, emb)
        return (0.5 + c_skip * u + c_out * self.out(h)).view(x.shape)

    def score(self, x: torch.Tensor, sigma) -> torch.Tensor:
        """Return :math:`\\nabla_x \\log p_\\sigma(x)` by Tweedie's formula, shaped like ``x``."""
        s = self._sigma(sigma, x).view((-1,) + (1,) * (x.ndim - 1))
        return (self(x, sigma) - x) / s**2


def preconditioned_weight(sigma: torch.Tensor, sigma_data: float) -> torch.Tensor:
    r"""The per-sample weight :math:`1 + \sigma^2/\sigma_\text{data}^2` of training (Karras et al. 2022).

    With it, :func:`dsm_loss` is :math:`\lVert D - x_0\rVert^2/c_\text{out}^2`: every noise
    level contributes a loss of order 1.
    """
    return 1 + sigma**2 / sigma_data**2


@dataclass
class ScoreResult:
    """What :func:`train_score` returns.

    Attributes:
        config: the settings.
        model: the trained network; ``ema_model`` its weight average (``None`` when
            ``config.ema == 0``); :attr:`sampler` the one to sample from.
        history: ``'step'`` and ``'loss'`` (the mean over the last 50 steps) every 50 steps;
            ``'eval_step'`` and ``'eval_<name>'`` for each number ``evaluate`` returned.
    """

    config: ScoreConfig
    model: ScoreNet
    ema_model: ScoreNet | None
    history: dict[str, list[float]] = field(default_factory=dict)

    @property
    def sampler(self) -> ScoreNet:
        return self.ema_model if self.ema_model is not None else self.model


def _check_images(x: Any, config: ScoreConfig) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if tuple(x.shape[1:]) != config.shape or not len(x):
        raise ValueError(f"x must have shape (N, {', '.join(map(str, config.shape))}), got {tuple(x.shape)}")
    if not x.is_floating_point() or not torch.isfinite(x).all():
        raise ValueError("x must be finite floats")
    return x


def train_score(
    x: torch.Tensor,
    config: ScoreConfig | None = None,
    *,
    device: str | torch.device | None = None,
    progress: bool = True,
    eval_every: int = 0,
    evaluate: Callable[[ScoreNet], dict[str, float]] | None = None,
) -> ScoreResult:
    """Train a :class:`ScoreNet` on images ``x`` ``(N, *config.shape)`` by denoising score matching.

    Each step draws ``batch_size`` images, a noise level per image
    (:math:`\\log\\sigma \\sim \\mathcal N(p_\\text{mean}, p_\\text{std}^2)`) and the noise,
    all from a CPU generator seeded with ``config.seed``, and takes one Adam step down
    :func:`dsm_loss` weighted by :func:`preconditioned_weight`.

    Args:
        x: the training images.
        config: the settings (default :class:`ScoreConfig()`).
        device: where to train (default: :func:`gaedu.get_device`).
        progress: show a tqdm progress bar.
        eval_every, evaluate: call ``evaluate(sampler)`` every this many steps and record
            its numbers in the history (as :func:`gaedu.gan.train_gan` does).

    Raises:
        ValueError: bad images or settings.
    """
    config = config or ScoreConfig()
    x = _check_images(x, config)
    eval_every = check_int("eval_every", eval_every, minimum=0)
    device = get_device(device)
    x = x.to(device, torch.float32)
    model = seeded(lambda: ScoreNet(config), config.seed).to(device)
    ema = copy.deepcopy(model).requires_grad_(False) if config.ema > 0 else None
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    total = max(config.num_steps, 1)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda i: min(1.0, (i + 1) / 200) * 0.5 * (1 + math.cos(math.pi * min(i, total) / total)))
    noise = torch.Generator().manual_seed(config.seed)
    result = ScoreResult(config, model, ema, {"step": [], "loss": []})
    bar = tqdm(range(1, config.num_steps + 1), desc="score model", disable=not progress, mininterval=1.0)
    running = []
    for step in bar:
        index = torch.randint(len(x), (config.batch_size,), generator=noise)
        sigma = (torch.randn(config.batch_size, generator=noise) * config.p_std + config.p_mean).exp()
        eps = torch.randn((config.batch_size, *config.shape), generator=noise)
        sigma, eps = sigma.to(device), eps.to(device)
        loss = dsm_loss(model.score, x[index.to(device)], sigma, eps, preconditioned_weight(sigma, config.sigma_data))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        schedule.step()
        if ema is not None:
            update_ema(ema, model, config.ema, step)
        running.append(loss.item())
        if step % 50 == 0 or step == config.num_steps:
            result.history["step"].append(step)
            result.history["loss"].append(sum(running) / len(running))
            bar.set_postfix(loss=f"{result.history['loss'][-1]:.3f}", refresh=False)
            running = []
        if eval_every and evaluate is not None and (step % eval_every == 0 or step == config.num_steps):
            for name, number in evaluate(result.sampler).items():
                result.history.setdefault(f"eval_{name}", []).append(number)
            result.history.setdefault("eval_step", []).append(step)
    bar.close()
    model.eval()
    if ema is not None:
        ema.eval()
    return result


def _model_score(model: ScoreNet) -> ScoreFn:
    return lambda x, sigma: model.score(x, sigma)


#: The default settings of :func:`sample`: annealed Langevin with Song and Ermon's (2019) published
#: settings (10 levels of 100 steps, step 2e-5 at the last level), reverse diffusion with DDPM's 1000 levels.
LANGEVIN_LEVELS, LANGEVIN_STEPS, LANGEVIN_EPSILON, DIFFUSION_LEVELS = 10, 100, 2e-5, 1000


@torch.no_grad()
def sample(
    model: ScoreNet,
    n: int,
    *,
    seed: int = 0,
    method: str = "langevin",
    steps: int | None = None,
    epsilon: float = LANGEVIN_EPSILON,
    steps_per_level: int = LANGEVIN_STEPS,
    every: int = 0,
    batch_size: int = 1000,
    progress: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Draw ``n`` images from a score model, clipped to [0, 1], on the CPU.

    The chains start at :math:`1/2 + \\sigma_\\text{max}\\,\\xi` and descend noise levels from
    the model's ``sigma_max`` to its ``sigma_min``: geometric ones for annealed Langevin,
    :func:`noise_levels` with ``rho=7`` for reverse diffusion.

    Args:
        model: a trained :class:`ScoreNet`.
        n: the number of images.
        seed: the seed of the starts and of all the noise.
        method: ``'langevin'`` (:func:`annealed_langevin`: ``steps`` levels, default
            :data:`LANGEVIN_LEVELS`, of ``steps_per_level`` steps, step ``epsilon`` at the last)
            or ``'diffusion'`` (:func:`reverse_diffusion`: ``steps`` levels, default
            :data:`DIFFUSION_LEVELS`).
        every: also return the frames (see the samplers), for an animation.
        batch_size: chains run together; the draw depends on it (the noise is drawn batch by batch).
        progress: show a progress bar over the images drawn.

    Returns:
        ``(n, *shape)`` images, or ``(images, frames)`` with ``every`` (frames
        ``(K, n, *shape)``, not clipped).
    """
    n, seed = check_int("n", n), check_int("seed", seed, minimum=0)
    method = check_choice("method", method, METHODS)
    config = model.config
    steps = check_int("steps", steps if steps is not None else (DIFFUSION_LEVELS if method == "diffusion" else LANGEVIN_LEVELS))
    batch_size, every = check_int("batch_size", batch_size), check_int("every", every, minimum=0)
    if method == "diffusion" and steps < 2:
        raise ValueError("steps must be at least 2 for method='diffusion'")
    device = device_of(model)
    generator = torch.Generator().manual_seed(seed)
    sigmas = noise_levels(config.sigma_max, config.sigma_min, steps, rho=7.0 if method == "diffusion" else None)
    images, frames = [], []
    bar = tqdm(total=n, desc="sampling", unit="image", disable=not progress, leave=False)
    for start in range(0, n, batch_size):
        m = min(batch_size, n - start)
        x0 = (0.5 + config.sigma_max * torch.randn((m, *config.shape), generator=generator)).to(device)
        if method == "diffusion":
            x, path = reverse_diffusion(_model_score(model), x0, sigmas, generator=generator, every=every)
        else:
            x, path = annealed_langevin(_model_score(model), x0, sigmas, epsilon=epsilon, steps_per_level=steps_per_level,
                                        generator=generator, every=every)  # fmt: skip
        images.append(x.clamp(0, 1).cpu())
        frames.append(path.cpu())
        bar.update(m)
    bar.close()
    images = torch.cat(images)
    return (images, torch.cat(frames, dim=1)) if every else images


def save_score(path: str | os.PathLike, result: ScoreResult, info: dict | None = None) -> Path:
    """Write a trained score model (both networks) to a checkpoint of kind ``'score'``; return the path."""
    state = {"model": result.model.state_dict()}
    if result.ema_model is not None:
        state["ema_model"] = result.ema_model.state_dict()
    return save_checkpoint(path, "score", result.config.to_dict(), state, info)


def load_score(path: str | os.PathLike, *, device: str | torch.device | None = None) -> ScoreNet:
    """Load the network to sample from (the weight average when saved) from a score checkpoint, in eval mode.

    Raises:
        gaedu.checkpoint.CheckpointError: the file is missing, corrupt, foreign or inconsistent.
    """

    def build(payload: dict) -> tuple[ScoreNet, dict]:
        state = payload["state"]
        return ScoreNet(ScoreConfig(**payload["config"])), state.get("ema_model", state["model"])

    return load_model(path, "score", build, device=device)


#: The book's score model of the 8×8 digits (the defaults): about two and a half minutes on two CPU cores.
DIGITS_SCORE = ScoreConfig()
