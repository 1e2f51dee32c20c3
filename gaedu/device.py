"""Choose where tensors live, and make runs repeatable.

The book runs on a laptop CPU and, unchanged, on a GPU. Every function in
``gaedu`` that creates tensors takes a ``device=`` argument; this module
decides what that device is when the reader does not say.
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

ENV_VAR = "GAEDU_DEVICE"
_KNOWN_TYPES = ("cpu", "cuda", "mps")
_MAX_SEED = 2**32 - 1  # NumPy's legacy seeding accepts 0 .. 2**32 - 1


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def available_devices() -> list[str]:
    """List the devices this machine can run on, e.g. ``['cpu', 'cuda:0']``."""
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if _mps_available():
        devices.append("mps")
    return devices


def _parse(spec: str | torch.device, source: str) -> torch.device:
    """Turn ``spec`` into a ``torch.device`` that exists here, or raise ``ValueError``."""
    if isinstance(spec, torch.device):
        device = spec
    else:
        text = str(spec).strip()
        try:
            device = torch.device(text)
        except (RuntimeError, ValueError):
            raise ValueError(
                f"{source} asks for device {spec!r}, which is not a device name; "
                f"available here: {', '.join(available_devices())}"
            ) from None
    if device.type not in _KNOWN_TYPES:
        raise ValueError(
            f"{source} asks for device {str(device)!r}; gaedu runs on cpu, cuda or mps, "
            f"and available here are: {', '.join(available_devices())}"
        )
    ok = (
        device.type == "cpu"
        or (device.type == "mps" and _mps_available())
        or (
            device.type == "cuda"
            and torch.cuda.is_available()
            and (device.index is None or device.index < torch.cuda.device_count())
        )
    )
    if not ok:
        raise ValueError(
            f"{source} asks for device {str(device)!r}, which is not available on this machine; "
            f"available here: {', '.join(available_devices())}"
        )
    return device


def get_device(preferred: str | torch.device | None = None) -> torch.device:
    """Return the device to compute on.

    Args:
        preferred: a device name such as ``'cpu'``, ``'cuda'``, ``'cuda:1'`` or
            ``'mps'``. When given, it must be available: there is no silent
            fallback on an explicit request.

    Returns:
        ``preferred`` when given; otherwise the value of the ``GAEDU_DEVICE``
        environment variable when it is set and not empty; otherwise the best
        device present, in the order cuda, mps, cpu.

    Raises:
        ValueError: the requested device (argument or ``GAEDU_DEVICE``) is
            unknown or unavailable. The message lists the available devices.
    """
    if preferred is not None:
        return _parse(preferred, "get_device()")
    from_env = os.environ.get(ENV_VAR, "").strip()
    if from_env:
        return _parse(from_env, f"the environment variable {ENV_VAR}")
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def set_seed(seed: int) -> None:
    """Seed Python's ``random``, NumPy and PyTorch (every CUDA device too).

    Args:
        seed: an integer in ``[0, 2**32 - 1]``.

    Raises:
        TypeError: ``seed`` is not an integer.
        ValueError: ``seed`` is outside the range above.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"set_seed() needs an integer seed, got {type(seed).__name__} {seed!r}")
    seed = int(seed)
    if not 0 <= seed <= _MAX_SEED:
        raise ValueError(f"set_seed() needs a seed between 0 and {_MAX_SEED}, got {seed}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device when CUDA is present
