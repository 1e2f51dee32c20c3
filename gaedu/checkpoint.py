"""Checkpoints: written atomically, read back with ``torch.load(weights_only=True)``.

A checkpoint is a plain dictionary of tensors and Python values::

    {"format": "gaedu", "version": 1, "kind": "gan", "config": {...}, "state": {...}, "info": {...}}

``config`` holds what is needed to rebuild the networks, ``state`` their
``state_dict``\\ s. Writing goes through :func:`gaedu._io.atomic_write` (a temporary file in the
same folder, renamed over the target), so a crash never leaves half a
checkpoint under the real name. Reading refuses anything that is missing, truncated, not a
gaedu checkpoint, or of the wrong kind, with a one-line :class:`CheckpointError`.
"""

from __future__ import annotations

import os
import pickle
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn

from gaedu._io import atomic_write
from gaedu.device import get_device

M = TypeVar("M", bound=nn.Module)

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
        CheckpointError: the folder does not exist, or the file cannot be written
            (nothing is left under ``path`` or beside it).
    """
    path = Path(path)
    payload = {"format": FORMAT, "version": VERSION, "kind": kind, "config": config, "state": state, "info": info or {}}
    try:
        atomic_write(path, lambda file: torch.save(payload, file))
    except OSError as err:  # a missing folder, no permission, a full disk
        raise CheckpointError(f"cannot write {path}: {err.strerror}" if err.strerror else str(err)) from None
    except (pickle.PicklingError, TypeError, AttributeError) as err:  # something in config or info cannot be saved
        raise CheckpointError(f"cannot write {path}: {str(err).splitlines()[0][:160]}") from None
    except RuntimeError:  # torch's writer reports a short write (a full disk) this way
        raise CheckpointError(f"cannot write {path}: the disk is full or the write failed") from None
    return path


def _damaged_member(path: Path) -> str | None:
    """The first member of a checkpoint's zip whose CRC-32 does not match its bytes (flipped bits), else None.

    ``torch.load`` does not check them; this reads the file once (milliseconds for the book's models)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            return archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return None  # not a zip at all, or truncated: torch.load says so


def load_checkpoint(path: str | os.PathLike, kind: str | tuple[str, ...]) -> dict[str, Any]:
    """Read a checkpoint of the given ``kind`` (or of one of several kinds) safely (``weights_only=True``) onto the CPU.

    Raises:
        CheckpointError: the file is missing, unreadable, truncated, not a gaedu
            checkpoint, of another kind or of another format version.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    if damaged := _damaged_member(path):
        raise CheckpointError(f"{path} is corrupt: its part {damaged} does not match its checksum (the file was damaged)")
    try:
        with warnings.catch_warnings():  # torch warns before it refuses a legacy pickle: the error says enough
            warnings.simplefilter("ignore")
            payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated zip, foreign pickle, unsafe globals, ...
        lines = [line.strip() for line in str(err).splitlines() if line.strip()]
        unsafe = [line for line in lines if "unsupported" in line.lower()]  # what weights_only refused (a global, an opcode)
        reason = (unsafe or lines or [type(err).__name__])[0]
        raise CheckpointError(f"{path} is not a readable checkpoint (corrupt or not made by gaedu): {reason[:160]}") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a gaedu checkpoint")
    if payload.get("version") != VERSION:
        raise CheckpointError(f"{path} has checkpoint format version {payload.get('version')!r}; this gaedu reads {VERSION}")
    kinds = (kind,) if isinstance(kind, str) else tuple(kind)
    if payload.get("kind") not in kinds:
        wanted = " or ".join(map(repr, kinds))
        raise CheckpointError(f"{path} holds a checkpoint of kind {payload.get('kind')!r}, not of kind {wanted}")
    for key in ("config", "state"):
        if not isinstance(payload.get(key), dict):
            raise CheckpointError(f"{path} is damaged: its {key!r} entry is missing")
    return payload


def checkpoint_kind(path: str | os.PathLike, kinds: tuple[str, ...]) -> str:
    """Return what the checkpoint at ``path`` holds, one of ``kinds`` (it is read and checked as by :func:`load_checkpoint`)."""
    return load_checkpoint(path, kinds)["kind"]


def load_model(
    path: str | os.PathLike,
    kind: str,
    build: Callable[[dict[str, Any]], tuple[M, dict[str, Any]]],
    *,
    device: str | torch.device | None = None,
) -> M:
    """Load a checkpoint of ``kind`` and rebuild its model: the shared half of every ``load_*`` function.

    ``build(payload)`` returns ``(model, state_dict)``: a fresh model made from
    ``payload['config']`` and the weights to load into it. Whatever goes wrong while
    rebuilding (a config the model refuses, a missing or mis-shaped tensor) becomes a
    one-line :class:`CheckpointError`.

    Returns:
        The model with its weights, on ``device`` (default: the CPU), in eval mode.
    """
    payload = load_checkpoint(path, kind)
    try:
        model, state = build(payload)
        model.load_state_dict(state)
    except (TypeError, ValueError, KeyError, RuntimeError) as err:
        lines = [line.strip() for line in str(err).splitlines() if line.strip()]
        reason = " ".join(lines[:2])[:200] if lines else type(err).__name__  # load_state_dict says what on line 2
        raise CheckpointError(f"{path} does not describe a gaedu {kind}: {reason}") from None
    check_finite_weights(model, path)
    return model.to("cpu" if device is None else get_device(device)).eval()


def save_networks(path: str | os.PathLike, kind: str, config: dict, networks: dict[str, nn.Module | None],
                  info: dict | None = None) -> Path:  # fmt: skip
    """Write the weights of ``networks`` (by name; ``None`` entries are left out) to a checkpoint of ``kind``.

    The shared half of every ``save_*`` function: a GAN saves its generator, discriminator and
    weight average, a score model its network and weight average, an autoencoder its network.
    """
    state = {name: network.state_dict() for name, network in networks.items() if network is not None}
    return save_checkpoint(path, kind, config, state, info)


def load_network(path: str | os.PathLike, kind: str, build: Callable[[dict[str, Any]], M], names: tuple[str, ...], *,
                 device: str | torch.device | None = None) -> M:  # fmt: skip
    """Load one network from a checkpoint written by :func:`save_networks`, in eval mode.

    ``build(config)`` makes a fresh network from the saved settings; its weights are the first
    of ``names`` the checkpoint holds (``('ema_generator', 'generator')``: the weight average
    when there is one). Errors are :func:`load_model`'s.
    """

    def rebuild(payload: dict[str, Any]) -> tuple[M, dict[str, Any]]:
        state = payload["state"]
        name = next((name for name in names if name in state), names[-1])
        return build(payload["config"]), state[name]

    return load_model(path, kind, rebuild, device=device)


def check_finite_weights(model: nn.Module, path: str | os.PathLike) -> None:
    """Raise :class:`CheckpointError` if a weight or buffer of ``model`` (loaded from ``path``) is NaN or infinite."""
    bad = [name for name, value in model.state_dict().items()
           if value.is_floating_point() and not bool(torch.isfinite(value).all())]  # fmt: skip
    if bad:
        raise CheckpointError(f"{path} holds NaN or infinite weights ({bad[0]}{', ...' if len(bad) > 1 else ''})")
