r"""Generative adversarial networks: two players, one value, opposite directions.

The value of the game (Goodfellow et al. 2014) is

.. math::

    V(D, G) = \mathbb E_{x \sim p_\text{data}}\big[\log D(x)\big]
            + \mathbb E_{z \sim p_z}\big[\log\big(1 - D(G(z))\big)\big].

The **discriminator ascends** :math:`V`: it gets better at telling real from
fake. The **generator descends** it (``objective='saturating'``), or, as
almost everyone does because that gradient vanishes when :math:`D` wins,
ascends :math:`\mathbb E_z \log D(G(z))` instead (``objective='non-saturating'``).

Both networks here are small MLPs: an 8×8 digit is 64 numbers, so a
convolution buys little, and an MLP trains fast on a CPU. The same classes
serve the 2-D toy data (``out_shape=(2,)``, ``output='linear'``).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn


Objective = Literal["non-saturating", "saturating"]
OBJECTIVES = ("non-saturating", "saturating")


@dataclass
class GANConfig:
    r"""Everything needed to rebuild the two networks and retrain them.

    Attributes:
        latent_dim: length of the noise vector ``z``.
        hidden: width of the hidden layers of both networks.
        depth: number of hidden layers of both networks.
        pack: samples the discriminator judges together (PacGAN, Lin et al. 2018): it sees
            ``pack`` real or ``pack`` fake samples side by side, so a generator that
            repeats itself is easy to spot; ``batch_size`` must be a multiple of it.
        out_shape: shape of one sample: ``(1, 8, 8)`` for digits, ``(2,)`` for points.
        output: ``'sigmoid'`` for pixels in ``[0, 1]``, ``'linear'`` for points.
        objective: the generator's objective (see the module docstring).
        num_steps: training steps (one discriminator and one generator update each).
        batch_size: real and fake samples per step.
        lr_d, lr_g: Adam learning rates of the discriminator and the generator.
        betas: Adam's ``(beta1, beta2)``; a low ``beta1`` damps the game's rotation less.
        r1: weight :math:`\gamma` of the zero-centred gradient penalty
            :math:`\tfrac\gamma2\lVert\nabla_x f(x)\rVert^2` on real data, with :math:`f` the discriminator's logit
            (:math:`D = \sigma(f)`; Mescheder et al. 2018).
        ema: decay of the exponential moving average of the generator's weights (0: none);
            step :math:`t` uses :math:`\min(\text{ema}, (1 + t)/(10 + t))`, so the average
            does not drag the random initial weights along.
        seed: seed of the initial weights and of the training noise.
    """

    latent_dim: int = 32
    hidden: int = 256
    depth: int = 2
    pack: int = 1
    out_shape: tuple[int, ...] = (1, 8, 8)
    output: Literal["sigmoid", "linear"] = "sigmoid"
    objective: Objective = "non-saturating"
    num_steps: int = 4000
    batch_size: int = 128
    lr_d: float = 1e-3
    lr_g: float = 1e-3
    betas: tuple[float, float] = (0.5, 0.99)
    r1: float = 1.0
    ema: float = 0.999
    seed: int = 0

    def __post_init__(self) -> None:
        self.out_shape = tuple(int(s) for s in self.out_shape)
        self.betas = tuple(float(b) for b in self.betas)
        for name in ("latent_dim", "hidden", "depth", "pack", "num_steps", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < (0 if name == "num_steps" else 1):
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        for name in ("lr_d", "lr_g"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
        if not (math.isfinite(self.r1) and self.r1 >= 0):
            raise ValueError(f"r1 must be a finite number >= 0, got {self.r1!r}")
        if not 0 <= self.ema < 1:
            raise ValueError(f"ema must be in [0, 1), got {self.ema!r}")
        if not all(0 <= b < 1 for b in self.betas) or len(self.betas) != 2:
            raise ValueError(f"betas must be two numbers in [0, 1), got {self.betas!r}")
        if self.batch_size % self.pack:
            raise ValueError(f"batch_size ({self.batch_size}) must be a multiple of pack ({self.pack})")
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {', '.join(map(repr, OBJECTIVES))}, got {self.objective!r}")
        if self.output not in ("sigmoid", "linear"):
            raise ValueError(f"output must be 'sigmoid' or 'linear', got {self.output!r}")

    def to_dict(self) -> dict:
        """Return the configuration as plain Python values (for checkpoints)."""
        return asdict(self)


def _mlp(inputs: int, hidden: int, depth: int, outputs: int) -> nn.Sequential:
    """``depth`` hidden layers of width ``hidden`` with LeakyReLU(0.2), then a linear output layer."""
    layers, width = [], inputs
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
        width = hidden
    return nn.Sequential(*layers, nn.Linear(width, outputs))


class Generator(nn.Module):
    """Map noise ``z`` ``(B, latent_dim)`` to samples ``(B, *out_shape)`` with an MLP."""

    def __init__(self, config: GANConfig) -> None:
        super().__init__()
        self.latent_dim, self.out_shape = config.latent_dim, config.out_shape
        size = math.prod(config.out_shape)
        self.net = _mlp(config.latent_dim, config.hidden, config.depth, size)
        self.squash = torch.sigmoid if config.output == "sigmoid" else nn.Identity()

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.squash(self.net(z)).reshape(-1, *self.out_shape)  # (B, latent_dim) -> (B, *out_shape)


class Discriminator(nn.Module):
    r"""Map samples ``(B, *in_shape)`` to logits ``(B / pack,)``, one per pack; :math:`D(x) = \sigma(\text{logit})`."""

    def __init__(self, config: GANConfig) -> None:
        super().__init__()
        self.pack = config.pack
        self.net = _mlp(config.pack * math.prod(config.out_shape), config.hidden, config.depth, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.reshape(-1, self.pack * x[0].numel())).squeeze(-1)  # (B, *in_shape) -> (B / pack,)


def _logits(discriminator: nn.Module, x_real: torch.Tensor, x_fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Return the discriminator's logits on real and on fake samples, from one forward pass over both.

    One pass, not two, because ``DistributedDataParallel`` allows one forward pass per backward pass.
    """
    logits = discriminator(torch.cat([x_real, x_fake]))
    n_real = len(logits) * len(x_real) // (len(x_real) + len(x_fake))  # the real packs come first
    return logits[:n_real], logits[n_real:]


