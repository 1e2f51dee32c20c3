"""gaedu.ascent.ascend: trajectories, statuses, schedules, subgradients at kinks, and bad input."""

import math

import numpy as np
import pytest
import torch

from gaedu.ascent import Trajectory, ascend, learning_rate
from gaedu.objectives import ConcaveQuadratic, GaussianBumps, PiecewiseLinear
from gaedu.optim import GradientAscent


def test_trajectory_shapes_and_first_point():
    q = ConcaveQuadratic(4.0)
    trajectory = ascend(q, [1.0, 1.0], lr=0.1, num_steps=25)
    assert isinstance(trajectory, Trajectory)
    assert trajectory.points.shape == (26, 2) and trajectory.values.shape == (26,)
    assert trajectory.lrs.shape == (25,) and trajectory.grad_norms.shape == (26,)
    np.testing.assert_array_equal(trajectory.points[0], [1.0, 1.0])
    np.testing.assert_allclose(trajectory.values, q(torch.as_tensor(trajectory.points)).numpy())
    assert trajectory.status == "max_steps" and trajectory.steps_taken == 25


def test_same_steps_as_the_optimizer_with_momentum():
    bumps = GaussianBumps()
    trajectory = ascend(bumps, [0.4, -0.3], lr=0.3, num_steps=40, momentum=0.7)
    x = torch.tensor([0.4, -0.3], dtype=torch.float64, requires_grad=True)
    optimizer = GradientAscent([x], lr=0.3, momentum=0.7)
    for t in range(40):
        optimizer.zero_grad()
        bumps(x).backward()
        optimizer.step()
        np.testing.assert_allclose(trajectory.points[t + 1], x.detach().numpy(), atol=1e-12)


@pytest.mark.parametrize("lr", [0.05, 0.15, 0.19])
def test_quadratic_contracts_by_one_minus_lr_lambda(lr):
    q = ConcaveQuadratic(condition_number=10.0)  # eigenvalues 1 and 10 along the axes
    trajectory = ascend(q, [1.0, 1.0], lr=lr, num_steps=20)
    errors = trajectory.points - q.maximizer
    np.testing.assert_allclose(errors[1:, 0] / errors[:-1, 0], 1 - lr * 1.0)
    np.testing.assert_allclose(errors[1:, 1] / errors[:-1, 1], 1 - lr * 10.0)


def test_converged_status_with_tolerance():
    trajectory = ascend(ConcaveQuadratic(2.0), [1.0, -1.0], lr=0.2, num_steps=1000, tol=1e-8)
    assert trajectory.status == "converged"
    assert trajectory.grad_norms[-1] <= 1e-8 < trajectory.grad_norms[-2]
    assert trajectory.steps_taken < 1000


def test_converged_at_the_start_takes_no_step():
    trajectory = ascend(ConcaveQuadratic(2.0), [0.0, 0.0], lr=0.2, num_steps=10, tol=1e-12)
    assert trajectory.status == "converged" and trajectory.steps_taken == 0


def test_zero_steps():
    trajectory = ascend(ConcaveQuadratic(2.0), [1.0, 0.0], lr=0.2, num_steps=0)
    assert trajectory.status == "max_steps" and trajectory.points.shape == (1, 2)


def test_divergence_by_explosion_is_reported_and_finite():
    q = ConcaveQuadratic(condition_number=10.0)
    trajectory = ascend(q, [1.0, 1.0], lr=0.25, num_steps=10_000)  # 0.25 > 2/10
    assert trajectory.status == "diverged"
    assert trajectory.diverged_at == trajectory.steps_taken + 1
    assert np.isfinite(trajectory.points).all() and np.isfinite(trajectory.values).all()
    assert trajectory.steps_taken < 10_000


def test_divergence_by_non_finite_value():
    # J(x) = 2x + log(1 − x) is defined only for x < 1; one long step from 0 lands at x = 2
    trajectory = ascend(lambda x: (2 * x + torch.log(1 - x)).sum(), [0.0], lr=2.0, num_steps=50)
    assert trajectory.status == "diverged" and trajectory.diverged_at == 1
    assert trajectory.points.shape == (1, 1) and np.isfinite(trajectory.values).all()


def test_schedules():
    assert learning_rate(0.5, None, 7) == 0.5
    assert learning_rate(0.5, "1/sqrt(t)", 4) == 0.25
    assert learning_rate(0.5, "1/t", 5) == 0.1
    assert learning_rate(0.5, lambda t: 0.1 * 0.9**t, 2) == pytest.approx(0.081)
    trajectory = ascend(PiecewiseLinear(), [2.0, 2.0], lr=1.0, num_steps=9, schedule="1/t")
    np.testing.assert_allclose(trajectory.lrs, 1.0 / np.arange(1, 10))


