"""Time one GradientAscent step against torch.optim.SGD(maximize=True, foreach=True).

Usage: .venv/bin/python -m bench.optim [--device D] [--seconds S]

The model has about 10 M parameters (ten 1000×1000 linear layers). Gradients
are filled once; each timed step is the optimizer update alone, timed with
torch.utils.benchmark (the median of blocked_autorange). Target: the ratio
(ours / SGD) at most about 1.2.
"""

from __future__ import annotations

import torch
from torch import nn

import gaedu
from bench._common import median_seconds, preamble
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


def _seconds_per_step(optimizer: torch.optim.Optimizer, seconds: float) -> float:
    optimizer.step()  # the momentum buffers' first step, which allocates them
    return median_seconds("optimizer.step()", min_run_time=seconds, optimizer=optimizer)


def _optimizer(kind: str, model: nn.Module, kwargs: dict) -> torch.optim.Optimizer:
    if kind == "SGD":
        return torch.optim.SGD(model.parameters(), maximize=True, foreach=True, **kwargs)
    return GradientAscent(model.parameters(), **kwargs)


def _arguments(parser) -> None:
    parser.add_argument("--seconds", type=float, default=0.5, help="least time per measurement (default: 0.5)")


def main() -> None:
    args, device = preamble(__doc__, what="optimizer steps", default_device=None, add_arguments=_arguments)
    gaedu.set_seed(0)
    model = _model(device)
    count = sum(p.numel() for p in model.parameters())
    print(f"{count / 1e6:.1f} M parameters; median step of blocked_autorange, at least {args.seconds:g} s a measurement")
    print(f"{'setting':<26} {'SGD ms':>8} {'ours ms':>8} {'ratio':>6}")
    for label, kwargs in SETTINGS.items():
        # alternate the two optimizers, twice, so that both see the same machine load; keep each one's best
        best = {"SGD": float("inf"), "ours": float("inf")}
        for kind in ("SGD", "ours", "SGD", "ours"):
            best[kind] = min(best[kind], _seconds_per_step(_optimizer(kind, model, kwargs), args.seconds))
        print(f"{label:<26} {best['SGD'] * 1e3:>8.2f} {best['ours'] * 1e3:>8.2f} {best['ours'] / best['SGD']:>6.2f}")


if __name__ == "__main__":
    main()
