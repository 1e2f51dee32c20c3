r"""A self-contained demonstration of data parallelism: least squares on fixed data, ascended on :math:`-\text{MSE}`.

:func:`spawn_data_parallel_ascent` starts the processes itself (on the CPU, backend
``gloo``), so a notebook cell can run it; each process ascends on its share of the
data with :func:`ascend_demo`, which averages the gradients with
:func:`gaedu.distributed.average_gradients` before every step.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch
import torch.distributed as dist

from gaedu._validation import check_int, check_positive
from gaedu.distributed import average_gradients
from gaedu.optim import GradientAscent


def demo_data(n: int = 256, d: int = 5, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Return fixed data ``(X, y)`` of shapes ``(n, d)`` and ``(n,)`` for the data-parallel demonstration."""
    rng = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=rng, dtype=torch.float64)
    w_true = torch.linspace(-1, 1, d, dtype=torch.float64)
    return X, X @ w_true + 0.1 * torch.randn(n, generator=rng, dtype=torch.float64)


def demo_objective(w: torch.Tensor, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    r"""Return :math:`J(w) = -\frac1n\lVert Xw - y\rVert^2`, concave in ``w``; ascent fits the data."""
    return -(X @ w - y).pow(2).mean()


def ascend_demo(X: torch.Tensor, y: torch.Tensor, lr: float, num_steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Ascend :func:`demo_objective` from ``w = 0`` with :class:`gaedu.optim.GradientAscent`.

    In a process group, each process passes its own share of the data, and the
    gradients are averaged across processes before every step.

    Returns:
        the first gradient ``(d,)`` and the trajectory of ``w``, ``(num_steps + 1, d)``.
    """
    w = torch.zeros(X.shape[1], dtype=X.dtype, requires_grad=True)
    optimizer = GradientAscent([w], lr=lr)
    points, first = [w.detach().clone()], None
    for _ in range(num_steps):
        optimizer.zero_grad()
        demo_objective(w, X, y).backward()
        if dist.is_initialized():
            average_gradients([w])
        if first is None:
            first = w.grad.detach().clone()
        optimizer.step()
        points.append(w.detach().clone())
    return first, torch.stack(points)


def _demo_worker(rank: int, world_size: int, lr: float, num_steps: int, out: str) -> None:
    torch.set_num_threads(1)
    # The processes meet through a file in a fresh temporary folder: no TCP port to pick,
    # so no race with another program taking the port between choosing and binding it.
    store = dist.FileStore(str(Path(out) / "store"), world_size)
    dist.init_process_group("gloo", store=store, rank=rank, world_size=world_size)
    try:
        X, y = demo_data()
        share = len(X) // world_size
        part = slice(rank * share, (rank + 1) * share)  # this process sees only its share of the batch
        first, trajectory = ascend_demo(X[part], y[part], lr, num_steps)
        torch.save({"gradient": first, "trajectory": trajectory}, Path(out) / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def spawn_data_parallel_ascent(world_size: int = 2, lr: float = 0.1, num_steps: int = 50) -> dict[str, list[torch.Tensor]]:
    """Run the demonstration in ``world_size`` CPU processes (backend ``gloo``); return what each computed.

    Each process ascends :func:`demo_objective` on its share of :func:`demo_data`,
    with gradients averaged by all-reduce. Compare with ``ascend_demo(*demo_data(), lr, num_steps)``
    in a single process. The processes are started with the ``spawn`` method, so in a
    plain script call this under ``if __name__ == "__main__":`` (notebooks need nothing).

    Returns:
        ``{'gradient': [first averaged gradient per rank], 'trajectory': [trajectory per rank]}``.
    """
    import torch.multiprocessing as mp

    world_size = check_int("world_size", world_size)
    check_positive("lr", lr)
    check_int("num_steps", num_steps, minimum=0)
    if demo_data()[0].shape[0] % world_size:
        raise ValueError(f"the demonstration's 256 samples do not split evenly into {world_size} shares")
    with tempfile.TemporaryDirectory() as out:
        mp.spawn(_demo_worker, args=(world_size, lr, num_steps, out), nprocs=world_size, join=True)
        results = [torch.load(Path(out) / f"rank{r}.pt", weights_only=True) for r in range(world_size)]
    return {key: [r[key] for r in results] for key in ("gradient", "trajectory")}
