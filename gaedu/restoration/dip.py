r"""Deep Image Prior (Ulyanov, Vedaldi and Lempitsky 2018): restore an image by fitting a network's weights.

A convolutional decoder :math:`f_θ` maps a fixed random input :math:`z` to an image. Nothing
is learned from other images: the weights :math:`θ` are fitted to the one observation by
ascent on

.. math::

    J(θ) = -\frac{1}{|Ω|} \sum_{i \in Ω} \big(A f_θ(z) - y\big)_i^2,

the mean over the observed pixels :math:`Ω`. The restored image is :math:`f_θ(z)`. A
network of convolutions fits natural structure long before it fits noise, so the
quality against the clean image first rises, then falls as the network fits the noise
too. The stopping rule must therefore not need the clean image; :func:`deep_image_prior`
uses the discrepancy principle: stop once the residual is as small as the noise alone
would make it, :math:`-J(θ) \le σ^2`.

This is what the source's decoder section describes (a decoder's parameters optimised so
that its output matches the image), with the input fixed and the stopping rule added.
"""

from __future__ import annotations

import math
import time

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from gaedu._validation import check_choice, check_fraction, check_int, check_nonnegative, check_positive
from gaedu.cache import cached_result
from gaedu.data import load_photo
from gaedu.device import get_device
from gaedu.nets import seeded
from gaedu.restoration.problem import Problem, degrade
from gaedu.restoration.result import RestorationResult, check_clean, check_problem, image_psnr

STOPS = ("discrepancy", "none")


def _block(cin: int, cout: int, stride: int = 1, kernel: int = 3) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, padding_mode="reflect"), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2)]


