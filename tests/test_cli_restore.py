"""python -m gaedu restore: round trips on a bundled photograph that beat scikit-image, and every bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from gaedu.data import load_photo
from gaedu.restoration import baseline, degrade, image_psnr
from test_cli import _assert_one_line_error, run, run_program


@pytest.fixture(scope="module")
def camera():
    return load_photo("camera").double()


def _save_png(path, image, bits=8):
    top = 255 if bits == 8 else 65535
    pixels = np.round(np.clip(image, 0, 1) * top).astype(np.uint8 if bits == 8 else np.uint16)
    Image.fromarray(pixels).save(path)
    return path


def test_deblur_round_trip_through_the_program_beats_scikit_image(camera, tmp_path):
    problem = degrade(camera, "deblur")
    observed = tmp_path / "blurred.npy"
    np.save(observed, problem.observed.numpy())
    out = tmp_path / "restored.png"
    result = run_program("restore", "--task", "deblur", "--blur-std", "1.5", "--noise-std", "0.01",
                         "--input", str(observed), "--out", str(out), "--method", "tv", "--quiet")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout
    with Image.open(out) as image:
        assert image.mode.startswith("I;16") and image.size == (128, 128)
        restored = torch.from_numpy(np.asarray(image).astype(np.float64) / 65535)
    best_library = max(image_psnr(baseline(problem, name).image, camera) for name in ("richardson-lucy", "wiener"))
    assert image_psnr(restored, camera) > best_library  # scikit-image with the blur's own (mirrored) boundary
    assert image_psnr(restored, camera) > image_psnr(problem.observed, camera) + 2


def test_inpaint_round_trip_with_a_png_mask_keeps_observed_pixels(camera, tmp_path):
    problem = degrade(camera, "inpaint")
    observed = _save_png(tmp_path / "observed.png", problem.observed.numpy(), bits=16)
    mask = tmp_path / "mask.png"
    Image.fromarray(problem.mask.numpy().astype(np.uint8) * 255).save(mask)
    out = tmp_path / "restored.npy"
    result = run("restore", "--task", "inpaint", "--mask", str(mask), "--input", str(observed), "--out", str(out),
                 "--method", "tv", "--quiet")  # fmt: skip
    assert result.returncode == 0, result.stderr
    restored = np.load(out)
    assert restored.dtype == np.float32 and restored.shape == (128, 128)
    assert 0 <= restored.min() and restored.max() <= 1
    np.testing.assert_allclose(restored[problem.mask.numpy()], problem.observed[problem.mask].numpy(), atol=2e-5)
    assert image_psnr(torch.from_numpy(restored), camera) > image_psnr(problem.observed, camera) + 10


@pytest.fixture(scope="module")
def small():
    """A small denoiser, trained in seconds, for the command line's learned methods."""
    from gaedu.restoration.denoiser import DenoiserConfig, train_denoiser

    return train_denoiser(DenoiserConfig(channels=12, depth=4, num_steps=120, batch_size=16, patch=32, lr=3e-3,
                                         sizes=(128,), photos=("coffee", "china")), device="cpu", progress=False)  # fmt: skip


