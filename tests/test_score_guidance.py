"""gaedu.score's deterministic sampler and guidance: DDIM against the probability-flow ODE's closed form, guided
scores against the exact conditional scores of a mixture, DPS against its closed form on a Gaussian prior."""

import math

import pytest
import torch
from scipy import stats

from gaedu.score import (
    classifier_log_likelihood,
    ddim,
    dps_score,
    free_guidance,
    guided_score,
    likelihood_gradient,
    mixture_log_posterior,
    mixture_score,
    noise_levels,
    reverse_diffusion,
)

CENTRES, STD, WEIGHTS = torch.tensor([[-2.0], [2.0]], dtype=torch.float64), 0.5, (0.7, 0.3)


def _gaussian_score(mu, v):
    return lambda x, sigma: -(x - mu) / (v + sigma**2)


def _mixture(x, sigma):
    return mixture_score(x, CENTRES, STD, sigma=sigma, weights=WEIGHTS)


def _class_log_likelihood(label):
    return lambda x, sigma: mixture_log_posterior(x, CENTRES, STD, sigma=sigma, weights=WEIGHTS)[:, label]


def test_ddim_is_euler_on_the_probability_flow_ode_of_a_gaussian():
    mu, v = 0.3, 0.5
    x0 = torch.linspace(-20, 20, 11, dtype=torch.float64)[:, None]
    sigmas = noise_levels(10.0, 0.01, 12, rho=7.0)
    x, path = ddim(_gaussian_score(mu, v), x0, sigmas)
    factor = torch.prod(torch.tensor([(v + a * b) / (v + a * a) for a, b in zip(sigmas[:-1].tolist(), sigmas[1:].tolist(), strict=True)]))
    factor = factor * v / (v + sigmas[-1].item() ** 2)  # the last step: Tweedie's estimate at the lowest level
    torch.testing.assert_close(x, mu + (x0 - mu) * factor)
    assert path.shape == (2, 11, 1)
    # the exact flow scales x - mu by sqrt((v + sigma^2)/(v + sigma_max^2)); Euler's error shrinks with the levels
    exact = (v / (v + 100.0)) ** 0.5

    def error(levels):
        x, _ = ddim(_gaussian_score(mu, v), x0, noise_levels(10.0, 1e-4, levels, rho=7.0))
        return abs(((x - mu) / (x0 - mu))[0].item() / exact - 1)

    assert error(2000) < 2e-3 < error(20)


def test_ddim_draws_the_data_law_from_noise_without_any_noise_of_its_own():
    rng = torch.Generator().manual_seed(0)
    x0 = 0.3 + (0.5 + 100.0) ** 0.5 * torch.randn(20_000, 1, generator=rng, dtype=torch.float64)
    x, _ = ddim(_gaussian_score(0.3, 0.5), x0, noise_levels(10.0, 1e-3, 400, rho=7.0))
    assert stats.kstest(x[:, 0].numpy(), "norm", args=(0.3, 0.5**0.5)).pvalue > 0.01
    again, _ = ddim(_gaussian_score(0.3, 0.5), x0, noise_levels(10.0, 1e-3, 400, rho=7.0))
    assert torch.equal(x, again)


def test_guidance_with_scale_one_is_the_exact_conditional_score():
    x = torch.linspace(-5, 5, 41, dtype=torch.float64)[:, None]
    for label in (0, 1):
        guided = guided_score(_mixture, _class_log_likelihood(label), 1.0)
        for sigma in (0.0, 0.3, 2.0):
            exact = mixture_score(x, CENTRES[label : label + 1], STD, sigma=sigma)  # the class's own mode
            torch.testing.assert_close(guided(x, sigma), exact)
    assert torch.equal(guided_score(_mixture, _class_log_likelihood(1), 0.0)(x, 0.3), _mixture(x, 0.3))


