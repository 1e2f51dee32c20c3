"""Time one GradientAscent step against torch.optim.SGD(maximize=True, foreach=True).

Usage: .venv/bin/python bench/optim.py [--device D] [--steps N]

The model has about 10 M parameters (ten 1000×1000 linear layers). Gradients
are filled once; each timed step is the optimizer update alone. Target: the
ratio (ours / SGD) at most about 1.2.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

import gaedu
from gaedu.optim import GradientAscent

SETTINGS = {
    "plain": dict(lr=1e-3),
    "momentum 0.9": dict(lr=1e-3, momentum=0.9),
    "nesterov + weight decay": dict(lr=1e-3, momentum=0.9, nesterov=True, weight_decay=1e-4),
}


def _model(device: torch.device) -> nn.Module:
    model = nn.Sequential(*[nn.Linear(1000, 1000) for _ in range(10)]).to(device)
    for p in model.parameters():
        p.grad = torch.randn_like(p)
    return model


def _seconds_per_step(optimizer: torch.optim.Optimizer, device: torch.device, steps: int) -> float:
    for _ in range(5):  # warm-up (and the momentum buffers' first step)
        optimizer.step()
    times = []
    for _ in range(steps):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="cpu, cuda, mps (default: gaedu.get_device())")
    parser.add_argument("--steps", type=int, default=50)
    args = parser.parse_args()
    device = gaedu.get_device(args.device)
    gaedu.set_seed(0)
    model = _model(device)
    count = sum(p.numel() for p in model.parameters())
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else str(device)
    print(f"{count / 1e6:.1f} M parameters on {name}, median of {args.steps} steps (torch {torch.__version__})")
    print(f"{'setting':<26} {'SGD ms':>8} {'ours ms':>8} {'ratio':>6}")
    for label, kwargs in SETTINGS.items():
        # alternate the two optimizers so that both see the same machine load
        sgd = _seconds_per_step(torch.optim.SGD(model.parameters(), maximize=True, foreach=True, **kwargs), device, args.steps)
        ours = _seconds_per_step(GradientAscent(model.parameters(), **kwargs), device, args.steps)
        sgd = min(sgd, _seconds_per_step(torch.optim.SGD(model.parameters(), maximize=True, foreach=True, **kwargs), device, args.steps))
        ours = min(ours, _seconds_per_step(GradientAscent(model.parameters(), **kwargs), device, args.steps))
        print(f"{label:<26} {sgd * 1e3:>8.2f} {ours * 1e3:>8.2f} {ours / sgd:>6.2f}")


if __name__ == "__main__":
    main()