def test_bad_schedule_values():
    with pytest.raises(ValueError, match=r"schedule\(3\)"):
        ascend(PiecewiseLinear(), [1.0, 1.0], lr=1.0, num_steps=5, schedule=lambda t: 1.0 if t < 3 else -1.0)
    with pytest.raises(ValueError, match="schedule must be"):
        ascend(PiecewiseLinear(), [1.0, 1.0], lr=1.0, num_steps=5, schedule="exp")


@pytest.mark.parametrize(
    "fn, x, superdifferential",
    [
        (lambda x: -x.abs().sum(), [0.0], ([-1.0], [1.0])),
        (lambda x: -torch.relu(x).sum(), [0.0], ([-1.0], [0.0])),
        (lambda x: torch.minimum(x[0], 1 - x[0]), [0.5], ([-1.0], [1.0])),
        (lambda x: -torch.maximum(x[0], -x[0]), [0.0], ([-1.0], [1.0])),
        (lambda x: -x.max(), [0.0, 0.0], None),
    ],
)
def test_autograd_at_a_kink_gives_a_supergradient(fn, x, superdifferential):
    trajectory = ascend(fn, x, lr=1.0, num_steps=1)
    x0 = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(fn(x0), x0)
    # the first step is x0 + lr * g, and g satisfies J(y) <= J(x0) + g·(y − x0) for all y
    np.testing.assert_allclose(trajectory.points[1], np.array(x) + g.numpy())
    ys = torch.as_tensor(np.random.default_rng(0).uniform(-2, 2, size=(500, len(x))))
    assert all(fn(y) <= fn(x0.detach()) + g @ (y - x0.detach()) + 1e-12 for y in ys)
    if superdifferential is not None:
        low, high = superdifferential
        assert np.all(np.array(low) <= g.numpy()) and np.all(g.numpy() <= np.array(high))


def test_best_iterate_is_tracked_when_not_monotone():
    trajectory = ascend(PiecewiseLinear(), [2.0, 2.0], lr=0.4, num_steps=60)
    assert not np.all(np.diff(trajectory.values) >= 0)  # subgradient ascent can step down
    assert trajectory.best_value == trajectory.values.max()
    np.testing.assert_array_equal(trajectory.best_point, trajectory.points[trajectory.best_step])
    assert np.all(np.diff(trajectory.best_values) >= 0)


def test_diminishing_steps_approach_the_kink():
    f = PiecewiseLinear()
    constant = ascend(f, [2.0, 2.0], lr=0.3, num_steps=400)
    diminishing = ascend(f, [2.0, 2.0], lr=0.3, num_steps=400, schedule="1/sqrt(t)")
    assert diminishing.best_value > constant.best_value


def test_accepts_scalars_arrays_and_tensors():
    for x0 in (1.0, [1.0], np.array([1.0]), torch.tensor([1.0])):
        trajectory = ascend(lambda x: -(x**2).sum(), x0, lr=0.1, num_steps=3)
        assert trajectory.points.shape == (4, 1)


def test_original_start_tensor_is_untouched():
    x0 = torch.tensor([1.0, 1.0])
    ascend(ConcaveQuadratic(), x0, lr=0.1, num_steps=3)
    assert torch.equal(x0, torch.tensor([1.0, 1.0]))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(lr=0.0), "lr must be"),
        (dict(lr=-0.1), "lr must be"),
        (dict(lr=float("nan")), "lr must be"),
        (dict(lr=float("inf")), "lr must be"),
        (dict(num_steps=-1), "num_steps must be"),
        (dict(num_steps=2.5), "num_steps must be"),
        (dict(x0=[float("nan"), 0.0]), "x0 must be finite"),
        (dict(x0=[float("inf"), 0.0]), "x0 must be finite"),
        (dict(x0="start"), "x0 must be numbers"),
        (dict(x0=[]), "x0 is empty"),
        (dict(momentum=1.0), "momentum"),
        (dict(tol=-1.0), "tol must be"),
        (dict(objective=lambda x: x * 2), "scalar"),
        (dict(objective=lambda x: 3.0), "scalar"),
        (dict(objective=lambda x: torch.tensor(1.0)), "does not depend"),
        (dict(objective=lambda x: torch.log(x.sum() - 5)), "not finite at x0"),
    ],
)
def test_bad_input(kwargs, message):
    args = dict(objective=ConcaveQuadratic(), x0=[1.0, 1.0], lr=0.1, num_steps=5) | kwargs
    with pytest.raises(ValueError, match=message) as info:
        ascend(args.pop("objective"), args.pop("x0"), args.pop("lr"), args.pop("num_steps"), **args)
    assert "\n" not in str(info.value)


