"""What every benchmark starts with: its command line, its device and a banner saying where it runs.

The benchmarks import this as ``bench._common``: ``bench`` is a package, and each benchmark
runs from the repository root as a module, ``.venv/bin/python -m bench.<name>``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import torch
from torch.utils.benchmark import Timer

import gaedu


def device_name(device: torch.device) -> str:
    """Return the GPU's model for a CUDA device, else the device itself (``cpu``, ``mps``)."""
    return torch.cuda.get_device_name(device) if device.type == "cuda" else str(device)


def preamble(
    doc: str,
    *,
    what: str,
    default_device: str | None = "cpu",
    device_option: bool = True,
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
    argv: list[str] | None = None,
) -> tuple[argparse.Namespace, torch.device]:
    """Parse the command line, pick the device, print the banner; return the arguments and the device.

    Args:
        doc: the script's docstring; its first line is the ``--help`` description.
        what: what runs on the device, for the banner (``"training"``, ``"GANs"``).
        default_device: ``--device``'s default; ``None`` means :func:`gaedu.get_device`'s choice.
        device_option: whether the script takes ``--device`` at all; without it the
            device is :func:`gaedu.get_device`'s choice (``GAEDU_DEVICE`` or the best one).
        add_arguments: adds the script's own options to the parser.
        argv: the arguments (default: ``sys.argv[1:]``).
    """
    parser = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    if device_option:
        default = "gaedu.get_device()" if default_device is None else default_device
        parser.add_argument("--device", default=default_device, help=f"cpu, cuda, cuda:1, mps (default: {default})")
    if add_arguments is not None:
        add_arguments(parser)
    args = parser.parse_args(argv)
    device = gaedu.get_device(getattr(args, "device", None))
    print(f"torch {torch.__version__}, {what} on {device_name(device)}, {torch.get_num_threads()} CPU threads")
    return args, device


def median_seconds(stmt: str, *, min_run_time: float = 0.2, **names) -> float:
    """Return the median seconds of one run of ``stmt``, from ``Timer(...).blocked_autorange()``.

    ``names`` are the variables ``stmt`` uses. The timer waits for the accelerator
    (CUDA, MPS) before it reads the clock, and it runs with as many CPU threads as
    torch uses here (``Timer`` alone would use one).
    """
    timer = Timer(stmt=stmt, globals=names, num_threads=torch.get_num_threads())
    return timer.blocked_autorange(min_run_time=min_run_time).median
