"""gaedu.exercises: every checker accepts right answers and gives hints, never tracebacks, otherwise.

Each checker has right answers, wrong answers (with a piece of the hint to expect) and
answers of the wrong kind, grouped below by chapter as the package's modules are. The
right answers are computed independently of the checkers' oracles (by hand, with NumPy or
scikit-image, or as literals computed once independently), so that a wrong oracle fails.
Every hint is also checked not to give the right answer away (``ANSWER_LEAKS``).
"""

import functools
import importlib
import inspect
import json
import math
import pkgutil
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from skimage.metrics import peak_signal_noise_ratio

import gaedu.exercises as ex
from gaedu.ascent import ascend
from gaedu.data import load_digits
from gaedu.objectives import ConcaveQuadratic

CHAPTERS = [
    importlib.import_module(f"{ex.__name__}.{module.name}")
    for module in pkgutil.iter_modules(ex.__path__)
    if not module.name.startswith("_")
]
CHECKERS = sorted(
    name
    for chapter in CHAPTERS
    for name, fn in inspect.getmembers(chapter, inspect.isfunction)
    if name.startswith("check_") and fn.__module__ == chapter.__name__
)


# --- Preface ------------------------------------------------------------------------------


def _seeded_draw():
    return torch.rand(5, generator=torch.Generator().manual_seed(ex.SEEDED_DRAW_SEED))


# --- Image generation and reconstruction ----------------------------------------------------


def _mean_three(split="train"):
    X, y = load_digits(split)
    return X[y == 3].mean(dim=0)


def _right_kinds():
    kinds = {}
    for task in ex.TASKS:
        generated = any(word in task for word in ("nobody", "synthetic", "sample a new"))
        kinds[task] = "generation" if generated else "reconstruction"
    return kinds


def _flip_one(kinds):
    task = ex.TASKS[0]
    other = "generation" if kinds[task] == "reconstruction" else "reconstruction"
    return {**kinds, task: other}


# --- Gradient ascent ------------------------------------------------------------------------


def _good_step(objective, theta, lr):
    theta = theta.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(objective(theta), theta)
    return theta.detach() + lr * grad


def _max_stable_lr():
    """2 / λ_max for the exercise's quadratic, with λ_max from its matrix A = −H in closed form."""
    (a, b), (_, d) = -np.asarray(ex.stability_quadratic().hessian_matrix)  # A = [[a, b], [b, d]]
    largest = (a + d) / 2 + math.sqrt(((a - d) / 2) ** 2 + b**2)  # the larger root of λ² − (a + d)λ + ad − b²
    return 2 / largest


# --- Ascent in practice -------------------------------------------------------------------


def _projected_step(objective, theta, lr):
    return _good_step(objective, theta, lr).clamp(*ex.BOX)


def _minibatch_mse():
    """trace(Σ)/B from NumPy: the mean squared length of the per-example gradients minus that of their mean."""
    G, _ = ex.minibatch_problem()
    G = G.numpy()
    return (np.mean(np.sum(G**2, axis=1)) - np.sum(G.mean(axis=0) ** 2)) / ex.MINIBATCH_SIZE


def _newton(objective, theta):
    """θ − H⁻¹∇J, with the Hessian's rows from a second backward pass and the solve in NumPy."""
    point = theta.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(objective(point), point, create_graph=True)
    rows = [torch.autograd.grad(grad[i], point, retain_graph=True)[0] for i in range(len(grad))]
    hessian = torch.stack(rows).detach().numpy()
    return theta - torch.from_numpy(np.linalg.solve(hessian, grad.detach().numpy()))


# --- The GAN chapters ---------------------------------------------------------------------


def _good_d_step(discriminator, x_real, x_fake, lr):
    params = list(discriminator.parameters())
    logits = discriminator(torch.cat([x_real, x_fake]))
    real, fake = logits[: len(x_real)], logits[len(x_real) :]
    objective = F.logsigmoid(real).mean() + F.logsigmoid(-fake).mean()  # V by hand, log(1 − σ(a)) = log σ(−a)
    grads = torch.autograd.grad(objective, params)
    with torch.no_grad():
        for p, g in zip(params, grads, strict=True):
            p.add_(lr * g)  # ascent by hand; lr < 0 descends


# --- Reconstruction with a decoder --------------------------------------------------------


def _good_psnr(x, y):
    return 10 * torch.log10(1 / (x - y).pow(2).flatten(1).mean(1))  # PSNR by hand, peak value 1


def _skimage_psnr(x, y):
    return [peak_signal_noise_ratio(a.numpy(), b.numpy(), data_range=1.0) for a, b in zip(x, y, strict=True)]


def _good_similarity(x_hat, observed, mask):
    return -((x_hat - observed).pow(2) * mask).flatten(1).sum(1) / mask.flatten(1).sum(1)


def _numpy_similarity(x_hat, observed, mask):
    """The docstring's s(x̂) = −Σ_i m_i (x̂_i − y_i)² / Σ_i m_i, per image, in NumPy (float64)."""
    x_hat, observed, mask = (np.asarray(t, dtype=np.float64).reshape(len(t), -1) for t in (x_hat, observed, mask))
    return np.array([-np.sum(m * (a - b) ** 2) / np.sum(m) for a, b, m in zip(x_hat, observed, mask, strict=True)])


# --- Gradient ascent in image space ---------------------------------------------------------


def _good_pixel_step(classifier, images, targets, lr):
    x = images.clone().requires_grad_(True)
    scores = classifier(x)[torch.arange(len(targets)), targets]  # each image's target logit
    (grad,) = torch.autograd.grad(scores.sum(), x)
    return images + lr * grad


def _log_probability_step(classifier, images, targets, lr):
    x = images.clone().requires_grad_(True)
    log_p = torch.log_softmax(classifier(x), dim=1)[torch.arange(len(targets)), targets]
    (grad,) = torch.autograd.grad(log_p.sum(), x)
    return images + lr * grad


# --- Local optima ---------------------------------------------------------------------------

# Starts of the basin-share grid (21 × 21 = 441) that end at each local maximum of GaussianBumps(),
# highest first: computed once with a plain NumPy loop, independent of gaedu (the bumps' formula
# and default parameters written out, x ← x + 1.0 ∇J(x) for 800 steps from each np.linspace grid
# point over [-3, 3]², each maximum found by the same loop from its bump's centre until the step is
# below 1e-15, and a start counted within 0.05 of a maximum). The lowest hill gets 88 of 441.
BASIN_COUNTS = (189, 152, 88)
BASIN_SHARES = tuple(count / 441 for count in BASIN_COUNTS)


# --- The source's code examples, corrected --------------------------------------------------


def _numpy_value(logits_real, logits_fake):
    """V from logits in NumPy: log σ(a) = −log(1 + e^(−a)), log(1 − σ(a)) = −log(1 + e^a)."""
    real, fake = logits_real.double().numpy(), logits_fake.double().numpy()
    return np.mean(-np.logaddexp(0, -real)) + np.mean(-np.logaddexp(0, fake))


# --- Frequently asked questions -------------------------------------------------------------


def _drifting_loss():
    """A loss that is -J on its first call only, then J: the first step agrees, later ones do not."""
    calls = []

    def loss(model, x, y):
        calls.append(1)
        sign = -1.0 if len(calls) <= 2 else 1.0  # the checker calls it twice before the steps diverge
        return sign * ex.faq_log_likelihood(model, x, y)

    return loss


# --- Ascent at scale ------------------------------------------------------------------------


def _weighted_average(gradients, sizes):
    return sum(n * g for n, g in zip(sizes, gradients, strict=True)) / sum(sizes)  # each share counts by its samples


# checker -> (right answers, wrong answers with a hint to expect, wrong-kind answers with a hint)
def _good_guided_score(x, sigma):
    v = ex.GUIDE_STD**2 + sigma**2
    return ex.guide_prior_score(x, sigma) + (1 - ex.guide_class_probability(x, sigma)) * 2 * ex.GUIDE_MEAN / v


