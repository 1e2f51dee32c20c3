"""gaedu.score: the samplers on targets with known answers, the DSM loss against its closed form, the score model."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from gaedu.checkpoint import CheckpointError, save_checkpoint
from gaedu.data import load_digits, ring_of_gaussians
from gaedu.score import (
    ScoreConfig,
    ScoreNet,
    annealed_langevin,
    dsm_loss,
    langevin,
    langevin_step,
    load_score,
    mixture_log_density,
    mixture_score,
    noise_levels,
    posterior_score,
    reverse_diffusion,
    sample,
    save_score,
    train_score,
    tweedie,
)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def gaussian_score(mu, v):
    """The exact score of N(mu, v I) blurred by noise sigma: -(x - mu) / (v + sigma²)."""
    return lambda x, sigma=0.0: -(x - mu) / (v + float(sigma) ** 2)


# --- exact scores ------------------------------------------------------------------------


def test_mixture_score_is_the_gradient_of_the_log_density():
    x = torch.randn(50, 2, dtype=torch.float64, generator=gen(1), requires_grad=True)
    _, centres = ring_of_gaussians(1, modes=5, std=0.3)
    centres = centres.double()
    weights = torch.tensor([0.1, 0.2, 0.3, 0.25, 0.15], dtype=torch.float64)
    for sigma in (0.0, 0.4):
        log_p = mixture_log_density(x, centres, 0.3, sigma=sigma, weights=weights)
        (grad,) = torch.autograd.grad(log_p.sum(), x)
        torch.testing.assert_close(mixture_score(x.detach(), centres, 0.3, sigma=sigma, weights=weights), grad)


def test_mixture_density_integrates_to_one():
    centres = torch.tensor([[-1.0], [2.0]], dtype=torch.float64)
    grid = torch.linspace(-8, 10, 20001, dtype=torch.float64)[:, None]
    density = mixture_log_density(grid, centres, 0.5, sigma=0.7, weights=[0.3, 0.7]).exp()
    assert torch.trapezoid(density, grid[:, 0]).item() == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize(
    "kwargs, pattern",
    [({"weights": [0.5, 0.6]}, "summing to 1"), ({"weights": [1.0]}, "summing to 1"), ({"std": 0}, "std"),
     ({"sigma": -1}, "sigma")],
)  # fmt: skip
def test_mixture_bad_arguments(kwargs, pattern):
    args = {"std": 0.1, **kwargs}
    with pytest.raises(ValueError, match=pattern):
        mixture_score(torch.zeros(3, 1), torch.tensor([[0.0], [1.0]]), args.pop("std"), **args)


def test_mixture_refuses_mismatched_dimensions():
    with pytest.raises(ValueError, match="agree in d"):
        mixture_score(torch.zeros(3, 2), torch.zeros(4, 3), 0.1)


def test_tweedie_is_the_posterior_mean_of_a_gaussian():
    mu, v, sigma = 0.7, 0.2, 0.5
    x = torch.linspace(-3, 3, 11, dtype=torch.float64)[:, None]
    denoised = tweedie(x, gaussian_score(mu, v)(x, sigma), sigma)
    torch.testing.assert_close(denoised, (v * x + sigma**2 * mu) / (v + sigma**2))


# --- samplers --------------------------------------------------------------------------


def test_langevin_samples_a_gaussian_with_the_known_discretization_bias():
    """For N(m, v) and step η the chain's stationary variance is exactly v / (1 - η / (2v))."""
    m, v, eta = 1.5, 0.5, 0.05
    x0 = torch.zeros(20_000, 1, dtype=torch.float64)
    x, _ = langevin(gaussian_score(m, v), x0, eta, 400, rng=gen(3))
    want_var = v / (1 - eta / (2 * v))
    n = len(x)
    assert abs(x.mean().item() - m) < 4 * math.sqrt(want_var / n)
    assert abs(x.var().item() - want_var) < 4 * want_var * math.sqrt(2 / n)
    assert abs(x.var().item() - v) > 4 * want_var * math.sqrt(2 / n)  # the bias is real, and measurable here


def test_langevin_at_a_temperature_samples_p_to_the_power_one_over_t():
    m, v, eta, temperature = 0.0, 1.0, 0.01, 0.25
    x, _ = langevin(gaussian_score(m, v), torch.zeros(20_000, 1, dtype=torch.float64), eta, 1500, rng=gen(4),
                    temperature=temperature)  # fmt: skip
    want = temperature * v / (1 - eta / (2 * v))  # p^(1/T) of N(0, v) is N(0, T v)
    assert abs(x.var().item() - want) < 4 * want * math.sqrt(2 / len(x))


