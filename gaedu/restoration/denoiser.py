r"""A learned image prior: a small convolutional denoiser trained on bundled photographs.

A denoiser :math:`D(y, σ)` trained to minimise :math:`\mathbb E\|D(x + σε, σ) - x\|^2` learns
the posterior mean :math:`\mathbb E[x \mid y]`, and Tweedie's formula ties that mean to the
gradient of the log-density of noisy images, :math:`p_σ = p * \mathcal N(0, σ^2 I)`:

.. math::

    D(y, σ) = y + σ^2 \nabla_y \log p_σ(y).

So :func:`learned_score` gives (:mod:`gaedu.tweedie`) :math:`\nabla \log p_σ`, and applying the denoiser *is* one ascent
step of size :math:`σ^2` on :math:`\log p_σ`. The network is a DnCNN (Zhang et al. 2017)
without batch normalisation, told the noise level by an extra input channel (as FFDNet,
Zhang et al. 2018), so one network serves every :math:`σ` in ``[0, sigma_max]``.

It is trained only on the photographs in ``TRAIN_PHOTOS``; the book restores the others
(``TEST_PHOTOS``). :func:`load_denoiser` trains it once per machine and caches it
(:mod:`gaedu.cache`).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import torch
from torch import nn
from tqdm.auto import tqdm

from gaedu._validation import check_int, check_number, check_positive, check_sizes, set_checked
from gaedu.cache import cached
from gaedu.data import PHOTOS, load_photo, photo_side
from gaedu.device import get_device
from gaedu.nets import device_of, seeded
from gaedu.tweedie import denoiser_mse, denoiser_score

# The book restores these; the learned prior never sees them.
TEST_PHOTOS = ("camera", "astronaut", "chelsea", "coins")
# Every other bundled photograph with a documented licence is training data.
TRAIN_PHOTOS = ("brick", "coffee", "grass", "gravel", "rocket", "retina", "immunohistochemistry",
                "clock", "hubble", "text", "china", "flower")  # fmt: skip


@dataclass(frozen=True)
class DenoiserConfig:
    """The denoiser's architecture and training (immutable: use ``dataclasses.replace``).

    Attributes:
        channels, depth: width and number of 3×3 convolutions (receptive field ``2 depth + 1`` pixels).
        num_steps, batch_size, patch: Adam steps on minibatches of ``patch`` × ``patch`` crops.
        lr: Adam's initial learning rate, decayed to 0 along a cosine.
        sigma_max: noise levels are drawn uniformly from ``[0, sigma_max]``.
        sizes: each training photograph is used at these sizes (more, and more varied, patches).
        photos: the training photographs (names in :data:`gaedu.data.PHOTOS`).
        seed: weights, crops and noise.
    """

    channels: int = 32
    depth: int = 7
    num_steps: int = 2400
    batch_size: int = 32
    patch: int = 40
    lr: float = 1e-3
    sigma_max: float = 0.2
    sizes: tuple[int, ...] = (128, 192, 256)
    photos: tuple[str, ...] = TRAIN_PHOTOS
    seed: int = 0

    def __post_init__(self):
        set_checked(self, "channels", check_int)
        set_checked(self, "depth", check_int, minimum=2)
        set_checked(self, "num_steps", check_int)
        set_checked(self, "batch_size", check_int)
        set_checked(self, "patch", check_int, minimum=8)
        set_checked(self, "lr", check_positive)
        set_checked(self, "sigma_max", check_positive)
        set_checked(self, "seed", check_int, minimum=0)
        set_checked(self, "sizes", check_sizes, minimum=self.patch)
        if not isinstance(self.photos, (tuple, list)) or not self.photos:
            raise ValueError("photos must name at least one training photograph")
        unknown = [p for p in self.photos if p not in PHOTOS]
        if unknown:
            raise ValueError(f"unknown photographs {unknown}; choose from {', '.join(PHOTOS)}")
        set_checked(self, "photos", lambda name, photos: tuple(photos))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["sizes"], d["photos"] = list(self.sizes), list(self.photos)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> DenoiserConfig:
        d = dict(d)
        d["sizes"], d["photos"] = tuple(d["sizes"]), tuple(d["photos"])
        return cls(**d)


class Denoiser(nn.Module):
    """``D(y, σ) = y − f([y, σ])``: a plain CNN ``f`` predicts the noise from the image and a σ map."""

    def __init__(self, channels: int = 32, depth: int = 7):
        super().__init__()
        channels, depth = check_int("channels", channels), check_int("depth", depth, minimum=2)
        layers: list[nn.Module] = [nn.Conv2d(2, channels, 3, padding=1), nn.ReLU()]
        for _ in range(depth - 2):
            layers += [nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU()]
        layers.append(nn.Conv2d(channels, 1, 3, padding=1))
        self.body = nn.Sequential(*layers)

    def forward(self, y: torch.Tensor, sigma: float | torch.Tensor) -> torch.Tensor:
        """Denoise ``y`` of shape ``(N, 1, H, W)`` at noise level ``sigma`` (a number or an ``(N,)`` tensor)."""
        sigma = torch.as_tensor(sigma, dtype=y.dtype, device=y.device).reshape(-1, 1, 1, 1)
        return y - self.body(torch.cat([y, sigma.expand(y.shape[0], 1, *y.shape[2:])], 1))


def _as_batch(image: torch.Tensor) -> tuple[torch.Tensor, tuple[int, ...]]:
    if not isinstance(image, torch.Tensor) or image.ndim not in (2, 3, 4):
        raise ValueError(f"image must be a tensor of shape (H, W), (N, H, W) or (N, 1, H, W), got {getattr(image, 'shape', image)}")
    if not torch.isfinite(image).all():
        raise ValueError("image contains NaN or infinite values")
    return image.reshape(-1, 1, *image.shape[-2:]), tuple(image.shape)


def dihedral(image: torch.Tensor, k: int, *, inverse: bool = False) -> torch.Tensor:
    """The ``k``-th of the 8 rotations and reflections of the square (``k`` mod 8), or its inverse."""
    turns, flip = k % 4, (k // 4) % 2 == 1
    if inverse:
        image = image.flip(-1) if flip else image
        return torch.rot90(image, -turns, (-2, -1))
    image = torch.rot90(image, turns, (-2, -1))
    return image.flip(-1) if flip else image


@torch.no_grad()
def denoise(model: Denoiser, image: torch.Tensor, sigma: float, *, transform: int | None = None, bar=None) -> torch.Tensor:
    """``D(image, σ)``, same shape and dtype as ``image``: the posterior mean, one Tweedie step.

    ``transform=k`` denoises the ``k``-th rotation or reflection (:func:`dihedral`) and turns the
    result back: natural images look alike in all eight, the network's errors do not, so
    varying ``k`` from call to call averages some of the errors away. ``transform='all'``
    averages all eight (Timofte et al. 2016's self-ensemble), eight times the cost; ``bar``,
    a tqdm progress bar, is then advanced by one after each of the eight.
    """
    sigma = check_number("sigma", sigma, low=0.0)
    batch, shape = _as_batch(image)
    batch = batch.to(device_of(model), torch.float32)
    if transform == "all":
        def turned(k: int) -> torch.Tensor:
            done = dihedral(model(dihedral(batch, k), sigma), k, inverse=True)
            if bar is not None:
                bar.update(1)
            return done

        out = torch.stack([turned(k) for k in range(8)]).mean(0)
    elif transform is None:
        out = model(batch, sigma)
    else:
        k = check_int("transform", transform, minimum=0)
        out = dihedral(model(dihedral(batch, k), sigma), k, inverse=True)
    return out.to(image.device, image.dtype).reshape(shape)


@torch.no_grad()
def learned_score(model: Denoiser, image: torch.Tensor, sigma: float) -> torch.Tensor:
    r"""The learned :math:`\nabla \log p_σ(x) = (D(x, σ) - x)/σ^2` (Tweedie), same shape as ``image``."""
    sigma = check_positive("sigma", sigma)
    return denoiser_score(image, denoise(model, image, sigma), sigma)


def _training_images(config: DenoiserConfig) -> list[torch.Tensor]:
    images = []
    for name in config.photos:
        largest = photo_side(name)
        for size in sorted({min(size, largest) for size in config.sizes}):  # never enlarged
            images.append(load_photo(name, size))
    return images


def _batch(images, config: DenoiserConfig, rng: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """A minibatch of clean crops, randomly rotated and flipped, and their noise levels."""
    p = config.patch
    crops = []
    for k in torch.randint(len(images), (config.batch_size,), generator=rng).tolist():
        image = images[k]
        i, j = torch.randint(image.shape[0] - p + 1, (2,), generator=rng).tolist()
        crop = torch.rot90(image[i : i + p, j : j + p], int(torch.randint(4, (1,), generator=rng)))
        crops.append(crop.flip(1) if torch.rand(1, generator=rng).item() < 0.5 else crop)
    sigma = torch.rand(config.batch_size, generator=rng) * config.sigma_max
    return torch.stack(crops)[:, None], sigma


@dataclass
class DenoiserResult:
    """What :func:`train_denoiser` returns: the config, the model (eval mode) and the loss history."""

    config: DenoiserConfig
    model: Denoiser
    values: list[float]  # mean squared error of each recorded stretch of steps (lower is better)
    seconds: float


def train_denoiser(
    config: DenoiserConfig | None = None, *, device: str | torch.device | None = None, progress: bool = True
) -> DenoiserResult:
    """Train a :class:`Denoiser` on crops of the training photographs with fresh Gaussian noise each step."""
    config = config or DenoiserConfig()
    device = get_device(device)
    rng = torch.Generator().manual_seed(config.seed)
    images = _training_images(config)
    model = seeded(lambda: Denoiser(config.channels, config.depth), config.seed).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda t: 0.5 * (1 + math.cos(math.pi * t / config.num_steps))
    )
    values, running = [], []
    start = time.perf_counter()
    bar = tqdm(range(config.num_steps), desc="denoiser", disable=not progress, mininterval=1.0)
    for step in bar:
        clean, sigma = _batch(images, config, rng)
        noise = torch.randn(clean.shape, generator=rng)
        loss = denoiser_mse(model, clean.to(device), sigma.to(device), noise.to(device))  # DSM, in its denoiser form
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        running.append(loss.detach())
        if (step + 1) % 100 == 0 or step + 1 == config.num_steps:
            values.append(torch.stack(running).mean().item())
            running = []
            bar.set_postfix(mse=f"{values[-1]:.2e}", refresh=False)
    bar.close()
    return DenoiserResult(config, model.eval(), values, time.perf_counter() - start)


def load_denoiser(
    config: DenoiserConfig | None = None, *, device: str | torch.device | None = None, progress: bool = True
) -> Denoiser:
    """The book's learned prior: loaded from the model cache, or trained (minutes, with a progress bar) and cached.

    Returns the model in eval mode on ``device`` (default: the CPU). Training runs on
    :func:`gaedu.get_device` (the GPU if there is one).
    """
    config = config or DenoiserConfig()
    target = torch.device("cpu") if device is None else get_device(device)

    def train():
        result = train_denoiser(config, progress=progress)
        return result.model, {"values": result.values, "seconds": result.seconds}

    def build(d):
        c = DenoiserConfig.from_dict(d)
        return Denoiser(c.channels, c.depth)

    model, _ = cached("denoiser", config.to_dict(), train, build)
    return model.to(target)