def value(discriminator: nn.Module, x_real: torch.Tensor, x_fake: torch.Tensor) -> torch.Tensor:
    r"""Return the minibatch estimate of :math:`V(D, G)`, using :math:`\log(1 - \sigma(a)) = \log\sigma(-a)`."""
    logits_real, logits_fake = _logits(discriminator, x_real, x_fake)
    return F.logsigmoid(logits_real).mean() + F.logsigmoid(-logits_fake).mean()


def discriminator_objective(
    discriminator: nn.Module, x_real: torch.Tensor, x_fake: torch.Tensor, r1: float = 0.0
) -> torch.Tensor:
    r"""Return what the discriminator ascends: :math:`V` minus the R1 penalty :math:`\tfrac{\gamma}{2}\lVert\nabla_x f(x_\text{real})\rVert^2` (:math:`f` the logit)."""
    if r1 == 0:
        return value(discriminator, x_real, x_fake.detach())
    x_real = x_real.detach().requires_grad_(True)
    logits_real, logits_fake = _logits(discriminator, x_real, x_fake.detach())
    (grad,) = torch.autograd.grad(logits_real.sum(), x_real, create_graph=True)
    penalty = grad.pow(2).flatten(1).sum(1).mean()
    v = F.logsigmoid(logits_real).mean() + F.logsigmoid(-logits_fake).mean()
    return v - 0.5 * r1 * penalty