def test_langevin_stationary_law_of_a_two_mode_density():
    """The chains' empirical law matches exp(log p) for a non-Gaussian p (Kolmogorov–Smirnov)."""
    centres, weights = torch.tensor([[-1.0], [1.0]], dtype=torch.float64), [0.4, 0.6]

    def score(x):
        return mixture_score(x, centres, 0.6, weights=weights)

    x, _ = langevin(score, torch.randn(5000, 1, dtype=torch.float64, generator=gen(5)), 0.01, 2000, rng=gen(6))
    grid = torch.linspace(-6, 6, 12001, dtype=torch.float64)
    density = mixture_log_density(grid[:, None], centres, 0.6, weights=weights).exp()
    cdf = np.concatenate([[0], np.cumsum(((density[1:] + density[:-1]) / 2 * (grid[1] - grid[0])).numpy())])
    result = stats.kstest(x[:, 0].numpy(), lambda t: np.interp(t, grid.numpy(), cdf))
    assert result.pvalue > 0.01
    wrong = stats.kstest(x[:, 0].numpy(), lambda t: np.interp(t, grid.numpy(), cdf * 0.9 + 0.1 * (grid > 0).numpy()))
    assert wrong.pvalue < 1e-6  # the test can tell a law with 10 % of the mass moved


def test_annealed_langevin_finds_the_weights_plain_langevin_cannot():
    centres, weights = torch.tensor([[-3.0], [3.0]], dtype=torch.float64), torch.tensor([0.2, 0.8], dtype=torch.float64)

    def score(x, sigma=0.0):
        return mixture_score(x, centres, 0.2, sigma=sigma, weights=weights)

    sigmas = noise_levels(6.0, 0.05, 15)
    x0 = 6.0 * torch.randn(4000, 1, dtype=torch.float64, generator=gen(7))
    x, path = annealed_langevin(score, x0, sigmas, epsilon=0.1 * 0.05**2, steps_per_level=50, rng=gen(8))
    share = (x > 0).double().mean().item()
    assert abs(share - 0.8) < 0.03
    assert path.shape == (16, 4000, 1)  # the start and one frame per level
    plain, _ = langevin(lambda x: score(x), x0, 0.004, 750, rng=gen(8))
    assert abs((plain > 0).double().mean().item() - 0.5) < 0.03  # each chain stays on its starting side


def test_reverse_diffusion_recovers_a_gaussian():
    mu, v = 0.5, 0.09
    sigmas = noise_levels(5.0, 0.01, 300, rho=7.0)
    x0 = mu + 5.0 * torch.randn(20_000, 1, dtype=torch.float64, generator=gen(9))
    x, path = reverse_diffusion(gaussian_score(mu, v), x0, sigmas, rng=gen(10), denoise=False)
    assert abs(x.mean().item() - mu) < 0.01
    assert x.var().item() == pytest.approx(v + 0.01**2, rel=0.05)
    assert path.shape == (2, 20_000, 1)


def test_samplers_are_seeded_by_their_generator_and_leave_the_global_state_alone():
    score = gaussian_score(0.0, 1.0)
    x0 = torch.zeros(10, 3)
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = reverse_diffusion(score, x0, noise_levels(2.0, 0.1, 5), rng=gen(1))[0]
    b = reverse_diffusion(score, x0, noise_levels(2.0, 0.1, 5), rng=gen(1))[0]
    c = reverse_diffusion(score, x0, noise_levels(2.0, 0.1, 5), rng=gen(2))[0]
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(torch.get_rng_state(), before)


def test_langevin_step_is_ascent_plus_noise():
    x, s = torch.zeros(4, 2), torch.ones(4, 2)
    noise = torch.randn(4, 2, generator=gen(0))
    torch.testing.assert_close(langevin_step(x, s, 0.5, rng=gen(0)), x + 0.5 * s + 1.0 * noise)
    torch.testing.assert_close(langevin_step(x, s, 0.5, rng=gen(0), temperature=0), x + 0.5 * s)


