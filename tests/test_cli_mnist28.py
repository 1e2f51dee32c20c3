"""python -m gaedu at 28×28: train-gan and train-ae --dataset mnist28, sample and reconstruct, and digits of the wrong size."""

import numpy as np
import pytest
import torch

from gaedu.data import load_mnist
from test_cli import _assert_one_line_error, run, run_program


@pytest.fixture(scope="module")
def gan28(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli-gan28") / "gan28.pt"
    result = run_program("train-gan", "--dataset", "mnist28", "--out", str(path), "--steps", "3", "--device", "cpu", "--quiet")
    assert result.returncode == 0, result.stderr
    return path


@pytest.fixture(scope="module")
def ae28(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli-ae28") / "ae28.pt"
    result = run_program("train-ae", "--dataset", "mnist28", "--latent-dim", "4", "--out", str(path), "--steps", "3",
                         "--device", "cpu", "--quiet")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "k = 4" in result.stdout and "test PSNR" in result.stdout
    return path


def test_train_gan_mnist28_is_the_books_convolutional_gan(gan28):
    from gaedu.gan import MNIST28_GAN

    config = torch.load(gan28, weights_only=True)["config"]
    assert config["arch"] == "conv" and tuple(config["out_shape"]) == (1, 28, 28)
    assert {k: v for k, v in config.items() if k != "num_steps"} == {
        k: v for k, v in MNIST28_GAN.to_dict().items() if k != "num_steps"
    }


def test_sample_writes_28x28_digits(gan28, tmp_path):
    out = tmp_path / "s.npy"
    result = run("sample", "--checkpoint", str(gan28), "--n", "5", "--out", str(out), "--seed", "3")
    assert result.returncode == 0, result.stderr
    images = np.load(out)
    assert images.shape == (5, 1, 28, 28) and images.dtype == np.float32 and 0 <= images.min() and images.max() <= 1
    assert "(1, 28, 28)" in result.stdout


def test_reconstruct_28x28_digits(ae28, tmp_path):
    digits = tmp_path / "d.npy"
    np.save(digits, load_mnist("test")[0][:6].numpy())
    out = tmp_path / "r.npy"
    result = run("reconstruct", "--checkpoint", str(ae28), "--input", str(digits), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert np.load(out).shape == (6, 1, 28, 28)


def test_8x8_digits_given_to_a_28x28_model_are_one_line_error(ae28, tmp_path):
    small = tmp_path / "small.npy"
    np.save(small, np.zeros((3, 1, 8, 8), np.float32))
    result = run("reconstruct", "--checkpoint", str(ae28), "--input", str(small), "--out", str(tmp_path / "o.npy"))
    _assert_one_line_error(result, "must have shape (N, 1, 28, 28) with N >= 1, got (3, 1, 8, 8): the model reads 28×28 images")
    assert not (tmp_path / "o.npy").exists()


def test_28x28_digits_given_to_an_8x8_model_are_one_line_error(tmp_path):
    path = tmp_path / "ae8.pt"
    assert run("train-ae", "--latent-dim", "2", "--out", str(path), "--steps", "2", "--quiet").returncode == 0
    big = tmp_path / "big.npy"
    np.save(big, np.zeros((2, 1, 28, 28), np.float32))
    result = run("reconstruct", "--checkpoint", str(path), "--input", str(big), "--out", str(tmp_path / "o.npy"))
    _assert_one_line_error(result, "must have shape (N, 1, 8, 8) with N >= 1, got (2, 1, 28, 28): the model reads 8×8 images")
    assert not (tmp_path / "o.npy").exists()


@pytest.mark.parametrize(
    "args, pattern",
    [
        (["train-gan", "--dataset", "mnist", "--out", "g.pt"], "invalid choice: 'mnist'"),
        (["train-ae", "--dataset", "cifar10", "--latent-dim", "4", "--out", "a.pt"], "invalid choice: 'cifar10'"),
        (["train-gan", "--dataset", "mnist28", "--out", "no/such/g.pt", "--steps", "1"], "does not exist"),
    ],
)
def test_bad_28x28_arguments_are_one_line_errors(args, pattern, tmp_path):
    _assert_one_line_error(run(*args, cwd=tmp_path), pattern)
