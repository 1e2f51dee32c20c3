"""The command line's files and bounds: reading images and arrays, checking and writing outputs.

Everything here runs before any work, or as its last step: a bad file, an absurd value or an
output that must not be replaced is a :class:`UsageError`, which ``python -m gaedu`` prints in one
line with exit status 2 (``gaedu/__main__.py``).
"""

from __future__ import annotations

import argparse
import os
import warnings
from pathlib import Path

import numpy as np

from gaedu._io import atomic_write, check_writable, sweep_stale
from gaedu._validation import check_images


class UsageError(Exception):
    """A problem with the user's input, reported in one line."""


#: The bounds of the command line's size-like arguments, from what one laptop core does in minutes
#: and what fits in a few GB: anything beyond them is refused before any work starts.
MAX_STEPS = 1_000_000  # --steps: the book's longest training runs 20,000 steps
MAX_SAMPLES = 100_000  # sample --n, reconstruct's images: 100,000 28×28 digits are 314 MB of float32
MAX_LATENT = 1024  # train-ae --latent-dim: the book uses 2 to 16 numbers for 64 or 784 pixels
MAX_SEED = 2**32 - 1  # --seed: NumPy's seeds are 32-bit
MAX_PIXELS = 2048 * 2048  # restore's images: the learned prior takes about 85 s and 0.7 GB per megapixel on one core
MAX_NOISE_STD = 1.0  # --noise-std: pixels are in [0, 1]
MAX_BLUR_STD = 50.0  # --blur-std in pixels: the kernel's side is about 6 σ
MAX_FACTOR = 8  # --factor of super-resolution: the restored image's side over the input's
MAX_JOBS = 64  # cache --jobs: worker processes of one thread each
MAX_GUIDANCE = 100.0  # sample --guidance-scale: past a few tens every sample is the class's one caricature


def _bounded(low: int, high: int, what: str):
    """An argparse type: an integer in ``[low, high]``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid integer {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be {what} from {low:,} to {high:,}, got {text}")
        return value

    return parse


def _scale(text: str) -> float:
    """An argparse type: the guidance scale, a finite number in ``[0, MAX_GUIDANCE]``."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
    if not 0 <= value <= MAX_GUIDANCE:  # NaN fails too
        raise argparse.ArgumentTypeError(f"must be a number from 0 to {MAX_GUIDANCE:g}, got {text}")
    return value


_positive = _bounded(1, MAX_STEPS, "a positive integer")
_seed = _bounded(0, MAX_SEED, "a seed")


def _output(text: str, *reading: str | None, size: int = 0) -> Path:
    """Check an output path before any work starts; return it.

    Refused: an empty path, a missing folder, a folder, a device, a FIFO or a symbolic
    link (the atomic write would replace it by a plain file), the file a command reads
    (``reading``: the checkpoint, the input, the mask), a folder this process cannot
    write, or one with less than ``size`` bytes (and a megabyte) free. An existing plain
    file is replaced.
    """
    import glob

    if not text.strip():
        raise UsageError("the output path is empty")
    path = Path(text)
    if not path.parent.is_dir():
        raise UsageError(f"cannot write {path}: the folder {path.parent} does not exist")
    if path.is_symlink():
        raise UsageError(f"{path} is a symbolic link: name the file it points to, or another file")
    if path.is_dir():
        raise UsageError(f"{path} is a folder: name a file to write")
    if path.exists() and not path.is_file():
        raise UsageError(f"{path} is not a plain file (a device or a FIFO): gaedu replaces only plain files")
    for other in reading:
        if other and path.exists() and Path(other).exists() and os.path.samefile(path, other):
            raise UsageError(f"{path} is also the file this command reads: write the result to another file")
    sweep_stale(path.parent, f".{glob.escape(path.name)}.*.tmp")
    try:
        check_writable(path.parent, size + 2**20, prefix=f".{path.name}.")
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror or err}") from None
    return path


def _npy(text: str) -> str:
    """Refuse an output name for a ``.npy`` array that does not end in ``.npy`` (``samples.png`` would not be a PNG)."""
    if not text.lower().endswith(".npy"):
        raise UsageError(f"{text}: the output is a NumPy array: name it <something>.npy")
    return text


def _finite(array: np.ndarray, what: str) -> np.ndarray:
    """Refuse a result with NaN or infinite values (nothing is written), else return it."""
    if not np.isfinite(array).all():
        raise UsageError(f"the {what} hold NaN or infinite values (a broken checkpoint or absurd settings): nothing written")
    return array


def _write(path: Path, write) -> None:
    """Write ``path`` atomically by ``write(file)`` (:func:`gaedu._io.atomic_write`); a failure is one line,
    with the system's reason and without the temporary file's name."""
    if not path.parent.is_dir():
        raise UsageError(f"cannot write {path}: the folder {path.parent} does not exist")
    try:
        atomic_write(path, write)
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror or 'write error'}") from None


def _write_npy(path: Path, array: np.ndarray) -> None:
    """Write ``array`` to ``path`` atomically, as ``.npy``."""
    _write(path, lambda file: np.save(file, array))


def _npy_shape(path: Path) -> tuple[int, ...] | None:
    """The shape a ``.npy`` file declares in its header, read without loading the array (None if unreadable)."""
    from numpy.lib import format as npy

    try:
        with open(path, "rb") as file:
            version = npy.read_magic(file)
            read = {(1, 0): npy.read_array_header_1_0, (2, 0): npy.read_array_header_2_0}.get(version)
            return tuple(read(file)[0]) if read else None
    except (ValueError, OSError, EOFError, TypeError, SyntaxError):
        return None


