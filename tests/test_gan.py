"""gaedu.gan: shapes, objectives, the training step, a short training run, sampling."""

import copy
import dataclasses
import math

import pytest
import torch

from gaedu.data import load_digits, ring_of_gaussians
from gaedu.gan import (
    Discriminator,
    GANConfig,
    Generator,
    discriminator_objective,
    generator_objective,
    noise,
    sample,
    train_gan,
    training_step,
    value,
    value_from_logits,
)


def _linear_discriminator(pack: int, generator: torch.Generator) -> Discriminator:
    """A discriminator whose logit is f(x) = w·x + b over a pack: its input gradient is w, whatever x."""
    discriminator = Discriminator(GANConfig(hidden=8, pack=pack, batch_size=8))
    discriminator.net = torch.nn.Linear(pack * 64, 1)
    with torch.no_grad():
        discriminator.net.weight.copy_(torch.randn(1, pack * 64, generator=generator))
    return discriminator


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


@pytest.mark.parametrize("pack", [1, 2, 4])
def test_r1_penalty_is_the_squared_gradient_norm_per_pack(pack):
    """For f(x) = w·x + b every pack's input gradient is w, so the penalty is exactly (γ/2)‖w‖², for any pack."""
    generator = torch.Generator().manual_seed(pack)
    discriminator = _linear_discriminator(pack, generator)
    x_real, x_fake = torch.rand(8, 1, 8, 8, generator=generator), torch.rand(8, 1, 8, 8, generator=generator)
    w_squared = discriminator.net.weight.detach().pow(2).sum().item()
    plain = discriminator_objective(discriminator, x_real, x_fake, r1=0.0).item()
    penalized = discriminator_objective(discriminator, x_real, x_fake, r1=2.0).item()
    assert penalized == pytest.approx(plain - w_squared, rel=1e-5)


def test_packs_never_mix_real_and_fake_samples():
    generator = torch.Generator().manual_seed(0)
    discriminator = _linear_discriminator(2, generator)
    x_real, x_fake = torch.rand(4, 1, 8, 8, generator=generator), torch.rand(6, 1, 8, 8, generator=generator)
    w, b = discriminator.net.weight.detach().reshape(-1), discriminator.net.bias.detach()
    logits_real = x_real.reshape(2, 128) @ w + b  # two real packs
    logits_fake = x_fake.reshape(3, 128) @ w + b  # three fake packs
    expected = torch.nn.functional.logsigmoid(logits_real).mean() + torch.nn.functional.logsigmoid(-logits_fake).mean()
    assert value(discriminator, x_real, x_fake).item() == pytest.approx(expected.item(), rel=1e-5)
    assert discriminator(x_real).shape == (2,)
    with pytest.raises(ValueError, match="whole packs of 2"):
        value(discriminator, x_real[:3], x_fake[:3])
    with pytest.raises(ValueError, match="packs of 2"):
        discriminator(x_real[:3])


def test_value_from_logits_is_finite_for_confident_logits():
    # log σ(a) = −log(1 + e^{−a}): ≈ a for a ≪ 0, −log 2 at 0, ≈ 0 for a ≫ 0 (to far below float32's resolution here)
    logits_real, logits_fake = torch.tensor([-200.0, 0.0, 60.0]), torch.tensor([-90.0, 150.0])
    real = (-200.0 - math.log(2) + 0.0) / 3
    fake = (0.0 - 150.0) / 2  # log σ(−a) for a = −90 and a = 150
    assert value_from_logits(logits_real, logits_fake).item() == pytest.approx(real + fake, rel=1e-6)


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


def test_generator_objective_refuses_an_unknown_objective():
    discriminator = Discriminator(GANConfig(hidden=8))
    with pytest.raises(ValueError, match="objective must be one of 'non-saturating', 'saturating'"):
        generator_objective(discriminator, torch.rand(2, 1, 8, 8), "wasserstein")


