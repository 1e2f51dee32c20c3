"""Print what gaedu sees on this machine and check seeding and data on every device.

Usage: .venv/bin/python bench/devices.py

For each available device: the time of a 2048×2048 float32 matrix product,
whether `gaedu.set_seed` makes `torch.rand` repeat there, and whether the
digits load onto it.
"""

from __future__ import annotations

import os
import time

import torch

import gaedu
from gaedu.data import load_digits


def matmul_ms(device: torch.device, size: int = 2048, repeats: int = 10) -> float:
    """Milliseconds per ``size × size`` float32 matrix product on ``device``."""
    a = torch.rand(size, size, device=device)
    b = torch.rand(size, size, device=device)
    a @ b  # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return (time.perf_counter() - start) / repeats * 1e3


def main() -> None:
    print(f"torch {torch.__version__}; {os.environ.get('GAEDU_DEVICE') and 'GAEDU_DEVICE set' or 'GAEDU_DEVICE unset'}")
    print(f"available: {gaedu.available_devices()}; get_device() -> {gaedu.get_device()}")
    for name in gaedu.available_devices():
        device = gaedu.get_device(name)
        label = torch.cuda.get_device_name(device) if device.type == "cuda" else name
        gaedu.set_seed(0)
        first = torch.rand(4, device=device)
        gaedu.set_seed(0)
        repeats = torch.equal(first, torch.rand(4, device=device))
        images, labels = load_digits("test", device=device)
        print(
            f"{name:8s} {label:28s} matmul {matmul_ms(device):8.2f} ms  seed repeats: {repeats}  "
            f"digits on {images.device}: {tuple(images.shape)}"
        )
    try:
        gaedu.get_device(f"cuda:{torch.cuda.device_count()}")
    except ValueError as err:
        print(f"asking for a missing device: ValueError: {err}")


if __name__ == "__main__":
    main()
