r"""Measures of generated and reconstructed images.

Generation (samples compared with a reference set):

* :func:`frechet_distance`: :math:`\lVert\mu_a-\mu_b\rVert^2 + \operatorname{Tr}\big(\Sigma_a+\Sigma_b-2(\Sigma_a\Sigma_b)^{1/2}\big)`
  between Gaussians fitted to two feature sets (Heusel et al. 2017). On 8×8 digits the
  features are the penultimate layer of a small digit classifier, :class:`gaedu.classifier.DigitClassifier`,
  so :func:`digit_fd` is an FID analogue; on 28×28 digits they are those of a small
  CNN, :class:`gaedu.classifier.MnistClassifier`.
* :func:`class_histogram`: the share of samples the classifier puts in each class.
* :func:`modes_covered`, :func:`high_quality_fraction`: for 2-D Gaussian mixtures, as
  defined by VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al. 2018).

Reconstruction (each image compared with its original), one number per image:

* :func:`psnr`: the peak signal-to-noise ratio in decibels.
* :func:`ssim`: the structural similarity index (Wang et al. 2004).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from gaedu._validation import check_images, check_int, check_number, check_positive
from gaedu.classifier import DigitClassifier, MnistClassifier
from gaedu.nets import device_of


def _as_numpy(x: torch.Tensor | np.ndarray) -> np.ndarray:
    return x.detach().cpu().double().numpy() if isinstance(x, torch.Tensor) else np.asarray(x, dtype=np.float64)


def _check_finite(name: str, x: np.ndarray) -> None:
    if not np.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite values")


def frechet_distance(features_a: torch.Tensor | np.ndarray, features_b: torch.Tensor | np.ndarray) -> float:
    r"""Return the Fréchet distance between Gaussians fitted to two sets of feature vectors.

    Args:
        features_a: shape ``(n_a, d)``, ``n_a >= 2``.
        features_b: shape ``(n_b, d)``, ``n_b >= 2``.

    Returns:
        :math:`\lVert\mu_a-\mu_b\rVert^2 + \operatorname{Tr}(\Sigma_a+\Sigma_b) - 2\operatorname{Tr}(\Sigma_a\Sigma_b)^{1/2}`,
        where the last trace is the sum of the square roots of the eigenvalues of
        :math:`\Sigma_a^{1/2}\Sigma_b\Sigma_a^{1/2}` (computed in float64). It is 0 for
        identical sets.

    Raises:
        ValueError: the shapes disagree, a set has fewer than 2 rows, or a value is not finite.
    """
    a, b = _as_numpy(features_a), _as_numpy(features_b)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"frechet_distance() needs two (n, d) arrays with the same d, got {a.shape} and {b.shape}")
    if len(a) < 2 or len(b) < 2:
        raise ValueError("frechet_distance() needs at least 2 feature vectors in each set")
    _check_finite("features_a", a)
    _check_finite("features_b", b)
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T  # Σ_a^{1/2}
    cross = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_root = np.sqrt(np.clip(cross, 0, None)).sum()
    distance = float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root)
    return max(distance, 0.0)  # rounding can leave -1e-15 for identical sets


@torch.no_grad()
def digit_features(classifier: DigitClassifier | MnistClassifier, images: torch.Tensor) -> np.ndarray:
    """Return the classifier's penultimate features of ``images`` as a ``(N, feature_dim)`` float64 array.

    The images must have the classifier's ``image_shape``: ``(N, 1, 8, 8)`` or ``(N, 1, 28, 28)``.
    """
    images = check_images(images, shape=classifier.image_shape, range01=False)
    return classifier.features(images.to(device_of(classifier), torch.float32)).double().cpu().numpy()


def digit_fd(classifier: DigitClassifier | MnistClassifier, images: torch.Tensor, reference: torch.Tensor) -> float:
    """Return the Fréchet distance between two image sets in the classifier's feature space (an FID for digits)."""
    return frechet_distance(digit_features(classifier, images), digit_features(classifier, reference))


@torch.no_grad()
def class_histogram(classifier: DigitClassifier | MnistClassifier, images: torch.Tensor) -> np.ndarray:
    """Return the share of ``images`` that the classifier assigns to each class, shape ``(10,)``, summing to 1."""
    images = check_images(images, shape=classifier.image_shape, range01=False)
    predicted = classifier(images.to(device_of(classifier), torch.float32)).argmax(dim=1).cpu()
    return torch.bincount(predicted, minlength=10).double().numpy() / len(images)


def _distances_to_modes(samples, centres) -> np.ndarray:
    s, c = _as_numpy(samples), _as_numpy(centres)
    if s.ndim != 2 or c.ndim != 2 or s.shape[1] != c.shape[1] or len(s) == 0 or len(c) == 0:
        raise ValueError(f"samples (n, d) and centres (k, d) must agree in d, got {s.shape} and {c.shape}")
    _check_finite("samples", s)
    _check_finite("centres", c)
    return np.sqrt(((s[:, None, :] - c[None, :, :]) ** 2).sum(-1))  # (n, k)


