"""Auto-checkers for the book's exercises: one ``check_<name>(answer)`` each.

A checker answers in one of three ways:

* right answer: prints one short line starting with ``✓`` and returns ``None``;
* wrong answer: raises :class:`ExerciseFeedback` (an ``AssertionError``) whose
  message is a hint that helps without giving the solution away;
* answer of the wrong kind (``None``, a wrong shape, a function that raises):
  the same, with a hint about the kind of answer expected.

In Jupyter the feedback shows as one line, not as a traceback. Each checker
computes the expected answer with ``gaedu`` itself, so the book and the
package cannot drift apart.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch


class ExerciseFeedback(AssertionError):
    """A wrong answer, with a hint as its message."""

    def _render_traceback_(self) -> list[str]:
        # IPython calls this instead of printing a traceback: the hint is all a
        # student needs to see, and the checker's internals would only distract.
        # ("Word: message" is also the form that traceback highlighters expect.)
        return [f"\x1b[1;31mHint\x1b[0m: {self}"]


def _fail(hint: str) -> None:
    raise ExerciseFeedback(hint)


def _ok(message: str) -> None:
    print(f"✓ {message}")


def _to_array(answer: Any, what: str) -> np.ndarray:
    """Convert a number, list, NumPy array or tensor to a float64 array, or fail with a hint."""
    if answer is None:
        _fail(f"the answer is None; {what} was expected (did you forget to assign or return it?)")
    if callable(answer) and not isinstance(answer, (np.ndarray, torch.Tensor)):
        _fail(f"the answer is a function; {what} was expected (did you forget to call it?)")
    array = None
    try:
        if isinstance(answer, torch.Tensor):
            array = answer.detach().cpu().double().numpy()
        else:
            array = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        pass
    if array is None:
        _fail(f"could not read a {type(answer).__name__} as numbers; {what} was expected")
    if not np.all(np.isfinite(array)):
        _fail("the answer contains NaN or infinite values")
    return array


def _to_number(answer: Any, what: str) -> float:
    array = _to_array(answer, what)
    if array.size != 1:
        _fail(f"{what} was expected, got {array.size} values of shape {tuple(array.shape)}")
    return float(array.reshape(()))


def _call(fn: Any, *args: Any) -> Any:
    """Call a student's function; turn any exception into a hint."""
    if not callable(fn):
        _fail(f"a function was expected, got {type(fn).__name__}")
    try:
        return fn(*args)
    except ExerciseFeedback:
        raise
    except Exception as err:  # any error in student code becomes a hint, not a traceback
        hint = f"your function raised {type(err).__name__}: {err}"
    _fail(hint)  # raised outside the handler, so no chained traceback follows the hint


# --- Preface ----------------------------------------------------------------

SEEDED_DRAW_SEED = 2024


def check_seeded_draw(answer: Any) -> None:
    """Check five numbers drawn by ``torch.rand(5)`` right after ``set_seed(2024)``."""
    values = _to_array(answer, "five numbers from torch.rand(5)").reshape(-1)
    if values.size != 5:
        _fail(f"five numbers were expected, got {values.size}")
    expected = torch.rand(5, generator=torch.Generator().manual_seed(SEEDED_DRAW_SEED))
    if not np.allclose(values, expected.double().numpy(), atol=1e-7):
        _fail(
            "these are not the numbers that follow set_seed(2024): seed right before the draw, "
            "with nothing else drawn in between"
        )
    _ok("the same five numbers on every run: your notebook is reproducible")


# --- Image generation and reconstruction -------------------------------------


def check_mean_digit(answer: Any) -> None:
    """Check the average image of the digit 3 over the ``'train'`` split, shape ``(8, 8)``."""
    from gaedu.data import load_digits

    image = _to_array(answer, "an 8×8 image").squeeze()
    if image.shape != (8, 8):
        _fail(f"an 8×8 image was expected, got shape {tuple(np.shape(answer))}")
    X, y = load_digits("train")
    expected = X[y == 3].mean(dim=0).squeeze().double().numpy()
    if np.allclose(image, expected, atol=1e-5):
        _ok("that is the average training 3")
        return
    if np.allclose(image / 16.0, expected, atol=1e-5):
        _fail("your pixels are 16 times too large: load_digits already scales them into [0, 1]")
    X_test, y_test = load_digits("test")
    if np.allclose(image, X_test[y_test == 3].mean(dim=0).squeeze().double().numpy(), atol=1e-5):
        _fail("this average comes from the test split; use the 'train' split")
    if np.allclose(image, X.mean(dim=0).squeeze().double().numpy(), atol=1e-5):
        _fail("this is the average of every digit; keep only the images labelled 3")
    _fail("not the average training 3: select the images whose label is 3, then average over them")


TASKS: tuple[str, ...] = (
    "fill in the torn-off half of a scanned digit",
    "draw handwriting that nobody has written",
    "remove sensor noise from a photograph",
    "make a synthetic training set of faces",
    "recover an image from its compressed code",
    "sample a new digit from a trained GAN",
)
_TASK_KINDS = ("reconstruction", "generation", "reconstruction", "generation", "reconstruction", "generation")


def check_task_kinds(answer: Any) -> None:
    """Check a dict that labels each task in ``TASKS`` ``'generation'`` or ``'reconstruction'``."""
    if not isinstance(answer, Mapping):
        _fail(f"a dict from each task in TASKS to its kind was expected, got {type(answer).__name__}")
    missing = [task for task in TASKS if task not in answer]
    if missing:
        _fail(f"{len(missing)} task(s) of TASKS have no label, for example {missing[0]!r}")
    labels = {task: str(answer[task]).strip().lower() for task in TASKS}
    odd = sorted({label for label in labels.values()} - {"generation", "reconstruction"})
    if odd:
        _fail(f"each label must be 'generation' or 'reconstruction', found {odd[0]!r}")
    right = sum(labels[task] == kind for task, kind in zip(TASKS, _TASK_KINDS))
    if right < len(TASKS):
        _fail(
            f"{right} of {len(TASKS)} are right. For each task ask: is there an observed image "
            "that the output must agree with?"
        )
    _ok("all six tasks sorted correctly")