@pytest.mark.parametrize(
    "call, pattern",
    [
        (lambda: langevin(lambda x: -x, torch.zeros(3, 1), 0.1, 5, rng=None), "torch.Generator"),
        (lambda: langevin(lambda x: -x, torch.zeros(3, 1), 0.1, 5, rng=0), "torch.Generator"),
        (lambda: langevin(lambda x: -x, torch.zeros(3, 1), 0.0, 5, rng=gen()), "step"),
        (lambda: langevin(lambda x: -x, torch.zeros(3, 1), 0.1, -1, rng=gen()), "num_steps"),
        (lambda: langevin(lambda x: -x, torch.full((3, 1), math.nan), 0.1, 5, rng=gen()), "NaN"),
        (lambda: langevin(lambda x: -x, [0.0, 1.0], 0.1, 5, rng=gen()), "torch.Tensor"),
        (lambda: langevin(lambda x: -x[:1], torch.zeros(3, 1), 0.1, 5, rng=gen()), "returned shape"),
        (lambda: langevin(lambda x: -x, torch.ones(3, 1), 50.0, 400, rng=gen()), "lower the step size"),
        (lambda: annealed_langevin(gaussian_score(0, 1), torch.zeros(3, 1), [0.1, 1.0], epsilon=0.1,
                                   steps_per_level=2, rng=gen()), "decrease"),
        (lambda: annealed_langevin(gaussian_score(0, 1), torch.zeros(3, 1), [1.0, -0.1], epsilon=0.1,
                                   steps_per_level=2, rng=gen()), "> 0"),
        (lambda: reverse_diffusion(gaussian_score(0, 1), torch.zeros(3, 1), [], rng=gen()), "non-empty"),
        (lambda: noise_levels(1.0, 2.0, 5), "below sigma_max"),
        (lambda: noise_levels(1.0, 0.1, 0), "num"),
    ],
)  # fmt: skip
def test_sampler_bad_arguments(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


def test_noise_levels():
    levels = noise_levels(10.0, 0.1, 5)
    torch.testing.assert_close(levels, torch.tensor([10.0, 10 / 10**0.5, 1.0, 0.1 * 10**0.5, 0.1], dtype=torch.float64))
    karras = noise_levels(10.0, 0.1, 5, rho=7.0)
    assert karras[0] == pytest.approx(10.0) and karras[-1] == pytest.approx(0.1) and (karras.diff() < 0).all()
    assert levels[2] < karras[2] < noise_levels(10.0, 0.1, 5, rho=1.0)[2] == pytest.approx(5.05)  # between geometric and even


def test_posterior_score_adds_the_likelihood_gradient():
    y = torch.full((2, 1, 2, 2), 0.8)
    mask = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    score = posterior_score(lambda x, s: torch.zeros_like(x), y, mask, 0.1)
    x = torch.zeros(2, 1, 2, 2)
    torch.testing.assert_close(score(x, 0.2), mask * 0.8 / (0.01 + 0.04) * torch.ones_like(x))
    with pytest.raises(ValueError, match="does not fit"):
        posterior_score(lambda x, s: x, y, torch.ones(3, 3), 0.1)
    with pytest.raises(ValueError, match="noise_std"):
        posterior_score(lambda x, s: x, y, mask, -0.1)


# --- denoising score matching ------------------------------------------------------------------


def test_dsm_loss_against_its_closed_form_for_a_gaussian():
    """Data N(mu, v): the exact score scores v/(v+σ²), a zero score 1, and the unblurred score σ⁶/(v²(v+σ²)) more."""
    mu, v, n, d = 0.3, 0.5, 200_000, 4
    x0 = mu + math.sqrt(v) * torch.randn(n, d, dtype=torch.float64, generator=gen(11))
    noise = torch.randn(n, d, dtype=torch.float64, generator=gen(12))
    for s in (0.2, 1.0, 3.0):
        sigma = torch.full((n,), s, dtype=torch.float64)
        exact = dsm_loss(lambda x, sig: -(x - mu) / (v + sig[:, None] ** 2), x0, sigma, noise).item()
        zero = dsm_loss(lambda x, sig: torch.zeros_like(x), x0, sigma, noise).item()
        unblurred = dsm_loss(lambda x, sig: -(x - mu) / v, x0, sigma, noise).item()
        assert exact == pytest.approx(v / (v + s**2), rel=0.01)
        assert zero == pytest.approx(1.0, rel=0.01)
        assert unblurred == pytest.approx(v / (v + s**2) + s**6 / (v**2 * (v + s**2)), rel=0.01)
    weighted = dsm_loss(lambda x, sig: torch.zeros_like(x), x0, sigma, noise, torch.full((n,), 2.0, dtype=torch.float64))
    assert weighted.item() == pytest.approx(2 * zero)


def test_dsm_loss_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="sigma must be"):
        dsm_loss(lambda x, s: x, torch.zeros(4, 2), torch.ones(3), torch.zeros(4, 2))


# --- the score model ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_result():
    x_train, _ = load_digits("train")
    return train_score(x_train, ScoreConfig(width=64, blocks=1, num_steps=300, batch_size=64), device="cpu", progress=False)


