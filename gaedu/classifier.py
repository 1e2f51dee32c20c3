"""The digit classifier: the judge behind :func:`gaedu.metrics.digit_fd` and the network that image-space ascent climbs."""

from __future__ import annotations

import torch
from torch import nn

from gaedu._validation import check_images, check_int
from gaedu.device import get_device
from gaedu.nets import seeded


class DigitClassifier(nn.Module):
    """A small MLP for 8×8 digits whose penultimate layer serves as the feature space of :func:`gaedu.metrics.digit_fd`.

    Shapes: images ``(B, 1, 8, 8)`` → features ``(B, 64)`` → logits ``(B, 10)``.
    """

    feature_dim = 64

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, self.feature_dim), nn.ReLU())
        self.head = nn.Linear(self.feature_dim, 10)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Return the penultimate-layer features, shape ``(B, 64)``."""
        return self.body(images)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(images))  # (B, 1, 8, 8) -> (B, 10)


def train_digit_classifier(
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    seed: int = 0,
    num_steps: int = 1500,
    batch_size: int = 64,
    device: str | torch.device | None = None,
) -> DigitClassifier:
    """Train a :class:`DigitClassifier` on ``images`` ``(N, 1, 8, 8)`` and ``labels`` ``(N,)``; return it in eval mode.

    Adam (``lr=1e-3``, a light ``weight_decay=1e-4``) on the cross-entropy for
    ``num_steps`` minibatches: on the 1,347 training digits 1500 steps reach about 97 %
    test accuracy in a couple of seconds on a CPU, and more steps gain nothing.
    Training is seeded with its own generator, so the same ``seed`` gives the same
    network whatever the global random state. ``device`` defaults to
    :func:`gaedu.get_device` (a GPU when there is one).

    Raises:
        ValueError: bad images or labels, or a bad setting.
    """
    images = check_images(images, shape=(1, 8, 8))
    if not isinstance(labels, torch.Tensor) or labels.shape != (len(images),):
        shape = tuple(labels.shape) if isinstance(labels, torch.Tensor) else type(labels).__name__
        raise ValueError(f"labels must be a tensor of shape ({len(images)},), one per image, got {shape}")
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise ValueError(f"labels must be integer classes, got dtype {labels.dtype}")
    labels = labels.long()
    if labels.min() < 0 or labels.max() > 9:
        raise ValueError(f"labels must be classes 0 to 9, got values from {labels.min()} to {labels.max()}")
    num_steps, batch_size = check_int("num_steps", num_steps, minimum=0), check_int("batch_size", batch_size)
    device = get_device(device)
    generator = torch.Generator().manual_seed(check_int("seed", seed, minimum=0))
    model = seeded(DigitClassifier, seed).to(device)
    images, labels = images.to(device, torch.float32), labels.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    model.train()
    for _ in range(num_steps):
        index = torch.randint(len(images), (batch_size,), generator=generator).to(device)
        loss = nn.functional.cross_entropy(model(images[index]), labels[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()
