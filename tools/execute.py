"""Execute every notebook of the book, two at a time, into the build's jupyter-cache (``make build-book`` runs this).

The build (``_config.yml``: ``execute_notebooks: cache``) then takes each notebook's
outputs from that cache, so every notebook still runs exactly once per build, but
two run at once, one per core. Each kernel gets one thread (``OMP_NUM_THREADS=1``):
two processes that each wanted both cores would spend their time waiting for each
other, and nbval, which runs the notebooks a second time under ``make test``, runs
them with the same single thread, so their checked outputs can repeat exactly.

The cache is reused from the last build when nothing a notebook reads besides its own
code has changed: the cache stores each notebook under a hash of its code cells, so a
notebook whose code is unchanged is not executed again (``make book``: editing one
chapter re-executes that chapter only). What else a notebook reads is summed up in
a fingerprint (:func:`fingerprint`: the gaedu package, the book's other files, the
pinned requirements and the model cache's files); when it differs from the one stored
with the cache, the cache and Sphinx's saved pages are emptied and everything runs
again. ``--fresh`` (``make test``) empties them always, so nothing from an earlier
build is reused. A notebook that fails here is left out of the cache: the build then
runs it again itself and fails on its error with the cell's traceback.

After the build, ``--write-executed`` writes each executed notebook (the source
with the cached outputs, as the pages show them) to ``_build/jupyter_execute``,
where nbval and the student edition read them: myst-nb 1.x writes the source
notebook there without its outputs when they come from the cache.

Usage: .venv/bin/python -m tools.execute [--root .] [--timeout 300] [--fresh] [--write-executed]
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import shutil
import sys
import time
from pathlib import Path

from tools.student_edition import chapter_notebooks


def _hash_files(digest, root: Path, files: list[Path]) -> None:
    for path in sorted(files):
        # Not Python's or a tool's caches (__pycache__, .ruff_cache, .ipynb_checkpoints): they are not the book's files.
        parts = path.relative_to(root).parts
        if path.is_file() and "__pycache__" not in parts and not any(p.startswith(".") for p in parts):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")


def sphinx_fingerprint(root: Path) -> str:
    """A hash of the book's Sphinx extensions (``book/_ext``): when they change, every page is read again."""
    digest = hashlib.sha256()
    _hash_files(digest, root, list((root / "book" / "_ext").rglob("*")))
    return digest.hexdigest()


def fingerprint(root: Path) -> str:
    """A hash of what the notebooks read besides their own code cells.

    The gaedu package's sources, every file under ``book/`` that is not a notebook
    and not a Markdown page (data, helpers, the bibliography; not the Sphinx extensions), the pinned requirements, and the name, size and
    time of every file in the model cache (a model trained again changes its time).
    One line per part (:func:`_changed` names the part that changed).
    """
    from gaedu.cache import cache_dir

    code = hashlib.sha256()
    book = [p for p in (root / "book").rglob("*") if p.suffix not in (".ipynb", ".md") and "_ext" not in p.parts]
    files = [*(root / "gaedu").rglob("*.py"), *book] + [root / n for n in ("requirements.txt", "constraints.txt", "pyproject.toml")]
    _hash_files(code, root, files)
    models = cache_dir()
    listing = []
    if models.is_dir():
        for path in sorted(models.rglob("*")):
            if path.is_file() and not path.name.startswith("."):  # not a model being written (gaedu._io's temporaries)
                info = path.stat()
                listing.append(f"{path.relative_to(models)} {info.st_size} {info.st_mtime_ns}")
    return f"the package, the book's files and the requirements {code.hexdigest()}\n" + "".join(
        f"model {line}\n" for line in listing
    )


def _changed(before: str, now: str) -> str:
    """Say what differs between two fingerprints (for the build's log)."""
    differ = set(before.splitlines()) ^ set(now.splitlines())
    said = ["the package, the book's files or the requirements"] if any(not x.startswith("model ") for x in differ) else []
    models = sorted({line.split(" ")[1] for line in differ if line.startswith("model ")})
    if models:
        more = ", ..." if len(models) > 3 else ""
        said.append(f"the model cache ({len(models)} files: {', '.join(models[:3])}{more})")
    return "; ".join(said) or "nothing"