def _load_npy(path: Path, kinds: str, limit: int | None = None, what: str = "values") -> np.ndarray:
    """Load a ``.npy`` file without pickles; raise UsageError unless it holds an array of a dtype kind in ``kinds``
    (and, with ``limit``, declares at most that many ``what`` in its header, checked before loading)."""
    shape = _npy_shape(path)
    if limit is not None and shape is not None and int(np.prod(shape, dtype=np.float64)) > limit:
        raise UsageError(f"{path} declares shape {shape}: more than the {limit:,} {what} gaedu reads")
    with open(path, "rb") as file:
        if file.read(6) != b"\x93NUMPY":
            raise UsageError(f"{path} is not a readable .npy file: it lacks the .npy signature")
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        reason = str(err).strip().splitlines()[0][:120] if str(err).strip() else type(err).__name__
        raise UsageError(f"{path} is not a readable .npy file: {reason}") from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in kinds:
        wanted = "floats" if kinds == "f" else "a numeric array"
        raise UsageError(f"{path} must hold {wanted}, got {getattr(array, 'dtype', type(array).__name__)}"
                         + (" (divide 8-bit values by 255)" if kinds == "f" and array.dtype.kind in "iu" else ""))
    return array


def _read_images(path: Path, shape: tuple[int, ...]):
    """Read a ``.npy`` file of images ``(N, *shape)`` in ``[0, 1]`` as a float32 tensor, or raise UsageError."""
    import torch

    if not path.is_file():
        raise UsageError(f"no input file at {path}")
    array = _load_npy(path, "fiu", limit=MAX_SAMPLES * int(np.prod(shape)), what=f"values ({MAX_SAMPLES:,} images)")
    if array.ndim != 4 or tuple(array.shape[1:]) != tuple(shape) or not len(array):
        wanted = ", ".join(map(str, shape))
        raise UsageError(f"the images in {path} must have shape (N, {wanted}) with N >= 1, got {array.shape}: "
                         f"the model reads {shape[1]}×{shape[2]} images")  # fmt: skip
    try:
        return check_images(torch.from_numpy(array.astype(np.float32)), f"the images in {path}", shape=shape)
    except ValueError as err:
        raise UsageError(str(err)) from None


def _read_png(path: Path, what: str) -> np.ndarray:
    """Decode a grayscale PNG (8, 16 or 1 bit) to [0, 1], or to its raw values for a mask. Only Pillow's PNG
    decoder runs (never one picked from the content, such as EPS, which runs Ghostscript), and the mode and
    the size the header declares are checked before any pixel is decoded."""
    from PIL import Image, UnidentifiedImageError

    too_many = f"the {what} may have at most {MAX_PIXELS:,} pixels (2048×2048)"
    try:
        with warnings.catch_warnings():  # Pillow's warning about a large image: the size is checked below
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path, formats=["PNG"])
        with image:
            if image.mode not in ("L", "I;16", "I;16B", "I", "1"):
                raise UsageError(f"{path} must be a grayscale PNG (8 or 16 bit), got mode {image.mode}")
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise UsageError(f"{path} declares {width}×{height} pixels: {too_many}")
            image.load()
            array = np.asarray(image)
            depth = 255.0 if image.mode == "L" else 65535.0 if image.mode != "1" else 1.0
    except UsageError:
        raise
    except UnidentifiedImageError:
        raise UsageError(f"{path} is not a readable PNG file (gaedu decodes PNG only)") from None
    except Image.DecompressionBombError:  # Pillow's own limit, far above gaedu's
        raise UsageError(f"{path} declares more pixels than Pillow decodes: {too_many}") from None
    except (OSError, SyntaxError, ValueError) as err:
        raise UsageError(f"{path} is not a readable PNG file: {str(err).splitlines()[0][:120]}") from None
    return array.astype(np.float64) / depth if what != "mask" else array


def _read_array(path: Path, what: str) -> np.ndarray:
    """Read a 2-D ``.npy`` array (an image: float, in [0, 1]) or a grayscale ``.png`` (8 or 16 bit, scaled to
    [0, 1]), or raise UsageError; a mask may also be a bool or integer array (nonzero: observed)."""
    if not path.is_file():
        raise UsageError(f"no {what} file at {path}")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        array = _load_npy(path, "fiub" if what == "mask" else "f", limit=MAX_PIXELS, what="pixels (2048×2048)")
    elif suffix == ".png":
        array = _read_png(path, what)
    else:
        raise UsageError(f"{path}: the {what} must be a .png or .npy file")
    if array.ndim != 2:
        raise UsageError(f"the {what} in {path} must be a 2-D image, got shape {array.shape}")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise UsageError(f"the {what} in {path} contains NaN or infinite values")
    return array


def _write_image(path: Path, image: np.ndarray) -> None:
    """Write a 2-D image in [0, 1] atomically: ``.npy`` float32, or a 16-bit grayscale ``.png``."""
    if path.suffix.lower() == ".npy":
        _write_npy(path, image.astype(np.float32))
    else:
        from PIL import Image

        pixels = np.round(image.astype(np.float64) * 65535).astype(np.uint16)
        _write(path, lambda file: Image.fromarray(pixels).save(file, format="PNG"))