def generator_objective(discriminator: nn.Module, x_fake: torch.Tensor, objective: Objective) -> torch.Tensor:
    r"""Return what the generator ascends: :math:`-\mathbb E\log(1-D(G(z)))` (saturating) or :math:`\mathbb E\log D(G(z))`."""
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
) -> torch.Tensor:
    """Play one round of the game and return the fake batch; :func:`train_gan` calls this every step.

    The discriminator takes one step up :func:`discriminator_objective` (the value,
    minus the R1 penalty), with the fake samples held fixed; then the generator takes
    one step up :func:`generator_objective`. Both optimizers must maximize
    (``maximize=True``, or :class:`gaedu.optim.GradientAscent`).
    """
    x_fake = generator(z)
    opt_d.zero_grad(set_to_none=True)
    discriminator_objective(discriminator, x_real, x_fake, config.r1).backward()  # ∇ for the discriminator only
    opt_d.step()
    opt_g.zero_grad(set_to_none=True)
    plain = getattr(discriminator, "module", discriminator)  # under DDP, the wrapped network
    generator_objective(plain, x_fake, config.objective).backward()
    opt_g.step()
    return x_fake


@dataclass
class GANResult:
    """What :func:`train_gan` returns: the trained networks and what happened on the way."""

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


def _wrap(module: nn.Module, device: torch.device) -> nn.Module:
    """Wrap ``module`` in ``DistributedDataParallel``: gradients are averaged over the processes in ``backward()``."""
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(module, device_ids=[device.index] if device.type == "cuda" else None)


@torch.no_grad()
def _update_ema(ema: nn.Module, model: nn.Module, decay: float) -> None:
    torch._foreach_lerp_(list(ema.parameters()), list(model.parameters()), 1 - decay)


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
    Adam step ascending :func:`generator_objective`.

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

    Raises:
        ValueError: ``x_real`` has the wrong shape or non-finite values.
    """
    from tqdm.auto import tqdm

    config = config or GANConfig()
    if x_real.ndim != 1 + len(config.out_shape) or tuple(x_real.shape[1:]) != config.out_shape:
        raise ValueError(f"x_real must have shape (N, {', '.join(map(str, config.out_shape))}), got {tuple(x_real.shape)}")
    if not torch.isfinite(x_real).all():
        raise ValueError("x_real contains NaN or infinite values")
    from gaedu import distributed
    from gaedu.device import get_device

    process = distributed.current()  # under torchrun: this process's rank, world size and device
    device = process.device if process.distributed else get_device(device)
    if config.batch_size % (process.world_size * config.pack):
        raise ValueError(f"batch_size ({config.batch_size}) must split evenly into {process.world_size} processes of whole packs")
    local_batch = config.batch_size // process.world_size  # each process takes its share of every batch
    x_real = x_real.to(device, torch.float32)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        generator, discriminator = Generator(config).to(device), Discriminator(config).to(device)
    ema = copy.deepcopy(generator).requires_grad_(False) if config.ema > 0 else None
    noise = torch.Generator(device=device).manual_seed(config.seed)
    fixed_z = torch.randn(64, config.latent_dim, generator=noise, device=device)
    if process.distributed:  # the same weights everywhere (DDP copies rank 0's), different data per process
        noise.manual_seed(config.seed + 7919 * (process.rank + 1))
        generator_ddp, discriminator_ddp = _wrap(generator, device), _wrap(discriminator, device)
    else:
        generator_ddp, discriminator_ddp = generator, discriminator
    # Adam with maximize=True: both players ascend their own objective
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=config.lr_d, betas=config.betas, maximize=True)
    opt_g = torch.optim.Adam(generator.parameters(), lr=config.lr_g, betas=config.betas, maximize=True)
    result = GANResult(config, generator, discriminator, ema, fixed_z, {"step": [], "value": []})
    bar = tqdm(range(1, config.num_steps + 1), desc="GAN", disable=not progress or not process.is_main, mininterval=1.0)
    for step in bar:
        index = torch.randint(len(x_real), (local_batch,), generator=noise, device=device)
        z = torch.randn(local_batch, config.latent_dim, generator=noise, device=device)
        x_fake = training_step(generator_ddp, discriminator_ddp, opt_d, opt_g, x_real[index], z, config)
        if ema is not None:  # warm-up: early on, average over the few steps there have been
            _update_ema(ema, generator, min(config.ema, (1 + step) / (10 + step)))
        if step % 50 == 0 or step == config.num_steps:
            with torch.no_grad():
                v = value(discriminator, x_real[index], x_fake).item()
            result.history["step"].append(step)
            result.history["value"].append(v)
            bar.set_postfix(V=f"{v:.3f}", refresh=False)
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


def jacobian_norms(generator: Generator, z: torch.Tensor, *, batch_size: int = 4096) -> torch.Tensor:
    r"""Return :math:`\lVert \partial G(z) / \partial z \rVert_F` for each row of ``z`` ``(n, latent_dim)``, shape ``(n,)``.

    The Frobenius norm of the generator's Jacobian says how much it stretches the
    noise space at ``z``. A continuous generator has to stretch hard where it
    carries a connected noise space across the gap between two separated modes,
    so samples far from every mode come from the noise with the largest norms
    (Tanielian et al. 2020).
    """
    from torch.func import jacrev, vmap

    if z.ndim != 2 or z.shape[1] != generator.latent_dim:
        raise ValueError(f"z must have shape (n, {generator.latent_dim}), got {tuple(z.shape)}")

    def flat(v: torch.Tensor) -> torch.Tensor:
        return generator(v[None]).reshape(-1)  # (latent_dim,) -> (out_size,)

    jac = vmap(jacrev(flat))
    return torch.cat([jac(part).flatten(1).norm(dim=1).detach() for part in z.split(batch_size)])


def sample(generator: Generator, n: int, seed: int = 0, *, batch_size: int = 4096, reject: float = 0.0) -> torch.Tensor:
    """Draw ``n`` samples from ``generator`` with seeded noise; return them on the CPU.

    Args:
        generator: the trained generator.
        n: number of samples.
        seed: seed of the noise (the global random state is untouched).
        batch_size: noise vectors pushed through the generator at once.
        reject: Jacobian truncation (Tanielian et al. 2020): draw ``n / (1 - reject)``
            noise vectors and keep the ``n`` with the smallest :func:`jacobian_norms`,
            dropping the samples the generator stretches between modes. 0 keeps all.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if not (isinstance(reject, (int, float)) and 0 <= reject < 1):
        raise ValueError(f"reject must be a number in [0, 1), got {reject!r}")
    device = next(generator.parameters()).device
    noise = torch.Generator(device=device).manual_seed(seed)
    drawn = n if reject == 0 else math.ceil(n / (1 - reject))
    z = torch.cat([torch.randn(min(batch_size, drawn - start), generator.latent_dim, generator=noise, device=device)
                   for start in range(0, drawn, batch_size)])  # fmt: skip
    if reject:
        keep = jacobian_norms(generator, z, batch_size=batch_size).argsort(stable=True)[:n]
        z = z[keep.sort().values]  # the n least stretched, in the order they were drawn
    with torch.no_grad():
        return torch.cat([generator(part).cpu() for part in z.split(batch_size)])


