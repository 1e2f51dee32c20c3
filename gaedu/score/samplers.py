r"""The samplers: Langevin dynamics, annealed Langevin, reverse diffusion and DDIM, each a loop of ascent steps.

Every sampler takes a score function ``score_fn(x, sigma)`` (:data:`gaedu.tweedie.ScoreFn`); those that
add noise take an ``rng=`` (a seeded :class:`torch.Generator`; the global random state is untouched).
:func:`ddim` adds none: it follows the probability-flow ODE.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from gaedu._validation import check_int, check_number, check_positive
from gaedu.tweedie import ScoreFn, tweedie

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


def _check_rng(rng: Any) -> torch.Generator:
    if rng is None:
        raise ValueError("rng must be a torch.Generator (seed it, e.g. torch.Generator().manual_seed(0))")
    if not isinstance(rng, torch.Generator):
        raise ValueError(f"rng must be a torch.Generator, got {type(rng).__name__}")
    return rng


def _check_sigmas(sigmas: Any) -> torch.Tensor:
    sigmas = torch.as_tensor(sigmas, dtype=torch.float64)
    if sigmas.ndim != 1 or not len(sigmas) or not torch.isfinite(sigmas).all() or (sigmas <= 0).any():
        raise ValueError(f"sigmas must be a non-empty 1-D list of noise levels > 0, got {sigmas.tolist()}")
    if len(sigmas) > 1 and (sigmas[1:] >= sigmas[:-1]).any():
        raise ValueError("sigmas must decrease strictly (from the noisiest level to the cleanest)")
    return sigmas


def _randn(x: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
    """Standard normal noise shaped like ``x``, drawn on the CPU (the same numbers on every device)."""
    return torch.randn(x.shape, generator=rng, dtype=x.dtype).to(x.device)


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
# Samplers: explicit ascent steps plus noise
# ----------------------------------------------------------------------------------------------


def langevin_step(x: torch.Tensor, score: torch.Tensor, step: float, *, rng: torch.Generator,
                  temperature: float = 1.0) -> torch.Tensor:  # fmt: skip
    r"""One Langevin step: :math:`x + \eta\,s + \sqrt{2\eta\mathcal T}\,\xi`, ascent on :math:`\log p` plus noise.

    At temperature :math:`\mathcal T` the chain's stationary law is :math:`\propto p^{1/\mathcal T}`
    (for small :math:`\eta`); :math:`\mathcal T = 1` samples :math:`p` itself.
    """
    step = check_positive("step", step)
    temperature = check_number("temperature", temperature, low=0.0)
    return x + step * score + math.sqrt(2 * step * temperature) * _randn(x, rng)


def langevin(score_fn: Callable[[torch.Tensor], torch.Tensor], x0: torch.Tensor, step: float, num_steps: int, *,
             rng: torch.Generator, temperature: float = 1.0, every: int = 0) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    r"""Run ``num_steps`` Langevin steps (:func:`langevin_step`) from ``x0`` ``(N, ...)``.

    Args:
        score_fn: ``score_fn(x)`` returns :math:`\nabla\log p(x)`, shaped like ``x``.
        x0: the chains' starts (one chain per row).
        step: the step size :math:`\eta`.
        num_steps: the number of steps, ``>= 0``.
        rng: the seeded source of the noise (a :class:`torch.Generator`).
        temperature: :math:`\mathcal T` (1: sample ``p``).
        every: keep the chains every this many steps (0: only the start and the end).

    Returns:
        ``(x, path)``: the final points, and the kept points ``(K, N, ...)`` (start included).
    """
    x, rng = _check_start(x0).clone(), _check_rng(rng)
    num_steps, every = check_int("num_steps", num_steps, minimum=0), check_int("every", every, minimum=0)
    path = [x.clone()]
    with torch.no_grad():
        for t in range(1, num_steps + 1):
            x = langevin_step(x, _finite(score_fn(x), x), step, rng=rng, temperature=temperature)
            if (every and t % every == 0) or (not every and t == num_steps):
                path.append(x.clone())
    return x, torch.stack(path)


def annealed_langevin(score_fn: ScoreFn, x0: torch.Tensor, sigmas, *, epsilon: float, steps_per_level: int,
                      rng: torch.Generator, denoise: bool = True, every: int = 0) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
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
        rng: the seeded source of the noise (a :class:`torch.Generator`).
        denoise: end with Tweedie's formula.
        every: keep the chains every this many steps (0: one frame per level).

    Returns:
        ``(x, path)``: the final points and the kept frames ``(K, N, ...)``, start included.
    """
    x, rng, sigmas = _check_start(x0).clone(), _check_rng(rng), _check_sigmas(sigmas)
    epsilon = check_positive("epsilon", epsilon)
    steps_per_level, every = check_int("steps_per_level", steps_per_level), check_int("every", every, minimum=0)
    path, t = [x.clone()], 0
    with torch.no_grad():
        for sigma in sigmas.tolist():
            eta = epsilon * sigma**2 / sigmas[-1].item() ** 2
            for _ in range(steps_per_level):
                x = langevin_step(x, _finite(score_fn(x, sigma), x), eta, rng=rng)
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


