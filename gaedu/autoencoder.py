r"""The autoencoder: reconstruction through a code, trained by ascent on the negative reconstruction error.

An :class:`Autoencoder` squeezes a digit (an 8×8 one is 64 numbers, a 28×28 one 784)
through a code of ``latent_dim`` numbers: the :class:`Encoder` maps the image :math:`x` to a code
:math:`z = E(x)`, the :class:`Decoder` maps the code back to an image
:math:`\hat x = D(z)`. Training ascends the negative reconstruction error

.. math::

    J(E, D) = -\,\mathbb E_x\, \ell\big(D(E(x)),\ x\big),
    \qquad \ell = \lVert \cdot \rVert_1 \text{ (``'l1'``) or } \lVert \cdot \rVert_2^2 \text{ (``'l2'``), per pixel},

so the decoder is trained toward the *image*, never toward its own code. The
networks are MLPs (``arch='mlp'``, for 8×8 digits) or convolutional
(``arch='conv'``, for 28×28: :func:`gaedu.nets.conv_down` and :func:`gaedu.nets.conv_up`).
Reconstructing a damaged image by ascent on the decoder's code is in
:mod:`gaedu.inversion`.
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import torch
from torch import nn
from tqdm.auto import tqdm

from gaedu import distributed
from gaedu._validation import (
    check_choice,
    check_fraction,
    check_images,
    check_int,
    check_nonnegative,
    check_positive,
    check_sizes,
    set_checked,
)
from gaedu.checkpoint import load_network, save_networks
from gaedu.metrics import psnr
from gaedu.nets import check_conv_shape, conv_down, conv_up, device_of, mlp, seeded

Loss = Literal["l1", "l2"]
LOSSES = ("l1", "l2")
ARCHS = ("mlp", "conv")
IMAGE_SHAPE = (1, 8, 8)


@dataclass(frozen=True)
class AEConfig:
    """Everything needed to rebuild an autoencoder and retrain it (immutable: use ``dataclasses.replace``).

    Attributes:
        latent_dim: length of the code ``z``.
        hidden: width of the hidden layers of the encoder and the decoder; with
            ``arch='conv'``, the channels after the first halving of the resolution.
        depth: number of hidden layers of each; with ``arch='conv'``, the number of
            halvings of the resolution.
        arch: ``'mlp'`` or ``'conv'``.
        image_shape: the shape ``(C, H, W)`` of one image: ``(1, 8, 8)`` or ``(1, 28, 28)``.
        loss: the per-pixel error whose negative mean is ascended: ``'l1'`` (absolute)
            or ``'l2'`` (squared).
        num_steps: training steps, one minibatch each.
        batch_size: images per step.
        lr: AdamW learning rate.
        weight_decay: AdamW's decoupled weight decay, a pull of every weight toward 0. The
            strong 0.1 (AdamW's usual default is 0.01) keeps the 8-number code from
            memorizing the 1,347 training digits; the held-out curve chose it.
        val_fraction: share of the training images held out to choose the best step
            (early stopping); the test split is never used for that.
        eval_every: measure the curves every this many steps (and at the last step).
        seed: seed of the initial weights, the held-out split and the minibatches.
        noise: standard deviation of the Gaussian noise added to every training input
            (then clipped to ``[0, 1]``); the target stays the clean image. ``0`` trains a
            plain autoencoder, anything larger a *denoising* one, whose held-out PSNR (which
            chooses the step) is then that of denoising one fixed noisy copy of each image.
    """

    latent_dim: int = 8
    hidden: int = 256
    depth: int = 2
    arch: Literal["mlp", "conv"] = "mlp"
    image_shape: tuple[int, ...] = IMAGE_SHAPE
    loss: Loss = "l2"
    num_steps: int = 4000
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.1
    val_fraction: float = 0.1
    eval_every: int = 200
    seed: int = 0
    noise: float = 0.0

    def __post_init__(self) -> None:
        for name in ("latent_dim", "hidden", "depth", "num_steps", "batch_size", "eval_every"):
            set_checked(self, name, check_int)
        set_checked(self, "seed", check_int, minimum=0)
        set_checked(self, "loss", check_choice, choices=LOSSES)
        set_checked(self, "arch", check_choice, choices=ARCHS)
        set_checked(self, "image_shape", check_sizes, length=3)
        if self.arch == "conv":
            check_conv_shape(self.image_shape, self.depth)
        set_checked(self, "lr", check_positive)
        set_checked(self, "weight_decay", check_nonnegative)
        set_checked(self, "val_fraction", check_fraction)
        set_checked(self, "noise", check_nonnegative)

    def to_dict(self) -> dict:
        """Return the configuration as plain Python values (for checkpoints).

        ``noise`` is left out when it is 0, so a plain autoencoder's checkpoint and cache
        key read as before denoising existed.
        """
        values = asdict(self)
        if values["noise"] == 0:
            del values["noise"]
        return values


class Encoder(nn.Module):
    """Map images ``(B, *image_shape)`` to codes ``(B, latent_dim)`` with an MLP or strided convolutions."""

    def __init__(self, latent_dim: int, hidden: int = 256, depth: int = 2, *, arch: str = "mlp",
                 image_shape: tuple[int, ...] = IMAGE_SHAPE) -> None:  # fmt: skip
        super().__init__()
        self.latent_dim, self.image_shape, self.arch = latent_dim, tuple(image_shape), arch
        if arch == "conv":
            self.net = conv_down(self.image_shape, latent_dim, hidden, depth)
        else:
            self.net = mlp(math.prod(self.image_shape), hidden, depth, latent_dim)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images if self.arch == "conv" else images.flatten(1))  # (B, C, H, W) -> (B, latent_dim)


class Decoder(nn.Module):
    """Map codes ``(B, latent_dim)`` to images ``(B, *image_shape)`` in ``[0, 1]`` (a sigmoid output)."""

    def __init__(self, latent_dim: int, hidden: int = 256, depth: int = 2, *, arch: str = "mlp",
                 image_shape: tuple[int, ...] = IMAGE_SHAPE) -> None:  # fmt: skip
        super().__init__()
        self.latent_dim, self.image_shape = latent_dim, tuple(image_shape)
        if arch == "conv":
            self.net = conv_up(latent_dim, self.image_shape, hidden, depth)
        else:
            self.net = mlp(latent_dim, hidden, depth, math.prod(self.image_shape))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(z)).reshape(-1, *self.image_shape)  # (B, latent_dim) -> (B, C, H, W)


class Autoencoder(nn.Module):
    """An :class:`Encoder` and a :class:`Decoder` with a code of ``latent_dim`` numbers."""

    def __init__(self, latent_dim: int, hidden: int = 256, depth: int = 2, *, arch: str = "mlp",
                 image_shape: tuple[int, ...] = IMAGE_SHAPE) -> None:  # fmt: skip
        super().__init__()
        self.latent_dim = latent_dim = check_int("latent_dim", latent_dim)
        hidden, depth = check_int("hidden", hidden), check_int("depth", depth)
        check_choice("arch", arch, ARCHS)
        self.image_shape = tuple(image_shape)
        self.encoder = Encoder(latent_dim, hidden, depth, arch=arch, image_shape=self.image_shape)
        self.decoder = Decoder(latent_dim, hidden, depth, arch=arch, image_shape=self.image_shape)

    @classmethod
    def from_config(cls, config: AEConfig) -> Autoencoder:
        """Build the untrained autoencoder that ``config`` describes."""
        return cls(config.latent_dim, config.hidden, config.depth, arch=config.arch, image_shape=config.image_shape)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(images))  # (B, C, H, W) -> (B, C, H, W)


def reconstruction_error(x_hat: torch.Tensor, x: torch.Tensor, loss: Loss) -> torch.Tensor:
    """Return the mean per-pixel error, a scalar tensor: absolute (``'l1'``) or squared (``'l2'``)."""
    check_choice("loss", loss, LOSSES)
    difference = x_hat - x
    return difference.abs().mean() if loss == "l1" else difference.pow(2).mean()


def training_step(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, loss: Loss,
                  inputs: torch.Tensor | None = None) -> torch.Tensor:
    r"""Take one step on the batch ``x`` and return its error (detached); :func:`train_autoencoder` calls this every step.

    The target is the image ``x`` itself: the decoder's output is compared with the
    clean image, never with the code. The encoder reads ``inputs`` (a damaged copy of
    ``x``, for a denoising autoencoder) or, by default, ``x``. Descending the error is
    ascending :math:`J = -\text{error}`.
    """
    error = reconstruction_error(model(x if inputs is None else inputs), x, loss)
    optimizer.zero_grad(set_to_none=True)
    error.backward()
    optimizer.step()
    return error.detach()


@dataclass
class AEResult:
    """What :func:`train_autoencoder` returns.

    Attributes:
        config: the settings it was trained with.
        model: the weights of the step with the best held-out PSNR, in eval mode.
        best_step: that step.
        history: ``'step'``, ``'loss'`` (the mean training error since the last
            evaluation), and the mean PSNR on the training images (``'train_psnr'``), the
            held-out images (``'val_psnr'``) and, when given, the test images
            (``'test_psnr'``) at each evaluation.
    """

    config: AEConfig
    model: Autoencoder
    best_step: int
    history: dict[str, list[float]] = field(default_factory=dict)


@torch.no_grad()
def _mean_psnr(model: nn.Module, images: torch.Tensor, inputs: torch.Tensor | None = None) -> float:
    return psnr(model(images if inputs is None else inputs).clamp(0, 1), images).mean().item()


def _noisy(images: torch.Tensor, std: float, rng: torch.Generator) -> torch.Tensor:
    noise = torch.randn(images.shape, generator=rng).to(images.device)
    return (images + std * noise).clamp(0, 1)


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
        x_train: training images ``(N, *config.image_shape)`` in ``[0, 1]``.
        config: the settings (default :class:`AEConfig()`).
        x_test: images to measure along the way, never to choose by.
        device: where to train (default: :func:`gaedu.get_device`).
        progress: show a tqdm progress bar.
        callback: called as ``callback(step, model)`` at each evaluation (under
            ``torchrun``, in the main process only).

    Returns:
        An :class:`AEResult`.

    Raises:
        ValueError: bad images or too few of them to hold some out.
    """
    config = config or AEConfig()
    x_train = check_images(x_train, "x_train", shape=config.image_shape)
    if x_test is not None:
        x_test = check_images(x_test, "x_test", shape=config.image_shape)
    part = distributed.shard(config.batch_size, device)
    device, process = part.device, part.process
    rng = torch.Generator().manual_seed(config.seed)
    order = torch.randperm(len(x_train), generator=rng)
    n_val = round(config.val_fraction * len(x_train))
    if len(x_train) - n_val < 1 or (config.val_fraction > 0 and n_val < 1):
        raise ValueError(f"x_train has {len(x_train)} images: too few to hold out a share of {config.val_fraction}")
    x_fit = x_train[order[n_val:]].to(device, torch.float32)
    x_val = x_train[order[:n_val]].to(device, torch.float32) if n_val else x_fit
    x_test = x_test.to(device, torch.float32) if x_test is not None else None
    model = seeded(lambda: Autoencoder.from_config(config), config.seed).to(device)
    if process.distributed:  # the same held-out split and weights everywhere, different minibatches
        rng.manual_seed(part.data_seed(config.seed))
    trained = distributed.wrap(model, process)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    history: dict[str, list[float]] = {"step": [], "loss": [], "train_psnr": [], "val_psnr": []}
    if x_test is not None:
        history["test_psnr"] = []
    # a denoising autoencoder is judged on one fixed noisy copy of each image (its own generator,
    # so the minibatches are those of the plain autoencoder with the same seed)
    damage_rng = torch.Generator().manual_seed(config.seed + 1)
    noisy = {name: _noisy(images, config.noise, damage_rng) if config.noise and images is not None else None
             for name, images in (("fit", x_fit), ("val", x_val), ("test", x_test))}
    best, best_step, running = copy.deepcopy(model.state_dict()), 0, []
    best_psnr = -math.inf
    steps = range(1, config.num_steps + 1)
    bar = tqdm(steps, desc="autoencoder", disable=not progress or not process.is_main, mininterval=1.0)
    for step in bar:
        index = torch.randint(len(x_fit), (part.local_batch,), generator=rng).to(device)
        inputs = _noisy(x_fit[index], config.noise, damage_rng) if config.noise else None
        running.append(training_step(trained, optimizer, x_fit[index], config.loss, inputs))
        if step % config.eval_every == 0 or step == config.num_steps:
            model.eval()
            history["step"].append(step)
            history["loss"].append(torch.stack(running).mean().item())
            history["train_psnr"].append(_mean_psnr(model, x_fit, noisy["fit"]))
            history["val_psnr"].append(_mean_psnr(model, x_val, noisy["val"]))
            if x_test is not None:
                history["test_psnr"].append(_mean_psnr(model, x_test, noisy["test"]))
            if history["val_psnr"][-1] > best_psnr:
                best_psnr, best_step = history["val_psnr"][-1], step
                best = copy.deepcopy(model.state_dict())
            if callback is not None and process.is_main:
                callback(step, model)
            model.train()
            running = []
            bar.set_postfix(val_psnr=f"{history['val_psnr'][-1]:.2f}", refresh=False)
    bar.close()
    model.load_state_dict(best)
    return AEResult(config, model.eval(), best_step, history)


@torch.no_grad()
def reconstruct(model: Autoencoder, images: torch.Tensor, *, batch_size: int = 4096) -> torch.Tensor:
    """Return ``model``'s reconstructions of ``images`` ``(N, *model.image_shape)`` in ``[0, 1]``, on the CPU.

    Raises:
        ValueError: ``images`` has the wrong shape (another size than the model's, say),
            non-finite values or values outside ``[0, 1]``.
    """
    images = check_images(images, shape=model.image_shape)
    device = device_of(model)
    parts = images.split(check_int("batch_size", batch_size))
    return torch.cat([model(part.to(device, torch.float32)).cpu() for part in parts])


def save_autoencoder(path: str | os.PathLike, result: AEResult, info: dict | None = None) -> Path:
    """Write the trained autoencoder of ``result`` to a checkpoint (see :mod:`gaedu.checkpoint`); return the path."""
    info = {"best_step": result.best_step, **(info or {})}
    return save_networks(path, "autoencoder", result.config.to_dict(), {"model": result.model}, info)


def load_autoencoder(path: str | os.PathLike, *, device: str | torch.device | None = None) -> Autoencoder:
    """Load an autoencoder checkpoint, in eval mode.

    Raises:
        gaedu.checkpoint.CheckpointError: the file is missing, corrupt, foreign or inconsistent.
    """
    return load_network(path, "autoencoder", lambda c: Autoencoder.from_config(AEConfig(**c)), ("model",), device=device)


#: The 28×28 convolutional autoencoder (``python -m gaedu train-ae --dataset mnist28``,
#: :func:`gaedu.pretrained`): strided convolutions down to 7×7 and a code, transposed
#: convolutions back up; ``latent_dim`` is set per model.
MNIST28_AE = AEConfig(
    latent_dim=16, hidden=32, depth=2, arch="conv", image_shape=(1, 28, 28), num_steps=2000, batch_size=64,
    lr=1e-3, weight_decay=1e-4, eval_every=250,
)  # fmt: skip
