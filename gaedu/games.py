r"""Two-player games in two variables: what gradient descent–ascent does.

A GAN is a game: the discriminator ascends a value :math:`V`, the generator
descends it. The smallest games show the dynamics that make GAN training hard.

* The **bilinear game** :math:`f(x, y) = x y`, with :math:`x` descending and
  :math:`y` ascending. Its only equilibrium is :math:`(0, 0)`.
* The **Dirac-GAN** of Mescheder et al. (2018): real data sit at 0, the
  generator puts all its mass at :math:`\theta`, the discriminator is
  :math:`D(x) = \sigma(\psi x)`. Its only equilibrium is :math:`(\theta, \psi) = (0, 0)`.

Each game is a function :math:`(x, y) \mapsto` the value, and :func:`play`
runs one of four update rules on it, with the descending player first:

* ``'simultaneous'``: both players step from the same point (GDA);
* ``'alternating'``: :math:`x` steps, then :math:`y` steps from the new :math:`x`;
* ``'extragradient'``: a look-ahead half step, then the real step with the
  look-ahead's gradients (Korpelevich 1976);
* ``'optimistic'``: each step adds the change in gradient since the last
  step, :math:`2 g_t - g_{t-1}` (Daskalakis et al. 2018).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from gaedu._validation import check_int, check_nonnegative, check_number, check_positive

METHODS = ("simultaneous", "alternating", "extragradient", "optimistic")
Game = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def bilinear(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The bilinear game's value ``x * y``: ``x`` descends it, ``y`` ascends it."""
    return x * y


def dirac_gan(r1: float = 0.0, noise_std: float = 0.0, nodes: int = 20) -> Game:
    r"""Return the Dirac-GAN's value :math:`V(\theta, \psi)` as a game ``(theta, psi) -> value``.

    With :math:`f(t) = \log \sigma(t)` the standard GAN value is

    .. math::

        V(\theta, \psi) = \mathbb E_\varepsilon\, f(\psi\varepsilon)
        + \mathbb E_\varepsilon\, f(-\psi(\theta + \varepsilon)) - \tfrac{\gamma}{2}\psi^2,

    the log-probability that the discriminator labels real samples real and
    fake samples fake. The generator (:math:`\theta`) descends it, the
    discriminator (:math:`\psi`) ascends it.

    Args:
        r1: :math:`\gamma \ge 0`, the weight of the zero-centred gradient penalty
            :math:`\tfrac{\gamma}{2}\lVert\nabla_x f\rVert^2` on real data (R1), with
            :math:`f(x) = \psi x` the discriminator's logit (:math:`D = \sigma(f)`), whose
            gradient is :math:`\psi`.
        noise_std: standard deviation of instance noise :math:`\varepsilon` added to
            real and fake samples; the expectation is taken exactly (Gauss–Hermite).
        nodes: Gauss–Hermite nodes for the expectation.

    Raises:
        ValueError: ``r1`` or ``noise_std`` is negative or not finite.
    """
    r1, noise_std = check_nonnegative("r1", r1), check_nonnegative("noise_std", noise_std)
    nodes = check_int("nodes", nodes)
    if noise_std > 0:
        points, weights = np.polynomial.hermite_e.hermegauss(nodes)  # for E over N(0, 1)
        eps = torch.as_tensor(points * noise_std)
        w = torch.as_tensor(weights / weights.sum())
    else:
        eps, w = torch.zeros(1, dtype=torch.float64), torch.ones(1, dtype=torch.float64)

    def value(theta: torch.Tensor, psi: torch.Tensor) -> torch.Tensor:
        eps_ = eps.to(theta.device, theta.dtype)
        w_ = w.to(theta.device, theta.dtype)
        real = (w_ * F.logsigmoid(psi * eps_)).sum()  # log D(x_real), real data at 0
        fake = (w_ * F.logsigmoid(-psi * (theta + eps_))).sum()  # log(1 − D(x_fake)), fake data at θ
        return real + fake - 0.5 * r1 * psi**2

    return value


def _grads(game: Game, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    x = x.detach().requires_grad_(True)
    y = y.detach().requires_grad_(True)
    gx, gy = torch.autograd.grad(game(x, y), (x, y))
    return gx, gy


def play(game: Game, x0: float, y0: float, lr: float, num_steps: int, method: str = "simultaneous") -> np.ndarray:
    r"""Run descent on ``x`` and ascent on ``y`` of ``game``; return the points, shape ``(num_steps + 1, 2)``.

    Args:
        game: a function ``(x, y) -> value`` of two scalar tensors.
        x0, y0: the start.
        lr: learning rate :math:`\eta > 0` of both players.
        num_steps: number of steps, ``>= 0``.
        method: one of ``'simultaneous'``, ``'alternating'``, ``'extragradient'``, ``'optimistic'``.

    Raises:
        ValueError: an unknown method, ``lr <= 0`` or not finite, ``num_steps < 0``, a non-finite start.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(map(repr, METHODS))}")
    lr, num_steps = check_positive("lr", lr), check_int("num_steps", num_steps, minimum=0)
    x0, y0 = check_number("x0", x0), check_number("y0", y0)
    x = torch.tensor(float(x0), dtype=torch.float64)
    y = torch.tensor(float(y0), dtype=torch.float64)
    points = [(x0, y0)]
    previous = _grads(game, x, y)
    for _ in range(int(num_steps)):
        gx, gy = _grads(game, x, y)
        if method == "simultaneous":
            x, y = x - lr * gx, y + lr * gy
        elif method == "alternating":
            x = x - lr * gx
            y = y + lr * _grads(game, x, y)[1]
        elif method == "extragradient":
            hx, hy = _grads(game, x - lr * gx, y + lr * gy)  # gradients at the look-ahead point
            x, y = x - lr * hx, y + lr * hy
        else:  # optimistic: step along 2 g_t − g_{t−1}
            x, y = x - lr * (2 * gx - previous[0]), y + lr * (2 * gy - previous[1])
            previous = (gx, gy)
        points.append((float(x), float(y)))
    return np.array(points)


def simultaneous_growth(lr: float) -> float:
    r"""Return :math:`\sqrt{1 + \eta^2}`, the factor by which simultaneous GDA on :math:`xy` multiplies the radius."""
    return math.sqrt(1 + lr**2)
