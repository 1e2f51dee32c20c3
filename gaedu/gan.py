r"""Generative adversarial networks: two players, one value, opposite directions.

The value of the game (Goodfellow et al. 2014) is

.. math::

    V(D, G) = \mathbb E_{x \sim p_\text{data}}\big[\log D(x)\big]
            + \mathbb E_{z \sim p_z}\big[\log\big(1 - D(G(z))\big)\big].

The **discriminator ascends** :math:`V`: it gets better at telling real from
fake. The **generator descends** it (``objective='saturating'``), or, as
almost everyone does because that gradient vanishes when :math:`D` wins,
ascends :math:`\mathbb E_z \log D(G(z))` instead (``objective='non-saturating'``).

On 8×8 digits both networks are small MLPs (``arch='mlp'``, :func:`gaedu.nets.mlp`):
an 8×8 digit is 64 numbers, so a convolution buys little, and an MLP trains fast on
a CPU. The same classes serve the 2-D toy data (``out_shape=(2,)``, ``output='linear'``).
For 28×28 digits (``arch='conv'``, ``out_shape=(1, 28, 28)``) they are DCGAN-style
convolutional networks (Radford et al. 2016): the generator goes up from 7×7 by
transposed convolutions, the discriminator down by strided convolutions
(:func:`gaedu.nets.conv_up`, :func:`gaedu.nets.conv_down`).
Notation: :math:`f` is the discriminator's logit and :math:`D = \sigma(f)`.
Jacobian truncation, a way to sample from a trained generator, is in
:mod:`gaedu.truncation`.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from gaedu import distributed
from gaedu._validation import check_choice, check_fraction, check_int, check_nonnegative, check_positive
from gaedu.checkpoint import load_model, save_checkpoint
from gaedu.nets import check_conv_shape, conv_down, conv_up, device_of, frozen, mlp, seeded
from gaedu.optim import update_ema

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
        def put(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)  # the one place a frozen config is written

        if not isinstance(self.out_shape, (tuple, list)) or not self.out_shape:
            raise ValueError(f"out_shape must be a non-empty tuple of sizes, got {self.out_shape!r}")
        put("out_shape", tuple(check_int("out_shape", s) for s in self.out_shape))
        if not isinstance(self.betas, (tuple, list)) or len(self.betas) != 2:
            raise ValueError(f"betas must be two numbers in [0, 1), got {self.betas!r}")
        put("betas", tuple(check_fraction("betas", b) for b in self.betas))
        for name in ("latent_dim", "hidden", "depth", "pack", "batch_size", "r1_every"):
            put(name, check_int(name, getattr(self, name)))
        put("num_steps", check_int("num_steps", self.num_steps, minimum=0))
        put("seed", check_int("seed", self.seed, minimum=0))
        for name in ("lr_d", "lr_g"):
            put(name, check_positive(name, getattr(self, name)))
        put("r1", check_nonnegative("r1", self.r1))
        put("ema", check_fraction("ema", self.ema))
        if self.batch_size % self.pack:
            raise ValueError(f"batch_size ({self.batch_size}) must be a multiple of pack ({self.pack})")
        check_choice("objective", self.objective, GENERATOR_OBJECTIVES)
        check_choice("output", self.output, ("sigmoid", "linear"))
        check_choice("arch", self.arch, ARCHS)
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


@dataclass
class GANResult:
    """What :func:`train_gan` returns: the trained networks and what happened on the way.

    Attributes:
        config: the settings it was trained with.
        generator, discriminator: the trained networks.
        ema_generator: the weight average of the generator (``None`` when ``config.ema == 0``).
        fixed_z: the fixed noise batch ``(64, latent_dim)`` of the snapshots, on the CPU.
        history: ``'step'`` and ``'value'`` every 50 steps; ``'eval_step'`` and
            ``'eval_<name>'`` for each number ``evaluate`` returned.
        snapshots: ``(step, samples)`` pairs, the sampler's output on ``fixed_z``.
    """

    config: GANConfig
    generator: Generator
    discriminator: Discriminator
    ema_generator: Generator | None
    fixed_z: torch.Tensor
    history: dict[str, list[float]] = field(default_factory=dict)
    snapshots: list[tuple[int, torch.Tensor]] = field(default_factory=list)

    @property
    def sampler(self) -> Generator:
        """The generator to sample from: the weight average when there is one."""
        return self.ema_generator if self.ema_generator is not None else self.generator


def _check_samples(x_real: Any, config: GANConfig) -> torch.Tensor:
    if not isinstance(x_real, torch.Tensor):
        raise ValueError(f"x_real must be a torch.Tensor, got {type(x_real).__name__}")
    if x_real.ndim != 1 + len(config.out_shape) or tuple(x_real.shape[1:]) != config.out_shape or not len(x_real):
        raise ValueError(f"x_real must have shape (N, {', '.join(map(str, config.out_shape))}), got {tuple(x_real.shape)}")
    if not torch.isfinite(x_real).all():
        raise ValueError("x_real contains NaN or infinite values")
    return x_real


def train_gan(
    x_real: torch.Tensor,
    config: GANConfig | None = None,
    *,
    device: str | torch.device | None = None,
    progress: bool = True,
    eval_every: int = 0,
    evaluate: Callable[[Generator], dict[str, float]] | None = None,
    snapshot_every: int = 0,
    on_snapshot: Callable[[int, GANResult], None] | None = None,
) -> GANResult:
    """Train a GAN on ``x_real`` and return the networks, the fixed-noise snapshots and a history.

    Each step draws ``batch_size`` real samples, updates the discriminator by one
    Adam step ascending :func:`discriminator_objective`, then the generator by one
    Adam step ascending :func:`generator_objective`. All random numbers come from a
    CPU generator seeded with ``config.seed``, so a seed gives the same networks and
    noise on every device (up to floating-point rounding).

    Under ``torchrun`` every process trains on its share of each batch and only the
    main process (rank 0) evaluates, snapshots and calls ``on_snapshot``.

    Args:
        x_real: the training data, shape ``(N, *config.out_shape)``.
        config: the settings (default :class:`GANConfig()`).
        device: where to train (default: :func:`gaedu.get_device`, a GPU when there is one).
        progress: show a tqdm progress bar.
        eval_every: call ``evaluate(sampler)`` every this many steps (0: never) and
            record its numbers in the history, with the step.
        evaluate: a function of the current sampler returning ``{name: number}``.
        snapshot_every: keep the fixed-noise samples every this many steps (0: never).
        on_snapshot: also call ``on_snapshot(step, result)`` at those steps, e.g. to
            record the discriminator's output on a grid.

    Returns:
        A :class:`GANResult`.

    Raises:
        ValueError: ``x_real`` is not a tensor, has the wrong shape or non-finite values; a bad setting.
    """
    config = config or GANConfig()
    x_real = _check_samples(x_real, config)
    eval_every = check_int("eval_every", eval_every, minimum=0)
    snapshot_every = check_int("snapshot_every", snapshot_every, minimum=0)
    part = distributed.shard(config.batch_size, device, multiple=config.pack)
    device, process = part.device, part.process
    x_real = x_real.to(device, torch.float32)
    generator, discriminator = (net.to(device) for net in seeded(lambda: (Generator(config), Discriminator(config)), config.seed))
    ema = copy.deepcopy(generator).requires_grad_(False) if config.ema > 0 else None
    noise = torch.Generator().manual_seed(config.seed)
    fixed_z = torch.randn(FIXED_SAMPLES, config.latent_dim, generator=noise)
    if process.distributed:  # different data per process, the same weights everywhere
        noise.manual_seed(part.data_seed(config.seed))
    generator_ddp, discriminator_ddp = distributed.wrap(generator, process), distributed.wrap(discriminator, process)
    # Adam with maximize=True: both players ascend their own objective
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=config.lr_d, betas=config.betas, maximize=True)
    opt_g = torch.optim.Adam(generator.parameters(), lr=config.lr_g, betas=config.betas, maximize=True)
    result = GANResult(config, generator, discriminator, ema, fixed_z, {"step": [], "value": []})
    fixed_z = fixed_z.to(device)
    bar = tqdm(range(1, config.num_steps + 1), desc="GAN", disable=not progress or not process.is_main, mininterval=1.0)
    for step in bar:
        index = torch.randint(len(x_real), (part.local_batch,), generator=noise).to(device)
        z = torch.randn(part.local_batch, config.latent_dim, generator=noise).to(device)
        regularize = step % config.r1_every == 0
        x_fake = training_step(generator_ddp, discriminator_ddp, opt_d, opt_g, x_real[index], z, config, regularize=regularize)
        if ema is not None:
            update_ema(ema, generator, config.ema, step)
        if step % HISTORY_EVERY == 0 or step == config.num_steps:
            with torch.no_grad():
                v = value(discriminator, x_real[index], x_fake).item()
            result.history["step"].append(step)
            result.history["value"].append(v)
            bar.set_postfix(V=f"{v:.3f}", refresh=False)
        if not process.is_main:
            continue
        if eval_every and evaluate is not None and (step % eval_every == 0 or step == config.num_steps):
            for name, number in evaluate(result.sampler).items():
                result.history.setdefault(f"eval_{name}", []).append(number)
            result.history.setdefault("eval_step", []).append(step)
        if snapshot_every and step % snapshot_every == 0:
            with torch.no_grad():
                result.snapshots.append((step, result.sampler(fixed_z).cpu()))
            if on_snapshot is not None:
                on_snapshot(step, result)
    bar.close()
    return result


def noise(n: int, latent_dim: int, *, seed: int = 0, batch_size: int = 4096) -> torch.Tensor:
    """Draw ``n`` seeded noise vectors ``(n, latent_dim)`` on the CPU, ``batch_size`` rows at a time.

    The same seed gives the same noise on every device (move it with ``.to``).
    """
    n, batch_size = check_int("n", n), check_int("batch_size", batch_size)
    source = torch.Generator().manual_seed(check_int("seed", seed, minimum=0))
    return torch.cat([torch.randn(min(batch_size, n - start), latent_dim, generator=source)
                      for start in range(0, n, batch_size)])  # fmt: skip


@torch.no_grad()
def generate(generator: Generator, z: torch.Tensor, *, batch_size: int = 4096) -> torch.Tensor:
    """Return ``generator(z)`` on the CPU, computed ``batch_size`` rows at a time on the generator's device."""
    device = device_of(generator)
    return torch.cat([generator(part.to(device)).cpu() for part in z.split(check_int("batch_size", batch_size))])


