"""Exercises of the chapter "Reconstruction with a decoder": PSNR by hand and the masked similarity."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from gaedu.exercises._feedback import _call, _fail, _ok, _per_image
from gaedu.inversion import masked_similarity
from gaedu.metrics import psnr, ssim


def _psnr_pairs() -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Pairs of image batches ``(N, 1, 8, 8)`` in ``[0, 1]`` that differ, N = 5, 1, 12 (five first)."""
    rng = torch.Generator().manual_seed(7)
    pairs = []
    for n, spread in ((5, 0.2), (1, 0.05), (12, 0.5)):
        x = torch.rand(n, 1, 8, 8, generator=rng)
        pairs.append((x, (x + spread * torch.randn(n, 1, 8, 8, generator=rng)).clamp(0, 1)))
    return pairs


def check_psnr_by_hand(my_psnr: Callable[[torch.Tensor, torch.Tensor], Any]) -> None:
    """Check ``my_psnr(x, y)``: the PSNR in dB of each pair of images in ``[0, 1]``, shape ``(N,)``."""
    got, want = [], []
    for x, y in _psnr_pairs():
        got.append(_per_image(_call(my_psnr, x.clone(), y.clone()), len(x), "one PSNR per image"))
        want.append(psnr(x, y).double().numpy())
    got, want = np.concatenate(got), np.concatenate(want)
    if np.allclose(got, want, atol=1e-3):
        _ok("your PSNR matches gaedu.metrics.psnr on every image")
        return
    if np.allclose(got, -want, atol=1e-3):
        _fail("your values have the wrong sign: a closer reconstruction must get a higher PSNR")
    ratio, offset = got / want, got - want
    if np.allclose(ratio, ratio[0], rtol=1e-4):
        _fail(f"your values are {ratio[0]:.3g} times the right ones: check the factor in front of the logarithm and its base")
    if np.allclose(offset, offset[0], atol=1e-3):
        _fail(
            f"every value is off by the same {offset[0]:+.2f} dB: check the peak value L and how the squared "
            "errors of an image are combined over its pixels"
        )
    _fail("not the PSNR of each pair: work out one image by hand, from its mean squared error, and compare")


def _similarity_cases() -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Triples ``(x_hat, observed, mask)`` of shape ``(N, 1, 8, 8)``: random, bottom-half and all-known masks."""
    rng = torch.Generator().manual_seed(11)
    cases = []
    for n, kind in ((6, "random"), (3, "bottom"), (4, "all")):
        x_hat, observed = torch.rand(n, 1, 8, 8, generator=rng), torch.rand(n, 1, 8, 8, generator=rng)
        if kind == "random":
            mask = (torch.rand(n, 1, 8, 8, generator=rng) < torch.linspace(0.2, 0.9, n).view(n, 1, 1, 1)).float()
            mask[:, :, 0, 0] = 1.0  # at least one known pixel per image
        else:
            mask = torch.ones(n, 1, 8, 8)
            if kind == "bottom":
                mask[:, :, 4:, :] = 0.0
        cases.append((x_hat, observed * mask, mask))
    return cases


def check_masked_similarity(similarity: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], Any]) -> None:
    """Check ``similarity(x_hat, observed, mask)``: minus the mean squared error over the known pixels, shape ``(N,)``."""
    got, junk_got, want, known = [], [], [], []
    rng = torch.Generator().manual_seed(12)
    for x_hat, observed, mask in _similarity_cases():
        n = len(x_hat)
        got.append(_per_image(_call(similarity, x_hat.clone(), observed.clone(), mask.clone()), n, "one number per image"))
        junk = observed + (1 - mask) * torch.rand(observed.shape, generator=rng)  # other values where pixels are missing
        junk_got.append(_per_image(_call(similarity, x_hat.clone(), junk, mask.clone()), n, "one number per image"))
        want.append(masked_similarity(x_hat, observed, mask).double().numpy())
        known.append(mask.flatten(1).sum(1).double().numpy())
    got, junk_got, want, known = (np.concatenate(a) for a in (got, junk_got, want, known))
    if np.allclose(got, want, atol=1e-6) and np.allclose(junk_got, want, atol=1e-6):
        _ok("your similarity is gaedu.inversion.masked_similarity: higher means closer to the known pixels")
        return
    if np.allclose(got, -want, atol=1e-6):
        _fail("higher must be better: your value grows as the reconstruction moves away from the known pixels")
    if not np.allclose(got, junk_got, atol=1e-6):
        _fail("your value changes when the missing pixels of observed change: only the known pixels may count")
    ratio = got / want
    if np.allclose(ratio, known, rtol=1e-5) or np.allclose(ratio, known / 64, rtol=1e-5):
        _fail("your value depends on how many pixels are known: check what you divide the squared errors by")
    _fail("not minus the mean squared error over the known pixels of each image: work out one image by hand")


def _ssim_stats(x: torch.Tensor, y: torch.Tensor, *, whole: bool, correction: int) -> np.ndarray:
    """SSIM per image from the statistics of every 7×7 window, or of the whole image (``whole``), float64.

    ``correction`` 1 gives sample (co)variances, 0 population ones: the wrong variants the checker recognizes.
    """
    import torch.nn.functional as F

    x, y = x.double(), y.double()
    if whole:
        x, y = x.flatten(2)[..., None], y.flatten(2)[..., None]  # (N, C, P, 1): one window, all pixels
    size = x.shape[-2] if whole else 7
    n = size * x.shape[-1] if whole else 49
    mean = functools.partial(F.avg_pool2d, kernel_size=(size, x.shape[-1] if whole else 7), stride=1)
    mx, my = mean(x), mean(y)
    scale = n / (n - correction)
    vx, vy, cxy = scale * (mean(x * x) - mx**2), scale * (mean(y * y) - my**2), scale * (mean(x * y) - mx * my)
    c1, c2 = 0.01**2, 0.03**2
    s = (2 * mx * my + c1) * (2 * cxy + c2) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    return s.flatten(1).mean(1).numpy()


def check_ssim_by_hand(my_ssim: Callable[[torch.Tensor, torch.Tensor], Any]) -> None:
    """Check ``my_ssim(x, y)``: the SSIM of each pair of 8×8 images in ``[0, 1]`` (7×7 windows), shape ``(N,)``."""
    got, want, whole, population = [], [], [], []
    for x, y in _psnr_pairs():
        got.append(_per_image(_call(my_ssim, x.clone(), y.clone()), len(x), "one SSIM per image"))
        want.append(ssim(x, y).double().numpy())
        whole.append(_ssim_stats(x, y, whole=True, correction=1))
        population.append(_ssim_stats(x, y, whole=False, correction=0))
    same = _per_image(_call(my_ssim, _psnr_pairs()[0][0], _psnr_pairs()[0][0].clone()), 5, "one SSIM per image")
    got, want, whole, population = (np.concatenate(a) for a in (got, want, whole, population))
    if np.allclose(got, want, atol=3e-6):
        _ok("your SSIM matches gaedu.metrics.ssim (and scikit-image's defaults) on every image")
        return
    if not np.allclose(same, 1.0, atol=1e-6):
        _fail("an image compared with itself must score exactly 1: check the three factors")
    if np.allclose(got, whole, atol=3e-6):
        _fail("those are the statistics of the whole image at once; SSIM averages over every 7×7 window that fits")
    if np.allclose(got, population, atol=3e-6):
        _fail("close: the window variances and covariance are sample ones, divided by n − 1 with n = 49")
    _fail("not the SSIM of each pair: compute the window means, variances and covariance, then the formula")
