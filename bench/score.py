"""Measure the score model of the 8×8 digits against the GAN and the KDE, and annealed Langevin on the ring.

Usage: .venv/bin/python -m bench.score [--device D] [--seeds 0 1 2] [--steps N] [--no-ring] [--no-digits]

Digits, per training seed (trained here, not taken from the cache): the score model's
training time, the time to sample 1000 digits with annealed Langevin (the book's
sampler), their FD against the 450 test digits in the digits-GAN chapter's judge and
the least and most frequent class; the same for reverse diffusion (1000 levels); the
GAN (``GANConfig()``) trained with the same seed; the KDE on 15 PCA components
(bandwidth by cross-validation on the training digits), sampled with the same seed.
Targets (2-core CPU): the score model's FD no higher than the KDE's, every class
between 5 % and 15 %, training within 3 minutes, sampling 1000 digits within 60 s.

Ring (the GAN chapter's 8 Gaussians of std 0.02, exact score): annealed Langevin
(10 levels from 4 to 0.01, 100 steps each) from a lopsided start, and reverse diffusion
(200 levels) from its prior, 4·N(0, I) (the sampler assumes its start is drawn from the
first level), three seeds. Targets (annealed Langevin): 8 of 8 modes, at least 95 %
high-quality samples, every mode's share of them within 2 percentage points of 1/8.
"""

from __future__ import annotations

import dataclasses
import statistics
import time

import numpy as np
import torch

from bench._common import preamble
from gaedu.baselines import fit_kde
from gaedu.classifier import train_digit_classifier
from gaedu.data import load_digits, ring_of_gaussians
from gaedu.gan import GANConfig, train_gan
from gaedu.gan import sample as gan_sample
from gaedu.metrics import class_histogram, digit_fd, high_quality_fraction, modes_covered
from gaedu.score import (
    DIGITS_SCORE,
    annealed_langevin,
    mixture_score,
    noise_levels,
    reverse_diffusion,
    sample,
    train_score,
)


def _arguments(parser) -> None:
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="training seeds (default: 0 1 2)")
    parser.add_argument("--steps", type=int, default=None, help="score-model steps (default: the book's)")
    parser.add_argument("--no-ring", action="store_true", help="skip the ring")
    parser.add_argument("--no-digits", action="store_true", help="skip the digits")


def _spread(values: list[float], fmt: str = "{:.2f}") -> str:
    if len(values) < 2:
        return fmt.format(values[0])
    return f"{fmt.format(statistics.mean(values))} ± {fmt.format(statistics.stdev(values))}"


def _ring(seeds: list[int]) -> None:
    std = 0.02
    _, centres = ring_of_gaussians(1, std=std)
    centres = centres.double()

    def score(x, sigma):
        return mixture_score(x, centres, std, sigma=sigma)

    print(f"\n{'ring of 8 Gaussians, exact score':<40} {'modes':>6} {'high quality':>13} {'worst gap (pp)':>15} {'seconds':>8}")
    rows = {"annealed Langevin, 10 × 100 steps": [], "reverse diffusion, 200 levels": []}
    for seed in seeds:
        gen = torch.Generator().manual_seed(seed)
        lopsided = torch.tensor([1.0, 0.0], dtype=torch.float64) + 0.5 * torch.randn(8000, 2, generator=gen, dtype=torch.float64)
        prior = 4.0 * torch.randn(8000, 2, generator=gen, dtype=torch.float64)
        for name in rows:
            start = time.perf_counter()
            if name.startswith("annealed"):
                x, _ = annealed_langevin(score, lopsided, noise_levels(4.0, 0.01, 10), epsilon=0.1 * 0.01**2, steps_per_level=100,
                                         rng=gen)  # fmt: skip
            else:
                x, _ = reverse_diffusion(score, prior, noise_levels(4.0, 0.01, 200, rho=7.0), rng=gen)
            seconds = time.perf_counter() - start
            distances = torch.cdist(x, centres)
            near = distances.min(1).values <= 3 * std
            shares = torch.bincount(distances.argmin(1)[near], minlength=8).double().numpy() / max(int(near.sum()), 1)
            rows[name].append((modes_covered(x, centres, std), high_quality_fraction(x, centres, std),
                               100 * np.abs(shares - 1 / 8).max(), seconds))  # fmt: skip
    for name, values in rows.items():
        modes, hq, gap, seconds = zip(*values, strict=True)
        ok = min(modes) == 8 and min(hq) >= 0.95 and max(gap) <= 2
        verdict = f"; targets {'met' if ok else 'MISSED'}" if name.startswith("annealed") else f" (the targets' bounds: {'within' if ok else 'outside'})"
        print(f"{name:<40} {min(modes):>6} {min(hq):>12.1%} {max(gap):>15.2f} {statistics.mean(seconds):>8.2f}"
              f"   worst of {len(seeds)} seeds{verdict}")  # fmt: skip


