"""python -m gaedu: train and sample round trip; every bad input is one line on stderr and exit status 2.

The models are trained by the real program (a subprocess), and one error is checked there too; the other
error paths call ``gaedu.__main__.main`` in this process, which is the same code without a second start of
Python and torch for every case.
"""

import contextlib
import io
import subprocess
import sys

import numpy as np
import pytest
import torch

from gaedu.__main__ import main
from gaedu.checkpoint import save_checkpoint


def run_program(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "gaedu", *args], capture_output=True, text=True, cwd=cwd)


def run(*args, cwd=None):
    """Run the command line in this process; return what a finished subprocess would (returncode, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), contextlib.chdir(cwd or "."):
        try:
            code = main(list(args))
        except SystemExit as exit_:  # argparse's own errors
            code = exit_.code
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def test_the_program_reports_an_error_in_one_line_with_status_2(tmp_path):
    result = run_program("sample", "--checkpoint", str(tmp_path / "none.pt"), "--n", "3", "--out", str(tmp_path / "x.npy"))
    _assert_one_line_error(result, "no checkpoint at")


@pytest.fixture(scope="module")
def gan_checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "gan.pt"
    result = run_program("train-gan", "--out", str(path), "--steps", "30", "--seed", "1", "--device", "cpu", "--quiet")
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
    _assert_one_line_error(result, "not of kind 'gan'")


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


# the autoencoder: train-ae and reconstruct


@pytest.fixture(scope="module")
def ae_checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli-ae") / "ae.pt"
    result = run_program("train-ae", "--latent-dim", "8", "--out", str(path), "--steps", "1500", "--device", "cpu",
                         "--quiet")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout and "test PSNR" in result.stdout
    return path


@pytest.fixture(scope="module")
def test_digits_file(tmp_path_factory):
    from gaedu.data import load_digits

    path = tmp_path_factory.mktemp("cli-digits") / "test.npy"
    np.save(path, load_digits("test")[0].numpy())
    return path


def test_train_ae_then_reconstruct_beats_pca(ae_checkpoint, test_digits_file, tmp_path):
    from sklearn.decomposition import PCA

    from gaedu.data import load_digits
    from gaedu.metrics import psnr

    out = tmp_path / "reconstructed.npy"
    result = run("reconstruct", "--checkpoint", str(ae_checkpoint), "--input", str(test_digits_file), "--out", str(out))
    assert result.returncode == 0, result.stderr
    x_test = np.load(test_digits_file)
    x_hat = np.load(out)
    assert x_hat.shape == x_test.shape and x_hat.dtype == np.float32 and 0 <= x_hat.min() and x_hat.max() <= 1
    flat_train, flat_test = load_digits("train")[0].flatten(1).numpy(), x_test.reshape(len(x_test), -1)
    pca = PCA(8).fit(flat_train)
    x_pca = np.clip(pca.inverse_transform(pca.transform(flat_test)), 0, 1).reshape(x_test.shape)
    ae_psnr = psnr(torch.from_numpy(x_hat), torch.from_numpy(x_test)).mean().item()
    pca_psnr = psnr(torch.from_numpy(x_pca).float(), torch.from_numpy(x_test)).mean().item()
    assert ae_psnr > pca_psnr + 1.0, (ae_psnr, pca_psnr)


def test_train_ae_with_l1_loss(tmp_path):
    path = tmp_path / "l1.pt"
    result = run("train-ae", "--latent-dim", "2", "--out", str(path), "--loss", "l1", "--steps", "5", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "l1 loss" in result.stdout
    assert torch.load(path, weights_only=True)["config"]["loss"] == "l1"


def _npy(tmp_path, name, array):
    path = tmp_path / name
    np.save(path, array)
    return path


@pytest.mark.parametrize(
    "make_input, pattern",
    [
        (lambda d: _npy(d, "shape.npy", np.zeros((3, 8, 8), np.float32)), "shape (N, 1, 8, 8)"),
        (lambda d: _npy(d, "range.npy", np.full((3, 1, 8, 8), 2.0, np.float32)), "must lie in [0, 1]"),
        (lambda d: _npy(d, "nan.npy", np.full((3, 1, 8, 8), np.nan, np.float32)), "NaN"),
        (lambda d: _npy(d, "text.npy", np.array([["a"] * 8] * 8)), "numeric array"),
        (lambda d: d / "missing.npy", "no input file"),
        (lambda d: (d / "junk.npy").write_bytes(b"not numpy at all") and d / "junk.npy", "not a readable .npy"),
    ],
)
def test_reconstruct_refuses_bad_input(ae_checkpoint, tmp_path, make_input, pattern):
    path = make_input(tmp_path)
    result = run("reconstruct", "--checkpoint", str(ae_checkpoint), "--input", str(path), "--out", str(tmp_path / "o.npy"))
    _assert_one_line_error(result, pattern)
    assert not (tmp_path / "o.npy").exists()


def test_reconstruct_refuses_bad_checkpoints(ae_checkpoint, gan_checkpoint, test_digits_file, tmp_path):
    cut = tmp_path / "cut.pt"
    cut.write_bytes(ae_checkpoint.read_bytes()[:400])
    for checkpoint, pattern in ((tmp_path / "none.pt", "no checkpoint at"), (cut, "not a readable checkpoint"),
                                (gan_checkpoint, "not of kind 'autoencoder'")):
        result = run("reconstruct", "--checkpoint", str(checkpoint), "--input", str(test_digits_file),
                     "--out", str(tmp_path / "o.npy"))
        _assert_one_line_error(result, pattern)


@pytest.mark.parametrize(
    "args, pattern",
    [
        (["train-ae", "--out", "a.pt"], "required: --latent-dim"),
        (["train-ae", "--latent-dim", "0", "--out", "a.pt"], "positive integer"),
        (["train-ae", "--latent-dim", "4", "--out", "a.pt", "--loss", "l3"], "invalid choice"),
        (["train-ae", "--latent-dim", "4", "--out", "no/such/a.pt"], "does not exist"),
        (["train-ae", "--latent-dim", "4", "--out", "a.pt", "--device", "tpu"], "'tpu'"),
        (["reconstruct", "--checkpoint", "a.pt", "--input", "x.npy"], "required: --out"),
    ],
)
def test_train_ae_bad_arguments(args, pattern, tmp_path):
    _assert_one_line_error(run(*args, cwd=tmp_path), pattern)
