"""gaedu.gan: shapes, objectives, a short training run, checkpoints; gaedu.checkpoint's refusals."""

import math

import pytest
import torch

from gaedu.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from gaedu.data import load_digits, ring_of_gaussians
from gaedu.gan import (
    Discriminator,
    GANConfig,
    Generator,
    discriminator_objective,
    generator_objective,
    jacobian_norms,
    load_generator,
    sample,
    save_gan,
    train_gan,
    value,
)


def test_shapes_and_ranges():
    config = GANConfig()
    generator, discriminator = Generator(config), Discriminator(config)
    x_fake = generator(torch.randn(5, config.latent_dim))
    assert x_fake.shape == (5, 1, 8, 8) and x_fake.min() >= 0 and x_fake.max() <= 1
    assert discriminator(x_fake).shape == (5,)
    points = Generator(GANConfig(out_shape=(2,), output="linear"))(torch.randn(7, config.latent_dim))
    assert points.shape == (7, 2)


def test_value_is_the_gan_objective():
    config = GANConfig(hidden=8)
    discriminator = Discriminator(config)
    x_real, x_fake = torch.rand(6, 1, 8, 8), torch.rand(6, 1, 8, 8)
    d_real, d_fake = torch.sigmoid(discriminator(x_real)), torch.sigmoid(discriminator(x_fake))
    expected = torch.log(d_real).mean() + torch.log(1 - d_fake).mean()
    assert value(discriminator, x_real, x_fake).item() == pytest.approx(expected.item(), rel=1e-5)
    assert discriminator_objective(discriminator, x_real, x_fake).item() == pytest.approx(expected.item(), rel=1e-5)


def test_r1_penalty_lowers_the_discriminator_objective_by_the_gradient_norm():
    config = GANConfig(hidden=8)
    discriminator = Discriminator(config)
    x_real, x_fake = torch.rand(4, 1, 8, 8), torch.rand(4, 1, 8, 8)
    x = x_real.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(discriminator(x).sum(), x)
    penalty = grad.pow(2).flatten(1).sum(1).mean()
    plain = discriminator_objective(discriminator, x_real, x_fake, r1=0.0)
    assert discriminator_objective(discriminator, x_real, x_fake, r1=2.0).item() == pytest.approx(
        (plain - penalty).item(), rel=1e-5
    )


def test_generator_objectives_and_their_gradients_as_d_wins():
    # as D(G(z)) -> 0 the saturating objective's slope in the logit vanishes; the non-saturating one does not
    class Fixed(torch.nn.Module):
        def forward(self, x):
            return x.flatten(1).sum(1)

    for logit, saturating_slope, non_saturating_slope in [(-10.0, 1 / (1 + math.exp(10)), 1 / (1 + math.exp(-10)))]:
        a = torch.tensor([[logit]], requires_grad=True)
        (g_sat,) = torch.autograd.grad(generator_objective(Fixed(), a, "saturating"), a)
        (g_ns,) = torch.autograd.grad(generator_objective(Fixed(), a, "non-saturating"), a)
        assert g_sat.item() == pytest.approx(saturating_slope, rel=1e-4)
        assert g_ns.item() == pytest.approx(non_saturating_slope, rel=1e-4)


def test_short_training_run_records_history_and_is_seeded():
    x_real, _ = load_digits("train")
    config = GANConfig(num_steps=60, hidden=32, batch_size=32, seed=3)
    first = train_gan(x_real, config, progress=False, snapshot_every=20)
    second = train_gan(x_real, config, progress=False)
    assert first.history["step"] == [50, 60] and len(first.history["value"]) == 2
    assert [step for step, _ in first.snapshots] == [20, 40, 60] and first.snapshots[0][1].shape == (64, 1, 8, 8)
    assert all(torch.equal(p, q) for p, q in zip(first.sampler.parameters(), second.sampler.parameters()))
    assert first.sampler is first.ema_generator


def test_training_the_discriminator_raises_v():
    samples, _ = ring_of_gaussians(2000, seed=0)
    config = GANConfig(out_shape=(2,), output="linear", num_steps=150, hidden=32, lr_g=1e-12, r1=0.0, ema=0.0)
    result = train_gan(samples, config, progress=False)  # the generator barely moves: D just ascends V
    assert result.history["value"][-1] > -math.log(4) + 0.3


