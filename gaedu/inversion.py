r"""Reconstruction by ascent on a code: find the input of a fixed decoder whose output matches what was observed.

Given a trained decoder :math:`D` (an autoencoder's, or a GAN's generator) and a
damaged image :math:`y` whose pixels are known only where a mask :math:`m` is 1,
:func:`ascend_code` ascends the similarity of :math:`D(z)` to :math:`y` on the
known pixels over the *code* :math:`z`, from several starts, with the decoder's
weights fixed. It is the twin of :func:`gaedu.pixels.maximize_class`, which
ascends over the pixels of a classifier's input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from gaedu._validation import check_images, check_int, check_nonnegative, check_positive
from gaedu.nets import device_of, frozen


@dataclass
class InversionResult:
    """What :func:`ascend_code` returns (``S`` starts, ``N`` images, code length ``k``).

    Attributes:
        codes: the final code of every start, ``(S, N, k)``.
        scores: the final similarity of every start, ``(S, N)``.
        best: the index of the best start for each image, ``(N,)``.
        images: the decoding of each image's best code, ``(N, C, H, W)``.
        values: the mean over images of the best similarity reached so far, measured before
            each step, ``(num_steps,)`` (``scores`` holds the values after the last step).
    """

    codes: torch.Tensor
    scores: torch.Tensor
    best: torch.Tensor
    images: torch.Tensor
    values: torch.Tensor


def masked_similarity(x_hat: torch.Tensor, observed: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    r"""Return the negative mean squared error over the known pixels, one number per image.

    :math:`s(\hat x) = -\sum_i m_i (\hat x_i - y_i)^2 / \sum_i m_i`, where the mask
    :math:`m` is 1 on the known pixels and 0 on the missing ones; higher is better.
    Shapes: ``x_hat`` and ``observed`` ``(..., C, H, W)`` (broadcastable to each other),
    ``mask`` broadcastable to ``x_hat``; out ``(...)``.

    Raises:
        ValueError: the shapes do not broadcast, or the mask is not made of 0s and 1s.
    """
    try:
        weight = mask.expand_as(x_hat)
        torch.broadcast_shapes(x_hat.shape, observed.shape)
    except (RuntimeError, AttributeError):
        shapes = [tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__ for t in (x_hat, observed, mask)]
        raise ValueError(f"x_hat, observed and mask must broadcast to x_hat's shape, got {shapes}") from None
    _check_binary(weight)
    return _similarity(x_hat, observed, weight)


def _check_binary(mask: torch.Tensor) -> None:
    if not ((mask == 0) | (mask == 1)).all():
        raise ValueError("mask must hold only 0 (missing pixel) and 1 (known pixel)")


def _similarity(x_hat: torch.Tensor, observed: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """:func:`masked_similarity` without its checks, for a mask already checked once (the ascent's inner loop)."""
    weight = weight.expand_as(x_hat)
    return -((x_hat - observed).pow(2) * weight).flatten(-3).sum(-1) / weight.flatten(-3).sum(-1).clamp_min(1)


def ascend_code(
    decoder: nn.Module,
    observed: torch.Tensor,
    mask: torch.Tensor | None = None,
    *,
    starts: torch.Tensor | int = 8,
    num_steps: int = 300,
    lr: float = 0.05,
    prior: float = 0.0,
    seed: int = 0,
) -> InversionResult:
    r"""Find codes whose decodings match the known pixels, by gradient ascent from several starts.

    Each start ascends :math:`s(D(z)) - \text{prior}\,\lVert z\rVert^2 / k` with Adam
    (``maximize=True``); :func:`masked_similarity` is :math:`s`. The decoder's weights
    stay fixed: only the code moves.

    Args:
        decoder: a trained decoder (or generator) mapping ``(B, k)`` to ``(B, C, H, W)``
            (8×8 or 28×28 digits); its ``image_shape`` (or ``out_shape``) attribute, when it
            has one, is the shape ``observed`` must have.
        observed: damaged images ``(N, C, H, W)``; missing pixels may hold anything finite.
        mask: 1 where a pixel is known, 0 where it is missing, broadcastable to ``observed``
            (default: every pixel known).
        starts: the number of random starts ``S`` (codes drawn from a standard normal), or
            the starting codes themselves, ``(S, N, k)``.
        num_steps: ascent steps per start.
        lr: Adam's learning rate.
        prior: weight of a pull toward the origin of the code space (0: none). Its effect
            depends on the scale of the decoder's codes, as do standard-normal starts, which
            suit codes of order 1.
        seed: seed of the random starts.

    Returns:
        An :class:`InversionResult`, on the CPU.

    Raises:
        ValueError: bad shapes, values or settings.
    """
    shape = getattr(decoder, "image_shape", getattr(decoder, "out_shape", None))
    observed = check_images(observed, "observed", shape=shape, range01=False)
    shape = tuple(observed.shape[1:])
    num_steps, lr, prior = check_int("num_steps", num_steps), check_positive("lr", lr), check_nonnegative("prior", prior)
    device = device_of(decoder)
    observed = observed.to(device, torch.float32)
    mask = torch.ones_like(observed) if mask is None else mask.to(device, torch.float32)
    try:
        mask = mask.expand_as(observed)
    except RuntimeError:
        raise ValueError(f"mask of shape {tuple(mask.shape)} does not fit observed {tuple(observed.shape)}") from None
    _check_binary(mask)  # once, not at every step
    k, n = decoder.latent_dim, len(observed)
    if isinstance(starts, torch.Tensor):
        if starts.ndim != 3 or starts.shape[1:] != (n, k):
            raise ValueError(f"starts must have shape (S, {n}, {k}), got {tuple(starts.shape)}")
        z0 = starts.to(device, torch.float32)
    else:
        try:
            starts = check_int("starts", starts)
        except ValueError:
            raise ValueError(f"starts must be a positive integer or a (S, N, k) tensor, got {starts!r}") from None
        z0 = torch.randn(starts, n, k, generator=torch.Generator().manual_seed(seed)).to(device)
    z = z0.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([z], lr=lr, maximize=True)
    curves, best_scores = [], torch.full((n,), -math.inf, device=device)
    with frozen(decoder):
        for _ in range(num_steps):
            x_hat = decoder(z.reshape(-1, k)).reshape(len(z), n, *shape)
            scores = _similarity(x_hat, observed, mask)  # (S, N)
            objective = scores - prior * z.pow(2).mean(-1)
            optimizer.zero_grad(set_to_none=True)
            objective.sum().backward()  # the starts and images are independent: one sum, many ascents
            optimizer.step()
            best_scores = torch.maximum(best_scores, scores.detach().max(0).values)
            curves.append(best_scores.mean())
        with torch.no_grad():
            x_hat = decoder(z.reshape(-1, k)).reshape(len(z), n, *shape)
            scores = _similarity(x_hat, observed, mask)
            best = scores.argmax(0)  # (N,)
            images = x_hat[best, torch.arange(n, device=device)]
    return InversionResult(z.detach().cpu(), scores.cpu(), best.cpu(), images.cpu(), torch.stack(curves).cpu())
