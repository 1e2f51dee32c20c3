"""gaedu.games: the bilinear game and the Dirac-GAN behave as the theory says."""

import math

import numpy as np
import pytest
import torch

from gaedu.games import bilinear, dirac_gan, play, simultaneous_growth


@pytest.mark.parametrize("lr", [0.05, 0.2, 0.5])
def test_simultaneous_radius_grows_by_sqrt_one_plus_lr_squared(lr):
    points = play(bilinear, 1.0, -0.5, lr, 30, "simultaneous")
    radius = np.hypot(points[:, 0], points[:, 1])
    np.testing.assert_allclose(radius[1:] / radius[:-1], simultaneous_growth(lr), rtol=0, atol=1e-9)


def test_alternating_stays_bounded_and_cycles():
    points = play(bilinear, 1.0, 0.0, 0.3, 2000, "alternating")
    radius = np.hypot(points[:, 0], points[:, 1])
    assert radius.max() < 1.5 and radius.min() > 0.6  # neither escapes nor converges
    # it keeps coming back near the start
    assert np.min(np.hypot(points[50:, 0] - 1.0, points[50:, 1])) < 0.05


@pytest.mark.parametrize("method", ["extragradient", "optimistic"])
def test_extragradient_and_optimistic_converge(method):
    points = play(bilinear, 1.0, 0.5, 0.2, 500, method)
    assert np.hypot(*points[-1]) < 1e-2 * np.hypot(*points[0])


def test_extragradient_radius_factor():
    lr = 0.3
    points = play(bilinear, 1.0, 0.0, lr, 10, "extragradient")
    radius = np.hypot(points[:, 0], points[:, 1])
    np.testing.assert_allclose(radius[1:] / radius[:-1], math.sqrt(1 - lr**2 + lr**4), atol=1e-12)


def test_players_move_in_opposite_directions():
    # from (1, 1): x descends x·y (gradient y = 1) and y ascends it (gradient x = 1)
    x1, y1 = play(bilinear, 1.0, 1.0, 0.1, 1)[1]
    assert x1 == pytest.approx(0.9) and y1 == pytest.approx(1.1)


def test_dirac_gan_unregularized_does_not_converge_but_r1_and_noise_do():
    plain = play(dirac_gan(), 1.0, 1.0, 0.1, 1000, "alternating")
    r1 = play(dirac_gan(r1=1.0), 1.0, 1.0, 0.1, 1000, "alternating")
    noise = play(dirac_gan(noise_std=0.5), 1.0, 1.0, 0.1, 3000, "alternating")
    assert np.hypot(*plain[-100:].T).min() > 0.5
    assert np.hypot(*r1[-1]) < 1e-3
    assert np.hypot(*noise[-1]) < 1e-2


def test_dirac_gan_value_at_equilibrium_is_minus_log_four():
    v = dirac_gan()(torch.tensor(0.0, dtype=torch.float64), torch.tensor(0.0, dtype=torch.float64))
    assert v.item() == pytest.approx(-math.log(4))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(method="leapfrog"), "unknown method"),
        (dict(lr=0.0), "lr must be"),
        (dict(lr=float("nan")), "lr must be"),
        (dict(num_steps=-1), "num_steps"),
        (dict(x0=float("inf")), "finite"),
        (dict(x0="a"), "x0 must be a finite number"),
        (dict(lr=True), "lr must be"),
    ],
)
def test_play_bad_input(kwargs, message):
    args = dict(x0=1.0, y0=1.0, lr=0.1, num_steps=5, method="simultaneous") | kwargs
    with pytest.raises(ValueError, match=message):
        play(bilinear, **args)


@pytest.mark.parametrize(
    "kwargs, message",
    [(dict(r1=-1.0), "r1 must be"), (dict(noise_std=float("nan")), "noise_std must be"), (dict(nodes=0), "nodes")],
)
def test_dirac_gan_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        dirac_gan(**kwargs)
