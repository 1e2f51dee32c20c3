"""Exercises of the chapter "Steering the ascent": the guided score from Bayes' rule, and one DDIM step."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from gaedu.exercises._feedback import _call, _fail, _ok, _to_array
from gaedu.score import ddim, mixture_log_posterior, mixture_score

#: The two classes of the guided-score exercise: class 0 is N(-GUIDE_MEAN, GUIDE_STD²), class 1
#: N(+GUIDE_MEAN, GUIDE_STD²), with prior weights GUIDE_WEIGHTS, in one dimension.
GUIDE_MEAN, GUIDE_STD, GUIDE_WEIGHTS = 2.0, 0.5, (0.7, 0.3)


def _guide_centres() -> tuple[torch.Tensor, torch.Tensor]:
    return torch.tensor([[-GUIDE_MEAN], [GUIDE_MEAN]], dtype=torch.float64), torch.tensor(GUIDE_WEIGHTS, dtype=torch.float64)


def guide_prior_score(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """The score of the exercise's two-class mixture blurred by noise ``sigma``, at points ``x`` of shape ``(n, 1)``."""
    centres, weights = _guide_centres()
    return mixture_score(x, centres, GUIDE_STD, sigma=sigma, weights=weights)


def guide_class_probability(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """p_σ(class 1 | x) of the exercise's mixture, shape ``(n, 1)``: the exact classifier of blurred points."""
    centres, weights = _guide_centres()
    return mixture_log_posterior(x, centres, GUIDE_STD, sigma=sigma, weights=weights)[:, 1:].exp()


def _guide_cases() -> list[tuple[torch.Tensor, float]]:
    rng = torch.Generator().manual_seed(3)
    return [(4 * torch.randn(n, 1, generator=rng, dtype=torch.float64), sigma) for n, sigma in ((7, 0.0), (5, 0.3), (9, 1.5), (4, 4.0))]


def check_guided_score(guided_score: Callable[[torch.Tensor, float], Any]) -> None:
    """Check ``guided_score(x, sigma)``: the score of p_σ(x | class 1), written as the prior's score plus the class gradient."""
    for x, sigma in _guide_cases():
        variance = GUIDE_STD**2 + sigma**2
        want = (-(x - GUIDE_MEAN) / variance).numpy()
        got = _to_array(_call(guided_score, x.clone(), sigma), f"scores of shape {tuple(x.shape)}")
        if got.shape != want.shape:
            _fail(f"for x of shape {tuple(x.shape)} the score must have the same shape, got {got.shape}")
        if np.allclose(got, want, rtol=1e-6, atol=1e-9):
            continue
        prior = guide_prior_score(x, sigma).numpy()
        if np.allclose(got, prior, rtol=1e-6, atol=1e-9):
            _fail(f"at sigma = {sigma} that is the prior's score alone: add the gradient of log p(class 1 | x)")
        if np.allclose(got, (-(x + GUIDE_MEAN) / variance).numpy(), rtol=1e-6, atol=1e-9):
            _fail(f"at sigma = {sigma} your points are pushed to class 0: climb log p(class 1 | x), not its complement")
        if np.allclose(got, (-(x - GUIDE_MEAN) / GUIDE_STD**2).numpy(), rtol=1e-6, atol=1e-9):
            _fail(f"at sigma = {sigma} your score ignores the blur: each class is N(±2, 0.5² + sigma²) at that level")
        _fail(f"at sigma = {sigma} that is not the score of p(x | class 1): by Bayes' rule it is the prior's score plus "
              "the gradient of log p(class 1 | x); check your gradient against autograd on a few points")  # fmt: skip
    _ok("your guided score is the score of the class's own Gaussian at every level tried: Bayes' rule, in gradients")


def _gaussian_score(mean: float, variance: float) -> Callable[[torch.Tensor, float], torch.Tensor]:
    return lambda x, sigma: -(x - mean) / (variance + sigma**2)


def _ddim_cases() -> list[tuple[torch.Tensor, float, float, float, float]]:
    rng = torch.Generator().manual_seed(4)
    return [(torch.randn(n, d, generator=rng, dtype=torch.float64) * s, s, below, mean, variance)
            for n, d, s, below, mean, variance in ((6, 1, 4.0, 2.5, 0.5, 0.2), (3, 64, 1.0, 0.3, -1.0, 1.0),
                                                   (2, 2, 0.5, 0.01, 0.0, 0.04))]  # fmt: skip


def check_ddim_step(ddim_step: Callable[[torch.Tensor, torch.Tensor, float, float], Any]) -> None:
    """Check ``ddim_step(x, score, sigma, below)``: one deterministic step from level ``sigma`` down to ``below``.

    The step followed by Tweedie's denoising at ``below`` must equal ``gaedu.score.ddim`` over the two levels.
    """
    for x, sigma, below, mean, variance in _ddim_cases():
        score_fn = _gaussian_score(mean, variance)
        score = score_fn(x, sigma)
        got = _to_array(_call(ddim_step, x.clone(), score.clone(), sigma, below), f"points of shape {tuple(x.shape)}")
        if got.shape != tuple(x.shape):
            _fail(f"for x of shape {tuple(x.shape)} the step must return the same shape, got {got.shape}")
        stepped = torch.from_numpy(got.astype(np.float64))
        denoised = stepped + below**2 * score_fn(stepped, below)  # Tweedie at the lower level
        want, _ = ddim(score_fn, x, torch.tensor([sigma, below], dtype=torch.float64))
        if np.allclose(denoised.numpy(), want.numpy(), rtol=1e-6, atol=1e-9):
            continue
        if np.allclose(got, (x + (sigma**2 - below**2) * score).numpy(), rtol=1e-6, atol=1e-9):
            _fail(f"from sigma = {sigma} to {below} that is the ancestral step without its noise: it climbs about twice "
                  "as far as the flow, and collapses the modes")  # fmt: skip
        x0 = x + sigma**2 * score
        if np.allclose(got, x0.numpy(), rtol=1e-6, atol=1e-9):
            _fail(f"from sigma = {sigma} to {below} you jumped to Tweedie's estimate: keep the part of x − x̂₀ that "
                  "the lower level's noise still has")  # fmt: skip
        if np.allclose(got, (x0 + (sigma / below) * (x - x0)).numpy(), rtol=1e-6, atol=1e-9):
            _fail("your ratio of noise levels is upside down: the step must shrink the noise, not grow it")
        _fail(f"from sigma = {sigma} to {below} that is not the deterministic step: after it, the part of x that is not "
              "Tweedie's estimate must have the lower level's size")  # fmt: skip
    _ok("your step followed by the last denoising matches gaedu.score.ddim at every level tried")


#: The accuracy the guidance-scale exercise aims at (percent of digits judged the class asked for).
TARGET_ACCURACY = 95.0
#: The per-class budget and the scales' bracket of the guidance-scale exercise.
SCALE_DIGITS, SCALE_BRACKET = 30, (1.0, 4.0)


def bisect_scale(accuracy: Callable[[float], float], low: float, high: float, *, target: float = TARGET_ACCURACY,
                 rounds: int = 4) -> tuple[float, list[tuple[float, float]]]:  # fmt: skip
    """The smallest scale in ``[low, high]`` whose ``accuracy(scale)`` reaches ``target``, by bisection.

    Assumes the accuracy grows with the scale (it does on average; a noisy curve can fool it by a round).
    Returns the scale and every ``(scale, accuracy)`` tried. ``accuracy(high)`` must reach the target.
    """
    tried = [(high, float(accuracy(high)))]
    if tried[0][1] < target:
        raise ValueError(f"the accuracy at scale {high:g} is {tried[0][1]:.1f} %, below the target {target:g} %: widen the bracket")
    for _ in range(rounds):
        middle = math.sqrt(low * high) if low > 0 else (low + high) / 2
        tried.append((middle, float(accuracy(middle))))
        low, high = (middle, high) if tried[-1][1] < target else (low, middle)
    return high, tried
