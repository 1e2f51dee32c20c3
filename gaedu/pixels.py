r"""Gradient ascent in image space: make a classifier see a class (activation maximization).

Fix a trained classifier with class scores (logits) :math:`S_c(x)` and ascend, over
the *pixels* :math:`x`, the regularized score of Simonyan et al. (2013)

.. math::

    J(x) = S_c(x) - \lambda \lVert x \rVert^2 ,

with the same update rule as :class:`gaedu.optim.GradientAscent`,
:math:`x \leftarrow x + \eta\, \nabla_x J(x)`. Two more regularizers act between
steps: a small Gaussian blur, and a random shift (jitter) of the image before
each gradient, so that no single pixel pattern can carry the score; after each
step the pixels are clamped to the valid range ``[0, 1]``. The shift is circular
(``torch.roll``): what leaves one edge comes back at the other. Ascent over the code
of a decoder instead of the pixels is :func:`gaedu.inversion.ascend_code`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from gaedu._validation import check_images, check_int, check_nonnegative, check_positive
from gaedu.nets import device_of, frozen
from gaedu.optim import GradientAscent


@dataclass
class PixelAscentResult:
    """What :func:`maximize_class` returns (``N`` images), on the CPU.

    Attributes:
        images: the final images, ``(N, 1, 8, 8)``.
        targets: the class each image ascends, ``(N,)``.
        values: the target's logit after each step, ``(num_steps, N)``.
        frames: ``(step, images)`` pairs every ``record_every`` steps, step 0 first.
    """

    images: torch.Tensor
    targets: torch.Tensor
    values: torch.Tensor
    frames: list[tuple[int, torch.Tensor]] = field(default_factory=list)


def gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """Blur ``images`` ``(N, 1, H, W)`` with a 3×3 Gaussian kernel of width ``sigma`` (edges replicated; 0: none)."""
    sigma = check_nonnegative("sigma", sigma)
    if sigma == 0:
        return images
    offsets = torch.tensor([-1.0, 0.0, 1.0], dtype=images.dtype, device=images.device)
    weights = torch.exp(-(offsets**2) / (2 * sigma**2))
    kernel = torch.outer(weights, weights)
    kernel = (kernel / kernel.sum()).reshape(1, 1, 3, 3)
    return F.conv2d(F.pad(images, (1, 1, 1, 1), mode="replicate"), kernel)


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
) -> PixelAscentResult:
    r"""Ascend each target class's score over the pixels of one image per target.

    Args:
        classifier: maps images ``(N, 1, 8, 8)`` to logits ``(N, 10)``; its weights stay
            fixed, and it runs in eval mode (dropout off, batch-norm statistics fixed).
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

    Returns:
        A :class:`PixelAscentResult`.

    Raises:
        ValueError: a bad target, setting or start, or a classifier whose output is not ``(N, 10)``.
    """
    targets = torch.as_tensor(targets).reshape(-1)
    if targets.dtype not in (torch.int32, torch.int64) or len(targets) == 0 or targets.min() < 0 or targets.max() > 9:
        raise ValueError(f"targets must be class numbers from 0 to 9, got {targets.tolist()}")
    num_steps, lr = check_int("num_steps", num_steps), check_positive("lr", lr)
    l2, blur = check_nonnegative("l2", l2), check_nonnegative("blur", blur)
    jitter = check_int("jitter", jitter, minimum=0, maximum=7)
    record_every = check_int("record_every", record_every, minimum=0)
    device = device_of(classifier)
    rng = torch.Generator().manual_seed(check_int("seed", seed, minimum=0))
    n = len(targets)
    if start is None:
        start = 0.1 * torch.rand(n, 1, 8, 8, generator=rng)
    start = check_images(start, "start", shape=(1, 8, 8), range01=False)
    if len(start) != n:
        raise ValueError(f"start must hold one image per target ({n}), got {len(start)}")
    targets = targets.to(device)
    x = start.detach().to(device, torch.float32).clone().requires_grad_(True)
    optimizer = GradientAscent([x], lr=lr)
    scores, frames = [], [(0, x.detach().cpu().clone())] if record_every else []
    rows = torch.arange(n, device=device)
    was_training = classifier.training
    classifier.eval()
    try:
        with frozen(classifier):
            for step in range(1, num_steps + 1):
                shifted = x
                if jitter:
                    dy, dx = (int(v) for v in torch.randint(-jitter, jitter + 1, (2,), generator=rng))
                    shifted = torch.roll(x, shifts=(dy, dx), dims=(2, 3))
                logits = classifier(shifted)
                if logits.shape != (n, 10):
                    raise ValueError(f"the classifier must return logits of shape ({n}, 10), got {tuple(logits.shape)}")
                score = logits[rows, targets]  # S_c(x), one per image
                objective = score - l2 * x.pow(2).flatten(1).sum(1)
                optimizer.zero_grad(set_to_none=True)
                objective.sum().backward()  # the images are independent: one sum, N ascents
                optimizer.step()  # x ← x + lr ∇J(x)
                with torch.no_grad():
                    if blur:
                        x.copy_(gaussian_blur(x, blur))
                    if clamp:
                        x.clamp_(0, 1)
                    scores.append(classifier(x)[rows, targets])
                if record_every and step % record_every == 0:
                    frames.append((step, x.detach().cpu().clone()))
    finally:
        classifier.train(was_training)
    return PixelAscentResult(x.detach().cpu(), targets.cpu(), torch.stack(scores).cpu(), frames)


@torch.no_grad()
def agreement(classifier: nn.Module, images: torch.Tensor, targets: torch.Tensor) -> float:
    """Return the share of ``images`` that ``classifier`` assigns to their ``targets``, a float in ``[0, 1]``.

    Raises:
        ValueError: ``images`` and ``targets`` differ in length, or ``images`` is not an image batch.
    """
    images = check_images(images, range01=False)
    targets = torch.as_tensor(targets).reshape(-1).cpu()
    if len(targets) != len(images):
        raise ValueError(f"images ({len(images)}) and targets ({len(targets)}) must have the same length")
    predicted = classifier(images.to(device_of(classifier), torch.float32)).argmax(1).cpu()
    return float((predicted == targets).float().mean())
