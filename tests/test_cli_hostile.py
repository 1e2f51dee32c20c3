"""Hostile files and absurd values on the command line: each is refused in one line (exit 2, nothing written)
or handled as documented, before any work starts. The probes follow the reliability reading's defects D1–D16.
"""

from __future__ import annotations

import os
import shutil
import signal
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gaedu.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from test_cli import _assert_one_line_error, run

EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 64 64\nnewpath 0 0 moveto 64 64 lineto stroke\nshowpage\n"
RESTORE = ["restore", "--task", "denoise", "--noise-std", "0.1", "--method", "tv", "--quiet"]


def _png_header(width: int, height: int) -> bytes:
    """A tiny PNG that declares ``width`` × ``height`` 8-bit grayscale pixels (its data is one empty row)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00")) + chunk(b"IEND", b"")


@pytest.fixture
def folder(tmp_path):
    np.save(tmp_path / "ok.npy", np.full((32, 32), 0.5))
    np.save(tmp_path / "mask.npy", np.ones((32, 32), dtype=bool))
    return tmp_path


def _nothing_written(folder: Path, before: set[str]) -> None:
    assert {p.name for p in folder.iterdir()} == before  # no output, no temporary file


# D1: only PNG's decoder runs on a command-line image


@pytest.mark.parametrize("fmt", ["TIFF", "BMP", "JPEG", "GIF"])
def test_other_image_formats_named_png_are_refused(folder, fmt):
    Image.fromarray(np.zeros((32, 32), dtype=np.uint8)).save(folder / "x.png", format=fmt)
    before = {p.name for p in folder.iterdir()}
    _assert_one_line_error(run(*RESTORE, "--input", str(folder / "x.png"), "--out", str(folder / "y.png")), "not a readable PNG file")
    _nothing_written(folder, before)


def test_eps_named_png_is_refused_as_input_and_as_mask(folder):
    (folder / "x.png").write_bytes(EPS)
    before = {p.name for p in folder.iterdir()}
    _assert_one_line_error(run(*RESTORE, "--input", str(folder / "x.png"), "--out", str(folder / "y.png")), "not a readable PNG file")
    result = run("restore", "--task", "inpaint", "--method", "tv", "--input", str(folder / "ok.npy"), "--mask",
                 str(folder / "x.png"), "--out", str(folder / "y.png"))  # fmt: skip
    _assert_one_line_error(result, "not a readable PNG file")
    _nothing_written(folder, before)


def _traced(command: list[str], folder: Path) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Run ``python -m gaedu command`` under strace; return its result and the programs it started."""
    log = folder / "trace.log"
    traced = ["strace", "-f", "-qq", "-e", "trace=execve", "-o", str(log), sys.executable, "-m", "gaedu", *command]
    result = subprocess.run(traced, capture_output=True, text=True, timeout=300)
    if not log.exists():
        pytest.skip(f"this machine forbids tracing: {result.stderr.strip()[:200]}")
    started = [line for line in log.read_text().splitlines() if "execve(" in line and "= 0" in line]
    log.unlink()
    return result, started


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace, the process tracer")
def test_no_command_starts_another_program(folder, checkpoint):
    """Under a process tracer: an EPS file named .png (which Pillow would hand to Ghostscript) starts nothing, and
    neither do a restoration and a sampling that succeed: the only program started is python itself."""
    (folder / "x.png").write_bytes(EPS)
    Image.fromarray(np.full((32, 32), 128, dtype=np.uint8)).save(folder / "ok.png")
    commands = [
        ([*RESTORE, "--input", str(folder / "x.png"), "--out", str(folder / "y.png")], 2),
        ([*RESTORE, "--input", str(folder / "ok.png"), "--out", str(folder / "y.png")], 0),
        (["sample", "--checkpoint", str(checkpoint), "--n", "3", "--out", str(folder / "s.npy")], 0),
    ]
    for command, status in commands:
        result, started = _traced(command, folder)
        assert result.returncode == status, result.stderr
        assert len(started) == 1 and sys.executable.rsplit("/", 1)[-1] in started[0], started