# --- Core concepts ------------------------------------------------------------


def bowl_objective(theta: torch.Tensor) -> torch.Tensor:
    r"""The core-concepts chapter's objective :math:`J(\theta) = 1 - (\theta - 2)^2`."""
    return 1 - (theta - 2) ** 2


def check_negated_objective(loss: Callable[[torch.Tensor], Any]) -> None:
    """Check a ``loss(theta)`` whose gradient descent retraces gradient ascent on ``bowl_objective``."""
    thetas = (-3.0, -0.5, 0.0, 1.25, 2.0, 4.5)
    for value in thetas:
        theta = torch.tensor(value, dtype=torch.float64, requires_grad=True)
        out = _call(loss, theta)
        if not isinstance(out, torch.Tensor):
            _fail(f"loss must return a torch tensor so autograd can differentiate it, got {type(out).__name__}")
        if out.numel() != 1:
            _fail(f"loss must return a single number (a scalar tensor), got shape {tuple(out.shape)}")
        if not out.requires_grad:
            _fail("the returned tensor does not depend on theta: compute it from theta with torch operations")
        (grad,) = torch.autograd.grad(out.reshape(()), theta)
        want = 2 * (value - 2)  # the slope of −J(θ) = (θ − 2)² − 1
        if not math.isfinite(float(grad)):
            _fail(f"the gradient at theta = {value} is not finite")
        if abs(float(grad) - want) > 1e-6:
            if abs(float(grad) + want) < 1e-6:
                _fail("this has the slope of J itself: descending on it walks downhill on J, away from its maximum")
            _fail(f"at theta = {value} your loss has slope {float(grad):.4g}; the slope of −J there is different")
    _ok("descent on your loss takes exactly the steps of ascent on J")


def check_supergradient(answer: Any) -> None:
    r"""Check a supergradient of :math:`f(x) = -|x|` at the kink :math:`x = 0`."""
    g = _to_number(answer, "one number (a slope)")
    if abs(g) <= 1 + 1e-12:
        _ok(f"g = {g:g} works: the line y = g·x stays on or above −|x| everywhere")
        return
    side = "right" if g < 0 else "left"
    _fail(
        f"with slope {g:g} the line through the kink falls below the graph of −|x| on the {side}; "
        "a supergradient's line must stay on or above the graph on both sides"
    )


# --- Gradient ascent ------------------------------------------------------------


def _step_objectives() -> list[tuple[Callable[[torch.Tensor], torch.Tensor], list[float]]]:
    from gaedu.objectives import ConcaveQuadratic, CurvedRidge, GaussianBumps

    return [
        (ConcaveQuadratic(condition_number=5.0, angle=0.4), [1.0, -0.5]),
        (GaussianBumps(), [0.3, -0.2]),
        (CurvedRidge(), [-1.0, 1.5]),
    ]


def check_ascent_step(ascent_step: Callable[[Callable, torch.Tensor, float], Any]) -> None:
    """Check ``ascent_step(objective, theta, lr)``: one gradient-ascent step from ``theta``, as a new tensor."""
    from gaedu.optim import GradientAscent

    for objective, start in _step_objectives():
        for lr in (0.05, 0.2):
            theta = torch.tensor(start, dtype=torch.float64)
            out = _call(ascent_step, objective, theta.clone(), lr)
            new = _to_array(out, "the new theta (2 numbers)").reshape(-1)
            if new.size != 2:
                _fail(f"the new theta should have 2 numbers, like theta; got {new.size}")
            reference = theta.clone().requires_grad_(True)
            optimizer = GradientAscent([reference], lr=lr)
            objective(reference).backward()
            optimizer.step()
            want = reference.detach().numpy()
            if np.allclose(new, want, atol=1e-9):
                continue
            if np.allclose(new, start, atol=1e-12):
                _fail("theta did not move: add lr times the gradient to it")
            if np.allclose(new, 2 * np.asarray(start) - want, atol=1e-9):
                _fail("your step goes downhill: ascent adds the gradient, descent subtracts it")
            _fail(f"on {objective.name} with lr = {lr} your step lands elsewhere than GradientAscent's")
    _ok("your step is exactly GradientAscent's step")


def stability_quadratic():
    """The quadratic of the learning-rate exercise: condition number 8, smallest curvature 0.5, turned by 0.3 rad."""
    from gaedu.objectives import ConcaveQuadratic

    return ConcaveQuadratic(condition_number=8.0, curvature=0.5, angle=0.3)


def check_max_stable_lr(answer: Any) -> None:
    """Check the largest learning rate for which ascent on ``stability_quadratic()`` still converges (the supremum)."""
    lr = _to_number(answer, "one learning rate")
    eigenvalues = np.sort(stability_quadratic().eigenvalues)
    small, large = eigenvalues
    if math.isclose(lr, 2 / large, rel_tol=1e-3):
        _ok(f"η < {lr:g} = 2/λ_max: above it the steep direction overshoots more every step")
        return
    if math.isclose(lr, 2 / small, rel_tol=1e-3):
        _fail("that keeps the flat direction stable, but along the steep direction the error then grows")
    if math.isclose(lr, 1 / large, rel_tol=1e-3):
        _fail("with that rate the steep direction converges without oscillating; larger rates can still converge")
    if lr > 2 / large:
        _fail("ascent with that learning rate diverges: the factor |1 − ηλ| exceeds 1 for some eigenvalue")
    _fail("ascent still converges a little above that rate: find where |1 − ηλ| reaches 1 for the largest λ")


# --- Subgradient ascent ------------------------------------------------------------


def kink_objective():
    """The function of the supergradient exercise, ``PiecewiseLinear(weights=(1, 2), centre=(0.5, -0.5))``."""
    from gaedu.objectives import PiecewiseLinear

    return PiecewiseLinear(weights=(1.0, 2.0), centre=(0.5, -0.5))


