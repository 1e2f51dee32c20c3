"""The library a practitioner would reach for: scikit-image's restoration methods, as baselines."""

from __future__ import annotations

import time

import numpy as np
import torch

from gaedu._validation import check_choice, check_int, check_positive
from gaedu.restoration.operators import Blur, Downsample, Identity, Mask
from gaedu.restoration.problem import Problem, degrade
from gaedu.restoration.result import RestorationResult, check_problem, image_psnr

# The library a practitioner would reach for: scikit-image, with settings chosen on training
# photographs (bench/restoration.py --tune), never on the photographs the book restores.
BASELINES = {
    "denoise": ("tv-chambolle", "nl-means", "wavelet"),
    "inpaint": ("biharmonic",),
    "deblur": ("richardson-lucy", "wiener"),
    "super-resolution": ("bicubic",),
}
NLM_H = 0.6  # non-local means' filtering strength h, as a multiple of σ
RL_ITERATIONS = 30  # Richardson–Lucy's iterations
#: The settings :func:`tuning_scores` tries: h/σ of non-local means, iterations of Richardson–Lucy.
NLM_GRID, RL_GRID = (0.4, 0.5, 0.6, 0.7, 0.8, 1.0), (3, 5, 10, 20, 30, 50, 80)
PAD_RADII = 3  # the deconvolutions' mirrored margin, in kernel radii
OPERATORS = {
    "denoise": Identity,
    "inpaint": Mask,
    "deblur": Blur,
    "super-resolution": Downsample,
}  # what each baseline reads


def baseline(
    problem: Problem, name: str, *, weight: float | None = None, h: float | None = None, iterations: int | None = None
) -> RestorationResult:
    """Restore with a scikit-image method of ``BASELINES[problem.task]``; ``weight`` is TV's (required for it).

    ``h`` (a multiple of σ) and ``iterations`` replace ``NLM_H`` and ``RL_ITERATIONS`` for one call.

    * ``'tv-chambolle'``: ``denoise_tv_chambolle(y, weight)``, the same objective as :func:`tv_map`.
    * ``'nl-means'``: ``denoise_nl_means`` given the true σ, ``h = NLM_H σ``, 5×5 patches, distance 6.
    * ``'wavelet'``: ``denoise_wavelet`` (BayesShrink, soft thresholds) given the true σ.
    * ``'biharmonic'``: ``inpaint_biharmonic``, the smoothest fill of the missing pixels.
    * ``'richardson-lucy'``: ``richardson_lucy`` with ``RL_ITERATIONS`` iterations and the true kernel.
    * ``'wiener'``: ``unsupervised_wiener``, which also estimates the noise and the prior.
    * ``'bicubic'``: ``skimage.transform.resize`` with ``order=3``, the observation enlarged ``F``
      times (each observed value sits at its block's centre, as the block mean's does).

    The two deconvolutions get the blur's own boundary: scikit-image's Richardson–Lucy convolves
    with zeros beyond the image and its Wiener filter treats the image as periodic, while the
    camera mirrored the photograph at its edges (:class:`~gaedu.restoration.operators.Blur`). So
    ``y`` is mirrored by ``PAD_RADII`` kernel radii on every side first, and the result cropped.
    """
    from skimage import restoration as sk  # scikit-image is slow to import: only when a baseline runs

    check_problem(problem)
    if problem.task not in BASELINES:
        raise ValueError(f"scikit-image has baselines for the tasks {', '.join(BASELINES)}, not {problem.task!r}")
    name = check_choice("baseline", name, BASELINES[problem.task])
    if not isinstance(problem.operator, OPERATORS[problem.task]):
        raise ValueError(f"the {name} baseline needs the {problem.task} task's own operator "
                         f"({OPERATORS[problem.task].__name__}), got {problem.operator!r}")  # fmt: skip
    y = problem.observed.double().numpy()
    sigma = problem.noise_std
    start = time.perf_counter()
    if name == "tv-chambolle":
        if weight is None:
            raise ValueError("tv-chambolle needs a weight")
        out = sk.denoise_tv_chambolle(y, weight=check_positive("weight", weight))
    elif name == "nl-means":
        factor = NLM_H if h is None else check_positive("h", h)
        out = sk.denoise_nl_means(y, h=factor * sigma, sigma=sigma, patch_size=5, patch_distance=6, fast_mode=True)
    elif name == "wavelet":
        out = sk.denoise_wavelet(y, sigma=sigma, rescale_sigma=True)
    elif name == "biharmonic":
        out = sk.inpaint_biharmonic(y, ~problem.operator.mask.numpy())
    elif name == "bicubic":
        from skimage.transform import resize

        f = problem.operator.factor
        out = resize(y, (y.shape[0] * f, y.shape[1] * f), order=3, mode="symmetric", anti_aliasing=False)
    else:  # a deconvolution, on the observation mirrored as the blur mirrored the photograph
        pad = PAD_RADII * problem.operator.radius
        padded = np.pad(y, pad, mode="symmetric")
        if name == "richardson-lucy":
            n = RL_ITERATIONS if iterations is None else check_int("iterations", iterations)
            out = sk.richardson_lucy(padded.clip(0, 1), problem.operator.kernel.numpy(), num_iter=n, clip=False)
        else:
            out = sk.unsupervised_wiener(padded, problem.operator.kernel.numpy(), clip=False, rng=0)[0]
        out = out[pad:-pad, pad:-pad] if pad else out
    image = torch.from_numpy(np.ascontiguousarray(out)).clamp(0, 1).to(problem.observed.dtype)
    return RestorationResult(image=image, seconds=time.perf_counter() - start, info={"baseline": name})


def tuning_scores(cleans) -> dict[str, dict[float, float]]:
    """How the baselines' settings were chosen: mean PSNR over the clean photographs ``cleans``.

    ``'nl-means'`` maps each h/σ of ``NLM_GRID`` to the mean PSNR of non-local means on the
    photographs degraded for denoising; ``'richardson-lucy'`` maps each iteration count of
    ``RL_GRID`` to Richardson–Lucy's on them blurred. ``NLM_H`` and ``RL_ITERATIONS`` are the
    best of each on six training photographs (``python -m bench.restoration --tune``).
    """
    cleans = list(cleans)
    if not cleans:
        raise ValueError("tuning_scores needs at least one clean photograph")
    noisy, blurred = [degrade(c, "denoise") for c in cleans], [degrade(c, "deblur") for c in cleans]

    def mean_psnr(problems, name, **setting):
        return float(
            np.mean([image_psnr(baseline(p, name, **setting).image, c) for p, c in zip(problems, cleans, strict=True)])
        )

    return {
        "nl-means": {h: mean_psnr(noisy, "nl-means", h=h) for h in NLM_GRID},
        "richardson-lucy": {n: mean_psnr(blurred, "richardson-lucy", iterations=n) for n in RL_GRID},
    }
