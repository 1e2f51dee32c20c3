"""The digit classifiers: the judges behind :func:`gaedu.metrics.digit_fd`, and the network that image-space ascent climbs.

:class:`DigitClassifier` reads 8×8 digits with an MLP; :class:`MnistClassifier` reads
28×28 digits with a small convolutional network. Both expose ``features`` (the
penultimate layer, the feature space of the Fréchet distance), ``feature_dim`` and
``image_shape``; :func:`train_digit_classifier` builds the one the images fit.
"""

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
    image_shape = (1, 8, 8)

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, self.feature_dim), nn.ReLU())
        self.head = nn.Linear(self.feature_dim, 10)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Return the penultimate-layer features, shape ``(B, 64)``."""
        return self.body(images)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(images))  # (B, 1, 8, 8) -> (B, 10)


class MnistClassifier(nn.Module):
    """A small CNN for 28×28 digits, the judge of :func:`gaedu.metrics.digit_fd` at that size.

    Two 3×3 convolutions (32 and 64 channels), each followed by ReLU and 2×2 max
    pooling (28 → 14 → 7), then a fully connected layer of 128 features and the 10
    logits. Shapes: ``(B, 1, 28, 28)`` → features ``(B, 128)`` → logits ``(B, 10)``.
    """

    feature_dim = 128
    image_shape = (1, 28, 28)

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 7 * 7, self.feature_dim), nn.ReLU(),
        )  # fmt: skip
        self.head = nn.Linear(self.feature_dim, 10)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Return the penultimate-layer features, shape ``(B, 128)``."""
        return self.body(images)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(images))  # (B, 1, 28, 28) -> (B, 10)


CLASSIFIERS = {DigitClassifier.image_shape: DigitClassifier, MnistClassifier.image_shape: MnistClassifier}


def train_digit_classifier(
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    seed: int = 0,
    num_steps: int = 1500,
    batch_size: int = 64,
    device: str | torch.device | None = None,
) -> DigitClassifier | MnistClassifier:
    """Train a digit classifier on ``images`` and ``labels`` ``(N,)``; return it in eval mode.

    Images ``(N, 1, 8, 8)`` train a :class:`DigitClassifier`, images ``(N, 1, 28, 28)``
    a :class:`MnistClassifier`. Adam (``lr=1e-3``, a light ``weight_decay=1e-4``) on the cross-entropy for
    ``num_steps`` minibatches: on the 1,347 training digits 1500 steps reach about 97 %
    test accuracy in a couple of seconds on a CPU, and more steps gain nothing; on the
    4000 training MNIST digits they reach about 97 % as well, in about half a minute.
    Training is seeded with its own generator, so the same ``seed`` gives the same
    network whatever the global random state. ``device`` defaults to
    :func:`gaedu.get_device` (a GPU when there is one).

    Raises:
        ValueError: bad images or labels, or a bad setting.
    """
    images = check_images(images)
    if tuple(images.shape[1:]) not in CLASSIFIERS:
        raise ValueError(f"images must have shape (N, 1, 8, 8) or (N, 1, 28, 28), got {tuple(images.shape)}")
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
    rng = torch.Generator().manual_seed(check_int("seed", seed, minimum=0))
    model = seeded(CLASSIFIERS[tuple(images.shape[1:])], seed).to(device)
    images, labels = images.to(device, torch.float32), labels.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    model.train()
    for _ in range(num_steps):
        index = torch.randint(len(images), (batch_size,), generator=rng).to(device)
        loss = nn.functional.cross_entropy(model(images[index]), labels[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()