KINK_POINT = (0.5, 1.0)


def check_supergradient_at_kink(answer: Any) -> None:
    """Check a supergradient of ``kink_objective()`` at ``KINK_POINT``, shape ``(2,)``."""
    g = _to_array(answer, "a supergradient (2 numbers)").reshape(-1)
    if g.size != 2:
        _fail(f"a supergradient has one number per coordinate, 2 here; got {g.size}")
    low, high = kink_objective().superdifferential(KINK_POINT)
    inside = (g >= low - 1e-12) & (g <= high + 1e-12)
    if inside.all():
        _ok(f"g = {g.tolist()} is a supergradient: J(y) ≤ J(x) + g·(y − x) for every y")
        return
    if not inside[1]:
        _fail("coordinate 2 is away from its kink, so there the only choice is the ordinary partial derivative")
    _fail("coordinate 1 sits exactly on its kink: any slope between its two one-sided slopes works, yours does not")


BAND_START, BAND_LR = 0.35, 0.1


def check_constant_step_band(answer: Any) -> None:
    """Check the two points between which constant-step subgradient ascent on ``−|x|`` ends up bouncing."""
    points = np.sort(_to_array(answer, "two numbers").reshape(-1))
    if points.size != 2:
        _fail(f"two points were expected, got {points.size}")
    from gaedu.ascent import ascend

    trajectory = ascend(lambda x: -x.abs().sum(), [BAND_START], lr=BAND_LR, num_steps=50)
    want = np.sort(np.unique(np.round(trajectory.points[-4:, 0], 12)))
    if np.allclose(points, want, atol=1e-9):
        _ok(f"the iterates bounce between {want[0]:g} and {want[1]:g} forever: a band of width {want[1] - want[0]:g} = η")
        return
    _fail("not the two points of the final bounce: follow the first few steps by hand (each moves by exactly η)")


# --- GANs ----------------------------------------------------------------------------

RADIUS_START, RADIUS_LR, RADIUS_STEPS = (1.0, 0.0), 0.1, 50


def check_simultaneous_radius(answer: Any) -> None:
    """Check the distance from (0, 0) after ``RADIUS_STEPS`` simultaneous steps on ``x·y`` from ``RADIUS_START``."""
    from gaedu.games import bilinear, play

    radius = _to_number(answer, "one distance")
    points = play(bilinear, *RADIUS_START, RADIUS_LR, RADIUS_STEPS, "simultaneous")
    want = float(np.hypot(*points[-1]))
    if math.isclose(radius, want, rel_tol=1e-6):
        _ok(f"the distance grows to {want:.6f}: simultaneous steps spiral outwards")
        return
    if math.isclose(radius, 1.0, rel_tol=1e-6):
        _fail("the distance does not stay the same: each simultaneous step moves along the tangent of the circle")
    if math.isclose(radius, (1 + RADIUS_LR**2) ** RADIUS_STEPS, rel_tol=1e-6):
        _fail("close: (1 + η²) multiplies the squared distance; the distance itself grows by its square root")
    _fail("not the distance after those steps: find the factor one step multiplies the distance by")