def main() -> None:
    args, device = preamble(__doc__, what="training and sampling", add_arguments=_arguments)
    if not args.no_digits:
        _digits(args, device)
    if not args.no_ring:
        _ring(args.seeds)


def _digits(args, device) -> None:
    x_train, y_train = load_digits("train")
    x_test, _ = load_digits("test")
    judge = train_digit_classifier(x_train, y_train, seed=0)
    config = DIGITS_SCORE if args.steps is None else dataclasses.replace(DIGITS_SCORE, num_steps=args.steps)
    kde = fit_kde(x_train)
    table: dict[str, dict[str, list[float]]] = {}

    def record(name: str, images: torch.Tensor, train_s: float, sample_s: float) -> None:
        shares = class_histogram(judge, images)
        row = table.setdefault(name, {"fd": [], "least": [], "most": [], "train": [], "sample": []})
        for key, value in (("fd", digit_fd(judge, images, x_test)), ("least", shares.min()), ("most", shares.max()),
                           ("train", train_s), ("sample", sample_s)):  # fmt: skip
            row[key].append(float(value))

    for seed in args.seeds:
        start = time.perf_counter()
        result = train_score(x_train, dataclasses.replace(config, seed=seed), device=device, progress=False)
        train_s = time.perf_counter() - start
        model = result.sampler
        for method, label in (("langevin", "score model, annealed Langevin"), ("diffusion", "score model, reverse diffusion")):
            start = time.perf_counter()
            images = sample(model, 1000, seed=1, method=method)
            record(label, images, train_s, time.perf_counter() - start)
        start = time.perf_counter()
        gan = train_gan(x_train, dataclasses.replace(GANConfig(), seed=seed), device=device, progress=False)
        gan_s = time.perf_counter() - start
        start = time.perf_counter()
        record("GAN (GANConfig())", gan_sample(gan.sampler, 1000, seed=1), gan_s, time.perf_counter() - start)
        start = time.perf_counter()
        record("KDE on 15 PCA components", kde.sample(1000, seed=seed), 0.0, time.perf_counter() - start)
        print(f"seed {seed} done", flush=True)

    print(f"\n{'digits: 1000 samples vs 450 test':<34} {'FD':>13} {'least class':>12} {'most class':>11} "
          f"{'train (s)':>12} {'sample (s)':>11}   ({len(args.seeds)} seeds, mean ± sd; classes: worst seed)")  # fmt: skip
    for name, row in table.items():
        print(f"{name:<34} {_spread(row['fd']):>13} {min(row['least']):>12.1%} {max(row['most']):>11.1%} "
              f"{_spread(row['train'], '{:.0f}'):>12} {_spread(row['sample'], '{:.1f}'):>11}")  # fmt: skip
    score, kde_row = table["score model, annealed Langevin"], table["KDE on 15 PCA components"]
    checks = {
        "FD no higher than the KDE's (mean)": statistics.mean(score["fd"]) <= statistics.mean(kde_row["fd"]),
        "every class 5-15 % (every seed)": min(score["least"]) >= 0.05 and max(score["most"]) <= 0.15,
        "training within 180 s (every seed)": max(score["train"]) <= 180,
        "1000 samples within 60 s (every seed)": max(score["sample"]) <= 60,
    }
    for name, ok in checks.items():
        print(f"target: {name}: {'met' if ok else 'MISSED'}")
    gan_fd = statistics.mean(table["GAN (GANConfig())"]["fd"])
    print(f"score FD / KDE FD = {statistics.mean(score['fd']) / statistics.mean(kde_row['fd']):.2f}; "
          f"score FD / GAN FD = {statistics.mean(score['fd']) / gan_fd:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
