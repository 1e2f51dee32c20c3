"""Exercises of the GAN chapters ("The GAN game" and "A GAN for digits"): the spiral, D's step, dropped modes."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from gaedu.exercises._feedback import _call, _fail, _ok, _to_number
from gaedu.games import bilinear, play
from gaedu.gan import Discriminator, GANConfig, value
from gaedu.nets import seeded
from gaedu.optim import GradientAscent

RADIUS_START, RADIUS_LR, RADIUS_STEPS = (1.0, 0.0), 0.1, 50


def check_simultaneous_radius(answer: Any) -> None:
    """Check the distance from (0, 0) after ``RADIUS_STEPS`` simultaneous steps on ``x·y`` from ``RADIUS_START``."""
    radius = _to_number(answer, "one distance")
    points = play(bilinear, *RADIUS_START, RADIUS_LR, RADIUS_STEPS, "simultaneous")
    want = float(np.hypot(*points[-1]))
    if math.isclose(radius, want, rel_tol=1e-6):
        _ok(f"the distance grows to {want:.6f}: simultaneous steps spiral outwards")
        return
    if math.isclose(radius, 1.0, rel_tol=1e-6):
        _fail("the distance does not stay the same: each simultaneous step moves along the tangent of the circle")
    if math.isclose(radius, (1 + RADIUS_LR**2) ** RADIUS_STEPS, rel_tol=1e-6):
        _fail(
            "close, but check which quantity your factor multiplies: compute the distance itself after one step "
            "from RADIUS_START, with Pythagoras, and compare it with the distance before"
        )
    _fail("not the distance after those steps: find the factor one step multiplies the distance by")


def check_discriminator_step(discriminator_step: Callable[..., Any]) -> None:
    """Check ``discriminator_step(discriminator, x_real, x_fake, lr)``: one gradient-ascent step of D on V."""
    gen = torch.Generator().manual_seed(0)
    start = seeded(lambda: Discriminator(GANConfig(hidden=16)), 0)
    x_real, x_fake = torch.rand(32, 1, 8, 8, generator=gen), torch.rand(32, 1, 8, 8, generator=gen) * 0.5
    theirs, ours = copy.deepcopy(start), copy.deepcopy(start)
    _call(discriminator_step, theirs, x_real, x_fake, 0.1)
    optimizer = GradientAscent(ours.parameters(), lr=0.1)
    value(ours, x_real, x_fake).backward()
    optimizer.step()
    moved = [(p - s).detach() for p, s in zip(theirs.parameters(), start.parameters(), strict=True)]
    wanted = [(p - s).detach() for p, s in zip(ours.parameters(), start.parameters(), strict=True)]
    if all(m.abs().max() == 0 for m in moved):
        _fail("the discriminator's weights did not change: the step must update the discriminator it is given")
    if all(torch.allclose(m, w, atol=1e-6) for m, w in zip(moved, wanted, strict=True)):
        _ok("one ascent step on V: the discriminator got better at telling real from fake")
        return
    if all(torch.allclose(m, -w, atol=1e-6) for m, w in zip(moved, wanted, strict=True)):
        _fail("your step descends V: the discriminator must climb V, not lower it")
    _fail("the step is not one plain ascent step with lr on V = mean log D(x_real) + mean log(1 − D(x_fake))")


#: Class shares of 1000 samples from a generator that dropped some digits.
COLLAPSED_HISTOGRAM = (0.162, 0.004, 0.131, 0.176, 0.0, 0.118, 0.151, 0.007, 0.139, 0.112)


def check_missing_classes(answer: Any) -> None:
    """Check the digits that the generator of ``COLLAPSED_HISTOGRAM`` has dropped (under 1 % of its samples)."""
    if answer is None:
        _fail("the answer is None; a list of digits was expected")
    digits = None
    try:
        digits = sorted({int(d) for d in answer})
    except (TypeError, ValueError):
        pass
    if digits is None:  # failing outside the handler keeps the hint free of a chained traceback
        _fail(f"a list of digits 0 to 9 was expected, got {answer!r}")
    want = [k for k, share in enumerate(COLLAPSED_HISTOGRAM) if share < 0.01]
    if digits == want:
        _ok(f"digits {want} are (almost) never generated: the generator has dropped those modes")
        return
    if set(want) < set(digits):
        _fail("some of those digits are generated often enough: a mode counts as dropped below 1 % of the samples")
    _fail("not the right set: look for the classes with (almost) no samples, under 1 %")


#: The run of the optimism exercise: the unregularized Dirac-GAN from (1, 1), η = 0.1, 1000 steps.
DIRAC_START, DIRAC_LR, DIRAC_STEPS = (1.0, 1.0), 0.1, 1000


def check_extragradient_factor(answer: Any) -> None:
    """Check the factor by which extragradient shrinks the distance to the equilibrium per step on ``dirac_gan()``.

    The factor is predicted from the bilinear game (one number below 1) and compared with the
    run of :data:`DIRAC_START`, :data:`DIRAC_LR`, :data:`DIRAC_STEPS`.
    """
    from gaedu.games import dirac_gan

    factor = _to_number(answer, "one factor per step")
    points = play(dirac_gan(), *DIRAC_START, DIRAC_LR, DIRAC_STEPS, "extragradient")
    measured = (math.hypot(*points[-1]) / math.hypot(*points[0])) ** (1 / DIRAC_STEPS)
    if factor >= 1:
        _fail("extragradient does converge on this game: the distance shrinks, so the factor is below 1")
    if factor <= 0:
        _fail("a factor per step is a positive number below 1")
    ratio = (1 - factor) / (1 - measured)  # how much faster than measured the answer shrinks
    if abs(ratio - 1) < 0.1:
        _ok(f"your factor {factor:.6f} against {measured:.6f} measured over {DIRAC_STEPS} steps: a contraction "
            "of order η², where R1's friction contracts at order η")  # fmt: skip
        return
    if 3 < ratio < 5:
        _fail("your factor shrinks the distance about four times too fast: near the equilibrium the Dirac-GAN's "
              "gradients are smaller than those of the bilinear game")  # fmt: skip
    prediction = math.hypot(*DIRAC_START) * factor**DIRAC_STEPS
    _fail(f"your factor predicts a distance of {prediction:.3g} after {DIRAC_STEPS} steps, and the run ends "
          "elsewhere: take the bilinear game's extragradient factor at the effective learning rate")  # fmt: skip