def test_training_lowers_the_loss_and_is_seeded(small_result):
    loss = small_result.history["loss"]
    assert len(loss) == 6 and loss[-1] < 0.8 * loss[0]
    x_train, _ = load_digits("train")
    again = train_score(x_train, ScoreConfig(width=64, blocks=1, num_steps=300, batch_size=64), device="cpu", progress=False)
    for a, b in zip(small_result.sampler.state_dict().values(), again.sampler.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_the_score_is_tweedies_formula_of_the_denoiser(small_result):
    model = small_result.sampler
    x = torch.rand(5, 1, 8, 8, generator=gen(0))
    with torch.no_grad():
        torch.testing.assert_close(model.score(x, 0.3), (model(x, 0.3) - x) / 0.09)
        per_image = model.score(x, torch.full((5,), 0.3))
    torch.testing.assert_close(per_image, model.score(x, 0.3))


def test_sample_shapes_range_seeds_and_frames(small_result):
    model = small_result.sampler
    images = sample(model, 7, seed=3, method="diffusion", num_levels=20)
    assert images.shape == (7, 1, 8, 8) and images.min() >= 0 and images.max() <= 1
    assert torch.equal(images, sample(model, 7, seed=3, method="diffusion", num_levels=20))
    assert not torch.equal(images, sample(model, 7, seed=4, method="diffusion", num_levels=20))
    langevin_images, frames = sample(model, 4, method="langevin", num_levels=3, steps_per_level=5, every=5)
    assert langevin_images.shape == (4, 1, 8, 8) and frames.shape == (4, 4, 1, 8, 8)
    with pytest.raises(ValueError, match="method"):
        sample(model, 3, method="heun")
    with pytest.raises(ValueError, match="at least 2"):
        sample(model, 3, method="diffusion", num_levels=1)


def test_checkpoint_round_trip_and_wrong_kind(small_result, tmp_path):
    path = save_score(tmp_path / "score.pt", small_result, {"note": "test"})
    loaded = load_score(path)
    assert isinstance(loaded, ScoreNet) and not loaded.training
    torch.testing.assert_close(sample(loaded, 3, num_levels=3, steps_per_level=5), sample(small_result.sampler, 3, num_levels=3, steps_per_level=5))
    other = save_checkpoint(tmp_path / "gan.pt", "gan", {}, {})
    with pytest.raises(CheckpointError, match="not of kind 'score'"):
        load_score(other)
    broken = save_checkpoint(tmp_path / "bad.pt", "score", {"width": -1}, {"model": {}})
    with pytest.raises(CheckpointError, match="does not describe"):
        load_score(broken)


@pytest.mark.parametrize(
    "kwargs, pattern",
    [({"width": 0}, "width"), ({"sigma_min": 2.0, "sigma_max": 1.0}, "below sigma_max"), ({"ema": 1.0}, "ema"),
     ({"shape": ()}, "shape"), ({"lr": -1}, "lr"), ({"num_steps": -1}, "num_steps")],
)  # fmt: skip
def test_config_bad_settings(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        ScoreConfig(**kwargs)


@pytest.mark.parametrize(
    "x, pattern",
    [(torch.zeros(4, 1, 28, 28), r"shape \(N, 1, 8, 8\)"), (torch.full((4, 1, 8, 8), math.inf), "finite"),
     (np.zeros((4, 1, 8, 8)), "torch.Tensor")],
)  # fmt: skip
def test_train_score_bad_images(x, pattern):
    with pytest.raises(ValueError, match=pattern):
        train_score(x, ScoreConfig(num_steps=1), progress=False)


# --- the cached 8×8 models of the zoo ----------------------------------------------------------


def test_the_8x8_models_of_the_zoo(tmp_path, monkeypatch):
    import dataclasses

    import gaedu
    import gaedu.gan
    import gaedu.score
    import gaedu.zoo

    monkeypatch.setenv("GAEDU_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(gaedu.score, "DIGITS_SCORE", ScoreConfig(width=16, blocks=1, num_steps=3, batch_size=8))
    monkeypatch.setattr(gaedu.score, "LANGEVIN_LEVELS", 2)
    monkeypatch.setattr(gaedu.score, "LANGEVIN_STEPS", 2)
    monkeypatch.setattr(gaedu.zoo, "SCORE_SAMPLES", 5)
    monkeypatch.setattr(gaedu.gan, "RING_FIXED", dataclasses.replace(gaedu.gan.RING_FIXED, hidden=8, num_steps=2))
    model, info = gaedu.pretrained("digits8-score", seed=1, info=True, progress=False)
    assert isinstance(model, ScoreNet) and model.config.seed == 1 and not model.training
    assert info["samples"].shape == (5, 1, 8, 8) and info["seconds"] > 0 and info["sample_seconds"] > 0
    again = gaedu.pretrained("digits8-score", seed=1, progress=False)  # a hit: the same weights
    for a, b in zip(model.state_dict().values(), again.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    other = gaedu.pretrained("digits8-score", seed=2, progress=False)
    assert not torch.equal(model.inp.weight, other.inp.weight)
    assert len(list(tmp_path.glob("digits8-score-*.pt"))) == 2
    ring = gaedu.pretrained("ring-gan", progress=False)
    assert ring(torch.randn(3, ring.latent_dim)).shape == (3, 2)
    assert set(gaedu.zoo.SEEDED) <= set(gaedu.zoo.names())
