r"""The GAN's settings and its two networks: an MLP or DCGAN-style generator and discriminator."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Literal

import torch
from torch import nn

from gaedu._validation import (
    check_choice,
    check_fraction,
    check_int,
    check_nonnegative,
    check_positive,
    check_sizes,
    set_checked,
)
from gaedu.nets import check_conv_shape, conv_down, conv_up, mlp

GeneratorObjective = Literal["non-saturating", "saturating"]
GENERATOR_OBJECTIVES = ("non-saturating", "saturating")
ARCHS = ("mlp", "conv")

#: Samples in the fixed noise batch that training watches (an 8×8 grid of images).
FIXED_SAMPLES = 64
#: Steps between two records of the value in the history: often enough for a smooth
#: curve, rarely enough to cost nothing.
HISTORY_EVERY = 50


@dataclass(frozen=True)
class GANConfig:
    r"""Everything needed to rebuild the two networks and retrain them (immutable: use ``dataclasses.replace``).

    Attributes:
        latent_dim: length of the noise vector ``z``.
        hidden: width of the hidden layers of both networks; with ``arch='conv'``, the
            channels at the finest resolution below the image's (doubled at each
            coarser one).
        depth: number of hidden layers of both networks; with ``arch='conv'``, the number
            of resolution halvings (2: 28 → 14 → 7).
        arch: ``'mlp'`` (fully connected) or ``'conv'`` (DCGAN-style, for images
            ``(C, H, W)`` whose sides ``2**depth`` divides).
        pack: samples the discriminator judges together (PacGAN, Lin et al. 2018): it sees
            ``pack`` real or ``pack`` fake samples side by side, so a generator that
            repeats itself is easy to spot; ``batch_size`` must be a multiple of it.
        out_shape: shape of one sample: ``(1, 8, 8)`` for digits, ``(2,)`` for points.
        output: ``'sigmoid'`` for pixels in ``[0, 1]``, ``'linear'`` for points.
        objective: the generator's objective (see the module docstring).
        num_steps: training steps (one discriminator and one generator update each), ``>= 0``.
        batch_size: real and fake samples per step.
        lr_d, lr_g: Adam learning rates of the discriminator and the generator.
        betas: Adam's ``(beta1, beta2)``; a low ``beta1`` damps the game's rotation less.
        r1: weight :math:`\gamma` of the zero-centred gradient penalty
            :math:`\tfrac\gamma2\lVert\nabla_x f(x)\rVert^2` on real data (Mescheder et al. 2018),
            the squared norm taken over each pack's input.
        r1_every: apply the R1 penalty every this many steps only, weighted by
            ``r1 * r1_every`` so that its average pull is unchanged ("lazy regularization",
            Karras et al. 2020): the penalty's second backward pass costs as much as a
            step, and the discriminator's gradient near the data changes slowly.
        ema: decay of the exponential moving average of the generator's weights (0: none);
            step :math:`t` uses :math:`\min(\text{ema}, (1 + t)/(10 + t))`, so the average
            does not drag the random initial weights along.
        seed: seed of the initial weights and of the training noise.
    """

    latent_dim: int = 32
    hidden: int = 256
    depth: int = 2
    arch: Literal["mlp", "conv"] = "mlp"
    pack: int = 1
    out_shape: tuple[int, ...] = (1, 8, 8)
    output: Literal["sigmoid", "linear"] = "sigmoid"
    objective: GeneratorObjective = "non-saturating"
    num_steps: int = 4000
    batch_size: int = 128
    lr_d: float = 1e-3
    lr_g: float = 1e-3
    betas: tuple[float, float] = (0.5, 0.99)
    r1: float = 1.0
    r1_every: int = 1
    ema: float = 0.999
    seed: int = 0

    def __post_init__(self) -> None:
        set_checked(self, "out_shape", check_sizes)
        if not isinstance(self.betas, (tuple, list)) or len(self.betas) != 2:
            raise ValueError(f"betas must be two numbers in [0, 1), got {self.betas!r}")
        set_checked(self, "betas", lambda name, betas: tuple(check_fraction(name, b) for b in betas))
        for name in ("latent_dim", "hidden", "depth", "pack", "batch_size", "r1_every"):
            set_checked(self, name, check_int)
        set_checked(self, "num_steps", check_int, minimum=0)
        set_checked(self, "seed", check_int, minimum=0)
        for name in ("lr_d", "lr_g"):
            set_checked(self, name, check_positive)
        set_checked(self, "r1", check_nonnegative)
        set_checked(self, "ema", check_fraction)
        if self.batch_size % self.pack:
            raise ValueError(f"batch_size ({self.batch_size}) must be a multiple of pack ({self.pack})")
        set_checked(self, "objective", check_choice, choices=GENERATOR_OBJECTIVES)
        set_checked(self, "output", check_choice, choices=("sigmoid", "linear"))
        set_checked(self, "arch", check_choice, choices=ARCHS)
        if self.arch == "conv":
            check_conv_shape(self.out_shape, self.depth)

    def to_dict(self) -> dict:
        """Return the configuration as plain Python values (for checkpoints)."""
        return asdict(self)


class Generator(nn.Module):
    """Map noise ``z`` ``(B, latent_dim)`` to samples ``(B, *out_shape)`` with an MLP or a DCGAN-style network."""

    def __init__(self, config: GANConfig) -> None:
        super().__init__()
        self.latent_dim, self.out_shape = config.latent_dim, config.out_shape
        if config.arch == "conv":
            self.net = conv_up(config.latent_dim, config.out_shape, config.hidden, config.depth)
        else:
            self.net = mlp(config.latent_dim, config.hidden, config.depth, math.prod(config.out_shape))
        self.squash = torch.sigmoid if config.output == "sigmoid" else nn.Identity()

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.squash(self.net(z)).reshape(-1, *self.out_shape)  # (B, latent_dim) -> (B, *out_shape)


class Discriminator(nn.Module):
    r"""Map samples ``(B, *in_shape)`` to logits ``(B / pack,)``, one per pack; :math:`D(x) = \sigma(f(x))`."""

    def __init__(self, config: GANConfig) -> None:
        super().__init__()
        self.pack, self.arch = config.pack, config.arch
        if config.arch == "conv":  # a pack's samples are stacked along the channels
            channels, *size = config.out_shape
            self.net = conv_down((config.pack * channels, *size), 1, config.hidden, config.depth)
        else:
            self.net = mlp(config.pack * math.prod(config.out_shape), config.hidden, config.depth, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if len(x) % self.pack:
            raise ValueError(f"the discriminator judges packs of {self.pack}: got a batch of {len(x)} samples")
        if self.arch == "conv":  # (B, C, H, W) -> (B / pack, pack * C, H, W)
            return self.net(x.reshape(-1, self.pack * x.shape[1], *x.shape[2:])).squeeze(-1)
        return self.net(x.reshape(-1, self.pack * x[0].numel())).squeeze(-1)  # (B, *in_shape) -> (B / pack,)

