"""Exercises of the chapter "Restoring photographs": an adjoint, the smoothed-TV gradient and SURE by hand."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from gaedu.exercises._feedback import _call, _fail, _ok, _to_array, _to_number
from gaedu.restoration import tv_gradient as _reference_gradient


def downsample(x: torch.Tensor) -> torch.Tensor:
    """The super-resolution operator of the exercise: the mean of each 2×2 block, ``(H, W) -> (H/2, W/2)``."""
    return F.avg_pool2d(x[None, None], 2)[0, 0]


def check_downsample_adjoint(adjoint: Callable[[torch.Tensor], Any]) -> None:
    """Check ``adjoint(y)``: the adjoint of :func:`downsample`, ``(H/2, W/2) -> (H, W)``."""
    rng = torch.Generator().manual_seed(11)
    for h, w in ((8, 8), (6, 10), (32, 16)):
        x = torch.randn(h, w, generator=rng, dtype=torch.float64)
        y = torch.randn(h // 2, w // 2, generator=rng, dtype=torch.float64)
        out = _to_array(_call(adjoint, y.clone()), f"an image of shape ({h}, {w})")
        if out.shape != (h, w):
            _fail(f"for y of shape {tuple(y.shape)} the adjoint must return shape ({h}, {w}), got {out.shape}")
        lhs = float((downsample(x) * y).sum())
        rhs = float((x.numpy() * out).sum())
        if not np.isclose(lhs, rhs, rtol=1e-6, atol=1e-9):
            ratio = rhs / lhs if lhs else float("nan")
            if np.isclose(ratio, 4.0, rtol=1e-3):
                _fail("your values are 4 times too large: how much of a block's mean does one of its pixels make?")
            if np.isclose(ratio, -1.0, rtol=1e-3):
                _fail("the sign is wrong: <A x, y> and <x, A^T y> have opposite signs")
            _fail("<A x, y> differs from <x, A^T y>: write A as a matrix for a 2×4 image, transpose it, and compare")
    _ok("<A x, y> = <x, A^T y> on every test case: this is the adjoint of the 2×2 mean")


def check_tv_gradient(tv_gradient: Callable[[torch.Tensor, float], Any]) -> None:
    """Check ``tv_gradient(x, eps)``: the gradient of the smoothed TV ``Σ √(d1² + d2² + ε²)``, shape of ``x``."""
    rng = torch.Generator().manual_seed(5)
    for shape, eps in (((6, 6), 0.1), ((5, 9), 0.01), ((16, 16), 1.0)):
        x = torch.rand(*shape, generator=rng, dtype=torch.float64)
        want = _reference_gradient(x, eps, exact=False).numpy()
        got = _to_array(_call(tv_gradient, x.clone(), eps), f"a gradient of shape {shape}")
        if got.shape != want.shape:
            _fail(f"the gradient must have the shape of x, {shape}; got {got.shape}")
        if np.allclose(got, want, atol=1e-8):
            continue
        if np.allclose(got, -want, atol=1e-8):
            _fail("the sign is wrong: your vector points where the smoothed TV falls")
        if np.allclose(got[:-1, :-1], want[:-1, :-1], atol=1e-8):
            _fail("right inside, wrong on the last row or column: what is a difference past the edge, and what does it pull on?")
        _fail("not the gradient of the smoothed TV: compare one pixel with a finite difference of TV, or with autograd")
    _ok("your gradient matches autograd's on every test image")


def check_shrinkage_sure(sure_shrink: Callable[[torch.Tensor, float, float], Any]) -> None:
    """Check ``sure_shrink(y, a, sigma)``: SURE of the shrinkage denoiser ``x̂ = a·y`` (a number)."""
    rng = torch.Generator().manual_seed(3)
    for n, a, sigma in ((64, 0.5, 0.1), (100, 0.9, 0.3), (16, 0.0, 1.0), (400, 1.0, 0.05)):
        y = torch.randn(n, generator=rng, dtype=torch.float64)
        n_pix = y.numel()
        want = float((1 - a) ** 2 * (y**2).sum() - n_pix * sigma**2 + 2 * sigma**2 * a * n_pix)
        got = _to_number(_call(sure_shrink, y.clone(), a, sigma), "one number")
        if np.isclose(got, want, rtol=1e-6, atol=1e-9):
            continue
        without_div = float((1 - a) ** 2 * (y**2).sum() - n_pix * sigma**2)
        if np.isclose(got, without_div, rtol=1e-6, atol=1e-9):
            _fail("the divergence term is missing: without it the estimate rewards copying the noise")
        _fail("not SURE of x̂ = a·y: work out the divergence of this linear map first, then each of the three terms")
    _ok("your SURE matches the formula for every shrinkage")
