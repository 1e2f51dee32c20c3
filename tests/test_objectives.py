"""gaedu.objectives: each objective's maximum is where it says, and it evaluates grids."""

import numpy as np
import pytest
import torch

from gaedu.objectives import ConcaveQuadratic, CurvedRidge, GaussianBumps, PiecewiseLinear, grid_values

OBJECTIVES = [ConcaveQuadratic(10.0, angle=0.7, centre=(0.5, -1.0)), GaussianBumps(), PiecewiseLinear(), CurvedRidge()]


@pytest.mark.parametrize("objective", OBJECTIVES, ids=lambda o: o.name)
def test_maximizer_beats_random_points(objective):
    points = torch.as_tensor(np.random.default_rng(0).uniform(-3, 3, size=(5000, 2)))
    assert objective(points).max().item() <= objective.max_value + 1e-12
    step = torch.randn(200, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    nearby = torch.as_tensor(objective.maximizer) + 1e-3 * step
    assert objective(nearby).max().item() <= objective.max_value + 1e-12


@pytest.mark.parametrize("objective", OBJECTIVES, ids=lambda o: o.name)
def test_batched_and_single_evaluation_agree(objective):
    X, Y, Z = grid_values(objective, resolution=7)
    assert X.shape == Y.shape == Z.shape == (7, 7)
    single = objective(torch.tensor([X[2, 3], Y[2, 3]], dtype=torch.float64)).item()
    assert single == pytest.approx(Z[2, 3])


@pytest.mark.parametrize("objective", OBJECTIVES, ids=lambda o: o.name)
def test_wrong_dimension_is_refused(objective):
    with pytest.raises(ValueError, match="2 coordinates"):
        objective(torch.zeros(3))


def test_quadratic_matches_its_hessian():
    q = ConcaveQuadratic(condition_number=6.0, curvature=0.5, angle=0.3, centre=(1.0, 2.0))
    H = torch.autograd.functional.hessian(q, torch.tensor([0.2, -0.1], dtype=torch.float64))
    np.testing.assert_allclose(H.numpy(), q.hessian_matrix, atol=1e-12)
    np.testing.assert_allclose(np.sort(-np.linalg.eigvalsh(q.hessian_matrix)), [0.5, 3.0])
    assert q.lipschitz == 3.0 and q.max_value == 0.0


def test_bumps_local_maxima_have_zero_gradient_and_negative_curvature():
    bumps = GaussianBumps()
    points, values = bumps.local_maxima
    assert len(points) == 3 and np.all(np.diff(values) < 0)
    for point in points:
        x = torch.tensor(point)
        grad = torch.autograd.functional.jacobian(bumps, x)
        hess = torch.autograd.functional.hessian(bumps, x)
        assert grad.abs().max() < 1e-10
        assert torch.linalg.eigvalsh(hess).max() < 0
    np.testing.assert_allclose(bumps.maximizer, points[0])


def test_piecewise_linear_superdifferential():
    f = PiecewiseLinear(weights=(1.0, 2.0), centre=(0.5, -0.5))
    low, high = f.superdifferential([0.5, 1.0])
    np.testing.assert_array_equal(low, [-1.0, -2.0])
    np.testing.assert_array_equal(high, [1.0, -2.0])
    # every corner g of the box satisfies f(y) <= f(x) + g·(y - x)
    x = torch.tensor([0.5, 1.0], dtype=torch.float64)
    ys = torch.as_tensor(np.random.default_rng(1).uniform(-3, 3, size=(2000, 2)))
    for g in ([-1.0, -2.0], [1.0, -2.0]):
        assert (f(ys) <= f(x) + (ys - x) @ torch.tensor(g, dtype=torch.float64) + 1e-12).all()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: ConcaveQuadratic(condition_number=0.5), "condition_number"),
        (lambda: ConcaveQuadratic(curvature=0.0), "curvature"),
        (lambda: GaussianBumps(heights=(1.0, -1.0, 1.0)), "heights"),
        (lambda: GaussianBumps(centres=((0, 0),), heights=(1.0, 2.0), widths=(1.0,)), "same k >= 1 bumps"),
        (lambda: PiecewiseLinear(weights=(1.0,), centre=(0.0, 0.0)), "weights"),
        (lambda: CurvedRidge(b=-1.0), "b must be"),
        (lambda: CurvedRidge(a=float("nan")), "a must be"),
        (lambda: ConcaveQuadratic(angle=float("nan")), "angle must be"),
        (lambda: ConcaveQuadratic(centre=(1.0, 2.0, 3.0)), "centre must have shape"),
        (lambda: ConcaveQuadratic(centre=(1.0, float("inf"))), "centre must be finite"),
        (lambda: GaussianBumps(widths=(float("nan"), 1.0, 1.0)), "widths must be finite"),
        (lambda: GaussianBumps(centres=((0, 0, 0),), heights=(1.0,), widths=(1.0,)), "centres must have shape"),
        (lambda: PiecewiseLinear(centre=("a", 0.0)), "centre must be numbers"),
    ],
)
def test_bad_parameters(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_overlapping_bumps_are_refused_rather_than_given_a_wrong_maximum():
    # two equal bumps 0.5 apart with width 1 merge into one hill: the centres share a single maximum
    merged = GaussianBumps(centres=((0.0, 0.0), (0.5, 0.0)), heights=(1.0, 1.0), widths=(1.0, 1.0))
    with pytest.raises(ValueError, match="overlap"):
        _ = merged.local_maxima


def test_parameters_are_read_only_so_cached_maxima_cannot_go_stale():
    bumps = GaussianBumps()
    _ = bumps.local_maxima
    with pytest.raises(ValueError, match="read-only"):
        bumps.heights[0] = 5.0
