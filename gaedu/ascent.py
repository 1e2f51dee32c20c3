r"""Gradient ascent on low-dimensional objectives, recorded step by step.

:func:`ascend` climbs a function :math:`J` of a few variables with the same
update rule as :class:`gaedu.optim.GradientAscent` and returns a
:class:`Trajectory`: every iterate, every value, how the run ended, and the
best point seen.

Where :math:`J` has a kink, autograd's derivative is used as the step
direction. At a single kink of ``abs``, ``relu`` or ``max``/``min`` that is a
valid subgradient (for a concave :math:`J`, a supergradient): ``abs`` and
``relu`` return slope 0 at 0, ``torch.maximum``/``torch.minimum`` split the
gradient evenly between equal arguments, and ``torch.max`` over a dimension
passes it to one of the tied entries. The chain rule through several kinks
need not return a subgradient (``relu(x) - relu(-x)`` gets slope 0 at 0), and
for non-concave networks the slope is an element of a conservative field, not
of a superdifferential. Subgradient steps need not increase :math:`J`, which
is why the trajectory keeps its best iterate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch

from gaedu._validation import check_int, check_nonnegative, check_positive
from gaedu.optim import GradientAscent

Status = Literal["converged", "max_steps", "diverged"]
Schedule = Literal["1/sqrt(t)", "1/t"] | Callable[[int], float] | None

#: A run is declared diverged once an iterate is this many times farther from
#: the origin than the start (plus one).
BLOWUP_FACTOR = 1e6


@dataclass
class Trajectory:
    """The record of one ascent run.

    Attributes:
        points: iterates :math:`x_0, \\dots, x_n`, shape ``(n + 1, d)``; always finite.
        values: :math:`J(x_t)`, shape ``(n + 1,)``; always finite.
        status: ``'converged'`` (gradient norm fell to ``tol``), ``'max_steps'``
            (the step budget ran out) or ``'diverged'`` (a value or iterate became
            non-finite or exploded; that iterate is not recorded).
        steps_taken: :math:`n`, the number of recorded steps.
        lrs: the learning rate of each step, shape ``(n,)``.
        grad_norms: :math:`\\lVert \\nabla J(x_t) \\rVert` at each recorded iterate, shape ``(n + 1,)``.
        diverged_at: for ``'diverged'``, the step whose result was not finite or exploded.
    """

    points: np.ndarray
    values: np.ndarray
    status: Status
    steps_taken: int
    lrs: np.ndarray
    grad_norms: np.ndarray
    diverged_at: int | None = None
    best_step: int = field(init=False)

    def __post_init__(self) -> None:
        self.best_step = int(np.argmax(self.values))

    @property
    def best_point(self) -> np.ndarray:
        """The iterate with the highest value (subgradient ascent is not monotone)."""
        return self.points[self.best_step]

    @property
    def best_value(self) -> float:
        """The highest value reached."""
        return float(self.values[self.best_step])

    @property
    def best_values(self) -> np.ndarray:
        """The best value so far after each step, shape ``(n + 1,)``."""
        return np.maximum.accumulate(self.values)

    def __repr__(self) -> str:
        end = f"diverged at step {self.diverged_at}" if self.status == "diverged" else self.status
        return (
            f"Trajectory({self.steps_taken} steps, {end}, last value {self.values[-1]:.6g}, "
            f"best value {self.best_value:.6g} at step {self.best_step})"
        )


def learning_rate(lr: float, schedule: Schedule, t: int) -> float:
    r"""Return the learning rate of step ``t = 1, 2, ...``.

    ``None`` keeps ``lr``; ``'1/sqrt(t)'`` gives :math:`\eta/\sqrt t`; ``'1/t'`` gives
    :math:`\eta/t`; a callable gives ``schedule(t)`` itself (``lr`` is then unused).
    For a network's optimizer the same schedules are ``torch.optim.lr_scheduler.LambdaLR``
    with ``lambda t: 1 / math.sqrt(t + 1)`` (it counts from 0).
    """
    if schedule is None:
        return lr
    if schedule == "1/sqrt(t)":
        return lr / math.sqrt(t)
    if schedule == "1/t":
        return lr / t
    value = schedule(t)
    if isinstance(value, torch.Tensor):
        value = value.item()
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise ValueError(f"schedule({t}) must return a finite learning rate > 0, got {value!r}")
    return float(value)


def _start(x0: torch.Tensor | np.ndarray | Sequence[float] | float) -> torch.Tensor:
    try:
        x = torch.as_tensor(np.asarray(x0.detach().cpu() if isinstance(x0, torch.Tensor) else x0, dtype=np.float64))
    except (TypeError, ValueError):
        raise ValueError(f"x0 must be numbers (a sequence, array or tensor), got {type(x0).__name__}") from None
    x = x.reshape(-1).clone()
    if x.numel() == 0:
        raise ValueError("x0 is empty")
    if not torch.isfinite(x).all():
        raise ValueError(f"x0 must be finite, got {x.tolist()}")
    return x


def _check_values(values: object, shape: tuple[int, ...]) -> torch.Tensor:
    """Return the objective's output after checking it is a differentiable tensor of ``shape``."""
    if not isinstance(values, torch.Tensor) or tuple(values.shape) != shape and not (shape == () and values.numel() == 1):
        got = tuple(values.shape) if isinstance(values, torch.Tensor) else type(values).__name__
        wanted = "a scalar tensor" if shape == () else f"one value per start, shape {shape}"
        raise ValueError(f"the objective must return {wanted}, got {got}")
    if not values.requires_grad:
        raise ValueError("the objective's value does not depend on x: compute it from x with torch operations")
    return values.reshape(shape)


