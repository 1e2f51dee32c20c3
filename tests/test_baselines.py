"""gaedu.baselines: KDE and Gaussian-mixture digit generators on PCA coefficients, against scikit-learn."""

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KernelDensity

from gaedu.baselines import fit_gmm, fit_kde
from gaedu.data import load_digits

BANDWIDTHS = [0.05, 0.1, 0.2, 0.4, 0.8]  # a small grid keeps the cross-validation fast
N_COMPONENTS = 8


@pytest.fixture(scope="module")
def x_train():
    return load_digits("train")[0]


@pytest.fixture(scope="module")
def kde(x_train):
    return fit_kde(x_train, n_components=N_COMPONENTS, bandwidths=BANDWIDTHS)


@pytest.fixture(scope="module")
def gmm(x_train):
    return fit_gmm(x_train, n_components=N_COMPONENTS, n_mixture=4, seed=0)


def _codes(x_train, n_components):
    X = x_train.reshape(len(x_train), 64).double().numpy()
    return PCA(n_components=n_components, random_state=0).fit_transform(X)


@pytest.mark.parametrize("model", ["kde", "gmm"])
def test_samples_are_float32_images_in_0_1(model, request):
    images = request.getfixturevalue(model).sample(50, seed=0)
    assert images.shape == (50, 1, 8, 8) and images.dtype == torch.float32
    assert images.min() >= 0 and images.max() <= 1
    assert images.std(0).mean() > 0.05  # not one image repeated


@pytest.mark.parametrize("model", ["kde", "gmm"])
def test_the_seed_alone_decides_the_samples(model, request):
    density = request.getfixturevalue(model)
    first = density.sample(20, seed=3)
    other = density.sample(20, seed=4)
    torch.manual_seed(12345)  # the global random state plays no part
    assert torch.equal(density.sample(20, seed=3), first)
    assert not torch.equal(other, first)
    assert torch.equal(density.sample(1, seed=3), density.sample(1, seed=np.int64(3)))


def test_the_kde_bandwidth_is_the_one_scikit_learn_cross_validation_chooses(kde, x_train):
    search = GridSearchCV(KernelDensity(), {"bandwidth": BANDWIDTHS}, cv=5).fit(_codes(x_train, N_COMPONENTS))
    chosen = search.best_params_["bandwidth"]
    assert chosen not in (BANDWIDTHS[0], BANDWIDTHS[-1])  # an inner optimum: the test can tell grids apart
    assert kde.density.bandwidth == chosen
    assert kde.name == f"KDE on {N_COMPONENTS} PCA components (bandwidth {chosen:.3f})"
    assert kde.pca.n_components_ == N_COMPONENTS


def test_a_full_pca_with_a_tiny_bandwidth_samples_near_the_training_images(x_train):
    kde = fit_kde(x_train, n_components=64, bandwidths=[1e-3])
    images = kde.sample(40, seed=0).reshape(40, 64)
    train = x_train.reshape(-1, 64)
    nearest = torch.cdist(images.double(), train.double()).min(1).values
    assert nearest.max() < 0.05  # a kernel of width 1e-3 in 64 dimensions moves an image by about 0.008
    gaps = torch.cdist(train[:200].double(), train[:200].double())
    assert gaps[~torch.eye(200, dtype=torch.bool)].min() > 20 * nearest.max()  # far closer than any two digits


def test_the_gmm_is_scikit_learns_mixture_on_the_pca_codes(gmm, x_train):
    reference = GaussianMixture(4, covariance_type="full", random_state=0).fit(_codes(x_train, N_COMPONENTS))
    order = np.lexsort(gmm.density.means_.T), np.lexsort(reference.means_.T)  # the same components, in any order
    np.testing.assert_allclose(gmm.density.means_[order[0]], reference.means_[order[1]], atol=1e-6)
    np.testing.assert_allclose(gmm.density.weights_[order[0]], reference.weights_[order[1]], atol=1e-6)
    assert gmm.density.covariance_type == "full" and gmm.name == f"Gaussian mixture (4 components) on {N_COMPONENTS} PCA components"


@pytest.mark.parametrize("model", ["kde", "gmm"])
def test_the_samples_have_the_training_mean_image(model, request, x_train):
    images = request.getfixturevalue(model).sample(2000, seed=0).reshape(2000, 64)
    train = x_train.reshape(-1, 64)
    assert (images.mean(0) - train.mean(0)).abs().max() < 0.05


@pytest.mark.parametrize("fit", [fit_kde, fit_gmm])
@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((10, 1, 8, 8), dtype=np.float32), r"^x_train must be a torch.Tensor, got ndarray$"),
        ([[0.0] * 64], r"^x_train must be a torch.Tensor, got list$"),
        (torch.zeros(10, 64), r"^x_train must have shape \(N, C, H, W\) with N >= 1, got \(10, 64\)$"),
        (torch.zeros(0, 1, 8, 8), r"^x_train must have shape \(N, C, H, W\) with N >= 1"),
        (torch.full((10, 1, 8, 8), 2.0), r"^x_train must lie in \[0, 1\]"),
    ],
)
def test_bad_training_images_are_refused(fit, bad, message):
    with pytest.raises(ValueError, match=message):
        fit(bad)


@pytest.mark.parametrize("fit", [fit_kde, fit_gmm])
@pytest.mark.parametrize(
    "n_components, message",
    [
        (0, r"^n_components must be an integer from 1 to 64, got 0$"),
        (65, r"^n_components must be an integer from 1 to 64, got 65$"),
        (2.0, r"^n_components must be an integer, got float 2.0$"),
    ],
)
def test_bad_numbers_of_components_are_refused(fit, x_train, n_components, message):
    with pytest.raises(ValueError, match=message):
        fit(x_train, n_components=n_components)


