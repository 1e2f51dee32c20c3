"""Checkpoints: written atomically, read back with ``torch.load(weights_only=True)``.

A checkpoint is a plain dictionary of tensors and Python values::

    {"format": "gaedu", "version": 1, "kind": "gan", "config": {...}, "state": {...}, "info": {...}}

``config`` holds what is needed to rebuild the networks, ``state`` their
``state_dict``\\ s. Writing goes to a temporary file in the same folder that is
then renamed over the target, so a crash never leaves half a checkpoint under
the real name. Reading refuses anything that is missing, truncated, not a
gaedu checkpoint, or of the wrong kind, with a one-line :class:`CheckpointError`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

FORMAT, VERSION = "gaedu", 1


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message says why in one line."""


def save_checkpoint(path: str | os.PathLike, kind: str, config: dict, state: dict, info: dict | None = None) -> Path:
    """Write a checkpoint atomically and return its path.

    Args:
        path: where to write; the folder must exist.
        kind: what the checkpoint holds, e.g. ``'gan'`` or ``'autoencoder'``.
        config: plain Python values that rebuild the model.
        state: ``state_dict``\\ s by name.
        info: anything else worth keeping (plain values or tensors).

    Raises:
        CheckpointError: the folder does not exist or cannot be written.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise CheckpointError(f"cannot write {path}: the folder {path.parent} does not exist")
    payload = {"format": FORMAT, "version": VERSION, "kind": kind, "config": config, "state": state, "info": info or {}}
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        raise CheckpointError(f"cannot write {path}: {err.strerror}") from None
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(payload, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)  # atomic on POSIX and Windows
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | os.PathLike, kind: str) -> dict[str, Any]:
    """Read a checkpoint of the given ``kind`` safely (``weights_only=True``) onto the CPU.

    Raises:
        CheckpointError: the file is missing, unreadable, truncated, not a gaedu
            checkpoint, of another kind or of a newer format version.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated zip, foreign pickle, unsafe globals, ...
        lines = [line.strip() for line in str(err).splitlines() if line.strip()]
        unsafe = [line for line in lines if "Unsupported global" in line]  # what weights_only refused
        reason = (unsafe or lines or [type(err).__name__])[0]
        raise CheckpointError(f"{path} is not a readable checkpoint (corrupt or not made by gaedu): {reason[:160]}") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a gaedu checkpoint")
    if payload.get("version") != VERSION:
        raise CheckpointError(f"{path} has checkpoint format version {payload.get('version')!r}; this gaedu reads {VERSION}")
    if payload.get("kind") != kind:
        raise CheckpointError(f"{path} holds a {payload.get('kind')!r} checkpoint, not a {kind!r} one")
    for key in ("config", "state"):
        if not isinstance(payload.get(key), dict):
            raise CheckpointError(f"{path} is damaged: its {key!r} entry is missing")
    return payload