def sample(generator: Generator, n: int, *, seed: int = 0, batch_size: int = 4096) -> torch.Tensor:
    """Draw ``n`` samples from ``generator`` with seeded noise (:func:`noise`); return them on the CPU.

    For samples that avoid the gaps between modes, see :func:`gaedu.truncation.truncated_sample`.
    """
    return generate(generator, noise(n, generator.latent_dim, seed=seed, batch_size=batch_size), batch_size=batch_size)


def save_gan(path: str | os.PathLike, result: GANResult, info: dict | None = None) -> Path:
    """Write the trained GAN of ``result`` to a checkpoint (see :mod:`gaedu.checkpoint`); return the path."""
    state = {"generator": result.generator.state_dict(), "discriminator": result.discriminator.state_dict()}
    if result.ema_generator is not None:
        state["ema_generator"] = result.ema_generator.state_dict()
    return save_checkpoint(path, "gan", result.config.to_dict(), state, info)


def load_generator(path: str | os.PathLike, *, device: str | torch.device | None = None) -> Generator:
    """Load the generator to sample from (the weight average when saved) from a GAN checkpoint, in eval mode.

    Raises:
        gaedu.checkpoint.CheckpointError: the file is missing, corrupt, foreign or inconsistent.
    """

    def build(payload: dict) -> tuple[Generator, dict]:
        state = payload["state"]
        return Generator(GANConfig(**payload["config"])), state.get("ema_generator", state["generator"])

    return load_model(path, "gan", build, device=device)


