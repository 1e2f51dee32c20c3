"""Exercises of the GAN chapters ("The GAN game" and "A GAN for digits"): the spiral, D's step, dropped modes."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from gaedu.exercises._feedback import _call, _fail, _ok, _per_image, _to_number
from gaedu.games import bilinear, dirac_gan, play
from gaedu.gan import Discriminator, GANConfig, Generator, value
from gaedu.metrics import frechet_distance
from gaedu.nets import seeded
from gaedu.optim import GradientAscent
from gaedu.truncation import jacobian_norms

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
    rng = torch.Generator().manual_seed(0)
    start = seeded(lambda: Discriminator(GANConfig(hidden=16)), 0)
    x_real, x_fake = torch.rand(32, 1, 8, 8, generator=rng), torch.rand(32, 1, 8, 8, generator=rng) * 0.5
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


# --- R1 by hand ---------------------------------------------------------------------------


def _r1_case() -> tuple[Discriminator, torch.Tensor]:
    rng = torch.Generator().manual_seed(3)
    discriminator = seeded(lambda: Discriminator(GANConfig(hidden=16)), 1)
    return discriminator, torch.rand(24, 1, 8, 8, generator=rng)


def _r1_reference(discriminator: torch.nn.Module, x_real: torch.Tensor, squash: bool = False) -> torch.Tensor:
    x = x_real.detach().clone().requires_grad_(True)
    out = discriminator(x)
    out = torch.sigmoid(out) if squash else out
    (grad,) = torch.autograd.grad(out.sum(), x, create_graph=True)
    return grad.pow(2).flatten(1).sum(1).mean()


def check_r1_penalty(r1_penalty: Callable[..., Any]) -> None:
    """Check ``r1_penalty(discriminator, x_real)``: the mean over real samples of ‖∇ₓ f(x)‖², f the logit.

    The penalty must also be differentiable with respect to the discriminator's weights, with
    the same weight gradient as :func:`gaedu.gan.discriminator_objective` uses.
    """
    discriminator, x_real = _r1_case()
    out = _call(r1_penalty, discriminator, x_real.clone())
    if not isinstance(out, torch.Tensor) or out.numel() != 1:
        _fail("the penalty is one number, a scalar tensor, computed with torch from the discriminator's logits")
    if not out.requires_grad:
        _fail("your penalty carries no gradient for the discriminator's weights: the input gradient must itself "
              "be differentiable, so look at the options of torch.autograd.grad")  # fmt: skip
    got, want = out.item(), _r1_reference(discriminator, x_real).item()
    if not math.isclose(got, want, rel_tol=1e-5):
        if math.isclose(got, _r1_reference(discriminator, x_real, squash=True).item(), rel_tol=1e-5):
            _fail("that is the gradient of D = σ(f); R1 penalizes the gradient of the logit f itself")
        if math.isclose(got, 0.5 * want, rel_tol=1e-5):
            _fail("leave out the factor γ/2: the penalty asked for is the mean of ‖∇ₓ f‖² alone")
        if math.isclose(got, len(x_real) * want, rel_tol=1e-5):
            _fail("average the squared norms over the real samples instead of adding them up")
        x = x_real.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(discriminator(x).sum(), x)
        if math.isclose(got, float(g.flatten(1).norm(dim=1).mean()), rel_tol=1e-5):
            _fail("square the norm of each sample's gradient before averaging")
        _fail("not the mean over the real samples of the squared norm of ∇ₓ f(x): check which tensor you "
              "differentiate with respect to")  # fmt: skip
    params = list(discriminator.parameters())  # the last bias does not move ∇ₓ f: its gradient is None, read as 0
    theirs = torch.autograd.grad(out, params, allow_unused=True, materialize_grads=True)
    ours = torch.autograd.grad(_r1_reference(discriminator, x_real), params, allow_unused=True, materialize_grads=True)
    if any(not torch.allclose(t, o, rtol=1e-4, atol=1e-7) for t, o in zip(theirs, ours, strict=True)):
        _fail("the value is right, but its gradient for the weights is not: compute the penalty from a fresh "
              "copy of x_real that requires grad, without detaching anything on the way")  # fmt: skip
    _ok(f"your penalty is {got:.4f}, and it pulls the weights the way gaedu's R1 does")


# --- Jacobian truncation by hand ----------------------------------------------------------


def _jacobian_cases() -> list[tuple[torch.nn.Module, torch.Tensor]]:
    rng = torch.Generator().manual_seed(5)
    ring = seeded(lambda: Generator(GANConfig(latent_dim=2, hidden=16, out_shape=(2,))), 2)
    digits = seeded(lambda: Generator(GANConfig(latent_dim=6, hidden=16)), 3)
    return [(ring, torch.randn(7, 2, generator=rng)), (digits, torch.randn(4, 6, generator=rng))]


def check_jacobian_norms(my_norms: Callable[..., Any]) -> None:
    """Check ``my_norms(generator, z)``: the Frobenius norm of ∂G(z)/∂z for each row of ``z``, shape ``(n,)``."""
    for generator, z in _jacobian_cases():
        got = _per_image(_call(my_norms, generator, z.clone()), len(z), "one norm per noise vector")
        want = jacobian_norms(generator, z).double().numpy()
        if np.allclose(got, want, rtol=1e-4):
            continue
        if np.allclose(got, want**2, rtol=1e-4):
            _fail("those are the squared norms: take the square root of the sum of squares")
        def flat(v: torch.Tensor, g: torch.nn.Module = generator) -> torch.Tensor:
            return g(v[None]).reshape(-1)

        jac = torch.stack([torch.autograd.functional.jacobian(flat, row) for row in z])  # (n, outputs, latent)
        if np.allclose(got, torch.linalg.matrix_norm(jac, ord=2).detach().double().numpy(), rtol=1e-4):
            _fail("that is the largest singular value (the spectral norm); the truncation uses the Frobenius norm, "
                  "the root of the sum of all squared entries")  # fmt: skip
        if np.allclose(got, jac.sum(1).norm(dim=1).detach().double().numpy(), rtol=1e-4):
            _fail("that is the gradient of the sum of the outputs, one row of numbers; the Jacobian has one row per "
                  "output, and all of them count")  # fmt: skip
        _fail("not the Frobenius norm of each sample's Jacobian: differentiate every output of G(z) with respect "
              "to every entry of that z")  # fmt: skip
    _ok("your norms are gaedu.truncation.jacobian_norms: the largest mark the noise that G stretches most")


# --- The Fréchet distance by hand ---------------------------------------------------------


def _frechet_cases() -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(4)
    mix_a, mix_b = rng.normal(size=(5, 5)), rng.normal(size=(5, 5))
    a = rng.normal(size=(300, 5)) @ mix_a
    b = rng.normal(size=(200, 5)) @ mix_b + 0.5
    c = rng.normal(size=(250, 3))
    return [(a, b), (b, a), (c, 2 * c + 1), (a, a.copy())]


def _frechet_variant(a: np.ndarray, b: np.ndarray, *, ddof: int = 1, root: bool = True) -> float:
    cov_a, cov_b = np.cov(a, rowvar=False, ddof=ddof), np.cov(b, rowvar=False, ddof=ddof)
    if root:  # Tr (Σ_a Σ_b)^½ = Σ √λ over the eigenvalues λ of Σ_a^½ Σ_b Σ_a^½
        values, vectors = np.linalg.eigh(cov_a)
        half = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
        cross = np.sqrt(np.clip(np.linalg.eigvalsh(half @ cov_b @ half), 0, None)).sum()
    else:
        cross = np.trace(cov_a @ cov_b)
    return float(((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(cov_a + cov_b) - 2 * cross)


def check_frechet_distance(my_fd: Callable[..., Any]) -> None:
    """Check ``my_fd(features_a, features_b)``: the Fréchet distance of Gaussians fitted to two ``(n, d)`` arrays."""
    for a, b in _frechet_cases():
        got = _to_number(_call(my_fd, a.copy(), b.copy()), "one distance")
        want = frechet_distance(a, b)
        if math.isclose(got, want, rel_tol=1e-4, abs_tol=1e-6):
            continue
        if a.shape == b.shape and np.allclose(a, b):
            _fail("two identical sets must be at distance 0: check the cross term, −2 Tr (Σ_a Σ_b)^½")
        if math.isclose(got, ((a.mean(0) - b.mean(0)) ** 2).sum(), rel_tol=1e-4):
            _fail("that is the mean term only: the covariances count too")
        if math.isclose(got, _frechet_variant(a, b, ddof=0), rel_tol=1e-4):
            _fail("close: use the sample covariance, divided by n − 1 (np.cov's default), as gaedu does")
        if math.isclose(got, _frechet_variant(a, b, root=False), rel_tol=1e-4):
            _fail("the cross term needs the matrix square root of Σ_a Σ_b before its trace")
        _fail("not the Fréchet distance ‖μ_a − μ_b‖² + Tr(Σ_a + Σ_b − 2 (Σ_a Σ_b)^½): check each term on a small case")
    _ok("your distance is gaedu.metrics.frechet_distance: 0 for identical sets, and symmetric")
