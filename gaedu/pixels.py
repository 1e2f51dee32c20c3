r"""Gradient ascent in image space: make a classifier see a class (activation maximization).

Fix a trained classifier with class scores (logits) :math:`S_c(x)` and ascend, over
the *pixels* :math:`x`, the regularized score of Simonyan et al. (2013)

.. math::

    J(x) = S_c(x) - \lambda \lVert x \rVert^2 ,

with the same update rule as :class:`gaedu.optim.GradientAscent`,
:math:`x \leftarrow x + \eta\, \nabla_x J(x)`. Two more regularizers act between
steps: a small Gaussian blur, and a random shift (jitter) of the image before
each gradient, so that no single pixel pattern can carry the score; after each
step the pixels are clamped to the valid range ``[0, 1]``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class PixelAscent:
    """What :func:`maximize_class` returns (``N`` images).

    Attributes:
        images: the final images, ``(N, 1, 8, 8)``.
        targets: the class each image ascends, ``(N,)``.
        scores: the target's logit after each step, ``(num_steps, N)``.
        frames: ``(step, images)`` pairs every ``record_every`` steps, step 0 first.
    """

    images: torch.Tensor
    targets: torch.Tensor
    scores: torch.Tensor
    frames: list[tuple[int, torch.Tensor]] = field(default_factory=list)


def gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """Blur ``images`` ``(N, 1, H, W)`` with a 3×3 Gaussian kernel of width ``sigma`` (edges replicated)."""
    if sigma <= 0:
        return images
    offsets = torch.tensor([-1.0, 0.0, 1.0], dtype=images.dtype, device=images.device)
    weights = torch.exp(-(offsets**2) / (2 * sigma**2))
    kernel = torch.outer(weights, weights)
    kernel = (kernel / kernel.sum()).reshape(1, 1, 3, 3)
    return F.conv2d(F.pad(images, (1, 1, 1, 1), mode="replicate"), kernel)


def _check_number(name: str, value, low: float = 0.0, positive: bool = False) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or (value <= low if positive else value < low):
        raise ValueError(f"{name} must be a finite number {'>' if positive else '>='} {low:g}, got {value!r}")


def maximize_class(
    classifier: nn.Module,
    targets: int | Sequence[int] | torch.Tensor,
    *,
    num_steps: int = 200,
    lr: float = 0.1,
    l2: float = 0.0,
    blur: float = 0.0,
    jitter: int = 0,
    clamp: bool = True,
    start: torch.Tensor | None = None,
    seed: int = 0,
    record_every: int = 0,
) -> PixelAscent:
    r"""Ascend each target class's score over the pixels of one image per target.

    Args:
        classifier: maps images ``(N, 1, 8, 8)`` to logits ``(N, 10)``; its weights stay fixed.
        targets: the class (or classes, one image each) to ascend.
        num_steps: ascent steps.
        lr: the step size :math:`\eta` of :class:`gaedu.optim.GradientAscent`.
        l2: :math:`\lambda`, the weight of the penalty :math:`\lambda\lVert x\rVert^2`.
        blur: width of a 3×3 Gaussian blur applied after each step (0: none).
        jitter: shift the image by up to this many pixels, at random, before each gradient (0: none).
        clamp: keep the pixels in ``[0, 1]`` after each step.
        start: the starting images ``(N, 1, 8, 8)`` (default: seeded uniform noise in ``[0, 0.1]``).
        seed: seed of the default start and of the jitter.
        record_every: keep the images every this many steps, for animations (0: never).

    Raises:
        ValueError: a bad target, setting or start.
    """
    from gaedu.optim import GradientAscent

    targets = torch.as_tensor(targets).reshape(-1)
    if targets.dtype not in (torch.int32, torch.int64) or len(targets) == 0 or targets.min() < 0 or targets.max() > 9:
        raise ValueError(f"targets must be class numbers from 0 to 9, got {targets.tolist()}")
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 1:
        raise ValueError(f"num_steps must be a positive integer, got {num_steps!r}")
    _check_number("lr", lr, positive=True)
    _check_number("l2", l2)
    _check_number("blur", blur)
    if isinstance(jitter, bool) or not isinstance(jitter, int) or not 0 <= jitter < 8:
        raise ValueError(f"jitter must be an integer from 0 to 7, got {jitter!r}")
    device = next(classifier.parameters()).device
    noise = torch.Generator().manual_seed(seed)
    n = len(targets)
    if start is None:
        start = 0.1 * torch.rand(n, 1, 8, 8, generator=noise)
    elif not isinstance(start, torch.Tensor) or tuple(start.shape) != (n, 1, 8, 8) or not torch.isfinite(start).all():
        shape = tuple(start.shape) if isinstance(start, torch.Tensor) else type(start).__name__
        raise ValueError(f"start must be {n} finite images of shape ({n}, 1, 8, 8), got {shape}")
    targets = targets.to(device)
    x = start.detach().to(device, torch.float32).clone().requires_grad_(True)
    optimizer = GradientAscent([x], lr=lr)
    frozen = [p.requires_grad for p in classifier.parameters()]
    classifier.requires_grad_(False)
    scores, frames = [], [(0, x.detach().cpu().clone())] if record_every else []
    rows = torch.arange(n, device=device)
    try:
        for step in range(1, num_steps + 1):
            shifted = x
            if jitter:
                dy, dx = (int(v) for v in torch.randint(-jitter, jitter + 1, (2,), generator=noise))
                shifted = torch.roll(x, shifts=(dy, dx), dims=(2, 3))
            score = classifier(shifted)[rows, targets]  # S_c(x), one per image
            objective = score - l2 * x.pow(2).flatten(1).sum(1)
            optimizer.zero_grad(set_to_none=True)
            objective.sum().backward()  # the images are independent: one sum, N ascents
            optimizer.step()  # x ← x + lr ∇J(x)
            with torch.no_grad():
                if blur:
                    x.copy_(gaussian_blur(x, blur))
                if clamp:
                    x.clamp_(0, 1)
                scores.append(classifier(x)[rows, targets].cpu())
            if record_every and step % record_every == 0:
                frames.append((step, x.detach().cpu().clone()))
    finally:
        for p, flag in zip(classifier.parameters(), frozen):
            p.requires_grad_(flag)
    return PixelAscent(x.detach().cpu(), targets.cpu(), torch.stack(scores), frames)


@torch.no_grad()
def agreement(classifier: nn.Module, images: torch.Tensor, targets: torch.Tensor) -> float:
    """Return the share of ``images`` that ``classifier`` assigns to their ``targets``."""
    device = next(classifier.parameters()).device
    predicted = classifier(images.to(device, torch.float32)).argmax(1).cpu()
    return float((predicted == torch.as_tensor(targets).cpu()).float().mean())
