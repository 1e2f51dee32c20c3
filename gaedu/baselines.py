"""Classical generators of digits to measure a GAN against.

Both fit a density to the 15 leading PCA coefficients of the ``'train'``
digits and sample new images by decoding sampled coefficients (clipped to
``[0, 1]``), as scikit-learn's kernel-density example does:

* :func:`fit_kde`: a Gaussian kernel density with a cross-validated bandwidth;
* :func:`fit_gmm`: a Gaussian mixture with 10 full-covariance components.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch


@dataclass
class PCADensity:
    """A density over PCA coefficients that samples images; build one with :func:`fit_kde` or :func:`fit_gmm`."""

    pca: Any
    density: Any
    name: str

    def sample(self, n: int, seed: int = 0) -> torch.Tensor:
        """Draw ``n`` images, float32 of shape ``(n, 1, 8, 8)`` in ``[0, 1]``."""
        from sklearn.mixture import GaussianMixture

        if isinstance(self.density, GaussianMixture):  # its sample() takes the seed from random_state
            self.density.random_state = seed
            codes, _ = self.density.sample(n)
        else:
            codes = self.density.sample(n, random_state=seed)
        images = np.clip(self.pca.inverse_transform(codes), 0.0, 1.0)
        return torch.tensor(images, dtype=torch.float32).reshape(-1, 1, 8, 8)


def _train_pca(n_components: int):
    from sklearn.decomposition import PCA

    from gaedu.data import load_digits

    images, _ = load_digits("train")
    X = images.reshape(len(images), 64).double().numpy()
    pca = PCA(n_components=n_components, whiten=False, random_state=0).fit(X)
    return pca, pca.transform(X)


def fit_kde(n_components: int = 15, bandwidths: np.ndarray | None = None) -> PCADensity:
    """Fit a kernel density to the PCA coefficients, choosing the bandwidth by 5-fold cross-validation."""
    from sklearn.model_selection import GridSearchCV
    from sklearn.neighbors import KernelDensity

    pca, codes = _train_pca(n_components)
    grid = {"bandwidth": np.logspace(-2, 0, 20) if bandwidths is None else bandwidths}
    search = GridSearchCV(KernelDensity(), grid, cv=5).fit(codes)
    return PCADensity(pca, search.best_estimator_, f"KDE (bandwidth {search.best_params_['bandwidth']:.3f})")


def fit_gmm(n_components: int = 15, n_mixture: int = 10, seed: int = 0) -> PCADensity:
    """Fit a Gaussian mixture with ``n_mixture`` full-covariance components to the PCA coefficients."""
    from sklearn.mixture import GaussianMixture

    pca, codes = _train_pca(n_components)
    gmm = GaussianMixture(n_mixture, covariance_type="full", random_state=seed).fit(codes)
    return PCADensity(pca, gmm, f"Gaussian mixture ({n_mixture} components)")