def test_training_step_leaves_the_discriminator_with_its_own_gradient_only():
    """The generator's step must not add to the discriminator's weight gradients (nor need them)."""
    config = GANConfig(hidden=8, latent_dim=4, batch_size=8)
    generator, discriminator = Generator(config), Discriminator(config)
    twin_g, twin_d = copy.deepcopy(generator), copy.deepcopy(discriminator)
    data = torch.Generator().manual_seed(1)
    x_real, z = torch.rand(8, 1, 8, 8, generator=data), torch.randn(8, 4, generator=data)
    opt_d = torch.optim.Adam(discriminator.parameters(), maximize=True)
    opt_g = torch.optim.Adam(generator.parameters(), maximize=True)
    training_step(generator, discriminator, opt_d, opt_g, x_real, z, config)
    objective = discriminator_objective(twin_d, x_real, twin_g(z), config.r1)
    expected = torch.autograd.grad(objective, list(twin_d.parameters()))
    for p, g in zip(discriminator.parameters(), expected, strict=True):
        assert torch.allclose(p.grad, g, atol=1e-6)
        assert p.requires_grad  # frozen only during the generator's step


def test_config_is_immutable_and_accepts_numpy_integers():
    import numpy as np

    config = GANConfig(latent_dim=np.int64(8), batch_size=np.int32(64))
    assert config.latent_dim == 8 and type(config.batch_size) is int
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.lr_d = 1.0
    assert dataclasses.replace(config, lr_d=2e-3).lr_d == 2e-3


def test_training_draws_its_noise_on_the_cpu():
    """The fixed noise comes from a CPU generator, so a seed gives the same noise on every device."""
    x_real, _ = load_digits("train")
    result = train_gan(x_real, GANConfig(num_steps=0, hidden=8, latent_dim=4, seed=5), progress=False, device="cpu")
    assert torch.equal(result.fixed_z, torch.randn(64, 4, generator=torch.Generator().manual_seed(5)))
    source = torch.Generator().manual_seed(5)
    chunks = [torch.randn(n, 4, generator=source) for n in (3, 3, 3, 1)]  # batch_size rows at a time
    assert torch.equal(noise(10, 4, seed=5, batch_size=3), torch.cat(chunks))


def test_short_training_run_records_history_and_is_seeded():
    x_real, _ = load_digits("train")
    config = GANConfig(num_steps=60, hidden=32, batch_size=32, seed=3)
    first = train_gan(x_real, config, progress=False, snapshot_every=20)
    second = train_gan(x_real, config, progress=False)
    assert first.history["step"] == [50, 60] and len(first.history["value"]) == 2
    assert [step for step, _ in first.snapshots] == [20, 40, 60] and first.snapshots[0][1].shape == (64, 1, 8, 8)
    assert all(torch.equal(p, q) for p, q in zip(first.sampler.parameters(), second.sampler.parameters(), strict=True))
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
        (dict(pack=2, batch_size=7), "multiple of pack"),
        (dict(depth=True), "depth"),
        (dict(seed=-1), "seed"),
    ],
)
def test_bad_config(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GANConfig(**kwargs)


@pytest.mark.parametrize(
    "data, message",
    [(torch.rand(10, 64), "shape"), (torch.full((10, 1, 8, 8), float("nan")), "NaN"), ([[0.5]], "torch.Tensor")],
)
def test_bad_training_data(data, message):
    with pytest.raises(ValueError, match=message):
        train_gan(data, GANConfig(num_steps=1), progress=False)


@pytest.mark.parametrize("kwargs, message", [({"eval_every": -1}, "eval_every"), ({"snapshot_every": 1.5}, "snapshot_every")])
def test_bad_training_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        train_gan(torch.rand(10, 1, 8, 8), GANConfig(num_steps=1), progress=False, **kwargs)


@pytest.mark.parametrize("kwargs, message", [({"n": 0}, "n must be"), ({"n": 2, "batch_size": 0}, "batch_size"),
                                             ({"n": 2, "seed": -1}, "seed"), ({"n": True}, "n must be")])
def test_sample_is_seeded_and_checks_its_arguments(kwargs, message):
    generator = Generator(GANConfig(hidden=8))
    assert torch.equal(sample(generator, 10, seed=4), sample(generator, 10, seed=4))
    with pytest.raises(ValueError, match=message):
        sample(generator, **kwargs)