def check_discriminator_step(discriminator_step: Callable[..., Any]) -> None:
    """Check ``discriminator_step(discriminator, x_real, x_fake, lr)``: one gradient-ascent step of D on V."""
    import copy

    from gaedu.gan import Discriminator, GANConfig, value
    from gaedu.optim import GradientAscent

    gen = torch.Generator().manual_seed(0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        start = Discriminator(GANConfig(hidden=16))
    x_real, x_fake = torch.rand(32, 1, 8, 8, generator=gen), torch.rand(32, 1, 8, 8, generator=gen) * 0.5
    theirs, ours = copy.deepcopy(start), copy.deepcopy(start)
    _call(discriminator_step, theirs, x_real, x_fake, 0.1)
    optimizer = GradientAscent(ours.parameters(), lr=0.1)
    value(ours, x_real, x_fake).backward()
    optimizer.step()
    moved = [(p - s).detach() for p, s in zip(theirs.parameters(), start.parameters())]
    wanted = [(p - s).detach() for p, s in zip(ours.parameters(), start.parameters())]
    if all(m.abs().max() == 0 for m in moved):
        _fail("the discriminator's weights did not change: compute V, backpropagate, then step the optimizer")
    if all(torch.allclose(m, w, atol=1e-6) for m, w in zip(moved, wanted)):
        _ok("one ascent step on V: the discriminator got better at telling real from fake")
        return
    if all(torch.allclose(m, -w, atol=1e-6) for m, w in zip(moved, wanted)):
        _fail("your step descends V: the discriminator must ascend it (maximize=True, or GradientAscent)")
    _fail("the step is not one plain ascent step with lr on V = mean log D(x_real) + mean log(1 − D(x_fake))")


#: Class shares of 1000 samples from a generator that dropped some digits.
COLLAPSED_HISTOGRAM = (0.162, 0.004, 0.131, 0.176, 0.0, 0.118, 0.151, 0.007, 0.139, 0.112)


def check_missing_classes(answer: Any) -> None:
    """Check the digits that the generator of ``COLLAPSED_HISTOGRAM`` has dropped (under 1 % of its samples)."""
    if answer is None:
        _fail("the answer is None; a list of digits was expected")
    digits = None
    try:
        digits = sorted({int(d) for d in answer})
    except (TypeError, ValueError):
        pass
    if digits is None:  # failing outside the handler keeps the hint free of a chained traceback
        _fail(f"a list of digits 0 to 9 was expected, got {answer!r}")
    want = [k for k, share in enumerate(COLLAPSED_HISTOGRAM) if share < 0.01]
    if digits == want:
        _ok(f"digits {want} are (almost) never generated: the generator has dropped those modes")
        return
    if set(want) < set(digits):
        _fail("some of those digits are generated often enough: a mode counts as dropped below 1 % of the samples")
    _fail("not the right set: look for the classes with (almost) no samples, under 1 %")


# --- Reconstruction with a decoder -------------------------------------------------------


def _psnr_pairs() -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Pairs of image batches ``(N, 1, 8, 8)`` in ``[0, 1]`` that differ, N = 5, 1, 12 (five first)."""
    gen = torch.Generator().manual_seed(7)
    pairs = []
    for n, spread in ((5, 0.2), (1, 0.05), (12, 0.5)):
        x = torch.rand(n, 1, 8, 8, generator=gen)
        pairs.append((x, (x + spread * torch.randn(n, 1, 8, 8, generator=gen)).clamp(0, 1)))
    return pairs


def _per_image(out: Any, n: int, what: str) -> np.ndarray:
    values = _to_array(out, what)
    if values.size != n:
        _fail(f"{what} was expected: {n} numbers for {n} images, got {values.size} of shape {tuple(values.shape)}")
    return values.reshape(-1)


def check_psnr_by_hand(my_psnr: Callable[[torch.Tensor, torch.Tensor], Any]) -> None:
    """Check ``my_psnr(x, y)``: the PSNR in dB of each pair of images in ``[0, 1]``, shape ``(N,)``."""
    from gaedu.metrics import psnr

    got, want = [], []
    for x, y in _psnr_pairs():
        got.append(_per_image(_call(my_psnr, x.clone(), y.clone()), len(x), "one PSNR per image"))
        want.append(psnr(x, y).double().numpy())
    got, want = np.concatenate(got), np.concatenate(want)
    if np.allclose(got, want, atol=1e-3):
        _ok("your PSNR matches gaedu.metrics.psnr on every image")
        return
    if np.allclose(got, -want, atol=1e-3):
        _fail("your values have the wrong sign: a closer reconstruction must get a higher PSNR")
    ratio, offset = got / want, got - want
    if np.allclose(ratio, ratio[0], rtol=1e-4):
        _fail(f"your values are {ratio[0]:.3g} times the right ones: check the factor in front of the logarithm and its base")
    if np.allclose(offset, offset[0], atol=1e-3):
        _fail(
            f"every value is off by the same {offset[0]:+.2f} dB: check the peak value L and how the squared "
            "errors of an image are combined over its pixels"
        )
    _fail("not the PSNR of each pair: work out one image by hand, from its mean squared error, and compare")


def _similarity_cases() -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Triples ``(x_hat, observed, mask)`` of shape ``(N, 1, 8, 8)``: random, bottom-half and all-known masks."""
    gen = torch.Generator().manual_seed(11)
    cases = []
    for n, kind in ((6, "random"), (3, "bottom"), (4, "all")):
        x_hat, observed = torch.rand(n, 1, 8, 8, generator=gen), torch.rand(n, 1, 8, 8, generator=gen)
        if kind == "random":
            mask = (torch.rand(n, 1, 8, 8, generator=gen) < torch.linspace(0.2, 0.9, n).view(n, 1, 1, 1)).float()
            mask[:, :, 0, 0] = 1.0  # at least one known pixel per image
        else:
            mask = torch.ones(n, 1, 8, 8)
            if kind == "bottom":
                mask[:, :, 4:, :] = 0.0
        cases.append((x_hat, observed * mask, mask))
    return cases


def check_masked_similarity(similarity: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], Any]) -> None:
    """Check ``similarity(x_hat, observed, mask)``: minus the mean squared error over the known pixels, shape ``(N,)``."""
    from gaedu.decoder import masked_similarity

    got, junk_got, want, known = [], [], [], []
    gen = torch.Generator().manual_seed(12)
    for x_hat, observed, mask in _similarity_cases():
        n = len(x_hat)
        got.append(_per_image(_call(similarity, x_hat.clone(), observed.clone(), mask.clone()), n, "one number per image"))
        junk = observed + (1 - mask) * torch.rand(observed.shape, generator=gen)  # other values where pixels are missing
        junk_got.append(_per_image(_call(similarity, x_hat.clone(), junk, mask.clone()), n, "one number per image"))
        want.append(masked_similarity(x_hat, observed, mask).double().numpy())
        known.append(mask.flatten(1).sum(1).double().numpy())
    got, junk_got, want, known = (np.concatenate(a) for a in (got, junk_got, want, known))
    if np.allclose(got, want, atol=1e-6) and np.allclose(junk_got, want, atol=1e-6):
        _ok("your similarity is gaedu.decoder.masked_similarity: higher means closer to the known pixels")
        return
    if np.allclose(got, -want, atol=1e-6):
        _fail("higher must be better: your value grows as the reconstruction moves away from the known pixels")
    if not np.allclose(got, junk_got, atol=1e-6):
        _fail("your value changes when the missing pixels of observed change: only the known pixels may count")
    ratio = got / want
    if np.allclose(ratio, known, rtol=1e-5) or np.allclose(ratio, known / 64, rtol=1e-5):
        _fail("your value depends on how many pixels are known: check what you divide the squared errors by")
    _fail("not minus the mean squared error over the known pixels of each image: work out one image by hand")


# --- Gradient ascent in image space ------------------------------------------------------

#: The classes of the five images of the pixel-step exercise.
PIXEL_TARGETS = (3, 1, 4, 1, 5)


def _pixel_step_setup() -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor]:
    """A small seeded (untrained) digit classifier, five seeded images ``(5, 1, 8, 8)`` and their targets."""
    from gaedu.metrics import DigitClassifier

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        classifier = DigitClassifier().eval()
    images = torch.rand(len(PIXEL_TARGETS), 1, 8, 8, generator=torch.Generator().manual_seed(0))
    return classifier, images, torch.tensor(PIXEL_TARGETS)


def _log_probability_step(classifier: torch.nn.Module, images: torch.Tensor, targets: torch.Tensor, lr: float):
    """One ascent step on each image's log-probability of its target (a plausible mix-up with the logit)."""
    x = images.clone().requires_grad_(True)
    log_p = torch.log_softmax(classifier(x), dim=1)[torch.arange(len(targets)), targets]
    (grad,) = torch.autograd.grad(log_p.sum(), x)
    return (images + lr * grad).double().numpy()