def test_repr_mentions_status():
    trajectory = ascend(ConcaveQuadratic(10.0), [1.0, 1.0], lr=0.25, num_steps=1000)
    assert "diverged at step" in repr(trajectory) and math.isfinite(trajectory.best_value)


# ascend_many: many starts at once


def test_ascend_many_matches_ascend_start_by_start():
    from gaedu.ascent import ascend_many
    from gaedu.objectives import GaussianBumps

    bumps = GaussianBumps()
    starts = np.array([[-2.0, 1.0], [0.5, 0.5], [2.0, -2.5]])
    many = ascend_many(bumps, starts, lr=0.2, num_steps=40, keep_path=True)
    for i, start in enumerate(starts):
        single = ascend(bumps, start, lr=0.2, num_steps=40)
        np.testing.assert_allclose(many.path[:, i], single.points, atol=1e-12)
        np.testing.assert_allclose(many.values[i], single.values[-1], atol=1e-12)
    assert many.gradient_evaluations == 3 * 40 and many.path.shape == (41, 3, 2)
    np.testing.assert_array_equal(many.starts, starts)


def test_ascend_many_noise_is_seeded_and_moves_the_points():
    from gaedu.ascent import ascend_many
    from gaedu.objectives import ConcaveQuadratic

    quadratic = ConcaveQuadratic()
    starts = np.zeros((4, 2))
    plain = ascend_many(quadratic, starts, lr=0.1, num_steps=20)
    noisy = ascend_many(quadratic, starts, lr=0.1, num_steps=20, noise=1.0, seed=3)
    again = ascend_many(quadratic, starts, lr=0.1, num_steps=20, noise=1.0, seed=3)
    np.testing.assert_array_equal(noisy.points, again.points)
    assert not np.allclose(noisy.points, plain.points)
    assert len({tuple(p) for p in noisy.points.round(12)}) == 4  # independent noise per start


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"starts": np.zeros(3)}, r"\(n, d\)"),
        ({"starts": np.full((2, 2), np.nan)}, "finite"),
        ({"lr": 0.0}, "lr must be"),
        ({"num_steps": -1}, "num_steps"),
        ({"noise": -0.5}, "noise must be"),
        ({"objective": lambda x: x.sum()}, "one value per start"),
        ({"objective": lambda x: x.detach().numpy().sum(1)}, "one value per start"),
        ({"objective": lambda x: torch.zeros(len(x), dtype=x.dtype)}, "does not depend on x"),
        ({"lr": True}, "lr must be"),
        ({"starts": "ab"}, "starts must be"),
        ({"seed": -1}, "seed"),
    ],
)
def test_ascend_many_refuses_bad_input(kwargs, message):
    from gaedu.ascent import ascend_many
    from gaedu.objectives import ConcaveQuadratic

    arguments = {"objective": ConcaveQuadratic(), "starts": np.zeros((2, 2)), "lr": 0.1, "num_steps": 3, **kwargs}
    with pytest.raises(ValueError, match=message):
        ascend_many(**arguments)


def test_ascend_many_with_no_steps_does_not_share_the_callers_array():
    from gaedu.ascent import ascend_many
    from gaedu.objectives import ConcaveQuadratic

    starts = np.array([[1.0, 2.0], [3.0, 4.0]])
    result = ascend_many(ConcaveQuadratic(), starts, lr=0.1, num_steps=0)
    result.points[0, 0] = 99.0
    result.starts[1, 1] = 99.0
    np.testing.assert_array_equal(starts, [[1.0, 2.0], [3.0, 4.0]])


def test_ascend_many_stops_each_diverging_start_at_its_last_finite_point():
    from gaedu.ascent import ascend_many
    from gaedu.objectives import ConcaveQuadratic

    quadratic = ConcaveQuadratic(condition_number=1.0, curvature=1.0)  # the step multiplies x by (1 − lr)
    starts = np.array([[1.0, 0.0], [0.0, 0.0]])
    result = ascend_many(quadratic, starts, lr=3.0, num_steps=200, keep_path=True)  # |1 − 3| = 2: doubles each step
    assert result.diverged.tolist() == [True, False]
    assert np.isfinite(result.points).all() and np.isfinite(result.path).all()
    assert np.abs(result.points[0]).max() <= 1e6 * (1 + 1.0)  # BLOWUP_FACTOR times (1 + |start|)
    np.testing.assert_array_equal(result.points[1], [0.0, 0.0])
    calm = ascend_many(quadratic, starts, lr=0.5, num_steps=20)
    assert not calm.diverged.any()