def write_executed(root: Path) -> int:
    """Write every notebook with its outputs from the cache to ``_build/jupyter_execute``; return 0, or 1 if one is missing."""
    import nbformat
    from jupyter_cache import get_cache

    cache = get_cache(root / "_build" / ".jupyter_cache")
    missing = []
    for notebook in chapter_notebooks(root):
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


def record_execution(root: Path, notebook: Path, by: str, seconds: float) -> None:
    """Append one execution of ``notebook`` to ``_build/executions.jsonl``: ``make test`` fails if a chapter ran more than twice."""
    import json

    log = root / "_build" / "executions.jsonl"
    log.parent.mkdir(parents=True, exist_ok=True)
    notebook = Path(notebook).resolve()
    name = str(notebook.relative_to(root)) if notebook.is_relative_to(root) else str(notebook)
    with open(log, "a", encoding="utf-8") as file:
        file.write(json.dumps({"notebook": name, "by": by, "seconds": round(seconds, 1), "pid": os.getpid()}) + "\n")


def stale(root: Path, *, code_only: bool = False) -> list[Path]:
    """The notebooks a build would execute now: all of them if the fingerprint changed (unless
    ``code_only``: then only those whose code cells changed), else those whose code changed."""
    from jupyter_cache import get_cache

    path = root / "_build" / ".jupyter_cache"
    stamp = path / "gaedu-fingerprint"
    found = chapter_notebooks(root)
    if not path.is_dir() or (not code_only and (not stamp.is_file() or stamp.read_text() != fingerprint(root))):
        return found
    cache = get_cache(path)
    done = {Path(r.uri) for r in cache.list_project_records()} - {Path(r.uri) for r in cache.list_unexecuted()}
    return [notebook for notebook in found if notebook not in done]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=".", help="the book's folder (where _config.yml is)")
    parser.add_argument("--timeout", type=int, default=300, help="seconds a cell may take")
    parser.add_argument("--fresh", action="store_true", help="execute every notebook, reusing nothing")
    parser.add_argument("--write-executed", action="store_true", help="after the build: write the executed notebooks")
    parser.add_argument("--prepare", action="store_true",
                        help="empty the cache if needed and list the notebooks in it, but execute nothing (make test's "
                             "scheduler then executes one notebook per job with --notebook)")  # fmt: skip
    parser.add_argument("--notebook", nargs="+", default=None,
                        help="execute only these notebooks (if their code is not in the cache), one at a time")
    parser.add_argument("--code-only", action="store_true",
                        help="keep the cache when the package or the model cache changed (make check): "
                             "only notebooks whose code changed are executed")  # fmt: skip
    parser.add_argument("--require-cached", action="store_true",
                        help="execute nothing; fail if a notebook would be executed (the PDF under make test)")
    args = parser.parse_args(argv)
    root = Path(args.root).resolve()
    if args.write_executed:
        return write_executed(root)
    if args.require_cached:
        if todo := stale(root):
            names = ", ".join(str(p.relative_to(root)) for p in todo[:4]) + (", ..." if len(todo) > 4 else "")
            print(f"{len(todo)} notebooks are not in the build's cache as they are now ({names}); "
                  "build the book first (make book): this build must not execute them", file=sys.stderr)  # fmt: skip
            return 1
        print(f"all {len(chapter_notebooks(root))} notebooks are in the build's cache: nothing to execute")
        return 0
    os.environ["OMP_NUM_THREADS"] = "1"  # inherited by every kernel
    from jupyter_cache import get_cache
    from jupyter_cache.executors import load_executor

    path = root / "_build" / ".jupyter_cache"  # where myst-nb looks for it (next to _build/html)
    if args.notebook is not None:
        if missing := [n for n in args.notebook if not Path(n).is_file() or not n.endswith(".ipynb")]:
            parser.error(f"no such notebook: {', '.join(missing)}")
        return _execute_some(root, path, [Path(n).resolve() for n in args.notebook], args.timeout)
    stamp = path / "gaedu-fingerprint"
    current = fingerprint(root)
    before = stamp.read_text() if stamp.is_file() else None
    if args.fresh or (before != current and not (args.code_only and before is not None)):
        reason = "--fresh" if args.fresh else "no earlier build" if before is None else f"changed: {_changed(before, current)}"
        print(f"starting with an empty cache ({reason})")
        # Sphinx's saved pages go too: a page whose notebook is unchanged but whose
        # outputs are new must be read again.
        shutil.rmtree(path, ignore_errors=True)
        shutil.rmtree(root / "_build" / ".doctrees", ignore_errors=True)
    pages = root / "_build" / ".doctrees" / "gaedu-extensions"
    if not pages.is_file() or pages.read_text() != sphinx_fingerprint(root):
        shutil.rmtree(pages.parent, ignore_errors=True)
    cache = get_cache(path)
    path.mkdir(parents=True, exist_ok=True)
    stamp.write_text(current)
    pages.parent.mkdir(parents=True, exist_ok=True)
    pages.write_text(sphinx_fingerprint(root))
    found = chapter_notebooks(root)
    if not found:
        return 0
    for notebook in found:
        cache.add_nb_to_project(str(notebook))
    if args.prepare:
        print(f"{len(cache.list_unexecuted())} of {len(found)} notebooks to execute")
        return 0
    logger = logging.getLogger("execute")
    logger.addHandler(logging.StreamHandler(sys.stdout))
    logger.setLevel(logging.WARNING)
    start = time.perf_counter()
    todo = len(cache.list_unexecuted())
    print(
        f"executing {todo} of {len(found)} notebooks ({len(found) - todo} unchanged since the last build), "
        f"{max(1, min(todo, os.cpu_count() or 1))} at a time, one thread each"
    )
    result = load_executor("local-parallel", cache=cache, logger=logger).run_and_cache(timeout=args.timeout)
    seconds = time.perf_counter() - start
    for uri in [*result.succeeded, *result.excepted, *result.errored]:
        record_execution(root, Path(uri), "build", _seconds(cache, uri))
    for record in cache.list_project_records():
        name = Path(record.uri).relative_to(root)
        if record.traceback:
            print(f"  failed: {name} (the build runs it again and reports the error)")
    print(f"executed {len(result.succeeded)} of {len(found)} notebooks in {seconds:.0f} s")
    return 0


