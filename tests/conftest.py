"""Shared fixtures: the repository layout and a book built once per test run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the environment pytest runs in (.venv under `make test`)


def build_book(root: Path) -> subprocess.CompletedProcess:
    """Build the book in ``root`` with the Makefile's own flags; return the finished process."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), "build-book", f"BOOK_ROOT={root}", f"BIN={BIN}"],
        capture_output=True,
        text=True,
        env=env,
    )


@pytest.fixture(scope="session")
def built_book() -> Path:
    """Build the real book once (executing every notebook) and return ``_build/html``."""
    result = build_book(ROOT)
    if result.returncode != 0:
        pytest.fail(f"the book build failed:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}", pytrace=False)
    return ROOT / "_build" / "html"
