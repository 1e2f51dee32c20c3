"""The model cache: models the book trains once per machine, kept between sessions.

A chapter that needs a model that takes minutes to train (the learned image prior of
the restoration chapter) calls :func:`cached`. The first call trains it, with a
progress bar, and saves a checkpoint in :func:`cache_dir`; later calls load it in a
fraction of a second. The file name holds a hash of everything the training depends
on (the model's settings, the gaedu and torch versions), so changing any of them
trains a new model instead of loading a stale one. Nothing is ever downloaded.

The folder is ``$GAEDU_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/gaedu``, else
``~/.cache/gaedu``. Deleting it is always safe.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import torch
from torch import nn

from gaedu import _version
from gaedu._io import check_writable, sweep_stale
from gaedu.checkpoint import CheckpointError, load_checkpoint, load_model, save_checkpoint

M = TypeVar("M", bound=nn.Module)


def cache_dir() -> Path:
    """The cache folder (not created here); see the module docstring for how it is chosen."""
    if os.environ.get("GAEDU_CACHE_DIR"):
        return Path(os.environ["GAEDU_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "gaedu"


def cache_key(kind: str, config: dict) -> str:
    """A short hash of ``kind``, ``config`` (JSON-serialisable) and the gaedu and torch versions."""
    text = json.dumps({"kind": kind, "config": config, "gaedu": _version.__version__, "torch": torch.__version__}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cached_path(kind: str, config: dict) -> Path:
    """Where the model of ``kind`` trained with ``config`` is (or will be) cached."""
    return cache_dir() / f"{kind}-{cache_key(kind, config)}.pt"


def cached(
    kind: str,
    config: dict,
    train: Callable[[], tuple[M, dict]],
    build: Callable[[dict], M],
) -> tuple[M, dict]:
    """Load the cached model of ``kind`` trained with ``config``, or train, cache and return it.

    Args:
        kind: the checkpoint kind (``'denoiser'``, ...).
        config: the training settings, JSON-serialisable; part of the file name's hash.
        train: trains the model; returns ``(model, info)``, ``info`` a small dict saved with it.
        build: rebuilds an untrained model from ``config``, to load the weights into.

    Returns:
        ``(model, info)``: the model on the CPU in eval mode, and its ``info``.

    A cached file that cannot be used (truncated, damaged bytes, another format, or
    settings other than ``config``) is reported in one line on stderr and replaced by a
    freshly trained model. A cache folder that cannot be created is an ``OSError`` that
    says which, raised before any training; one that cannot be written (read-only, full)
    is reported in one line, and the model is trained and returned without being kept.
    Two processes that miss the same entry at once both train it; each write is atomic,
    so the last one stays and nothing is corrupted.
    """
    path = cached_path(kind, config)
    if path.is_file():
        info: dict = {}

        def rebuild(payload: dict) -> tuple[M, dict]:  # for checkpoint.load_model, which checks the rest
            _same_settings(payload, config)
            info.update(payload.get("info", {}))
            return build(payload["config"]), payload["state"]["model"]

        try:
            return load_model(path, kind, rebuild), info
        except CheckpointError as err:
            print(f"gaedu: the cached {kind} at {path} cannot be used ({err}); training a new one", file=sys.stderr)
    keep = _prepare(path, kind)
    model, info = train()
    model = model.cpu().eval()
    if keep:
        _keep(lambda: save_checkpoint(path, kind, config, {"model": model.state_dict()}, info), path, kind)
    return model, info


#: The free space the cache folder needs before a model is trained into it (the largest entry is a few MB).
MIN_FREE = 64 * 2**20


def _same_settings(payload: dict, config: dict) -> None:
    """Refuse a cached file whose stored settings are not ``config`` (a file copied under another entry's name)."""
    if json.dumps(payload["config"], sort_keys=True) != json.dumps(config, sort_keys=True):
        raise CheckpointError("it holds a model trained with other settings than its name says")


def _prepare(path: Path, kind: str) -> bool:
    """Before any training: create the cache folder (an ``OSError`` if impossible), remove stale temporary
    files, and return whether the folder can be written (if not, say so in one line)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OSError(f"cannot create the model cache {path.parent}: {err.strerror or err}") from None
    sweep_stale(path.parent)
    try:
        check_writable(path.parent, MIN_FREE)
        return True
    except OSError as err:
        print(f"gaedu: the model cache {path.parent} cannot be written ({err.strerror or err}); the {kind} is "
              "computed now and not kept", file=sys.stderr)  # fmt: skip
        return False


def _keep(save: Callable[[], object], path: Path, kind: str) -> None:
    """Save into the cache; a failure (a full disk) is reported in one line and the result still returned."""
    try:
        save()
    except CheckpointError as err:
        print(f"gaedu: the {kind} could not be kept in the model cache ({err})", file=sys.stderr)


def cached_result(kind: str, config: dict, compute: Callable[[], dict]) -> dict:
    """Load the cached result of ``kind`` computed with ``config``, or compute, cache and return it.

    For what is trained on one image and kept as its outcome (Deep Image Prior's curves),
    not as a reusable model. ``compute()`` returns a dict of tensors, numbers, strings and
    lists of them. An unreadable cached file is reported on stderr and recomputed.
    """
    path = cached_path(kind, config)
    if path.is_file():
        try:
            payload = load_checkpoint(path, kind)
            _same_settings(payload, config)
            return dict(payload["state"])
        except CheckpointError as err:
            print(f"gaedu: the cached {kind} at {path} cannot be used ({err}); computing it again", file=sys.stderr)
    keep = _prepare(path, kind)
    result = compute()
    if keep:
        _keep(lambda: save_checkpoint(path, kind, config, result), path, kind)
    return result
