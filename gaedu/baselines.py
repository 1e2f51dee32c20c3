"""Classical generators of digits to measure a GAN against.

Both fit a density to the leading PCA coefficients of the training digits they are
given (the book passes the ``'train'`` split) and sample new images by decoding
sampled coefficients (clipped to ``[0, 1]``), as scikit-learn's kernel-density
example does:

* :func:`fit_kde`: a Gaussian kernel density with a cross-validated bandwidth;
* :func:`fit_gmm`: a Gaussian mixture with full-covariance components.

They work on any image shape: 8×8 digits (15 components by default) and 28×28 ones.
:func:`gaussian_restore` is the classical baseline of restoration: the posterior mean
of one Gaussian fitted to the training digits, the best *linear* estimate of the
missing or noisy pixels.
:func:`choose_by_likelihood` gives a baseline its best settings (the number of PCA
components, the bandwidth or the number of mixture components) by the likelihood of
held-out *training* digits, never by a score on the test split. Likelihoods with
different numbers of components are comparable because each model is a density over
all pixels: the discarded directions get the isotropic Gaussian of probabilistic PCA
(Tipping and Bishop 1999), whose variance is the mean discarded variance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from gaedu._validation import check_choice, check_fraction, check_images, check_int, check_nonnegative, check_positive


@dataclass
class PCADensity:
    """A density over PCA coefficients that samples images; build one with :func:`fit_kde` or :func:`fit_gmm`."""

    pca: Any
    density: Any
    name: str
    shape: tuple[int, ...] = (1, 8, 8)

    def sample(self, n: int, seed: int = 0) -> torch.Tensor:
        """Draw ``n`` images, float32 of shape ``(n, *shape)`` in ``[0, 1]``."""
        from sklearn.mixture import GaussianMixture

        n, seed = check_int("n", n), check_int("seed", seed, minimum=0)
        if isinstance(self.density, GaussianMixture):  # its sample() takes the seed from random_state
            self.density.random_state = seed
            codes, _ = self.density.sample(n)
        else:
            codes = self.density.sample(n, random_state=seed)
        images = np.clip(self.pca.inverse_transform(codes), 0.0, 1.0)
        return torch.tensor(images, dtype=torch.float32).reshape(-1, *self.shape)

    def log_likelihood(self, images: torch.Tensor) -> np.ndarray:
        r"""Return the log-density of each image over all its pixels, shape ``(N,)``, in nats.

        :math:`\log p(x) = \log q(c) + \log\mathcal N(r;\ 0, \sigma^2 I_{d-k})`, with
        :math:`c` the ``k`` PCA coefficients of :math:`x`, :math:`q` the fitted density,
        :math:`r` the residual outside the components and :math:`\sigma^2` the mean
        variance of the training digits along the discarded directions.
        """
        X = check_images(images, shape=self.shape, range01=False).reshape(len(images), -1).double().cpu().numpy()
        codes = self.pca.transform(X)
        residual = X - self.pca.inverse_transform(codes)
        d, k = X.shape[1], self.pca.n_components_
        variance = max(float(getattr(self.pca, "noise_variance_", 0.0)), 1e-12)
        tail = -0.5 * (d - k) * np.log(2 * np.pi * variance) - 0.5 * (residual**2).sum(1) / variance if d > k else 0.0
        return self.density.score_samples(codes) + tail


def _fit_pca(x_train: torch.Tensor, n_components: int):
    from sklearn.decomposition import PCA

    x_train = check_images(x_train, "x_train")
    pixels = math.prod(x_train.shape[1:])
    n_components = check_int("n_components", n_components, maximum=min(len(x_train), pixels))
    X = x_train.reshape(len(x_train), pixels).double().cpu().numpy()
    pca = PCA(n_components=n_components, whiten=False, random_state=0).fit(X)
    return pca, pca.transform(X)


def _bandwidth_grid(bandwidths, default: np.ndarray) -> np.ndarray:
    """``bandwidths`` as a float64 array (``default`` when ``None``), or a ValueError unless every one is > 0."""
    grid = default if bandwidths is None else np.asarray(bandwidths, dtype=np.float64)
    if grid.ndim != 1 or not len(grid) or not (grid > 0).all():
        raise ValueError(f"bandwidths must be a non-empty list of numbers > 0, got {bandwidths!r}")
    return grid


def fit_kde(x_train: torch.Tensor, *, n_components: int = 15, bandwidths: np.ndarray | None = None) -> PCADensity:
    """Fit a kernel density to the PCA coefficients of ``x_train`` ``(N, C, H, W)``.

    The bandwidth is chosen by 5-fold cross-validated likelihood on ``x_train`` among
    ``bandwidths`` (default: 20 values from 0.01 to 1, log-spaced): the baseline gets
    its best setting without looking at any test image.
    """
    from sklearn.model_selection import GridSearchCV
    from sklearn.neighbors import KernelDensity

    pca, codes = _fit_pca(x_train, n_components)
    grid = _bandwidth_grid(bandwidths, np.logspace(-2, 0, 20))
    if len(grid) == 1:  # nothing to choose
        density = KernelDensity(bandwidth=float(grid[0])).fit(codes)
    else:
        density = GridSearchCV(KernelDensity(), {"bandwidth": grid}, cv=5).fit(codes).best_estimator_
    name = f"KDE on {pca.n_components_} PCA components (bandwidth {density.bandwidth:.3f})"
    return PCADensity(pca, density, name, tuple(x_train.shape[1:]))


def fit_gmm(x_train: torch.Tensor, *, n_components: int = 15, n_mixture: int = 10, seed: int = 0) -> PCADensity:
    """Fit a Gaussian mixture with ``n_mixture`` full-covariance components to the PCA coefficients of ``x_train``."""
    from sklearn.mixture import GaussianMixture

    pca, codes = _fit_pca(x_train, n_components)
    n_mixture = check_int("n_mixture", n_mixture, maximum=len(codes))
    gmm = GaussianMixture(n_mixture, covariance_type="full", random_state=check_int("seed", seed, minimum=0)).fit(codes)
    name = f"Gaussian mixture ({n_mixture} components) on {pca.n_components_} PCA components"
    return PCADensity(pca, gmm, name, tuple(x_train.shape[1:]))


def choose_by_likelihood(
    x_train: torch.Tensor,
    kind: str,
    *,
    dims: tuple[int, ...] = (10, 20, 30, 50, 80),
    mixtures: tuple[int, ...] = (1, 5, 10, 20, 40),
    bandwidths: np.ndarray | None = None,
    val_fraction: float = 0.2,
    seed: int = 0,
) -> tuple[PCADensity, list[dict]]:
    """Fit the ``kind`` baseline (``'kde'`` or ``'gmm'``) with the settings that best predict held-out training digits.

    A seeded ``val_fraction`` of ``x_train`` is held out; for every number of PCA
    components in ``dims`` (and, for the mixture, every number of components in
    ``mixtures``, or for the KDE every bandwidth in ``bandwidths``, default 14 values
    from 0.05 to 1, log-spaced) the model is fitted to the rest and scored by the mean
    pixel-space log-likelihood (:meth:`PCADensity.log_likelihood`) of the held-out
    digits. The best settings are then refitted on all of ``x_train``.

    Returns:
        The refitted density and one row per setting tried:
        ``{'dims', 'mixture' (gmm only), 'bandwidth' (kde only), 'val_loglik'}``, in nats per digit.

    Raises:
        ValueError: an unknown ``kind``, an empty or bad list of settings, too few images.
    """
    from sklearn.model_selection import train_test_split

    check_choice("kind", kind, ("kde", "gmm"))
    x_train = check_images(x_train, "x_train")
    for name, values in (("dims", dims), ("mixtures", mixtures)):
        if not len(values):
            raise ValueError(f"{name} must list at least one setting")
    fit_part, val_part = train_test_split(np.arange(len(x_train)), test_size=check_fraction("val_fraction", val_fraction),
                                          random_state=check_int("seed", seed, minimum=0))  # fmt: skip
    x_fit, x_val = x_train[torch.from_numpy(fit_part)], x_train[torch.from_numpy(val_part)]
    rows: list[dict] = []
    for k in dims:
        if kind == "kde":
            from sklearn.neighbors import KernelDensity

            pca, codes = _fit_pca(x_fit, k)
            grid = _bandwidth_grid(bandwidths, np.logspace(np.log10(0.05), 0, 14))
            for bandwidth in grid:
                model = PCADensity(pca, KernelDensity(bandwidth=float(bandwidth)).fit(codes), "", tuple(x_fit.shape[1:]))
                rows.append({"dims": k, "bandwidth": float(bandwidth), "val_loglik": float(model.log_likelihood(x_val).mean())})
        else:
            for m in mixtures:
                model = fit_gmm(x_fit, n_components=k, n_mixture=m, seed=seed)
                rows.append({"dims": k, "mixture": m, "val_loglik": float(model.log_likelihood(x_val).mean())})
    best = max(rows, key=lambda row: row["val_loglik"])
    if kind == "kde":
        return fit_kde(x_train, n_components=best["dims"], bandwidths=[best["bandwidth"]]), rows
    return fit_gmm(x_train, n_components=best["dims"], n_mixture=best["mixture"], seed=seed), rows


def gaussian_restore(
    x_train: torch.Tensor,
    observed: torch.Tensor,
    mask: torch.Tensor | None = None,
    *,
    noise_var: float = 0.0,
    ridge: float = 1e-3,
) -> torch.Tensor:
    r"""Restore ``observed`` by the posterior mean of a Gaussian fitted to ``x_train``.

    With the training images' mean :math:`\mu` and covariance :math:`\Sigma` (plus
    ``ridge`` times the identity, since pixels that never vary make :math:`\Sigma`
    singular), the known pixels :math:`K` (``mask`` 1) seen with Gaussian noise of variance
    ``noise_var`` give

    .. math:: \hat x = \mu + \Sigma_{:,K}\,(\Sigma_{KK} + \sigma^2 I)^{-1}\,(y_K - \mu_K),

    the conditional mean of the missing pixels when ``noise_var`` is 0 (the known ones
    are then kept), and the Wiener filter of a noisy image when every pixel is known.
    It is the best estimate that is linear in :math:`y`, and the exact posterior mean if
    the digits were Gaussian. Images with the same mask share one solve.

    Args:
        x_train: the images ``(N, C, H, W)`` in ``[0, 1]`` whose Gaussian is the prior.
        observed: the damaged images ``(M, C, H, W)``; missing pixels may hold anything finite.
        mask: 1 where a pixel is known, 0 where it is missing, shaped like ``observed``
            (default: every pixel known).
        noise_var: variance of the noise on the known pixels (``>= 0``).
        ridge: added to the covariance's diagonal (``> 0``).

    Returns:
        The restored images, shaped like ``observed``, clipped to ``[0, 1]``.

    Raises:
        ValueError: bad images, shapes that do not match, a mask that is not 0s and 1s,
            a mask with no known pixel, or a bad ``noise_var`` or ``ridge``.
    """
    x_train = check_images(x_train, "x_train")
    observed = check_images(observed, "observed", shape=tuple(x_train.shape[1:]), range01=False)
    mask = torch.ones_like(observed) if mask is None else mask
    if not isinstance(mask, torch.Tensor) or mask.shape != observed.shape:
        got = tuple(mask.shape) if isinstance(mask, torch.Tensor) else type(mask).__name__
        raise ValueError(f"mask must have the shape of observed, {tuple(observed.shape)}, got {got}")
    if not ((mask == 0) | (mask == 1)).all():
        raise ValueError("mask must hold only 0 (missing pixel) and 1 (known pixel)")
    noise_var, ridge = check_nonnegative("noise_var", noise_var), check_positive("ridge", ridge)
    flat = x_train.flatten(1).double()
    mu = flat.mean(0)
    cov = torch.cov(flat.T) + ridge * torch.eye(flat.shape[1], dtype=torch.float64)
    y, known = observed.flatten(1).double(), mask.flatten(1).bool()
    if not known.any(1).all():
        raise ValueError("every image needs at least one known pixel (mask 1)")
    restored = torch.empty_like(y)
    patterns, which = torch.unique(known, dim=0, return_inverse=True)
    for p, pattern in enumerate(patterns):
        rows = which == p
        k = pattern.nonzero()[:, 0]
        gain = torch.linalg.solve(cov[k][:, k] + noise_var * torch.eye(len(k), dtype=torch.float64),
                                  (y[rows][:, k] - mu[k]).T)  # (|K|, images with this mask)
        restored[rows] = (mu[:, None] + cov[:, k] @ gain).T
    return restored.clamp(0, 1).float().reshape(observed.shape)
