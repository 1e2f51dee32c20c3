"""The data the book trains on, all of it shipped inside installed packages.

* ``load_digits``: scikit-learn's bundled 8×8 handwritten digits (1797 images),
  split once, the same way everywhere in the book.
* ``ring_of_gaussians`` and ``grid_of_gaussians``: the 2-D mixtures on which
  GAN training dynamics are easy to see (VEEGAN, Srivastava et al. 2017;
  PacGAN, Lin et al. 2018).

Nothing here downloads anything, and importing the module loads nothing.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

from gaedu._validation import check_int, check_nonnegative, check_positive
from gaedu.device import get_device

SPLITS = ("train", "test", "all")
TEST_SIZE = 0.25  # a quarter of each class is held out for evaluation
SPLIT_SEED = 0


@functools.lru_cache(maxsize=1)
def _digits_arrays() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Load and split the digits once per process; later calls reuse the arrays."""
    from sklearn.datasets import load_digits as _sk_load_digits
    from sklearn.model_selection import train_test_split

    X, y = _sk_load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=TEST_SIZE, random_state=SPLIT_SEED, stratify=y
    )
    return {"train": (X_train, y_train), "test": (X_test, y_test), "all": (X, y)}


def load_digits(
    split: str, *, device: str | torch.device | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return the 8×8 digits of one split as ``(images, labels)``.

    The pixels of scikit-learn's digits are counts from 0 to 16; they are
    divided by 16 so that every pixel lies in ``[0, 1]``. The split is
    ``train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)``,
    so each class keeps its share in both parts.

    Args:
        split: ``'train'`` (1347 images), ``'test'`` (450) or ``'all'`` (1797).
        device: where to put the tensors (default: the CPU).

    Returns:
        images: float32, shape ``(N, 1, 8, 8)``, values in ``[0, 1]``.
        labels: int64, shape ``(N,)``, values ``0`` to ``9``.

    Raises:
        ValueError: ``split`` is not one of the names above.
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(map(repr, SPLITS))}")
    X, y = _digits_arrays()[split]
    images = torch.tensor(X / 16.0, dtype=torch.float32).reshape(-1, 1, 8, 8)
    labels = torch.tensor(y, dtype=torch.int64)
    device = torch.device("cpu") if device is None else get_device(device)  # checks that the device exists
    return images.to(device), labels.to(device)


def _check_mixture_args(n: int, std: float, seed: int) -> None:
    check_int("n", n)
    check_nonnegative("std", std)
    check_int("seed", seed, minimum=0)


def _sample_mixture(
    centres: torch.Tensor, n: int, std: float, seed: int, device: str | torch.device | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw ``n`` points: a centre chosen uniformly, plus isotropic Gaussian noise."""
    gen = torch.Generator().manual_seed(int(seed))
    which = torch.randint(len(centres), (int(n),), generator=gen)
    noise = torch.randn(int(n), 2, generator=gen, dtype=torch.float64)
    samples = centres[which] + std * noise  # (n, 2)
    device = device or "cpu"
    return samples.to(device, torch.float32), centres.to(device, torch.float32)


def ring_of_gaussians(
    n: int,
    modes: int = 8,
    radius: float = 2.0,
    std: float = 0.02,
    seed: int = 0,
    *,
    device: str | torch.device | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample ``n`` points from ``modes`` Gaussians evenly spaced on a circle.

    Mode ``k`` sits at angle ``2πk / modes`` for ``k = 0, …, modes − 1``. (Taking
    the angles from ``linspace(0, 2π, modes)`` would put the last mode on top of
    the first, leaving only ``modes − 1`` distinct ones.)

    Args:
        n: number of samples.
        modes: number of Gaussians.
        radius: radius of the circle.
        std: standard deviation of each Gaussian, the same in both coordinates.
        seed: seed of the private random generator; the global seed is untouched.
        device: where to put the tensors (default: the CPU).

    Returns:
        samples: float32, shape ``(n, 2)``.
        centres: float32, shape ``(modes, 2)``.
    """
    _check_mixture_args(n, std, seed)
    check_int("modes", modes)
    check_positive("radius", radius)
    angles = 2 * math.pi * torch.arange(int(modes), dtype=torch.float64) / int(modes)
    centres = radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)
    return _sample_mixture(centres, n, std, seed, device)


def grid_of_gaussians(
    n: int,
    side: int = 5,
    spacing: float = 2.0,
    std: float = 0.05,
    seed: int = 0,
    *,
    device: str | torch.device | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample ``n`` points from ``side × side`` Gaussians on a square grid.

    The grid is centred on the origin: with the defaults its modes sit at
    ``{−4, −2, 0, 2, 4}²``, the 25-mode grid of the PacGAN paper.

    Args:
        n: number of samples.
        side: number of modes along each axis.
        spacing: distance between neighbouring modes.
        std: standard deviation of each Gaussian.
        seed: seed of the private random generator; the global seed is untouched.
        device: where to put the tensors (default: the CPU).

    Returns:
        samples: float32, shape ``(n, 2)``.
        centres: float32, shape ``(side * side, 2)``, row by row.
    """
    _check_mixture_args(n, std, seed)
    check_int("side", side)
    check_positive("spacing", spacing)
    ticks = (torch.arange(int(side), dtype=torch.float64) - (int(side) - 1) / 2) * spacing
    gy, gx = torch.meshgrid(ticks, ticks, indexing="ij")
    centres = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)
    return _sample_mixture(centres, n, std, seed, device)