def _autograd_guided_score(x, sigma):  # the same by autograd on log p(class 1 | x)
    x = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(ex.guide_class_probability(x, sigma).log().sum(), x)
    return ex.guide_prior_score(x.detach(), sigma) + grad


def _good_ddim_step(x, score, sigma, below):
    x0 = x + sigma**2 * score
    return x0 + (below / sigma) * (x - x0)


def _good_adjoint(y):
    return y.repeat_interleave(2, 0).repeat_interleave(2, 1) / 4


def _good_tv_gradient(x, eps):
    x = x.clone().requires_grad_(True)
    d1 = torch.zeros_like(x)
    d2 = torch.zeros_like(x)
    d1[:-1] = x[1:] - x[:-1]
    d2[:, :-1] = x[:, 1:] - x[:, :-1]
    (d1**2 + d2**2 + eps**2).sqrt().sum().backward()
    return x.grad


def _interior_only(x, eps):
    g = _good_tv_gradient(x, eps)
    g[-1, :] = 0
    return g


def _good_sure(y, a, sigma):
    n = y.numel()
    return (1 - a) ** 2 * (y**2).sum() - n * sigma**2 + 2 * sigma**2 * a * n


# --- A convolutional GAN for 28×28 digits ----------------------------------------------------


def _good_transposed(n, k, s, p):
    return (n - 1) * s - 2 * p + k  # the formula of PyTorch's documentation, with dilation 1 and no output padding


def _good_power(w, steps):
    v = torch.ones(w.shape[1], dtype=w.dtype)
    for _ in range(steps):
        v = w.T @ (w @ v)
        v = v / v.norm()
    return (w @ v).norm()


def _good_nearest(samples, train):
    return np.sqrt(((samples.numpy()[:, None, :] - train.numpy()[None]) ** 2).sum(-1)).min(1)


# --- Generating by climbing the log-density --------------------------------------------------


def _good_langevin(x, score, eta, noise):
    return x + eta * score + (2 * eta) ** 0.5 * noise


def _good_tweedie(x, mu, v, sigma):
    return (v * x + sigma**2 * mu) / (v + sigma**2)  # the Gaussian posterior mean, worked by hand


# --- New checkers of Parts I and II: answers computed here, independently of the checkers ----------


@functools.cache
def _best_grid_lr():
    """The grid rate with the fewest steps, from ascend's step counts (ties: the smallest rate)."""
    q10 = ConcaveQuadratic(condition_number=10, angle=0.5)
    steps = {lr: ascend(q10, ex.EXERCISE_START, lr, 1000, tol=1e-6).steps_taken for lr in ex.BEST_LR_GRID}
    return min(steps, key=steps.get)


@functools.cache
def _momentum_counts():
    q20 = ConcaveQuadratic(condition_number=20, angle=0.5)
    return {mu: ascend(q20, ex.EXERCISE_START, 1 / 20, 2000, momentum=mu, tol=1e-6).steps_taken
            for mu in ex.MOMENTUM_VALUES}  # fmt: skip


def _overshoot_rates():
    g, A = np.array([2.0, -4.0]), np.array([[2.0, 1.0], [1.0, 4.0]])
    return 2 * (g @ g) / (g @ A @ g), (g @ g) / (g @ A @ g)


def _tent(x):
    return (torch.relu(x) - torch.relu(-x) - 2 * torch.relu(x - 1)).sum()


def _psnr_mae_pair():
    digit = load_digits("test")[0][0]
    spread = torch.where(digit < 0.5, digit + 0.1, digit - 0.1)  # every pixel off by 0.1
    single = digit.clone()
    single.view(-1)[(digit.flatten() == 0).nonzero()[0].item()] = 1.0  # one pixel fully wrong
    return spread, single


def _mask_left(x):
    y = x.reshape(-1, 8, 8).copy()
    y[:, :, :4] = np.nan
    return y.reshape(-1, 64)


def _mask_top(x):
    y = x.reshape(-1, 8, 8).copy()
    y[:, :4, :] = np.nan
    return y.reshape(-1, 64)


def _mask_in_place(x):
    y = x.reshape(-1, 8, 8)
    y[:, :, :4] = np.nan
    return y.reshape(-1, 64)


def _extragradient_factor(lr=ex.DIRAC_LR / 2):
    return math.sqrt(1 - lr**2 + lr**4)  # the bilinear game's factor at the Dirac-GAN's effective rate


# --- The new proof and implementation exercises: answers computed here, independently ----------------


def _lemma_steps(power=1):
    """Smallest t with (1 − μ/L)^(power·t) ≤ the reduction, by counting, μ and L from NumPy's eigenvalues."""
    mu, big_l = np.linalg.eigvalsh(-np.asarray(ex.stability_quadratic().hessian_matrix))
    t = 0
    while (1 - mu / big_l) ** (power * t) > ex.LEMMA_REDUCTION:
        t += 1
    return t


def _polyak(objective, x, max_value, *, sign=1.0, power=2):
    point = x.clone().requires_grad_(True)
    value = objective(point)
    (grad,) = torch.autograd.grad(value, point)
    gap = max_value - value.item()
    if gap <= 0:
        return x.clone()
    return x + sign * gap / grad.norm() ** power * grad


def _polyak_naive(objective, x, max_value):
    point = x.clone().requires_grad_(True)
    value = objective(point)
    (grad,) = torch.autograd.grad(value, point)
    return x + (max_value - value.item()) / grad.pow(2).sum() * grad  # 0/0 at the top


def _r1(discriminator, x_real, *, squash=False, graph=True, reduce="mean", square=True):
    x = x_real.clone().requires_grad_(True)
    out = discriminator(x)
    out = torch.sigmoid(out) if squash else out
    (grad,) = torch.autograd.grad(out.sum(), x, create_graph=graph)
    norms = grad.flatten(1).norm(dim=1)
    norms = norms**2 if square else norms
    return norms.mean() if reduce == "mean" else norms.sum()


def _r1_func(discriminator, x_real):
    grads = torch.func.vmap(torch.func.grad(lambda v: discriminator(v[None]).sum()))(x_real)
    return (grads**2).sum() / len(x_real)


def _jacobians(generator, z):
    return torch.stack([torch.autograd.functional.jacobian(lambda v: generator(v[None]).reshape(-1), row) for row in z])


def _jacobian_frobenius(generator, z):
    return _jacobians(generator, z).pow(2).sum((1, 2)).sqrt()


def _jacobian_func(generator, z):
    jac = torch.func.vmap(torch.func.jacrev(lambda v: generator(v[None]).reshape(-1)))(z)
    return torch.linalg.matrix_norm(jac).detach().numpy()


def _scipy_fd(a, b, *, ddof=1, cross=True):
    from scipy.linalg import sqrtm

    cov_a, cov_b = np.cov(a, rowvar=False, ddof=ddof), np.cov(b, rowvar=False, ddof=ddof)
    term = np.trace(np.real(sqrtm(cov_a @ cov_b))) if cross else 0.0
    return float(np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * term)


def _skimage_ssim(x, y):
    from skimage.metrics import structural_similarity

    return [structural_similarity(a[0].numpy(), b[0].numpy(), data_range=1.0) for a, b in zip(x, y, strict=True)]


def _whole_image_ssim(x, y):
    x, y = x.double().flatten(1), y.double().flatten(1)
    mx, my = x.mean(1), y.mean(1)
    vx, vy = x.var(1), y.var(1)
    cxy = ((x - mx[:, None]) * (y - my[:, None])).sum(1) / (x.shape[1] - 1)
    c1, c2 = 0.01**2, 0.03**2
    return (2 * mx * my + c1) * (2 * cxy + c2) / ((mx**2 + my**2 + c1) * (vx + vy + c2))


def _population_ssim(x, y):
    from skimage.metrics import structural_similarity

    return [structural_similarity(a[0].numpy(), b[0].numpy(), data_range=1.0, use_sample_covariance=False)
            for a, b in zip(x, y, strict=True)]  # fmt: skip


