r"""Data parallelism with ``torch.distributed``: several processes, one ascent.

Each of :math:`P` processes (ranks) holds a copy of the model and computes the
gradient on its own share of the batch; an **all-reduce** sums the gradients
across processes, and dividing by :math:`P` gives every process the gradient of
the whole batch (when the shares have equal size):

.. math::

    \frac1P \sum_{r=1}^{P} \nabla J_r(\theta) = \nabla \frac1P \sum_{r=1}^{P} J_r(\theta) = \nabla J(\theta).

Every process then takes the same step, so the copies never drift apart.
``DistributedDataParallel`` does the all-reduce during ``backward()``.

:func:`setup` joins the process group that ``torchrun`` describes in the
environment (``gloo`` on the CPU, ``nccl`` on GPUs), or does nothing in a single
process. :func:`spawn_data_parallel_ascent` runs a small demonstration on the
CPU: it launches the processes itself, so a notebook cell can run it.
"""

from __future__ import annotations

import os
import socket
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Process:
    """Where this process stands: its rank among ``world_size`` processes, and its device."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    backend: str | None = None

    @property
    def is_main(self) -> bool:
        """Whether this is rank 0, the process that writes files and prints."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def setup(device: str | torch.device | None = None) -> Process:
    """Join the process group that ``torchrun`` set up in the environment, or stay alone.

    Under ``torchrun`` (``WORLD_SIZE`` > 1) each process uses ``cuda:LOCAL_RANK`` when
    the chosen device is a GPU (backend ``nccl``), and the CPU otherwise (``gloo``).
    Without it, this returns rank 0 of 1 on :func:`gaedu.get_device`'s device.

    Raises:
        ValueError: the device is unavailable, or there are fewer GPUs than processes on this machine.
    """
    from gaedu.device import get_device

    chosen = get_device(device)
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Process(device=chosen)
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if chosen.type == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise ValueError(f"process {local_rank} on this machine has no GPU: {torch.cuda.device_count()} visible")
        chosen, backend = torch.device("cuda", local_rank), "nccl"
        torch.cuda.set_device(chosen)
    else:
        backend = "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    # The R1 penalty's double backward leaves one gradient with an unusual memory layout;
    # DDP copies it correctly and only warns that the copy is slower.
    warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")
    return Process(rank, world_size, local_rank, chosen, backend)


def current() -> Process:
    """Return this process's place in an already initialized process group (rank 0 of 1 if none)."""
    if not (dist.is_available() and dist.is_initialized()):
        return Process()
    backend = dist.get_backend()
    device = torch.device("cuda", torch.cuda.current_device()) if backend == "nccl" else torch.device("cpu")
    return Process(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")), device, backend)


def teardown() -> None:
    """Leave the process group, if this process joined one."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def average_gradients(parameters) -> None:
    """Replace each parameter's gradient by its average over all processes (what DDP does in ``backward``)."""
    world_size = dist.get_world_size()
    for p in parameters:
        if p.grad is not None:
            dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
            p.grad /= world_size


# A self-contained demonstration: least squares on fixed synthetic data, ascended on -MSE.


def demo_data(n: int = 256, d: int = 5, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Return fixed data ``(X, y)`` of shapes ``(n, d)`` and ``(n,)`` for the data-parallel demonstration."""
    noise = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=noise, dtype=torch.float64)
    w_true = torch.linspace(-1, 1, d, dtype=torch.float64)
    return X, X @ w_true + 0.1 * torch.randn(n, generator=noise, dtype=torch.float64)


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
    from gaedu.optim import GradientAscent

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


def _demo_worker(rank: int, world_size: int, port: int, lr: float, num_steps: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    try:
        X, y = demo_data()
        share = len(X) // world_size
        part = slice(rank * share, (rank + 1) * share)  # this process sees only its share of the batch
        first, trajectory = ascend_demo(X[part], y[part], lr, num_steps)
        torch.save({"gradient": first, "trajectory": trajectory}, Path(out) / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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

    if isinstance(world_size, bool) or not isinstance(world_size, int) or world_size < 1:
        raise ValueError(f"world_size must be a positive integer, got {world_size!r}")
    if demo_data()[0].shape[0] % world_size:
        raise ValueError(f"the demonstration's 256 samples do not split evenly into {world_size} shares")
    with tempfile.TemporaryDirectory() as out:
        mp.spawn(_demo_worker, args=(world_size, _free_port(), lr, num_steps, out), nprocs=world_size, join=True)
        results = [torch.load(Path(out) / f"rank{r}.pt", weights_only=True) for r in range(world_size)]
    return {key: [r[key] for r in results] for key in ("gradient", "trajectory")}
