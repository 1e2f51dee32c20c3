"""Exercises of the chapter "Core concepts": descent on a negated objective and a supergradient at a kink."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from gaedu.data import load_digits
from gaedu.exercises._feedback import _call, _fail, _ok, _scalar_output, _to_array, _to_number


def bowl_objective(theta: torch.Tensor) -> torch.Tensor:
    r"""The core-concepts chapter's objective :math:`J(\theta) = 1 - (\theta - 2)^2`."""
    return 1 - (theta - 2) ** 2


def check_negated_objective(loss: Callable[[torch.Tensor], Any]) -> None:
    """Check a ``loss(theta)`` whose gradient descent retraces gradient ascent on ``bowl_objective``."""
    for value in (-3.0, -0.5, 0.0, 1.25, 2.0, 4.5):
        theta = torch.tensor(value, dtype=torch.float64, requires_grad=True)
        out = _scalar_output(_call(loss, theta), "your loss", source="theta")
        (grad,) = torch.autograd.grad(out, theta)
        want = 2 * (value - 2)  # the slope that descent needs: the slope of −J(θ) = (θ − 2)² − 1
        if not math.isfinite(float(grad)):
            _fail(f"the gradient at theta = {value} is not finite")
        if abs(float(grad) - want) > 1e-6:
            if abs(float(grad) + want) < 1e-6:
                _fail("this has the slope of J itself: descending on it walks downhill on J, away from its maximum")
            _fail(
                f"at theta = {value} your loss has slope {float(grad):.4g}; there a descent step on it "
                "must move theta exactly as an ascent step on J does"
            )
    _ok("descent on your loss takes exactly the steps of ascent on J")


def check_supergradient(answer: Any) -> None:
    r"""Check a supergradient of :math:`f(x) = -|x|` at the kink :math:`x = 0`."""
    g = _to_number(answer, "one number (a slope)")
    if abs(g) <= 1 + 1e-12:
        _ok(f"g = {g:g} works: the line y = g·x stays on or above −|x| everywhere")
        return
    side = "right" if g < 0 else "left"
    _fail(
        f"with slope {g:g} the line through the kink falls below the graph of −|x| on the {side}; "
        "a supergradient's line must stay on or above the graph on both sides"
    )


def check_psnr_mae_pair(answer: Any) -> None:
    """Check a pair ``(recon_a, recon_b)`` of reconstructions of the first test digit, ``load_digits("test")[0][0]``:
    A has the higher PSNR *and* the higher MAE. Each is an 8 × 8 image (any shape with 64 pixels) in [0, 1]."""
    if isinstance(answer, (str, bytes)) or not hasattr(answer, "__len__") or len(answer) != 2:
        _fail("a pair (recon_a, recon_b) of two images was expected")
    recon_a, recon_b = answer
    digit = load_digits("test")[0][0].double().numpy().reshape(-1)
    images = []
    for name, recon in (("A", recon_a), ("B", recon_b)):
        image = _to_array(recon, f"reconstruction {name}, an 8 × 8 image").reshape(-1)
        if image.size != digit.size:
            _fail(f"reconstruction {name} has {image.size} pixels; the digit has {digit.size}")
        if image.min() < 0 or image.max() > 1:
            _fail(f"reconstruction {name} has pixels outside [0, 1]; keep every pixel a valid intensity")
        images.append(image)
    (mse_a, mae_a), (mse_b, mae_b) = [(np.mean((x - digit) ** 2), np.mean(np.abs(x - digit))) for x in images]
    if mse_a == 0 or mse_b == 0:
        _fail("one reconstruction is the digit itself: its PSNR is infinite; damage both a little")
    psnr_a, psnr_b = 10 * np.log10(1 / mse_a), 10 * np.log10(1 / mse_b)
    if psnr_a <= psnr_b:
        _fail(f"A's PSNR ({psnr_a:.2f} dB) is not higher than B's ({psnr_b:.2f} dB)")
    if mae_a <= mae_b:
        _fail(f"A has the higher PSNR but not the higher MAE ({mae_a:.4f} against {mae_b:.4f}): "
              "think about how squaring weighs errors of different sizes")  # fmt: skip
    _ok(f"A: {psnr_a:.2f} dB and MAE {mae_a:.4f}; B: {psnr_b:.2f} dB and MAE {mae_b:.4f}: "
        "the two measures rank them in opposite orders")  # fmt: skip
