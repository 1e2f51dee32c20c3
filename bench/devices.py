"""Print what gaedu sees on this machine and check seeding and data on every device.

Usage: .venv/bin/python -m bench.devices

For each available device: the time of a 2048×2048 float32 matrix product
(the median of torch.utils.benchmark's blocked_autorange), whether
`gaedu.set_seed` makes `torch.rand` repeat there, and whether the digits load
onto it.
"""

from __future__ import annotations

import os

import torch

import gaedu
from bench._common import device_name, median_seconds, preamble
from gaedu.data import load_digits


def matmul_ms(device: torch.device, size: int = 2048, min_run_time: float = 0.5) -> float:
    """Milliseconds per ``size × size`` float32 matrix product on ``device``."""
    a = torch.rand(size, size, device=device)
    b = torch.rand(size, size, device=device)
    return median_seconds("a @ b", min_run_time=min_run_time, a=a, b=b) * 1e3


def main() -> None:
    environment = "GAEDU_DEVICE set" if os.environ.get("GAEDU_DEVICE") else "GAEDU_DEVICE unset"
    _, default = preamble(__doc__, what=f"get_device() ({environment})", device_option=False)
    print(f"available: {gaedu.available_devices()}; get_device() -> {default}")
    for name in gaedu.available_devices():
        device = gaedu.get_device(name)
        gaedu.set_seed(0)
        first = torch.rand(4, device=device)
        gaedu.set_seed(0)
        repeats = torch.equal(first, torch.rand(4, device=device))
        images, labels = load_digits("test", device=device)
        print(
            f"{name:8s} {device_name(device):28s} matmul {matmul_ms(device):8.2f} ms  seed repeats: {repeats}  "
            f"digits on {images.device}: {tuple(images.shape)}"
        )
    try:
        gaedu.get_device(f"cuda:{torch.cuda.device_count()}")
    except ValueError as err:
        print(f"asking for a missing device: ValueError: {err}")


if __name__ == "__main__":
    main()
