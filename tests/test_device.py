"""gaedu.device: device choice and seeding."""

import random

import numpy as np
import pytest
import torch

from gaedu.device import ENV_VAR, available_devices, get_device, set_seed


@pytest.fixture(autouse=True)
def _no_env_override(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)


def test_default_is_best_available():
    expected = "cuda" if torch.cuda.is_available() else "mps" if "mps" in available_devices() else "cpu"
    assert get_device().type == expected


def test_cpu_always_available():
    assert get_device("cpu") == torch.device("cpu")
    assert "cpu" in available_devices()
    assert get_device(torch.device("cpu")) == torch.device("cpu")


def test_env_var_overrides_automatic_choice(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "cpu")
    assert get_device() == torch.device("cpu")


def test_explicit_argument_beats_env_var(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "bogus")
    assert get_device("cpu") == torch.device("cpu")


def test_empty_env_var_means_unset(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "  ")
    assert get_device() == get_device(None)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_unavailable_cuda_raises_and_lists_available():
    with pytest.raises(ValueError, match=r"'cuda'.*not available.*available here: cpu"):
        get_device("cuda")


def test_cuda_index_beyond_count_raises():
    with pytest.raises(ValueError, match=r"cuda:99"):
        get_device("cuda:99")


@pytest.mark.skipif("mps" in available_devices(), reason="needs a machine without MPS")
def test_unavailable_mps_raises():
    with pytest.raises(ValueError, match=r"'mps'.*available"):
        get_device("mps")


def test_bogus_name_raises():
    with pytest.raises(ValueError, match=r"'bogus'.*not a device name.*available here: cpu"):
        get_device("bogus")


def test_unsupported_type_raises():
    with pytest.raises(ValueError, match=r"'meta'.*cpu, cuda or mps"):
        get_device("meta")


def test_bogus_env_var_raises_naming_the_variable(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "bogus")
    with pytest.raises(ValueError, match=rf"{ENV_VAR}.*'bogus'"):
        get_device()


def test_error_is_one_line():
    with pytest.raises(ValueError) as info:
        get_device("bogus")
    assert "\n" not in str(info.value)


def test_set_seed_repeats_every_generator():
    def draw():
        return random.random(), np.random.rand(), torch.rand(3)

    set_seed(123)
    first = draw()
    set_seed(123)
    second = draw()
    assert first[0] == second[0] and first[1] == second[1]
    assert torch.equal(first[2], second[2])
    set_seed(124)
    assert not torch.equal(first[2], draw()[2])


@pytest.mark.parametrize("seed", [-1, 2**32])
def test_set_seed_range(seed):
    with pytest.raises(ValueError, match="between 0 and"):
        set_seed(seed)


@pytest.mark.parametrize("seed", [1.5, "0", None, True])
def test_set_seed_type(seed):
    with pytest.raises(TypeError, match="integer seed"):
        set_seed(seed)