def check_pixel_ascent_step(pixel_step: Callable[..., Any]) -> None:
    """Check ``pixel_step(classifier, images, targets, lr)``: one unclamped ascent step on each image's target logit."""
    import copy

    from gaedu.pixels import maximize_class

    classifier, images, targets = _pixel_step_setup()
    for lr in (0.5, 3.0):
        out = _call(pixel_step, copy.deepcopy(classifier), images.clone(), targets.clone(), lr)
        new = _to_array(out, "the new images, a tensor of shape (N, 1, 8, 8)")
        if new.shape != tuple(images.shape):
            _fail(f"the new images should have the shape of the images, {tuple(images.shape)}; got {new.shape}")
        want = maximize_class(classifier, targets, num_steps=1, lr=lr, clamp=False, start=images).images
        want, x = want.double().numpy(), images.double().numpy()
        if np.allclose(new, want, atol=1e-5):
            continue
        if np.allclose(new, x, atol=1e-9):
            _fail("the images did not move: add lr times the gradient of each image's target score")
        if np.allclose(new, 2 * x - want, atol=1e-5):
            _fail("your step goes downhill: ascent adds the gradient, descent subtracts it")
        if np.allclose(new, np.clip(want, 0, 1), atol=1e-5):
            _fail("do not clamp in this step: it is the plain update, and maximize_class clamps only afterwards")
        if np.allclose(new, x + (want - x) / len(targets), atol=1e-5):
            _fail("your steps are N times too short: each image takes its own full step, so sum the scores, do not average")
        if np.allclose(new, _log_probability_step(classifier, images, targets, lr), atol=1e-5):
            _fail("that ascends the log-probability of the class; this step ascends its raw score, the logit")
        _fail(f"with lr = {lr} your images land elsewhere than one ascent step on each image's own target logit")
    _ok("your step is maximize_class's step before the clamp: x + lr ∇ₓ S_c(x)")


#: The fixed settings of the regularization-weight exercise: only ``l2`` varies.
REGULARIZATION_SETTINGS = {"num_steps": 200, "lr": 0.1, "blur": 0.5, "clamp": True, "seed": 0}
REGULARIZATION_TARGETS = tuple(range(10)) * 3
REGULARIZATION_AGREEMENT = 0.9


@functools.lru_cache(maxsize=1)
def regularization_judges() -> tuple[torch.nn.Module, Any, float]:
    """Return the ascended classifier (``train_digit_classifier(seed=0)``), a logistic regression, and the mean ink.

    The logistic regression is ``LogisticRegression(max_iter=1000)`` fitted on the flattened
    ``'train'`` pixels; the mean ink is the mean pixel value of the ``'train'`` digits.
    Trained once (a few seconds), then cached.
    """
    from sklearn.linear_model import LogisticRegression

    from gaedu.data import load_digits
    from gaedu.metrics import train_digit_classifier

    x_train, y_train = load_digits("train")
    classifier = train_digit_classifier(seed=0, device="cpu")
    logistic = LogisticRegression(max_iter=1000).fit(x_train.flatten(1).numpy(), y_train.numpy())
    return classifier, logistic, float(x_train.mean())


def check_regularization_weight(answer: Any) -> None:
    """Check a weight ``l2`` whose images carry no more ink than real digits yet still read as their class."""
    from gaedu.pixels import agreement, maximize_class

    l2 = _to_number(answer, "one penalty weight l2")
    if l2 < 0:
        _fail("a penalty weight is a number >= 0: a negative weight would reward ink instead of charging for it")
    classifier, logistic, real_ink = regularization_judges()
    targets = torch.tensor(REGULARIZATION_TARGETS)
    images = maximize_class(classifier, targets, l2=l2, **REGULARIZATION_SETTINGS).images
    own = agreement(classifier, images, targets)
    other = float((logistic.predict(images.flatten(1).numpy()) == targets.numpy()).mean())
    ink = float(images.mean())
    if own < REGULARIZATION_AGREEMENT:
        _fail(f"with l2 = {l2:g} even the ascended classifier reads only {own:.0%} of the images as their class")
    if other < REGULARIZATION_AGREEMENT:
        _fail(f"with l2 = {l2:g} logistic regression reads only {other:.0%} of the images as their class (90 % needed)")
    if ink > real_ink:
        _fail(f"with l2 = {l2:g} the images carry {ink:.3f} ink per pixel, more than real digits ({real_ink:.3f})")
    _ok(
        f"l2 = {l2:g}: {ink:.3f} ink per pixel (real digits: {real_ink:.3f}), and logistic regression "
        f"agrees on {other:.0%}"
    )


# --- Frequently asked questions ------------------------------------------------------------


