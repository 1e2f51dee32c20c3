"""gaedu.metrics: Fréchet distance, classifier features, class coverage, modes and quality, PSNR and SSIM."""

import numpy as np
import pytest
import torch

from gaedu.classifier import train_digit_classifier
from gaedu.data import load_digits, ring_of_gaussians
from gaedu.metrics import (
    class_histogram,
    digit_fd,
    frechet_distance,
    high_quality_fraction,
    modes_covered,
    psnr,
    ssim,
)


@pytest.fixture(scope="module")
def classifier():
    return train_digit_classifier(*load_digits("train"), seed=0, num_steps=600)


def test_fd_of_a_set_with_itself_is_zero():
    a = np.random.default_rng(0).normal(size=(300, 5))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)


def test_fd_matches_the_closed_form_for_gaussians():
    # For N(m1, S1), N(m2, S2) with commuting diagonal covariances: |m1-m2|^2 + sum (s1 + s2 - 2 sqrt(s1 s2))
    rng = np.random.default_rng(1)
    s1, s2 = np.array([1.0, 4.0, 0.25]), np.array([2.0, 1.0, 1.0])
    a = rng.normal(size=(200_000, 3)) * np.sqrt(s1)
    b = rng.normal(size=(200_000, 3)) * np.sqrt(s2) + np.array([1.0, 0.0, -1.0])
    expected = 2.0 + np.sum(s1 + s2 - 2 * np.sqrt(s1 * s2))
    assert frechet_distance(a, b) == pytest.approx(expected, rel=0.02)


def test_fd_matches_scipy_sqrtm():
    from scipy import linalg

    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(500, 6)), rng.normal(size=(400, 6)) @ rng.normal(size=(6, 6)) + 0.3
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    reference = np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(ca + cb - 2 * linalg.sqrtm(ca @ cb).real)
    assert frechet_distance(a, b) == pytest.approx(reference, rel=1e-6)


@pytest.mark.parametrize(
    "a, b, message",
    [
        (np.zeros((10, 3)), np.zeros((10, 4)), "same d"),
        (np.zeros((1, 3)), np.zeros((10, 3)), "at least 2"),
        (np.full((5, 2), np.nan), np.zeros((5, 2)), "NaN"),
        (np.zeros(5), np.zeros(5), "same d"),
    ],
)
def test_fd_bad_input(a, b, message):
    with pytest.raises(ValueError, match=message):
        frechet_distance(a, b)


def test_digit_fd_is_small_for_real_digits_and_large_for_noise(classifier):
    test, _ = load_digits("test")
    train, _ = load_digits("train")
    noise = torch.rand(450, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    assert digit_fd(classifier, test, test) == pytest.approx(0.0, abs=1e-9)
    assert digit_fd(classifier, train, test) < 0.1 * digit_fd(classifier, noise, test)


def test_class_histogram(classifier):
    images, labels = load_digits("test")
    histogram = class_histogram(classifier, images)
    assert histogram.shape == (10,) and histogram.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(histogram, np.bincount(labels.numpy()) / len(labels), atol=0.02)
    threes = images[labels == 3]
    assert class_histogram(classifier, threes)[3] > 0.9


@pytest.mark.parametrize("bad", [torch.zeros(3, 64), torch.zeros(3, 1, 8, 7), torch.full((2, 1, 8, 8), float("nan"))])
def test_image_metrics_refuse_bad_images(bad, classifier):
    with pytest.raises(ValueError, match="shape|NaN"):
        class_histogram(classifier, bad)


def test_modes_and_quality_on_known_samples():
    samples, centres = ring_of_gaussians(4000, std=0.02, seed=0)
    assert modes_covered(samples, centres, 0.02) == 8
    # a 2-D Gaussian puts 1 − exp(−3²/2) of its mass within 3σ of its centre
    assert high_quality_fraction(samples, centres, 0.02) == pytest.approx(1 - np.exp(-4.5), abs=0.005)
    one_mode = centres[2] + 0.02 * torch.randn(500, 2, generator=torch.Generator().manual_seed(1))
    assert modes_covered(one_mode, centres, 0.02) == 1
    assert high_quality_fraction(torch.zeros(100, 2), centres, 0.02) == 0.0


def test_a_mode_needs_one_percent_of_the_samples():
    _, centres = ring_of_gaussians(10)
    samples = torch.cat([centres[0].repeat(995, 1), centres[1].repeat(5, 1)])  # 0.5 % at mode 1
    assert modes_covered(samples, centres, 0.02) == 1
    samples = torch.cat([centres[0].repeat(990, 1), centres[1].repeat(10, 1)])  # 1 % at mode 1
    assert modes_covered(samples, centres, 0.02) == 2


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"std": 0.0}, "std"),
        ({"std": -1.0}, "std"),
        ({"std": float("inf")}, "std"),
        ({"radius": 0.0}, "radius"),
        ({"radius": float("nan")}, "radius"),
        ({"min_share": 0.0}, "min_share"),
        ({"min_share": 1.5}, "min_share"),
    ],
)
def test_modes_covered_refuses_bad_settings(kwargs, message):
    _, centres = ring_of_gaussians(10)
    with pytest.raises(ValueError, match=message):
        modes_covered(centres, centres, **{"std": 0.02, **kwargs})
    if "min_share" not in kwargs:
        with pytest.raises(ValueError, match=message):
            high_quality_fraction(centres, centres, **{"std": 0.02, **kwargs})


