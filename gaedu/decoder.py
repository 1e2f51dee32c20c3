r"""Reconstruction with an encoder and a decoder, and reconstruction by ascent on the code.

An :class:`Autoencoder` squeezes an 8×8 digit (64 numbers) through a code of
``latent_dim`` numbers: the :class:`Encoder` maps the image :math:`x` to a code
:math:`z = E(x)`, the :class:`Decoder` maps the code back to an image
:math:`\hat x = D(z)`. Training ascends the negative reconstruction error

.. math::

    J(E, D) = -\,\mathbb E_x\, \ell\big(D(E(x)),\ x\big),
    \qquad \ell = \lVert \cdot \rVert_1 \text{ (``'l1'``) or } \lVert \cdot \rVert_2^2 \text{ (``'l2'``), per pixel},

so the decoder is trained toward the *image*, never toward its own code.

Given a trained decoder and a damaged image whose pixels are known only where
a mask is 1, :func:`ascend_code` finds a code whose decoding agrees with the
known pixels, by gradient ascent on the similarity from several starts.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Literal

import torch
from torch import nn

from gaedu.gan import _mlp  # the same MLP body as the GAN's networks

Loss = Literal["l1", "l2"]
LOSSES = ("l1", "l2")
IMAGE_SHAPE = (1, 8, 8)


@dataclass
class AEConfig:
    """Everything needed to rebuild an autoencoder and retrain it.

    Attributes:
        latent_dim: length of the code ``z``.
        hidden: width of the hidden layers of the encoder and the decoder.
        depth: number of hidden layers of each.
        loss: the per-pixel error whose negative mean is ascended: ``'l1'`` (absolute)
            or ``'l2'`` (squared).
        num_steps: training steps, one minibatch each.
        batch_size: images per step.
        lr: AdamW learning rate.
        weight_decay: AdamW's decoupled weight decay, a pull of every weight toward 0.
        val_fraction: share of the training images held out to choose the best step
            (early stopping); the test split is never used for that.
        eval_every: measure the curves every this many steps (and at the last step).
        seed: seed of the initial weights, the held-out split and the minibatches.
    """

    latent_dim: int = 8
    hidden: int = 256
    depth: int = 2
    loss: Loss = "l2"
    num_steps: int = 4000
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.1
    val_fraction: float = 0.1
    eval_every: int = 200
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("latent_dim", "hidden", "depth", "num_steps", "batch_size", "eval_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be 'l1' or 'l2', got {self.loss!r}")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a finite number > 0, got {self.lr!r}")
        if not (isinstance(self.weight_decay, (int, float)) and math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError(f"weight_decay must be a finite number >= 0, got {self.weight_decay!r}")
        if not (isinstance(self.val_fraction, (int, float)) and 0 <= self.val_fraction < 1):
            raise ValueError(f"val_fraction must be in [0, 1), got {self.val_fraction!r}")

    def to_dict(self) -> dict:
        """Return the configuration as plain Python values (for checkpoints)."""
        return asdict(self)


class Encoder(nn.Module):
    """Map images ``(B, 1, 8, 8)`` to codes ``(B, latent_dim)`` with an MLP."""

    def __init__(self, latent_dim: int, hidden: int = 256, depth: int = 2) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.net = _mlp(math.prod(IMAGE_SHAPE), hidden, depth, latent_dim)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images.flatten(1))  # (B, 1, 8, 8) -> (B, latent_dim)


class Decoder(nn.Module):
    """Map codes ``(B, latent_dim)`` to images ``(B, 1, 8, 8)`` in ``[0, 1]`` (a sigmoid output)."""

    def __init__(self, latent_dim: int, hidden: int = 256, depth: int = 2) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.net = _mlp(latent_dim, hidden, depth, math.prod(IMAGE_SHAPE))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(z)).reshape(-1, *IMAGE_SHAPE)  # (B, latent_dim) -> (B, 1, 8, 8)


class Autoencoder(nn.Module):
    """An :class:`Encoder` and a :class:`Decoder` with a code of ``latent_dim`` numbers."""

    def __init__(self, latent_dim: int, hidden: int = 256, depth: int = 2) -> None:
        super().__init__()
        for name, value in (("latent_dim", latent_dim), ("hidden", hidden), ("depth", depth)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self.latent_dim = latent_dim
        self.encoder = Encoder(latent_dim, hidden, depth)
        self.decoder = Decoder(latent_dim, hidden, depth)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(images))  # (B, 1, 8, 8) -> (B, 1, 8, 8)


def check_images(images, name: str = "images") -> torch.Tensor:
    """Return ``images`` as a float tensor after checking shape ``(N, 1, 8, 8)``, finiteness and range ``[0, 1]``.

    Raises:
        ValueError: one line saying what is wrong.
    """
    if not isinstance(images, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(images).__name__}")
    if images.ndim != 4 or tuple(images.shape[1:]) != IMAGE_SHAPE or len(images) == 0:
        raise ValueError(f"{name} must have shape (N, 1, 8, 8) with N >= 1, got {tuple(images.shape)}")
    if not images.is_floating_point():
        raise ValueError(f"{name} must be floating point, got {images.dtype}")
    if not torch.isfinite(images).all():
        raise ValueError(f"{name} contain NaN or infinite values")
    if images.min() < 0 or images.max() > 1:
        raise ValueError(f"{name} must lie in [0, 1], got values from {images.min().item():.3g} to {images.max().item():.3g}")
    return images


def reconstruction_error(x_hat: torch.Tensor, x: torch.Tensor, loss: Loss) -> torch.Tensor:
    """Return the mean per-pixel error: absolute (``'l1'``) or squared (``'l2'``)."""
    if loss == "l1":
        return (x_hat - x).abs().mean()
    if loss == "l2":
        return (x_hat - x).pow(2).mean()
    raise ValueError(f"loss must be 'l1' or 'l2', got {loss!r}")


def training_step(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, loss: Loss) -> torch.Tensor:
    r"""Take one step on the batch ``x`` and return its error (detached); :func:`train_autoencoder` calls this every step.

    The target is the image ``x`` itself: the decoder's output is compared with the
    encoder's input, never with the code. Descending the error is ascending
    :math:`J = -\text{error}`.
    """
    error = reconstruction_error(model(x), x, loss)
    optimizer.zero_grad(set_to_none=True)
    error.backward()
    optimizer.step()
    return error.detach()


@dataclass
class AEResult:
    """What :func:`train_autoencoder` returns.

    ``model`` holds the weights of the step with the best held-out PSNR (``best_step``);
    ``history`` has the step, the training loss, and the mean PSNR on the training
    images, the held-out images and (when given) the test images at each evaluation.
    """

    config: AEConfig
    model: Autoencoder
    best_step: int
    history: dict[str, list[float]] = field(default_factory=dict)


@torch.no_grad()
def _mean_psnr(model: nn.Module, images: torch.Tensor) -> float:
    from gaedu.metrics import psnr

    return psnr(model(images).clamp(0, 1), images).mean().item()


def train_autoencoder(
    x_train: torch.Tensor,
    config: AEConfig | None = None,
    *,
    x_test: torch.Tensor | None = None,
    device: str | torch.device | None = None,
    progress: bool = True,
    callback: Callable[[int, Autoencoder], None] | None = None,
) -> AEResult:
    """Train an :class:`Autoencoder` on ``x_train`` by ascending the negative reconstruction error.

    A seeded ``val_fraction`` of ``x_train`` is held out. Every ``eval_every`` steps the
    mean PSNR on the rest, on the held-out images and on ``x_test`` (if given, only
    recorded) goes into the history, and the weights with the best held-out PSNR are
    kept: early stopping against overfitting, chosen without looking at the test set.

    Args:
        x_train: training images ``(N, 1, 8, 8)`` in ``[0, 1]``.
        config: the settings (default :class:`AEConfig()`).
        x_test: images to measure along the way, never to choose by.
        device: where to train (default: :func:`gaedu.get_device`).
        progress: show a tqdm progress bar.
        callback: called as ``callback(step, model)`` at each evaluation.

    Raises:
        ValueError: bad images or too few of them to hold some out.
    """
    from tqdm.auto import tqdm

    from gaedu import distributed
    from gaedu.device import get_device

    config = config or AEConfig()
    x_train = check_images(x_train, "x_train")
    if x_test is not None:
        x_test = check_images(x_test, "x_test")
    process = distributed.current()  # under torchrun: this process's rank, world size and device
    device = process.device if process.distributed else get_device(device)
    if config.batch_size % process.world_size:
        raise ValueError(f"batch_size ({config.batch_size}) must split evenly into {process.world_size} processes")
    local_batch = config.batch_size // process.world_size  # each process takes its share of every batch
    noise = torch.Generator().manual_seed(config.seed)
    order = torch.randperm(len(x_train), generator=noise)
    n_val = round(config.val_fraction * len(x_train))
    if len(x_train) - n_val < 1 or (config.val_fraction > 0 and n_val < 1):
        raise ValueError(f"x_train has {len(x_train)} images: too few to hold out a share of {config.val_fraction}")
    x_fit = x_train[order[n_val:]].to(device, torch.float32)
    x_val = x_train[order[:n_val]].to(device, torch.float32) if n_val else x_fit
    x_test = x_test.to(device, torch.float32) if x_test is not None else None
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = Autoencoder(config.latent_dim, config.hidden, config.depth).to(device)
    trained = model
    if process.distributed:  # the same held-out split and weights everywhere, different minibatches
        from torch.nn.parallel import DistributedDataParallel

        noise.manual_seed(config.seed + 7919 * (process.rank + 1))
        trained = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    history: dict[str, list[float]] = {"step": [], "loss": [], "train_psnr": [], "val_psnr": []}
    if x_test is not None:
        history["test_psnr"] = []
    best, best_step, running = copy.deepcopy(model.state_dict()), 0, []
    best_psnr = -math.inf
    bar = tqdm(range(1, config.num_steps + 1), desc="autoencoder", disable=not progress or not process.is_main,
               mininterval=1.0)  # fmt: skip
    for step in bar:
        index = torch.randint(len(x_fit), (local_batch,), generator=noise).to(device)
        running.append(training_step(trained, optimizer, x_fit[index], config.loss))
        if step % config.eval_every == 0 or step == config.num_steps:
            model.eval()
            history["step"].append(step)
            history["loss"].append(torch.stack(running).mean().item())
            history["train_psnr"].append(_mean_psnr(model, x_fit))
            history["val_psnr"].append(_mean_psnr(model, x_val))
            if x_test is not None:
                history["test_psnr"].append(_mean_psnr(model, x_test))
            if history["val_psnr"][-1] > best_psnr:
                best_psnr, best_step = history["val_psnr"][-1], step
                best = copy.deepcopy(model.state_dict())
            if callback is not None:
                callback(step, model)
            model.train()
            running = []
            bar.set_postfix(val_psnr=f"{history['val_psnr'][-1]:.2f}", refresh=False)
    bar.close()
    model.load_state_dict(best)
    return AEResult(config, model.eval(), best_step, history)


@torch.no_grad()
def reconstruct(model: Autoencoder, images: torch.Tensor, *, batch_size: int = 4096) -> torch.Tensor:
    """Return ``model``'s reconstructions of ``images`` ``(N, 1, 8, 8)`` in ``[0, 1]``, on the CPU.

    Raises:
        ValueError: ``images`` has the wrong shape, non-finite values or values outside ``[0, 1]``.
    """
    images = check_images(images)
    device = next(model.parameters()).device
    return torch.cat([model(part.to(device, torch.float32)).cpu() for part in images.split(batch_size)])


def save_autoencoder(path, result: AEResult, info: dict | None = None):
    """Write the trained autoencoder of ``result`` to a checkpoint (see :mod:`gaedu.checkpoint`); return the path."""
    from gaedu.checkpoint import save_checkpoint

    info = {"best_step": result.best_step, **(info or {})}
    return save_checkpoint(path, "autoencoder", result.config.to_dict(), {"model": result.model.state_dict()}, info)


def load_autoencoder(path, *, device: str | torch.device | None = None) -> Autoencoder:
    """Load an autoencoder checkpoint.

    Raises:
        gaedu.checkpoint.CheckpointError: the file is missing, corrupt, foreign or inconsistent.
    """
    from gaedu.checkpoint import CheckpointError, load_checkpoint

    payload = load_checkpoint(path, "autoencoder")
    try:
        config = AEConfig(**payload["config"])
        model = Autoencoder(config.latent_dim, config.hidden, config.depth)
        model.load_state_dict(payload["state"]["model"])
    except (TypeError, ValueError, KeyError, RuntimeError) as err:
        reason = str(err).strip().splitlines()[0][:160]
        raise CheckpointError(f"{path} does not describe a gaedu autoencoder: {reason}") from None
    return model.to(device or "cpu").eval()


@dataclass
class CodeSearch:
    """What :func:`ascend_code` returns (``S`` starts, ``N`` images, code length ``k``).

    Attributes:
        codes: the final code of every start, ``(S, N, k)``.
        scores: the final similarity of every start, ``(S, N)``.
        best: the index of the best start for each image, ``(N,)``.
        images: the decoding of each image's best code, ``(N, 1, 8, 8)``.
        curves: the mean over images of the best similarity reached so far, measured before
            each step (``num_steps`` values; ``scores`` holds the values after the last step).
    """

    codes: torch.Tensor
    scores: torch.Tensor
    best: torch.Tensor
    images: torch.Tensor
    curves: list[float]


def masked_similarity(x_hat: torch.Tensor, observed: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    r"""Return the negative mean squared error over the known pixels, one number per image.

    :math:`s(\hat x) = -\sum_i m_i (\hat x_i - y_i)^2 / \sum_i m_i`, where the mask
    :math:`m` is 1 on the known pixels and 0 on the missing ones; higher is better.
    Shapes: ``(..., 1, 8, 8)`` in, ``(...)`` out.
    """
    weight = mask.expand_as(x_hat)
    return -((x_hat - observed).pow(2) * weight).flatten(-3).sum(-1) / weight.flatten(-3).sum(-1).clamp_min(1)


def ascend_code(
    decoder: nn.Module,
    observed: torch.Tensor,
    mask: torch.Tensor | None = None,
    *,
    starts: torch.Tensor | int = 8,
    num_steps: int = 300,
    lr: float = 0.05,
    prior: float = 0.0,
    seed: int = 0,
) -> CodeSearch:
    r"""Find codes whose decodings match the known pixels, by gradient ascent from several starts.

    Each start ascends :math:`s(D(z)) - \text{prior}\,\lVert z\rVert^2 / k` with Adam
    (``maximize=True``); :func:`masked_similarity` is :math:`s`. The decoder's weights
    stay fixed: only the code moves.

    Args:
        decoder: a trained decoder (or generator) mapping ``(B, k)`` to ``(B, 1, 8, 8)``.
        observed: damaged images ``(N, 1, 8, 8)``; missing pixels may hold anything finite.
        mask: 1 where a pixel is known, 0 where it is missing, broadcastable to ``observed``
            (default: every pixel known).
        starts: the number of random starts ``S`` (codes drawn from a standard normal), or
            the starting codes themselves, ``(S, N, k)``.
        num_steps: ascent steps per start.
        lr: Adam's learning rate.
        prior: weight of a pull toward the origin of the code space (0: none). Its effect
            depends on the scale of the decoder's codes, as do standard-normal starts, which
            suit codes of order 1.
        seed: seed of the random starts.

    Raises:
        ValueError: bad shapes, values or settings.
    """
    if not isinstance(observed, torch.Tensor) or observed.ndim != 4 or tuple(observed.shape[1:]) != IMAGE_SHAPE:
        shape = tuple(observed.shape) if isinstance(observed, torch.Tensor) else type(observed).__name__
        raise ValueError(f"observed must have shape (N, 1, 8, 8), got {shape}")
    if not torch.isfinite(observed).all():
        raise ValueError("observed contains NaN or infinite values")
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 1:
        raise ValueError(f"num_steps must be a positive integer, got {num_steps!r}")
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
    if not (isinstance(prior, (int, float)) and math.isfinite(prior) and prior >= 0):
        raise ValueError(f"prior must be a finite number >= 0, got {prior!r}")
    device = next(decoder.parameters()).device
    observed = observed.to(device, torch.float32)
    mask = torch.ones_like(observed) if mask is None else mask.to(device, torch.float32)
    try:
        mask = mask.expand_as(observed)
    except RuntimeError:
        raise ValueError(f"mask of shape {tuple(mask.shape)} does not fit observed {tuple(observed.shape)}") from None
    k, n = decoder.latent_dim, len(observed)
    if isinstance(starts, torch.Tensor):
        if starts.ndim != 3 or starts.shape[1:] != (n, k):
            raise ValueError(f"starts must have shape (S, {n}, {k}), got {tuple(starts.shape)}")
        z0 = starts.to(device, torch.float32)
    elif isinstance(starts, int) and not isinstance(starts, bool) and starts >= 1:
        z0 = torch.randn(starts, n, k, generator=torch.Generator().manual_seed(seed)).to(device)
    else:
        raise ValueError(f"starts must be a positive integer or a (S, N, k) tensor, got {starts!r}")
    z = z0.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([z], lr=lr, maximize=True)
    frozen = [p.requires_grad for p in decoder.parameters()]
    decoder.requires_grad_(False)
    curves, best_scores = [], torch.full((n,), -math.inf, device=device)
    try:
        for _ in range(num_steps):
            x_hat = decoder(z.reshape(-1, k)).reshape(len(z), n, *IMAGE_SHAPE)
            scores = masked_similarity(x_hat, observed, mask)  # (S, N)
            objective = scores - prior * z.pow(2).mean(-1)
            optimizer.zero_grad(set_to_none=True)
            objective.sum().backward()  # the starts and images are independent: one sum, many ascents
            optimizer.step()
            best_scores = torch.maximum(best_scores, scores.detach().max(0).values)
            curves.append(best_scores.mean().item())
        with torch.no_grad():
            x_hat = decoder(z.reshape(-1, k)).reshape(len(z), n, *IMAGE_SHAPE)
            scores = masked_similarity(x_hat, observed, mask)
            best = scores.argmax(0)  # (N,)
            images = x_hat[best, torch.arange(n, device=device)]
    finally:
        for p, flag in zip(decoder.parameters(), frozen):
            p.requires_grad_(flag)
    return CodeSearch(z.detach().cpu(), scores.cpu(), best.cpu(), images.cpu(), curves)


__all__ = [
    "AEConfig",
    "AEResult",
    "Autoencoder",
    "CodeSearch",
    "Decoder",
    "Encoder",
    "ascend_code",
    "check_images",
    "load_autoencoder",
    "masked_similarity",
    "reconstruct",
    "reconstruction_error",
    "save_autoencoder",
    "train_autoencoder",
]