def test_an_image_that_declares_too_many_pixels_is_refused_before_decoding(folder):
    (folder / "bomb.png").write_bytes(_png_header(20000, 20000))  # 400 megapixels in 60 bytes
    (folder / "big.png").write_bytes(_png_header(2049, 2048))
    before = {p.name for p in folder.iterdir()}
    for name in ("bomb.png", "big.png"):
        result = run(*RESTORE, "--input", str(folder / name), "--out", str(folder / "y.png"))
        _assert_one_line_error(result, "at most 4,194,304")
    np.lib.format.open_memmap(folder / "big.npy", mode="w+", dtype=np.float32, shape=(4096, 4097)).flush()
    before.add("big.npy")
    _assert_one_line_error(run(*RESTORE, "--input", str(folder / "big.npy"), "--out", str(folder / "y.png")), "declares shape")
    _nothing_written(folder, before)


# D8: pixels outside [0, 1]


@pytest.mark.parametrize(
    "array, message",
    [
        (np.full((32, 32), 200, dtype=np.uint8), "divide 8-bit values by 255"),
        (np.full((32, 32), 1e6), "values from 1e+06 to 1e+06"),
        (np.full((32, 32), -5.0), "with noise of σ = 0.1 lies in [-0.6, 1.6]"),
    ],
)
def test_restore_refuses_pixels_outside_0_1(folder, array, message):
    np.save(folder / "bad.npy", array)
    before = {p.name for p in folder.iterdir()}
    _assert_one_line_error(run(*RESTORE, "--input", str(folder / "bad.npy"), "--out", str(folder / "y.png")), message)
    _nothing_written(folder, before)


# D6, D14: every size-like argument is bounded; a huge seed names itself


@pytest.mark.parametrize(
    "args, message",
    [
        (["sample", "--checkpoint", "g.pt", "--n", "1000000000000", "--out", "s.npy"], "from 1 to 100,000"),
        (["train-ae", "--latent-dim", "1000000000000", "--out", "a.pt"], "from 1 to 1,024"),
        (["train-gan", "--steps", "1000000000", "--out", "g.pt"], "from 1 to 1,000,000"),
        (["train-gan", "--seed", str(2**64), "--out", "g.pt"], "--seed: must be a seed from 0 to 4,294,967,295"),
        (["train-gan", "--seed", "-1", "--out", "g.pt"], "must be a seed"),
        (["restore", "--task", "denoise", "--noise-std", "1e300", "--input", "ok.npy", "--out", "y.png"],
         "--noise-std must be at most 1"),
        (["restore", "--task", "deblur", "--noise-std", "0.01", "--blur-std", "1e9", "--input", "ok.npy", "--out", "y.png"],
         "--blur-std must be at most 50"),
    ],
)  # fmt: skip
def test_absurd_values_are_refused_in_one_line(folder, args, message):
    before = {p.name for p in folder.iterdir()}
    _assert_one_line_error(run(*args, cwd=folder), message)
    _nothing_written(folder, before)


# D2, D9, D10: outputs are checked before any work


@pytest.fixture
def checkpoint(folder):
    path = folder / "g.pt"
    result = run("train-gan", "--steps", "2", "--quiet", "--device", "cpu", "--out", str(path))
    assert result.returncode == 0, result.stderr
    return path


def test_outputs_that_are_not_plain_files_are_refused(folder):
    os.mkfifo(folder / "fifo.npy")
    (folder / "link.npy").symlink_to(folder / "target.npy")
    (folder / "sub.npy").mkdir()
    before = {p.name for p in folder.iterdir()}
    for name, message in [("fifo.npy", "not a plain file"), ("link.npy", "symbolic link"), ("sub.npy", "is a folder")]:
        _assert_one_line_error(run(*RESTORE, "--input", str(folder / "ok.npy"), "--out", str(folder / name)), message)
        _assert_one_line_error(run("train-gan", "--steps", "1", "--out", str(folder / name)), message)  # before training
    _assert_one_line_error(run("train-gan", "--steps", "1", "--out", ""), "the output path is empty")
    assert (folder / "fifo.npy").is_fifo() and (folder / "link.npy").is_symlink() and (folder / "sub.npy").is_dir()
    _nothing_written(folder, before)


def test_an_output_that_is_the_file_being_read_is_refused(folder):
    before = {p.name for p in folder.iterdir()}
    result = run(*RESTORE, "--input", str(folder / "ok.npy"), "--out", str(folder / "ok.npy"))
    _assert_one_line_error(result, "also the file this command reads")
    result = run("restore", "--task", "inpaint", "--method", "tv", "--input", str(folder / "ok.npy"), "--mask",
                 str(folder / "mask.npy"), "--out", str(folder / "mask.npy"))  # fmt: skip
    _assert_one_line_error(result, "also the file this command reads")
    _nothing_written(folder, before)


