r"""Objectives with known maxima, small enough to see.

Each objective is a callable ``J(x)`` on points ``x`` of shape ``(..., d)``
that returns values of shape ``(...)``, so the same object evaluates one
point for ascent and a whole grid for a contour plot. Each knows where its
maximum is, so a chapter can measure how close ascent gets.

* :class:`ConcaveQuadratic`: :math:`J(x) = -\tfrac12 (x - x^\star)^\top A (x - x^\star)`
  with a chosen condition number; the model problem for learning rates.
* :class:`GaussianBumps`: a sum of Gaussian hills with several local maxima.
* :class:`PiecewiseLinear`: :math:`J(x) = -\sum_i w_i |x_i - c_i|`, concave with kinks.
* :class:`CurvedRidge`: the negated Rosenbrock function, a narrow curved ridge.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np
import torch

from gaedu._validation import check_number, check_positive


def _as_tensor(x: torch.Tensor | np.ndarray | Sequence[float]) -> torch.Tensor:
    return x if isinstance(x, torch.Tensor) else torch.tensor(np.array(x, dtype=np.float64))  # a copy: read-only arrays welcome


def _finite_array(name: str, value: object, shape: tuple[int, ...]) -> np.ndarray:
    """Return ``value`` as a read-only float64 array of ``shape`` (-1: any length), or raise ``ValueError``."""
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numbers, got {value!r}") from None
    if array.ndim != len(shape) or any(want not in (-1, got) for want, got in zip(shape, array.shape, strict=True)):
        wanted = "(" + ", ".join("k" if s == -1 else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
        raise ValueError(f"{name} must have shape {wanted}, got {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite, got {array.tolist()}")
    array.setflags(write=False)
    return array


class Objective:
    """Base class: a function to maximize, with its known maximum and a window to plot it in."""

    name: str = "objective"
    dim: int = 2

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        x = _as_tensor(x)
        if x.shape[-1] != self.dim:
            raise ValueError(f"{self.name} takes points with {self.dim} coordinates, got shape {tuple(x.shape)}")
        return self._value(x)

    def _value(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    @property
    def maximizer(self) -> np.ndarray:
        """The global maximizer, shape ``(dim,)``."""
        raise NotImplementedError

    @property
    def max_value(self) -> float:
        """The global maximum value."""
        return float(self(torch.tensor(self.maximizer))) + 0.0  # + 0.0 turns -0.0 into 0.0

    #: ``(xmin, xmax, ymin, ymax)``: a window that shows the interesting part.
    bounds: tuple[float, float, float, float] = (-3.0, 3.0, -3.0, 3.0)

    def __repr__(self) -> str:
        return f"<{self.name}>"


class ConcaveQuadratic(Objective):
    r"""A concave quadratic :math:`J(x) = -\tfrac12 (x - c)^\top A (x - c)` in 2-D.

    ``A`` has eigenvalues ``curvature`` and ``curvature * condition_number``
    along axes turned by ``angle`` radians. Gradient ascent with learning rate
    :math:`\eta` multiplies the error along an eigenvector of eigenvalue
    :math:`\lambda` by :math:`1 - \eta\lambda` per step, so it converges exactly
    when :math:`\eta < 2 / \lambda_{\max}`.

    Args:
        condition_number: ratio :math:`\lambda_{\max} / \lambda_{\min} \ge 1`.
        curvature: the smallest eigenvalue :math:`\lambda_{\min} > 0`.
        angle: rotation of the eigenvectors from the coordinate axes.
        centre: the maximizer :math:`c`.
    """

    name = "concave quadratic"

    def __init__(
        self,
        condition_number: float = 10.0,
        curvature: float = 1.0,
        angle: float = 0.0,
        centre: Sequence[float] = (0.0, 0.0),
    ) -> None:
        condition_number = check_number("condition_number", condition_number, low=1.0)
        curvature, angle = check_positive("curvature", curvature), check_number("angle", angle)
        centre = _finite_array("centre", centre, (2,))
        self.eigenvalues = np.array([curvature, curvature * condition_number])
        c, s = math.cos(angle), math.sin(angle)
        self.eigenvectors = np.array([[c, -s], [s, c]])  # columns
        self.hessian_matrix = -(self.eigenvectors * self.eigenvalues) @ self.eigenvectors.T
        self.centre = centre
        half = 2.0 / math.sqrt(curvature)
        self.bounds = (self.centre[0] - half, self.centre[0] + half, self.centre[1] - half, self.centre[1] + half)

    def _value(self, x: torch.Tensor) -> torch.Tensor:
        A = torch.tensor(-self.hessian_matrix, dtype=x.dtype, device=x.device)
        diff = x - torch.tensor(self.centre, dtype=x.dtype, device=x.device)
        return -0.5 * ((diff @ A) * diff).sum(-1)

    @property
    def maximizer(self) -> np.ndarray:
        return self.centre.copy()

    @property
    def lipschitz(self) -> float:
        r"""The largest eigenvalue :math:`L = \lambda_{\max}`: the gradient's Lipschitz constant."""
        return float(self.eigenvalues.max())


