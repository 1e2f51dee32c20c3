"""Classical generators of digits to measure a GAN against.

Both fit a density to the 15 leading PCA coefficients of the training digits
they are given (the book passes the ``'train'`` split) and sample new images by decoding sampled coefficients (clipped to
``[0, 1]``), as scikit-learn's kernel-density example does:

* :func:`fit_kde`: a Gaussian kernel density with a cross-validated bandwidth;
* :func:`fit_gmm`: a Gaussian mixture with 10 full-covariance components.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from gaedu._validation import check_images, check_int


@dataclass
class PCADensity:
    """A density over PCA coefficients that samples images; build one with :func:`fit_kde` or :func:`fit_gmm`."""

    pca: Any
    density: Any
    name: str

    def sample(self, n: int, seed: int = 0) -> torch.Tensor:
        """Draw ``n`` images, float32 of shape ``(n, 1, 8, 8)`` in ``[0, 1]``."""
        from sklearn.mixture import GaussianMixture

        n, seed = check_int("n", n), check_int("seed", seed, minimum=0)
        if isinstance(self.density, GaussianMixture):  # its sample() takes the seed from random_state
            self.density.random_state = seed
            codes, _ = self.density.sample(n)
        else:
            codes = self.density.sample(n, random_state=seed)
        images = np.clip(self.pca.inverse_transform(codes), 0.0, 1.0)
        return torch.tensor(images, dtype=torch.float32).reshape(-1, 1, 8, 8)


def _fit_pca(x_train: torch.Tensor, n_components: int):
    from sklearn.decomposition import PCA

    x_train = check_images(x_train, "x_train", shape=(1, 8, 8))
    n_components = check_int("n_components", n_components, maximum=min(len(x_train), 64))
    X = x_train.reshape(len(x_train), 64).double().cpu().numpy()
    pca = PCA(n_components=n_components, whiten=False, random_state=0).fit(X)
    return pca, pca.transform(X)


def fit_kde(x_train: torch.Tensor, *, n_components: int = 15, bandwidths: np.ndarray | None = None) -> PCADensity:
    """Fit a kernel density to the PCA coefficients of ``x_train`` ``(N, 1, 8, 8)``.

    The bandwidth is chosen by 5-fold cross-validated likelihood on ``x_train`` among
    ``bandwidths`` (default: 20 values from 0.01 to 1, log-spaced): the baseline gets
    its best setting without looking at any test image.
    """
    from sklearn.model_selection import GridSearchCV
    from sklearn.neighbors import KernelDensity

    pca, codes = _fit_pca(x_train, n_components)
    grid = {"bandwidth": np.logspace(-2, 0, 20) if bandwidths is None else np.asarray(bandwidths, dtype=np.float64)}
    if grid["bandwidth"].ndim != 1 or not len(grid["bandwidth"]) or not (grid["bandwidth"] > 0).all():
        raise ValueError(f"bandwidths must be a non-empty list of numbers > 0, got {bandwidths!r}")
    search = GridSearchCV(KernelDensity(), grid, cv=5).fit(codes)
    return PCADensity(pca, search.best_estimator_, f"KDE (bandwidth {search.best_params_['bandwidth']:.3f})")


def fit_gmm(x_train: torch.Tensor, *, n_components: int = 15, n_mixture: int = 10, seed: int = 0) -> PCADensity:
    """Fit a Gaussian mixture with ``n_mixture`` full-covariance components to the PCA coefficients of ``x_train``."""
    from sklearn.mixture import GaussianMixture

    pca, codes = _fit_pca(x_train, n_components)
    n_mixture = check_int("n_mixture", n_mixture, maximum=len(codes))
    gmm = GaussianMixture(n_mixture, covariance_type="full", random_state=check_int("seed", seed, minimum=0)).fit(codes)
    return PCADensity(pca, gmm, f"Gaussian mixture ({n_mixture} components)")
