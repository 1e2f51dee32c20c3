"""gaedu.classifier: the digit classifier's shapes, its accuracy, seeded training and its refusals."""

import pytest
import torch

from gaedu.classifier import DigitClassifier, train_digit_classifier
from gaedu.data import load_digits


@pytest.fixture(scope="module")
def train():
    return load_digits("train")


@pytest.fixture(scope="module")
def classifier(train):
    return train_digit_classifier(*train, seed=0, device="cpu")  # the default 1500 steps


def _weights(model):
    return [p.detach().clone() for p in model.parameters()]


def test_the_default_training_is_accurate_on_the_test_split(classifier):
    images, labels = load_digits("test")
    with torch.no_grad():
        accuracy = (classifier(images).argmax(1) == labels).double().mean().item()
    assert accuracy > 0.9


def test_the_model_is_returned_in_eval_mode_on_the_device(classifier, train):
    assert isinstance(classifier, DigitClassifier) and not classifier.training
    assert all(not module.training for module in classifier.modules())
    assert all(p.device == torch.device("cpu") for p in classifier.parameters())
    untrained = train_digit_classifier(*train, num_steps=0, device="cpu")  # zero steps: the seeded initial weights
    assert not untrained.training


def test_features_and_logits_have_the_documented_shapes():
    model = DigitClassifier()
    images = torch.rand(5, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    features = model.features(images)
    assert features.shape == (5, DigitClassifier.feature_dim) == (5, 64)
    assert (features >= 0).all()  # the features come out of a ReLU
    logits = model(images)
    assert logits.shape == (5, 10)
    assert torch.allclose(logits, model.head(features))  # the logits are a linear map of the features


def test_the_seed_alone_decides_the_weights(train):
    torch.manual_seed(1)
    a = train_digit_classifier(*train, seed=3, num_steps=20, device="cpu")
    torch.manual_seed(2)
    torch.rand(100)  # another global random state
    before = torch.get_rng_state()
    b = train_digit_classifier(*train, seed=3, num_steps=20, device="cpu")
    assert torch.equal(torch.get_rng_state(), before)  # training draws nothing from the global state
    c = train_digit_classifier(*train, seed=4, num_steps=20, device="cpu")
    assert all(torch.equal(p, q) for p, q in zip(_weights(a), _weights(b), strict=True))
    assert not any(torch.equal(p, q) for p, q in zip(_weights(a), _weights(c), strict=True))


def test_training_changes_the_weights_and_lowers_the_loss(train):
    images, labels = train
    before = train_digit_classifier(images, labels, seed=5, num_steps=0, device="cpu")
    after = train_digit_classifier(images, labels, seed=5, num_steps=50, device="cpu")
    with torch.no_grad():
        loss_before = torch.nn.functional.cross_entropy(before(images), labels)
        loss_after = torch.nn.functional.cross_entropy(after(images), labels)
    assert loss_before > 2.0  # about log(10) for random weights
    assert loss_after < 0.8 * loss_before


@pytest.mark.parametrize("dtype", [torch.int32, torch.int16])
def test_integer_labels_of_any_integer_dtype_are_accepted(train, dtype):
    images, labels = train
    model = train_digit_classifier(images[:20], labels[:20].to(dtype), num_steps=1, batch_size=4, device="cpu")
    assert isinstance(model, DigitClassifier)


@pytest.mark.parametrize(
    "labels, message",
    [
        (lambda y: y[:-1], r"^labels must be a tensor of shape \(40,\), one per image, got \(39,\)$"),
        (lambda y: y.reshape(40, 1), r"^labels must be a tensor of shape \(40,\), one per image, got \(40, 1\)$"),
        (lambda y: y.float(), r"^labels must be integer classes, got dtype torch.float32$"),
        (lambda y: y == 1, r"^labels must be integer classes, got dtype torch.bool$"),
        (lambda y: y.tolist(), r"^labels must be a tensor of shape \(40,\), one per image, got list$"),
        (lambda y: torch.where(torch.arange(40) == 7, -1, y), r"^labels must be classes 0 to 9"),
        (lambda y: torch.where(torch.arange(40) == 7, 10, y), r"^labels must be classes 0 to 9"),
    ],
)
def test_bad_labels_are_refused(train, labels, message):
    images, y = train
    with pytest.raises(ValueError, match=message):
        train_digit_classifier(images[:40], labels(y[:40]), num_steps=1, device="cpu")


@pytest.mark.parametrize(
    "images, message",
    [
        (torch.zeros(40, 64), r"^images must have shape \(N, C, H, W\) with N >= 1, got \(40, 64\)$"),
        (torch.zeros(40, 1, 16, 16), r"^images must have shape \(N, 1, 8, 8\) or \(N, 1, 28, 28\), got \(40, 1, 16, 16\)$"),
        (torch.zeros(40, 1, 8, 8, dtype=torch.uint8), r"^images must be floating point"),
        (torch.full((40, 1, 8, 8), 16.0), r"^images must lie in \[0, 1\]"),
        ("digits", r"^images must be a torch.Tensor, got str$"),
    ],
)
def test_bad_images_are_refused(train, images, message):
    with pytest.raises(ValueError, match=message):
        train_digit_classifier(images, train[1][:40], num_steps=1, device="cpu")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_steps": -1}, r"^num_steps must be an integer >= 0, got -1$"),
        ({"num_steps": 1.5}, r"^num_steps must be an integer, got float 1.5$"),
        ({"batch_size": 0}, r"^batch_size must be an integer >= 1, got 0$"),
        ({"seed": -1}, r"^seed must be an integer >= 0, got -1$"),
    ],
)
def test_bad_settings_are_refused(train, kwargs, message):
    images, labels = train
    with pytest.raises(ValueError, match=message):
        train_digit_classifier(images[:40], labels[:40], device="cpu", **{"num_steps": 1, **kwargs})
