"""gaedu.decoder: shapes, the training loop's promises, checkpoints, and ascent on the code."""

import math

import pytest
import torch

from gaedu.checkpoint import CheckpointError
from gaedu.data import load_digits
from gaedu.decoder import (
    AEConfig,
    Autoencoder,
    Decoder,
    Encoder,
    ascend_code,
    check_images,
    load_autoencoder,
    masked_similarity,
    reconstruct,
    reconstruction_error,
    save_autoencoder,
    train_autoencoder,
)
from gaedu.metrics import psnr


@pytest.fixture(scope="module")
def digits():
    return load_digits("train")[0], load_digits("test")[0]


@pytest.fixture(scope="module")
def short_run(digits):
    x_train, x_test = digits
    config = AEConfig(latent_dim=4, hidden=32, num_steps=120, eval_every=40)
    return train_autoencoder(x_train, config, x_test=x_test, device="cpu", progress=False)


def test_shapes_and_ranges():
    images = torch.rand(5, 1, 8, 8)
    assert Encoder(3)(images).shape == (5, 3)
    decoded = Decoder(3)(torch.randn(5, 3) * 10)
    assert decoded.shape == (5, 1, 8, 8) and decoded.min() >= 0 and decoded.max() <= 1
    model = Autoencoder(6, hidden=16, depth=1)
    assert model(images).shape == (5, 1, 8, 8) and model.latent_dim == 6
    assert len(model.encoder.net) == 3  # one hidden layer, its activation, the output layer


@pytest.mark.parametrize("field, value", [("latent_dim", 0), ("depth", 1.5), ("loss", "l3"), ("lr", -1.0),
                                          ("weight_decay", float("nan")), ("val_fraction", 1.0), ("num_steps", True)])
def test_config_refuses_bad_settings(field, value):
    with pytest.raises(ValueError, match=field if field != "loss" else "loss must be"):
        AEConfig(**{field: value})


def test_autoencoder_refuses_bad_sizes():
    with pytest.raises(ValueError, match="latent_dim must be a positive integer"):
        Autoencoder(0)


def test_reconstruction_errors():
    x, x_hat = torch.zeros(2, 1, 8, 8), torch.full((2, 1, 8, 8), 0.5)
    assert reconstruction_error(x_hat, x, "l1").item() == pytest.approx(0.5)
    assert reconstruction_error(x_hat, x, "l2").item() == pytest.approx(0.25)
    with pytest.raises(ValueError, match="'l1' or 'l2'"):
        reconstruction_error(x_hat, x, "huber")


def test_training_records_curves_and_keeps_the_best_held_out_step(short_run):
    history = short_run.history
    assert history["step"] == [40, 80, 120]
    assert set(history) == {"step", "loss", "train_psnr", "val_psnr", "test_psnr"}
    assert all(len(values) == 3 for values in history.values())
    best = max(range(3), key=lambda i: history["val_psnr"][i])
    assert short_run.best_step == history["step"][best]
    assert history["train_psnr"][-1] > history["train_psnr"][0]  # training ascends


def test_training_is_seeded_and_keeps_the_best_weights(digits, short_run):
    x_train, x_test = digits
    again = train_autoencoder(x_train, short_run.config, x_test=x_test, device="cpu", progress=False)
    assert again.history == short_run.history
    held_out = x_train[torch.randperm(len(x_train), generator=torch.Generator().manual_seed(0))[:135]]
    measured = psnr(reconstruct(short_run.model, held_out), held_out).mean().item()
    assert measured == pytest.approx(max(short_run.history["val_psnr"]), abs=1e-4)


def test_l1_and_l2_training_differ(digits):
    x_train, _ = digits
    runs = [train_autoencoder(x_train, AEConfig(latent_dim=2, hidden=16, num_steps=20, eval_every=20, loss=loss),
                              device="cpu", progress=False) for loss in ("l1", "l2")]
    assert runs[0].history["loss"] != runs[1].history["loss"]


@pytest.mark.parametrize(
    "images, message",
    [
        (torch.rand(4, 8, 8), r"shape \(N, 1, 8, 8\)"),
        (torch.rand(0, 1, 8, 8), "N >= 1"),
        (torch.full((2, 1, 8, 8), float("nan")), "NaN"),
        (torch.full((2, 1, 8, 8), 1.5), r"lie in \[0, 1\]"),
        (torch.ones(2, 1, 8, 8, dtype=torch.int64), "floating point"),
        ([[0.5]], "torch.Tensor"),
    ],
)
def test_bad_images_are_refused(images, message):
    with pytest.raises(ValueError, match=message):
        check_images(images)
    with pytest.raises(ValueError, match=message):
        reconstruct(Autoencoder(2, hidden=8), images)


