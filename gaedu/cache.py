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

from gaedu.checkpoint import CheckpointError, load_checkpoint, save_checkpoint

M = TypeVar("M", bound=nn.Module)


def cache_dir() -> Path:
    """The cache folder (not created here); see the module docstring for how it is chosen."""
    if os.environ.get("GAEDU_CACHE_DIR"):
        return Path(os.environ["GAEDU_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "gaedu"


def cache_key(kind: str, config: dict) -> str:
    """A short hash of ``kind``, ``config`` (JSON-serialisable) and the gaedu and torch versions."""
    import gaedu

    text = json.dumps({"kind": kind, "config": config, "gaedu": gaedu.__version__, "torch": torch.__version__}, sort_keys=True)
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

    A cached file that cannot be read (truncated, from another format) is reported in one
    line on stderr and replaced by a freshly trained model; a folder that cannot be
    written is an ``OSError`` that says which.
    """
    path = cached_path(kind, config)
    if path.is_file():
        try:
            payload = load_checkpoint(path, kind)
            model = build(payload["config"])
            model.load_state_dict(payload["state"]["model"])
            return model.eval(), dict(payload.get("info", {}))
        except (CheckpointError, RuntimeError, KeyError, TypeError, ValueError) as err:
            print(f"gaedu: the cached {kind} at {path} cannot be used ({err}); training a new one", file=sys.stderr)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OSError(f"cannot create the model cache {path.parent}: {err.strerror or err}") from None
    model, info = train()
    model = model.cpu().eval()
    save_checkpoint(path, kind, config, {"model": model.state_dict()}, info)
    return model, info


def cached_result(kind: str, config: dict, compute: Callable[[], dict]) -> dict:
    """Load the cached result of ``kind`` computed with ``config``, or compute, cache and return it.

    For what is trained on one image and kept as its outcome (Deep Image Prior's curves),
    not as a reusable model. ``compute()`` returns a dict of tensors, numbers, strings and
    lists of them. An unreadable cached file is reported on stderr and recomputed.
    """
    path = cached_path(kind, config)
    if path.is_file():
        try:
            return dict(load_checkpoint(path, kind)["state"])
        except CheckpointError as err:
            print(f"gaedu: the cached {kind} at {path} cannot be used ({err}); computing it again", file=sys.stderr)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OSError(f"cannot create the model cache {path.parent}: {err.strerror or err}") from None
    result = compute()
    save_checkpoint(path, kind, config, result)
    return result
