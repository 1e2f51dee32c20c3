"""gaedu.pixels: ascent on the pixels is GradientAscent on the class score, and the regularizers do what they say."""

import pytest
import torch

from gaedu.classifier import train_digit_classifier
from gaedu.data import load_digits
from gaedu.pixels import agreement, gaussian_blur, maximize_class


@pytest.fixture(scope="module")
def classifier():
    return train_digit_classifier(*load_digits("train"), seed=0, num_steps=300, device="cpu")


def test_one_step_is_a_gradient_ascent_step_on_the_score(classifier):
    start = torch.rand(3, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    targets = torch.tensor([0, 4, 9])
    x = start.clone().requires_grad_(True)
    score = classifier(x)[torch.arange(3), targets]
    (grad,) = torch.autograd.grad((score - 0.3 * x.pow(2).flatten(1).sum(1)).sum(), x)
    result = maximize_class(classifier, targets, num_steps=1, lr=0.2, l2=0.3, clamp=False, start=start)
    assert torch.allclose(result.images, start + 0.2 * grad, atol=1e-6)


def test_ascent_raises_the_score_and_clamps(classifier):
    result = maximize_class(classifier, [1, 7], num_steps=50, lr=0.1, record_every=10)
    assert result.values.shape == (50, 2)
    assert (result.values[-1] > result.values[0]).all()
    assert result.images.min() >= 0 and result.images.max() <= 1
    assert [step for step, _ in result.frames] == [0, 10, 20, 30, 40, 50]
    assert agreement(classifier, result.images, result.targets) == 1.0
    assert all(p.requires_grad for p in classifier.parameters())  # the classifier is left as it was


def test_without_clamping_pixels_leave_the_valid_range(classifier):
    result = maximize_class(classifier, [3], num_steps=100, lr=1.0, clamp=False)
    assert result.images.min() < 0 or result.images.max() > 1


def test_penalty_blur_and_jitter_are_seeded_and_shrink_the_image(classifier):
    plain = maximize_class(classifier, [5], num_steps=60, lr=0.1, clamp=False)
    damped = maximize_class(classifier, [5], num_steps=60, lr=0.1, clamp=False, l2=0.5, blur=0.8, jitter=1, seed=3)
    again = maximize_class(classifier, [5], num_steps=60, lr=0.1, clamp=False, l2=0.5, blur=0.8, jitter=1, seed=3)
    assert torch.equal(damped.images, again.images)
    assert damped.images.norm() < plain.images.norm()


@pytest.mark.parametrize("sigma", [0.5, 1.0, 2.0])
def test_blur_matches_scipy(sigma):
    """A 3×3 Gaussian with replicated edges is scipy's gaussian_filter truncated at one pixel, mode 'nearest'."""
    import numpy as np
    from scipy.ndimage import gaussian_filter

    images = torch.rand(2, 1, 8, 8, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    expected = np.stack([gaussian_filter(image[0].numpy(), sigma, mode="nearest", truncate=1 / sigma) for image in images])
    np.testing.assert_allclose(gaussian_blur(images, sigma)[:, 0].numpy(), expected, atol=1e-12)


def test_ascent_runs_the_classifier_in_eval_mode_and_restores_its_mode(classifier):
    class Dropout(torch.nn.Module):  # a classifier whose output is random in training mode
        def __init__(self):
            super().__init__()
            self.inner, self.drop = classifier, torch.nn.Dropout(0.5)

        def forward(self, x):
            return self.drop(self.inner(x))

    model = Dropout().train()
    first = maximize_class(model, [4], num_steps=5)
    assert torch.equal(first.images, maximize_class(model, [4], num_steps=5).images)  # no dropout noise
    assert model.training


def test_a_classifier_with_the_wrong_output_is_refused():
    wrong = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 3))
    with pytest.raises(ValueError, match=r"logits of shape \(1, 10\)"):
        maximize_class(wrong, [2], num_steps=1)


def test_agreement_refuses_mismatched_lengths(classifier):
    with pytest.raises(ValueError, match="same length"):
        agreement(classifier, torch.rand(3, 1, 8, 8), torch.tensor([1, 2]))


def test_blur_keeps_a_constant_image_and_smooths_a_spike():
    flat = torch.full((1, 1, 8, 8), 0.4)
    assert torch.allclose(gaussian_blur(flat, 1.0), flat)
    spike = torch.zeros(1, 1, 8, 8)
    spike[0, 0, 4, 4] = 1.0
    blurred = gaussian_blur(spike, 1.0)
    assert blurred.sum().item() == pytest.approx(1.0) and blurred.max() < 1.0
    assert torch.equal(gaussian_blur(spike, 0.0), spike)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"targets": 10}, "class numbers from 0 to 9"),
        ({"targets": [0.5]}, "class numbers"),
        ({"num_steps": 0}, "num_steps"),
        ({"lr": 0.0}, "lr must be"),
        ({"l2": -1.0}, "l2 must be"),
        ({"blur": float("nan")}, "blur must be"),
        ({"jitter": 8}, "jitter must be"),
        ({"start": torch.rand(2, 1, 8, 8)}, "start must hold one image per target"),
        ({"start": torch.rand(1, 8, 8)}, "start must have shape"),
        ({"record_every": -1}, "record_every"),
        ({"jitter": True}, "jitter must be"),
        ({"seed": -2}, "seed"),
    ],
)
def test_bad_settings_are_refused(classifier, kwargs, message):
    arguments = {"targets": [2], **kwargs}
    with pytest.raises(ValueError, match=message):
        maximize_class(classifier, **arguments)
