"""Execute every chapter notebook from a cold kernel and print seconds per notebook.

Usage: .venv/bin/python bench/book.py [NOTEBOOK ...]

Target on a 2-core CPU: each notebook at most 60 s.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 60.0


def execute_seconds(path: Path) -> float:
    """Run one notebook in a fresh kernel, in its own folder, and return the wall time."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def main(argv: list[str]) -> int:
    paths = [Path(a).resolve() for a in argv] or sorted(
        p for p in (ROOT / "book").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
    )
    total, slow = 0.0, []
    print(f"{'notebook':<58} {'seconds':>8}")
    for path in paths:
        seconds = execute_seconds(path)
        total += seconds
        flag = "" if seconds <= TARGET_S else "  over target"
        slow += [path] if flag else []
        print(f"{str(path.relative_to(ROOT)):<58} {seconds:>8.1f}{flag}", flush=True)
    print(f"{'total':<58} {total:>8.1f}")
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