def test_mode_metrics_refuse_non_finite_centres():
    samples, centres = ring_of_gaussians(10)
    centres[0, 0] = float("nan")
    with pytest.raises(ValueError, match="centres contains NaN"):
        modes_covered(samples, centres, 0.02)


# PSNR and SSIM, against scikit-image as the independent reference


def _noisy_pair(shape=(6, 1, 8, 8), scale=0.1, seed=0):
    noise = torch.Generator().manual_seed(seed)
    x = torch.rand(*shape, generator=noise)
    return x, (x + scale * torch.randn(*shape, generator=noise)).clamp(0, 1)


def test_psnr_matches_scikit_image():
    from skimage.metrics import peak_signal_noise_ratio

    x, y = _noisy_pair()
    expected = [peak_signal_noise_ratio(a[0].numpy(), b[0].numpy(), data_range=1.0) for a, b in zip(x, y, strict=True)]
    np.testing.assert_allclose(psnr(x, y).numpy(), expected, rtol=1e-5)
    x, y = _noisy_pair((3, 1, 12, 10), scale=0.5)
    expected = [peak_signal_noise_ratio(a[0].numpy(), b[0].numpy(), data_range=2.0) for a, b in zip(x, y, strict=True)]
    np.testing.assert_allclose(psnr(x, y, data_range=2.0).numpy(), expected, rtol=1e-5)


@pytest.mark.parametrize("shape, win_size, data_range", [((6, 1, 8, 8), 7, 1.0), ((3, 1, 16, 20), 5, 2.0), ((2, 1, 9, 9), 3, 1.0)])
def test_ssim_matches_scikit_image(shape, win_size, data_range):
    from skimage.metrics import structural_similarity

    x, y = _noisy_pair(shape, scale=0.2)
    expected = [
        structural_similarity(a[0].numpy(), b[0].numpy(), data_range=data_range, win_size=win_size)
        for a, b in zip(x, y, strict=True)
    ]
    np.testing.assert_allclose(ssim(x, y, data_range, win_size=win_size).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_psnr_and_ssim_on_known_cases():
    x = 0.8 * torch.rand(4, 1, 8, 8, generator=torch.Generator().manual_seed(3))
    assert torch.isinf(psnr(x, x)).all()
    assert torch.allclose(ssim(x, x), torch.ones(4))
    np.testing.assert_allclose(psnr(x + 0.1, x).numpy(), 20.0, rtol=1e-6)  # MSE 0.01: 10 log10(1 / 0.01)
    np.testing.assert_allclose(psnr(x + 0.05, x).numpy(), 20.0 + 20 * np.log10(2), rtol=1e-6)  # half the error: +6.02 dB
    assert (ssim(x, x + 0.1) < 1).all()


@pytest.mark.parametrize(
    "x, y, kwargs, message",
    [
        (torch.rand(2, 1, 8, 8), torch.rand(3, 1, 8, 8), {}, "same shape"),
        (torch.rand(2, 8, 8), torch.rand(2, 8, 8), {}, r"shape \(N, C, H, W\)"),
        (torch.full((2, 1, 8, 8), float("nan")), torch.rand(2, 1, 8, 8), {}, "NaN"),
        (torch.rand(2, 1, 8, 8), torch.rand(2, 1, 8, 8), {"data_range": 0}, "data_range"),
        (np.zeros((2, 1, 8, 8)), torch.rand(2, 1, 8, 8), {}, "torch.Tensor"),
    ],
)
def test_psnr_and_ssim_refuse_bad_input(x, y, kwargs, message):
    for metric in (psnr, ssim):
        with pytest.raises(ValueError, match=message):
            metric(x, y, **kwargs)


@pytest.mark.parametrize("win_size, message", [(4, "odd integer"), (1, "odd integer"), (9, "larger than the images")])
def test_ssim_refuses_bad_windows(win_size, message):
    with pytest.raises(ValueError, match=message):
        ssim(torch.rand(1, 1, 8, 8), torch.rand(1, 1, 8, 8), win_size=win_size)
