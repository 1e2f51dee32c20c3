"""Exercises of the chapter "Generating by climbing the log-density": a Langevin step, a temperature, Tweedie, a noise ladder."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from gaedu.exercises._feedback import _call, _fail, _ok, _to_array, _to_number
from gaedu.score import annealed_langevin, mixture_score

#: The two-mode target of the ladder exercise: modes at ±LADDER_SEPARATION/2, each of
#: standard deviation LADDER_STD, with weights LADDER_WEIGHTS.
LADDER_SEPARATION, LADDER_STD, LADDER_WEIGHTS = 6.0, 0.1, (0.3, 0.7)
#: The sampler the ladder is tried with: annealed Langevin, step LADDER_RATIO·σ² at level σ,
#: LADDER_STEPS steps per level, LADDER_CHAINS chains started at σ_max·ξ, at most LADDER_MAX_LEVELS levels.
LADDER_RATIO, LADDER_STEPS, LADDER_CHAINS, LADDER_MAX_LEVELS = 0.1, 60, 4000, 30


def _cases(seed: int = 5) -> list[tuple[torch.Tensor, torch.Tensor, float, torch.Tensor]]:
    rng = torch.Generator().manual_seed(seed)
    return [(torch.randn(n, d, generator=rng, dtype=torch.float64), torch.randn(n, d, generator=rng, dtype=torch.float64),
             eta, torch.randn(n, d, generator=rng, dtype=torch.float64))
            for n, d, eta in ((5, 2, 0.01), (3, 64, 0.2), (1, 1, 1.5))]  # fmt: skip


def check_langevin_step(step: Callable[[torch.Tensor, torch.Tensor, float, torch.Tensor], Any]) -> None:
    """Check ``step(x, score, eta, noise)``: one Langevin step that samples ``p`` (temperature 1), ``noise`` standard normal."""
    for x, score, eta, noise in _cases():
        want = (x + eta * score + math.sqrt(2 * eta) * noise).numpy()
        got = _to_array(_call(step, x.clone(), score.clone(), eta, noise.clone()), f"points of shape {tuple(x.shape)}")
        if got.shape != want.shape:
            _fail(f"for x of shape {tuple(x.shape)} the step must return the same shape, got {got.shape}")
        if np.allclose(got, want, rtol=1e-6, atol=1e-9):
            continue
        drift = x + eta * score
        if np.allclose(got, (x - eta * score + math.sqrt(2 * eta) * noise).numpy(), rtol=1e-6):
            _fail("your step goes down the log-density: a sampler climbs it, so add the score")
        if np.allclose(got, drift.numpy(), rtol=1e-6):
            _fail("that is plain gradient ascent: without noise the chain climbs to a top and stays there")
        if np.allclose(got, (drift + math.sqrt(eta) * noise).numpy(), rtol=1e-6):
            _fail(f"with eta = {eta} your noise samples p², not p: its variance is half what temperature 1 needs")
        if np.allclose(got, (drift + eta * noise).numpy(), rtol=1e-6):
            _fail("your noise shrinks like the step itself: over many steps it averages away, and the chain stops sampling")
        _fail(f"for eta = {eta} your step is not the Langevin step: check the drift and the size of the noise separately")
    _ok("your step climbs the log-density with the noise that makes p its stationary law")


#: (step η, noise scale c) pairs the temperature checker tries: x ← x + η∇J + c·ξ.
TEMPERATURE_CASES = ((0.1, 0.3), (0.01, 0.5), (0.5, 0.8), (2.0, 0.3))


def check_stationary_temperature(temperature: Callable[[float, float], Any]) -> None:
    """Check ``temperature(eta, c)``: the 𝒯 of the stationary law ∝ exp(J/𝒯) of x ← x + η∇J + c·ξ."""
    for eta, c in TEMPERATURE_CASES:
        want = c**2 / (2 * eta)
        got = _to_number(_call(temperature, eta, c), "one temperature")
        if math.isclose(got, want, rel_tol=1e-6):
            continue
        if math.isclose(got, c**2 / eta, rel_tol=1e-6):
            _fail(f"for eta = {eta}, c = {c} you are a factor 2 too hot: the diffusion's generator has ½ in front of the noise")
        if math.isclose(got, eta * c**2 / 2, rel_tol=1e-6):
            _fail(f"for eta = {eta}, c = {c}: here the noise c is added as it is, not multiplied by the step "
                  "as in the noisy ascent of the local-optima chapter")  # fmt: skip
        if math.isclose(got, c / (2 * eta), rel_tol=1e-6) or math.isclose(got, c / eta, rel_tol=1e-6):
            _fail(f"for eta = {eta}, c = {c}: a temperature is a variance per unit of time; your answer is not a variance")
        _fail(f"for eta = {eta}, c = {c} the stationary law is not exp(J/𝒯) with your 𝒯: match the noise's variance "
              "per step to 2𝒯 times the step")  # fmt: skip
    _ok("your temperature is right for every step size and noise level tried")


#: (x, μ, v, σ) for the Tweedie checker: data N(μ, v), observed x = x₀ + σ·noise.
TWEEDIE_CASES = ((1.0, 0.0, 1.0, 0.5), (3.0, 1.0, 0.25, 0.5), (-2.0, 0.5, 4.0, 0.1), (0.3, -1.0, 0.01, 2.0))


def check_tweedie_gaussian(denoise: Callable[[float, float, float, float], Any]) -> None:
    """Check ``denoise(x, mu, v, sigma)``: E[x₀ | x] for x₀ ~ N(mu, v) and x = x₀ + sigma·noise, by Tweedie's formula."""
    for x, mu, v, sigma in TWEEDIE_CASES:
        want = (v * x + sigma**2 * mu) / (v + sigma**2)
        got = _to_number(_call(denoise, x, mu, v, sigma), "one denoised value")
        if math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-9):
            continue
        if math.isclose(got, x, rel_tol=1e-6) or math.isclose(got, mu, rel_tol=1e-6, abs_tol=1e-9):
            _fail(f"for x = {x}, mu = {mu}, v = {v}, sigma = {sigma}: the answer lies strictly between the "
                  "observation and the prior's mean")  # fmt: skip
        if math.isclose(got, (sigma**2 * x + v * mu) / (v + sigma**2), rel_tol=1e-6):
            _fail(f"for x = {x}, mu = {mu}, v = {v}, sigma = {sigma}: you trust the observation most when it is "
                  "noisiest; the weights are the other way round")  # fmt: skip
        if math.isclose(got, x - sigma**2 * (x - mu) / v, rel_tol=1e-6):
            _fail(f"for x = {x}, sigma = {sigma}: Tweedie uses the score of the *noisy* x, whose variance is not v")
        _fail(f"for x = {x}, mu = {mu}, v = {v}, sigma = {sigma} that is not E[x₀ | x]: write the score of the noisy x "
              "and add sigma² times it")  # fmt: skip
    _ok("your denoiser is Tweedie's estimate for every Gaussian tried")


