"""gaedu.autoencoder: shapes, the training loop's promises, and checkpoints."""

import dataclasses

import pytest
import torch
import torch.nn.functional as F

from gaedu.autoencoder import (
    AEConfig,
    Autoencoder,
    Decoder,
    Encoder,
    load_autoencoder,
    reconstruct,
    reconstruction_error,
    save_autoencoder,
    train_autoencoder,
    training_step,
)
from gaedu.checkpoint import CheckpointError
from gaedu.data import load_digits
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


@pytest.mark.parametrize("field, value", [("latent_dim", 0), ("depth", 1.5), ("loss", "l3"), ("lr", -1.0),
                                          ("weight_decay", float("nan")), ("val_fraction", 1.0), ("num_steps", True),
                                          ("eval_every", 0), ("seed", -1), ("noise", -0.1), ("noise", float("inf"))])
def test_config_refuses_bad_settings(field, value):
    with pytest.raises(ValueError, match=field if field != "loss" else "loss must be"):
        AEConfig(**{field: value})


def test_config_accepts_numpy_integers_and_is_immutable():
    import numpy as np

    config = AEConfig(latent_dim=np.int64(4), num_steps=np.int32(10))
    assert config.latent_dim == 4 and type(config.latent_dim) is int
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.lr = 1.0


def test_a_plain_config_reads_as_before_denoising_existed():
    assert "noise" not in AEConfig().to_dict()  # so plain checkpoints and cache keys are unchanged
    denoising = AEConfig(noise=0.2)
    assert denoising.to_dict()["noise"] == 0.2 and AEConfig(**denoising.to_dict()) == denoising
    assert AEConfig(**AEConfig().to_dict()) == AEConfig()


def test_a_denoising_autoencoder_learns_to_remove_its_noise(digits):
    """Same seed, same steps: trained on noisy inputs, it restores noisy digits better, clean ones worse."""
    x_train, x_test = digits
    plain = AEConfig(latent_dim=8, hidden=64, num_steps=1500, eval_every=500)
    models = {noise: train_autoencoder(x_train, dataclasses.replace(plain, noise=noise), device="cpu",
                                       progress=False).model for noise in (0.0, 0.3)}
    noisy = (x_test + 0.3 * torch.randn(x_test.shape, generator=torch.Generator().manual_seed(5))).clamp(0, 1)
    denoised = {noise: psnr(reconstruct(model, noisy), x_test).mean().item() for noise, model in models.items()}
    clean = {noise: psnr(reconstruct(model, x_test), x_test).mean().item() for noise, model in models.items()}
    assert denoised[0.3] > denoised[0.0] + 1
    assert clean[0.0] > clean[0.3]


def test_autoencoder_refuses_bad_sizes():
    with pytest.raises(ValueError, match="latent_dim must be an integer >= 1"):
        Autoencoder(0)


def test_reconstruction_errors():
    x, x_hat = torch.zeros(2, 1, 8, 8), torch.full((2, 1, 8, 8), 0.5)
    assert reconstruction_error(x_hat, x, "l1").item() == pytest.approx(0.5)
    assert reconstruction_error(x_hat, x, "l2").item() == pytest.approx(0.25)
    with pytest.raises(ValueError, match="loss must be one of 'l1', 'l2'"):
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


@pytest.mark.parametrize("loss, reference", [("l1", F.l1_loss), ("l2", F.mse_loss)])
def test_training_step_descends_the_chosen_error(loss, reference):
    """One step equals plain SGD on PyTorch's own L1 or MSE loss, so the named loss is the one trained."""
    x = torch.rand(16, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    model = Autoencoder(3, hidden=8, depth=1)
    twin = Autoencoder(3, hidden=8, depth=1)
    twin.load_state_dict(model.state_dict())
    error = training_step(model, torch.optim.SGD(model.parameters(), lr=0.5), x, loss)
    assert error.item() == pytest.approx(reference(twin(x), x).item(), rel=1e-6)
    expected = reference(twin(x), x)
    grads = torch.autograd.grad(expected, list(twin.parameters()))
    for p, q, g in zip(model.parameters(), twin.parameters(), grads, strict=True):
        assert torch.allclose(p, q - 0.5 * g, atol=1e-6)


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
        train_autoencoder(images, AEConfig(num_steps=1), progress=False)
    with pytest.raises(ValueError, match=message):
        reconstruct(Autoencoder(2, hidden=8), images)


def test_reconstruct_refuses_a_bad_batch_size():
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        reconstruct(Autoencoder(2, hidden=8), torch.rand(2, 1, 8, 8), batch_size=0)


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
