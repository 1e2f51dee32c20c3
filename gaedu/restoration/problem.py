r"""A restoration problem: an observation, its operator and its noise level; and the book's three problems.

:func:`degrade` builds a :class:`Problem` from a clean image: the operator, the noise level and a
seeded observation. Any other linear operator with its adjoint makes a problem too (:class:`Problem`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from gaedu._validation import check_choice, check_fraction, check_int, check_nonnegative
from gaedu.restoration.operators import Blur, Downsample, Identity, Mask, Operator, adjoint_gap, check_image

TASKS = ("denoise", "inpaint", "deblur", "super-resolution")
# The settings of the book's four problems: what ``degrade`` uses when not told otherwise.
DEFAULTS = {
    "denoise": {"noise_std": 0.1},
    "inpaint": {"noise_std": 0.0, "missing": 0.5},
    "deblur": {"noise_std": 0.01, "blur_std": 1.5},
    "super-resolution": {"noise_std": 0.01, "factor": 2},
}

ADJOINT_TOLERANCE = 1e-6  # the largest relative adjoint gap a Problem accepts (rounding is about 1e-16)


@dataclass(frozen=True)
class Problem:
    """A restoration problem: ``observed = operator(clean) + noise_std · ε``.

    ``task`` names the problem: one of the built-in ``TASKS``, whose methods' settings were
    tuned for them, or any other name for an operator of one's own (for example
    ``Problem("zoom", y, Linear(forward, adjoint), 0.01)``). The operator
    may be any linear :class:`Operator`; its adjoint is checked numerically (:func:`adjoint_gap`).
    ``noise_std`` is known to every method; 0 means the data are exact (:attr:`exact`).
    """

    task: str
    observed: torch.Tensor
    operator: Operator
    noise_std: float

    def __post_init__(self):
        if not isinstance(self.task, str) or not self.task:
            raise ValueError(f"task must be a name such as {TASKS[0]!r}, got {self.task!r}")
        check_image("observed", self.observed)
        check_nonnegative("noise_std", self.noise_std)
        if self.task == "denoise" and self.noise_std == 0:
            raise ValueError("a denoising problem needs noise_std > 0")
        if not isinstance(self.operator, Operator):
            raise ValueError(f"operator must be a gaedu.restoration.Operator (wrap two functions in Linear), "
                             f"got {type(self.operator).__name__}")  # fmt: skip
        if not isinstance(self.operator, (Identity, Mask, Blur, Downsample)):  # the built-in ones are tested
            gap = adjoint_gap(self.operator, self.observed)
            if not gap <= ADJOINT_TOLERANCE:
                raise ValueError(f"{self.operator!r}: adjoint is not the adjoint of forward "
                                 f"(relative gap {gap:.1e} > {ADJOINT_TOLERANCE:g})")  # fmt: skip

    @property
    def exact(self) -> bool:
        """Whether the data are exact (``noise_std == 0``): then ``A x = y`` can be kept, not just fitted."""
        return self.noise_std == 0

    @property
    def projected(self) -> bool:
        """Whether ascent keeps ``A x = y`` by projection: exact data and an operator with :meth:`Operator.project`."""
        # asked at every step of an ascent: read off the class, not by projecting an image
        return self.exact and type(self.operator).project is not Operator.project

    def start(self) -> torch.Tensor:
        """Where every ascent starts: the operator's :meth:`Operator.estimate` of ``y`` (float64)."""
        return self.operator.estimate(self.observed).double()

    def normal_bound(self) -> float:
        """An upper bound on the largest eigenvalue of ``AᵀA`` for this observation's images."""
        return self.operator.normal_bound(self.observed.double())

    def data_fit(self, x: torch.Tensor) -> torch.Tensor:
        """``½‖A x − y‖²``, summed over pixels (a scalar tensor, differentiable in ``x``)."""
        return 0.5 * (self.operator(x) - self.observed).pow(2).sum()

    @property
    def mask(self) -> torch.Tensor:
        """The observed entries of ``y`` (all of them unless the operator is a :class:`Mask`)."""
        if isinstance(self.operator, Mask):
            return self.operator.mask
        return torch.ones(self.observed.shape, dtype=torch.bool)


def random_mask(shape: tuple[int, int], missing: float, *, seed: int = 0) -> torch.Tensor:
    """A bool mask in which each pixel is missing (False) with probability ``missing``, seeded."""
    missing = check_fraction("missing", missing)
    rng = torch.Generator().manual_seed(check_int("seed", seed, minimum=0))
    return torch.rand(shape, generator=rng) >= missing


def degrade(
    clean: torch.Tensor,
    task: str,
    *,
    noise_std: float | None = None,
    missing: float | None = None,
    blur_std: float | None = None,
    factor: int | None = None,
    seed: int = 0,
) -> Problem:
    """Degrade a clean 2-D image into a :class:`Problem`; unspecified settings come from ``DEFAULTS``.

    * ``'denoise'``: ``y = x + σ ε`` (default σ = 0.1).
    * ``'inpaint'``: a random ``missing`` share of pixels removed (default half), plus ``σ ε`` (default σ = 0).
    * ``'deblur'``: Gaussian blur of ``blur_std`` pixels (default 1.5) plus noise (default σ = 0.01).
    * ``'super-resolution'``: the mean of each ``factor × factor`` block (default 2) plus noise
      (default σ = 0.01); the observation is ``factor`` times smaller on each side.

    The noise and the mask come from CPU generators seeded with ``seed`` and ``seed + 1``,
    so a seed gives the same problem on every device.
    """
    task = check_choice("task", task, TASKS)
    clean = check_image("clean", clean)
    settings = dict(DEFAULTS[task])
    for key, value in (("noise_std", noise_std), ("missing", missing), ("blur_std", blur_std), ("factor", factor)):
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
    elif task == "deblur":
        operator = Blur(settings["blur_std"])
    else:
        operator = Downsample(settings["factor"])
    shape = tuple(operator(clean).shape)
    noise = torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    observed = operator(clean) + (sigma * noise).to(clean.dtype).to(clean.device)
    if task == "inpaint":
        observed = operator(observed)  # a missing pixel carries no noise either: it is simply 0
    return Problem(task, observed, operator, sigma)