class SkipDecoder(nn.Module):
    """The hourglass of the DIP paper, smaller: ``levels`` stride-2 stages down, bilinear up, 1×1 skips."""

    def __init__(self, in_channels: int = 32, channels: int = 32, skip: int = 4, levels: int = 4):
        super().__init__()
        self.levels = check_int("levels", levels)
        self.down = nn.ModuleList()
        self.skips = nn.ModuleList()
        self.up = nn.ModuleList()
        cin = in_channels
        for _ in range(levels):
            self.skips.append(nn.Sequential(*_block(cin, skip, kernel=1)))
            self.down.append(nn.Sequential(*_block(cin, channels, stride=2), *_block(channels, channels)))
            cin = channels
        for _ in range(levels):
            self.up.append(nn.Sequential(nn.BatchNorm2d(channels + skip), *_block(channels + skip, channels), *_block(channels, channels, kernel=1)))
        self.out = nn.Conv2d(channels, 1, 1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        skips = []
        h = z
        for down, skip in zip(self.down, self.skips, strict=True):
            skips.append(skip(h))
            h = down(h)
        for up, s in zip(self.up, reversed(skips), strict=True):
            h = F.interpolate(h, size=s.shape[-2:], mode="bilinear", align_corners=False)
            h = up(torch.cat([h, s], 1))
        return torch.sigmoid(self.out(h))


def _misfit(problem: Problem, device: torch.device):
    """``−J``: the mean squared misfit ``‖A x − y‖²`` over the observed entries, as a function of an image ``(1, 1, H, W)``."""
    y = problem.observed.to(device, torch.float32)[None, None]
    mask = problem.mask.to(device)[None, None]
    n_obs = mask.sum()
    return lambda image: ((problem.operator(image) - y).pow(2) * mask).sum() / n_obs


def _ascent_step(net: nn.Module, optimizer: torch.optim.Optimizer, z: torch.Tensor, input_noise: float,
                 rng: torch.Generator, misfit) -> torch.Tensor:  # fmt: skip
    """One Adam step up ``J(θ) = −misfit(f_θ(z + noise))``; return the network's output (detached)."""
    noisy_z = z + input_noise * torch.randn(z.shape, generator=rng).to(z.device) if input_noise else z
    out = net(noisy_z)
    optimizer.zero_grad(set_to_none=True)
    misfit(out).backward()  # descending −J is ascending J
    optimizer.step()
    return out.detach()


def deep_image_prior(
    problem: Problem,
    *,
    num_steps: int = 1500,
    lr: float = 0.01,
    channels: int = 16,
    input_noise: float = 1 / 30,
    average: float = 0.99,
    stop: str = "discrepancy",
    patience: int = 0,
    seed: int = 0,
    clean: torch.Tensor | None = None,
    record_every: int = 10,
    device: str | torch.device | None = None,
    progress: bool = False,
    callback=None,
) -> RestorationResult:
    r"""Fit a :class:`SkipDecoder` to one observation by Adam ascent on ``J(θ)``; return the restored image.

    Args:
        problem: from :func:`gaedu.restoration.degrade`, or any :class:`~gaedu.restoration.Problem`; its side lengths must be multiples of 16.
        num_steps: the most ascent steps.
        lr: Adam's learning rate.
        channels: width of the decoder.
        input_noise: each step perturbs ``z`` by this much Gaussian noise (the paper's regulariser).
        average: the restored image is an exponential moving average of the outputs with this decay
            (0 keeps the last output).
        stop: ``'discrepancy'`` stops when the averaged output's residual first falls to ``σ²``
            (noise-free problems never trigger it); ``'none'`` runs every step.
        patience: keep fitting this many steps past the stop, to record what stopping avoided;
            the restored image is still the one at the stop (the last one is ``info['last']``).
        seed: the network's weights and ``z``.
        clean: if given, PSNR against it is recorded (for plots; the method never uses it).
        device: where to fit (default: :func:`gaedu.get_device`).
        callback: called as ``callback(step, image)`` after every step with the averaged output ``(H, W)``.

    Returns:
        a :class:`RestorationResult`; ``values`` holds ``J`` of the averaged output,
        ``info['stopped']`` the step at which the rule stopped (or ``None``).
    """
    check_problem(problem)
    num_steps, channels, record_every = check_int("num_steps", num_steps), check_int("channels", channels), check_int("record_every", record_every)
    lr, input_noise = check_positive("lr", lr), check_nonnegative("input_noise", input_noise)
    average = check_fraction("average", average)
    stop = check_choice("stop", stop, STOPS)
    patience = check_int("patience", patience, minimum=0)
    seed = check_int("seed", seed, minimum=0)
    h, w = problem.start().shape
    if h % 16 or w % 16:
        raise ValueError(f"Deep Image Prior needs side lengths that are multiples of 16, got {h}×{w}")
    check_clean(clean, problem)
    device = get_device(device)
    start = time.perf_counter()
    rng = torch.Generator().manual_seed(seed)
    z = (0.1 * torch.rand(1, 32, h, w, generator=rng)).to(device)
    net = seeded(lambda: SkipDecoder(32, channels), seed).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    misfit = _misfit(problem, device)
    threshold = problem.noise_std**2
    smoothed = None
    stopped = None
    result = RestorationResult(image=problem.observed)
    bar = tqdm(range(1, num_steps + 1), desc="deep image prior", disable=not progress, mininterval=1.0)
    for t in bar:
        out = _ascent_step(net, optimizer, z, input_noise, rng, misfit)
        with torch.no_grad():
            smoothed = out if smoothed is None or average == 0 else average * smoothed + (1 - average) * out
            residual = misfit(smoothed).item()
        if callback is not None:
            callback(t, smoothed[0, 0].detach().cpu())
        if stop == "discrepancy" and stopped is None and threshold > 0 and residual <= threshold:
            stopped, at_stop = t, smoothed[0, 0].clone()
        last_step = t == num_steps or (stopped is not None and t >= stopped + patience)
        if t % record_every == 0 or last_step or t == stopped:
            result.values.append(-residual)
            result.recorded_steps.append(t)
            if clean is not None:
                result.psnrs.append(image_psnr(smoothed[0, 0].cpu(), clean))
        if last_step:
            break
    bar.close()
    last = smoothed[0, 0].clamp(0, 1).cpu().to(problem.observed.dtype)
    result.image = last if stopped is None else at_stop.clamp(0, 1).cpu().to(problem.observed.dtype)
    result.seconds = time.perf_counter() - start
    result.info = {"stopped": stopped, "steps_taken": t, "seed": seed, "last": last}
    if not math.isfinite(residual):
        raise FloatingPointError("Deep Image Prior diverged (the residual is not finite); lower lr")
    return result


# The Deep Image Prior study of the restoration chapter: the plain network (no averaging, no
# input noise), whose quality rises and then falls, and the paper's regularised one.
VARIANTS = {"plain": {"average": 0.0, "input_noise": 0.0}, "regularised": {"average": 0.99, "input_noise": 1 / 30}}


def dip_study_config(photo: str = "camera", task: str = "denoise", *, seeds: tuple[int, ...] = (0, 1, 2),
                     num_steps: int = 600) -> dict:  # fmt: skip
    """The settings :func:`dip_study` caches its result under (the model cache's key)."""
    seeds = tuple(check_int("seed", s, minimum=0) for s in seeds)
    num_steps = check_int("num_steps", num_steps)
    # the key stays "steps": it is part of the cache key, and renaming it would fit the study again
    return {"photo": photo, "task": task, "seeds": list(seeds), "steps": num_steps, "variants": VARIANTS, "channels": 16}


def dip_study(
    photo: str = "camera",
    task: str = "denoise",
    *,
    seeds: tuple[int, ...] = (0, 1, 2),
    num_steps: int = 600,
    progress: bool = True,
) -> dict:
    """Fit both ``VARIANTS`` of Deep Image Prior with each seed on one degraded photograph; cached.

    The observation is ``degrade(load_photo(photo), task, seed=0)``. The plain variant runs
    all ``num_steps`` (its discrepancy stop is recorded on the way); the regularised one stops by
    the rule, after at most ``3 num_steps`` steps. The first call takes minutes (a progress bar per run) and
    caches the result (:func:`gaedu.cache.cached_result`); later calls load it.

    Returns:
        a dict: for each variant ``v`` and seed ``s``, ``f"{v}/{s}/psnrs"``, ``".../values"``,
        ``".../steps"`` (lists), ``".../stopped"`` (the stop step, -1 if none), ``".../seconds"``
        and ``".../image"`` (the restored image at the stop, a tensor).
    """
    config = dip_study_config(photo, task, seeds=seeds, num_steps=num_steps)
    seeds, num_steps = tuple(config["seeds"]), config["steps"]

    def compute() -> dict:
        clean = load_photo(photo)
        problem = degrade(clean, task, seed=0)
        out: dict = {}
        for variant, settings in VARIANTS.items():
            for seed in seeds:
                limit, patience = (num_steps, num_steps) if variant == "plain" else (3 * num_steps, 0)
                r = deep_image_prior(problem, num_steps=limit, patience=patience, seed=seed, clean=clean, record_every=10,
                                     progress=progress, device="cpu", **settings)  # fmt: skip
                key = f"{variant}/{seed}"
                out[f"{key}/psnrs"], out[f"{key}/values"], out[f"{key}/steps"] = r.psnrs, r.values, r.recorded_steps
                out[f"{key}/stopped"] = -1 if r.info["stopped"] is None else r.info["stopped"]
                out[f"{key}/seconds"], out[f"{key}/image"] = r.seconds, r.image
        return out

    return cached_result("dip-study", config, compute)