def reverse_diffusion(score_fn: ScoreFn, x0: torch.Tensor, sigmas, *, rng: torch.Generator,
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
    rng = _check_rng(rng)

    def step(x: torch.Tensor, score: torch.Tensor, sigma: float, below: float) -> torch.Tensor:
        drop = sigma**2 - below**2  # the step size of this level's ascent
        return x + drop * score + below / sigma * math.sqrt(drop) * _randn(x, rng)

    return _descend(score_fn, x0, sigmas, step, denoise, every)


def _descend(score_fn: ScoreFn, x0: torch.Tensor, sigmas, step, denoise: bool, every: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The loop :func:`reverse_diffusion` and :func:`ddim` share: one ``step(x, score, sigma, below)`` per level, then Tweedie."""
    x, sigmas = _check_start(x0).clone(), _check_sigmas(sigmas)
    every = check_int("every", every, minimum=0)
    levels = sigmas.tolist()
    path = [x.clone()]
    with torch.no_grad():
        for i, sigma in enumerate(levels[:-1]):
            x = step(x, _finite(score_fn(x, sigma), x), sigma, levels[i + 1])
            if every and (i + 1) % every == 0:
                path.append(x.clone())
        if denoise:
            x = tweedie(x, _finite(score_fn(x, levels[-1]), x), levels[-1])
        if not every or len(path) == 1 or not torch.equal(path[-1], x):
            path.append(x.clone())
    return x, torch.stack(path)


def ddim(score_fn: ScoreFn, x0: torch.Tensor, sigmas, *, denoise: bool = True,
         every: int = 0) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    r"""Deterministic sampling (DDIM, Song, Meng and Ermon 2021): no noise, one network evaluation per level.

    From :math:`x` at level :math:`\sigma_i` to level :math:`\sigma_{i+1}`, with Tweedie's estimate
    :math:`\hat x_0 = x + \sigma_i^2 s(x, \sigma_i)`:

    .. math::

        x \leftarrow \hat x_0 + \frac{\sigma_{i+1}}{\sigma_i}\,(x - \hat x_0)
          = x + \sigma_i(\sigma_i - \sigma_{i+1})\, s(x, \sigma_i),

    an ascent step on :math:`\log p_{\sigma_i}` of size :math:`\sigma_i(\sigma_i - \sigma_{i+1})`
    with no noise added. It is Euler's method on the probability-flow ODE
    :math:`\mathrm dx/\mathrm d\sigma = -\sigma\,\nabla_x\log p_\sigma(x)` (Song et al. 2021, eq. 13;
    Karras et al. 2022, eq. 4), whose exact solution carries :math:`p_{\sigma_\text{max}}` to every :math:`p_{\sigma}`.
    The ancestral step of :func:`reverse_diffusion` climbs further, :math:`\sigma_i^2 - \sigma_{i+1}^2`,
    about twice as far for close levels, and adds back noise: half of its ascent undoes that noise.

    Args and returns: as :func:`reverse_diffusion`, without ``rng`` (nothing is random after the start).
    """
    def step(x: torch.Tensor, score: torch.Tensor, sigma: float, below: float) -> torch.Tensor:
        return x + sigma * (sigma - below) * score  # ascent, no noise

    return _descend(score_fn, x0, sigmas, step, denoise, every)


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