def _seconds(cache, uri: str) -> float:
    """The execution seconds jupyter-cache recorded for ``uri`` (0 if it failed)."""
    try:
        record = cache.get_cached_project_nb(uri)
        return float((record.data or {}).get("execution_seconds", 0.0)) if record else 0.0
    except Exception:
        return 0.0


def _execute_some(root: Path, path: Path, chosen: list[Path], timeout: int) -> int:
    """Execute the ``chosen`` notebooks (already in the project, see ``--prepare``) whose code is not cached."""
    from jupyter_cache import get_cache
    from jupyter_cache.executors import load_executor

    cache = get_cache(path)
    for notebook in chosen:
        cache.add_nb_to_project(str(notebook))
    logger = logging.getLogger("execute")
    logger.addHandler(logging.StreamHandler(sys.stdout))
    logger.setLevel(logging.WARNING)
    failed = 0
    for notebook in chosen:
        start = time.perf_counter()
        result = load_executor("local-serial", cache=cache, logger=logger).run_and_cache(
            filter_uris=[str(notebook)], timeout=timeout)  # fmt: skip
        if not [*result.succeeded, *result.excepted, *result.errored]:
            print(f"{notebook.relative_to(root)}: unchanged since the last build, not executed")
            continue
        seconds = time.perf_counter() - start
        record_execution(root, notebook, "build", seconds)
        ok = str(notebook) in result.succeeded
        failed += not ok
        print(f"{notebook.relative_to(root)}: executed in {seconds:.0f} s{'' if ok else ', FAILED'}")
        if not ok:
            for record in cache.list_project_records(filter_uris=[str(notebook)]):
                print(record.traceback or "", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
