"""The model cache (gaedu.cache): what it does with damaged, mismatched, unwritable and stale files."""

from __future__ import annotations

import os
import shutil
import time

import pytest
from torch import nn

from gaedu import _io, cache
from test_cli_hostile import _flip_a_data_byte


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("GAEDU_CACHE_DIR", str(tmp_path))
    return tmp_path


def _cached(width: int, trained: list):
    def train():
        trained.append(width)
        return nn.Linear(2, width), {"width": width}

    return cache.cached("toy", {"width": width}, train, lambda config: nn.Linear(2, config["width"]))


def test_a_file_copied_under_another_entrys_name_is_trained_again(folder, capsys):
    trained = []
    _cached(2, trained), _cached(4, trained)
    shutil.copy(cache.cached_path("toy", {"width": 2}), cache.cached_path("toy", {"width": 4}))
    model, info = _cached(4, trained)
    assert model.out_features == 4 and info == {"width": 4} and trained == [2, 4, 4]
    assert "other settings than its name says" in capsys.readouterr().err
    assert _cached(4, trained)[0].out_features == 4 and trained == [2, 4, 4]  # kept this time


def test_a_damaged_byte_is_found_and_the_model_trained_again(folder, capsys):
    trained = []
    _cached(3, trained)
    _flip_a_data_byte(cache.cached_path("toy", {"width": 3}))
    _cached(3, trained)
    assert trained == [3, 3] and "cannot be used" in capsys.readouterr().err


def test_an_unwritable_cache_is_said_before_training_and_the_model_still_returned(folder, capsys, monkeypatch):
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    order = []
    monkeypatch.setattr(cache.sys, "stderr", type("E", (), {"write": lambda self, s: order.append(("said", s)),
                                                            "flush": lambda self: None})())  # fmt: skip

    def train():
        order.append(("trained", ""))
        return nn.Linear(2, 5), {}

    model, _ = cache.cached("toy", {"width": 5}, train, lambda config: nn.Linear(2, 5))
    assert model.out_features == 5 and not cache.cached_path("toy", {"width": 5}).exists()
    assert order[0][0] == "said" and "cannot be written (Permission denied)" in order[0][1]
    assert ("trained", "") in order


def test_a_full_disk_while_keeping_a_model_is_one_line_and_the_model_is_returned(folder, capsys, monkeypatch):
    import torch

    def full(payload, file):
        raise RuntimeError("unexpected pos 300224 vs 300176")

    monkeypatch.setattr(torch, "save", full)
    model, _ = _cached(6, [])
    assert model.out_features == 6 and "could not be kept" in capsys.readouterr().err
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []


def test_stale_temporary_files_are_removed_fresh_ones_kept(folder):
    stale, fresh = folder / ".toy-x.pt.abc.tmp", folder / ".toy-y.pt.def.tmp"
    for path in (stale, fresh):
        path.write_bytes(b"x" * 100)
    day_ago = time.time() - _io.STALE_SECONDS - 60
    os.utime(stale, (day_ago, day_ago))
    _cached(7, [])
    assert not stale.exists() and fresh.exists()


def test_a_cache_folder_without_room_is_said_before_training(folder, capsys, monkeypatch):
    full = shutil.disk_usage(folder)._replace(free=1000)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: full)
    model, _ = _cached(8, [])
    assert model.out_features == 8 and not cache.cached_path("toy", {"width": 8}).exists()
    assert "MB needed" in capsys.readouterr().err


def test_nan_weights_in_the_cache_are_trained_again(folder, capsys):
    import torch

    trained = []
    _cached(9, trained)
    path = cache.cached_path("toy", {"width": 9})
    payload = torch.load(path, weights_only=True)
    payload["state"]["model"]["weight"].fill_(float("nan"))
    torch.save(payload, path)
    assert torch.isfinite(_cached(9, trained)[0].weight).all() and trained == [9, 9]
    assert "NaN or infinite weights" in capsys.readouterr().err
