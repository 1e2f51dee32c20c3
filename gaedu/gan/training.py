r"""Training a GAN, sampling from it, saving it, and the book's settings."""

from __future__ import annotations

import copy
import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from gaedu import distributed
from gaedu._validation import check_int
from gaedu.checkpoint import load_network, save_networks
from gaedu.gan.networks import FIXED_SAMPLES, HISTORY_EVERY, Discriminator, GANConfig, Generator
from gaedu.gan.objectives import training_step, value
from gaedu.nets import device_of, seeded
from gaedu.optim import record_evaluation, update_ema


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
    rng = torch.Generator().manual_seed(config.seed)
    fixed_z = torch.randn(FIXED_SAMPLES, config.latent_dim, generator=rng)
    if process.distributed:  # different data per process, the same weights everywhere
        rng.manual_seed(part.data_seed(config.seed))
    generator_ddp, discriminator_ddp = distributed.wrap(generator, process), distributed.wrap(discriminator, process)
    # Adam with maximize=True: both players ascend their own objective
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=config.lr_d, betas=config.betas, maximize=True)
    opt_g = torch.optim.Adam(generator.parameters(), lr=config.lr_g, betas=config.betas, maximize=True)
    result = GANResult(config, generator, discriminator, ema, fixed_z, {"step": [], "value": []})
    fixed_z = fixed_z.to(device)
    bar = tqdm(range(1, config.num_steps + 1), desc="GAN", disable=not progress or not process.is_main, mininterval=1.0)
    for step in bar:
        index = torch.randint(len(x_real), (part.local_batch,), generator=rng).to(device)
        z = torch.randn(part.local_batch, config.latent_dim, generator=rng).to(device)
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
            record_evaluation(result.history, step, evaluate(result.sampler))
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
    rng = torch.Generator().manual_seed(check_int("seed", seed, minimum=0))
    return torch.cat([torch.randn(min(batch_size, n - start), latent_dim, generator=rng)
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
    networks = {"generator": result.generator, "discriminator": result.discriminator, "ema_generator": result.ema_generator}
    return save_networks(path, "gan", result.config.to_dict(), networks, info)


def load_generator(path: str | os.PathLike, *, device: str | torch.device | None = None) -> Generator:
    """Load the generator to sample from (the weight average when saved) from a GAN checkpoint, in eval mode.

    Raises:
        gaedu.checkpoint.CheckpointError: the file is missing, corrupt, foreign or inconsistent.
    """
    return load_network(path, "gan", lambda c: Generator(GANConfig(**c)), ("ema_generator", "generator"), device=device)


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