def test_evaluate_callback():
    samples, _ = ring_of_gaussians(500, seed=0)
    config = GANConfig(out_shape=(2,), output="linear", num_steps=20, hidden=16, batch_size=16)
    result = train_gan(samples, config, progress=False, eval_every=10, evaluate=lambda g: {"n": 1.0})
    assert result.history["eval_step"] == [10, 20] and result.history["eval_n"] == [1.0, 1.0]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(latent_dim=0), "latent_dim"),
        (dict(num_steps=-1), "num_steps"),
        (dict(batch_size=2.5), "batch_size"),
        (dict(lr_d=0.0), "lr_d"),
        (dict(lr_g=float("nan")), "lr_g"),
        (dict(r1=-1.0), "r1"),
        (dict(ema=1.0), "ema"),
        (dict(betas=(0.9, 1.0)), "betas"),
        (dict(objective="wasserstein"), "objective"),
        (dict(output="tanh"), "output"),
    ],
)
def test_bad_config(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GANConfig(**kwargs)


@pytest.mark.parametrize(
    "data, message",
    [(torch.rand(10, 64), "shape"), (torch.full((10, 1, 8, 8), float("nan")), "NaN")],
)
def test_bad_training_data(data, message):
    with pytest.raises(ValueError, match=message):
        train_gan(data, GANConfig(num_steps=1), progress=False)


def test_sample_is_seeded_and_checks_n():
    generator = Generator(GANConfig(hidden=8))
    assert torch.equal(sample(generator, 10, seed=4), sample(generator, 10, seed=4))
    with pytest.raises(ValueError, match="positive integer"):
        sample(generator, 0)


def test_jacobian_norms_match_autograd():
    generator = Generator(GANConfig(hidden=8, latent_dim=3, out_shape=(2,), output="linear"))
    z = torch.randn(5, 3)
    expected = [torch.autograd.functional.jacobian(lambda v: generator(v[None])[0], row).norm() for row in z]
    assert torch.allclose(jacobian_norms(generator, z, batch_size=2), torch.stack(expected), rtol=1e-5)
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        jacobian_norms(generator, torch.randn(5, 4))


def test_sample_with_jacobian_truncation_keeps_the_least_stretched():
    generator = Generator(GANConfig(hidden=8, latent_dim=3, out_shape=(2,), output="linear"))
    kept = sample(generator, 6, seed=2, reject=0.25)  # draws ceil(6 / 0.75) = 8 noise vectors
    z = torch.randn(8, 3, generator=torch.Generator().manual_seed(2))
    order = jacobian_norms(generator, z).argsort()
    with torch.no_grad():
        assert torch.allclose(kept, generator(z[order[:6].sort().values]))
        assert torch.allclose(sample(generator, 8, seed=2), generator(z))  # reject=0 keeps every draw
    for bad in (-0.1, 1.0, "0.3"):
        with pytest.raises(ValueError, match=r"reject must be a number in \[0, 1\)"):
            sample(generator, 6, reject=bad)


def test_checkpoint_round_trip(tmp_path):
    x_real, _ = load_digits("train")
    result = train_gan(x_real, GANConfig(num_steps=5, hidden=16, latent_dim=4), progress=False)
    path = save_gan(tmp_path / "gan.pt", result, info={"note": "test"})
    generator = load_generator(path, device=next(result.sampler.parameters()).device)  # same device, same noise
    assert torch.equal(sample(generator, 8, seed=1), sample(result.sampler, 8, seed=1))
    assert load_checkpoint(path, "gan")["info"] == {"note": "test"}
    assert [p.name for p in tmp_path.iterdir()] == ["gan.pt"]  # no temporary file left behind


def test_checkpoint_refusals(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "missing.pt", "gan")
    good = save_checkpoint(tmp_path / "ae.pt", "autoencoder", {}, {})
    with pytest.raises(CheckpointError, match="'autoencoder' checkpoint, not a 'gan'"):
        load_checkpoint(good, "gan")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(truncated, "gan")
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(2)}, foreign)
    with pytest.raises(CheckpointError, match="not a gaedu checkpoint"):
        load_checkpoint(foreign, "gan")
    text = tmp_path / "notes.pt"
    text.write_text("hello")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(text, "gan")
    with pytest.raises(CheckpointError, match="does not exist"):
        save_checkpoint(tmp_path / "no" / "such" / "x.pt", "gan", {}, {})


def test_unsafe_pickle_is_refused(tmp_path):
    class Payload:
        def __reduce__(self):
            return (print, ("this must never run",))

    evil = tmp_path / "evil.pt"
    torch.save({"format": "gaedu", "x": Payload()}, evil)
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(evil, "gan")


def test_checkpoint_with_a_bad_config_is_refused(tmp_path):
    path = save_checkpoint(tmp_path / "bad.pt", "gan", {"latent_dim": -3}, {"generator": {}})
    with pytest.raises(CheckpointError, match="does not describe a gaedu GAN"):
        load_generator(path)


def test_train_gan_plays_every_round_with_training_step(monkeypatch):
    import gaedu.gan as gan

    calls = []
    original = gan.training_step
    monkeypatch.setattr(gan, "training_step", lambda *args: calls.append(args[-1]) or original(*args))
    config = GANConfig(num_steps=3, hidden=8, latent_dim=4, batch_size=8)
    gan.train_gan(torch.rand(20, 1, 8, 8), config, device="cpu", progress=False)
    assert calls == [config] * 3
