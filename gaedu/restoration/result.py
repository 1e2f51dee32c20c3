"""What every restoration method returns, and the PSNR it records along the way."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from gaedu.metrics import psnr
from gaedu.restoration.operators import check_image
from gaedu.restoration.problem import Problem


@dataclass
class RestorationResult:
    """What a restoration returns.

    Attributes:
        image: the restored image, shape ``(H, W)``, clipped to ``[0, 1]``.
        values: the objective after each recorded step (the method's own objective), or empty.
        psnrs: PSNR against ``clean`` after each recorded step, if a clean image was given (for plots only).
        recorded_steps: the step at which each entry of ``values``/``psnrs`` was recorded.
        seconds: wall-clock time of the restoration.
        info: anything else the method reports (the stopping step, the weight chosen, ...).
    """

    image: torch.Tensor
    values: list[float] = field(default_factory=list)
    psnrs: list[float] = field(default_factory=list)
    recorded_steps: list[int] = field(default_factory=list)
    seconds: float = 0.0
    info: dict = field(default_factory=dict)


def image_psnr(x: torch.Tensor, clean: torch.Tensor) -> float:
    """PSNR in dB of one 2-D image, clipped to ``[0, 1]``, against ``clean``: :func:`gaedu.metrics.psnr` for one pair."""
    return psnr(x.double().clamp(0, 1)[None, None], clean.double()[None, None]).item()


def check_problem(problem) -> Problem:
    """Return ``problem`` after checking it is a :class:`~gaedu.restoration.Problem`."""
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a gaedu.restoration.Problem, got {type(problem).__name__}")
    return problem


def check_clean(clean: torch.Tensor | None, problem: Problem) -> None:
    """Check that ``clean``, if given, is an image of the shape the problem restores."""
    if clean is not None:
        check_image("clean", clean)
        shape = tuple(problem.start().shape)
        if tuple(clean.shape) != shape:
            raise ValueError(f"clean has shape {tuple(clean.shape)}, the restored image {shape}")
