"""Measure the 28×28 models against their baselines: the convolutional GAN, the source's dense GAN, KDE, mixture, PCA.

Usage: .venv/bin/python -m bench.mnist28 [--seeds 0 1 2] [--samples-seeds 3]

Generation: the FD (Fréchet distance in the features of the 28×28 judge, 1000 samples
against the 1000 test digits; mean and spread over ``--samples-seeds`` sets of
samples), the FD against 1000 training digits beside it (a copier would be far
closer to those), the least and most frequent class, the median distance of a sample
to its nearest training digit, and the training time of each model, for the
convolutional GAN and the source's dense networks (each ``--seeds``: every seed
beyond the cached seed 0 trains, about 6 minutes on a 2-core CPU, and is cached), the
KDE and the Gaussian mixture with the settings chosen by held-out likelihood, real
training digits (the floor) and uniform noise.

Reconstruction: test PSNR of the convolutional autoencoders (k = 8, 16, 32) against
PCA with the same k, and their training times.

Targets (default settings, a 2-core CPU): GAN FD at most a third of the KDE's, every
class between 5 % and 15 %, GAN training within 10 minutes; autoencoder with k = 16 at
least 3 dB above PCA, training within 5 minutes. Models train on
:func:`gaedu.get_device` (a GPU when there is one); the banner says which.
"""

from __future__ import annotations

import time

import numpy as np
import torch

import gaedu
from bench._common import preamble
from gaedu.autoencoder import reconstruct
from gaedu.data import load_mnist
from gaedu.gan import sample
from gaedu.metrics import class_histogram, digit_fd, psnr
from gaedu.zoo import AE_CODES, best_baseline


def _arguments(parser) -> None:
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="training seeds of the GANs (default: 0)")
    parser.add_argument("--samples-seeds", type=int, default=3, help="sets of 1000 samples per generator (default: 3)")


def main() -> None:
    args, _ = preamble(__doc__, what="training (when a model is not cached)", device_option=False, add_arguments=_arguments)
    x_train, _ = load_mnist("train")
    x_test, _ = load_mnist("test")
    flat_train = x_train.flatten(1)
    judge = gaedu.pretrained("mnist28-judge")

    def nearest(images):
        return torch.cdist(images.flatten(1), flat_train).min(1).values.median().item()

    reference = x_train[torch.randperm(len(x_train), generator=torch.Generator().manual_seed(1))[:1000]]

    def row(name, draw, seconds, *, real=False):
        fds = [digit_fd(judge, draw(s), x_test) for s in range(1, 1 + args.samples_seeds)]
        images = draw(1)
        shares = class_histogram(judge, images)
        # training digits are their own nearest neighbours: the two memorization columns say nothing for them
        fd_train = "—" if real else f"{digit_fd(judge, images, reference):.1f}"
        near = "—" if real else f"{nearest(images):.2f}"
        print(f"{name:<40} {np.mean(fds):>7.1f} ± {np.std(fds):<5.1f} {fd_train:>8} {100 * shares.min():>6.1f} % "
              f"{100 * shares.max():>6.1f} % {near:>8} {seconds:>9.1f}")  # fmt: skip
        return float(np.mean(fds)), shares

    print(f"\n{'generator':<40} {'FD test':>15} {'FD train':>8} {'least':>8} {'most':>8} {'nearest':>8} {'seconds':>9}")
    results = {}
    for seed in args.seeds:
        for name in ("mnist28-gan", "mnist28-mlp-gan"):
            generator, info = gaedu.pretrained(name, seed=seed, info=True)
            label = f"{'convolutional' if name == 'mnist28-gan' else 'dense (source)'} GAN, seed {seed}"
            results[(name, seed)] = row(label, lambda s, g=generator: sample(g, 1000, seed=s), info["seconds"])
    for kind in ("kde", "gmm"):
        start = time.perf_counter()
        model = best_baseline(kind)
        seconds = time.perf_counter() - start
        results[kind] = row(model.name, lambda s, m=model: m.sample(1000, seed=s), seconds)
    order = [torch.randperm(len(x_train), generator=torch.Generator().manual_seed(s))[:1000] for s in range(args.samples_seeds + 2)]
    row("real training digits (the floor)", lambda s: x_train[order[s]], 0.0, real=True)
    row("uniform noise", lambda s: torch.rand(1000, 1, 28, 28, generator=torch.Generator().manual_seed(s)), 0.0)

    gan_fds = [results[("mnist28-gan", s)][0] for s in args.seeds]
    kde_fd = results["kde"][0]
    balanced = all(((r[1] >= 0.05) & (r[1] <= 0.15)).all() for key, r in results.items() if key[0] == "mnist28-gan")
    print(f"\nconvolutional GAN FD over training seeds {args.seeds}: mean {np.mean(gan_fds):.1f}, "
          f"from {min(gan_fds):.1f} to {max(gan_fds):.1f}")  # fmt: skip
    print(f"target: GAN FD <= KDE FD / 3 = {kde_fd / 3:.1f}: {'met' if max(gan_fds) <= kde_fd / 3 else 'missed'} "
          f"(GAN/KDE = {np.mean(gan_fds) / kde_fd:.2f}); every class 5-15 %: {'met' if balanced else 'missed'}")  # fmt: skip

    from sklearn.decomposition import PCA

    print(f"\n{'code size':<10} {'PCA (dB)':>9} {'autoencoder (dB)':>17} {'gain':>7} {'seconds':>9}")
    for k in AE_CODES:
        model, info = gaedu.pretrained(f"mnist28-ae-{k}", info=True)
        pca = PCA(k, svd_solver="full").fit(flat_train.numpy())
        flat = pca.inverse_transform(pca.transform(x_test.flatten(1).numpy()))
        pca_psnr = psnr(torch.from_numpy(flat).float().clamp(0, 1).reshape(-1, 1, 28, 28), x_test).mean().item()
        ae_psnr = psnr(reconstruct(model, x_test), x_test).mean().item()
        target = f"  (target +3.0 dB: {'met' if ae_psnr >= pca_psnr + 3 else 'missed'})" if k == 16 else ""
        print(f"k = {k:<6} {pca_psnr:>9.2f} {ae_psnr:>17.2f} {ae_psnr - pca_psnr:>+7.2f} {info['seconds']:>9.1f}{target}")


if __name__ == "__main__":
    main()
