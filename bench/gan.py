"""Measure the book's digits GAN against the classical baselines, and the ring GANs.

Usage: .venv/bin/python -m bench.gan [--device D] [--steps N] [--no-ring]

Digits: FD (the Fréchet distance in the features of a digit classifier, 1000
samples against the 450 test digits), class coverage and wall time of the GAN
(default settings), of KDE and of a Gaussian mixture on 15 PCA components, and
of real training digits (the floor). Targets: GAN training at most 60 s on a
2-core CPU, FD at most two thirds of the KDE's, every class between 5 % and 15 %.

Ring: modes covered and high-quality fraction of RING_PLAIN, RING_FIXED, and
RING_FIXED sampled with Jacobian truncation (RING_REJECT) on the 8-Gaussian ring
(targets for the fix: 8 of 8 modes, at least 90 %, about 30 s of training).
"""

from __future__ import annotations

import dataclasses
import time

import torch

from bench._common import preamble
from gaedu.baselines import fit_gmm, fit_kde
from gaedu.classifier import train_digit_classifier
from gaedu.data import load_digits, ring_of_gaussians
from gaedu.gan import RING_FIXED, RING_PLAIN, GANConfig, sample, train_gan
from gaedu.metrics import class_histogram, digit_fd, high_quality_fraction, modes_covered
from gaedu.truncation import RING_REJECT, truncated_sample


def _row(name: str, images: torch.Tensor, seconds: float, x_test: torch.Tensor, classifier) -> float:
    shares = class_histogram(classifier, images)
    fd = digit_fd(classifier, images, x_test)
    balanced = "yes" if (shares >= 0.05).all() and (shares <= 0.15).all() else "no"
    print(f"{name:<34} {fd:>7.2f} {shares.min():>9.1%} {shares.max():>9.1%} {balanced:>9} {seconds:>9.1f}")
    return fd


def _arguments(parser) -> None:
    parser.add_argument("--steps", type=int, default=None, help="digits GAN steps (default: the book's)")
    parser.add_argument("--no-ring", action="store_true", help="skip the ring GANs")


def main() -> None:
    args, device = preamble(__doc__, what="GANs", add_arguments=_arguments)
    x_train, y_train = load_digits("train")
    x_test, _ = load_digits("test")
    classifier = train_digit_classifier(x_train, y_train, seed=0)

    print(f"\n{'digits: 1000 samples vs 450 test':<34} {'FD':>7} {'min class':>9} {'max class':>9} {'5-15 %':>9} {'seconds':>9}")
    _row("real training digits (floor)", x_train[:1000], 0.0, x_test, classifier)
    results = {}
    for label, fit in (("KDE on 15 PCA components", fit_kde), ("Gaussian mixture, 10 components", fit_gmm)):
        start = time.perf_counter()
        model = fit(x_train)
        images = model.sample(1000, seed=1)
        results[label] = _row(label, images, time.perf_counter() - start, x_test, classifier)
    config = GANConfig() if args.steps is None else GANConfig(num_steps=args.steps)
    start = time.perf_counter()
    result = train_gan(x_train, config, device=device, progress=False)
    seconds = time.perf_counter() - start
    gan_fd = _row(f"GAN, {config.num_steps} steps", sample(result.sampler, 1000, seed=1), seconds, x_test, classifier)
    kde_fd = results["KDE on 15 PCA components"]
    print(f"GAN FD / KDE FD = {gan_fd / kde_fd:.2f} (target <= 0.67); {1e3 * seconds / config.num_steps:.2f} ms per step")
    draws = [digit_fd(classifier, sample(result.sampler, 1000, seed=seed), x_test) for seed in (2, 3, 4)]
    print(f"GAN FD of three more draws of 1000 (the estimate's spread): {', '.join(f'{fd:.2f}' for fd in draws)}")

    if args.no_ring:
        return
    x_ring, centres = ring_of_gaussians(20000, seed=0)
    print(f"\n{'ring of 8 Gaussians (std 0.02)':<40} {'modes':>7} {'high quality':>13} {'seconds':>9}")

    def ring_row(label: str, points: torch.Tensor, seconds: float) -> None:
        modes, hq = modes_covered(points, centres, 0.02), high_quality_fraction(points, centres, 0.02)
        print(f"{label:<40} {modes:>5}/8 {hq:>13.1%} {seconds:>9.1f}")

    for label, ring_config in (("plain (RING_PLAIN)", RING_PLAIN), ("R1 + weight average (RING_FIXED)", RING_FIXED)):
        start = time.perf_counter()
        ring = train_gan(x_ring, dataclasses.replace(ring_config), device=device, progress=False)
        seconds = time.perf_counter() - start
        ring_row(label, sample(ring.sampler, 2000, seed=1), seconds)
    start = time.perf_counter()
    points = truncated_sample(ring.sampler, 2000, seed=1, reject=RING_REJECT)
    ring_row(f"  + Jacobian truncation ({RING_REJECT:.0%} rejected)", points, seconds + time.perf_counter() - start)


if __name__ == "__main__":
    main()
