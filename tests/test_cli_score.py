"""python -m gaedu train-score and sample with a score checkpoint: the round trip and its bad inputs."""

import numpy as np
import pytest
import torch

from gaedu.checkpoint import load_checkpoint
from test_cli import _assert_one_line_error, run, run_program


@pytest.fixture(scope="module")
def score_checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli-score") / "score.pt"
    result = run_program("train-score", "--out", str(path), "--steps", "20", "--classifier-steps", "30", "--seed", "1", "--device", "cpu", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout and "a score model and its noise-conditional classifier, 20 steps" in result.stdout and "ms/step" in result.stdout
    return path


def test_the_checkpoint_says_what_it_holds(score_checkpoint):
    payload = load_checkpoint(score_checkpoint, "score")
    assert payload["config"]["num_steps"] == 20 and payload["config"]["seed"] == 1
    assert {"model", "ema_model"} <= set(payload["state"])
    assert payload["info"]["device"] == "cpu" and payload["info"]["seconds"] > 0


def test_train_score_then_sample(score_checkpoint, tmp_path):
    out = tmp_path / "digits.npy"
    result = run("sample", "--checkpoint", str(score_checkpoint), "--n", "5", "--out", str(out), "--seed", "3")
    assert result.returncode == 0, result.stderr
    assert "5 samples of shape (1, 8, 8)" in result.stdout
    images = np.load(out)
    assert images.shape == (5, 1, 8, 8) and images.dtype == np.float32
    assert images.min() >= 0 and images.max() <= 1
    again = tmp_path / "again.npy"
    assert run("sample", "--checkpoint", str(score_checkpoint), "--n", "5", "--out", str(again), "--seed", "3").returncode == 0
    np.testing.assert_array_equal(images, np.load(again))
    other = tmp_path / "other.npy"
    assert run("sample", "--checkpoint", str(score_checkpoint), "--n", "5", "--out", str(other), "--seed", "4").returncode == 0
    assert not np.array_equal(images, np.load(other))


def test_a_truncated_score_checkpoint(score_checkpoint, tmp_path):
    broken = tmp_path / "broken.pt"
    broken.write_bytes(score_checkpoint.read_bytes()[:400])
    result = run("sample", "--checkpoint", str(broken), "--n", "3", "--out", str(tmp_path / "x.npy"))
    _assert_one_line_error(result, "not a readable checkpoint")
    assert not (tmp_path / "x.npy").exists()


def test_a_damaged_score_checkpoint(score_checkpoint, tmp_path):
    payload = torch.load(score_checkpoint, weights_only=True)
    payload["state"]["ema_model"].pop("inp.weight")
    damaged = tmp_path / "damaged.pt"
    torch.save(payload, damaged)
    result = run("sample", "--checkpoint", str(damaged), "--n", "3", "--out", str(tmp_path / "x.npy"))
    _assert_one_line_error(result, "does not describe a gaedu score")


@pytest.mark.parametrize(
    "args, pattern",
    [
        (["train-score", "--out", "{tmp}/none/score.pt"], "does not exist"),
        (["train-score", "--out", "{tmp}/s.pt", "--steps", "0"], "positive integer"),
        (["train-score", "--out", "{tmp}/s.pt", "--seed", "-1"], "seed"),
        (["train-score", "--out", "{tmp}/s.pt", "--device", "tpu"], "'tpu'"),
        (["train-score"], "required"),
    ],
)
def test_train_score_bad_arguments(args, pattern, tmp_path):
    result = run(*(a.format(tmp=tmp_path) for a in args))
    _assert_one_line_error(result, pattern)
    assert not (tmp_path / "s.pt").exists()


def test_sample_from_a_score_checkpoint_into_a_missing_folder(score_checkpoint, tmp_path):
    result = run("sample", "--checkpoint", str(score_checkpoint), "--n", "3", "--out", str(tmp_path / "no" / "x.npy"))
    _assert_one_line_error(result, "does not exist")


def test_sample_on_an_unavailable_device(score_checkpoint, tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    result = run("sample", "--checkpoint", str(score_checkpoint), "--n", "3", "--out", str(tmp_path / "x.npy"), "--device", "cuda")
    _assert_one_line_error(result, "not available")


def test_the_default_checkpoint_holds_a_noise_conditional_classifier(score_checkpoint):
    from gaedu.score import load_classifier

    payload = load_checkpoint(score_checkpoint, "score")
    assert "classifier" in payload["state"] and payload["info"]["classifier"]["num_steps"] == 30
    classifier = load_classifier(score_checkpoint)
    assert classifier(torch.rand(3, 1, 8, 8), 0.5).shape == (3, 10) and not classifier.training


@pytest.mark.parametrize("sampler, steps", [("ddim", "8"), ("ancestral", "6"), ("langevin", "2")])
def test_sample_a_class_with_each_sampler(score_checkpoint, tmp_path, sampler, steps):
    out = tmp_path / "threes.npy"
    args = ["--label", "3", "--guidance-scale", "2.5", "--sampler", sampler, "--num-steps", steps]
    result = run("sample", "--checkpoint", str(score_checkpoint), "--n", "4", "--out", str(out), *args)
    assert result.returncode == 0, result.stderr
    assert "4 samples of class 3 of shape (1, 8, 8)" in result.stdout
    images = np.load(out)
    assert images.shape == (4, 1, 8, 8) and 0 <= images.min() and images.max() <= 1
    again = tmp_path / "again.npy"
    assert run("sample", "--checkpoint", str(score_checkpoint), "--n", "4", "--out", str(again), *args).returncode == 0
    np.testing.assert_array_equal(images, np.load(again))


def test_ddim_needs_no_label(score_checkpoint, tmp_path):
    out = tmp_path / "d.npy"
    result = run("sample", "--checkpoint", str(score_checkpoint), "--n", "3", "--out", str(out), "--sampler", "ddim", "--num-steps", "5")
    assert result.returncode == 0 and np.load(out).shape == (3, 1, 8, 8), result.stderr


@pytest.mark.parametrize(
    "args, pattern",
    [
        (["--label", "10"], "must be a digit from 0 to 9, got 10"),
        (["--label", "-1"], "must be a digit from 0 to 9"),
        (["--label", "2", "--guidance-scale", "-0.5"], "must be a number from 0 to 100"),
        (["--label", "2", "--guidance-scale", "inf"], "must be a number from 0 to 100"),
        (["--guidance-scale", "2"], "give --label too"),
        (["--sampler", "heun"], "invalid choice"),
        (["--num-steps", "1"], "must be an integer from 2"),
    ],
)
def test_bad_guidance_options(score_checkpoint, tmp_path, args, pattern):
    result = run("sample", "--checkpoint", str(score_checkpoint), "--n", "3", "--out", str(tmp_path / "x.npy"), *args)
    _assert_one_line_error(result, pattern)
    assert not (tmp_path / "x.npy").exists()


def test_a_class_from_a_checkpoint_without_a_classifier_is_refused(tmp_path):
    path = tmp_path / "plain.pt"
    assert run("train-score", "--steps", "2", "--classifier-steps", "0", "--quiet", "--device", "cpu", "--out", str(path)).returncode == 0
    result = run("sample", "--checkpoint", str(path), "--n", "3", "--out", str(tmp_path / "x.npy"), "--label", "4")
    _assert_one_line_error(result, "without a classifier, so it cannot be sampled by class")
    assert not (tmp_path / "x.npy").exists()
    assert run("sample", "--checkpoint", str(path), "--n", "2", "--out", str(tmp_path / "y.npy")).returncode == 0


def test_score_options_on_a_gan_checkpoint_are_refused(tmp_path):
    path = tmp_path / "gan.pt"
    assert run("train-gan", "--steps", "2", "--quiet", "--device", "cpu", "--out", str(path)).returncode == 0
    for args in (["--label", "3"], ["--sampler", "ddim"], ["--num-steps", "5"]):
        result = run("sample", "--checkpoint", str(path), "--n", "3", "--out", str(tmp_path / "x.npy"), *args)
        _assert_one_line_error(result, "these options are for score checkpoints")