def faq_log_likelihood(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    r"""Return the FAQ's objective, the mean log-probability of the right labels.

    :math:`J(\theta) = \frac1N \sum_{j=1}^N \log p_\theta(y_j \mid x_j)`, where ``model(x)``
    gives logits ``(N, classes)`` and ``y`` holds the labels ``(N,)``; a scalar tensor.
    """
    log_p = torch.log_softmax(model(x), dim=1)  # (N, classes)
    return log_p[torch.arange(len(y)), y].mean()


#: The optimizer settings of the descent exercise: plain SGD with this momentum, no ``maximize``.
DESCENT_LR, DESCENT_MOMENTUM, DESCENT_STEPS = 0.5, 0.9, 5


def _descent_setup() -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor]:
    """A seeded classifier of 8×8 images (64 → 16 → 10), seeded images ``(32, 1, 8, 8)`` and labels ``(32,)``."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = torch.nn.Sequential(
            torch.nn.Flatten(), torch.nn.Linear(64, 16), torch.nn.Tanh(), torch.nn.Linear(16, 10)
        )
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(32, 1, 8, 8, generator=gen)
    return model, x, torch.randint(10, (32,), generator=gen)


def _flat_grad(value: torch.Tensor, model: torch.nn.Module) -> torch.Tensor:
    grads = torch.autograd.grad(value, list(model.parameters()), allow_unused=True)
    return torch.cat([(torch.zeros_like(p) if g is None else g).flatten() for p, g in zip(model.parameters(), grads)])


def check_descent_loss(loss: Callable[[torch.nn.Module, torch.Tensor, torch.Tensor], Any]) -> None:
    """Check ``loss(model, x, y)``: plain SGD with momentum on it retraces ``GradientAscent`` on ``faq_log_likelihood``."""
    import copy

    from gaedu.optim import GradientAscent

    start, x, y = _descent_setup()
    probe = copy.deepcopy(start)
    out = _call(loss, probe, x.clone(), y.clone())
    if not isinstance(out, torch.Tensor):
        _fail(f"loss must return a torch tensor so that backward() can run, got {type(out).__name__}")
    if out.numel() != 1:
        _fail(f"loss must return a single number (a scalar tensor), got shape {tuple(out.shape)}")
    if not out.requires_grad:
        _fail("the returned tensor does not depend on the model's parameters: compute it from model(x)")
    got = _flat_grad(out.reshape(()), probe)
    want = -_flat_grad(faq_log_likelihood(start, x, y), start)  # the gradient of -J
    scale = float(got @ want / (want @ want))  # got = scale * want when the directions agree
    if not torch.allclose(got, scale * want, rtol=1e-4, atol=1e-7):
        _fail("your loss's gradient is not parallel to J's, so descending it takes steps that ascent on J never takes")
    if abs(scale + 1) < 1e-3:
        _fail("descending this walks downhill on J, away from its maximum: SGD subtracts the gradient it is given")
    if abs(scale - len(y)) < 1e-3 * len(y):
        _fail(f"every step is {len(y)} times too long, one factor per image: average over the batch, do not sum")
    if scale < 0:
        _fail("descending this walks downhill on J, away from its maximum: SGD subtracts the gradient it is given")
    if abs(scale - 1) > 1e-3:
        _fail(f"right direction, but every step is {scale:.3g} times as long as ascent's: check the loss's scale")
    ascending, descending = copy.deepcopy(start), copy.deepcopy(start)
    ascent = GradientAscent(ascending.parameters(), lr=DESCENT_LR, momentum=DESCENT_MOMENTUM)
    descent = torch.optim.SGD(descending.parameters(), lr=DESCENT_LR, momentum=DESCENT_MOMENTUM)
    for _ in range(DESCENT_STEPS):
        ascent.zero_grad()
        faq_log_likelihood(ascending, x, y).backward()
        ascent.step()
        descent.zero_grad()
        _call(loss, descending, x, y).reshape(()).backward()
        descent.step()
    if not all(torch.allclose(a, d, atol=1e-6) for a, d in zip(ascending.parameters(), descending.parameters())):
        _fail("the first step agrees but later ones drift: the loss may only depend on model, x and y")
    _ok(f"{DESCENT_STEPS} steps of SGD with momentum on your loss are the steps of GradientAscent on J")


# --- Ascent at scale -----------------------------------------------------------------------

#: Share sizes of the gradient-averaging exercise: equal shares first, then unequal ones.
GRADIENT_SHARES = ((128, 128), (64, 64, 64, 64), (200, 56), (16, 80, 160))


def _share_gradients(sizes: tuple[int, ...]) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Return each share's gradient of ``demo_objective`` and the full-batch gradient, at a fixed ``w``."""
    from gaedu.distributed import demo_data, demo_objective

    X, y = demo_data()
    w = torch.linspace(0.5, -0.5, X.shape[1], dtype=X.dtype)  # a point away from the maximizer

    def gradient(X_part: torch.Tensor, y_part: torch.Tensor) -> torch.Tensor:
        point = w.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(demo_objective(point, X_part, y_part), point)
        return grad

    return [gradient(Xs, ys) for Xs, ys in zip(X.split(list(sizes)), y.split(list(sizes)))], gradient(X, y)


def check_gradient_average(combine: Callable[[list[torch.Tensor], list[int]], Any]) -> None:
    """Check ``combine(gradients, sizes)``: the full-batch gradient of ``demo_objective`` from per-process gradients."""
    for sizes in GRADIENT_SHARES:
        gradients, full = _share_gradients(sizes)
        out = _call(combine, [g.clone() for g in gradients], list(sizes))
        got = _to_array(out, f"one gradient of {full.numel()} numbers").reshape(-1)
        if got.size != full.numel():
            _fail(f"the gradient has {full.numel()} numbers, like each process's gradient; got {got.size}")
        if np.allclose(got, full.numpy(), rtol=0, atol=1e-9):
            continue
        stacked = torch.stack(gradients).numpy()
        if np.allclose(got, stacked.sum(0), atol=1e-9):
            _fail("that is the all-reduced sum: each share's objective is already a mean, "
                  "so the sum counts the data once per process")
        if np.allclose(got, stacked.mean(0), atol=1e-9):
            _fail(f"a plain average is right only for equal shares: with shares of {list(sizes)} samples, "
                  "a larger share must count more")
        if any(np.allclose(got, g, atol=1e-9) for g in stacked):
            _fail("that is one process's gradient, computed on its share alone")
        _fail(f"with shares of {list(sizes)} samples that is not the gradient of the whole batch")
    _ok("your combination equals the full-batch gradient, for equal and for unequal shares")


#: Cases of the learning-rate exercise: (base_lr, base_batch, batch_per_process, num_processes).
SCALED_LR_CASES = ((1e-3, 128, 128, 8), (0.1, 256, 32, 8), (0.1, 256, 64, 16), (2e-4, 64, 64, 1), (0.05, 512, 128, 2))


