"""Exercises of the chapter "Frequently asked questions": a loss for an optimizer that can only descend."""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch

from gaedu.exercises._feedback import _call, _fail, _ok, _scalar_output
from gaedu.nets import seeded
from gaedu.optim import GradientAscent


def faq_log_likelihood(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    r"""Return the FAQ's objective, the mean log-probability of the right labels.

    :math:`J(\theta) = \frac1N \sum_{j=1}^N \log p_\theta(y_j \mid x_j)`, where ``model(x)``
    gives logits ``(N, classes)`` and ``y`` holds the labels ``(N,)``; a scalar tensor.
    """
    log_p = torch.log_softmax(model(x), dim=1)  # (N, classes)
    return log_p[torch.arange(len(y)), y].mean()


#: The optimizer settings of the descent exercise: plain SGD with this momentum, no ``maximize``.
DESCENT_LR, DESCENT_MOMENTUM, DESCENT_STEPS = 0.5, 0.9, 5


def _descent_model() -> torch.nn.Module:
    """A classifier of 8×8 images, 64 → 16 → 10 with a tanh in between."""
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 16), torch.nn.Tanh(), torch.nn.Linear(16, 10))


def _descent_setup() -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor]:
    """A seeded classifier (:func:`_descent_model`), seeded images ``(32, 1, 8, 8)`` and labels ``(32,)``."""
    model = seeded(_descent_model, 0)
    rng = torch.Generator().manual_seed(0)
    x = torch.rand(32, 1, 8, 8, generator=rng)
    return model, x, torch.randint(10, (32,), generator=rng)


def _flat_grad(value: torch.Tensor, model: torch.nn.Module) -> torch.Tensor:
    parameters = list(model.parameters())
    grads = torch.autograd.grad(value, parameters, allow_unused=True)
    return torch.cat([(torch.zeros_like(p) if g is None else g).flatten() for p, g in zip(parameters, grads, strict=True)])


def check_descent_loss(loss: Callable[[torch.nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
    """Check ``loss(model, x, y)``: plain SGD with momentum on it retraces ``GradientAscent`` on ``faq_log_likelihood``."""
    start, x, y = _descent_setup()
    probe = copy.deepcopy(start)
    out = _scalar_output(_call(loss, probe, x.clone(), y.clone()), "your loss", source="model(x)")
    got = _flat_grad(out, probe)
    want = -_flat_grad(faq_log_likelihood(start, x, y), start)  # the gradient that descent must be given
    scale = float(got @ want / (want @ want))  # got = scale * want when the directions agree
    if not torch.allclose(got, scale * want, rtol=1e-4, atol=1e-7):
        _fail("your loss's gradient is not parallel to J's, so descending it takes steps that ascent on J never takes")
    if scale < 0:
        _fail("descending this walks downhill on J, away from its maximum: SGD subtracts the gradient it is given")
    if abs(scale - len(y)) < 1e-3 * len(y):
        _fail(f"every step is {len(y)} times too long, one factor per image: average over the batch, do not sum")
    if abs(scale - 1) > 1e-3:
        _fail(f"right direction, but every step is {scale:.3g} times as long as ascent's: check the loss's scale")
    ascending, descending = copy.deepcopy(start), copy.deepcopy(start)
    ascent = GradientAscent(ascending.parameters(), lr=DESCENT_LR, momentum=DESCENT_MOMENTUM)
    descent = torch.optim.SGD(descending.parameters(), lr=DESCENT_LR, momentum=DESCENT_MOMENTUM)
    for _ in range(DESCENT_STEPS):
        ascent.zero_grad()
        faq_log_likelihood(ascending, x, y).backward()
        ascent.step()
        descent.zero_grad()
        _call(loss, descending, x.clone(), y.clone()).reshape(()).backward()
        descent.step()
    pairs = zip(ascending.parameters(), descending.parameters(), strict=True)
    if not all(torch.allclose(a, d, atol=1e-6) for a, d in pairs):
        _fail("the first step agrees but later ones drift: the loss may only depend on model, x and y")
    _ok(f"{DESCENT_STEPS} steps of SGD with momentum on your loss are the steps of GradientAscent on J")
