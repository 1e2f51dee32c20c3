"""gaedu._validation: every check's accepted values, the plain types it returns, and its one-line refusals."""

import math

import numpy as np
import pytest
import torch

from gaedu._validation import (
    check_choice,
    check_fraction,
    check_images,
    check_int,
    check_nonnegative,
    check_number,
    check_positive,
)


def _images(n=3, shape=(1, 8, 8), seed=0):
    return torch.rand(n, *shape, generator=torch.Generator().manual_seed(seed))


# check_int


@pytest.mark.parametrize("value", [3, np.int64(3), np.int32(3), np.uint8(3)])
def test_check_int_accepts_python_and_numpy_integers_as_a_plain_int(value):
    result = check_int("steps", value)
    assert result == 3 and type(result) is int


def test_check_int_bounds_are_inclusive_and_can_be_opened():
    assert check_int("n", 1) == 1  # the default minimum is 1
    assert check_int("n", 0, minimum=0) == 0
    assert check_int("n", 5, minimum=0, maximum=5) == 5
    assert check_int("n", -(10**30), minimum=None) == -(10**30)
    assert check_int("n", 10**30, minimum=None, maximum=None) == 10**30


@pytest.mark.parametrize("value", [True, False, np.bool_(True), 3.0, np.float64(3.0), "3", None, [3], torch.tensor(3)])
def test_check_int_refuses_what_is_not_an_integer(value):
    with pytest.raises(ValueError, match=r"^num_steps must be an integer, got \w+") as info:
        check_int("num_steps", value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "value, kwargs, message",
    [
        (0, {}, r"^n must be an integer >= 1, got 0$"),
        (-1, {"minimum": 0}, r"^n must be an integer >= 0, got -1$"),
        (11, {"minimum": 0, "maximum": 10}, r"^n must be an integer from 0 to 10, got 11$"),
        (-1, {"minimum": 0, "maximum": 10}, r"^n must be an integer from 0 to 10, got -1$"),
        (6, {"minimum": None, "maximum": 5}, r"^n must be an integer <= 5, got 6$"),
        (np.int64(65), {"maximum": 64}, r"^n must be an integer from 1 to 64, got 65$"),
    ],
)
def test_check_int_refuses_numbers_out_of_bounds(value, kwargs, message):
    with pytest.raises(ValueError, match=message):
        check_int("n", value, **kwargs)


# check_number


@pytest.mark.parametrize(
    "value, expected",
    [(2, 2.0), (-0.5, -0.5), (np.float32(0.25), 0.25), (np.float64(1e-3), 1e-3), (np.int64(4), 4.0),
     (torch.tensor(0.5), 0.5), (torch.tensor(3), 3.0), (torch.tensor(0.5, dtype=torch.float64), 0.5)],
)  # fmt: skip
def test_check_number_accepts_reals_and_0d_tensors_as_a_plain_float(value, expected):
    result = check_number("lr", value)
    assert result == expected and type(result) is float


@pytest.mark.parametrize(
    "value",
    [True, False, np.bool_(False), math.nan, math.inf, -math.inf, np.float64("nan"), np.float32("inf"),
     torch.tensor(math.nan), torch.tensor(math.inf), torch.tensor(True), "0.1", None, 1 + 2j, [0.1]],
)  # fmt: skip
def test_check_number_refuses_bools_non_finite_values_and_non_numbers(value):
    with pytest.raises(ValueError, match=r"^lr must be a finite number, got ") as info:
        check_number("lr", value)
    assert "\n" not in str(info.value)


def test_check_number_closed_bounds_accept_the_bound():
    assert check_number("x", 0, low=0) == 0.0
    assert check_number("x", 1, high=1) == 1.0
    assert check_number("x", 0.5, low=0, high=1, low_open=True, high_open=True) == 0.5