#: Plain GAN training on the 2-D ring of Gaussians: no regularization, no weight
#: average. It collapses onto a few of the eight modes.
RING_PLAIN = GANConfig(
    latent_dim=16, hidden=128, out_shape=(2,), output="linear", num_steps=3000, batch_size=256,
    lr_d=1e-3, lr_g=1e-3, r1=0.0, ema=0.0,
)  # fmt: skip

#: The fix: the R1 penalty keeps the discriminator's gradient from exploding around
#: the data (the game then converges locally, Mescheder et al. 2018), and the weight
#: average smooths the generator's last oscillations.
RING_FIXED = GANConfig(
    latent_dim=16, hidden=128, out_shape=(2,), output="linear", num_steps=5000, batch_size=256,
    lr_d=2e-3, lr_g=2e-3, r1=1.0, ema=0.999,
)  # fmt: skip

#: The 28×28 MNIST GAN of the convolutional chapter (``python -m gaedu train-gan --dataset
#: mnist28``, :func:`gaedu.pretrained`): DCGAN-style networks, the non-saturating
#: objective, R1 (lazily, every 4th step) and weight averaging as on 8×8; about 6 minutes
#: on two CPU cores.
MNIST28_GAN = GANConfig(
    arch="conv", out_shape=(1, 28, 28), latent_dim=64, hidden=32, depth=2, num_steps=5000, batch_size=64,
    lr_d=2e-3, lr_g=2e-3, r1=1.0, r1_every=4, ema=0.999,
)  # fmt: skip

#: The source document's own generator and discriminator at their real sizes (two dense
#: hidden layers of 128, 784 outputs), corrected (a sigmoid output, logits out of the
#: discriminator), trained exactly like :data:`MNIST28_GAN`: the baseline the
#: convolutional networks are measured against.
MNIST28_MLP_GAN = dataclasses.replace(MNIST28_GAN, arch="mlp", hidden=128, depth=2)
