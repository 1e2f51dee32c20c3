"""Small network building blocks shared by the GAN, the autoencoder and the classifiers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import torch
from torch import nn

from gaedu._validation import check_int

T = TypeVar("T")


def mlp(inputs: int, hidden: int, depth: int, outputs: int) -> nn.Sequential:
    """Return ``depth`` hidden layers of width ``hidden`` with LeakyReLU(0.2), then a linear output layer.

    Shapes: ``(B, inputs) -> (B, outputs)``. ``depth=0`` is a single linear layer.
    """
    inputs, outputs = check_int("inputs", inputs), check_int("outputs", outputs)
    hidden, depth = check_int("hidden", hidden), check_int("depth", depth, minimum=0)
    layers: list[nn.Module] = []
    width = inputs
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
        width = hidden
    return nn.Sequential(*layers, nn.Linear(width, outputs))


def check_conv_shape(shape: tuple[int, ...], depth: int) -> tuple[int, int, int]:
    """Return ``shape`` as ``(C, H, W)`` after checking that ``depth`` halvings of ``H`` and ``W`` are whole numbers."""
    if len(shape) != 3 or any(int(s) != s or s < 1 for s in shape):
        raise ValueError(f"a convolutional network needs an image shape (C, H, W), got {tuple(shape)}")
    depth = check_int("depth", depth)
    if shape[1] % 2**depth or shape[2] % 2**depth:
        raise ValueError(f"a convolutional network of depth {depth} needs H and W divisible by {2**depth}, got {shape[1]}×{shape[2]}")
    return int(shape[0]), int(shape[1]), int(shape[2])


def conv_up(inputs: int, shape: tuple[int, ...], width: int, depth: int) -> nn.Sequential:
    """Return a DCGAN-style decoder from vectors ``(B, inputs)`` to images ``(B, *shape)`` (no output squashing).

    A linear layer makes ``width · 2**(depth-1)`` channels at ``H / 2**depth`` (7×7 for
    28×28 and ``depth=2``); each of ``depth`` 4×4 transposed convolutions of stride 2
    doubles the resolution and halves the channels, the last one making the image's
    channels (LeakyReLU(0.2) between layers). Every weight is shared across
    positions: the parameter count grows with the channels, not with the pixels.
    """
    channels, height, wide = check_conv_shape(shape, depth)
    inputs, width = check_int("inputs", inputs), check_int("width", width)
    h, w = height // 2**depth, wide // 2**depth
    c = width * 2 ** (depth - 1)
    layers: list[nn.Module] = [nn.Linear(inputs, c * h * w), nn.LeakyReLU(0.2), nn.Unflatten(1, (c, h, w))]
    for level in range(depth):
        out = c // 2 if level < depth - 1 else channels
        layers.append(nn.ConvTranspose2d(c, out, 4, stride=2, padding=1))
        if level < depth - 1:
            layers.append(nn.LeakyReLU(0.2))
        c = out
    return nn.Sequential(*layers)


def conv_down(shape: tuple[int, ...], outputs: int, width: int, depth: int) -> nn.Sequential:
    """Return a DCGAN-style encoder from images ``(B, *shape)`` to vectors ``(B, outputs)``: :func:`conv_up` mirrored.

    Each of ``depth`` 4×4 convolutions of stride 2 halves the resolution: the first
    makes ``width`` channels, each later one doubles them (LeakyReLU(0.2) after each);
    a linear layer reads the last feature map. No batch normalization: the
    discriminator's R1 penalty and the gradients an ascent takes through an encoder
    should see one image at a time.
    """
    channels, height, wide = check_conv_shape(shape, depth)
    outputs, width = check_int("outputs", outputs), check_int("width", width)
    layers: list[nn.Module] = []
    c, out = channels, width
    for _ in range(depth):
        layers += [nn.Conv2d(c, out, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
        c, out = out, 2 * out
    h, w = height // 2**depth, wide // 2**depth
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(c * h * w, outputs))


def seeded(factory: Callable[[], T], seed: int) -> T:
    """Return ``factory()`` built under ``torch.manual_seed(seed)``, leaving the global random state as it was.

    The initial weights then depend on ``seed`` alone, not on what ran before, and
    they are the same on every device: they are drawn on the CPU (move the result
    with ``.to(device)`` afterwards).
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return factory()


def device_of(module: nn.Module) -> torch.device:
    """Return the device of ``module``'s parameters (the CPU for a module without any)."""
    return next(module.parameters(), torch.empty(0)).device


@contextmanager
def frozen(module: nn.Module) -> Iterator[nn.Module]:
    """Turn off the gradients of ``module``'s weights inside the block, and restore each flag afterwards.

    Gradients still flow *through* the module to its inputs: this is how an ascent over
    the inputs (pixels, codes) or the generator's step keeps a fixed network fixed, and
    skips computing weight gradients nobody uses.
    """
    flags = [p.requires_grad for p in module.parameters()]
    module.requires_grad_(False)
    try:
        yield module
    finally:
        for p, flag in zip(module.parameters(), flags, strict=True):
            p.requires_grad_(flag)
