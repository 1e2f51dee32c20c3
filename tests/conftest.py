"""Shared fixtures: the repository layout and a book built once per test run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the environment pytest runs in (.venv under `make test`)


def build_book(root: Path, fresh: bool = True) -> subprocess.CompletedProcess:
    """Build the book in ``root`` with the Makefile's own flags (``fresh``: reusing nothing).

    A book other than the real one (the tests' small books) loads no model, so its build
    does not look at the model cache (``MODELS=none``).
    """
    # Not the calling make's variables: FRESH= on the command line overrides MAKEFLAGS and the environment.
    models = [] if Path(root).resolve() == ROOT else ["MODELS=none"]
    return make("build-book", f"BOOK_ROOT={root}", "FRESH=1" if fresh else "FRESH=", *models)


def make(*arguments: str) -> subprocess.CompletedProcess:
    """Run a target of the Makefile with this environment's Python, not inheriting the calling make's variables."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "FRESH")}
    env["PYTHONHASHSEED"] = "0"
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), *arguments, f"BIN={BIN}"], capture_output=True, text=True, env=env
    )


def _is_fresh(index: Path) -> bool:
    """Whether ``index`` is newer than every source of the book (so the last build can be reused).

    ``index`` is the stamp `make build-book` touches when it finishes (Sphinx leaves an unchanged
    ``index.html`` alone, so its time says nothing about the last build). Python's caches
    (``__pycache__``, written when a test imports the book's extensions) are not sources.
    """
    if not index.exists():
        return False
    sources = [ROOT / "_config.yml", ROOT / "_toc.yml", *(ROOT / "book").rglob("*"), *(ROOT / "gaedu").rglob("*.py")]
    return all(path.stat().st_mtime < index.stat().st_mtime for path in sources
               if path.is_file() and "__pycache__" not in path.parts)  # fmt: skip


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark what needs the built book (``built``) and the notebooks' cells (``notebook``), so `make test` can split them."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebook)
        elif "built_book" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.built)


@pytest.fixture(scope="session")
def built_book() -> Path:
    """Return ``_build/html``, the book `make book` or `make test` built; a test never builds it itself.

    A build executes every chapter, which a test must not do behind the suite's back: under
    `make test` (``GAEDU_PIPELINE=1``) a missing build fails the test (the pipeline builds
    first); elsewhere a missing or out-of-date build skips it, saying to run `make book`.
    """
    stamp = ROOT / "_build" / "html" / ".built"
    if os.environ.get("GAEDU_PIPELINE"):
        if not stamp.exists():
            pytest.fail("make test's book build has not run (no _build/html/.built); a test must not build it",
                        pytrace=False)  # fmt: skip
    elif not _is_fresh(stamp):
        pytest.skip("the built book is missing or older than its sources: run `make book` first")
    return ROOT / "_build" / "html"