def test_more_components_than_images_are_refused(x_train):
    with pytest.raises(ValueError, match=r"^n_components must be an integer from 1 to 10, got 11$"):
        fit_kde(x_train[:10], n_components=11)


@pytest.mark.parametrize("bandwidths", [[], [-1], [0.1, 0.0], [np.nan], 0.5, [[0.1, 0.2]]])
def test_bad_bandwidths_are_refused(x_train, bandwidths):
    with pytest.raises(ValueError, match=r"^bandwidths must be a non-empty list of numbers > 0, got "):
        fit_kde(x_train[:50], n_components=2, bandwidths=bandwidths)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_mixture": 0}, r"^n_mixture must be an integer from 1 to 50, got 0$"),
        ({"n_mixture": 51}, r"^n_mixture must be an integer from 1 to 50, got 51$"),
        ({"n_mixture": True}, r"^n_mixture must be an integer, got bool"),
        ({"seed": -1}, r"^seed must be an integer >= 0, got -1$"),
    ],
)
def test_bad_mixture_settings_are_refused(x_train, kwargs, message):
    with pytest.raises(ValueError, match=message):
        fit_gmm(x_train[:50], n_components=2, **kwargs)


@pytest.mark.parametrize("model", ["kde", "gmm"])
@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        ((0,), {}, r"^n must be an integer >= 1, got 0$"),
        ((-3,), {}, r"^n must be an integer >= 1, got -3$"),
        ((2.0,), {}, r"^n must be an integer, got float 2.0$"),
        ((5,), {"seed": -1}, r"^seed must be an integer >= 0, got -1$"),
        ((5,), {"seed": 1.5}, r"^seed must be an integer, got float 1.5$"),
    ],
)
def test_bad_sample_arguments_are_refused(model, request, args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        request.getfixturevalue(model).sample(*args, **kwargs)


@pytest.mark.parametrize("kwargs, message", [({"kind": "pca"}, "kind"), ({"kind": "kde", "dataset": "cifar10"}, "dataset")])
def test_the_zoos_baseline_choice_refuses_unknown_kinds_and_data_sets(kwargs, message):
    from gaedu.zoo import baseline_choice, best_baseline

    for fn in (baseline_choice, best_baseline):
        with pytest.raises(ValueError, match=message):
            fn(**kwargs, progress=False)


def test_the_8x8_baseline_settings_fit_in_64_pixels():
    from gaedu.zoo import DIGITS8_BASELINE_DIMS

    assert max(DIGITS8_BASELINE_DIMS) < len(load_digits("train")[0]) and max(DIGITS8_BASELINE_DIMS) < 64


def test_gaussian_restore_is_the_conditional_mean_of_a_known_gaussian():
    """Two correlated pixels: the missing one is mu2 + cov12 / var1 (y1 - mu1); the known one is kept."""
    from gaedu.baselines import gaussian_restore

    g = torch.Generator().manual_seed(0)
    a = torch.rand(4000, generator=g)
    pairs = torch.stack([a, 0.5 * a + 0.2 * torch.rand(4000, generator=g)], 1).reshape(-1, 1, 1, 2)
    flat = pairs.flatten(1).double()
    mu, cov = flat.mean(0), torch.cov(flat.T)
    observed = torch.tensor([[[[0.8, 0.0]]], [[[0.1, 0.0]]]])
    mask = torch.tensor([[[[1.0, 0.0]]], [[[1.0, 0.0]]]])
    restored = gaussian_restore(pairs, observed, mask, ridge=1e-9)
    expected = mu[1] + cov[0, 1] / cov[0, 0] * (observed[:, 0, 0, 0].double() - mu[0])
    assert torch.allclose(restored[:, 0, 0, 1].double(), expected, atol=1e-5)
    assert torch.equal(restored[:, 0, 0, 0], observed[:, 0, 0, 0])


def test_gaussian_restore_denoises_and_beats_the_mean_fill():
    from gaedu.baselines import gaussian_restore
    from gaedu.metrics import psnr

    x_train, x_test = load_digits("train")[0], load_digits("test")[0][:64]
    noisy = (x_test + 0.2 * torch.randn(x_test.shape, generator=torch.Generator().manual_seed(1))).clamp(0, 1)
    assert psnr(gaussian_restore(x_train, noisy, noise_var=0.02), x_test).mean() > psnr(noisy, x_test).mean() + 2
    mask = torch.ones_like(x_test)
    mask[:, :, 4:] = 0
    mean_fill = torch.where(mask > 0, x_test, x_train.mean(0))
    assert psnr(gaussian_restore(x_train, x_test * mask, mask), x_test).mean() > psnr(mean_fill, x_test).mean() + 1


@pytest.mark.parametrize("kwargs, message", [
    ({"mask": torch.full((2, 1, 8, 8), 0.5)}, "only 0"),
    ({"mask": torch.ones(2, 1, 8, 7)}, "shape of observed"),
    ({"mask": torch.zeros(2, 1, 8, 8)}, "at least one known pixel"),
    ({"noise_var": -1.0}, "noise_var"),
    ({"ridge": 0.0}, "ridge"),
    ({"observed": torch.full((2, 1, 8, 8), float("nan"))}, "NaN"),
    ({"observed": torch.rand(2, 1, 4, 4)}, "observed must have shape"),
])
def test_gaussian_restore_refuses_bad_input(kwargs, message):
    from gaedu.baselines import gaussian_restore

    arguments = {"observed": torch.rand(2, 1, 8, 8), **kwargs}
    with pytest.raises(ValueError, match=message):
        gaussian_restore(load_digits("train")[0], **arguments)
