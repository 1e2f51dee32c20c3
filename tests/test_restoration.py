"""Photographs, degradation operators, TV-MAP, Deep Image Prior, the learned prior and the model cache."""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys

import numpy as np
import pytest
import scipy.ndimage as ndi
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity
from skimage.restoration import denoise_tv_chambolle

from gaedu import cache
from gaedu.data import PHOTOS, load_photo, photo_side
from gaedu.metrics import psnr, ssim
from gaedu.restoration import (
    TASKS,
    Blur,
    Identity,
    Linear,
    Mask,
    Problem,
    baseline,
    choose_weight,
    degrade,
    gaussian_kernel,
    image_psnr,
    learned_prior,
    random_mask,
    red,
    red_gradient,
    red_step_size,
    restore,
    sure,
    tv,
    tv_map,
    tv_objective,
    tv_subgradient_ascent,
)
from gaedu.restoration.denoiser import (
    TEST_PHOTOS,
    TRAIN_PHOTOS,
    Denoiser,
    DenoiserConfig,
    denoise,
    learned_score,
    load_denoiser,
    train_denoiser,
)
from gaedu.restoration.dip import deep_image_prior


@pytest.fixture(scope="module")
def camera():
    return load_photo("camera").double()


# ---------------------------------------------------------------------------- photographs


