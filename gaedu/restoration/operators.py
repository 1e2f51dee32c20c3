r"""Degradations as linear operators: what a camera does to a photograph, and its adjoint.

An observation is ``y = A x + σ ε`` with ``ε`` standard Gaussian noise. Each
operator ``A`` here has a forward map and its adjoint :math:`A^\top`, the map
with :math:`\langle A x, y\rangle = \langle x, A^\top y\rangle` for every ``x``
and ``y``; the gradient of the data term :math:`-\tfrac12\|Ax - y\|^2` is
:math:`A^\top(y - Ax)`, so the adjoint is what an ascent needs. Autograd computes
it too; the explicit adjoints are written out so that a reader (and a test) can
check them.

* :class:`Identity`: denoising, ``A = I``.
* :class:`Mask`: inpainting, a pixel is kept where the mask is true and set to 0 elsewhere.
* :class:`Blur`: deblurring, a normalised Gaussian kernel of standard deviation ``std``
  pixels, with the image mirrored at its edges (numpy's ``'symmetric'`` padding, which is
  ``scipy.ndimage``'s ``'reflect'``), so the borders are not darkened.
* :class:`Downsample`: super-resolution, each ``F×F`` block of pixels averaged into one.
* :class:`Linear`: any other linear map, from its forward and adjoint functions (a reader's
  own operator); :class:`~gaedu.restoration.problem.Problem` checks the adjoint.

Every operator takes images of shape ``(..., H, W)`` and keeps the leading dimensions.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from gaedu._validation import check_int, check_positive


def check_image(name: str, image: torch.Tensor, *, ndim: int | None = 2) -> torch.Tensor:
    """Return ``image`` after checking it is a finite floating tensor (of ``ndim`` dimensions if given)."""
    if not isinstance(image, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(image).__name__}")
    if ndim is not None and image.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D image (H, W), got shape {tuple(image.shape)}")
    if image.ndim < 2 or min(image.shape[-2:]) < 1:
        raise ValueError(f"{name} must have shape (..., H, W), got {tuple(image.shape)}")
    if not image.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got {image.dtype}")
    if not torch.isfinite(image).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return image


class Operator:
    """A linear degradation ``A``: ``A(x)`` or ``A.forward(x)``, and ``A.adjoint(y)``.

    A new operator subclasses this and writes :meth:`forward` and :meth:`adjoint` (or wraps two
    functions in :class:`Linear`). The rest has defaults that an operator may improve on:
    :meth:`normal_bound` (power iteration), :meth:`estimate` (the back-projection ``Aᵀy``,
    normalised) and :meth:`project` (none).
    """

    name = "operator"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward(x)

    def normal_bound(self, y: torch.Tensor | None = None) -> float:
        """An upper bound on the largest eigenvalue of ``AᵀA``, for images the shape of ``Aᵀy``.

        This default runs 50 steps of the power iteration from a seeded start and adds 1% (an
        estimate from below, made safe); the built-in operators know theirs (1).
        """
        if y is None:
            raise ValueError(f"{self.name}: the power iteration needs an observation y to know the image's shape")
        v = torch.randn(self.adjoint(y.double()).shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
        value = 0.0
        for _ in range(50):
            v = v / v.norm()
            w = self.adjoint(self(v))
            value = float((v * w).sum())
            v = w
        return 1.01 * value

    def estimate(self, y: torch.Tensor) -> torch.Tensor:
        """A first guess of ``x`` from ``y``, where every ascent starts: ``Aᵀy / Aᵀ1`` pixel by pixel.

        Dividing by ``Aᵀ1`` undoes the back-projection's weights (a 2×2 block mean sends each
        observed value back with weight 1/4); a pixel no observation reaches (``Aᵀ1 = 0``)
        starts at the observations' mean.
        """
        y = y.double()
        back, weight = self.adjoint(y), self.adjoint(torch.ones_like(y))
        reached = weight > 1e-12 * weight.abs().max()
        fill = back.sum() / weight.sum()
        return torch.where(reached, back / torch.where(reached, weight, torch.ones_like(weight)), fill)

    def project(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor | None:
        """The nearest image to ``x`` that agrees exactly with ``y`` (``Ax = y``), or ``None`` if the operator has no cheap one.

        Exact data (``noise_std = 0``) are then kept by projected ascent; without a projection
        they are fitted by the data term like noisy data.
        """
        return None


class Linear(Operator):
    """An operator from two functions: ``Linear(forward, adjoint)``, for an operator a reader writes.

    :class:`Problem` checks numerically that ``adjoint`` is the adjoint of ``forward``.
    """

    def __init__(self, forward, adjoint, *, name: str = "linear"):
        if not callable(forward) or not callable(adjoint):
            raise ValueError("Linear needs two functions: forward(x) and adjoint(y)")
        self._forward, self._adjoint, self.name = forward, adjoint, name

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._forward(x)

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        return self._adjoint(y)

    def __repr__(self) -> str:
        return f"Linear({self.name})"


def adjoint_gap(operator: Operator, y: torch.Tensor, *, seed: int = 0) -> float:
    r"""The relative gap :math:`|\langle Au, v\rangle - \langle u, A^\top v\rangle| / (\|Au\|\,\|v\|)` for seeded random ``u``, ``v``.

    ``u`` has the shape of ``Aᵀy`` and ``v`` that of ``y``; the gap is rounding (about 1e-16)
    when ``adjoint`` is right, of order 1 when it is not.
    """
    rng = torch.Generator().manual_seed(seed)
    v = torch.randn(y.shape, generator=rng, dtype=torch.float64)
    back = operator.adjoint(v)
    u = torch.randn(back.shape, generator=rng, dtype=torch.float64)
    forward = operator(u)
    if not isinstance(forward, torch.Tensor) or forward.shape != y.shape:
        raise ValueError(f"{operator!r} maps an image of shape {tuple(u.shape)} to {tuple(getattr(forward, 'shape', ()))}, "
                         f"not to the observation's shape {tuple(y.shape)}")  # fmt: skip
    scale = float(forward.norm() * v.norm()) or 1.0
    return abs(float((forward * v).sum()) - float((u * back).sum())) / scale


class Identity(Operator):
    """``A = I``: the observation is the image plus noise."""

    name = "identity"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        return y

    def normal_bound(self, y: torch.Tensor | None = None) -> float:
        return 1.0

    def estimate(self, y: torch.Tensor) -> torch.Tensor:
        return y.double().clone()

    def __repr__(self) -> str:
        return "Identity()"


class Mask(Operator):
    """Keep the pixels where ``mask`` is true, set the others to zero. ``A`` is its own adjoint."""

    name = "mask"

    def __init__(self, mask: torch.Tensor):
        if not isinstance(mask, torch.Tensor) or mask.ndim != 2:
            raise ValueError(f"mask must be a 2-D torch.Tensor (H, W), got {getattr(mask, 'shape', type(mask).__name__)}")
        if mask.dtype != torch.bool:
            raise ValueError(f"mask must be a bool tensor, got {mask.dtype}")
        if not mask.any():
            raise ValueError("mask observes no pixel")
        self.mask = mask

    def _check(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[-2:]) != tuple(self.mask.shape):
            raise ValueError(f"image of shape {tuple(x.shape[-2:])} does not match the mask's {tuple(self.mask.shape)}")
        return self.mask.to(x.device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self._check(x)

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        return y * self._check(y)

    def normal_bound(self, y: torch.Tensor | None = None) -> float:
        return 1.0

    def estimate(self, y: torch.Tensor) -> torch.Tensor:
        """The observation, with each missing pixel at the observed pixels' mean."""
        y, mask = y.double(), self._check(y)
        return torch.where(mask, y, y[mask].mean())

    def project(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Copy the observed pixels in."""
        return torch.where(self._check(x), y.to(x.dtype), x)

    @property
    def observed_fraction(self) -> float:
        return self.mask.float().mean().item()

    def __repr__(self) -> str:
        return f"Mask({self.mask.shape[0]}×{self.mask.shape[1]}, observed {self.observed_fraction:.0%})"


def gaussian_kernel(std: float, radius: int | None = None) -> torch.Tensor:
    """A normalised 1-D Gaussian kernel, float64, of length ``2 radius + 1`` (default radius ``ceil(3 std)``).

    The 2-D blur kernel is its outer product with itself (the Gaussian is separable).
    """
    std = check_positive("std", std)
    radius = math.ceil(3 * std) if radius is None else check_int("radius", radius, minimum=0)
    t = torch.arange(-radius, radius + 1, dtype=torch.float64)
    g = torch.exp(-0.5 * (t / std) ** 2)
    return g / g.sum()


class Blur(Operator):
    """Gaussian blur with mirrored edges: pad by reflection, then a 'valid' convolution.

    Padding is itself linear: padded pixel ``p`` copies pixel ``index[p]``. Its adjoint
    therefore adds every padded pixel back onto the pixel it copied, and the adjoint of
    the 'valid' convolution is the transposed ('full') convolution. So
    ``Aᵀ y = Pᵀ (k ⋆ᵀ y)``. The 2-D kernel is separable, so each convolution is done as
    a column pass and a row pass.
    """

    name = "blur"

    def __init__(self, std: float, radius: int | None = None):
        self.kernel1d = gaussian_kernel(std, radius)
        self.std = float(std)
        self.radius = (self.kernel1d.shape[0] - 1) // 2

    @property
    def kernel(self) -> torch.Tensor:
        """The 2-D point-spread function, float64, ``(2r + 1, 2r + 1)``, summing to 1."""
        return self.kernel1d[:, None] * self.kernel1d[None, :]

    def _index(self, n: int, device) -> torch.Tensor:
        if n <= self.radius:
            raise ValueError(f"image side {n} must exceed the blur radius {self.radius}")
        return torch.from_numpy(np.pad(np.arange(n), self.radius, mode="symmetric")).to(device)

    def _weights(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        k = self.kernel1d.to(device=x.device, dtype=x.dtype)
        return k.reshape(1, 1, -1, 1), k.reshape(1, 1, 1, -1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        *lead, h, w = x.shape
        rows, cols = self._index(h, x.device), self._index(w, x.device)
        padded = x.reshape(-1, 1, h, w)[:, :, rows][:, :, :, cols]
        kc, kr = self._weights(x)
        return F.conv2d(F.conv2d(padded, kc), kr).reshape(*lead, h, w)

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        *lead, h, w = y.shape
        rows, cols = self._index(h, y.device), self._index(w, y.device)
        kc, kr = self._weights(y)
        full = F.conv_transpose2d(F.conv_transpose2d(y.reshape(-1, 1, h, w), kr), kc)  # (B, 1, h + 2r, w + 2r)
        folded = torch.zeros(full.shape[0], 1, h, w + 2 * self.radius, dtype=y.dtype, device=y.device)
        folded.index_add_(2, rows, full)
        out = torch.zeros(full.shape[0], 1, h, w, dtype=y.dtype, device=y.device)
        out.index_add_(3, cols, folded)
        return out.reshape(*lead, h, w)

    def normal_bound(self, y: torch.Tensor | None = None) -> float:
        return 1.0  # a normalised kernel: ‖A‖ ≤ 1 (the mirrored padding keeps it so)

    def estimate(self, y: torch.Tensor) -> torch.Tensor:
        """The blurred image itself: a normalised blur keeps an image's brightness."""
        return y.double().clone()

    def __repr__(self) -> str:
        return f"Blur(std={self.std:g}, radius={self.radius})"


class Downsample(Operator):
    r"""Average each ``factor × factor`` block into one pixel: a camera with ``factor``-times-larger pixels.

    ``A x`` is the block mean, so an ``(H, W)`` image becomes ``(H/F, W/F)`` (the sides must be
    multiples of ``F``). Its adjoint copies each value over its block with weight :math:`1/F^2`,
    so :math:`A A^\top = I/F^2` and :math:`\lVert A^\top A\rVert = 1/F^2`. The nearest image that
    agrees with ``y`` exactly is :math:`x + F^2 A^\top(y - A x)`: each block shifted by its own error.
    """

    name = "downsample"

    def __init__(self, factor: int):
        self.factor = check_int("factor", factor, minimum=2)

    def _check(self, x: torch.Tensor) -> None:
        h, w = x.shape[-2:]
        if h % self.factor or w % self.factor:
            raise ValueError(f"image of shape {h}×{w}: both sides must be multiples of the factor {self.factor}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        *lead, h, w = x.shape
        f = self.factor
        return x.reshape(*lead, h // f, f, w // f, f).mean(dim=(-3, -1))

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        f = self.factor
        return y.repeat_interleave(f, dim=-2).repeat_interleave(f, dim=-1) / f**2

    def normal_bound(self, y: torch.Tensor | None = None) -> float:
        return 1.0 / self.factor**2

    def estimate(self, y: torch.Tensor) -> torch.Tensor:
        """Each observed value copied over its block (``Aᵀy / Aᵀ1``)."""
        return self.factor**2 * self.adjoint(y.double())

    def project(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Shift each block by its mean's error, so that the block means are ``y``."""
        return x + self.factor**2 * self.adjoint(y.to(x.dtype) - self(x))

    def __repr__(self) -> str:
        return f"Downsample(factor={self.factor})"
