"""Exercises of the chapter "Ascent at scale": combining per-process gradients and the linear scaling rule."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from gaedu.distributed_demo import demo_data, demo_objective
from gaedu.exercises._feedback import _call, _fail, _ok, _to_array, _to_number

#: Share sizes of the gradient-averaging exercise: equal shares first, then unequal ones.
GRADIENT_SHARES = ((128, 128), (64, 64, 64, 64), (200, 56), (16, 80, 160))


def _share_gradients(sizes: tuple[int, ...]) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Return each share's gradient of ``demo_objective`` and the full-batch gradient, at a fixed ``w``."""
    X, y = demo_data()
    w = torch.linspace(0.5, -0.5, X.shape[1], dtype=X.dtype)  # a point away from the maximizer

    def gradient(X_part: torch.Tensor, y_part: torch.Tensor) -> torch.Tensor:
        point = w.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(demo_objective(point, X_part, y_part), point)
        return grad

    return [gradient(Xs, ys) for Xs, ys in zip(X.split(list(sizes)), y.split(list(sizes)), strict=True)], gradient(X, y)


def check_gradient_average(combine: Callable[[list[torch.Tensor], list[int]], Any]) -> None:
    """Check ``combine(gradients, sizes)``: the full-batch gradient of ``demo_objective`` from per-process gradients."""
    for sizes in GRADIENT_SHARES:
        gradients, full = _share_gradients(sizes)
        out = _call(combine, [g.clone() for g in gradients], list(sizes))
        got = _to_array(out, f"one gradient of {full.numel()} numbers").reshape(-1)
        if got.size != full.numel():
            _fail(f"the gradient has {full.numel()} numbers, like each process's gradient; got {got.size}")
        if np.allclose(got, full.numpy(), rtol=0, atol=1e-9):
            continue
        stacked = torch.stack(gradients).numpy()
        if np.allclose(got, stacked.sum(0), atol=1e-9):
            _fail("that is the all-reduced sum: each share's objective is already a mean, "
                  "so the sum counts the data once per process")
        if np.allclose(got, stacked.mean(0), atol=1e-9):
            _fail(f"a plain average is right only for equal shares: with shares of {list(sizes)} samples, "
                  "a larger share must count more")
        if any(np.allclose(got, g, atol=1e-9) for g in stacked):
            _fail("that is one process's gradient, computed on its share alone")
        _fail(f"with shares of {list(sizes)} samples that is not the gradient of the whole batch")
    _ok("your combination equals the full-batch gradient, for equal and for unequal shares")


#: Cases of the learning-rate exercise: (base_lr, base_batch, batch_per_process, num_processes).
SCALED_LR_CASES = ((1e-3, 128, 128, 8), (0.1, 256, 32, 8), (0.1, 256, 64, 16), (2e-4, 64, 64, 1), (0.05, 512, 128, 2))


def check_scaled_lr(scaled_lr: Callable[[float, int, int, int], Any]) -> None:
    """Check ``scaled_lr(base_lr, base_batch, batch_per_process, num_processes)``: the linear scaling rule."""
    for base_lr, base_batch, per_process, processes in SCALED_LR_CASES:
        lr = _to_number(_call(scaled_lr, base_lr, base_batch, per_process, processes), "one learning rate")
        ratio = per_process * processes / base_batch  # how much the global batch grew
        if math.isclose(lr, base_lr * ratio, rel_tol=1e-6):
            continue
        setting = f"base lr {base_lr:g} at batch {base_batch}, {processes} processes of {per_process}"
        if math.isclose(lr, base_lr * math.sqrt(ratio), rel_tol=1e-6):
            _fail(f"{setting}: that is the square-root rule; the linear rule uses another power of the batch's growth")
        if math.isclose(lr, base_lr / ratio, rel_tol=1e-6):
            _fail(f"{setting}: a larger batch has less noise, so the rule raises the learning rate, not lowers it")
        if math.isclose(lr, base_lr * processes, rel_tol=1e-6):
            _fail(f"{setting}: multiplying by the number of processes is right only when each keeps the base batch")
        _fail(f"{setting}: compare the batch of one step over all processes with the base batch")
    _ok("lr grows in proportion to the global batch: per_process × processes / base_batch")
