"""Exercises of the chapter "A convolutional GAN for 28×28 digits": sizes, parameter counts, nearest neighbours, spectral norms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from gaedu.exercises._feedback import _call, _fail, _ok, _to_array, _to_number

#: (input side, kernel, stride, padding) of the transposed convolutions the size checker tries.
TRANSPOSED_CASES = ((7, 4, 2, 1), (14, 4, 2, 1), (5, 3, 1, 0), (4, 5, 3, 2), (10, 3, 2, 1), (1, 7, 1, 0))
#: (input channels, output channels, kernel side) of the convolutions the parameter checker tries.
CONV_CASES = ((1, 32, 4), (32, 64, 4), (3, 16, 3), (64, 1, 4), (5, 7, 1))
#: The number of power-iteration steps the spectral-norm checker asks for.
POWER_STEPS = 100


def _spectral_cases() -> list[torch.Tensor]:
    """Matrices ``U diag(s) Vᵀ`` with known singular values, the largest well apart from the next."""
    rng = torch.Generator().manual_seed(17)
    cases = []
    for rows, cols, top in ((6, 4, 3.0), (32, 48, 0.7), (16, 144, 12.5)):
        u, _ = torch.linalg.qr(torch.randn(rows, min(rows, cols), generator=rng, dtype=torch.float64))
        v, _ = torch.linalg.qr(torch.randn(cols, min(rows, cols), generator=rng, dtype=torch.float64))
        s = top * torch.linspace(1, 0.05, min(rows, cols), dtype=torch.float64) ** 2
        s[1:] = s[1:] * 0.8  # a gap under the largest, so that the steps converge
        cases.append(u @ torch.diag(s) @ v.T)
    return cases


def check_transposed_size(size: Callable[[int, int, int, int], Any]) -> None:
    """Check ``size(n, kernel, stride, padding)``: the side of ``nn.ConvTranspose2d``'s output for an ``n``-pixel side."""
    for n, k, s, p in TRANSPOSED_CASES:
        want = nn.ConvTranspose2d(1, 1, k, stride=s, padding=p)(torch.zeros(1, 1, n, n)).shape[-1]
        got = _to_number(_call(size, n, k, s, p), "a whole number of pixels")
        if got == want:
            continue
        if got == (n + 2 * p - k) // s + 1:
            _fail(f"for n={n}, kernel {k}, stride {s}, padding {p} you give the size of a strided *convolution*: "
                  "the transposed one goes the other way")  # fmt: skip
        if got == n * s:
            _fail(f"for n={n}, kernel {k}, stride {s}, padding {p}: n × stride is right only for some kernels and "
                  "paddings; count where the last kernel copy ends")  # fmt: skip
        _fail(f"for n={n}, kernel {k}, stride {s}, padding {p} the layer's output is not {got:g} pixels wide: place a "
              "kernel copy every `stride` pixels, then cut `padding` from each side")  # fmt: skip
    _ok("your formula gives the output side of every transposed convolution tried")


def check_conv_parameters(count: Callable[[int, int, int], Any]) -> None:
    """Check ``count(c_in, c_out, kernel)``: the number of weights and biases of ``nn.Conv2d(c_in, c_out, kernel)``."""
    for c_in, c_out, k in CONV_CASES:
        want = sum(p.numel() for p in nn.Conv2d(c_in, c_out, k).parameters())
        got = _to_number(_call(count, c_in, c_out, k), "a whole number of parameters")
        if got == want:
            continue
        if got == want - c_out:
            _fail(f"for ({c_in}, {c_out}, {k}) you are {c_out} short: what else does each output channel have?")
        if got == c_in * c_out * k + c_out or got == c_in * c_out * k:
            _fail(f"for ({c_in}, {c_out}, {k}): a kernel is a square of {k} by {k} numbers, not a row of {k}")
        if got > 100 * want:
            _fail(f"for ({c_in}, {c_out}, {k}) your count grows with the image: a convolution's weights do not")
        _fail(f"for ({c_in}, {c_out}, {k}) nn.Conv2d does not have {got:g} parameters: count one kernel per "
              "pair of input and output channels")  # fmt: skip
    _ok("your count matches PyTorch's for every convolution tried, whatever the image's size")


def _nearest_cases() -> list[tuple[torch.Tensor, torch.Tensor]]:
    rng = torch.Generator().manual_seed(13)
    return [(torch.rand(n, d, generator=rng, dtype=torch.float64), torch.rand(m, d, generator=rng, dtype=torch.float64))
            for n, m, d in ((5, 40, 784), (12, 7, 3), (1, 30, 64))]  # fmt: skip


def check_nearest_distances(nearest: Callable[[torch.Tensor, torch.Tensor], Any]) -> None:
    """Check ``nearest(samples, train)``: for each row of ``samples`` ``(n, d)``, the distance to the closest row of ``train`` ``(m, d)``."""
    for samples, train in _nearest_cases():
        distances = torch.cdist(samples, train)  # (n, m)
        want = distances.min(1).values.numpy()
        got = _to_array(_call(nearest, samples.clone(), train.clone()), f"{len(samples)} distances, one per sample")
        if got.shape != want.shape:
            if got.size == len(train):
                _fail(f"you return {got.size} numbers, one per training row: one per *sample* is wanted")
            _fail(f"for {len(samples)} samples the answer must hold {len(samples)} distances, got shape {got.shape}")
        if np.allclose(got, want, rtol=1e-6, atol=1e-9):
            continue
        if np.allclose(got, want**2, rtol=1e-6, atol=1e-9):
            _fail("these are squared distances: take the square root, so that the unit is pixels")
        if np.allclose(got, distances.max(1).values.numpy(), rtol=1e-6):
            _fail("these are the distances to the farthest training row, not the nearest")
        if np.allclose(got, distances.mean(1).numpy(), rtol=1e-6):
            _fail("these are mean distances: a copy hides among many far rows; keep only the closest")
        _fail("not the Euclidean distance to the nearest training row: compare one sample by hand with a loop")
    _ok("your distances match for every case: each sample's nearest training row is found")


def check_spectral_norm(spectral_norm: Callable[[torch.Tensor, int], Any]) -> None:
    """Check ``spectral_norm(W, steps)``: the largest singular value of ``W`` by ``steps`` of power iteration."""
    for w in _spectral_cases():
        singular = torch.linalg.svdvals(w)
        want = float(singular[0])
        got = _to_number(_call(spectral_norm, w.clone(), POWER_STEPS), "one number, the largest singular value")
        if np.isclose(got, want, rtol=1e-6):
            continue
        shape = f"for a {w.shape[0]}×{w.shape[1]} matrix"
        if np.isclose(got, want**2, rtol=1e-6):
            _fail(f"{shape} you return the square: the Rayleigh quotient ‖Wv‖²/‖v‖² climbs to σ₁², and σ₁ is its root")
        if np.isclose(got, float(w.norm()), rtol=1e-6):
            _fail(f"{shape} this is the Frobenius norm, the root of the sum of every squared singular value")
        if np.isclose(got, float(singular[-1]), rtol=1e-6):
            _fail(f"{shape} this is the smallest singular value: power iteration climbs, it does not descend")
        if np.isclose(got, want, rtol=0.05):
            _fail(f"{shape} you are within 5 % but not there: normalize v after every step, and use all the steps")
        _fail(f"{shape} the estimate is off by more than 5 %: each step multiplies v by WᵀW (W, then its transpose) "
              "and rescales it to length 1")  # fmt: skip
    _ok(f"{POWER_STEPS} steps of your power iteration give the largest singular value of every matrix tried")