def test_denoise_default_method_is_the_learned_prior(camera, small, tmp_path, monkeypatch):
    import gaedu.restoration

    used = []
    monkeypatch.setattr(gaedu.restoration, "load_denoiser", lambda **kwargs: used.append(1) or small.model)
    problem = degrade(camera, "denoise")
    noisy = tmp_path / "noisy.npy"
    np.save(noisy, problem.observed.numpy())  # values outside [0, 1] are allowed in a noisy .npy
    assert problem.observed.min() < 0
    out = tmp_path / "out.npy"
    result = run("restore", "--task", "denoise", "--noise-std", "0.1", "--input", str(noisy), "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    assert used == [1] and "by prior" in result.stdout
    assert image_psnr(torch.from_numpy(np.load(out)), camera) > image_psnr(problem.observed, camera) + 4
    again = run("restore", "--task", "denoise", "--noise-std", "0.1", "--input", str(noisy), "--out", str(out))
    assert again.returncode == 0 and "learned prior" in again.stderr  # its progress bar


def test_restore_by_red_climbs_the_same_denoiser_as_a_gradient(camera, small, tmp_path, monkeypatch):
    import gaedu.restoration

    monkeypatch.setattr(gaedu.restoration, "load_denoiser", lambda **kwargs: small.model)
    problem = degrade(camera, "deblur")
    blurred = tmp_path / "blurred.npy"
    np.save(blurred, problem.observed.numpy())
    out = tmp_path / "out.npy"
    result = run("restore", "--task", "deblur", "--blur-std", "1.5", "--noise-std", "0.01", "--input", str(blurred),
                 "--out", str(out), "--method", "red", "--quiet")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "by red" in result.stdout
    assert image_psnr(torch.from_numpy(np.load(out)), camera) > image_psnr(problem.observed, camera) + 1


def test_super_resolution_round_trip_beats_bicubic_interpolation(camera, tmp_path):
    problem = degrade(camera, "super-resolution")
    small = tmp_path / "small.npy"
    np.save(small, problem.observed.numpy())
    out = tmp_path / "big.png"
    result = run("restore", "--task", "super-resolution", "--factor", "2", "--noise-std", "0.01", "--input", str(small),
                 "--out", str(out), "--method", "tv", "--quiet")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "super-resolution by tv, 128×128" in result.stdout
    with Image.open(out) as image:
        restored = torch.from_numpy(np.asarray(image).astype(np.float64) / 65535)
    assert restored.shape == camera.shape
    assert image_psnr(restored, camera) > image_psnr(problem.start(), camera) + 0.5


def test_an_8_bit_png_is_read_as_values_in_0_1(tmp_path):
    from gaedu.__main__ import _read_array

    image = np.linspace(0, 1, 64).reshape(8, 8)
    array = _read_array(_save_png(tmp_path / "a.png", image, bits=8), "input")
    np.testing.assert_allclose(array, np.round(image * 255) / 255)
    array16 = _read_array(_save_png(tmp_path / "b.png", image, bits=16), "input")
    np.testing.assert_allclose(array16, np.round(image * 65535) / 65535)


@pytest.fixture
def files(tmp_path, camera):
    np.save(tmp_path / "ok.npy", camera.numpy())
    np.save(tmp_path / "nan.npy", np.full((16, 16), np.nan))
    np.save(tmp_path / "inf.npy", np.full((16, 16), np.inf))
    np.save(tmp_path / "cube.npy", np.zeros((2, 16, 16)))
    np.save(tmp_path / "strings.npy", np.array(["a", "b"]))
    np.save(tmp_path / "small_mask.npy", np.ones((16, 16), dtype=bool))
    np.save(tmp_path / "wide.npy", np.zeros((300, 300)))
    np.save(tmp_path / "empty_mask.npy", np.zeros((128, 128), dtype=bool))
    (tmp_path / "broken.npy").write_bytes(b"\x93NUMPY garbage")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (tmp_path / "image.jpg").write_bytes(b"")
    Image.fromarray(np.zeros((16, 16, 3), dtype=np.uint8)).save(tmp_path / "rgb.png")
    return tmp_path


BAD = [
    (["--task", "denoise", "--noise-std", "0.1", "--input", "{d}/missing.npy"], "no input file"),
    (["--task", "denoise", "--noise-std", "0.1", "--input", "{d}/broken.npy"], "not a readable .npy"),
    (["--task", "denoise", "--noise-std", "0.1", "--input", "{d}/broken.png"], "not a readable PNG"),
    (["--task", "denoise", "--noise-std", "0.1", "--input", "{d}/image.jpg"], "must be a .png or .npy"),
    (["--task", "denoise", "--noise-std", "0.1", "--input", "{d}/nan.npy"], "NaN or infinite"),
    (["--task", "denoise", "--noise-std", "0.1", "--input", "{d}/inf.npy"], "NaN or infinite"),
    (["--task", "denoise", "--noise-std", "0.1", "--input", "{d}/cube.npy"], "must be a 2-D image"),
    (["--task", "denoise", "--noise-std", "0.1", "--input", "{d}/rgb.png"], "grayscale PNG"),
    (["--task", "denoise", "--noise-std", "0.1", "--input", "{d}/strings.npy"], "must hold floats"),
    (["--task", "denoise", "--noise-std", "0", "--input", "{d}/ok.npy"], "--noise-std must be > 0"),
    (["--task", "denoise", "--noise-std", "-0.1", "--input", "{d}/ok.npy"], "--noise-std must be > 0"),
    (["--task", "denoise", "--noise-std", "nan", "--input", "{d}/ok.npy"], "--noise-std must be > 0"),
    (["--task", "denoise", "--input", "{d}/ok.npy"], "--noise-std is required"),
    (["--task", "deblur", "--noise-std", "0.01", "--input", "{d}/ok.npy"], "--blur-std is required"),
    (["--task", "deblur", "--blur-std", "0", "--noise-std", "0.01", "--input", "{d}/ok.npy"], "--blur-std must be > 0"),
    (["--task", "denoise", "--noise-std", "0.1", "--blur-std", "1", "--input", "{d}/ok.npy"], "--blur-std applies"),
    (["--task", "inpaint", "--input", "{d}/ok.npy"], "--mask is required"),
    (["--task", "inpaint", "--mask", "{d}/small_mask.npy", "--input", "{d}/ok.npy"], "differs from the input"),
    (["--task", "inpaint", "--mask", "{d}/empty_mask.npy", "--input", "{d}/ok.npy"], "observes no pixel"),
    (["--task", "inpaint", "--mask", "{d}/none.npy", "--input", "{d}/ok.npy"], "no mask file"),
    (["--task", "denoise", "--mask", "{d}/small_mask.npy", "--noise-std", "0.1", "--input", "{d}/ok.npy"], "--mask applies"),
    (["--task", "sharpen", "--input", "{d}/ok.npy"], "invalid choice"),
    (["--task", "denoise", "--noise-std", "0.1", "--method", "bm3d", "--input", "{d}/ok.npy"], "invalid choice"),
    (["--task", "super-resolution", "--noise-std", "0.01", "--input", "{d}/ok.npy"], "--factor is required"),
    (["--task", "super-resolution", "--factor", "2", "--input", "{d}/ok.npy"], "--noise-std is required"),
    (["--task", "super-resolution", "--factor", "1", "--noise-std", "0.01", "--input", "{d}/ok.npy"], "from 2 to 8"),
    (
        ["--task", "super-resolution", "--factor", "x", "--noise-std", "0.01", "--input", "{d}/ok.npy"],
        "invalid integer",
    ),
    (["--task", "super-resolution", "--factor", "2", "--noise-std", "-0.01", "--input", "{d}/ok.npy"], "must be >= 0"),
    (
        ["--task", "super-resolution", "--factor", "8", "--noise-std", "0.01", "--input", "{d}/wide.npy"],
        "at most 4,194,304",
    ),
    (
        ["--task", "deblur", "--blur-std", "1", "--factor", "2", "--noise-std", "0.01", "--input", "{d}/ok.npy"],
        "--factor applies",
    ),
]


@pytest.mark.parametrize("args, message", BAD)
def test_bad_input_is_one_line_with_status_2_and_writes_nothing(files, args, message):
    out = files / "out.png"
    result = run("restore", *[a.format(d=files) for a in args], "--out", str(out), "--quiet")
    _assert_one_line_error(result, message)
    assert not out.exists()
    assert not [p for p in files.iterdir() if p.name.startswith(("out", ".out", "tmp"))]


def test_bad_output_paths(files):
    for out, message in [(files / "missing" / "out.png", "does not exist"), (files / "out.tif", "must be a .png or .npy")]:
        result = run("restore", "--task", "denoise", "--noise-std", "0.1", "--input", str(files / "ok.npy"), "--out", str(out))
        _assert_one_line_error(result, message)
        assert not out.exists()


def test_dip_needs_sides_that_are_multiples_of_16(files):
    np.save(files / "odd.npy", np.zeros((20, 20)))
    result = run("restore", "--task", "denoise", "--noise-std", "0.1", "--method", "dip", "--input", str(files / "odd.npy"),
                 "--out", str(files / "out.npy"))  # fmt: skip
    _assert_one_line_error(result, "multiples of 16")
