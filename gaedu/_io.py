"""The one atomic file writer: a crash or a full disk never leaves half a file under the real name."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

_UMASK_LOCK = threading.Lock()


def _umask() -> int:
    """Return the process's umask without changing it where the system allows (Linux), else under a lock."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _UMASK_LOCK:  # elsewhere the only way to read the umask is to set it and set it back
        mask = os.umask(0o077)
        os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> Path:
    """Write a file by calling ``write(file)`` on a temporary file, then renaming it over ``path``.

    The temporary file has a unique name in the target's folder (two writers never
    collide), gets the permissions a plain ``open()`` would give (``0o666`` less the
    umask, not ``mkstemp``'s owner-only ``0o600``), is flushed and synced before the
    rename, and is removed if anything fails. The folder is synced after the rename
    where the system allows it, so the new name survives a power loss.

    Raises:
        FileNotFoundError: the folder does not exist.
        OSError: the file could not be written (the message is the system's).
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot write {path}: the folder {path.parent} does not exist")
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if hasattr(os, "fchmod"):  # not on Windows
            os.fchmod(handle, 0o666 & ~_umask())
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)  # atomic on POSIX and Windows
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    try:  # make the rename durable; not possible on every system (Windows cannot open a folder)
        folder = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return path
    try:
        os.fsync(folder)
    except OSError:
        pass
    finally:
        os.close(folder)
    return path


#: A temporary file older than this was left by a write that was killed (SIGKILL, power loss).
STALE_SECONDS = 24 * 3600


def sweep_stale(folder: Path, pattern: str = ".*.tmp") -> None:
    """Remove the temporary files matching ``pattern`` in ``folder`` that a killed write left behind a day ago or more."""
    for stale in folder.glob(pattern):
        try:
            if time.time() - stale.stat().st_mtime > STALE_SECONDS:
                stale.unlink()
        except OSError:
            pass


def check_writable(folder: Path, needed: int, prefix: str = ".probe.") -> None:
    """Raise ``OSError`` (with a readable reason) unless this process can create a file in ``folder`` with ``needed`` bytes free.

    Only writing tells (root ignores permissions), so a probe file is created and removed.
    """
    handle, probe = tempfile.mkstemp(prefix=prefix, suffix=".probe", dir=folder)
    os.close(handle)
    os.unlink(probe)
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise OSError(f"{free / 2**20:.1f} MB free in {folder}, about {needed / 2**20:.1f} MB needed")
