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
