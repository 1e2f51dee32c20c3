"""gaedu._io.atomic_write: the bytes, the permissions of a plain open(), and nothing half-written or left behind."""

import errno
import os
import stat
import sys
import threading
from contextlib import contextmanager

import pytest

from gaedu._io import atomic_write

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")


@contextmanager
def umask(mask):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_writes_the_bytes_and_returns_the_path(tmp_path):
    target = tmp_path / "data.bin"
    payload = bytes(range(256)) * 10
    assert atomic_write(str(target), lambda file: file.write(payload)) == target
    assert target.read_bytes() == payload
    atomic_write(target, lambda file: file.write(b"shorter"))  # replaces an existing file whole
    assert target.read_bytes() == b"shorter"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.bin"]


@posix_only
@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002, 0o027])
def test_the_file_gets_the_permissions_of_a_plain_open(tmp_path, mask):
    with umask(mask):
        with open(tmp_path / "plain.bin", "wb") as file:
            file.write(b"x")
        atomic_write(tmp_path / "atomic.bin", lambda file: file.write(b"x"))
        assert os.umask(mask) == mask  # atomic_write left the umask as it found it
    assert _mode(tmp_path / "atomic.bin") == _mode(tmp_path / "plain.bin") == 0o666 & ~mask


def test_a_missing_folder_raises_and_creates_nothing(tmp_path):
    target = tmp_path / "no" / "such" / "file.bin"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        atomic_write(target, lambda file: file.write(b"x"))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "error",
    [OSError(errno.ENOSPC, "No space left on device"), RuntimeError("serialization failed"), KeyboardInterrupt()],
)
def test_a_failing_writer_keeps_the_old_file_and_leaves_no_temporary_file(tmp_path, error):
    target = tmp_path / "model.pt"
    target.write_bytes(b"the old content")

    def write(file):
        file.write(b"half of the new con")  # something reaches the temporary file before the failure
        raise error

    with pytest.raises(type(error)) as info:
        atomic_write(target, write)
    assert info.value is error  # the writer's own exception, unchanged
    assert target.read_bytes() == b"the old content"
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]


def test_a_failing_writer_on_a_new_target_creates_nothing(tmp_path):
    def write(file):
        file.write(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError, match="No space left on device"):
        atomic_write(tmp_path / "new.pt", write)
    assert list(tmp_path.iterdir()) == []


def test_two_writers_of_the_same_target_never_collide(tmp_path):
    target = tmp_path / "shared.bin"
    payloads = [b"a" * 200_000, b"b" * 300_000]
    barrier = threading.Barrier(2, timeout=10)
    listings, errors = [], []

    def writer(payload):
        def write(file):
            half = len(payload) // 2
            file.write(payload[:half])
            barrier.wait()  # both temporary files exist and are half written now
            listings.append(sorted(p.name for p in tmp_path.iterdir()))
            barrier.wait()  # neither renames before both have looked
            file.write(payload[half:])

        try:
            atomic_write(target, write)
        except BaseException as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(payload,)) for payload in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == [] and not any(thread.is_alive() for thread in threads)
    assert len(listings) == 2 and listings[0] == listings[1]
    temporaries = listings[0]
    assert len(temporaries) == 2 and "shared.bin" not in temporaries  # two distinct names beside the target
    assert target.read_bytes() in payloads  # one whole payload, never a mix
    assert [p.name for p in tmp_path.iterdir()] == ["shared.bin"]