def test_too_few_images_to_hold_some_out():
    with pytest.raises(ValueError, match="too few"):
        train_autoencoder(torch.rand(3, 1, 8, 8), AEConfig(num_steps=1, val_fraction=0.1), progress=False)


def test_checkpoint_round_trip(short_run, digits, tmp_path):
    path = save_autoencoder(tmp_path / "ae.pt", short_run, info={"note": "test"})
    model = load_autoencoder(path)
    _, x_test = digits
    assert torch.equal(reconstruct(model, x_test[:10]), reconstruct(short_run.model.cpu(), x_test[:10]))
    assert [p.name for p in tmp_path.iterdir()] == ["ae.pt"]


def test_checkpoint_refusals(short_run, tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_autoencoder(tmp_path / "missing.pt")
    path = save_autoencoder(tmp_path / "ae.pt", short_run)
    (tmp_path / "cut.pt").write_bytes(path.read_bytes()[:300])
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_autoencoder(tmp_path / "cut.pt")
    payload = torch.load(path, weights_only=True)
    payload["config"]["latent_dim"] = 5  # the weights no longer fit the configuration
    torch.save(payload, tmp_path / "inconsistent.pt")
    with pytest.raises(CheckpointError, match="does not describe a gaedu autoencoder"):
        load_autoencoder(tmp_path / "inconsistent.pt")


def test_masked_similarity_counts_only_known_pixels():
    observed = torch.zeros(2, 1, 8, 8)
    x_hat = torch.zeros(2, 1, 8, 8)
    x_hat[:, :, :4] = 1.0  # wrong on the top half only
    top_missing = torch.ones(1, 1, 8, 8)
    top_missing[:, :, :4] = 0
    assert torch.equal(masked_similarity(x_hat, observed, top_missing), torch.zeros(2))
    assert torch.allclose(masked_similarity(x_hat, observed, torch.ones(1, 1, 8, 8)), torch.full((2,), -0.5))


def test_ascent_on_the_code_recovers_a_decodable_image():
    torch.manual_seed(0)
    decoder = Decoder(2, hidden=16)
    truth = decoder(torch.tensor([[0.7, -1.2], [-0.3, 0.4]])).detach()  # images the decoder can make exactly
    mask = (torch.rand(1, 1, 8, 8, generator=torch.Generator().manual_seed(1)) < 0.5).float()
    search = ascend_code(decoder, truth * mask, mask, starts=6, num_steps=400, lr=0.05, seed=2)
    assert search.codes.shape == (6, 2, 2) and search.scores.shape == (6, 2) and search.best.shape == (2,)
    assert search.images.shape == (2, 1, 8, 8)
    assert psnr(search.images, truth).min() > 35  # the hidden pixels come back too
    assert all(b >= a - 1e-9 for a, b in zip(search.curves, search.curves[1:]))  # best-so-far never falls
    assert all(p.requires_grad for p in decoder.parameters())  # the decoder is left as it was


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"observed": torch.rand(2, 8, 8)}, r"shape \(N, 1, 8, 8\)"),
        ({"observed": torch.full((2, 1, 8, 8), math.inf)}, "NaN or infinite"),
        ({"mask": torch.ones(3, 1, 8, 8)}, "does not fit"),
        ({"starts": 0}, "starts must be"),
        ({"starts": torch.zeros(3, 2, 5)}, r"shape \(S, 2, 2\)"),
        ({"num_steps": 0}, "num_steps"),
        ({"lr": float("nan")}, "lr must be"),
        ({"prior": -1.0}, "prior must be"),
    ],
)
def test_ascent_on_the_code_refuses_bad_input(kwargs, message):
    arguments = {"observed": torch.rand(2, 1, 8, 8), **kwargs}
    with pytest.raises(ValueError, match=message):
        ascend_code(Decoder(2, hidden=8), **arguments)


def test_train_autoencoder_takes_every_step_with_training_step(monkeypatch):
    import gaedu.decoder as decoder

    calls = []
    original = decoder.training_step
    monkeypatch.setattr(decoder, "training_step", lambda *args: calls.append(args[-1]) or original(*args))
    config = AEConfig(num_steps=4, hidden=8, latent_dim=2, eval_every=2, loss="l1")
    decoder.train_autoencoder(torch.rand(30, 1, 8, 8), config, device="cpu", progress=False)
    assert calls == ["l1"] * 4