@pytest.mark.parametrize(
    "value, kwargs, message",
    [
        (-0.1, {"low": 0}, r"^x must be a finite number >= 0, got -0\.1$"),
        (0, {"low": 0, "low_open": True}, r"^x must be a finite number > 0, got 0$"),
        (1.5, {"high": 1}, r"^x must be a finite number <= 1, got 1\.5$"),
        (1, {"high": 1, "high_open": True}, r"^x must be a finite number < 1, got 1$"),
        (2, {"low": 0, "high": 1}, r"^x must be a finite number >= 0 and <= 1, got 2$"),
        (
            0,
            {"low": 0, "high": 1, "low_open": True, "high_open": True},
            r"^x must be a finite number > 0 and < 1, got 0$",
        ),
        (
            1,
            {"low": 0, "high": 1, "low_open": True, "high_open": True},
            r"^x must be a finite number > 0 and < 1, got 1$",
        ),
    ],
)
def test_check_number_refuses_values_outside_open_and_closed_bounds(value, kwargs, message):
    with pytest.raises(ValueError, match=message):
        check_number("x", value, **kwargs)


# the shorthands


def test_check_positive():
    assert check_positive("lr", 1e-12) == 1e-12
    for bad in (0, 0.0, -1e-12):
        with pytest.raises(ValueError, match=r"^lr must be a finite number > 0, got"):
            check_positive("lr", bad)
    with pytest.raises(ValueError, match="lr must be a finite number, got bool"):
        check_positive("lr", True)


def test_check_nonnegative():
    assert check_nonnegative("r1", 0) == 0.0 and check_nonnegative("r1", np.float32(2.5)) == 2.5
    with pytest.raises(ValueError, match=r"^r1 must be a finite number >= 0, got -1e-06$"):
        check_nonnegative("r1", -1e-6)
    with pytest.raises(ValueError, match="r1 must be a finite number, got float inf"):
        check_nonnegative("r1", math.inf)


def test_check_fraction_is_half_open_by_default_and_closed_on_request():
    assert check_fraction("ema", 0) == 0.0 and check_fraction("ema", 0.999) == 0.999
    with pytest.raises(ValueError, match=r"^ema must be a finite number >= 0 and < 1, got 1$"):
        check_fraction("ema", 1.0)
    assert check_fraction("p", 1.0, high_open=False) == 1.0
    for bad in (-0.01, 1.01):
        with pytest.raises(ValueError, match=r"^p must be a finite number >= 0 and <= 1, got"):
            check_fraction("p", bad, high_open=False)


def test_check_choice():
    assert check_choice("loss", "l1", ("l1", "l2")) == "l1"
    for bad in ("L1", "", None, 1, ["l1"]):
        with pytest.raises(ValueError, match=r"^loss must be one of 'l1', 'l2', got "):
            check_choice("loss", bad, ("l1", "l2"))


# check_images


def test_check_images_returns_the_very_tensor():
    images = _images()
    assert check_images(images) is images
    assert check_images(images.double(), shape=(1, 8, 8)) is not None
    assert check_images(torch.zeros(1, 3, 2, 2), shape=(3, 2, 2)).shape == (1, 3, 2, 2)
    edges = torch.tensor([0.0, 1.0]).reshape(1, 1, 1, 2)  # the ends of [0, 1] belong to it
    assert check_images(edges) is edges
    wide = 5 * _images() - 2
    assert check_images(wide, range01=False) is wide


@pytest.mark.parametrize("bad", [np.zeros((2, 1, 8, 8), dtype=np.float32), [[0.5]], None])
def test_check_images_refuses_non_tensors(bad):
    with pytest.raises(ValueError, match=r"^x_real must be a torch.Tensor, got \w+$"):
        check_images(bad, "x_real")