def _value_and_grad(objective: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> tuple[float, torch.Tensor]:
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        value = _check_values(objective(x), ())
        (grad,) = torch.autograd.grad(value, x, allow_unused=True)
    return float(value.detach()), torch.zeros_like(x) if grad is None else grad


def ascend(
    objective: Callable[[torch.Tensor], torch.Tensor],
    x0: torch.Tensor | np.ndarray | Sequence[float] | float,
    lr: float,
    num_steps: int,
    *,
    momentum: float = 0.0,
    schedule: Schedule = None,
    tol: float | None = None,
) -> Trajectory:
    r"""Climb ``objective`` from ``x0`` by gradient ascent and record the trajectory.

    Each step is :math:`x_{t+1} = x_t + \eta_t\, d_t` with :math:`d_t` the
    (momentum) ascent direction of :class:`gaedu.optim.GradientAscent`, computed in
    float64. At a kink the direction is autograd's subgradient (see the module
    docstring).

    Args:
        objective: a function of a float64 tensor of shape ``(d,)`` that returns a
            scalar tensor, built from torch operations so autograd can differentiate it.
        x0: the start, ``d`` numbers.
        lr: learning rate :math:`\eta > 0` (the base rate of a string schedule).
        num_steps: the step budget, ``>= 0``.
        momentum: momentum factor in ``[0, 1)``.
        schedule: ``None`` (constant), ``'1/sqrt(t)'``, ``'1/t'``, or a callable
            ``t -> lr_t`` for ``t = 1, 2, ...``.
        tol: stop as ``'converged'`` once :math:`\lVert\nabla J(x_t)\rVert \le` ``tol``.

    Returns:
        The :class:`Trajectory`; it holds only finite numbers, also after a divergence.

    Raises:
        ValueError: bad ``lr``, ``num_steps``, ``momentum``, ``schedule``, ``tol`` or
            ``x0``, or an objective that does not return a differentiable scalar.
    """
    lr, num_steps = check_positive("lr", lr), check_int("num_steps", num_steps, minimum=0)
    if schedule is not None and not callable(schedule) and schedule not in ("1/sqrt(t)", "1/t"):
        raise ValueError(f"schedule must be None, '1/sqrt(t)', '1/t' or a callable, got {schedule!r}")
    tol = None if tol is None else check_nonnegative("tol", tol)
    x = _start(x0)
    optimizer = GradientAscent([x], lr=lr, momentum=momentum)  # checks momentum too
    limit = BLOWUP_FACTOR * (1.0 + float(x.norm()))

    value, grad = _value_and_grad(objective, x)
    if not math.isfinite(value) or not torch.isfinite(grad).all():
        raise ValueError(f"the objective or its gradient is not finite at x0 = {x.tolist()}")
    points, values, norms, lrs = [x.clone()], [value], [float(grad.norm())], []
    status: Status = "max_steps"
    diverged_at = None
    for t in range(1, int(num_steps) + 1):
        if tol is not None and norms[-1] <= tol:
            status = "converged"
            break
        optimizer.param_groups[0]["lr"] = lr_t = learning_rate(lr, schedule, t)
        x.grad = grad
        optimizer.step()
        if not torch.isfinite(x).all() or float(x.norm()) > limit:
            status, diverged_at = "diverged", t
            break
        value, grad = _value_and_grad(objective, x)
        if not math.isfinite(value) or not torch.isfinite(grad).all():
            status, diverged_at = "diverged", t
            break
        points.append(x.detach().clone())
        values.append(value)
        norms.append(float(grad.norm()))
        lrs.append(lr_t)
    else:
        if tol is not None and norms[-1] <= tol:
            status = "converged"
    return Trajectory(
        points=torch.stack(points).numpy(),
        values=np.array(values),
        status=status,
        steps_taken=len(points) - 1,
        lrs=np.array(lrs),
        grad_norms=np.array(norms),
        diverged_at=diverged_at,
    )


@dataclass
class Ensemble:
    """What :func:`ascend_many` returns for ``n`` starts in ``d`` dimensions.

    Attributes:
        starts: the starts, ``(n, d)`` (a copy: the caller's array is never shared).
        points: the final iterates, ``(n, d)``; always finite.
        values: the objective at the final iterates, ``(n,)``.
        path: every iterate, ``(num_steps + 1, n, d)``, when asked for (else ``None``).
        gradient_evaluations: gradients computed in all, ``n * num_steps``.
        diverged: ``(n,)`` booleans: the starts whose run became non-finite or exploded
            (see :data:`BLOWUP_FACTOR`); each stays at its last finite iterate.
    """

    starts: np.ndarray
    points: np.ndarray
    values: np.ndarray
    path: np.ndarray | None
    gradient_evaluations: int
    diverged: np.ndarray


def _starts(starts: torch.Tensor | np.ndarray | Sequence[Sequence[float]]) -> torch.Tensor:
    if isinstance(starts, torch.Tensor):
        starts = starts.detach().cpu()
    try:
        x = torch.tensor(np.array(starts, dtype=np.float64))  # np.array copies: nothing is shared with the caller
    except (TypeError, ValueError):
        raise ValueError(f"starts must be an (n, d) array of numbers, got {type(starts).__name__}") from None
    if x.ndim != 2 or len(x) == 0 or x.shape[1] == 0 or not torch.isfinite(x).all():
        raise ValueError(f"starts must be a finite (n, d) array with n >= 1, got shape {tuple(x.shape)}")
    return x


def ascend_many(
    objective: Callable[[torch.Tensor], torch.Tensor],
    starts: torch.Tensor | np.ndarray | Sequence[Sequence[float]],
    lr: float,
    num_steps: int,
    *,
    noise: float = 0.0,
    seed: int = 0,
    keep_path: bool = False,
) -> Ensemble:
    r"""Climb ``objective`` from many starts at once, optionally with noisy gradients.

    Every start takes :math:`x_{t+1} = x_t + \eta\,\big(\nabla J(x_t) + \sigma\,\xi_t\big)`
    with :math:`\xi_t \sim \mathcal N(0, I)` independent across starts and steps and
    :math:`\sigma` = ``noise``: with ``noise=0`` this is plain gradient ascent (as
    :func:`ascend`), otherwise it mimics the noise of stochastic gradients. The step is
    :class:`gaedu.optim.GradientAscent`'s.

    Args:
        objective: a function of float64 points ``(..., d)`` returning values ``(...)``,
            such as the objectives of :mod:`gaedu.objectives`.
        starts: ``(n, d)`` start points.
        lr: the step size :math:`\eta > 0`.
        num_steps: steps per start, ``>= 0``.
        noise: :math:`\sigma \ge 0`.
        seed: seed of the noise (the global random state is untouched).
        keep_path: also return every iterate.

    Returns:
        An :class:`Ensemble`.

    Raises:
        ValueError: bad starts or settings, or an objective that does not return one
            differentiable value per start.
    """
    x = _starts(starts)
    lr, num_steps = check_positive("lr", lr), check_int("num_steps", num_steps, minimum=0)
    noise = check_nonnegative("noise", noise)
    rng = torch.Generator().manual_seed(check_int("seed", seed, minimum=0))
    starts_array, path = x.numpy().copy(), [x.clone()] if keep_path else None
    optimizer = GradientAscent([x], lr=lr)
    limit = BLOWUP_FACTOR * (1.0 + x.norm(dim=1))  # (n,)
    alive = torch.ones(len(x), dtype=torch.bool)
    for _ in range(num_steps):
        with torch.enable_grad():
            x.requires_grad_(True)
            values = _check_values(objective(x), (len(x),))
            (grad,) = torch.autograd.grad(values.sum(), x)  # the starts are independent: one sum, n gradients
        x.requires_grad_(False)
        if noise:
            grad = grad + noise * torch.randn(x.shape, generator=rng, dtype=x.dtype)
        alive &= torch.isfinite(grad).all(dim=1)
        previous = x.clone()
        x.grad = torch.where(alive[:, None], grad, 0.0)  # a diverged start stays where it is
        optimizer.step()
        exploded = ~torch.isfinite(x).all(dim=1) | (x.norm(dim=1) > limit)
        x[exploded] = previous[exploded]  # keep the last finite iterate
        alive &= ~exploded
        if keep_path:
            path.append(x.clone())
    with torch.no_grad():
        values = objective(x)
    return Ensemble(
        starts=starts_array,
        points=x.numpy().copy(),
        values=values.detach().numpy().copy(),
        path=torch.stack(path).numpy() if keep_path else None,
        gradient_evaluations=len(x) * num_steps,
        diverged=(~alive).numpy(),
    )
