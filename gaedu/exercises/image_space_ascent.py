"""Exercises of the chapter "Gradient ascent in image space": one step on the pixels and a penalty weight."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from gaedu.classifier import DigitClassifier, train_digit_classifier
from gaedu.data import load_digits
from gaedu.exercises._feedback import _call, _fail, _ok, _to_array, _to_number
from gaedu.nets import seeded
from gaedu.pixels import agreement, maximize_class

#: The classes of the five images of the pixel-step exercise.
PIXEL_TARGETS = (3, 1, 4, 1, 5)


def _pixel_step_setup() -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor]:
    """A small seeded (untrained) digit classifier, five seeded images ``(5, 1, 8, 8)`` and their targets."""
    classifier = seeded(DigitClassifier, 0).eval()
    images = torch.rand(len(PIXEL_TARGETS), 1, 8, 8, generator=torch.Generator().manual_seed(0))
    return classifier, images, torch.tensor(PIXEL_TARGETS)


def _log_probability_step(classifier: torch.nn.Module, images: torch.Tensor, targets: torch.Tensor, lr: float):
    """One ascent step on each image's log-probability of its target (a plausible mix-up with the logit)."""
    x = images.clone().requires_grad_(True)
    log_p = torch.log_softmax(classifier(x), dim=1)[torch.arange(len(targets)), targets]
    (grad,) = torch.autograd.grad(log_p.sum(), x)
    return (images + lr * grad).double().numpy()


def check_pixel_ascent_step(pixel_step: Callable[..., Any]) -> None:
    """Check ``pixel_step(classifier, images, targets, lr)``: one unclamped ascent step on each image's target logit."""
    classifier, images, targets = _pixel_step_setup()
    for lr in (0.5, 3.0):
        out = _call(pixel_step, copy.deepcopy(classifier), images.clone(), targets.clone(), lr)
        new = _to_array(out, "the new images, a tensor of shape (N, 1, 8, 8)")
        if new.shape != tuple(images.shape):
            _fail(f"the new images should have the shape of the images, {tuple(images.shape)}; got {new.shape}")
        want = maximize_class(classifier, targets, num_steps=1, lr=lr, clamp=False, start=images).images
        want, x = want.double().numpy(), images.double().numpy()
        if np.allclose(new, want, atol=1e-5):
            continue
        if np.allclose(new, x, atol=1e-9):
            _fail("the images did not move: return the images after the step, not the ones it starts from")
        if np.allclose(new, 2 * x - want, atol=1e-5):
            _fail("your step goes downhill: it lowers each image's target score, and an ascent step must raise it")
        if np.allclose(new, np.clip(want, 0, 1), atol=1e-5):
            _fail("do not clamp in this step: it is the plain update, and maximize_class clamps only afterwards")
        if np.allclose(new, x + (want - x) / len(targets), atol=1e-5):
            _fail("your steps are N times too short: each image takes its own full step, however many images there are")
        if np.allclose(new, _log_probability_step(classifier, images, targets, lr), atol=1e-5):
            _fail("that ascends the log-probability of the class; this step ascends its raw score, the logit")
        _fail(f"with lr = {lr} your images land elsewhere than one ascent step on each image's own target logit")
    _ok("your step is maximize_class's step before the clamp: x + lr ∇ₓ S_c(x)")


#: The fixed settings of the regularization-weight exercise: only ``l2`` varies.
REGULARIZATION_SETTINGS = {"num_steps": 200, "lr": 0.1, "blur": 0.5, "clamp": True, "seed": 0}
REGULARIZATION_TARGETS = tuple(range(10)) * 3
REGULARIZATION_AGREEMENT = 0.9


@functools.lru_cache(maxsize=1)
def regularization_judges() -> tuple[torch.nn.Module, Any, float]:
    """Return the ascended classifier (``train_digit_classifier`` with seed 0), a logistic regression, and the mean ink.

    The classifier is trained on the ``'train'`` split on the CPU; the logistic regression is
    ``LogisticRegression(max_iter=1000)`` fitted on the flattened ``'train'`` pixels; the mean
    ink is the mean pixel value of the ``'train'`` digits. Trained once (a few seconds), then cached.
    """
    from sklearn.linear_model import LogisticRegression  # heavy: imported only when a check needs it

    x_train, y_train = load_digits("train")
    classifier = train_digit_classifier(x_train, y_train, seed=0, device="cpu")
    logistic = LogisticRegression(max_iter=1000).fit(x_train.flatten(1).numpy(), y_train.numpy())
    return classifier, logistic, float(x_train.mean())


def check_regularization_weight(answer: Any) -> None:
    """Check a weight ``l2`` whose images carry no more ink than real digits yet still read as their class."""
    l2 = _to_number(answer, "one penalty weight l2")
    if l2 < 0:
        _fail("a penalty weight is a number >= 0: a negative weight would reward ink instead of charging for it")
    classifier, logistic, real_ink = regularization_judges()
    targets = torch.tensor(REGULARIZATION_TARGETS)
    images = maximize_class(classifier, targets, l2=l2, **REGULARIZATION_SETTINGS).images
    own = agreement(classifier, images, targets)
    other = float((logistic.predict(images.flatten(1).numpy()) == targets.numpy()).mean())
    ink = float(images.mean())
    if own < REGULARIZATION_AGREEMENT:
        _fail(f"with l2 = {l2:g} even the ascended classifier reads only {own:.0%} of the images as their class")
    if other < REGULARIZATION_AGREEMENT:
        _fail(f"with l2 = {l2:g} logistic regression reads only {other:.0%} of the images as their class (90 % needed)")
    if ink > real_ink:
        _fail(f"with l2 = {l2:g} the images carry {ink:.3f} ink per pixel, more than real digits ({real_ink:.3f})")
    _ok(
        f"l2 = {l2:g}: {ink:.3f} ink per pixel (real digits: {real_ink:.3f}), and logistic regression "
        f"agrees on {other:.0%}"
    )