@functools.cache
def _spread():
    """(mean, sample sd, standard error) of the spread exercise's gaps, with the statistics module."""
    import statistics

    gaps = [ex.noisy_ascent(seed) for seed in ex.SPREAD_SEEDS]
    sd = statistics.stdev(gaps)
    return statistics.fmean(gaps), sd, sd / math.sqrt(len(gaps)), statistics.pstdev(gaps)


CASES = {
    "check_seed_spread": (
        [_spread()[:3], list(_spread()[:3]), torch.tensor(_spread()[:3])],
        [
            ((_spread()[0], _spread()[3], _spread()[3] / math.sqrt(10)), "divide by one less"),
            ((_spread()[0], _spread()[1], _spread()[1]), "shrinks as seeds are added"),
            ((_spread()[0], _spread()[1], _spread()[1] / 10), "more slowly"),
            ((ex.noisy_ascent(0), _spread()[1], _spread()[2]), "run every seed once"),
            ((_spread()[0], 2 * _spread()[1], _spread()[2]), "spread of the gaps"),
            ((_spread()[0], _spread()[1], 2 * _spread()[2]), "not the standard error"),
        ],
        [(None, "None"), ((1.0, 2.0), "three numbers"), ("abc", "could not read")],
    ),
    "check_lemma_steps": (
        [_lemma_steps(), float(_lemma_steps()), np.int64(_lemma_steps())],
        [
            (_lemma_steps(power=2), "exact eigenvalue analysis"),
            (math.ceil(8 * math.log(1 / ex.LEMMA_REDUCTION)), "exact logarithm"),
            (_lemma_steps() - 1, "round up"),
            (2.5, "whole number"),
            (1000, "Hessian's eigenvalues"),
        ],
        [(None, "None"), ([1, 2], "one number of steps"), ("many", "could not read")],
    ),
    "check_polyak_step": (
        [_polyak, lambda objective, x, max_value: _polyak(objective, x, max_value).numpy()],
        [
            (lambda objective, x, max_value: _polyak(objective, x, max_value, sign=-1.0), "downhill"),
            (lambda objective, x, max_value: _polyak(objective, x, max_value, power=1), "not by ‖g‖"),
            (_polyak_naive, "divide 0 by 0"),
            (lambda objective, x, max_value: _polyak(objective, x, max_value) + 0.01, "lands elsewhere"),
        ],
        [
            (None, "function was expected"),
            (lambda objective, x, max_value: None, "None"),
            (lambda objective, x, max_value: x[:1], "2 numbers"),
            (lambda objective, x: x, "raised TypeError"),
        ],
    ),
    "check_r1_penalty": (
        [_r1, _r1_func],
        [
            (lambda d, x: _r1(d, x, graph=False), "look at the options"),
            (lambda d, x: _r1(d, x, squash=True), "σ"),
            (lambda d, x: 0.5 * _r1(d, x), "γ/2"),
            (lambda d, x: _r1(d, x, reduce="sum"), "instead of adding"),
            (lambda d, x: _r1(d, x, square=False), "square the norm"),
            (lambda d, x: _r1(d, x) + sum(p.pow(2).sum() for p in d.parameters()), "differentiate"),
            (lambda d, x: _r1(d, x).detach() + 0 * sum(p.sum() for p in d.parameters()), "its gradient for the weights"),
        ],
        [(None, "function was expected"), (lambda d, x: None, "scalar tensor"), (lambda d: None, "raised TypeError")],
    ),
    "check_jacobian_norms": (
        [_jacobian_frobenius, _jacobian_func],
        [
            (lambda g, z: _jacobian_frobenius(g, z) ** 2, "squared norms"),
            (lambda g, z: torch.linalg.matrix_norm(_jacobians(g, z), ord=2), "spectral"),
            (lambda g, z: _jacobians(g, z).sum(1).norm(dim=1), "sum of the outputs"),
            (lambda g, z: _jacobian_frobenius(g, z) * 1.1, "every output"),
        ],
        [
            (None, "function was expected"),
            (lambda g, z: _jacobian_frobenius(g, z).sum(), "one norm per noise vector"),
            (lambda g: None, "raised TypeError"),
        ],
    ),
    "check_frechet_distance": (
        [_scipy_fd, lambda a, b: torch.tensor(_scipy_fd(a, b))],
        [
            (lambda a, b: float(np.sum((a.mean(0) - b.mean(0)) ** 2)), "mean term only"),
            (lambda a, b: _scipy_fd(a, b, ddof=0), "n − 1"),
            (lambda a, b: _scipy_fd(a, b, cross=False), "Fréchet distance"),
            (lambda a, b: 2 * _scipy_fd(a, b), "Fréchet distance"),
        ],
        [(None, "function was expected"), (lambda a, b: [1.0, 2.0], "one distance"), (lambda a: 0, "raised TypeError")],
    ),
    "check_ssim_by_hand": (
        [_skimage_ssim, lambda x, y: torch.tensor(_skimage_ssim(x, y))],
        [
            (_whole_image_ssim, "whole image"),
            (_population_ssim, "n − 1"),
            (lambda x, y: 0.5 * torch.ones(len(x)), "exactly 1"),
            (lambda x, y: [v**2 for v in _skimage_ssim(x, y)], "window means"),
        ],
        [(None, "function was expected"), (lambda x, y: 0.9, "one SSIM per image"), (lambda x: x, "raised TypeError")],
    ),
    # generating by climbing the log-density
    "check_langevin_step": (
        [_good_langevin, lambda x, s, eta, noise: (x + eta * s + math.sqrt(2 * eta) * noise).numpy()],
        [
            (lambda x, s, eta, noise: x - eta * s + math.sqrt(2 * eta) * noise, "goes down"),
            (lambda x, s, eta, noise: x + eta * s, "plain gradient ascent"),
            (lambda x, s, eta, noise: x + eta * s + math.sqrt(eta) * noise, "samples p²"),
            (lambda x, s, eta, noise: x + eta * s + eta * noise, "averages away"),
            (lambda x, s, eta, noise: x + 2 * eta * s + math.sqrt(2 * eta) * noise, "drift and the size"),
        ],
        [(lambda x, s, eta, noise: None, "None"), (lambda x, s, eta, noise: x[:1], "same shape")],
    ),
    "check_stationary_temperature": (
        [lambda eta, c: c**2 / (2 * eta), lambda eta, c: np.float32(c * c / eta / 2)],
        [
            (lambda eta, c: c**2 / eta, "factor 2 too hot"),
            (lambda eta, c: eta * c**2 / 2, "multiplied by the step"),
            (lambda eta, c: c / (2 * eta), "not a variance"),
            (lambda eta, c: c**2 * eta, "per step"),
        ],
        [(lambda eta, c: None, "None"), (lambda eta, c: [eta, c], "one temperature")],
    ),
    "check_tweedie_gaussian": (
        [_good_tweedie, lambda x, mu, v, sigma: torch.tensor(x - sigma**2 * (x - mu) / (v + sigma**2))],
        [
            (lambda x, mu, v, sigma: x, "strictly between"),
            (lambda x, mu, v, sigma: mu, "strictly between"),
            (lambda x, mu, v, sigma: (sigma**2 * x + v * mu) / (v + sigma**2), "other way round"),
            (lambda x, mu, v, sigma: x - sigma**2 * (x - mu) / v, "noisy"),
            (lambda x, mu, v, sigma: x + sigma**2, "add sigma²"),
        ],
        [(lambda x, mu, v, sigma: None, "None"), (lambda x, mu, v, sigma: 1 / 0, "raised")],
    ),
    "check_guided_score": (
        [_good_guided_score, _autograd_guided_score],
        [
            (ex.guide_prior_score, "prior's score alone"),
            (lambda x, sigma: -(x + ex.GUIDE_MEAN) / (ex.GUIDE_STD**2 + sigma**2), "class 0"),
            (lambda x, sigma: -(x - ex.GUIDE_MEAN) / ex.GUIDE_STD**2, "ignores the blur"),
            (lambda x, sigma: ex.guide_prior_score(x, sigma) + ex.guide_class_probability(x, sigma), "Bayes' rule"),
            (lambda x, sigma: torch.zeros(len(x)), "same shape"),
        ],
        [(lambda x, sigma: None, "None"), (lambda x, sigma: 1 / 0, "raised")],
    ),
    "check_ddim_step": (
        [_good_ddim_step, lambda x, score, sigma, below: (x + sigma * (sigma - below) * score).numpy()],
        [
            (lambda x, score, sigma, below: x + (sigma**2 - below**2) * score, "ancestral step"),
            (lambda x, score, sigma, below: x + sigma**2 * score, "jumped"),
            (lambda x, score, sigma, below: x + sigma**2 * score + (sigma / below) * (-(sigma**2) * score), "upside down"),
            (lambda x, score, sigma, below: x + sigma * score, "lower level's size"),
            (lambda x, score, sigma, below: x[:1], "same shape"),
        ],
        [(lambda x, score, sigma, below: None, "None"), (lambda x, score, sigma, below: 1 / 0, "raised")],
    ),
    "check_noise_ladder": (
        [np.geomspace(8.0, 0.02, 15), torch.logspace(1, -1.7, 20).tolist()],
        [
            (np.geomspace(1.0, 0.02, 15), "does not blur"),
            (np.geomspace(8.0, 1.0, 15), "pulls every chain onto"),
            ([8.0, 0.02], "too big"),
            (np.geomspace(0.02, 8.0, 15), "must decrease"),
            (np.geomspace(8.0, 0.02, 40), "budget"),
            ([8.0, -1.0], "positive"),
        ],
        [(None, "None"), ("ladder", "could not read")],
    ),
    # a convolutional GAN for 28×28 digits
    "check_transposed_size": (
        [_good_transposed, lambda n, k, s, p: torch.tensor(float(_good_transposed(n, k, s, p)))],
        [
            (lambda n, k, s, p: (n + 2 * p - k) // s + 1, "strided \\*convolution\\*"),
            (lambda n, k, s, p: n * s, "n × stride"),
            (lambda n, k, s, p: (n - 1) * s + k, "cut `padding`"),
        ],
        [(lambda n, k, s, p: None, "None"), (lambda n, k, s, p: [n, n], "whole number")],
    ),
    "check_conv_parameters": (
        [lambda ci, co, k: ci * co * k * k + co, lambda ci, co, k: np.int64(ci * co * k * k + co)],
        [
            (lambda ci, co, k: ci * co * k * k, "short"),
            (lambda ci, co, k: ci * co * k + co, "square"),
            (lambda ci, co, k: ci * co * k * k * 784, "grows with the image"),
            (lambda ci, co, k: ci * k * k + co, "one kernel per"),
        ],
        [(lambda ci, co, k: None, "None"), (lambda ci, co, k: "many", "could not read")],
    ),
    "check_nearest_distances": (
        [_good_nearest, lambda s, t: torch.cdist(s, t).min(1).values],
        [
            (lambda s, t: _good_nearest(s, t) ** 2, "squared"),
            (lambda s, t: torch.cdist(s, t).max(1).values, "farthest"),
            (lambda s, t: torch.cdist(s, t).mean(1), "mean distances"),
            (lambda s, t: torch.cdist(s, t).min(0).values, "one per training row|must hold"),
            (lambda s, t: _good_nearest(s, t) + 1, "by hand"),
        ],
        [(lambda s, t: None, "None"), (lambda s, t: 1 / 0, "raised")],
    ),
    "check_spectral_norm": (
        [
            _good_power,
            lambda w, steps: torch.linalg.matrix_norm(w, 2).item(),
            lambda w, steps: np.float64(_good_power(w, steps)),
        ],
        [
            (lambda w, steps: _good_power(w, steps) ** 2, "the square"),
            (lambda w, steps: w.norm(), "Frobenius"),
            (lambda w, steps: torch.linalg.svdvals(w)[-1], "smallest singular"),
            (lambda w, steps: _good_power(w, 2), "within 5 %|off by more"),
            (lambda w, steps: _good_power(w, steps) * 1.5, "off by more than 5 %"),
        ],
        [(lambda w, steps: None, "None"), (lambda w, steps: 1 / 0, "raised")],
    ),
    # preface
    "check_seeded_draw": (
        [_seeded_draw(), _seeded_draw().numpy(), _seeded_draw().tolist()],
        [(torch.rand(5, generator=torch.Generator().manual_seed(1)), "set_seed\\(2024\\)")],
        [(None, "None"), (torch.rand(4), "five numbers"), ("abc", "could not read"), (torch.rand, "function")],
    ),
    # image generation and reconstruction
    "check_mean_digit": (
        [_mean_three(), _mean_three().squeeze(), _mean_three().numpy()],
        [
            (_mean_three() * 16, "16 times"),
            (_mean_three("test"), "test split"),
            (load_digits("train")[0].mean(dim=0), "every digit"),
            (torch.zeros(8, 8), "label is 3"),
        ],
        [(None, "None"), (torch.zeros(64), "8×8"), (torch.full((8, 8), float("nan")), "NaN")],
    ),
    "check_left_half_mask": (
        [_mask_left, lambda x: np.where(np.arange(64) % 8 < 4, np.nan, x)],
        [(_mask_top, "top four rows"), (_mask_in_place, "changed its input"), (lambda x: x.copy(), "no pixel"),
         (lambda x: np.where(np.arange(64) % 8 < 3, np.nan, x), "not the left four"),
         (lambda x: np.where(np.arange(64) % 8 < 4, np.nan, 0 * x), "visible pixels")],
        [(None, "function"), (lambda x: None, "None"), (lambda x: x[:2], "values like the input")],
    ),
    "check_task_kinds": (
        [_right_kinds(), {task: kind.upper() for task, kind in _right_kinds().items()}],
        [(_flip_one(_right_kinds()), "5 of 6 are right")],
        [
            (None, "dict"),
            (["generation"] * 6, "dict"),
            ({}, "no label"),
            ({task: "maybe" for task in ex.TASKS}, "'maybe'"),
        ],
    ),
    # core concepts
    "check_negated_objective": (
        [lambda t: -ex.bowl_objective(t), lambda t: (t - 2) ** 2 - 1, lambda t: (t - 2) ** 2 + 40],
        [(ex.bowl_objective, "downhill"), (lambda t: (t - 1) ** 2, "slope")],
        [
            (None, "function was expected"),
            (lambda t: 1 / 0, "raised ZeroDivisionError"),
            (lambda t: None, "returned None"),
            (lambda t: t.item(), "torch tensor"),
            (lambda t: torch.stack([t, t]), "one number"),
            (lambda t: torch.tensor(1.0), "does not depend"),
            (lambda t: t / 0, "NaN or infinite"),
        ],
    ),
    "check_supergradient": (
        [0.0, -1, 1, 0.5, torch.tensor(-0.25), np.float32(0.9)],
        [(1.5, "right|left"), (-3, "right|left")],
        [(None, "None"), ([0.1, 0.2], "one number"), (float("inf"), "infinite")],
    ),
    "check_psnr_mae_pair": (
        [_psnr_mae_pair(), [x.numpy() for x in _psnr_mae_pair()]],
        [
            (_psnr_mae_pair()[::-1], "not higher than B's"),
            ((_psnr_mae_pair()[0], _psnr_mae_pair()[0] * 0.9), "not the higher MAE|not higher than"),
            ((_psnr_mae_pair()[0], load_digits("test")[0][0]), "infinite"),
        ],
        [(None, "pair"), ((torch.zeros(64),), "pair"), ((torch.zeros(10), torch.zeros(64)), "10 pixels"),
         ((_psnr_mae_pair()[0] + 1, _psnr_mae_pair()[1]), "outside \\[0, 1\\]")],
    ),
    # gradient ascent
    "check_ascent_step": (
        [_good_step, lambda objective, theta, lr: _good_step(objective, theta, lr).numpy()],
        [
            (lambda objective, theta, lr: theta, "did not move"),
            (lambda objective, theta, lr: 2 * theta - _good_step(objective, theta, lr), "downhill"),
            (lambda objective, theta, lr: _good_step(objective, theta, 2 * lr), "lands elsewhere"),
        ],
        [
            (None, "function was expected"),
            (lambda objective, theta, lr: None, "None"),
            (lambda objective, theta, lr: theta[:1], "2 numbers"),
            (lambda objective, theta: theta, "raised TypeError"),
        ],
    ),
    "check_max_stable_lr": (
        # 0.5 = 2 / λ_max with λ_max = 0.5 · 8 = 4, from the exercise's statement
        [0.5, torch.tensor(0.5), _max_stable_lr()],
        [(4.0, "flat direction"), (0.25, "without oscillating"), (0.6, "diverges"), (0.3, "a little above")],
        [(None, "None"), ([0.1, 0.2], "one learning rate"), (float("nan"), "NaN")],
    ),
    "check_best_constant_lr": (
        [_best_grid_lr(), torch.tensor(_best_grid_lr()), np.float32(_best_grid_lr())],
        [
            (2 / 11, "theory picks"),
            (ex.BEST_LR_GRID[0], "larger rate"),
            (ex.BEST_LR_GRID[-1], "smaller rate"),
            (0.3, "one of the rates of the grid"),
        ],
        [(None, "None"), ([0.1, 0.2], "one learning rate")],
    ),
    "check_momentum_steps": (
        [_momentum_counts(), {str(mu): float(n) for mu, n in _momentum_counts().items()}],
        [
            ({**_momentum_counts(), 0.7: _momentum_counts()[0.7] + 1}, "momentum 0.7"),
            ({mu: n for mu, n in _momentum_counts().items() if mu != 0.9}, "missing"),
        ],
        [(None, "dict"), ([1, 2, 3], "dict"), ({"a": 1}, "could not read")],
    ),
    "check_overshoot_rates": (
        [_overshoot_rates(), torch.tensor(_overshoot_rates()), list(_overshoot_rates())],
        [
            (_overshoot_rates()[::-1], "wrong order"),
            ((2 / (3 + math.sqrt(2)), _overshoot_rates()[1]), "every step at once"),  # 2/L, L = 3 + √2
            ((0.6, _overshoot_rates()[1]), "comes back to zero"),
            ((_overshoot_rates()[0], 0.3), "vertex"),
        ],
        [(None, "None"), ([0.1], "two learning rates")],
    ),
    # subgradient ascent
    "check_supergradient_at_kink": (
        [[0.0, -2.0], [1.0, -2.0], [-1, -2], np.array([0.3, -2.0])],
        [([0.0, 2.0], "coordinate 2"), ([1.5, -2.0], "coordinate 1"), ([0.0, 0.0], "coordinate 2")],
        [(None, "None"), ([1.0], "2 here"), ("g", "could not read")],
    ),
    "check_constant_step_band": (
        [[-0.05, 0.05], [0.05, -0.05], np.array([0.05, -0.05])],
        [([0.0, 0.1], "final bounce"), ([-0.1, 0.1], "final bounce")],
        [(None, "None"), ([0.05], "two points")],
    ),
    "check_schedule_powers": (
        [[0.5 < p <= 1 for p in ex.SCHEDULE_POWERS], np.array([0.5 < p <= 1 for p in ex.SCHEDULE_POWERS])],
        [
            ([0.5 <= p <= 1 for p in ex.SCHEDULE_POWERS], "p = 0.5 is misjudged: check the sum of their squares"),
            ([0.5 < p for p in ex.SCHEDULE_POWERS], "p = 1.5 is misjudged: check the sum of the steps"),
            ([0.5 < p < 1 for p in ex.SCHEDULE_POWERS], "p = 1 is misjudged: check both"),
        ],
        [(None, "True/False"), ([True], "True/False"), ([1] * len(ex.SCHEDULE_POWERS), "True/False"),
         ("yes", "True/False")],
    ),
    "check_stalling_tent": (
        [_tent, lambda x: (torch.relu(x) - torch.relu(-x)).sum() - 2 * torch.relu(x - 1).sum()],
        [
            (lambda x: torch.minimum(x, 2 - x).sum(), "slope 1"),
            (lambda x: (x - 2 * torch.relu(x - 1)).sum(), "slope 1"),
            (lambda x: x.sum(), "not min"),
        ],
        [(None, "function"), (lambda x: None, "None"), (lambda x: torch.tensor(0.0), "does not depend")],
    ),
    # ascent in practice
    "check_projected_step": (
        [_projected_step, lambda objective, theta, lr: _projected_step(objective, theta, lr).numpy()],
        [
            (_good_step, "plain ascent step|leaves the box"),
            (lambda objective, theta, lr: (2 * theta - _good_step(objective, theta, lr)).clamp(0, 1), "downhill"),
            (lambda objective, theta, lr: _projected_step(objective, theta, lr / 2), "not the nearest"),
            (lambda objective, theta, lr: _good_step(objective, theta, lr) + 5, "leaves the box"),
        ],
        [(None, "function was expected"), (lambda objective, theta, lr: theta[:1], "2 numbers")],
    ),
    "check_minibatch_mse": (
        [_minibatch_mse(), torch.tensor(_minibatch_mse())],
        [
            (_minibatch_mse() * ex.MINIBATCH_SIZE, "single example"),
            (math.sqrt(_minibatch_mse()), "length"),
            (_minibatch_mse() / ex.MINIBATCH_SIZE, "too small"),
            (1.0, "expand the square"),
        ],
        [(None, "None"), ([1.0, 2.0], "one number")],
    ),
    "check_newton_step": (
        [_newton, lambda objective, theta: torch.as_tensor(_newton(objective, theta))],
        [
            (lambda objective, theta: 2 * theta - torch.as_tensor(_newton(objective, theta)), "wrong sign"),
            (lambda objective, theta: _good_step(objective, theta, 1.0), "plain gradient step"),
            (lambda objective, theta: theta, "lands elsewhere"),
        ],
        [(None, "function was expected"), (lambda objective, theta: theta[:1], "2 numbers")],
    ),
    # the GAN chapters
    "check_simultaneous_radius": (
        [1.01**25, torch.tensor(1.01**25), np.sqrt(1.01) ** 50],
        [(1.0, "does not stay the same"), (1.01**50, "which quantity"), (2.0, "factor one step")],
        [(None, "None"), ([1.0, 2.0], "one distance")],
    ),
    "check_discriminator_step": (
        [_good_d_step],
        [
            (lambda d, x_real, x_fake, lr: None, "did not change"),
            (lambda d, x_real, x_fake, lr: _good_d_step(d, x_real, x_fake, -lr), "descends"),
            (lambda d, x_real, x_fake, lr: _good_d_step(d, x_real, x_fake, 2 * lr), "not one plain ascent step"),
        ],
        [(None, "function was expected"), (lambda d, x_real: None, "raised TypeError")],
    ),
    "check_extragradient_factor": (
        [_extragradient_factor(), torch.tensor(_extragradient_factor()), math.sqrt(1 - (ex.DIRAC_LR / 2) ** 2)],
        [
            (_extragradient_factor(ex.DIRAC_LR), "four times too fast"),
            (1.0, "below 1"),
            (0.9, "predicts a distance"),
            (-0.5, "positive"),
        ],
        [(None, "None"), ([0.9, 0.8], "one factor")],
    ),
    "check_missing_classes": (
        [[1, 4, 7], (7, 4, 1), np.array([1, 4, 7])],
        [([1, 4, 7, 9], "often enough"), ([4], "not the right set")],
        [(None, "None"), (3, "list of digits"), (["one"], "list of digits")],
    ),
    # reconstruction with a decoder
    "check_psnr_by_hand": (
        [_good_psnr, lambda x, y: _good_psnr(x, y).numpy(), lambda x, y: _good_psnr(x, y).tolist(), _skimage_psnr],
        [
            (lambda x, y: -_good_psnr(x, y), "wrong sign"),
            (lambda x, y: 2 * _good_psnr(x, y), "times the right ones"),
            (lambda x, y: _good_psnr(x, y) / np.log(10), "times the right ones"),
            (lambda x, y: 10 * torch.log10(1 / (x - y).pow(2).flatten(1).sum(1)), "same"),
            (lambda x, y: 10 * torch.log10(1 / (x - y).abs().flatten(1).mean(1)), "by hand"),
        ],
        [
            (None, "function was expected"),
            (lambda x, y: None, "None"),
            (lambda x, y: _good_psnr(x, y).mean(), "one PSNR per image"),
            (lambda x: x, "raised TypeError"),
        ],
    ),
    "check_masked_similarity": (
        [_good_similarity, _numpy_similarity, lambda a, b, m: _good_similarity(a, b, m).numpy()],
        [
            (lambda a, b, m: -_good_similarity(a, b, m), "higher must be better"),
            (lambda a, b, m: -(a - b).pow(2).flatten(1).mean(1), "missing pixels"),
            (lambda a, b, m: -((a - b).pow(2) * m).flatten(1).mean(1), "divide"),
            (lambda a, b, m: -((a - b).pow(2) * m).flatten(1).sum(1), "divide"),
            (lambda a, b, m: -((a - b).abs() * m).flatten(1).sum(1) / m.flatten(1).sum(1), "by hand"),
        ],
        [
            (None, "function was expected"),
            (lambda a, b, m: None, "None"),
            (lambda a, b, m: _good_similarity(a, b, m).sum(), "one number per image"),
            (lambda a, b: a, "raised TypeError"),
        ],
    ),
    # restoring photographs
    "check_downsample_adjoint": (
        [_good_adjoint, lambda y: _good_adjoint(y).numpy()],
        [(lambda y: _good_adjoint(y) * 4, "4 times"), (lambda y: -_good_adjoint(y), "sign"),
         (lambda y: _good_adjoint(y.T).T.flip(0), "transpose it")],
        [(None, "function was expected"), (lambda y: y, "must return shape"), (lambda y: 1 / 0, "ZeroDivisionError")],
    ),
    "check_tv_gradient": (
        [_good_tv_gradient, lambda x, eps: _good_tv_gradient(x, eps).numpy()],
        [(lambda x, eps: -_good_tv_gradient(x, eps), "sign"), (_interior_only, "last row"),
         (lambda x, eps: _good_tv_gradient(x, 2 * eps), "finite difference")],
        [(lambda x, eps: None, "None"), (lambda x, eps: x[:-1], "shape of x")],
    ),
    "check_shrinkage_sure": (
        [_good_sure, lambda y, a, s: float(_good_sure(y, a, s))],
        [(lambda y, a, s: _good_sure(y, a, s) - 2 * s**2 * a * y.numel(), "divergence term is missing"),
         (lambda y, a, s: _good_sure(y, a, s) + 1, "work out the divergence")],
        [(lambda y, a, s: None, "None"), (lambda y, a, s: y, "one number")],
    ),
    # gradient ascent in image space
    "check_pixel_ascent_step": (
        [_good_pixel_step, lambda c, x, t, lr: _good_pixel_step(c, x, t, lr).numpy()],
        [
            (lambda c, x, t, lr: x, "did not move"),
            (lambda c, x, t, lr: 2 * x - _good_pixel_step(c, x, t, lr), "downhill"),
            (lambda c, x, t, lr: _good_pixel_step(c, x, t, lr).clamp(0, 1), "do not clamp"),
            (lambda c, x, t, lr: _good_pixel_step(c, x, t, lr / len(t)), "N times too short"),
            (_log_probability_step, "log-probability"),
            (lambda c, x, t, lr: _good_pixel_step(c, x, (t + 1) % 10, lr), "land elsewhere"),
        ],
        [
            (None, "function was expected"),
            (lambda c, x, t, lr: None, "None"),
            (lambda c, x, t, lr: _good_pixel_step(c, x, t, lr)[:, 0], "shape"),
            (lambda c, x, t: x, "raised TypeError"),
        ],
    ),
    "check_regularization_weight": (
        [0.5, 1.0, torch.tensor(0.8), np.float64(1.4)],
        [(0.3, "more than real digits"), (0.0, "more than real digits"), (2.0, "logistic regression"), (10, "even the")],
        [(None, "None"), (-1.0, ">= 0"), ([0.5, 1.0], "one penalty weight"), (float("nan"), "NaN")],
    ),
    # the source's code examples, corrected
    "check_d_objective": (
        [
            lambda r, f: F.logsigmoid(r).mean() + F.logsigmoid(-f).mean(),
            lambda r, f: (-F.softplus(-r).mean() - F.softplus(f).mean()).item(),
            _numpy_value,
        ],
        [
            (lambda r, f: torch.log(torch.sigmoid(r)).mean() + torch.log(1 - torch.sigmoid(f)).mean(), "NaN or infinite"),
            (lambda r, f: torch.log(r).mean() + torch.log(1 - f).mean(), "NaN or infinite"),
            (lambda r, f: -(F.logsigmoid(r).mean() + F.logsigmoid(-f).mean()), "minus V"),
            (lambda r, f: F.logsigmoid(-r).mean() + F.logsigmoid(f).mean(), "swapped"),
            (lambda r, f: F.logsigmoid(r).sum() + F.logsigmoid(-f).sum(), "summing"),
            (lambda r, f: torch.cat([F.logsigmoid(r), F.logsigmoid(-f)]).mean(), "then add"),
            (lambda r, f: torch.log(torch.sigmoid(r).clamp(1e-7, 1 - 1e-7)).mean()
             + torch.log((1 - torch.sigmoid(f)).clamp(1e-7, 1)).mean(), "extreme ones"),
            (lambda r, f: r.mean() - f.mean(), "by hand"),
        ],
        [
            (None, "function was expected"),
            (lambda r, f: None, "None"),
            (lambda r, f: F.logsigmoid(r) + 0 * f.sum(), "one number"),
            (lambda r, f: "V", "could not read"),
            (lambda r: r, "raised TypeError"),
        ],
    ),
    "check_ae_loss": (
        [
            lambda model, x: (model(x) - x).pow(2).mean(),
            lambda model, x: F.mse_loss(model(x), x),
            lambda model, x: (model.decoder(model.encoder(x)) - x).pow(2).sum() / x.numel(),
        ],
        [
            (lambda model, x: (model(x) - model(x).detach()).pow(2).mean(), "zero"),
            (lambda model, x: (model(x) - x).abs().mean(), "L1"),
            (lambda model, x: (model(x) - x).pow(2).mean().sqrt(), "square root"),
            (lambda model, x: (model(x) - x).pow(2).sum(), "do not sum"),
            (lambda model, x: (model(x) - x).pow(2).flatten(1).sum(1).mean(), "do not sum"),
            (lambda model, x: (model(x) - x.mean()).pow(2).mean(), "compared with"),
            (lambda model, x: (model.decoder(model.encoder(x)) - model.encoder(x)).pow(2).mean(), "raised RuntimeError"),
        ],
        [
            (None, "function was expected"),
            (lambda model, x: None, "None"),
            (lambda model, x: (model(x) - x).pow(2).mean().item(), "not a float"),
            (lambda model, x: (model(x) - x).pow(2).mean().detach(), "no gradient"),
            (lambda model, x: (model(x) - x).pow(2).flatten(1).mean(1), "one number"),
        ],
    ),
    # local optima
    "check_multistart_starts": (
        [21, 21.0, np.int64(21), torch.tensor(21)],  # 1 − 0.8^20 ≈ 0.9885 < 0.99 ≤ 1 − 0.8^21 ≈ 0.9908
        [(20, "below the target"), (3, "chance that it succeeds"), (10, "only"), (30, "fewer")],
        [(None, "None"), (20.5, "whole number"), ([21, 22], "one number"), (0, "at least one")],
    ),
    "check_basin_share": (
        [BASIN_SHARES[2], torch.tensor(BASIN_SHARES[2]), np.float64(BASIN_SHARES[2]), 0.1995],
        [
            (BASIN_SHARES[0], "global maximum"),
            (BASIN_SHARES[1], "middle hill"),
            (BASIN_COUNTS[2], "number of starts"),
            (BASIN_SHARES[2] * 100, "percentage"),
            (0.5, "not the lowest"),
        ],
        [(None, "None"), ([0.1, 0.2], "one share"), (-0.1, "between 0 and 1"), (float("nan"), "NaN")],
    ),
    # ascent at scale
    "check_gradient_average": (
        [_weighted_average, lambda g, s: (_weighted_average(g, s)).numpy(), lambda g, s: _weighted_average(g, s).tolist()],
        [
            (lambda g, s: sum(g) / len(g), "plain average"),
            (lambda g, s: sum(g), "all-reduced sum"),
            (lambda g, s: g[0], "one process"),
            (lambda g, s: 3 * _weighted_average(g, s), "not the gradient of the whole batch"),
        ],
        [
            (None, "function was expected"),
            (lambda g, s: None, "None"),
            (lambda g, s: 1 / 0, "raised ZeroDivisionError"),
            (lambda g, s: torch.cat(g), "numbers"),
        ],
    ),
    "check_scaled_lr": (
        [lambda lr, base, per, n: lr * per * n / base, lambda lr, base, per, n: torch.tensor(lr * n * per / base)],
        [
            (lambda lr, base, per, n: lr * n, "each keeps the base batch"),
            (lambda lr, base, per, n: lr * (per * n / base) ** 0.5, "square-root rule"),
            (lambda lr, base, per, n: lr * base / (per * n), "not lowers"),
            (lambda lr, base, per, n: lr, "compare the batch"),
        ],
        [
            (None, "function was expected"),
            (lambda lr, base, per, n: None, "None"),
            (lambda lr, base, per, n: [lr, lr], "one learning rate"),
        ],
    ),
    # frequently asked questions
    "check_descent_loss": (
        [
            lambda model, x, y: -ex.faq_log_likelihood(model, x, y),
            lambda model, x, y: torch.nn.functional.cross_entropy(model(x), y),
            lambda model, x, y: 3.0 - ex.faq_log_likelihood(model, x, y),
        ],
        [
            (ex.faq_log_likelihood, "downhill"),
            (lambda model, x, y: torch.nn.functional.cross_entropy(model(x), y, reduction="sum"), "32 times"),
            (lambda model, x, y: -0.5 * ex.faq_log_likelihood(model, x, y), "0.5 times"),
            (lambda model, x, y: torch.nn.functional.nll_loss(model(x), y), "not parallel"),
            (_drifting_loss(), "later ones drift"),
        ],
        [
            (None, "function was expected"),
            (lambda model, x, y: 1 / 0, "raised ZeroDivisionError"),
            (lambda model, x, y: None, "returned None"),
            (lambda model, x, y: -ex.faq_log_likelihood(model, x, y).item(), "torch tensor"),
            (lambda model, x, y: torch.nn.functional.cross_entropy(model(x), y, reduction="none"), "one number"),
            (lambda model, x, y: torch.tensor(1.0), "does not depend"),
        ],
    ),
}


def _number(value):
    """A pattern for ``value`` as a hint would print it (``:g``, 2 to 4 decimals), not as part of a longer number."""
    texts = {f"{value:g}", *(f"{value:.{d}f}" for d in (2, 3, 4))}
    texts |= {text.replace("-", "−") for text in texts}
    return re.compile("|".join(rf"(?<![\d.]){re.escape(text)}(?!\.?\d)" for text in sorted(texts)))


def _task_and_kind(task, kind):
    return re.compile(rf"{re.escape(task)}.*{kind}|{kind}.*{re.escape(task)}", re.IGNORECASE)


# checker -> what no hint of a wrong answer (or of one of the wrong kind) may contain: the right
# answer's digits (patterns from _number) and its formula or code, in the forms a hint would write
ANSWER_LEAKS = {
    "check_seed_spread": [*(_number(v) for v in _spread()[:3]), "ddof=1", "ddof", "sqrt", "√n", "√", "n − 1", "n - 1"],
    "check_lemma_steps": [_number(_lemma_steps()), "1 − μ/L", "1 - μ/L", "(1 - mu", "log(1 - mu", "ln(1 − μ"],
    "check_polyak_step": ["gap / norm", "/ grad.pow(2)", "/ grad.norm() ** 2", "norm2"],
    "check_r1_penalty": ["create_graph", "requires_grad_(True)", ".pow(2).sum(1).mean()", "flatten(1)"],
    "check_jacobian_norms": ["jacrev", "jacobian(", "matrix_norm", "sqrt()", ".norm(dim="],
    "check_frechet_distance": ["sqrtm", "eigvalsh", "np.cov(", "rowvar"],
    "check_ssim_by_hand": ["avg_pool2d", "structural_similarity(", "uniform_filter", "n / (n - 1)", "49 / 48"],
    "check_langevin_step": ["sqrt(2", "√(2", "2 * eta", "2η", "2·η", "2 eta", "+ eta * score"],
    "check_stationary_temperature": [
        *(_number(c**2 / (2 * eta)) for eta, c in ex.TEMPERATURE_CASES), "c**2 / (2", "c² / (2", "c²/(2", "c^2/(2", "/ (2η)",
    ],
    "check_tweedie_gaussian": [
        *(_number(_good_tweedie(*case)) for case in ex.TWEEDIE_CASES), "v * x", "v·x", "v x +", "σ²μ", "σ² μ",
        "sigma**2 * mu", "(v + sigma", "(v + σ²)",
    ],
    "check_guided_score": ["(1 - p", "1 − p", "1 - p", "2 * GUIDE_MEAN", "-(x - 2)", "−(x − 2)", "(x - GUIDE_MEAN)"],
    "check_ddim_step": ["below / sigma", "(x - x0)", "sigma * (sigma - below)", "σ(σ − σ", "σ_below/σ", "σᵢ₊₁/σᵢ"],
    "check_noise_ladder": ["geomspace", "logspace", "at least 6", "at least the distance", _number(8.0), _number(0.02)],
    "check_transposed_size": [  # the outputs that are not also an input the hint names
        _number(out) for out in {_good_transposed(*case) for case in ex.TRANSPOSED_CASES} - {v for c in ex.TRANSPOSED_CASES for v in c}
    ] + ["(n - 1)", "(n − 1)"],
    "check_conv_parameters": ["c_in * c_out * k * k", "c_in·c_out·k²", "k * k", "k²"],
    "check_nearest_distances": ["cdist", "min(1)", "min(dim=1)", "argmin"],
    "check_spectral_norm": [
        "svdvals",
        "matrix_norm",
        "svd(",
        *(_number(float(torch.linalg.svdvals(w)[0])) for w in ex.conv_gan._spectral_cases()),
    ],
    "check_seeded_draw": [_number(v) for v in _seeded_draw().tolist()],
    "check_mean_digit": ["y == 3", "mean(dim=0)", "mean(0)"],
    "check_task_kinds": [_task_and_kind(task, kind) for task, kind in _right_kinds().items()],
    "check_negated_objective": ["−J", "-J", "minus J", "negat", "(θ − 2)", "(theta - 2)", "(t - 2)"],
    "check_supergradient": ["[-1, 1]", "[−1, 1]", "≤ 1", "<= 1", "|g|", "between -1 and 1", "between −1 and 1"],
    "check_psnr_mae_pair": ["one large error", "single pixel", "spread", "one pixel", "many small"],
    "check_best_constant_lr": [_number(_best_grid_lr())],
    "check_momentum_steps": [*(_number(n) for n in _momentum_counts().values())],
    "check_overshoot_rates": [*(_number(v) for v in _overshoot_rates()), "‖g‖²", "gᵀAg", "g @ A", "/ 56", "/56"],
    "check_schedule_powers": ["1/2 < p", "p > 1/2", "p ≤ 1", "p <= 1", "(1/2, 1]", "(0.5, 1]", "converges when", "diverges when"],
    "check_stalling_tent": ["relu(x) - relu(-x)", "relu(-x)", "2 * relu", "2 relu", "x - 2"],
    "check_left_half_mask": [":4]", "[:, :, :4]", "= np.nan", "reshape(-1, 8, 8)"],
    "check_extragradient_factor": [_number(_extragradient_factor()), "η/2", "eta / 2", "lr / 2", "1 − η²", "1 - η²", "(η/2)²"],
    "check_ascent_step": ["adds the gradient", "lr times", "+ lr", "+ η", "lr * grad", "θ + η"],
    "check_max_stable_lr": [_number(_max_stable_lr()), "2/λ", "2 / λ", "2/lambda", "1 − ηλ", "1 - ηλ", "ηλ"],
    "check_supergradient_at_kink": [_number(-2), "[-1, 1]", "[−1, 1]", "between -1 and 1", "between −1 and 1"],
    "check_constant_step_band": [_number(0.05), _number(-0.05)],
    "check_simultaneous_radius": [
        _number(1.01**25), _number(1.01), "square root", "√", "sqrt", "1 + η²", "1 + η^2", "(1 + η",
    ],
    "check_discriminator_step": ["maximize=True", "GradientAscent(", "backward", "backpropagate", ".step()"],
    "check_missing_classes": ["[1, 4, 7]", "1, 4, 7", "1, 4 and 7", "4, 7", "4 and 7"],
    "check_psnr_by_hand": [
        "log10", "10 log", "10·log", "10 * log", "/ MSE", "/ mse", "L²/", "L² /", "L^2",
        *(_number(float(v)) for x, y in ex.reconstruction._psnr_pairs() for v in _skimage_psnr(x, y)),
    ],
    "check_masked_similarity": ["sum(1) /", "/ mask", "mask.sum", "Σ m", "/ Σ", "divide by the number"],
    "check_downsample_adjoint": ["/ 4", "0.25", "quarter", "repeat_interleave", "kron", "interpolate", "each pixel of y"],
    "check_tv_gradient": ["d/n", "d / n", "/ norm", "−div", "-div", "divergence", "x[i+1]"],
    "check_shrinkage_sure": ["a·N", "a * N", "a*N", "2σ²", "2 * sigma", "(1 − a)", "(1 - a)", "‖y − x̂‖²"],
    "check_pixel_ascent_step": ["x + lr", "x + η", "lr times", "adds the gradient", "sum the scores", "scores.sum"],
    "check_regularization_weight": [
        re.compile(rf"l2 = {re.escape(f'{v:g}')}(?![\d.])") for v in (0.5, 0.8, 1.0, 1.4)
    ],
    "check_d_objective": ["logsigmoid", "log_sigmoid", "softplus", "logaddexp", "log1p"],
    "check_ae_loss": ["mse_loss", "model(x) - x", "(model(x), x)", "model(x) and x", "the image x", "target must be"],
    "check_projected_step": ["clamp", "clip", "min(", "max(", "nearest coordinate"],
    "check_minibatch_mse": [_number(_minibatch_mse()), "/ B", "/B", "trace", "tr Σ", "trΣ", "variance / B"],
    "check_newton_step": ["solve", "inverse of the Hessian", "H⁻¹", "H^-1", "θ − H", "theta - H"],
    "check_multistart_starts": [_number(21), "so close", "one more", "k + 1", "just below"],
    "check_basin_share": [_number(BASIN_SHARES[2]), _number(BASIN_COUNTS[2])],
    "check_gradient_average": ["weighted", "sizes[", "sum(n", "/ sum", "proportion to its size", "by its size"],
    "check_scaled_lr": ["per_process ×", "per_process *", "× processes", "* processes", "proportion", "/ base_batch"],
    "check_descent_loss": ["cross_entropy", "cross-entropy", "-faq_log_likelihood", "−J", "-J", "minus J", "negat"],
}


def test_every_checker_is_tested_and_exported():
    assert sorted(CASES) == CHECKERS
    assert sorted(ANSWER_LEAKS) == CHECKERS
    assert set(CHECKERS) <= set(ex.__all__)


def test_everything_public_is_exported():
    """Every public function and constant of each chapter's module can be imported from gaedu.exercises."""
    public = {
        name
        for chapter in CHAPTERS
        for name, obj in vars(chapter).items()
        if not name.startswith("_") and not inspect.ismodule(obj)
        and (name.isupper() or getattr(obj, "__module__", None) == chapter.__name__)
    }
    assert public == set(ex.__all__) - {"ExerciseFeedback"}
    assert all(getattr(ex, name) is not None for name in ex.__all__)


def _cases(index):
    return [(name, case) for name, cases in CASES.items() for case in cases[index]]


@pytest.mark.parametrize("name, answer", _cases(0))
def test_right_answer_prints_one_confirmation(name, answer, capsys):
    assert getattr(ex, name)(answer) is None
    out = capsys.readouterr().out
    assert out.startswith("✓") and out.count("\n") == 1


@pytest.mark.parametrize("name, case", _cases(1) + _cases(2))
def test_wrong_answer_raises_a_hint_that_keeps_the_answer(name, case):
    answer, hint = case
    with pytest.raises(AssertionError, match=hint) as info:
        getattr(ex, name)(answer)
    assert isinstance(info.value, ex.ExerciseFeedback)
    message = str(info.value)
    assert "\n" not in message
    # a chained exception would print a second traceback under the hint
    assert info.value.__context__ is None and info.value.__cause__ is None
    assert info.value._render_traceback_()[0].endswith(message)
    # the hint helps without giving the right answer away
    for leak in ANSWER_LEAKS[name]:
        found = leak.search(message) if isinstance(leak, re.Pattern) else leak.lower() in message.lower()
        assert not found, f"the hint gives the answer away ({leak!r}): {message}"


def test_the_leak_guards_catch_the_old_hints():
    """The guards are not vacuous: hints that gave answers away before the review are caught."""
    old_hints = {
        "check_multistart_starts": "so close: with 20 starts the chance is 0.9885, just below 0.99",
        "check_simultaneous_radius": "close: (1 + η²) multiplies the squared distance; the distance itself grows by its square root",
        "check_max_stable_lr": "ascent still converges a little above that rate: find where |1 − ηλ| reaches 1 for the largest λ",
        "check_negated_objective": "at theta = 0.0 your loss has slope 2; the slope of −J there is different",
        "check_basin_share": f"{BASIN_SHARES[2]:.4f} of the grid",
        "check_task_kinds": f"{ex.TASKS[0]!r} is reconstruction",
    }
    for name, hint in old_hints.items():
        assert any(
            leak.search(hint) if isinstance(leak, re.Pattern) else leak.lower() in hint.lower()
            for leak in ANSWER_LEAKS[name]
        ), name


def _exercise_counts():
    from tools import exercise_counts

    return exercise_counts


def test_instructors_page_states_the_counts_the_notebooks_have():
    counts = _exercise_counts()
    text = counts.PAGE.read_text(encoding="utf-8")
    assert counts.page(text) == text, "run: .venv/bin/python -m tools.exercise_counts --write"


def test_exercise_counting_sees_checks_in_solutions_and_ignores_imports_and_comments(tmp_path):
    counts = _exercise_counts()
    cells = ["```{exercise-start} A title\n:label: one\n```\nDo it.", "from gaedu.exercises import check_x",
             "```{exercise-end}\n```", "```{solution-start} one\n```", "check_x(answer)", "```{solution-end}\n```",
             "```{exercise-start}\n:label: two\n```", "# check_y(answer)", "```{exercise-end}\n```"]  # fmt: skip
    path = tmp_path / "chapter.ipynb"
    path.write_text(json.dumps({"cells": [{"source": c} for c in cells]}))
    labels, checked = counts.count(path)
    assert labels == ["one", "two"]
    assert checked == {"one"}