def test_every_offered_photograph_ships_in_a_wheel_and_loads_with_the_network_blocked():
    code = """
import sys
def refuse(event, args):  # every connection and every name lookup fails
    if event in ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "urllib.Request"):
        raise OSError(f"network blocked by the test: {event}")
sys.addaudithook(refuse)
from gaedu.data import PHOTOS, load_photo, photo_side
for name in PHOTOS:
    image = load_photo(name, 64)
    assert image.shape == (64, 64), name
print(len(PHOTOS))
import urllib.request
try:
    urllib.request.urlopen("http://example.com", timeout=1)
except OSError:
    pass
else:
    raise SystemExit("the network was not blocked")
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == len(PHOTOS) >= 10


def test_every_photograph_has_a_licence_and_the_splits_are_disjoint():
    assert all(licence for _, _, licence in PHOTOS.values())
    assert set(TEST_PHOTOS).isdisjoint(TRAIN_PHOTOS)
    assert set(TEST_PHOTOS) | set(TRAIN_PHOTOS) == set(PHOTOS)


def test_load_photo_shapes_range_and_colour():
    gray = load_photo("astronaut", 96)
    colour = load_photo("astronaut", 96, gray=False)
    assert gray.shape == (96, 96) and gray.dtype == torch.float32
    assert colour.shape == (3, 96, 96)
    assert 0 <= gray.min() and gray.max() <= 1 and gray.std() > 0.1
    # luminance of the colour version (ITU-R 709 weights) is the grayscale version
    luminance = 0.2125 * colour[0] + 0.7154 * colour[1] + 0.0721 * colour[2]
    assert torch.allclose(luminance, gray, atol=0.02)
    assert load_photo("camera", gray=False).shape == (3, 128, 128)  # a gray original, repeated


@pytest.mark.parametrize("name, size, match", [("lena", 128, "unknown photograph"), ("camera", 4, "size"),
                                               ("camera", 600, "size"), ("camera", 12.5, "size")])  # fmt: skip
def test_load_photo_refuses_bad_arguments(name, size, match):
    with pytest.raises(ValueError, match=match):
        load_photo(name, size)


def test_photo_side_is_the_largest_size_accepted():
    assert photo_side("coins") == 303  # skimage's coins is 303 × 384
    assert load_photo("coins", 303).shape == (303, 303)
    with pytest.raises(ValueError, match="unknown photograph"):
        photo_side("lena")


# ---------------------------------------------------------------------------- operators


def _operators(shape):
    return [Identity(), Mask(random_mask(shape, 0.5, seed=3)), Blur(1.5), Blur(0.7, radius=4)]


@pytest.mark.parametrize("shape", [(32, 32), (17, 40)])
@pytest.mark.parametrize("k", range(4))
def test_each_adjoint_is_the_adjoint(shape, k):
    operator = _operators(shape)[k]
    g = torch.Generator().manual_seed(k)
    x = torch.randn(3, *shape, generator=g, dtype=torch.float64)
    y = torch.randn(3, *shape, generator=g, dtype=torch.float64)
    lhs = (operator(x) * y).sum()
    rhs = (x * operator.adjoint(y)).sum()
    assert torch.isclose(lhs, rhs, rtol=1e-12, atol=1e-10)
    # and the adjoint is the one autograd finds: the gradient of <Ax, y> in x
    x.requires_grad_(True)
    (operator(x) * y).sum().backward()
    torch.testing.assert_close(x.grad, operator.adjoint(y))


@pytest.mark.parametrize("shape, factor", [((32, 32), 2), ((18, 42), 3), ((16, 24), 4)])
def test_downsample_is_the_block_mean_and_its_adjoint_projection_and_bound_are_right(shape, factor):
    from gaedu.restoration import Downsample

    operator = Downsample(factor)
    g = torch.Generator().manual_seed(factor)
    x = torch.randn(2, *shape, generator=g, dtype=torch.float64)
    small = (shape[0] // factor, shape[1] // factor)
    y = torch.randn(2, *small, generator=g, dtype=torch.float64)
    np.testing.assert_allclose(
        operator(x).numpy(), x.numpy().reshape(2, small[0], factor, small[1], factor).mean(axis=(2, 4))
    )
    assert torch.isclose((operator(x) * y).sum(), (x * operator.adjoint(y)).sum(), rtol=1e-12)
    x.requires_grad_(True)
    (operator(x) * y).sum().backward()
    torch.testing.assert_close(x.grad, operator.adjoint(y))
    x = x.detach()
    torch.testing.assert_close(operator(operator.project(x, y)), y)  # the projection fits the block means exactly
    moved = operator.project(x, y) - x  # ... by the smallest move: constant on each block
    torch.testing.assert_close(moved, operator.estimate(operator(moved)))
    problem = Problem("zoom", y[0], Linear(operator.forward, operator.adjoint), 0.01)  # the power iteration agrees
    assert problem.normal_bound() == pytest.approx(operator.normal_bound(), rel=0.02)
    with pytest.raises(ValueError, match="multiples of the factor"):
        operator(torch.ones(shape[0] + 1, shape[1]))
    with pytest.raises(ValueError, match="factor"):
        Downsample(1)


def test_blur_is_scipys_gaussian_filter_with_mirrored_edges():
    x = torch.rand(40, 33, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    for std in (0.8, 1.5, 2.5):
        reference = ndi.gaussian_filter(x.numpy(), std, truncate=math.ceil(3 * std) / std, mode="reflect")
        np.testing.assert_allclose(Blur(std)(x).numpy(), reference, atol=1e-12)
    assert torch.isclose(gaussian_kernel(1.5).sum(), torch.tensor(1.0, dtype=torch.float64))
    assert torch.allclose(Blur(1.5)(torch.ones(20, 20)), torch.ones(20, 20))  # brightness is kept at the edges


def test_operator_errors():
    with pytest.raises(ValueError, match="bool"):
        Mask(torch.ones(4, 4))
    with pytest.raises(ValueError, match="no pixel"):
        Mask(torch.zeros(4, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="does not match"):
        Mask(torch.ones(4, 4, dtype=torch.bool))(torch.ones(5, 4))
    with pytest.raises(ValueError, match="std"):
        Blur(0)
    with pytest.raises(ValueError, match="radius"):
        Blur(3)(torch.ones(8, 8))


def test_degrade_is_seeded_and_has_the_stated_noise(camera):
    a, b = degrade(camera, "denoise", seed=4), degrade(camera, "denoise", seed=4)
    torch.testing.assert_close(a.observed, b.observed)
    assert not torch.equal(a.observed, degrade(camera, "denoise", seed=5).observed)
    assert abs((a.observed - camera).std().item() - 0.1) < 0.003
    inpaint = degrade(camera, "inpaint")
    assert abs(inpaint.operator.observed_fraction - 0.5) < 0.02
    assert torch.equal(inpaint.observed[~inpaint.mask], torch.zeros(int((~inpaint.mask).sum()), dtype=torch.float64))
    torch.testing.assert_close(inpaint.observed[inpaint.mask], camera[inpaint.mask])  # noise-free by default
    deblur = degrade(camera, "deblur", blur_std=2.0, noise_std=0.02)
    assert isinstance(deblur.operator, Blur) and deblur.operator.std == 2.0 and deblur.noise_std == 0.02
    zoom = degrade(camera, "super-resolution", factor=4)
    assert zoom.observed.shape == (32, 32) and zoom.start().shape == camera.shape and zoom.noise_std == 0.01
    assert abs((zoom.observed - zoom.operator(camera)).std().item() - 0.01) < 0.002


@pytest.mark.parametrize("kwargs, match", [
    ({"task": "sharpen"}, "task"), ({"task": "denoise", "noise_std": -0.1}, "noise_std"),
    ({"task": "denoise", "blur_std": 1.0}, "does not apply"), ({"task": "inpaint", "missing": 1.0}, "missing"),
    ({"task": "denoise", "noise_std": 0.0}, "noise_std > 0"), ({"task": "denoise", "seed": -1}, "seed"),
    ({"task": "denoise", "factor": 2}, "does not apply"), ({"task": "super-resolution", "factor": 1}, "factor"),
    ({"task": "super-resolution", "factor": 3}, "multiples of the factor 3"),
])  # fmt: skip
def test_degrade_refuses_bad_settings(camera, kwargs, match):
    with pytest.raises(ValueError, match=match):
        degrade(camera, **kwargs)


@pytest.mark.parametrize("image, match", [(torch.ones(2, 8, 8), "2-D"), (torch.full((8, 8), math.nan), "NaN"),
                                          (np.ones((8, 8)), "torch.Tensor"), (torch.ones(8, 8, dtype=torch.int64), "floating")])  # fmt: skip
def test_degrade_refuses_bad_images(image, match):
    with pytest.raises(ValueError, match=match):
        degrade(image, "denoise")


# ---------------------------------------------------------------------------- total variation


def test_tv_of_a_step_edge_is_its_length_times_its_height():
    x = torch.zeros(10, 12, dtype=torch.float64)
    x[:, 7:] = 0.5
    assert tv(x).item() == pytest.approx(10 * 0.5)
    assert tv(x, eps=1e-9).item() == pytest.approx(5.0, rel=1e-6)  # smoothing vanishes as ε → 0
    assert tv(x.T).item() == pytest.approx(5.0)


def test_the_smoothed_tv_gradient_is_autograds(camera):
    from gaedu.restoration import tv_gradient

    x = camera[:20, :20].clone().requires_grad_(True)
    tv(x, 0.01).backward()
    torch.testing.assert_close(tv_gradient(x.detach(), 0.01, exact=False), x.grad)


def test_tv_map_reaches_the_optimum_of_scikit_images_chambolle(camera):
    problem = degrade(camera, "denoise")
    weight = 0.08
    reference = torch.from_numpy(denoise_tv_chambolle(problem.observed.numpy(), weight=weight, eps=1e-9, max_num_iter=5000))
    ours = tv_map(problem, weight, eps=3e-4, num_steps=5000, tol=1e-10)
    j_ref, j_ours = tv_objective(problem, reference, weight), tv_objective(problem, ours.image, weight)
    assert abs(j_ours - j_ref) <= 1e-3 * abs(j_ref)
    assert abs(image_psnr(ours.image, camera) - image_psnr(reference, camera)) <= 0.05
    # the smoothed objective never falls (the restart keeps it monotone)
    assert all(b >= a - 1e-9 for a, b in zip(ours.values, ours.values[1:], strict=False))


def test_subgradient_ascent_approaches_the_same_optimum(camera):
    problem = degrade(camera[:64, :64], "denoise")
    weight = 0.08
    reference = torch.from_numpy(denoise_tv_chambolle(problem.observed.numpy(), weight=weight, eps=1e-9, max_num_iter=5000))
    j_ref = tv_objective(problem, reference, weight)
    result = tv_subgradient_ascent(problem, weight, num_steps=400, step0=0.05)
    assert result.values[0] < result.values[-1] <= j_ref + 1e-9
    assert abs(result.values[-1] - j_ref) <= 0.01 * abs(j_ref)


def test_sure_estimates_the_squared_error_and_chooses_a_weight_near_the_oracle(camera):
    problem = degrade(camera, "denoise")

    def restore_(y, w):
        return tv_map(Problem("denoise", y, Identity(), 0.1), w, num_steps=300, tol=0, restart=False).image

    weights = [0.03, 0.06, 0.1, 0.2]
    errors = [(restore_(problem.observed, w).double() - camera).pow(2).sum().item() for w in weights]
    for w, error in zip(weights, errors, strict=True):
        # one noise realization and one probe: SURE's own spread is a few units of squared error here
        assert sure(problem, lambda y, w=w: restore_(y, w)) == pytest.approx(error, rel=0.25)
    chosen, scores = choose_weight(problem, restore_, weights)
    assert scores.shape == (4,) and errors[weights.index(chosen)] <= 1.1 * min(errors)  # within 0.4 dB of the oracle
    assert chosen not in (weights[0], weights[-1])  # the grid's ends are far worse here, and SURE sees it
    # a probe drawn with the noise's own seed is the noise itself: the estimate is then far off
    assert sure(problem, lambda y: restore_(y, 0.1), seed=0) > 1.5 * errors[2]


def test_choose_weight_refuses_what_it_cannot_do(camera):
    problem = degrade(camera, "denoise")
    with pytest.raises(ValueError, match="weights"):
        choose_weight(problem, lambda y, w: y, [])
    with pytest.raises(ValueError, match="weights"):
        choose_weight(problem, lambda y, w: y, [0.1, -1])
    with pytest.raises(ValueError, match="rule"):
        choose_weight(problem, lambda y, w: y, [0.1], rule="oracle")
    with pytest.raises(ValueError, match="noise_std > 0"):
        choose_weight(degrade(camera, "inpaint"), lambda y, w: y, [0.1])
    with pytest.raises(ValueError, match="denoising"):
        sure(degrade(camera, "deblur"), lambda y: y)


def test_tv_restore_beats_the_observation_on_every_task(camera):
    for task in TASKS:
        problem = degrade(camera, task)
        start = problem.start() if task != "inpaint" else baseline(problem, "biharmonic").image.double()
        result = restore(problem, "tv")
        assert image_psnr(result.image, camera) > image_psnr(start, camera) - (1.5 if task == "inpaint" else -2.0)
        assert 0 <= result.image.min() and result.image.max() <= 1


def test_tv_methods_refuse_bad_arguments(camera):
    problem = degrade(camera[:16, :16], "denoise")
    for kwargs, match in [({"weight": 0}, "weight"), ({"weight": 0.1, "eps": 0}, "eps"), ({"weight": 0.1, "num_steps": 0}, "num_steps"),
                          ({"weight": 0.1, "clean": torch.ones(3, 3)}, "clean")]:  # fmt: skip
        with pytest.raises(ValueError, match=match):
            tv_map(problem, **kwargs)
    with pytest.raises(ValueError, match="Problem"):
        tv_map(problem.observed, 0.1)
    with pytest.raises(ValueError, match="method"):
        restore(problem, "bm3d")


# ---------------------------------------------------------------------------- metrics on a photograph


def test_psnr_and_ssim_agree_with_scikit_image_on_a_photograph(camera):
    noisy = degrade(camera, "denoise").observed.clamp(0, 1)
    x, y = camera[None, None], noisy[None, None]
    assert psnr(x, y).item() == pytest.approx(peak_signal_noise_ratio(camera.numpy(), noisy.numpy(), data_range=1), abs=1e-9)
    assert ssim(x, y).item() == pytest.approx(structural_similarity(camera.numpy(), noisy.numpy(), data_range=1), abs=1e-9)


def test_every_baseline_runs_and_respects_its_task(camera):
    from gaedu.restoration import BASELINES

    for task, names in BASELINES.items():
        problem = degrade(camera[:48, :48], task)
        for name in names:
            image = baseline(problem, name, weight=0.1).image
            assert image.shape == (48, 48) and 0 <= image.min() and image.max() <= 1
        with pytest.raises(ValueError, match="baseline"):
            baseline(problem, "bm3d")
    with pytest.raises(ValueError, match="weight"):
        baseline(degrade(camera, "denoise"), "tv-chambolle")


# ---------------------------------------------------------------------------- the learned prior


@pytest.fixture(scope="module")
def small_denoiser():
    config = DenoiserConfig(channels=12, depth=4, num_steps=150, batch_size=16, patch=32, lr=3e-3, sizes=(128,),
                            photos=("coffee", "rocket", "china", "flower"))  # fmt: skip
    return train_denoiser(config, device="cpu", progress=False)


def test_the_denoiser_learns(small_denoiser, camera):
    values = small_denoiser.values
    noise_mse = small_denoiser.config.sigma_max**2 / 3  # the noisy input's own error, σ uniform in [0, σ_max]
    assert values[-1] < 0.4 * noise_mse and values[-1] < values[0]
    problem = degrade(camera, "denoise")
    restored = denoise(small_denoiser.model, problem.observed, 0.1)
    assert restored.shape == camera.shape and restored.dtype == camera.dtype
    assert image_psnr(restored, camera) > image_psnr(problem.observed, camera) + 4


def test_tweedie_the_denoiser_is_one_ascent_step_on_the_learned_log_density(small_denoiser, camera):
    model, y, sigma = small_denoiser.model, degrade(camera, "denoise").observed, 0.1
    torch.testing.assert_close(y + sigma**2 * learned_score(model, y, sigma), denoise(model, y, sigma))
    with pytest.raises(ValueError, match="sigma"):
        learned_score(model, y, 0.0)
    with pytest.raises(ValueError, match="NaN"):
        denoise(model, torch.full((8, 8), math.nan), 0.1)


def test_the_learned_prior_restores_every_task(small_denoiser, camera):
    model = small_denoiser.model
    for task in TASKS:
        problem = degrade(camera, task)
        result = learned_prior(problem, model, clean=camera)
        reference = problem.start() if task != "inpaint" else baseline(problem, "biharmonic").image.double()
        margin = {"denoise": 4.0, "inpaint": -2.0, "deblur": 0.5, "super-resolution": 0.5}[task]
        assert image_psnr(result.image, camera) > image_psnr(reference, camera) + margin, task
        assert result.psnrs and len(result.psnrs) == len(result.recorded_steps)
        if task == "inpaint":  # observed pixels are kept exactly
            torch.testing.assert_close(result.image.double()[problem.mask], problem.observed[problem.mask].clamp(0, 1))


def test_red_climbs_the_data_term_plus_the_learned_score_on_every_task(small_denoiser, camera):
    model = small_denoiser.model
    for task in TASKS:
        problem = degrade(camera, task)
        result = red(problem, model, clean=camera)
        assert image_psnr(result.image, camera) > image_psnr(problem.start(), camera) + 0.5, task
        assert len(result.psnrs) == result.info["num_steps"] == len(result.info["step_norms"])
        if task == "inpaint":  # exact data: the observed pixels are kept by projection
            torch.testing.assert_close(result.image.double()[problem.mask], problem.observed[problem.mask].clamp(0, 1))


def test_reds_direction_is_the_log_posteriors_gradient_with_tweedies_score(small_denoiser, camera):
    model = small_denoiser.model
    problem = degrade(camera[:32, :32], "deblur")
    x = problem.start()
    direction = red_gradient(problem, model, x, 0.02)
    data = problem.operator.adjoint(problem.observed.double() - problem.operator(x)) / problem.noise_std**2
    torch.testing.assert_close(direction - data, learned_score(model, x, 0.02).double(), rtol=1e-5, atol=1e-3)
    assert red_step_size(problem, 0.02) == pytest.approx(1 / (problem.normal_bound() / 0.01**2 + 1 / 0.02**2))
    assert restore(problem, "red", model=model).image.shape == problem.observed.shape


def test_red_refuses_bad_settings(small_denoiser, camera):
    problem = degrade(camera[:32, :32], "denoise")
    for kwargs, match in [({"sigma": 0}, "sigma"), ({"sigma": math.nan}, "sigma"), ({"num_steps": 0}, "num_steps")]:
        with pytest.raises(ValueError, match=match):
            red(problem, small_denoiser.model, **kwargs)
    with pytest.raises(ValueError, match="problem must be"):
        red(camera, small_denoiser.model)


def test_denoiser_config_refuses_bad_settings():
    for kwargs, match in [({"channels": 0}, "channels"), ({"photos": ("lena",)}, "unknown"), ({"photos": ()}, "photos"),
                          ({"sizes": (16,)}, "size"), ({"lr": -1.0}, "lr")]:  # fmt: skip
        with pytest.raises(ValueError, match=match):
            DenoiserConfig(**kwargs)
    assert DenoiserConfig.from_dict(DenoiserConfig().to_dict()) == DenoiserConfig()


# ---------------------------------------------------------------------------- Deep Image Prior


def test_dip_fits_and_the_discrepancy_rule_stops_it(camera):
    clean = camera[:32, :32]
    problem = degrade(clean, "denoise", noise_std=0.1)
    result = deep_image_prior(problem, num_steps=400, lr=0.02, channels=8, clean=clean, device="cpu", record_every=5)
    assert result.info["stopped"] is not None and result.info["steps_taken"] == result.info["stopped"] < 400
    assert result.values[-1] >= -0.1**2 - 1e-9 and result.values[0] < result.values[-1]
    assert len(result.psnrs) == len(result.values)
    assert image_psnr(result.image, clean) > image_psnr(problem.observed, clean)
    again = deep_image_prior(problem, num_steps=20, channels=8, device="cpu", stop="none")
    assert again.info["steps_taken"] == 20 and again.info["stopped"] is None


def test_dip_refuses_bad_input(camera):
    problem = degrade(camera[:40, :40], "denoise")
    with pytest.raises(ValueError, match="multiples of 16"):
        deep_image_prior(problem, num_steps=1)
    good = degrade(camera[:32, :32], "denoise")
    for kwargs, match in [({"lr": 0}, "lr"), ({"stop": "oracle"}, "stop"), ({"average": 1.0}, "average"), ({"seed": -2}, "seed")]:
        with pytest.raises(ValueError, match=match):
            deep_image_prior(good, num_steps=1, **kwargs)


# ---------------------------------------------------------------------------- the model cache


def test_the_cache_trains_once_then_loads_and_replaces_a_corrupt_file(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GAEDU_CACHE_DIR", str(tmp_path / "cache"))
    calls = []

    def train():
        calls.append(1)
        return torch.nn.Linear(2, 2), {"seconds": 1.0}

    first, info = cache.cached("demo", {"a": 1}, train, lambda c: torch.nn.Linear(2, 2))
    second, _ = cache.cached("demo", {"a": 1}, train, lambda c: torch.nn.Linear(2, 2))
    assert len(calls) == 1 and info == {"seconds": 1.0}
    torch.testing.assert_close(first.weight, second.weight)
    cache.cached("demo", {"a": 2}, train, lambda c: torch.nn.Linear(2, 2))  # other settings: another model
    assert len(calls) == 2
    path = cache.cached_path("demo", {"a": 1})
    assert path.parent == tmp_path / "cache" and path.is_file()
    path.write_bytes(b"not a checkpoint")
    cache.cached("demo", {"a": 1}, train, lambda c: torch.nn.Linear(2, 2))
    assert len(calls) == 3 and "cannot be used" in capsys.readouterr().err
    assert cache.cached("demo", {"a": 1}, train, lambda c: torch.nn.Linear(2, 2))[0] is not None and len(calls) == 3


def test_the_cache_folder_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("GAEDU_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.cache_dir() == tmp_path / "gaedu"
    monkeypatch.setenv("GAEDU_CACHE_DIR", str(tmp_path / "x"))
    assert cache.cache_dir() == tmp_path / "x"


def test_load_denoiser_uses_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GAEDU_CACHE_DIR", str(tmp_path))
    config = DenoiserConfig(channels=4, depth=2, num_steps=3, batch_size=2, patch=16, sizes=(64,), photos=("coffee",))
    first = load_denoiser(config, progress=False)
    assert len(list(tmp_path.glob("denoiser-*.pt"))) == 1
    second = load_denoiser(config, progress=False)
    for a, b in zip(first.parameters(), second.parameters(), strict=True):
        torch.testing.assert_close(a, b)
    assert isinstance(second, Denoiser) and not second.training
    assert dataclasses.replace(config, seed=1) != config


# ----------------------------------------------------------------------------- a reader's operator


def _half(x):  # the exercise's downsampling: the mean of each 2×2 block
    return torch.nn.functional.avg_pool2d(x[None, None], 2)[0, 0]


def _half_adjoint(v):
    return v.repeat_interleave(2, -2).repeat_interleave(2, -1) / 4


def test_a_readers_operator_restores_through_problem(small_denoiser):
    from gaedu.restoration import Linear, adjoint_gap, tv_restore

    clean = load_photo("camera", 128).double()
    operator = Linear(_half, _half_adjoint, name="2×2 block mean")
    noise = torch.randn(64, 64, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    problem = Problem("super-resolution", operator(clean) + 0.01 * noise, operator, 0.01)
    assert adjoint_gap(operator, problem.observed) < 1e-14 and not problem.exact and not problem.projected
    start = problem.start()  # Aᵀy / Aᵀ1: each observed value copied over its block
    torch.testing.assert_close(start, problem.observed.repeat_interleave(2, 0).repeat_interleave(2, 1))
    assert 0.24 < problem.normal_bound() < 0.26  # ‖AᵀA‖ = 1/4, by power iteration
    tv_result = tv_restore(problem, clean=clean)
    prior_result = learned_prior(problem, small_denoiser.model, clean=clean)
    for result in (tv_result, prior_result):
        assert result.image.shape == (128, 128)
        assert image_psnr(result.image, clean) > image_psnr(start, clean) + 0.5
    assert tv_result.info["scores"] is not None  # the discrepancy principle chose the weight
    exact = Problem("super-resolution", operator(clean), operator, 0.0)  # exact data, no projection: fitted
    restored = tv_restore(exact).image.double()
    assert exact.exact and (operator(restored) - exact.observed).abs().max() < 0.02


def test_a_wrong_adjoint_or_a_foreign_operator_is_refused():
    from gaedu.restoration import Linear

    y = torch.rand(8, 8, dtype=torch.float64)
    with pytest.raises(ValueError, match="adjoint is not the adjoint of forward"):
        Problem("super-resolution", y, Linear(_half, lambda v: v.repeat_interleave(2, -2).repeat_interleave(2, -1)), 0.01)
    with pytest.raises(ValueError, match="maps an image of shape"):
        Problem("super-resolution", y, Linear(lambda x: x, _half_adjoint), 0.01)
    with pytest.raises(ValueError, match="wrap two functions in Linear"):
        Problem("super-resolution", y, _half, 0.01)
    with pytest.raises(ValueError, match="two functions"):
        Linear(_half, None)
    with pytest.raises(ValueError, match="task must be a name"):
        Problem("", y, Linear(_half, _half_adjoint), 0.01)
    with pytest.raises(ValueError, match="tasks denoise, inpaint, deblur, super-resolution, not 'zoom'"):
        baseline(Problem("zoom", y, Linear(_half, _half_adjoint), 0.01), "wiener")
    with pytest.raises(ValueError, match=r"needs the super-resolution task's own operator \(Downsample\)"):
        baseline(Problem("super-resolution", y, Linear(_half, _half_adjoint), 0.01), "bicubic")


def test_exact_inpainting_is_projected_and_keeps_the_observed_pixels(camera):
    problem = degrade(camera[:64, :64], "inpaint")
    assert problem.exact and problem.projected
    result = tv_map(problem, 1.0, eps=0.03, num_steps=50)
    torch.testing.assert_close(result.image[problem.mask], problem.observed[problem.mask].to(result.image.dtype))


def test_super_resolution_keeps_exact_block_means_and_bicubic_is_its_baseline(small_denoiser, camera):
    exact = degrade(0.1 + 0.8 * camera, "super-resolution", noise_std=0.0)  # away from 0 and 1: no pixel is clipped
    assert exact.exact and exact.projected
    for result in (learned_prior(exact, small_denoiser.model), red(exact, small_denoiser.model), restore(exact, "tv")):
        assert result.image.shape == camera.shape
        assert (exact.operator(result.image.double()) - exact.observed).abs().max() < 1e-6
    problem = degrade(camera, "super-resolution")
    bicubic = baseline(problem, "bicubic").image
    assert bicubic.shape == camera.shape
    assert image_psnr(bicubic, camera) > image_psnr(problem.start(), camera) + 0.5  # smoother than copied blocks


def test_the_library_deconvolutions_get_the_blurs_mirrored_boundary(camera):
    from skimage.restoration import richardson_lucy

    from gaedu.restoration import classical

    problem = degrade(camera, "deblur")
    kernel = problem.operator.kernel.numpy()
    unpadded = richardson_lucy(problem.observed.numpy().clip(0, 1), kernel, num_iter=classical.RL_ITERATIONS, clip=False)
    padded = baseline(problem, "richardson-lucy").image
    assert padded.shape == camera.shape
    assert image_psnr(padded, camera) > image_psnr(torch.from_numpy(unpadded), camera) + 1  # zeros beyond the edge cost
    for name in ("richardson-lucy", "wiener"):
        assert image_psnr(baseline(problem, name).image, camera) > image_psnr(problem.observed, camera) + 1, name


def test_tuning_scores_cover_the_grids_and_the_overrides_reach_the_library(camera):
    from gaedu.restoration import NLM_GRID, RL_GRID, tuning_scores

    scores = tuning_scores([camera[:64, :64]])
    assert list(scores["nl-means"]) == list(NLM_GRID) and list(scores["richardson-lucy"]) == list(RL_GRID)
    assert len(set(scores["richardson-lucy"].values())) == len(RL_GRID)  # each iteration count restores differently
    problem = degrade(camera[:64, :64], "denoise")
    assert not torch.equal(baseline(problem, "nl-means", h=0.4).image, baseline(problem, "nl-means", h=1.0).image)
    with pytest.raises(ValueError, match="h"):
        baseline(problem, "nl-means", h=0)
    with pytest.raises(ValueError, match="iterations"):
        baseline(degrade(camera[:64, :64], "deblur"), "richardson-lucy", iterations=0)
    with pytest.raises(ValueError, match="at least one"):
        tuning_scores([])
