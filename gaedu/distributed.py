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
process. :func:`shard` and :func:`wrap` are the preamble both trainers share.
:mod:`gaedu.distributed_demo` runs a small demonstration on the CPU that
launches its processes itself, so a notebook cell can run it.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from gaedu.device import get_device


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
        """Whether there is more than one process."""
        return self.world_size > 1


_JOINED: Process | None = None  # what setup() returned, so current() reports the same device


def setup(device: str | torch.device | None = None) -> Process:
    """Join the process group that ``torchrun`` set up in the environment, or stay alone.

    Under ``torchrun`` (``WORLD_SIZE`` > 1) each process uses ``cuda:LOCAL_RANK`` when
    the chosen device is a GPU (backend ``nccl``), and the CPU otherwise (``gloo``).
    Without it, this returns rank 0 of 1 on :func:`gaedu.get_device`'s device.

    Raises:
        ValueError: the device is unavailable, or there are fewer GPUs than processes on this machine.
    """
    global _JOINED
    chosen = get_device(device)
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Process(device=chosen)
    if "RANK" not in os.environ:
        raise ValueError(f"WORLD_SIZE is {world_size} but RANK is not set: start the processes with torchrun")
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if chosen.type == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise ValueError(f"process {local_rank} on this machine has no GPU: {torch.cuda.device_count()} visible")
        chosen, backend = torch.device("cuda", local_rank), "nccl"
        torch.cuda.set_device(chosen)
    else:  # gloo reduces CPU tensors: an MPS device cannot take part
        chosen, backend = torch.device("cpu"), "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    # The R1 penalty's double backward leaves one gradient with an unusual memory layout;
    # DDP copies it correctly and only warns that the copy is slower.
    warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")
    _JOINED = Process(rank, world_size, local_rank, chosen, backend)
    return _JOINED


def current() -> Process:
    """Return this process's place in an already initialized process group (rank 0 of 1 if none).

    After :func:`setup` this is the very :class:`Process` it returned, device included,
    so the trainers and the command line agree on the device.
    """
    if not (dist.is_available() and dist.is_initialized()):
        return Process()
    if _JOINED is not None and _JOINED.rank == dist.get_rank():
        return _JOINED
    backend = dist.get_backend()
    device = torch.device("cuda", torch.cuda.current_device()) if backend == "nccl" else torch.device("cpu")
    return Process(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")), device, backend)


def teardown() -> None:
    """Leave the process group, if this process joined one."""
    global _JOINED
    _JOINED = None
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


#: Each process draws its minibatches from ``seed + RANK_SEED_STRIDE * (rank + 1)``: a
#: prime far from small seeds, so the ranks' streams differ from each other and from
#: the shared initialization's ``seed`` (the weights are the same everywhere).
RANK_SEED_STRIDE = 7919


@dataclass(frozen=True)
class Shard:
    """What a trainer needs to know about the processes: this one, its device and its share of a batch."""

    process: Process
    device: torch.device
    local_batch: int

    def data_seed(self, seed: int) -> int:
        """Return the seed of this process's minibatch stream under ``torchrun``."""
        return seed + RANK_SEED_STRIDE * (self.process.rank + 1)


def shard(batch_size: int, device: str | torch.device | None = None, *, multiple: int = 1) -> Shard:
    """Return the trainer preamble shared by every trainer: the process, the device and the local batch.

    In one process the device is :func:`gaedu.get_device` of ``device``. Under
    ``torchrun`` it is the device :func:`setup` chose for this process, and each of
    the :math:`P` processes takes ``batch_size / P`` samples of every batch.

    Raises:
        ValueError: ``batch_size`` does not split into the processes in whole multiples of ``multiple``.
    """
    process = current()
    device = process.device if process.distributed else get_device(device)
    if batch_size % (process.world_size * multiple):
        what = f"{process.world_size} processes" + (f" of whole packs of {multiple}" if multiple > 1 else "")
        raise ValueError(f"batch_size ({batch_size}) must split evenly into {what}")
    return Shard(process, device, batch_size // process.world_size)


def wrap(module: nn.Module, process: Process) -> nn.Module:
    """Wrap ``module`` in ``DistributedDataParallel`` under ``torchrun`` (gradients are averaged in ``backward()``).

    In a single process, return ``module`` itself.
    """
    if not process.distributed:
        return module
    device = process.device
    return DistributedDataParallel(module, device_ids=[device.index] if device.type == "cuda" else None)


def average_gradients(parameters) -> None:
    """Replace each parameter's gradient by its average over all processes (what DDP does in ``backward``)."""
    world_size = dist.get_world_size()
    for p in parameters:
        if p.grad is not None:
            dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
            p.grad /= world_size
