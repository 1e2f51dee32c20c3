r"""Restoration as ascent on a log-posterior: a problem, its operator, and the methods that climb it.

An observation is ``y = A x + σ ε``. :class:`Problem` holds ``y``, the operator ``A`` (any
linear :class:`Operator` with its adjoint: :class:`Identity`, :class:`Mask`, :class:`Blur`,
:class:`Downsample`, or one's own through :class:`Linear`) and the noise level. Restoring it is climbing
:math:`\log p(y \mid x) + \log p(x)`, whose first term's gradient is :math:`A^\top(y - Ax)/σ^2`;
the methods differ in the prior:

* :mod:`~gaedu.restoration.total_variation`: the total-variation prior, climbed by subgradient
  and accelerated ascent (:func:`tv_map`), its weight chosen without the clean image
  (:mod:`~gaedu.restoration.parameters`: SURE, the discrepancy principle);
* :mod:`~gaedu.restoration.prior`: a learned denoiser (:mod:`~gaedu.restoration.denoiser`) as
  the prior, by half-quadratic splitting (:func:`learned_prior`);
* :mod:`~gaedu.restoration.red`: the same denoiser as a gradient, :math:`(D(x, σ) - x)/σ^2`, climbed
  with the data term by accelerated ascent (:func:`red`, regularization by denoising);
* :mod:`~gaedu.restoration.dip`: Deep Image Prior, ascent on a network's weights;
* :mod:`~gaedu.restoration.classical`: scikit-image's methods, the baselines.

:func:`restore` picks a method by name, as the command line does. Every name the modules define
for readers is importable from here, as ``skimage.restoration`` does for its modules.
"""

from __future__ import annotations

import time

from gaedu._validation import check_choice
from gaedu.restoration.classical import BASELINES, NLM_GRID, NLM_H, RL_GRID, RL_ITERATIONS, baseline, tuning_scores
from gaedu.restoration.denoiser import Denoiser, DenoiserConfig, denoise, dihedral, load_denoiser, train_denoiser
from gaedu.restoration.dip import SkipDecoder, deep_image_prior, dip_study
from gaedu.restoration.operators import (
    Blur,
    Downsample,
    Identity,
    Linear,
    Mask,
    Operator,
    adjoint_gap,
    check_image,
    gaussian_kernel,
)
from gaedu.restoration.parameters import RULES, SURE_SEED, choose_weight, sure
from gaedu.restoration.prior import PRIOR_SCHEDULES, learned_prior
from gaedu.restoration.problem import ADJOINT_TOLERANCE, DEFAULTS, TASKS, Problem, degrade, random_mask
from gaedu.restoration.red import RED_SETTINGS, red, red_gradient, red_step_size
from gaedu.restoration.result import RestorationResult, image_psnr
from gaedu.restoration.total_variation import (
    TV_WEIGHTS,
    differences,
    tv,
    tv_gradient,
    tv_map,
    tv_objective,
    tv_restore,
    tv_subgradient_ascent,
)

METHODS = ("prior", "tv", "dip", "red")


def restore(problem: Problem, method: str = "prior", *, seed: int = 0, model=None, progress: bool = False) -> RestorationResult:
    """Restore ``problem`` with one of ``METHODS``, every setting chosen without the clean image.

    * ``'prior'`` (the default): :func:`learned_prior` with the book's cached denoiser
      (:func:`load_denoiser`, trained on first use) unless ``model`` is given.
    * ``'tv'``: :func:`tv_restore`.
    * ``'dip'``: :func:`deep_image_prior` with the discrepancy stop, seeded by ``seed``.
    * ``'red'``: :func:`red` with the same denoiser as ``'prior'``.
    """
    method = check_choice("method", method, METHODS)
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a gaedu.restoration.Problem, got {type(problem).__name__}")
    start = time.perf_counter()
    if method == "prior":
        result = learned_prior(problem, model if model is not None else load_denoiser(progress=progress), progress=progress)
    elif method == "red":
        result = red(problem, model if model is not None else load_denoiser(progress=progress), progress=progress)
    elif method == "tv":
        result = tv_restore(problem)
    else:
        result = deep_image_prior(problem, seed=seed, progress=progress)
    result.seconds = time.perf_counter() - start
    return result


__all__ = [
    "ADJOINT_TOLERANCE", "BASELINES", "DEFAULTS", "METHODS", "NLM_GRID", "NLM_H", "PRIOR_SCHEDULES", "RED_SETTINGS", "RL_GRID", "RL_ITERATIONS", "RULES",
    "SURE_SEED", "TASKS", "TV_WEIGHTS", "Blur", "Denoiser", "Downsample", "DenoiserConfig", "Identity", "Linear", "Mask", "Operator",
    "Problem", "RestorationResult", "SkipDecoder", "adjoint_gap", "baseline", "check_image", "choose_weight",
    "deep_image_prior", "degrade", "denoise", "differences", "dihedral", "dip_study", "gaussian_kernel", "image_psnr",
    "learned_prior", "load_denoiser", "random_mask", "red", "red_gradient", "red_step_size", "restore", "sure", "train_denoiser", "tuning_scores", "tv", "tv_gradient",
    "tv_map", "tv_objective", "tv_restore", "tv_subgradient_ascent",
]  # fmt: skip
