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
    """Return ``_build/html``, building the real book first (executing every notebook) unless it is up to date.

    Under `make test` (``GAEDU_PIPELINE=1``) it never builds: the pipeline's own build comes
    first, and a test that found none would execute every chapter a third time. Elsewhere
    the build runs under a lock, so two pytest workers never build into one folder at once.
    """
    stamp = ROOT / "_build" / "html" / ".built"
    if os.environ.get("GAEDU_PIPELINE"):
        if not stamp.exists():
            pytest.fail("make test's book build has not run (no _build/html/.built); this test must not build it",
                        pytrace=False)  # fmt: skip
        return ROOT / "_build" / "html"
    import fcntl

    (ROOT / "_build").mkdir(exist_ok=True)
    with open(ROOT / "_build" / ".build-lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _is_fresh(stamp):
            result = build_book(ROOT)
            if result.returncode != 0:
                pytest.fail(f"the book build failed:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}", pytrace=False)
    return ROOT / "_build" / "html"
