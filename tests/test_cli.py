"""python -m gaedu: train and sample round trip; every bad input is one line on stderr and exit status 2."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from gaedu.checkpoint import save_checkpoint


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "gaedu", *args], capture_output=True, text=True, cwd=cwd)


@pytest.fixture(scope="module")
def gan_checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "gan.pt"
    result = run("train-gan", "--out", str(path), "--steps", "30", "--seed", "1", "--device", "cpu", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout and "ms/step" in result.stdout
    return path


def test_train_then_sample(gan_checkpoint, tmp_path):
    out = tmp_path / "samples.npy"
    result = run("sample", "--checkpoint", str(gan_checkpoint), "--n", "12", "--out", str(out), "--seed", "2")
    assert result.returncode == 0, result.stderr
    images = np.load(out)
    assert images.shape == (12, 1, 8, 8) and images.dtype == np.float32
    assert images.min() >= 0 and images.max() <= 1
    again = tmp_path / "again.npy"
    run("sample", "--checkpoint", str(gan_checkpoint), "--n", "12", "--out", str(again), "--seed", "2")
    np.testing.assert_array_equal(images, np.load(again))


def _assert_one_line_error(result, pattern):
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert pattern in lines[0], lines[0]


def test_missing_checkpoint(tmp_path):
    result = run("sample", "--checkpoint", str(tmp_path / "none.pt"), "--n", "3", "--out", str(tmp_path / "x.npy"))
    _assert_one_line_error(result, "no checkpoint at")


def test_truncated_checkpoint(gan_checkpoint, tmp_path):
    broken = tmp_path / "broken.pt"
    broken.write_bytes(gan_checkpoint.read_bytes()[:500])
    result = run("sample", "--checkpoint", str(broken), "--n", "3", "--out", str(tmp_path / "x.npy"))
    _assert_one_line_error(result, "not a readable checkpoint")


def test_foreign_checkpoint(tmp_path):
    foreign = tmp_path / "foreign.pt"
    torch.save({"state_dict": {"w": torch.zeros(3)}}, foreign)
    result = run("sample", "--checkpoint", str(foreign), "--n", "3", "--out", str(tmp_path / "x.npy"))
    _assert_one_line_error(result, "not a gaedu checkpoint")


def test_wrong_kind_of_checkpoint(tmp_path):
    other = save_checkpoint(tmp_path / "ae.pt", "autoencoder", {}, {})
    result = run("sample", "--checkpoint", str(other), "--n", "3", "--out", str(tmp_path / "x.npy"))
    _assert_one_line_error(result, "not a 'gan' one")


@pytest.mark.parametrize(
    "args, pattern",
    [
        (["sample", "--checkpoint", "x.pt", "--n", "0", "--out", "y.npy"], "positive integer"),
        (["sample", "--checkpoint", "x.pt", "--n", "three", "--out", "y.npy"], "invalid"),
        (["sample", "--n", "3", "--out", "y.npy"], "required"),
        (["train-gan", "--out", "g.pt", "--steps", "-5"], "positive integer"),
        (["train-gan", "--out", "g.pt", "--device", "bogus"], "'bogus'"),
        (["train-gan", "--out", "no/such/folder/g.pt", "--steps", "1"], "does not exist"),
        (["fly"], "invalid choice"),
        ([], "required"),
    ],
)
def test_bad_arguments(args, pattern, tmp_path):
    _assert_one_line_error(run(*args, cwd=tmp_path), pattern)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_unavailable_device(gan_checkpoint, tmp_path):
    result = run("sample", "--checkpoint", str(gan_checkpoint), "--n", "3", "--out", str(tmp_path / "x.npy"), "--device", "cuda")
    _assert_one_line_error(result, "not available")


def test_sample_into_missing_folder(gan_checkpoint, tmp_path):
    result = run("sample", "--checkpoint", str(gan_checkpoint), "--n", "3", "--out", str(tmp_path / "no" / "x.npy"))
    _assert_one_line_error(result, "does not exist")