def test_guided_sampling_with_exact_scores_draws_the_exact_conditional_law():
    x0 = 10.0 * torch.randn(4000, 1, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    sigmas = noise_levels(10.0, 0.01, 400, rho=7.0)
    guided, _ = reverse_diffusion(guided_score(_mixture, _class_log_likelihood(1), 1.0), x0, sigmas,
                                  rng=torch.Generator().manual_seed(2))  # fmt: skip
    plain, _ = reverse_diffusion(_mixture, x0, sigmas, rng=torch.Generator().manual_seed(2))
    assert stats.kstest(guided[:, 0].numpy(), "norm", args=(2.0, STD)).pvalue > 0.01  # the law of x given class 1
    assert 0.25 < (plain[:, 0] > 0).double().mean().item() < 0.35  # unguided: the class's weight, 0.3
    sharper, _ = reverse_diffusion(guided_score(_mixture, _class_log_likelihood(1), 4.0), x0, sigmas,
                                   rng=torch.Generator().manual_seed(2))  # fmt: skip
    assert (sharper[:, 0] > 0).all() and (guided[:, 0] > 0).double().mean() > 0.99


def test_classifier_free_guidance_is_guidance_with_scale_one_plus_w():
    x = torch.linspace(-5, 5, 21, dtype=torch.float64)[:, None]

    def conditional(x, sigma):
        return mixture_score(x, CENTRES[1:], STD, sigma=sigma)

    for w in (0.0, 0.5, 3.0):
        torch.testing.assert_close(free_guidance(conditional, _mixture, w)(x, 0.4),
                                   guided_score(_mixture, _class_log_likelihood(1), 1 + w)(x, 0.4))  # fmt: skip


def test_a_classifiers_log_likelihood_and_its_gradient():
    classifier = torch.nn.Linear(3, 4).double()
    x = torch.randn(5, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    log_likelihood = classifier_log_likelihood(lambda x, sigma: classifier(x), 2)
    torch.testing.assert_close(log_likelihood(x, 0.1), torch.log_softmax(classifier(x), 1)[:, 2])
    labels = torch.tensor([0, 1, 2, 3, 0])
    by_sample = classifier_log_likelihood(lambda x, sigma: classifier(x), labels)(x, 0.1)
    torch.testing.assert_close(by_sample, torch.log_softmax(classifier(x), 1)[torch.arange(5), labels])
    with torch.no_grad():  # the samplers' context: the gradient is still taken
        gradient = likelihood_gradient(log_likelihood, x, 0.1)
    step = x + 0.1 * gradient
    assert (log_likelihood(step, 0.1) > log_likelihood(x, 0.1)).all()  # one ascent step raises every sample's log p(y | x)


def test_dps_is_the_gradient_of_the_normalised_residual_at_tweedies_estimate():
    mu, v, sigma, zeta = 0.2, 0.5, 0.7, 0.3
    mask = torch.tensor([[1.0, 0.0, 1.0]], dtype=torch.float64)
    observed = torch.tensor([[0.9, 0.0, -0.4]], dtype=torch.float64)
    x = torch.tensor([[1.5, -0.3, 0.8], [0.1, 0.2, 0.3]], dtype=torch.float64)
    score = dps_score(_gaussian_score(mu, v), observed, lambda image: mask * image, zeta)(x, sigma)
    shrink = v / (v + sigma**2)  # Tweedie's estimate is linear here: mu + shrink (x - mu)
    residual = observed - mask * (mu + shrink * (x - mu))
    expected = _gaussian_score(mu, v)(x, sigma) + 2 * zeta * shrink * mask * residual / residual.norm(dim=1, keepdim=True)
    torch.testing.assert_close(score, expected)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: guided_score(_mixture, _class_log_likelihood(1), -1.0), "scale"),
        (lambda: free_guidance(_mixture, _mixture, float("nan")), "scale"),
        (lambda: classifier_log_likelihood(lambda x, s: x, -1), "label"),
        (lambda: classifier_log_likelihood(lambda x, s: x, torch.zeros(2, 2, dtype=torch.long)), "label"),
        (lambda: guided_score(_mixture, lambda x, s: x, 1.0)(torch.zeros(3, 1, dtype=torch.float64), 0.1), "one number per sample"),
        (lambda: classifier_log_likelihood(lambda x, s: x, 5)(torch.zeros(3, 2), 0.1), "below the classifier's 2 classes"),
        (lambda: ddim(_mixture, torch.zeros(3, 1), [0.1, 0.2]), "decrease"),
        (lambda: dps_score(_mixture, torch.zeros(3), lambda x: x, 1.0), "observed"),
    ],
)
def test_bad_guidance_is_a_clear_error(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.fixture(scope="module")
def small_models():
    from gaedu.data import load_digits
    from gaedu.score import ClassifierConfig, ScoreConfig, train_noisy_classifier, train_score

    x, labels = load_digits("train")
    score = train_score(x, ScoreConfig(width=64, blocks=1, num_steps=300, batch_size=64), device="cpu", progress=False)
    classifier = train_noisy_classifier(x, labels, ClassifierConfig(width=64, blocks=1, num_steps=400, batch_size=64),
                                        device="cpu", progress=False)  # fmt: skip
    return score.sampler, classifier


def test_the_noise_conditional_classifier_reads_clean_digits_and_not_noise(small_models):
    from gaedu.data import load_digits
    from gaedu.score import noisy_accuracy

    x_test, labels = load_digits("test")
    _, classifier = small_models
    assert noisy_accuracy(classifier, x_test, labels, 0.02) > 0.85
    assert noisy_accuracy(classifier, x_test, labels, 5.0) < 0.3  # at the top level the digit is hidden


def test_guidance_draws_the_class_asked_for(small_models):
    from gaedu.score import sample

    model, classifier = small_models

    def share_of_threes(**guide):
        images = sample(model, 60, seed=1, method="ddim", num_levels=12, **guide)
        return (classifier(images, 0.01).argmax(1) == 3).double().mean().item()

    plain, guided = share_of_threes(), share_of_threes(label=3, classifier=classifier, guidance_scale=4.0)
    assert guided > plain + 0.4 and guided > 0.7


def test_classifier_settings_and_sampling_by_class_refuse_bad_values(small_models):
    from gaedu.score import ClassifierConfig, sample, train_noisy_classifier

    model, classifier = small_models
    for kwargs, match in [({"classes": 1}, "classes"), ({"sigma_min": 6.0}, "sigma_min"), ({"width": 0}, "width")]:
        with pytest.raises(ValueError, match=match):
            ClassifierConfig(**kwargs)
    with pytest.raises(ValueError, match="labels must"):
        train_noisy_classifier(torch.rand(4, 1, 8, 8), torch.tensor([0, 1, 2, 10]), progress=False)
    with pytest.raises(ValueError, match="needs a noise-conditional classifier"):
        sample(model, 2, label=3)
    with pytest.raises(ValueError, match="label"):
        sample(model, 2, label=10, classifier=classifier)
    with pytest.raises(ValueError, match="num_levels must be at least 2"):
        sample(model, 2, method="ddim", num_levels=1)


def test_bisecting_the_guidance_scale_finds_the_smallest_scale_that_reaches_the_target():
    from gaedu.exercises import bisect_scale

    def accuracy(w):  # 95 % at w = log 20
        return 100 * (1 - math.exp(-w))

    found, tried = bisect_scale(accuracy, 1.0, 8.0, rounds=8)
    assert math.log(20) <= found < 1.02 * math.log(20)
    assert tried[0] == (8.0, accuracy(8.0)) and len(tried) == 9
    with pytest.raises(ValueError, match="widen the bracket"):
        bisect_scale(accuracy, 0.5, 2.0)


def test_the_ring_score_model_learns_points_in_the_plane():
    import dataclasses

    from gaedu.data import ring_of_gaussians
    from gaedu.score import RING_SCORE, train_score

    points, centres = ring_of_gaussians(2000, seed=0)
    result = train_score(points, dataclasses.replace(RING_SCORE, num_steps=300, width=32), progress=False)
    near = centres.float() * 1.1  # just outside each mode: the score points back inward at a small level
    with torch.no_grad():
        score = result.sampler.score(near, 0.05)
    assert score.shape == near.shape and torch.isfinite(score).all()
    assert ((score * centres.float()).sum(1) < 0).all()