def save_gan(path, result: GANResult, info: dict | None = None):
    """Write the trained GAN of ``result`` to a checkpoint (see :mod:`gaedu.checkpoint`); return the path."""
    from gaedu.checkpoint import save_checkpoint

    state = {"generator": result.generator.state_dict(), "discriminator": result.discriminator.state_dict()}
    if result.ema_generator is not None:
        state["ema_generator"] = result.ema_generator.state_dict()
    return save_checkpoint(path, "gan", result.config.to_dict(), state, info)


def load_generator(path, *, device: str | torch.device | None = None) -> Generator:
    """Load the generator to sample from (the weight average when saved) from a GAN checkpoint.

    Raises:
        gaedu.checkpoint.CheckpointError: the file is missing, corrupt, foreign or inconsistent.
    """
    from gaedu.checkpoint import CheckpointError, load_checkpoint

    payload = load_checkpoint(path, "gan")
    try:
        config = GANConfig(**payload["config"])
        generator = Generator(config)
        generator.load_state_dict(payload["state"].get("ema_generator", payload["state"]["generator"]))
    except (TypeError, ValueError, KeyError, RuntimeError) as err:
        reason = str(err).strip().splitlines()[0][:160]
        raise CheckpointError(f"{path} does not describe a gaedu GAN: {reason}") from None
    return generator.to(device or "cpu").eval()


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

#: The share of noise vectors that Jacobian truncation drops when sampling the
#: ring GAN: ``sample(generator, n, reject=RING_REJECT)``.
RING_REJECT = 0.3
