"""Execute every chapter notebook from a cold kernel and print seconds per notebook and the total.

Usage: .venv/bin/python -m bench.book [--fresh-clone] [NOTEBOOK ...]

With --fresh-clone it also clones this repository's committed state into a
temporary folder and times `make book` there (install included).
Targets on a 2-core CPU: each notebook at most 60 s, the whole book at most 8 minutes.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from tools.student_edition import chapter_notebooks

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 60.0
BOOK_TARGET_S = 8 * 60.0


def execute_seconds(path: Path) -> float:
    """Run one notebook in a fresh kernel, in its own folder, and return the wall time."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def fresh_clone_make_book() -> float:
    """Clone the repository's committed state into a temporary folder, run `make book` there, return its wall time."""
    with tempfile.TemporaryDirectory() as folder:
        clone = Path(folder) / "book"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        start = time.perf_counter()
        result = subprocess.run(["make", "book"], cwd=clone, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if result.returncode != 0:
            raise SystemExit(f"make book failed in the fresh clone:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return seconds


def main(argv: list[str]) -> int:
    fresh = "--fresh-clone" in argv
    argv = [a for a in argv if a != "--fresh-clone"]
    paths = [Path(a).resolve() for a in argv] or sorted(chapter_notebooks(ROOT))  # the one chapter list, by path
    total, slow = 0.0, []
    print(f"{'notebook':<58} {'seconds':>8}")
    for path in paths:
        seconds = execute_seconds(path)
        total += seconds
        flag = "" if seconds <= TARGET_S else "  over target"
        slow += [path] if flag else []
        print(f"{str(path.relative_to(ROOT)):<58} {seconds:>8.1f}{flag}", flush=True)
    over = "" if total <= BOOK_TARGET_S else "  over target"
    print(f"{'total':<58} {total:>8.1f}{over}")
    if fresh:
        print(f"{'make book in a fresh clone (install included)':<58} {fresh_clone_make_book():>8.1f}")
    return 1 if slow or over else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