def test_sample_refuses_to_overwrite_its_checkpoint(checkpoint):
    named_npy = checkpoint.rename(checkpoint.with_suffix(".npy"))  # a checkpoint under an array's name
    data = named_npy.read_bytes()
    result = run("sample", "--checkpoint", str(named_npy), "--n", "3", "--out", str(named_npy))
    _assert_one_line_error(result, "also the file this command reads")
    assert named_npy.read_bytes() == data


def test_a_folder_without_room_is_refused_before_any_work(folder, monkeypatch):
    full = shutil.disk_usage(folder)._replace(free=1000)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: full)
    _assert_one_line_error(run("train-gan", "--steps", "1", "--out", str(folder / "g.pt")), "MB free")
    assert not (folder / "g.pt").exists()


# D3: a full disk while saving a checkpoint


def test_a_failed_checkpoint_write_is_one_line_and_leaves_nothing(folder, monkeypatch):
    def short_write(payload, file):
        file.write(b"PK" * 100)
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 300224 vs 300176")

    monkeypatch.setattr(torch, "save", short_write)
    before = {p.name for p in folder.iterdir()}
    with pytest.raises(CheckpointError, match="the disk is full or the write failed"):
        save_checkpoint(folder / "c.pt", "gan", {}, {})
    _nothing_written(folder, before)


# D5: damaged bytes in a checkpoint


def _flip_a_data_byte(path: Path) -> None:
    with zipfile.ZipFile(path) as archive:
        member = next(i for i in archive.infolist() if "/data/" in i.filename and i.file_size > 16)
    data = bytearray(path.read_bytes())
    local_extra = struct.unpack("<H", data[member.header_offset + 28 : member.header_offset + 30])[0]
    start = member.header_offset + 30 + len(member.filename.encode()) + local_extra
    data[start + 8] ^= 0xFF
    path.write_bytes(bytes(data))


def test_a_checkpoint_with_flipped_bytes_is_refused(checkpoint, folder):
    _flip_a_data_byte(checkpoint)
    with pytest.raises(CheckpointError, match="does not match its checksum"):
        load_checkpoint(checkpoint, "gan")
    result = run("sample", "--checkpoint", str(checkpoint), "--n", "3", "--out", str(folder / "s.npy"))
    _assert_one_line_error(result, "is corrupt")


# D13: broken weights never become an image with exit 0


def test_nan_weights_write_nothing(checkpoint, folder):
    payload = load_checkpoint(checkpoint, "gan")
    state = {name: {k: torch.full_like(v, float("nan")) if v.is_floating_point() else v for k, v in part.items()}
             for name, part in payload["state"].items()}  # fmt: skip
    save_checkpoint(checkpoint, "gan", payload["config"], state, payload["info"])
    before = {p.name for p in folder.iterdir()}
    result = run("sample", "--checkpoint", str(checkpoint), "--n", "3", "--out", str(folder / "s.npy"))
    _assert_one_line_error(result, "holds NaN or infinite weights")  # found at loading, before any sampling
    _nothing_written(folder, before)


def test_a_result_that_is_not_finite_is_refused(folder, monkeypatch):
    """The last check before writing, whatever made the result: nothing is written."""
    import gaedu.restoration

    class Broken:
        image, seconds = torch.full((32, 32), float("nan")), 0.0

    monkeypatch.setattr(gaedu.restoration, "restore", lambda *args, **kwargs: Broken())
    before = {p.name for p in folder.iterdir()}
    _assert_one_line_error(run(*RESTORE, "--input", str(folder / "ok.npy"), "--out", str(folder / "y.png")),
                           "restored pixels hold NaN or infinite values")  # fmt: skip
    _nothing_written(folder, before)


# D15: restore honours GAEDU_DEVICE


def test_restore_honours_gaedu_device(folder, monkeypatch):
    monkeypatch.setenv("GAEDU_DEVICE", "bogus")
    _assert_one_line_error(run(*RESTORE, "--input", str(folder / "ok.npy"), "--out", str(folder / "y.npy")), "'bogus'")
    monkeypatch.setenv("GAEDU_DEVICE", "cpu")
    assert run(*RESTORE, "--input", str(folder / "ok.npy"), "--out", str(folder / "y.npy")).returncode == 0