def check_scaled_lr(scaled_lr: Callable[[float, int, int, int], Any]) -> None:
    """Check ``scaled_lr(base_lr, base_batch, batch_per_process, num_processes)``: the linear scaling rule."""
    for base_lr, base_batch, per_process, processes in SCALED_LR_CASES:
        lr = _to_number(_call(scaled_lr, base_lr, base_batch, per_process, processes), "one learning rate")
        ratio = per_process * processes / base_batch  # how much the global batch grew
        if math.isclose(lr, base_lr * ratio, rel_tol=1e-6):
            continue
        setting = f"base lr {base_lr:g} at batch {base_batch}, {processes} processes of {per_process}"
        if math.isclose(lr, base_lr * math.sqrt(ratio), rel_tol=1e-6):
            _fail(f"{setting}: that is the square-root rule; the linear rule changes lr in proportion to the batch")
        if math.isclose(lr, base_lr / ratio, rel_tol=1e-6):
            _fail(f"{setting}: a larger batch has less noise, so the rule raises the learning rate, not lowers it")
        if math.isclose(lr, base_lr * processes, rel_tol=1e-6):
            _fail(f"{setting}: multiplying by the number of processes is right only when each keeps the base batch")
        _fail(f"{setting}: compare the batch of one step over all processes with the base batch")
    _ok("lr grows in proportion to the global batch: per_process × processes / base_batch")


# --- The source's code examples, corrected ---------------------------------------------------

#: Logits of the stable-value exercise: moderate and extreme, with real and fake batches of different sizes.
STABLE_LOGITS_REAL = (-200.0, -40.0, -3.0, 0.0, 0.5, 4.0, 60.0)
STABLE_LOGITS_FAKE = (-90.0, -1.0, 0.0, 2.0, 150.0)


def _stable_value(logits_real: torch.Tensor, logits_fake: torch.Tensor) -> torch.Tensor:
    import torch.nn.functional as F

    return F.logsigmoid(logits_real).mean() + F.logsigmoid(-logits_fake).mean()


def check_d_objective(d_objective: Callable[[torch.Tensor, torch.Tensor], Any]) -> None:
    """Check ``d_objective(logits_real, logits_fake)``: the value V from logits, finite even for extreme logits."""
    cases = [
        (torch.tensor(STABLE_LOGITS_REAL), torch.tensor(STABLE_LOGITS_FAKE)),
        (torch.linspace(-3, 3, 8), torch.linspace(-2, 5, 6)),
    ]
    got, want = [], []
    for logits_real, logits_fake in cases:
        out = _call(d_objective, logits_real.clone(), logits_fake.clone())
        if out is None:
            _fail("the answer is None; one number, the value V, was expected (did you forget to return it?)")
        values = None
        if isinstance(out, torch.Tensor):
            values = out.detach().double().reshape(-1).numpy()
        else:
            try:
                values = np.asarray(out, dtype=np.float64).reshape(-1)
            except (TypeError, ValueError):
                pass
        if values is None:
            _fail(f"could not read a {type(out).__name__} as a number; one number, the value V, was expected")
        if values.size != 1:
            _fail(f"one number, the value V, was expected, got {values.size} values: average over each batch")
        if not np.isfinite(values[0]):
            _fail("your value is NaN or infinite for some logits: a probability that rounds to 0 or 1 has no finite log; "
                  "compute log σ straight from the logit")
        got.append(values[0])
        want.append(_stable_value(logits_real.double(), logits_fake.double()).item())
    got, want = np.array(got), np.array(want)
    if np.allclose(got, want, rtol=1e-5, atol=1e-4):
        _ok("your value is finite and equals V = mean log σ(a_real) + mean log σ(−a_fake), even at extreme logits")
        return
    if np.allclose(got, -want, rtol=1e-5, atol=1e-4):
        _fail("that is minus V, a loss: the discriminator's objective is V itself, the number it ascends")
    swapped = [_stable_value(-r.double(), -f.double()).item() for r, f in cases]
    if np.allclose(got, swapped, rtol=1e-5, atol=1e-4):
        _fail("real and fake are swapped: D should say 'real' (a large logit) to real samples")
    logsigmoid = torch.nn.functional.logsigmoid
    summed = [(logsigmoid(r.double()).sum() + logsigmoid(-f.double()).sum()).item() for r, f in cases]
    if np.allclose(got, summed, rtol=1e-5, atol=1e-4):
        _fail("your value grows with the batch size: average each term over its batch instead of summing")
    pooled = [torch.cat([logsigmoid(r.double()), logsigmoid(-f.double())]).mean().item() for r, f in cases]
    if np.allclose(got, pooled, rtol=1e-5, atol=1e-4):
        _fail("average the real term over the real batch and the fake term over the fake batch, then add the two")
    if np.allclose(got[1], want[1], rtol=1e-4, atol=1e-4):
        _fail("right for moderate logits, wrong for extreme ones: clamping a probability changes the value; "
              "compute log σ straight from the logit")
    _fail("not V = mean log D(x_real) + mean log(1 − D(x_fake)) with D = σ(logit): check each term on one logit by hand")


def _ae_loss_setup() -> tuple[torch.nn.Module, torch.Tensor]:
    """A small seeded autoencoder (code of 4 numbers) and 16 seeded random images in ``[0, 1]``."""
    from gaedu.decoder import Autoencoder

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = Autoencoder(4, hidden=16, depth=1)
    images = torch.rand(16, 1, 8, 8, generator=torch.Generator().manual_seed(3))
    return model, images


