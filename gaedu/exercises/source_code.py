"""Exercises of the chapter "The source's code examples, corrected": a stable value V and the autoencoder's loss."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from gaedu.autoencoder import Autoencoder, reconstruction_error
from gaedu.exercises._feedback import _call, _fail, _ok, _scalar_output
from gaedu.gan import value_from_logits
from gaedu.nets import seeded

#: Logits of the stable-value exercise: moderate and extreme, with real and fake batches of different sizes.
STABLE_LOGITS_REAL = (-200.0, -40.0, -3.0, 0.0, 0.5, 4.0, 60.0)
STABLE_LOGITS_FAKE = (-90.0, -1.0, 0.0, 2.0, 150.0)


def _one_value(out: Any) -> float:
    """Read the value V that ``d_objective`` returned (a number, or any one-number array or tensor), or fail."""
    if out is None:
        _fail("the answer is None; one number, the value V, was expected (did you forget to return it?)")
    values = None
    if isinstance(out, torch.Tensor):
        values = out.detach().double().reshape(-1).numpy()
    else:
        try:
            values = np.asarray(out, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            pass
    if values is None:  # failing outside the handler keeps the hint free of a chained traceback
        _fail(f"could not read a {type(out).__name__} as a number; one number, the value V, was expected")
    if values.size != 1:
        _fail(f"one number, the value V, was expected, got {values.size} values: average over each batch")
    if not np.isfinite(values[0]):
        _fail("your value is NaN or infinite for some logits: a probability that rounds to 0 or 1 has no finite log; "
              "compute log σ straight from the logit")
    return float(values[0])


def check_d_objective(d_objective: Callable[[torch.Tensor, torch.Tensor], Any]) -> None:
    """Check ``d_objective(logits_real, logits_fake)``: the value V from logits, finite even for extreme logits."""
    cases = [
        (torch.tensor(STABLE_LOGITS_REAL, dtype=torch.float64), torch.tensor(STABLE_LOGITS_FAKE, dtype=torch.float64)),
        (torch.linspace(-3, 3, 8, dtype=torch.float64), torch.linspace(-2, 5, 6, dtype=torch.float64)),
    ]
    got = np.array([_one_value(_call(d_objective, r.float(), f.float())) for r, f in cases])
    want = np.array([value_from_logits(r, f).item() for r, f in cases])  # in float64, the package as the oracle

    def matches(values: list[float]) -> bool:
        return np.allclose(got, values, rtol=1e-5, atol=1e-4)

    if matches(want):
        _ok("your value is finite and equals V = mean log σ(a_real) + mean log σ(−a_fake), even at extreme logits")
        return
    if matches(-want):
        _fail("that is minus V, a loss: the discriminator's objective is V itself, the number it ascends")
    if matches([value_from_logits(-r, -f).item() for r, f in cases]):
        _fail("real and fake are swapped: D should say 'real' (a large logit) to real samples")
    if matches([(F.logsigmoid(r).sum() + F.logsigmoid(-f).sum()).item() for r, f in cases]):
        _fail("your value grows with the batch size: average each term over its batch instead of summing")
    if matches([torch.cat([F.logsigmoid(r), F.logsigmoid(-f)]).mean().item() for r, f in cases]):
        _fail("average the real term over the real batch and the fake term over the fake batch, then add the two")
    if np.allclose(got[1], want[1], rtol=1e-4, atol=1e-4):
        _fail("right for moderate logits, wrong for extreme ones: clamping a probability changes the value; "
              "compute log σ straight from the logit")
    _fail("not V = mean log D(x_real) + mean log(1 − D(x_fake)) with D = σ(logit): check each term on one logit by hand")


def _ae_loss_setup() -> tuple[torch.nn.Module, torch.Tensor]:
    """A small seeded autoencoder (code of 4 numbers) and 16 seeded random images in ``[0, 1]``."""
    model = seeded(lambda: Autoencoder(4, hidden=16, depth=1), 0)
    images = torch.rand(16, 1, 8, 8, generator=torch.Generator().manual_seed(3))
    return model, images


def check_ae_loss(ae_loss: Callable[[torch.nn.Module, torch.Tensor], Any]) -> None:
    """Check ``ae_loss(model, x)``: the mean squared error of ``model(x)`` against the image ``x``, differentiable."""
    model, x = _ae_loss_setup()
    got = _scalar_output(_call(ae_loss, model, x.clone()), "your loss", source="model(x)").item()
    with torch.no_grad():
        x_hat = model(x)
        want = reconstruction_error(x_hat, x, "l2").item()
        l1 = reconstruction_error(x_hat, x, "l1").item()
        summed = (x_hat - x).pow(2).sum().item()
        per_image = (x_hat - x).pow(2).flatten(1).sum(1).mean().item()
    if math.isclose(got, want, rel_tol=1e-5):
        _ok("the reconstruction is compared with the image itself: this is gaedu.autoencoder.training_step's loss")
        return
    if got == 0:
        _fail("your loss is zero whatever the weights are: compare the output with a target that the model cannot move")
    if math.isclose(got, l1, rel_tol=1e-5):
        _fail("that is the mean absolute error (L1); this exercise asks for the mean squared error (L2)")
    if math.isclose(got, math.sqrt(want), rel_tol=1e-5):
        _fail("no square root: the mean squared error is the mean of the squared differences")
    if math.isclose(got, summed, rel_tol=1e-5) or math.isclose(got, per_image, rel_tol=1e-5):
        _fail("average the squared errors over every pixel of every image, do not sum them")
    _fail("not the mean squared error of the reconstruction: what should the output be compared with?")
