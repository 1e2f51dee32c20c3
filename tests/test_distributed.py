"""gaedu.distributed: two gloo processes ascend exactly like one; both trainers stay in sync under torchrun."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gaedu import distributed, distributed_demo
from gaedu.gan import load_generator, sample

WORKER = Path(__file__).with_name("ddp_worker.py")


def test_two_processes_compute_the_full_batch_gradient_and_the_same_trajectory():
    X, y = distributed_demo.demo_data()
    gradient, trajectory = distributed_demo.ascend_demo(X, y, lr=0.1, num_steps=30)
    parallel = distributed_demo.spawn_data_parallel_ascent(world_size=2, lr=0.1, num_steps=30)
    for rank in range(2):
        assert torch.allclose(parallel["gradient"][rank], gradient, rtol=0, atol=1e-6)
        assert torch.allclose(parallel["trajectory"][rank], trajectory, rtol=0, atol=1e-10)
    assert not torch.allclose(trajectory[-1], trajectory[0])  # the ascent moved
    half_gradient, _ = distributed_demo.ascend_demo(X[:128], y[:128], lr=0.1, num_steps=1)
    assert not torch.allclose(half_gradient, gradient, atol=1e-3)  # one share alone is not enough


def test_spawn_refuses_bad_world_sizes():
    for bad in (0, 3, True):
        with pytest.raises(ValueError, match="world_size|split evenly"):
            distributed_demo.spawn_data_parallel_ascent(world_size=bad)


def test_setup_needs_a_rank_when_there_are_several_processes(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.delenv("RANK", raising=False)
    with pytest.raises(ValueError, match="RANK is not set"):
        distributed.setup("cpu")


def test_shard_splits_the_batch_and_refuses_what_does_not_split(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    part = distributed.shard(64, "cpu", multiple=4)
    assert (part.local_batch, part.device, part.process.world_size) == (64, torch.device("cpu"), 1)
    with pytest.raises(ValueError, match="whole packs of 4"):
        distributed.shard(66, "cpu", multiple=4)
    assert distributed.wrap(torch.nn.Linear(2, 2), part.process).__class__ is torch.nn.Linear  # alone: unwrapped


def test_a_single_process_stays_alone(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    process = distributed.setup("cpu")
    assert (process.rank, process.world_size, process.is_main, process.distributed) == (0, 1, True, False)
    assert process.device == torch.device("cpu")
    assert distributed.current() == distributed.Process()


def _torchrun(*args, cwd):
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd)


def test_torchrun_trains_the_gan_on_two_processes_and_one_writes(tmp_path):
    result = _torchrun("-m", "gaedu", "train-gan", "--out", "gan.pt", "--steps", "20", "--device", "cpu", "--quiet",
                       cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("wrote") == 1 and "2 processes (gloo)" in result.stdout  # only rank 0 writes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gan.pt"]
    images = sample(load_generator(tmp_path / "gan.pt"), 5, seed=1)
    assert images.shape == (5, 1, 8, 8) and torch.isfinite(images).all()


@pytest.mark.parametrize("kind, main_calls", [("gan", 3 + 2), ("ae", 3)])
def test_ddp_keeps_the_ranks_in_step_and_evaluates_on_rank_0_only(tmp_path, kind, main_calls):
    """Each rank trains on other minibatches; only the all-reduced gradients make their weights agree."""
    result = _torchrun(str(WORKER), str(tmp_path), kind, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(2)]
    assert [r["world_size"] for r in ranks] == [2, 2]
    for name, tensor in ranks[0]["state"].items():
        assert torch.allclose(tensor, ranks[1]["state"][name], atol=1e-6), name
    assert (ranks[0]["calls"], ranks[1]["calls"]) == (main_calls, 0)  # evaluate, snapshots, callbacks: rank 0