# D12, D16: Ctrl-C and SIGTERM stop in one line, with no traceback and no temporary file


@pytest.mark.parametrize("sig, status, said", [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "SIGTERM")])
def test_a_signal_stops_the_command_in_one_line(tmp_path, sig, status, said):
    import re
    import threading

    out = tmp_path / "g.pt"
    process = subprocess.Popen([sys.executable, "-m", "gaedu", "train-gan", "--steps", "100000", "--out", str(out)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    said_so_far = []
    reader = threading.Thread(target=lambda: said_so_far.extend(iter(lambda: process.stderr.read1(4096), b"")))
    reader.start()
    try:
        for _ in range(1200):  # until the training's progress bar shows (at most two minutes on a loaded machine)
            if process.poll() is not None or b"%|" in b"".join(said_so_far):
                break
            time.sleep(0.1)
        process.send_signal(sig)
        process.wait(timeout=60)
    finally:
        process.kill()
        reader.join()
    stderr = b"".join(said_so_far).decode()
    lines = [line for line in re.split(r"[\r\n]", stderr) if line.strip() and "%|" not in line]  # without the bar
    assert process.returncode == status, stderr
    assert "Traceback" not in stderr and len(lines) == 1 and said in lines[0], stderr
    assert list(tmp_path.iterdir()) == []


def test_a_day_old_temporary_file_of_the_same_output_is_removed(folder):
    stale, fresh, other = folder / ".y.npy.abcd1234.tmp", folder / ".y.npy.efgh5678.tmp", folder / ".z.npy.ijkl.tmp"
    for path in (stale, fresh, other):
        path.write_bytes(b"x")
    day_ago = time.time() - 25 * 3600
    for path in (stale, other):
        os.utime(path, (day_ago, day_ago))
    assert run(*RESTORE, "--input", str(folder / "ok.npy"), "--out", str(folder / "y.npy")).returncode == 0
    assert not stale.exists() and fresh.exists() and other.exists()


def test_nan_weights_in_a_score_model_are_named_at_loading(tmp_path):
    """Not "lower the step size": the checkpoint is what is broken."""
    path = tmp_path / "s.pt"
    assert run("train-score", "--steps", "2", "--classifier-steps", "0", "--quiet", "--device", "cpu", "--out", str(path)).returncode == 0
    payload = load_checkpoint(path, "score")
    state = {name: {k: torch.full_like(v, float("nan")) if v.is_floating_point() else v for k, v in part.items()}
             for name, part in payload["state"].items()}  # fmt: skip
    save_checkpoint(path, "score", payload["config"], state, payload["info"])
    result = run("sample", "--checkpoint", str(path), "--n", "3", "--out", str(tmp_path / "x.npy"))
    _assert_one_line_error(result, "holds NaN or infinite weights")
    assert not (tmp_path / "x.npy").exists()


def test_cache_jobs_are_bounded():
    _assert_one_line_error(run("cache", "--jobs", "100000", "--plan"), "from 1 to 64")


def test_an_output_folder_this_process_cannot_write_is_refused_before_training(folder, monkeypatch):
    """As root, permissions do not stop a write, so the refusal is shown with a folder that refuses every file."""
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    started = []
    monkeypatch.setattr("gaedu.gan.train_gan", lambda *args, **kwargs: started.append(1))
    _assert_one_line_error(run("train-gan", "--steps", "1", "--out", str(folder / "g.pt")), "Permission denied")
    assert started == [] and not (folder / "g.pt").exists()


def test_an_array_output_must_be_named_npy(checkpoint, folder):
    before = {p.name for p in folder.iterdir()}
    result = run("sample", "--checkpoint", str(checkpoint), "--n", "3", "--out", str(folder / "samples.png"))
    _assert_one_line_error(result, "name it <something>.npy")
    _nothing_written(folder, before)


def test_a_failed_write_says_why_without_the_temporary_files_name(checkpoint, folder, monkeypatch):
    import errno

    def full(file, array):
        file.write(b"\x93NUMPY")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "save", full)
    before = {p.name for p in folder.iterdir()}
    result = run("sample", "--checkpoint", str(checkpoint), "--n", "3", "--out", str(folder / "s.npy"))
    _assert_one_line_error(result, f"cannot write {folder / 's.npy'}: No space left on device")
    assert ".tmp" not in result.stderr
    _nothing_written(folder, before)