class GaussianBumps(Objective):
    r"""A landscape of Gaussian hills, :math:`J(x) = \sum_k a_k \exp(-\lVert x - m_k\rVert^2 / 2s_k^2)`.

    The defaults give one global maximum and two lower local maxima, with
    wide enough basins to see on a plot. Each local maximum sits near, not
    exactly at, its bump's centre; :attr:`local_maxima` finds them precisely
    (Newton's method from each centre, to machine precision).
    """

    name = "multimodal bumps"
    bounds = (-3.0, 3.0, -3.0, 3.0)

    def __init__(
        self,
        centres: Sequence[Sequence[float]] = ((-1.5, -1.0), (1.2, 1.4), (1.6, -1.5)),
        heights: Sequence[float] = (1.0, 0.8, 0.55),
        widths: Sequence[float] = (0.8, 0.7, 0.55),
    ) -> None:
        self.centres = _finite_array("centres", centres, (-1, 2))
        self.heights = _finite_array("heights", heights, (-1,))
        self.widths = _finite_array("widths", widths, (-1,))
        if not (len(self.centres) == len(self.heights) == len(self.widths)) or len(self.centres) == 0:
            raise ValueError("centres (k, 2), heights (k,) and widths (k,) must describe the same k >= 1 bumps")
        if (self.heights <= 0).any() or (self.widths <= 0).any():
            raise ValueError("heights and widths must be > 0")

    def _value(self, x: torch.Tensor) -> torch.Tensor:
        m = torch.tensor(self.centres, dtype=x.dtype, device=x.device)
        a = torch.tensor(self.heights, dtype=x.dtype, device=x.device)
        s = torch.tensor(self.widths, dtype=x.dtype, device=x.device)
        squared = ((x.unsqueeze(-2) - m) ** 2).sum(-1)  # (..., k)
        return (a * torch.exp(-squared / (2 * s**2))).sum(-1)

    @functools.cached_property
    def local_maxima(self) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(points (k, 2), values (k,))`` of the local maxima, highest first.

        Newton's method runs from each bump's centre. Each result is checked: the
        gradient vanishes there, the Hessian is negative definite (a maximum, not a
        saddle), and no two centres reach the same maximum. The parameters are read-only
        arrays, so these cached maxima cannot go stale.

        Raises:
            ValueError: the bumps overlap so much that a centre does not lead to a
                maximum of its own (Newton's method found a saddle, a shared maximum or
                nothing).
        """
        points = []
        for k, centre in enumerate(self.centres):
            x = torch.tensor(centre, dtype=torch.float64)
            for _ in range(50):  # Newton's method: x <- x - H^{-1} g
                g = torch.autograd.functional.jacobian(self._value, x)
                H = torch.autograd.functional.hessian(self._value, x)
                step = torch.linalg.solve(H, g)
                x = x - step
                if step.norm() < 1e-14:
                    break
            g = torch.autograd.functional.jacobian(self._value, x)
            H = torch.autograd.functional.hessian(self._value, x)
            if not (g.norm() < 1e-8 and (torch.linalg.eigvalsh(H) < 0).all()):
                raise ValueError(f"bump {k} has no local maximum of its own near its centre: the bumps overlap too much")
            if any(np.linalg.norm(x.numpy() - q) < 1e-6 for q in points):
                raise ValueError(f"bump {k} leads to the same maximum as another bump: the bumps overlap too much")
            points.append(x.numpy())
        points = np.array(points)
        values = self(torch.as_tensor(points)).numpy()
        order = np.argsort(-values)
        return points[order], values[order]

    @property
    def maximizer(self) -> np.ndarray:
        return self.local_maxima[0][0].copy()


class PiecewiseLinear(Objective):
    r"""The concave, nonsmooth :math:`J(x) = -\sum_i w_i\,|x_i - c_i|`.

    Its maximum 0 sits at :math:`c`, exactly on a kink, where no gradient
    exists: ascent there must use a supergradient. The superdifferential at a
    point is the box whose side :math:`i` is :math:`\{-w_i \operatorname{sign}(x_i - c_i)\}`
    away from the kink and :math:`[-w_i, w_i]` on it.
    """

    name = "piecewise linear"

    def __init__(self, weights: Sequence[float] = (1.0, 2.0), centre: Sequence[float] = (0.5, -0.5)) -> None:
        self.weights = _finite_array("weights", weights, (-1,))
        self.centre = _finite_array("centre", centre, (-1,))
        if self.weights.shape != self.centre.shape or (self.weights <= 0).any():
            raise ValueError("weights must be > 0 and have one entry per coordinate of centre")
        self.dim = len(self.weights)
        self.bounds = (-2.5, 2.5, -2.5, 2.5)

    def _value(self, x: torch.Tensor) -> torch.Tensor:
        w = torch.tensor(self.weights, dtype=x.dtype, device=x.device)
        c = torch.tensor(self.centre, dtype=x.dtype, device=x.device)
        return -(w * (x - c).abs()).sum(-1)

    @property
    def maximizer(self) -> np.ndarray:
        return self.centre.copy()

    def superdifferential(self, x: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
        """Return the box ``(low, high)`` of all supergradients at ``x``, each of shape ``(dim,)``."""
        d = np.asarray(x, dtype=np.float64) - self.centre
        low = np.where(d == 0, -self.weights, -self.weights * np.sign(d))
        high = np.where(d == 0, self.weights, -self.weights * np.sign(d))
        return low, high


class CurvedRidge(Objective):
    r"""The negated Rosenbrock function :math:`J(x, y) = -\big((a - x)^2 + b\,(y - x^2)^2\big)`.

    Its maximum 0 sits at :math:`(a, a^2)` at the end of a narrow, curved
    ridge along :math:`y = x^2`: easy to reach, slow to follow.
    """

    name = "curved ridge"
    bounds = (-2.0, 2.0, -1.0, 3.0)

    def __init__(self, a: float = 1.0, b: float = 20.0) -> None:
        self.a, self.b = check_number("a", a), check_positive("b", b)

    def _value(self, x: torch.Tensor) -> torch.Tensor:
        return -((self.a - x[..., 0]) ** 2 + self.b * (x[..., 1] - x[..., 0] ** 2) ** 2)

    @property
    def maximizer(self) -> np.ndarray:
        return np.array([self.a, self.a**2])


def grid_values(objective: Objective, bounds=None, resolution: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Evaluate ``objective`` on a ``resolution × resolution`` grid; return ``(X, Y, Z)`` for contour plots."""
    xmin, xmax, ymin, ymax = bounds or objective.bounds
    xs = torch.linspace(xmin, xmax, resolution, dtype=torch.float64)
    ys = torch.linspace(ymin, ymax, resolution, dtype=torch.float64)
    X, Y = torch.meshgrid(xs, ys, indexing="xy")
    with torch.no_grad():
        Z = objective(torch.stack([X, Y], dim=-1))
    return X.numpy(), Y.numpy(), Z.numpy()
