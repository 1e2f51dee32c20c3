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

:func:`degrade` builds a :class:`Problem`: the operator, the noise level and a seeded observation.
Every operator takes images of shape ``(..., H, W)`` and keeps the leading dimensions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from gaedu._validation import check_choice, check_fraction, check_int, check_nonnegative, check_positive

TASKS = ("denoise", "inpaint", "deblur")
# The settings of the book's three problems: what ``degrade`` uses when not told otherwise.
DEFAULTS = {
    "denoise": {"noise_std": 0.1},
    "inpaint": {"noise_std": 0.0, "missing": 0.5},
    "deblur": {"noise_std": 0.01, "blur_std": 1.5},
}


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
    """A linear degradation ``A``: ``A(x)`` or ``A.forward(x)``, and ``A.adjoint(y)``."""

    name = "operator"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward(x)

    def normal_bound(self) -> float:
        """An upper bound on the largest eigenvalue of ``AᵀA`` (1 for every operator here)."""
        return 1.0


class Identity(Operator):
    """``A = I``: the observation is the image plus noise."""

    name = "identity"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        return y

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

    def __repr__(self) -> str:
        return f"Blur(std={self.std:g}, radius={self.radius})"


@dataclass(frozen=True)
class Problem:
    """A restoration problem: ``observed = operator(clean) + noise_std · ε``.

    ``task`` is one of ``TASKS``; ``noise_std`` is known to every method (0 means noise-free).
    """

    task: str
    observed: torch.Tensor
    operator: Operator
    noise_std: float

    def __post_init__(self):
        check_choice("task", self.task, TASKS)
        check_image("observed", self.observed)
        check_nonnegative("noise_std", self.noise_std)
        if self.task == "denoise" and self.noise_std == 0:
            raise ValueError("a denoising problem needs noise_std > 0")

    def data_fit(self, x: torch.Tensor) -> torch.Tensor:
        """``½‖A x − y‖²``, summed over pixels (a scalar tensor, differentiable in ``x``)."""
        return 0.5 * (self.operator(x) - self.observed).pow(2).sum()

    @property
    def mask(self) -> torch.Tensor:
        """The observed pixels (all of them unless the operator is a :class:`Mask`)."""
        if isinstance(self.operator, Mask):
            return self.operator.mask
        return torch.ones(self.observed.shape, dtype=torch.bool)


def random_mask(shape: tuple[int, int], missing: float, *, seed: int = 0) -> torch.Tensor:
    """A bool mask in which each pixel is missing (False) with probability ``missing``, seeded."""
    missing = check_fraction("missing", missing)
    generator = torch.Generator().manual_seed(check_int("seed", seed, minimum=0))
    return torch.rand(shape, generator=generator) >= missing


def degrade(
    clean: torch.Tensor,
    task: str,
    *,
    noise_std: float | None = None,
    missing: float | None = None,
    blur_std: float | None = None,
    seed: int = 0,
) -> Problem:
    """Degrade a clean 2-D image into a :class:`Problem`; unspecified settings come from ``DEFAULTS``.

    * ``'denoise'``: ``y = x + σ ε`` (default σ = 0.1).
    * ``'inpaint'``: a random ``missing`` share of pixels removed (default half), plus ``σ ε`` (default σ = 0).
    * ``'deblur'``: Gaussian blur of ``blur_std`` pixels (default 1.5) plus noise (default σ = 0.01).

    The noise and the mask come from CPU generators seeded with ``seed`` and ``seed + 1``,
    so a seed gives the same problem on every device.
    """
    task = check_choice("task", task, TASKS)
    clean = check_image("clean", clean)
    settings = dict(DEFAULTS[task])
    for key, value in (("noise_std", noise_std), ("missing", missing), ("blur_std", blur_std)):
        if value is not None:
            if key not in settings:
                raise ValueError(f"{key} does not apply to the {task!r} task")
            settings[key] = value
    sigma = check_nonnegative("noise_std", settings["noise_std"])
    seed = check_int("seed", seed, minimum=0)
    if task == "denoise":
        operator: Operator = Identity()
    elif task == "inpaint":
        operator = Mask(random_mask(tuple(clean.shape), settings["missing"], seed=seed + 1))
    else:
        operator = Blur(settings["blur_std"])
    noise = torch.randn(clean.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    observed = operator(clean) + (sigma * noise).to(clean.dtype).to(clean.device)
    if task == "inpaint":
        observed = operator(observed)  # a missing pixel carries no noise either: it is simply 0
    return Problem(task, observed, operator, sigma)