def _two_modes() -> tuple[torch.Tensor, torch.Tensor]:
    half = LADDER_SEPARATION / 2
    return torch.tensor([[-half], [half]], dtype=torch.float64), torch.tensor(LADDER_WEIGHTS, dtype=torch.float64)


def ladder_shares(sigmas, *, seed: int = 0) -> tuple[np.ndarray, float, float]:
    """Run the ladder exercise's sampler with the levels ``sigmas``: return each mode's share, the share at a mode, the spread.

    "At" a mode means within 3 standard deviations (``3 * LADDER_STD``) of it; the spread
    is the standard deviation of those chains about their mode (``LADDER_STD`` for a
    perfect sampler).
    """
    centres, weights = _two_modes()
    sigmas = torch.as_tensor(sigmas, dtype=torch.float64)
    rng = torch.Generator().manual_seed(seed)
    x0 = float(sigmas[0]) * torch.randn(LADDER_CHAINS, 1, generator=rng, dtype=torch.float64)

    def score(x, sigma):
        return mixture_score(x, centres, LADDER_STD, sigma=sigma, weights=weights)

    epsilon = LADDER_RATIO * float(sigmas[-1]) ** 2
    x, _ = annealed_langevin(score, x0, sigmas, epsilon=epsilon, steps_per_level=LADDER_STEPS, rng=rng)
    offsets = x - centres.T  # (chains, 2): the distance to each mode
    near = offsets.abs() <= 3 * LADDER_STD
    spread = float(offsets[near].pow(2).mean().sqrt()) if near.any() else 0.0
    return near.double().mean(0).numpy(), float(near.any(1).double().mean()), spread


def check_noise_ladder(sigmas: Any) -> None:
    """Check a decreasing list of noise levels with which annealed Langevin samples the two-mode target with its weights."""
    levels = _to_array(sigmas, "a list of noise levels, largest first").astype(float).ravel()
    if not len(levels) or not np.isfinite(levels).all() or (levels <= 0).any():
        _fail("the noise levels must be positive numbers")
    if len(levels) > 1 and (np.diff(levels) >= 0).any():
        _fail("the levels must decrease: start blurred, end sharp")
    if len(levels) > LADDER_MAX_LEVELS:
        _fail(f"{len(levels)} levels is more than the budget of {LADDER_MAX_LEVELS}: space them further apart")
    shares, near, spread = ladder_shares(levels)
    if near < 0.95:
        if levels[-1] > 2 * LADDER_STD:
            _fail(f"only {100 * near:.0f} % of the chains end at a mode: the last level still blurs the modes")
        _fail(f"only {100 * near:.0f} % of the chains end at a mode: the steps between levels are too big for the chains to follow")
    if abs(shares[1] - LADDER_WEIGHTS[1]) > 0.05:
        if levels[0] < LADDER_SEPARATION / 2:
            _fail(f"the heavier mode holds {100 * shares[1]:.0f} % of the chains: the first level does not blur the "
                  "two modes into one hill, so the chains stay where they started")  # fmt: skip
        _fail(f"the heavier mode holds {100 * shares[1]:.0f} % of the chains: the chains choose their mode before the "
              "levels let them compare the two; add levels where the hills separate")  # fmt: skip
    if spread < 0.7 * LADDER_STD:
        _fail(f"the chains sit {spread:.3f} from their mode on average, closer than the modes' own spread: the last "
              "level is so coarse that the final denoising step pulls every chain onto a mode's centre")  # fmt: skip
    if spread > 1.3 * LADDER_STD:
        _fail(f"the chains sit {spread:.3f} from their mode on average, farther than the modes' own spread: "
              "the last levels are too coarse or too few for the chains to settle")  # fmt: skip
    _ok(f"your {len(levels)} levels give the modes {100 * shares[0]:.1f} % and {100 * shares[1]:.1f} % of the chains, "
        f"{100 * near:.1f} % at a mode, spread {spread:.3f} about it")  # fmt: skip
