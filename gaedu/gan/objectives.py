r"""The game's value and each player's objective, and one round of play (:func:`training_step`)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gaedu._validation import check_choice
from gaedu.gan.networks import GENERATOR_OBJECTIVES, GANConfig, GeneratorObjective
from gaedu.nets import frozen


def _pack(discriminator: nn.Module) -> int:
    return getattr(getattr(discriminator, "module", discriminator), "pack", 1)  # under DDP, the wrapped network's


def _logits(discriminator: nn.Module, x_real: torch.Tensor, x_fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Return the discriminator's logits on real and on fake samples, from one forward pass over both.

    One pass, not two, because ``DistributedDataParallel`` allows one forward pass per backward pass.
    Each set must hold whole packs, so that no pack mixes real and fake samples.
    """
    pack = _pack(discriminator)
    if len(x_real) % pack or len(x_fake) % pack:
        raise ValueError(f"x_real ({len(x_real)}) and x_fake ({len(x_fake)}) must both hold whole packs of {pack}")
    logits = discriminator(torch.cat([x_real, x_fake]))
    n_real = len(x_real) // pack  # the real packs come first
    return logits[:n_real], logits[n_real:]


def value_from_logits(logits_real: torch.Tensor, logits_fake: torch.Tensor) -> torch.Tensor:
    r"""Return :math:`\mathbb E\log\sigma(f_\text{real}) + \mathbb E\log(1 - \sigma(f_\text{fake}))` from the logits.

    Uses :math:`\log(1 - \sigma(a)) = \log\sigma(-a)`, which stays finite for any logit.
    """
    return F.logsigmoid(logits_real).mean() + F.logsigmoid(-logits_fake).mean()


def value(discriminator: nn.Module, x_real: torch.Tensor, x_fake: torch.Tensor) -> torch.Tensor:
    """Return the minibatch estimate of :math:`V(D, G)` (a scalar tensor)."""
    return value_from_logits(*_logits(discriminator, x_real, x_fake))


def discriminator_objective(
    discriminator: nn.Module, x_real: torch.Tensor, x_fake: torch.Tensor, r1: float = 0.0
) -> torch.Tensor:
    r"""Return what the discriminator ascends: :math:`V - \tfrac{\gamma}{2}\,\mathbb E\lVert\nabla_x f(x_\text{real})\rVert^2`.

    The penalty's expectation is over packs: each pack's logit has one gradient, over
    the ``pack`` samples it sees, so :math:`\gamma` means the same for every pack size.
    """
    if r1 == 0:
        return value(discriminator, x_real, x_fake.detach())
    x_real = x_real.detach().requires_grad_(True)
    logits_real, logits_fake = _logits(discriminator, x_real, x_fake.detach())
    (grad,) = torch.autograd.grad(logits_real.sum(), x_real, create_graph=True)
    penalty = grad.pow(2).reshape(len(logits_real), -1).sum(1).mean()  # ‖∇ f‖² per pack, averaged
    return value_from_logits(logits_real, logits_fake) - 0.5 * r1 * penalty


def generator_objective(discriminator: nn.Module, x_fake: torch.Tensor, objective: GeneratorObjective) -> torch.Tensor:
    r"""Return what the generator ascends: :math:`-\mathbb E\log(1-D(G(z)))` (saturating) or :math:`\mathbb E\log D(G(z))`."""
    check_choice("objective", objective, GENERATOR_OBJECTIVES)
    logits = discriminator(x_fake)
    if objective == "saturating":
        return -F.logsigmoid(-logits).mean()  # ascending −V's fake term = descending V
    return F.logsigmoid(logits).mean()


def training_step(
    generator: nn.Module,
    discriminator: nn.Module,
    opt_d: torch.optim.Optimizer,
    opt_g: torch.optim.Optimizer,
    x_real: torch.Tensor,
    z: torch.Tensor,
    config: GANConfig,
    *,
    regularize: bool = True,
) -> torch.Tensor:
    """Play one round of the game and return the fake batch; :func:`train_gan` calls this every step.

    The discriminator takes one step up :func:`discriminator_objective` (the value,
    minus the R1 penalty), with the fake samples held fixed; then the generator takes
    one step up :func:`generator_objective`, through a discriminator whose weights are
    frozen (their gradients would be thrown away). Both optimizers must maximize
    (``maximize=True``, or :class:`gaedu.optim.GradientAscent`). With ``regularize=False``
    the R1 penalty is left out of this step; with it, the penalty weighs
    ``config.r1 * config.r1_every`` (see :class:`GANConfig`).
    """
    x_fake = generator(z)
    opt_d.zero_grad(set_to_none=True)
    r1 = config.r1 * config.r1_every if regularize else 0.0
    discriminator_objective(discriminator, x_real, x_fake, r1).backward()  # ∇ for the discriminator only
    opt_d.step()
    opt_g.zero_grad(set_to_none=True)
    plain = getattr(discriminator, "module", discriminator)  # under DDP, the wrapped network
    with frozen(plain):
        generator_objective(plain, x_fake, config.objective).backward()
    opt_g.step()
    return x_fake


