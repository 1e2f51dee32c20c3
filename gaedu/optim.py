r"""Gradient ascent as a PyTorch optimizer.

:class:`GradientAscent` climbs an objective :math:`J`; call ``J.backward()``
and then ``step()``. It takes exactly the steps of
``torch.optim.SGD(..., maximize=True)`` with the same arguments, written the
way the book explains them: in terms of the ascent direction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch.optim import Optimizer

from gaedu._validation import check_fraction, check_nonnegative


def _check_hyperparameters(group: dict[str, Any]) -> None:
    """Raise ``ValueError`` naming the first invalid hyperparameter of a parameter group."""
    try:
        check_nonnegative("lr", group["lr"])
        momentum = check_fraction("momentum", group["momentum"])
        dampening = check_fraction("dampening", group["dampening"], high_open=False)
        check_nonnegative("weight_decay", group["weight_decay"])
    except ValueError as err:
        raise ValueError(f"GradientAscent: {err}") from None
    if not isinstance(group["nesterov"], bool):
        raise ValueError(f"GradientAscent: nesterov must be True or False, got {group['nesterov']!r}")
    if group["nesterov"] and (momentum == 0 or dampening != 0):
        raise ValueError("GradientAscent: nesterov=True needs momentum > 0 and dampening = 0")
    if group.get("maximize", True) is not True:
        raise ValueError("GradientAscent always maximizes: maximize must be True (use torch.optim.SGD to descend)")


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

    It is a drop-in for ``SGD(..., maximize=True)``: the positional arguments come in
    ``SGD``'s order, and the state is ``SGD``'s too. The momentum buffer is stored, as
    ``SGD`` stores it, with the sign of the *descent* direction, :math:`-b_t`, and every
    parameter group carries ``maximize=True``; so a ``state_dict`` moves between the two
    optimizers both ways and training continues with the same steps.

    Args:
        params: the parameters (or parameter groups) to optimize.
        lr: learning rate :math:`\eta \ge 0`.
        momentum: momentum factor :math:`\mu \in [0, 1)`.
        dampening: dampening :math:`\tau \in [0, 1]` of the momentum buffer.
        weight_decay: :math:`\lambda \ge 0`.
        nesterov: use Nesterov momentum (needs :math:`\mu > 0`, :math:`\tau = 0`).

    Raises:
        ValueError: a hyperparameter is out of range; the message names it.
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov, maximize=True
        )
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a parameter group after checking its hyperparameters: a rejected group is not added."""
        if isinstance(param_group, dict):
            _check_hyperparameters({**self.defaults, **param_group})
        super().add_param_group(param_group)

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
        if not momentum:
            torch._foreach_add_(params, directions, alpha=lr)  # θ ← θ + η d
            return
        # SGD's buffer c = −b holds the descent direction: c ← μ c − (1 − τ) d
        buffers = [self.state[p].get("momentum_buffer") for p in params]
        old = [i for i, c in enumerate(buffers) if c is not None]
        if old:
            torch._foreach_mul_([buffers[i] for i in old], momentum)
            torch._foreach_add_([buffers[i] for i in old], [directions[i] for i in old], alpha=-(1 - dampening))
        for i, c in enumerate(buffers):
            if c is None:  # a parameter's first step: b = d, so c = −d
                buffers[i] = self.state[params[i]]["momentum_buffer"] = torch.neg(directions[i]).detach()
        if group["nesterov"] and group["weight_decay"]:  # d + μ b = d − μ c; directions is our own copy here
            torch._foreach_add_(directions, buffers, alpha=-momentum)
            torch._foreach_add_(params, directions, alpha=lr)
        elif group["nesterov"]:  # directions is p.grad itself: copy once
            torch._foreach_add_(params, torch._foreach_add(directions, buffers, alpha=-momentum), alpha=lr)
        else:  # θ ← θ + η b = θ − η c
            torch._foreach_add_(params, buffers, alpha=-lr)


@torch.no_grad()
def update_ema(average: torch.nn.Module, model: torch.nn.Module, target: float, step: int) -> None:
    r"""One step of a weight average (EMA) of ``model`` into ``average``, as both trainers keep one.

    The decay is :math:`\min(\text{target}, (1 + t)/(10 + t))` at step :math:`t`: early on the
    average spans the few steps there have been, later it forgets with rate ``1 - target``.
    """
    decay = min(target, (1 + step) / (10 + step))
    torch._foreach_lerp_(list(average.parameters()), list(model.parameters()), 1 - decay)


def record_evaluation(history: dict[str, list], step: int, numbers: dict[str, float]) -> None:
    """Append an evaluation's ``{name: number}`` to a trainer's history as ``'eval_<name>'``, and the step as ``'eval_step'``.

    The one record both trainers keep for their ``evaluate`` callback (:func:`gaedu.gan.train_gan`,
    :func:`gaedu.score.train_score`).
    """
    for name, number in numbers.items():
        history.setdefault(f"eval_{name}", []).append(number)
    history.setdefault("eval_step", []).append(step)