def check_ae_loss(ae_loss: Callable[[torch.nn.Module, torch.Tensor], Any]) -> None:
    """Check ``ae_loss(model, x)``: the mean squared error of ``model(x)`` against the image ``x``, differentiable."""
    from gaedu.decoder import reconstruction_error

    model, x = _ae_loss_setup()
    out = _call(ae_loss, model, x.clone())
    if out is None:
        _fail("the answer is None; the loss, one number, was expected (did you forget to return it?)")
    if not isinstance(out, torch.Tensor):
        _fail(f"return the loss as a tensor, not a {type(out).__name__}: the optimizer needs its gradient")
    if out.numel() != 1:
        _fail(f"one number was expected, got {out.numel()} values of shape {tuple(out.shape)}: average the errors")
    if out.grad_fn is None:
        _fail("your loss carries no gradient: do not detach it or wrap it in torch.no_grad()")
    got = out.detach().double().item()
    if not math.isfinite(got):
        _fail("the answer contains NaN or infinite values")
    with torch.no_grad():
        x_hat = model(x)
        want = reconstruction_error(x_hat, x, "l2").item()
        l1 = reconstruction_error(x_hat, x, "l1").item()
        summed = (x_hat - x).pow(2).sum().item()
        per_image = (x_hat - x).pow(2).flatten(1).sum(1).mean().item()
    if math.isclose(got, want, rel_tol=1e-5):
        _ok("the reconstruction is compared with the image itself: this is gaedu.decoder.training_step's loss")
        return
    if got == 0:
        _fail("your loss is zero: the target must be the image x, something the model's output does not depend on")
    if math.isclose(got, l1, rel_tol=1e-5):
        _fail("that is the mean absolute error (L1); this exercise asks for the mean squared error (L2)")
    if math.isclose(got, math.sqrt(want), rel_tol=1e-5):
        _fail("no square root: the mean squared error is the mean of the squared differences")
    if math.isclose(got, summed, rel_tol=1e-5) or math.isclose(got, per_image, rel_tol=1e-5):
        _fail("average the squared errors over every pixel of every image, do not sum them")
    _fail("not the mean squared error between model(x) and x: what should the output be compared with?")


# --- Local optima --------------------------------------------------------------------------

#: The multi-start exercise: the chance that one random start reaches the global maximum,
#: and the chance of success that k independent starts must reach together.
MULTISTART_P = 0.2
MULTISTART_TARGET = 0.99


def _multistart_success(k: int) -> float:
    return 1 - (1 - MULTISTART_P) ** k


def check_multistart_starts(answer: Any) -> None:
    """Check the fewest independent starts ``k`` with ``1 − (1 − MULTISTART_P)^k ≥ MULTISTART_TARGET``."""
    k = _to_number(answer, "one number of starts")
    if k != round(k):
        _fail("a number of starts is a whole number: round, in the direction that keeps the 0.99")
    k = int(round(k))
    if k < 1:
        _fail("at least one start is needed to reach anything")
    want = 1
    while _multistart_success(want) < MULTISTART_TARGET:  # counting up avoids round-off at an exact power
        want += 1
    if k == want:
        chance = _multistart_success(k)
        _ok(f"{k} starts reach the global maximum with probability {chance:.4f} ≥ {MULTISTART_TARGET}")
        return
    if k == math.ceil(math.log(1 - MULTISTART_TARGET) / math.log(MULTISTART_P)):
        _fail("that treats p as the chance that a start misses; p is the chance that it succeeds")
    if k == want - 1:
        _fail(f"so close: with {k} starts the chance is {_multistart_success(k):.4f}, just below {MULTISTART_TARGET}")
    if k < want:
        _fail(f"with {k} starts the chance of reaching the global maximum is only {_multistart_success(k):.3f}")
    _fail(f"{k} starts are enough, but fewer are too: find the smallest k")


#: The basin-share exercise: a BASIN_GRID × BASIN_GRID grid of starts over GaussianBumps().bounds
#: (np.linspace, endpoints included), plain ascent_many with BASIN_LR for BASIN_STEPS steps, and a
#: start counts for a maximum when it ends within BASIN_RADIUS of it.
BASIN_GRID, BASIN_LR, BASIN_STEPS, BASIN_RADIUS = 21, 1.0, 800, 0.05


@functools.lru_cache(maxsize=1)
def _basin_shares() -> tuple[float, ...]:
    """Return the share of the exercise's grid that reaches each local maximum, highest maximum first."""
    from gaedu.ascent import ascend_many
    from gaedu.objectives import GaussianBumps

    bumps = GaussianBumps()
    xmin, xmax, ymin, ymax = bumps.bounds
    X, Y = np.meshgrid(np.linspace(xmin, xmax, BASIN_GRID), np.linspace(ymin, ymax, BASIN_GRID))
    ends = ascend_many(bumps, np.stack([X.ravel(), Y.ravel()], axis=1), BASIN_LR, BASIN_STEPS).points
    maxima, _ = bumps.local_maxima
    distance = np.linalg.norm(ends[:, None, :] - maxima[None, :, :], axis=-1)  # (n, 3)
    reached = np.where(distance.min(axis=1) <= BASIN_RADIUS, distance.argmin(axis=1), -1)
    return tuple(float(np.mean(reached == k)) for k in range(len(maxima)))


def check_basin_share(answer: Any) -> None:
    """Check the share of the exercise's grid of starts that ends at the lowest local maximum of ``GaussianBumps()``."""
    share = _to_number(answer, "one share between 0 and 1")
    shares, n = _basin_shares(), BASIN_GRID**2
    close = lambda a, b: abs(a - b) < 0.5 / n  # noqa: E731  (closer than one start of the grid)
    if share > 1 and any(close(share / n, s) for s in shares):
        _fail("that is a number of starts; a share divides it by the number of starts on the grid")
    if share > 1 and any(close(share / 100, s) for s in shares):
        _fail("that is a percentage; give the share as a number between 0 and 1")
    if not 0 <= share <= 1:
        _fail("a share is a number between 0 and 1")
    if close(share, shares[-1]):
        _ok(f"{share:.4f}: {round(share * n)} of the {n} starts climb the lowest hill")
        return
    if close(share, shares[0]):
        _fail("that is the share of the global maximum; the lowest hill is the last of local_maxima")
    if close(share, shares[1]):
        _fail("that is the share of the middle hill; the lowest hill is the last of local_maxima")
    _fail("not the lowest hill's share: check the grid (linspace over the bounds), lr, num_steps and the radius")