def modes_covered(samples, centres, std: float, *, min_share: float = 0.01, radius: float = 3.0) -> int:
    """Count the modes with at least ``min_share`` of the samples within ``radius`` standard deviations of them.

    Args:
        samples: generated points, shape ``(n, d)``.
        centres: the mixture's mode centres, shape ``(k, d)``.
        std: the standard deviation of each mode.
        min_share: the share of samples a mode needs to count as covered (1 %).
        radius: the distance, in standard deviations, that counts as "at" a mode (3).
    """
    std, radius = check_positive("std", std), check_positive("radius", radius)
    min_share = check_number("min_share", min_share, low=0.0, high=1.0, low_open=True)
    near = _distances_to_modes(samples, centres) <= radius * std  # (n, k)
    return int((near.mean(axis=0) >= min_share).sum())


def high_quality_fraction(samples, centres, std: float, *, radius: float = 3.0) -> float:
    """Return the share of samples within ``radius`` standard deviations of their nearest mode."""
    std, radius = check_positive("std", std), check_positive("radius", radius)
    return float((_distances_to_modes(samples, centres).min(axis=1) <= radius * std).mean())


def _check_pair(x: torch.Tensor, y: torch.Tensor, data_range: float) -> None:
    for name, t in (("x", x), ("y", y)):
        if not isinstance(t, torch.Tensor):
            raise ValueError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
        if t.ndim != 4:
            raise ValueError(f"{name} must have shape (N, C, H, W), got {tuple(t.shape)}")
        if not torch.isfinite(t).all():
            raise ValueError(f"{name} contains NaN or infinite values")
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same shape, got {tuple(x.shape)} and {tuple(y.shape)}")
    check_positive("data_range", data_range)


def psnr(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    r"""Return the peak signal-to-noise ratio of each image pair, in decibels, shape ``(N,)``.

    .. math::

        \operatorname{PSNR}(x, y) = 10 \log_{10} \frac{L^2}{\operatorname{MSE}(x, y)},
        \qquad \operatorname{MSE}(x, y) = \frac{1}{CHW} \sum_{c,i,j} (x_{cij} - y_{cij})^2,

    with :math:`L` = ``data_range``, the span of possible pixel values (1 for pixels in
    ``[0, 1]``). Identical images give ``inf``. Each halving of the root mean squared
    error adds :math:`20\log_{10} 2 \approx 6.02` dB. A data set's PSNR in this book is the
    mean of the per-image values.

    Args:
        x, y: image batches of the same shape ``(N, C, H, W)``.
        data_range: :math:`L`.

    Raises:
        ValueError: mismatched or non-4-D shapes, non-finite values, a bad ``data_range``.
    """
    _check_pair(x, y, data_range)
    mse = (x.double() - y.double()).pow(2).flatten(1).mean(1)
    return (10 * torch.log10(data_range**2 / mse)).to(torch.promote_types(x.dtype, torch.float32))


def ssim(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0, *, win_size: int = 7) -> torch.Tensor:
    r"""Return the structural similarity of each image pair, shape ``(N,)``; 1 means identical.

    For every ``win_size`` × ``win_size`` window that fits inside the image, with the
    window means :math:`\mu_x, \mu_y`, the sample variances :math:`\sigma_x^2, \sigma_y^2`
    and the sample covariance :math:`\sigma_{xy}` (divided by :math:`n - 1`, :math:`n` =
    ``win_size``²),

    .. math::

        \operatorname{SSIM} = \frac{(2\mu_x\mu_y + C_1)(2\sigma_{xy} + C_2)}
                                   {(\mu_x^2 + \mu_y^2 + C_1)(\sigma_x^2 + \sigma_y^2 + C_2)},
        \qquad C_1 = (0.01 L)^2,\ C_2 = (0.03 L)^2,

    with :math:`L` = ``data_range``; the result is the mean over windows and channels
    (Wang et al. 2004). The three factors compare brightness, contrast and structure.
    These are the defaults of scikit-image's ``structural_similarity`` (uniform 7×7
    window); on an 8×8 digit four windows fit.

    Raises:
        ValueError: mismatched shapes, non-finite values, a bad ``data_range``, or a
            window that is even, smaller than 3 or larger than the image.
    """
    _check_pair(x, y, data_range)
    win_size = check_int("win_size", win_size)
    if win_size < 3 or win_size % 2 == 0:
        raise ValueError(f"win_size must be an odd integer >= 3, got {win_size}")
    if win_size > min(x.shape[-2:]):
        raise ValueError(f"win_size {win_size} is larger than the images ({x.shape[-2]}×{x.shape[-1]})")
    x_dtype, x, y = x.dtype, x.double(), y.double()
    n = win_size**2
    cov_norm = n / (n - 1)  # the sample (co)variance

    def mean(t: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(t, win_size, stride=1)  # the mean of every window that fits, "valid" mode

    mu_x, mu_y = mean(x), mean(y)
    var_x = cov_norm * (mean(x * x) - mu_x**2)
    var_y = cov_norm * (mean(y * y) - mu_y**2)
    cov_xy = cov_norm * (mean(x * y) - mu_x * mu_y)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * mu_x * mu_y + c1) * (2 * cov_xy + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return s.flatten(1).mean(1).to(torch.promote_types(x_dtype, torch.float32))
