r"""Restoration as ascent on a log-posterior, with a total-variation prior.

For an observation ``y = A x + σ ε`` the log-likelihood is
:math:`\log p(y \mid x) = -\|Ax - y\|^2 / (2σ^2) + \text{const}`, and a prior
:math:`p(x) \propto \exp(-λ\,\mathrm{TV}(x))` adds :math:`-λ\,\mathrm{TV}(x)`. Multiplying the
log-posterior by :math:`σ^2` changes nothing about its maximum, and gives the form
scikit-image's ``denoise_tv_chambolle`` uses, with ``weight`` :math:`w = λσ^2`:

.. math::

    J(x) = -\tfrac12 \|Ax - y\|^2 - w\,\mathrm{TV}(x),
    \qquad \mathrm{TV}(x) = \sum_{ij} \sqrt{(\partial_1 x)_{ij}^2 + (\partial_2 x)_{ij}^2},

with forward differences that are zero past the last row and column (scikit-image's
discretisation). TV is not differentiable where a difference vanishes, so

* :func:`tv_subgradient_ascent` climbs ``J`` with a subgradient and a diminishing step, and
* :func:`tv_map` climbs the smoothed :math:`J_ε`, in which each :math:`\sqrt{\cdot}` becomes
  :math:`\sqrt{\cdot + ε^2} - ε`. Its gradient is Lipschitz with constant
  :math:`L \le \|A^\top A\| + 8w/ε`, so a step of :math:`1/L` is safe, and Nesterov's
  momentum with adaptive restart (O'Donoghue and Candès 2015) makes it fast.

:func:`choose_weight` picks ``w`` without the clean image: Stein's unbiased risk estimate
for denoising, the discrepancy principle for deblurring.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm

from gaedu._validation import check_choice, check_int, check_nonnegative, check_positive
from gaedu.metrics import psnr
from gaedu.operators import Identity, Mask, Problem, check_image

RULES = ("sure", "discrepancy")


@dataclass
class RestorationResult:
    """What a restoration returns.

    Attributes:
        image: the restored image, shape ``(H, W)``, clipped to ``[0, 1]``.
        values: the objective after each recorded step (the method's own objective), or empty.
        psnrs: PSNR against ``clean`` after each recorded step, if a clean image was given (for plots only).
        steps: the step at which each entry of ``values``/``psnrs`` was recorded.
        seconds: wall-clock time of the restoration.
        info: anything else the method reports (the stopping step, the weight chosen, ...).
    """

    image: torch.Tensor
    values: list[float] = field(default_factory=list)
    psnrs: list[float] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)
    seconds: float = 0.0
    info: dict = field(default_factory=dict)


def image_psnr(x: torch.Tensor, clean: torch.Tensor) -> float:
    """PSNR in dB of one 2-D image, clipped to ``[0, 1]``, against ``clean``: :func:`gaedu.metrics.psnr` for one pair."""
    return psnr(x.double().clamp(0, 1)[None, None], clean.double()[None, None]).item()


def differences(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward differences along rows and columns, zero in the last row (column): shape of ``x`` each."""
    d1 = torch.zeros_like(x)
    d2 = torch.zeros_like(x)
    d1[..., :-1, :] = x[..., 1:, :] - x[..., :-1, :]
    d2[..., :, :-1] = x[..., :, 1:] - x[..., :, :-1]
    return d1, d2


def tv(x: torch.Tensor, eps: float = 0.0) -> torch.Tensor:
    """Isotropic total variation of ``x`` (..., H, W), or its smoothed version ``Σ √(|∇x|² + ε²) − ε``."""
    d1, d2 = differences(x)
    if eps == 0:
        return (d1.pow(2) + d2.pow(2)).sqrt().sum()
    return ((d1.pow(2) + d2.pow(2) + eps**2).sqrt() - eps).sum()


def tv_objective(problem: Problem, x: torch.Tensor, weight: float, eps: float = 0.0) -> float:
    """``J(x) = −½‖Ax − y‖² − w TV(x)`` (exact TV unless ``eps`` > 0), in float64."""
    x = x.double()
    return -(problem.data_fit(x) + weight * tv(x, eps)).item()


def tv_gradient(x: torch.Tensor, eps: float, exact: bool) -> torch.Tensor:
    """A (sub)gradient of TV at ``x``; with ``exact``, 0 is chosen where the difference vanishes."""
    d1, d2 = differences(x)
    norm = (d1.pow(2) + d2.pow(2) + eps**2).sqrt()
    if exact:
        norm = torch.where(norm > 0, norm, torch.ones_like(norm))
    p1, p2 = d1 / norm, d2 / norm  # the unit direction of each pixel's gradient
    # TV's gradient is −div p, with div the negative adjoint of the forward differences.
    g = torch.zeros_like(x)
    g[..., :-1, :] -= p1[..., :-1, :]
    g[..., 1:, :] += p1[..., :-1, :]
    g[..., :, :-1] -= p2[..., :, :-1]
    g[..., :, 1:] += p2[..., :, :-1]
    return g


def _start(problem: Problem) -> torch.Tensor:
    """Where every ascent starts: the observation, with missing pixels filled by the observed mean."""
    y = problem.observed.double()
    if isinstance(problem.operator, Mask):
        mask = problem.operator.mask
        return torch.where(mask, y, y[mask].mean())
    return y.clone()


def _ascent_direction(problem: Problem, x: torch.Tensor, weight: float, eps: float, exact: bool) -> torch.Tensor:
    """The ascent direction of ``J`` (or ``J_ε``): ``Aᵀ(y − Ax) − w ∇TV``; noise-free inpainting keeps observed pixels."""
    g = -weight * tv_gradient(x, eps, exact)
    if isinstance(problem.operator, Mask) and problem.noise_std == 0:
        return torch.where(problem.operator.mask, torch.zeros_like(g), g)  # projected: observed pixels stay put
    return g + problem.operator.adjoint(problem.observed.double() - problem.operator(x))


def _check_common(problem: Problem, weight: float, steps: int, clean: torch.Tensor | None, record_every: int):
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a gaedu.operators.Problem, got {type(problem).__name__}")
    check_positive("weight", weight)
    check_int("steps", steps)
    check_int("record_every", record_every)
    if clean is not None:
        check_image("clean", clean)
        if clean.shape != problem.observed.shape:
            raise ValueError(f"clean has shape {tuple(clean.shape)}, the observation {tuple(problem.observed.shape)}")


def tv_map(
    problem: Problem,
    weight: float,
    *,
    eps: float = 1e-3,
    steps: int = 3000,
    tol: float = 1e-7,
    clean: torch.Tensor | None = None,
    record_every: int = 10,
    restart: bool = True,
    callback: Callable[[int, torch.Tensor], None] | None = None,
) -> RestorationResult:
    r"""Maximise the smoothed TV log-posterior :math:`J_ε` by accelerated gradient ascent.

    Step :math:`1/L` with :math:`L = \|A^\top A\| + 8w/ε`; Nesterov momentum :math:`(k-1)/(k+2)`,
    restarted whenever a step lowers :math:`J_ε`. Stops after ``steps`` steps or when a step
    changes :math:`J_ε` by less than ``tol`` times :math:`|J_ε|`. For noise-free inpainting the
    observed pixels are kept fixed (projected ascent) and only TV is climbed.

    Args:
        problem: from :func:`gaedu.operators.degrade`.
        weight: :math:`w = λσ^2`.
        eps: the smoothing :math:`ε` (> 0); smaller is closer to exact TV and slower.
        clean: if given, PSNR against it is recorded for plots; the method never uses it.
        restart: restart the momentum when ``J_ε`` falls. Without it (and with ``tol=0``) the
            result is a smooth function of the observation, which SURE's divergence needs.

    Returns:
        a :class:`RestorationResult` whose ``values`` are :math:`J_ε` at the recorded steps.
    """
    _check_common(problem, weight, steps, clean, record_every)
    eps = check_positive("eps", eps)
    check_nonnegative("tol", tol)
    start = time.perf_counter()
    projected = isinstance(problem.operator, Mask) and problem.noise_std == 0
    lipschitz = (0.0 if projected else problem.operator.normal_bound()) + 8 * weight / eps
    step = 1.0 / lipschitz

    def objective(x):  # with observed pixels held fixed the data term of noise-free inpainting is 0
        return -(weight * tv(x, eps) + problem.data_fit(x)).item()

    x = _start(problem)
    previous, k = x.clone(), 1
    value = objective(x)
    result = RestorationResult(image=x)
    for t in range(1, steps + 1):
        momentum = (k - 1) / (k + 2)
        z = x + momentum * (x - previous)
        previous = x
        x = z + step * _ascent_direction(problem, z, weight, eps, exact=False)
        new_value = objective(x)
        k += 1
        if restart and new_value < value:  # adaptive restart: drop the momentum, take a plain step from x
            k = 1
            x = previous + step * _ascent_direction(problem, previous, weight, eps, exact=False)
            new_value = objective(x)
        converged = abs(new_value - value) <= tol * abs(new_value)
        value = new_value
        if t % record_every == 0 or t == steps or converged:
            result.values.append(value)
            result.steps.append(t)
            if clean is not None:
                result.psnrs.append(image_psnr(x, clean))
        if callback is not None:
            callback(t, x)
        if converged:
            break
    result.image = x.clamp(0, 1).to(problem.observed.dtype)
    result.seconds = time.perf_counter() - start
    result.info = {"steps": t, "weight": weight, "eps": eps, "step_size": step}
    return result


def tv_subgradient_ascent(
    problem: Problem,
    weight: float,
    *,
    steps: int = 1000,
    step0: float = 0.1,
    clean: torch.Tensor | None = None,
    record_every: int = 10,
) -> RestorationResult:
    r"""Climb the exact TV objective ``J`` with subgradients and the step :math:`η_t = η_0/\sqrt{t}`.

    Where a pixel's difference vanishes the subgradient 0 is used. Subgradient ascent does not
    increase ``J`` at every step, so the best iterate so far is returned, as the subgradient
    chapter does; ``values`` holds the best ``J`` up to each recorded step.
    """
    _check_common(problem, weight, steps, clean, record_every)
    step0 = check_positive("step0", step0)
    start = time.perf_counter()
    x = _start(problem)
    best, best_value = x.clone(), tv_objective(problem, x, weight)
    result = RestorationResult(image=x)
    for t in range(1, steps + 1):
        x = x + step0 / math.sqrt(t) * _ascent_direction(problem, x, weight, 0.0, exact=True)
        value = tv_objective(problem, x, weight)
        if value > best_value:
            best, best_value = x.clone(), value
        if t % record_every == 0 or t == steps:
            result.values.append(best_value)
            result.steps.append(t)
            if clean is not None:
                result.psnrs.append(image_psnr(best, clean))
    result.image = best.clamp(0, 1).to(problem.observed.dtype)
    result.seconds = time.perf_counter() - start
    result.info = {"steps": steps, "weight": weight}
    return result


SURE_SEED = 1_000_003  # the probe's seed: it must not be the seed that drew the noise


def sure(problem: Problem, restore: Callable[[torch.Tensor], torch.Tensor], *, seed: int = SURE_SEED, delta: float = 1e-3) -> float:
    r"""Stein's unbiased estimate of ``‖x̂ − x‖²`` for a denoiser ``x̂ = restore(y)``, without ``x``.

    :math:`\mathrm{SURE} = \|y - \hat x\|^2 - Nσ^2 + 2σ^2 \operatorname{div}\hat x(y)`, the divergence
    estimated by Monte Carlo (Ramani, Blu and Unser 2008):
    :math:`\operatorname{div} \approx b^\top(\hat x(y + δb) - \hat x(y))/δ`, ``b`` standard Gaussian.
    Only for denoising (``A = I``). The probe ``b`` must be independent of the noise: drawn
    with the noise's own seed it *is* the noise, and the estimate is badly biased.
    """
    if not isinstance(problem.operator, Identity):
        raise ValueError("SURE here is for denoising problems (identity operator) only")
    y = problem.observed.double()
    b = torch.randn(y.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    x_hat = restore(y).double()
    x_pert = restore(y + delta * b).double()
    divergence = (b * (x_pert - x_hat)).sum().item() / delta
    sigma2 = problem.noise_std**2
    return (y - x_hat).pow(2).sum().item() - y.numel() * sigma2 + 2 * sigma2 * divergence


def choose_weight(
    problem: Problem,
    restore: Callable[[torch.Tensor, float], torch.Tensor],
    weights,
    *,
    rule: str | None = None,
) -> tuple[float, np.ndarray]:
    """Choose a weight on the grid ``weights`` without the clean image; return it and each weight's score.

    ``restore(y, w)`` restores an observation with weight ``w``.

    * ``'sure'`` (the default for denoising): the weight with the smallest SURE, an unbiased
      estimate of the squared error.
    * ``'discrepancy'`` (the default otherwise; Morozov): the largest weight whose residual
      ``‖A x̂ − y‖²`` stays within the noise's expected ``N σ²`` (over the observed pixels).

    The scores are SURE per pixel, or the residual divided by ``N σ²``.
    """
    rule = check_choice("rule", rule or ("sure" if isinstance(problem.operator, Identity) else "discrepancy"), RULES)
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 1 or weights.size == 0 or not np.all(np.isfinite(weights)) or np.any(weights <= 0):
        raise ValueError("weights must be a non-empty 1-D grid of positive numbers")
    if problem.noise_std == 0:
        raise ValueError("choosing a weight needs a known noise level noise_std > 0")
    y = problem.observed.double()
    n = int(problem.mask.sum())
    scores = []
    for w in weights:
        if rule == "sure":
            scores.append(sure(problem, lambda obs, w=w: restore(obs, float(w))) / y.numel())
        else:
            x_hat = restore(problem.observed, float(w)).double()
            residual = (problem.operator(x_hat) - y).pow(2).sum().item()
            scores.append(residual / (n * problem.noise_std**2))
    scores = np.asarray(scores)
    if rule == "sure":
        return float(weights[int(np.argmin(scores))]), scores
    within = np.flatnonzero(scores <= 1.0)
    return float(weights[within.max() if within.size else 0]), scores


def _conjugate_gradient(apply, rhs: torch.Tensor, x: torch.Tensor, steps: int, tol: float = 1e-6) -> torch.Tensor:
    """Solve ``apply(x) = rhs`` for a symmetric positive definite ``apply`` by conjugate gradients from ``x``."""
    r = rhs - apply(x)
    p, rs = r.clone(), (r * r).sum()
    for _ in range(steps):
        if rs.sqrt() <= tol:
            break
        ap = apply(p)
        alpha = rs / (p * ap).sum()
        x, r = x + alpha * p, r - alpha * ap
        rs_new = (r * r).sum()
        p, rs = r + rs_new / rs * p, rs_new
    return x


# The learned prior's schedules, chosen on training photographs (bench/restoration.py --tune).
PRIOR_SCHEDULES = {
    "denoise": {"iterations": 1},
    "inpaint": {"iterations": 20, "sigma_max": 0.1, "sigma_min": 0.01},
    "deblur": {"iterations": 8, "sigma_max": 0.2, "sigma_min": 0.01, "coupling": 0.23},
}


def learned_prior(
    problem: Problem,
    model,
    *,
    iterations: int | None = None,
    sigma_max: float | None = None,
    sigma_min: float | None = None,
    coupling: float | None = None,
    cg_steps: int = 30,
    clean: torch.Tensor | None = None,
    progress: bool = False,
) -> RestorationResult:
    r"""Restore by ascent on :math:`\log p(y \mid x) + \log p_σ(x)` with a learned denoiser as the prior.

    * Denoising: one Tweedie step, :math:`\hat x = y + σ^2 \nabla \log p_σ(y) = D(y, σ)`, the
      posterior mean under the learned prior (averaged over the 8 rotations and reflections).
    * Inpainting and deblurring: half-quadratic splitting with a falling noise level
      :math:`σ_1 > \dots > σ_K` (geometric from ``sigma_max`` to ``sigma_min``; DPIR, Zhang et al.
      2021). Each iteration climbs the data term exactly,
      :math:`x_k = \arg\max_x -\|Ax - y\|^2 - α_k\|x - z_{k-1}\|^2` with
      :math:`α_k = \text{coupling}\cdot σ_n^2 / σ_k^2` (conjugate gradients; for noise-free
      inpainting the observed pixels are copied in), then takes the prior's Tweedie step
      :math:`z_k = D(x_k, σ_k)`, on the image turned by the ``k``-th rotation or reflection (see
      :func:`gaedu.denoiser.denoise`). Inpainting starts from the TV inpainting, deblurring from ``y``.

    Unspecified settings come from ``PRIOR_SCHEDULES``. ``model`` is a
    :class:`gaedu.denoiser.Denoiser`; ``clean``, if given, only records PSNR per iteration;
    ``progress`` shows a progress bar over the denoiser's passes.
    """
    from gaedu.denoiser import denoise

    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a gaedu.operators.Problem, got {type(problem).__name__}")
    settings = dict(PRIOR_SCHEDULES[problem.task])
    for key, value in (("iterations", iterations), ("sigma_max", sigma_max), ("sigma_min", sigma_min), ("coupling", coupling)):
        if value is not None:
            settings[key] = value
    k_total = check_int("iterations", settings["iterations"])
    cg_steps = check_int("cg_steps", cg_steps)
    start = time.perf_counter()
    result = RestorationResult(image=problem.observed)
    y = problem.observed.double()
    sigma_n = problem.noise_std
    bar = tqdm(total=8 if problem.task == "denoise" else k_total, desc="learned prior", unit="pass",
               disable=not progress, leave=False)  # fmt: skip
    if problem.task == "denoise":
        x = denoise(model, y, sigma_n, transform="all", bar=bar)
        if clean is not None:
            result.psnrs.append(image_psnr(x, clean))
            result.steps.append(1)
    else:
        s_max, s_min = check_positive("sigma_max", settings["sigma_max"]), check_positive("sigma_min", settings["sigma_min"])
        s_min = max(s_min, sigma_n)
        sigmas = np.geomspace(s_max, min(s_min, s_max), k_total)
        operator = problem.operator
        if isinstance(operator, Mask):
            z = tv_map(problem, 1.0, eps=0.03, steps=2000, tol=1e-8).image.double() if sigma_n == 0 else y.clone()
        else:
            z = y.clone()
        rhs_data = operator.adjoint(y)
        for k, s in enumerate(sigmas, 1):
            if isinstance(operator, Mask) and sigma_n == 0:
                x = torch.where(operator.mask, y, z)
            else:
                alpha = check_positive("coupling", settings["coupling"]) * sigma_n**2 / s**2
                x = _conjugate_gradient(lambda v, a=alpha: operator.adjoint(operator(v)) + a * v, rhs_data + alpha * z, z, cg_steps)
            z = denoise(model, x, float(s), transform=k - 1)
            bar.update(1)
            if clean is not None:
                result.psnrs.append(image_psnr(torch.where(operator.mask, y, z) if isinstance(operator, Mask) and sigma_n == 0 else x, clean))
                result.steps.append(k)
        if isinstance(operator, Mask) and sigma_n == 0:
            x = torch.where(operator.mask, y, z)
    bar.close()
    result.image = x.clamp(0, 1).to(problem.observed.dtype)
    result.seconds = time.perf_counter() - start
    result.info = settings
    return result


# ----------------------------------------------------------------------------------------------
# The library a practitioner would reach for: scikit-image, with settings chosen on training
# photographs (bench/restoration.py --tune), never on the photographs the book restores.
BASELINES = {
    "denoise": ("tv-chambolle", "nl-means", "wavelet"),
    "inpaint": ("biharmonic",),
    "deblur": ("richardson-lucy", "wiener"),
}
NLM_H = 0.6  # non-local means' filtering strength h, as a multiple of σ
RL_ITERATIONS = 10  # Richardson–Lucy's iterations


def baseline(problem: Problem, name: str, *, weight: float | None = None) -> RestorationResult:
    """Restore with a scikit-image method of ``BASELINES[problem.task]``; ``weight`` is TV's (required for it).

    * ``'tv-chambolle'``: ``denoise_tv_chambolle(y, weight)``, the same objective as :func:`tv_map`.
    * ``'nl-means'``: ``denoise_nl_means`` given the true σ, ``h = NLM_H σ``, 5×5 patches, distance 6.
    * ``'wavelet'``: ``denoise_wavelet`` (BayesShrink, soft thresholds) given the true σ.
    * ``'biharmonic'``: ``inpaint_biharmonic``, the smoothest fill of the missing pixels.
    * ``'richardson-lucy'``: ``richardson_lucy`` with ``RL_ITERATIONS`` iterations and the true kernel.
    * ``'wiener'``: ``unsupervised_wiener``, which also estimates the noise and the prior.
    """
    from skimage import restoration as sk

    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a gaedu.operators.Problem, got {type(problem).__name__}")
    name = check_choice("baseline", name, BASELINES[problem.task])
    y = problem.observed.double().numpy()
    sigma = problem.noise_std
    start = time.perf_counter()
    if name == "tv-chambolle":
        if weight is None:
            raise ValueError("tv-chambolle needs a weight")
        out = sk.denoise_tv_chambolle(y, weight=check_positive("weight", weight))
    elif name == "nl-means":
        out = sk.denoise_nl_means(y, h=NLM_H * sigma, sigma=sigma, patch_size=5, patch_distance=6, fast_mode=True)
    elif name == "wavelet":
        out = sk.denoise_wavelet(y, sigma=sigma, rescale_sigma=True)
    elif name == "biharmonic":
        out = sk.inpaint_biharmonic(y, ~problem.operator.mask.numpy())
    elif name == "richardson-lucy":
        out = sk.richardson_lucy(y.clip(0, 1), problem.operator.kernel.numpy(), num_iter=RL_ITERATIONS, clip=False)
    else:
        out = sk.unsupervised_wiener(y, problem.operator.kernel.numpy(), clip=False, rng=0)[0]
    image = torch.from_numpy(np.ascontiguousarray(out)).clamp(0, 1).to(problem.observed.dtype)
    return RestorationResult(image=image, seconds=time.perf_counter() - start, info={"baseline": name})


METHODS = ("prior", "tv", "dip")
TV_WEIGHTS = {"denoise": np.geomspace(0.02, 0.3, 12), "deblur": np.geomspace(3e-4, 0.03, 9)}


def tv_restore(problem: Problem, *, clean: torch.Tensor | None = None) -> RestorationResult:
    """TV-MAP with the weight chosen without the clean image (SURE, the discrepancy principle, or 1 for noise-free inpainting).

    ``info['scores']`` holds each grid weight's score (``None`` for noise-free inpainting).
    """
    start = time.perf_counter()
    if problem.task == "inpaint" and problem.noise_std == 0:
        weight, eps, scores = 1.0, 0.03, None  # projected ascent on −TV: the weight only scales it
    else:
        eps = 1e-3

        def quick(y, w):  # a fixed number of steps: a smooth map of y, as SURE's divergence needs
            return tv_map(Problem(problem.task, y, problem.operator, problem.noise_std), w, eps=eps, steps=300, tol=0, restart=False).image

        weight, scores = choose_weight(problem, quick, TV_WEIGHTS.get(problem.task, TV_WEIGHTS["denoise"]))
    result = tv_map(problem, weight, eps=eps, clean=clean)
    result.seconds = time.perf_counter() - start
    result.info["scores"] = scores
    return result


def restore(problem: Problem, method: str = "prior", *, seed: int = 0, model=None, progress: bool = False) -> RestorationResult:
    """Restore ``problem`` with one of ``METHODS``, every setting chosen without the clean image.

    * ``'prior'`` (the default): :func:`learned_prior` with the book's cached denoiser
      (:func:`gaedu.denoiser.load_denoiser`, trained on first use) unless ``model`` is given.
    * ``'tv'``: :func:`tv_restore`.
    * ``'dip'``: :func:`gaedu.dip.deep_image_prior` with the discrepancy stop, seeded by ``seed``.
    """
    method = check_choice("method", method, METHODS)
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a gaedu.operators.Problem, got {type(problem).__name__}")
    start = time.perf_counter()
    if method == "prior":
        if model is None:
            from gaedu.denoiser import load_denoiser

            model = load_denoiser(progress=progress)
        result = learned_prior(problem, model, progress=progress)
    elif method == "tv":
        result = tv_restore(problem)
    else:
        from gaedu.dip import deep_image_prior

        result = deep_image_prior(problem, seed=seed, progress=progress)
    result.seconds = time.perf_counter() - start
    return result