@pytest.mark.parametrize(
    "bad, kwargs, message",
    [
        (
            torch.rand(8, 8, generator=torch.Generator().manual_seed(1)),
            {},
            r"shape \(N, C, H, W\) with N >= 1, got \(8, 8\)$",
        ),
        (
            torch.rand(2, 64, generator=torch.Generator().manual_seed(1)),
            {"shape": (1, 8, 8)},
            r"shape \(N, 1, 8, 8\) with N >= 1, got \(2, 64\)$",
        ),
        (torch.zeros(1, 1, 1, 8, 8), {}, r"shape \(N, C, H, W\) with N >= 1, got \(1, 1, 1, 8, 8\)$"),
        (torch.zeros(0, 1, 8, 8), {}, r"shape \(N, C, H, W\) with N >= 1, got \(0, 1, 8, 8\)$"),
        (torch.zeros(0, 1, 8, 8), {"shape": (1, 8, 8)}, r"shape \(N, 1, 8, 8\) with N >= 1, got \(0, 1, 8, 8\)$"),
        (torch.zeros(2, 1, 7, 8), {"shape": (1, 8, 8)}, r"shape \(N, 1, 8, 8\) with N >= 1, got \(2, 1, 7, 8\)$"),
        (torch.zeros(2, 3, 8, 8), {"shape": (1, 8, 8)}, r"shape \(N, 1, 8, 8\) with N >= 1, got \(2, 3, 8, 8\)$"),
    ],
)
def test_check_images_refuses_wrong_shapes(bad, kwargs, message):
    with pytest.raises(ValueError, match="^images must have " + message):
        check_images(bad, **kwargs)


@pytest.mark.parametrize("dtype", [torch.uint8, torch.int64, torch.bool])
def test_check_images_refuses_integer_dtypes(dtype):
    with pytest.raises(ValueError, match=rf"^images must be floating point, got {dtype}$"):
        check_images(torch.zeros(2, 1, 8, 8, dtype=dtype))


@pytest.mark.parametrize("bad_value", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("range01", [True, False])
def test_check_images_refuses_non_finite_values_whatever_the_range(bad_value, range01):
    images = _images()
    images[1, 0, 3, 4] = bad_value
    with pytest.raises(ValueError, match="^x: NaN or infinite values are not allowed$"):
        check_images(images, "x", range01=range01)


@pytest.mark.parametrize("low, high, text", [(-0.5, 0.5, "from -0.5 to 0.5"), (0.25, 1.75, "from 0.25 to 1.75")])
def test_check_images_refuses_values_outside_0_1_only_with_range01(low, high, text):
    images = torch.full((4, 1, 8, 8), 0.3)
    images[0, 0, 0, 0], images[3, 0, 7, 7] = low, high
    with pytest.raises(ValueError, match=rf"^images must lie in \[0, 1\], got values {text}$"):
        check_images(images)
    assert check_images(images, range01=False) is images


def test_every_config_stores_plain_python_values_so_its_cache_key_does_not_depend_on_how_it_was_written():
    import numpy as np

    from gaedu.autoencoder import AEConfig
    from gaedu.gan import GANConfig
    from gaedu.restoration import DenoiserConfig
    from gaedu.score import ScoreConfig

    for make, field, value in [(GANConfig, "hidden", np.int64(32)), (AEConfig, "latent_dim", np.int32(4)),
                               (ScoreConfig, "width", np.int16(64)), (DenoiserConfig, "channels", np.int64(8))]:  # fmt: skip
        config = make(**{field: value})
        assert type(getattr(config, field)) is int and config.to_dict() == make(**{field: int(value)}).to_dict()
    assert ScoreConfig(lr=np.float32(0.5)).lr == 0.5 and type(ScoreConfig(lr=np.float32(0.5)).lr) is float
    assert GANConfig(out_shape=[2]).out_shape == (2,) and DenoiserConfig(photos=["coffee"]).photos == ("coffee",)


def test_sizes_are_checked_with_one_line_errors():
    from gaedu._validation import check_sizes

    assert check_sizes("shape", [1, 8, 8], length=3) == (1, 8, 8)
    for value, match in [((), "non-empty"), ((1, 8), "3 sizes"), ((1, 0, 8), "integer >= 1"), ("18", "non-empty")]:
        with pytest.raises(ValueError, match=match):
            check_sizes("shape", value, length=3 if match == "3 sizes" else None)
