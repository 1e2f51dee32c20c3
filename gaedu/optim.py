r"""Gradient ascent as a PyTorch optimizer.

:class:`GradientAscent` climbs an objective :math:`J`; call ``J.backward()``
and then ``step()``. It takes exactly the steps of
``torch.optim.SGD(..., maximize=True)`` with the same arguments, written the
way the book explains them: in terms of the ascent direction.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch.optim import Optimizer


def _check_hyperparameters(group: dict[str, Any]) -> None:
    """Raise ``ValueError`` naming the first invalid hyperparameter of a parameter group."""
    lr, momentum, dampening, wd = group["lr"], group["momentum"], group["dampening"], group["weight_decay"]
    for name, value in (("lr", lr), ("momentum", momentum), ("dampening", dampening), ("weight_decay", wd)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"GradientAscent: {name} must be a finite number, got {value!r}")
    if lr < 0:
        raise ValueError(f"GradientAscent: lr must be >= 0, got {lr}")
    if not 0 <= momentum < 1:
        raise ValueError(f"GradientAscent: momentum must be in [0, 1), got {momentum}")
    if not 0 <= dampening <= 1:
        raise ValueError(f"GradientAscent: dampening must be in [0, 1], got {dampening}")
    if wd < 0:
        raise ValueError(f"GradientAscent: weight_decay must be >= 0, got {wd}")
    if group["nesterov"] and (momentum == 0 or dampening != 0):
        raise ValueError("GradientAscent: nesterov=True needs momentum > 0 and dampening = 0")


class GradientAscent(Optimizer):
    r"""Maximize an objective by (momentum) gradient ascent.

    With objective :math:`J`, learning rate :math:`\eta`, momentum :math:`\mu`,
    dampening :math:`\tau` and weight decay :math:`\lambda`, each step computes
    the ascent direction and moves along it:

    .. math::

        d_t &= \nabla J(\theta_t) - \lambda\,\theta_t \\
        b_t &= \begin{cases} d_t & t = 1 \\ \mu\, b_{t-1} + (1 - \tau)\, d_t & t > 1 \end{cases} \\
        d_t &\leftarrow \begin{cases} d_t + \mu\, b_t & \text{Nesterov} \\ b_t & \text{otherwise (if } \mu > 0) \end{cases} \\
        \theta_{t+1} &= \theta_t + \eta\, d_t

    Without momentum this is plain gradient ascent, :math:`\theta_{t+1} = \theta_t + \eta \nabla J(\theta_t)`.
    Weight decay ascends :math:`J(\theta) - \tfrac{\lambda}{2}\lVert\theta\rVert^2`, pulling the
    parameters towards zero. The steps are those of ``torch.optim.SGD(..., maximize=True)``;
    descending on :math:`-J` with ``SGD`` gives them too.

    Args:
        params: the parameters (or parameter groups) to optimize.
        lr: learning rate :math:`\eta \ge 0`.
        momentum: momentum factor :math:`\mu \in [0, 1)`.
        dampening: dampening :math:`\tau \in [0, 1]` of the momentum buffer.
        nesterov: use Nesterov momentum (needs :math:`\mu > 0`, :math:`\tau = 0`).
        weight_decay: :math:`\lambda \ge 0`.

    Raises:
        ValueError: a hyperparameter is out of range; the message names it.
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov, weight_decay=weight_decay)
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a parameter group, checking its hyperparameters first."""
        super().add_param_group(param_group)
        _check_hyperparameters(self.param_groups[-1])

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor | None:
        """Take one ascent step; ``closure``, if given, re-evaluates the objective and returns it."""
        objective = None
        if closure is not None:
            with torch.enable_grad():
                objective = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if any(p.grad.is_sparse for p in params):
                raise ValueError("GradientAscent does not support sparse gradients")
            buckets: dict[tuple[torch.device, torch.dtype], list[torch.Tensor]] = {}
            for p in params:  # multi-tensor kernels need one device and dtype per call
                buckets.setdefault((p.device, p.dtype), []).append(p)
            for bucket in buckets.values():
                self._ascend(bucket, group)
        return objective

    def _ascend(self, params: list[torch.Tensor], group: dict[str, Any]) -> None:
        """Update one same-device, same-dtype list of parameters with multi-tensor operations."""
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        grads = [p.grad for p in params]
        # the ascent direction d = ∇J − λθ (a new list when λ > 0; p.grad itself is never changed)
        directions = torch._foreach_add(grads, params, alpha=-group["weight_decay"]) if group["weight_decay"] else grads
        if momentum:
            buffers = [self.state[p].get("momentum_buffer") for p in params]
            old = [i for i, b in enumerate(buffers) if b is not None]
            if old:  # b ← μ b + (1 − τ) d
                torch._foreach_mul_([buffers[i] for i in old], momentum)
                torch._foreach_add_([buffers[i] for i in old], [directions[i] for i in old], alpha=1 - dampening)
            for i, b in enumerate(buffers):
                if b is None:  # a parameter's first step: its buffer starts as its direction
                    buffers[i] = self.state[params[i]]["momentum_buffer"] = torch.clone(directions[i]).detach()
            if group["nesterov"] and group["weight_decay"]:  # directions is our own copy: update it in place
                torch._foreach_add_(directions, buffers, alpha=momentum)
            elif group["nesterov"]:  # directions is p.grad: copy once
                directions = torch._foreach_add(directions, buffers, alpha=momentum)
            else:
                directions = buffers
        torch._foreach_add_(params, directions, alpha=lr)
