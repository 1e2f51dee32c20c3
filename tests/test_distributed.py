"""gaedu.distributed: two gloo processes ascend exactly like one; both trainers run under torchrun."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from gaedu import distributed
from gaedu.decoder import load_autoencoder, reconstruct
from gaedu.gan import load_generator, sample


def test_two_processes_compute_the_full_batch_gradient_and_the_same_trajectory():
    X, y = distributed.demo_data()
    gradient, trajectory = distributed.ascend_demo(X, y, lr=0.1, num_steps=30)
    parallel = distributed.spawn_data_parallel_ascent(world_size=2, lr=0.1, num_steps=30)
    for rank in range(2):
        assert torch.allclose(parallel["gradient"][rank], gradient, rtol=0, atol=1e-6)
        assert torch.allclose(parallel["trajectory"][rank], trajectory, rtol=0, atol=1e-10)
    assert not torch.allclose(trajectory[-1], trajectory[0])  # the ascent moved
    half_gradient, _ = distributed.ascend_demo(X[:128], y[:128], lr=0.1, num_steps=1)
    assert not torch.allclose(half_gradient, gradient, atol=1e-3)  # one share alone is not enough


def test_spawn_refuses_bad_world_sizes():
    for bad in (0, 3, True):
        with pytest.raises(ValueError, match="world_size|split evenly"):
            distributed.spawn_data_parallel_ascent(world_size=bad)


def test_a_single_process_stays_alone(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    process = distributed.setup("cpu")
    assert (process.rank, process.world_size, process.is_main, process.distributed) == (0, 1, True, False)
    assert process.device == torch.device("cpu")
    assert distributed.current() == distributed.Process()


def _torchrun(*args, cwd):
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", "-m", "gaedu", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd)


def test_torchrun_trains_the_gan_on_two_processes(tmp_path):
    result = _torchrun("train-gan", "--out", "gan.pt", "--steps", "20", "--device", "cpu", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("wrote") == 1 and "2 processes (gloo)" in result.stdout  # only rank 0 writes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gan.pt"]
    images = sample(load_generator(tmp_path / "gan.pt"), 5, seed=1)
    assert images.shape == (5, 1, 8, 8) and torch.isfinite(images).all()


def test_torchrun_trains_the_autoencoder_on_two_processes(tmp_path):
    from gaedu.data import load_digits

    result = _torchrun("train-ae", "--latent-dim", "4", "--out", "ae.pt", "--steps", "40", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("wrote") == 1 and "2 processes (gloo)" in result.stdout
    x_test, _ = load_digits("test")
    restored = reconstruct(load_autoencoder(tmp_path / "ae.pt"), x_test[:6])
    assert restored.shape == (6, 1, 8, 8) and np.isfinite(restored.numpy()).all()
