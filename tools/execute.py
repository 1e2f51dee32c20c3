"""Execute every notebook of the book, two at a time, into the build's jupyter-cache (``make build-book`` runs this).

The build (``_config.yml``: ``execute_notebooks: cache``) then takes each notebook's
outputs from that cache, so every notebook still runs exactly once per build, but
two run at once, one per core. Each kernel gets one thread (``OMP_NUM_THREADS=1``):
two processes that each wanted both cores would spend their time waiting for each
other, and nbval, which runs the notebooks a second time under ``make test``, runs
them with the same single thread, so their checked outputs can repeat exactly.

The cache is emptied first, so nothing from an earlier build is reused. A notebook
that fails here is left out of the cache: the build then runs it again itself and
fails on its error with the cell's traceback.

After the build, ``--write-executed`` writes each executed notebook (the source
with the cached outputs, as the pages show them) to ``_build/jupyter_execute``,
where nbval and the student edition read them: myst-nb 1.x writes the source
notebook there without its outputs when they come from the cache.

Usage: .venv/bin/python tools/execute.py [--root .] [--timeout 300] [--write-executed]
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from student_edition import toc_entries  # noqa: E402


def notebooks(root: Path) -> list[Path]:
    """Return the table of contents' notebooks, in reading order."""
    return [root / f"{entry}.ipynb" for entry in toc_entries(root) if (root / f"{entry}.ipynb").exists()]


def write_executed(root: Path) -> int:
    """Write every notebook with its outputs from the cache to ``_build/jupyter_execute``; return 0, or 1 if one is missing."""
    import nbformat
    from jupyter_cache import get_cache

    cache = get_cache(root / "_build" / ".jupyter_cache")
    missing = []
    for notebook in notebooks(root):
        try:
            _, executed = cache.merge_match_into_notebook(nbformat.read(notebook, as_version=4))
        except KeyError:
            missing.append(str(notebook.relative_to(root)))
            continue
        target = root / "_build" / "jupyter_execute" / notebook.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(executed, target)
    if missing:
        print(f"not in the cache, so not executed: {', '.join(missing)}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=".", help="the book's folder (where _config.yml is)")
    parser.add_argument("--timeout", type=int, default=300, help="seconds a cell may take")
    parser.add_argument("--write-executed", action="store_true", help="after the build: write the executed notebooks")
    args = parser.parse_args(argv)
    root = Path(args.root).resolve()
    if args.write_executed:
        return write_executed(root)
    os.environ["OMP_NUM_THREADS"] = "1"  # inherited by every kernel
    from jupyter_cache import get_cache
    from jupyter_cache.executors import load_executor

    path = root / "_build" / ".jupyter_cache"  # where myst-nb looks for it (next to _build/html)
    shutil.rmtree(path, ignore_errors=True)
    cache = get_cache(path)
    found = notebooks(root)
    if not found:
        return 0
    for notebook in found:
        cache.add_nb_to_project(str(notebook))
    logger = logging.getLogger("execute")
    logger.addHandler(logging.StreamHandler(sys.stdout))
    logger.setLevel(logging.WARNING)
    start = time.perf_counter()
    print(f"executing {len(found)} notebooks, {min(len(found), os.cpu_count() or 1)} at a time, one thread each")
    result = load_executor("local-parallel", cache=cache, logger=logger).run_and_cache(timeout=args.timeout)
    seconds = time.perf_counter() - start
    for record in cache.list_project_records():
        name = Path(record.uri).relative_to(root)
        if record.traceback:
            print(f"  failed: {name} (the build runs it again and reports the error)")
    print(f"executed {len(result.succeeded)} of {len(found)} notebooks in {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
