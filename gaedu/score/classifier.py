r"""A noise-conditional classifier :math:`p_\sigma(y \mid x)` of the 8×8 digits, for classifier guidance.

Guidance (:func:`gaedu.score.guided_score`) climbs :math:`\log p_\sigma(y \mid x)` at every noise level
the sampler visits, so the classifier must judge noisy images: it is trained on digits blurred by
:math:`\sigma` drawn log-uniformly over the sampler's range (Dhariwal and Nichol 2021 train theirs on
the diffusion's noisy images the same way). Its body is the score model's: a residual MLP told
:math:`\log\sigma` through random Fourier features, ending in one logit per class.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from gaedu._validation import check_int, check_positive, check_sizes, set_checked
from gaedu.checkpoint import CheckpointError, load_checkpoint, load_model
from gaedu.device import get_device
from gaedu.nets import seeded
from gaedu.score.model import ScoreConfig, _check_images, _NoiseConditionalMLP


@dataclass(frozen=True)
class ClassifierConfig:
    """The noise-conditional classifier and its training (defaults: the book's, about 20 s on two CPU cores).

    Attributes:
        shape, classes: one image's shape and the number of classes.
        width, blocks: the residual MLP.
        sigma_min, sigma_max: the noise levels it is trained on, log-uniformly (the score model's range).
        sigma_data: the scale of the input (the score model's).
        num_steps, batch_size, lr, seed: Adam on the cross-entropy, cosine-decayed; the weights' and the noise's seed.
    """

    shape: tuple[int, ...] = ScoreConfig.shape
    classes: int = 10
    width: int = 256
    blocks: int = 2
    sigma_min: float = ScoreConfig.sigma_min
    sigma_max: float = ScoreConfig.sigma_max
    sigma_data: float = ScoreConfig.sigma_data
    num_steps: int = 3000
    batch_size: int = 128
    lr: float = 2e-3
    seed: int = 0

    def __post_init__(self) -> None:
        set_checked(self, "shape", check_sizes)
        for name in ("width", "blocks", "num_steps", "batch_size"):
            set_checked(self, name, check_int)
        set_checked(self, "classes", check_int, minimum=2)
        set_checked(self, "seed", check_int, minimum=0)
        for name in ("sigma_min", "sigma_max", "sigma_data", "lr"):
            set_checked(self, name, check_positive)
        if self.sigma_min >= self.sigma_max:
            raise ValueError(f"sigma_min ({self.sigma_min}) must be below sigma_max ({self.sigma_max})")

    def to_dict(self) -> dict:
        """Return the configuration as plain Python values (for checkpoints)."""
        return asdict(self)


class NoisyClassifier(_NoiseConditionalMLP):
    r"""Logits of :math:`p_\sigma(y \mid x)` ``(N, classes)`` for images ``(N, *shape)`` blurred by ``sigma`` (a number or ``(N,)``)."""

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__(config.shape, config.width, config.blocks, config.classes)
        self.config = config

    def forward(self, x: torch.Tensor, sigma) -> torch.Tensor:
        sigma = self._sigma(sigma, x)
        c_in = 1 / (sigma[:, None] ** 2 + self.config.sigma_data**2).sqrt()
        return self._body(x.flatten(1) - 0.5, sigma, c_in)


def train_noisy_classifier(x: torch.Tensor, labels: torch.Tensor, config: ClassifierConfig | None = None, *,
                           device: str | torch.device | None = None, progress: bool = True) -> NoisyClassifier:  # fmt: skip
    """Train a :class:`NoisyClassifier` on images ``x`` ``(N, *shape)`` and their ``labels`` ``(N,)``; return it in eval mode.

    Each step draws a minibatch, a noise level per image (log-uniform over ``[sigma_min, sigma_max]``)
    and the noise, from a CPU generator seeded with ``config.seed``.
    """
    config = config or ClassifierConfig()
    x = _check_images(x, ScoreConfig(shape=config.shape))
    if not isinstance(labels, torch.Tensor) or labels.shape != (len(x),) or labels.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"labels must be an integer tensor of shape ({len(x)},)")
    if labels.min() < 0 or labels.max() >= config.classes:
        raise ValueError(f"labels must lie in 0..{config.classes - 1}")
    device = get_device(device)
    x, labels = x.to(device, torch.float32), labels.to(device, torch.int64)
    model = seeded(lambda: NoisyClassifier(config), config.seed).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.num_steps)
    rng = torch.Generator().manual_seed(config.seed)
    log_low, log_high = math.log(config.sigma_min), math.log(config.sigma_max)
    bar = tqdm(range(config.num_steps), desc="noisy classifier", disable=not progress, mininterval=1.0)
    for _ in bar:
        index = torch.randint(len(x), (config.batch_size,), generator=rng).to(device)
        sigma = (log_low + (log_high - log_low) * torch.rand(config.batch_size, generator=rng)).exp().to(device)
        noise = torch.randn((config.batch_size, *config.shape), generator=rng).to(device)
        noisy = x[index] + sigma.view(-1, *[1] * len(config.shape)) * noise
        loss = F.cross_entropy(model(noisy, sigma), labels[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
    bar.close()
    return model.eval()


@torch.no_grad()
def noisy_accuracy(model: NoisyClassifier, x: torch.Tensor, labels: torch.Tensor, sigma: float, *, seed: int = 0) -> float:
    """The share of images ``x`` blurred by ``sigma`` (seeded noise) that ``model`` puts in their class."""
    sigma = check_positive("sigma", sigma)
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(check_int("seed", seed, minimum=0)))
    noisy = (x.cpu().float() + sigma * noise).to(next(model.parameters()).device)
    return (model(noisy, sigma).argmax(1).cpu() == labels.cpu()).double().mean().item()


def load_classifier(path: str | os.PathLike, *, device: str | torch.device | None = None) -> NoisyClassifier:
    """Load the noise-conditional classifier a score checkpoint holds (see :func:`gaedu.score.save_score`), in eval mode.

    Raises:
        gaedu.checkpoint.CheckpointError: the file is missing, corrupt or foreign, or holds no classifier.
    """

    payload = load_checkpoint(path, "score")
    if (payload.get("info") or {}).get("classifier") is None or "classifier" not in payload["state"]:
        raise CheckpointError(f"{path} holds a score model without a classifier, so it cannot be sampled by class "
                              "(python -m gaedu train-score writes one that can)")  # fmt: skip

    def build(payload: dict) -> tuple[NoisyClassifier, dict]:
        return NoisyClassifier(ClassifierConfig(**payload["info"]["classifier"])), payload["state"]["classifier"]

    return load_model(path, "score", build, device=device)
