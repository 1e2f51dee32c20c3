"""Write nbgrader assignments from the chapter notebooks (``make classroom`` runs this).

For every chapter with exercises it writes, under ``_build/classroom/nbgrader``:

* ``source/<chapter>/<chapter>.ipynb``: the chapter with nbgrader's cell metadata. Each
  exercise that ends with a checker gets an *answer* cell (``nbgrader.solution``) holding the
  chapter's solution code between ``### BEGIN SOLUTION`` and ``### END SOLUTION``, and after
  it a locked *grade* cell (``nbgrader.grade``, one point) with the solution's checker call
  (:mod:`gaedu.exercises`): a wrong answer raises, which nbgrader scores 0. The solution
  cells and their explanations are left out; exercises without a checker keep their
  starting code and are read by the teacher.
* ``release/<chapter>/<chapter>.ipynb``: the student version, made by nbgrader's own
  ``generate_assignment`` (solutions replaced by ``raise NotImplementedError()``).
* ``nbgrader_config.py``: the course folder's configuration.

Everything comes from the chapters' ``solution`` tags and checker calls, so there is one
source of truth. ``--validate`` then runs ``nbgrader validate`` on every source notebook
(each must pass) and every released one (each must fail), two at a time.

Usage: .venv/bin/python tools/classroom.py [--out _build/classroom] [--validate]
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from exercise_counts import _LABEL, _SOLUTION  # noqa: E402
from student_edition import ROOT, is_solution, toc_entries  # noqa: E402

SCHEMA = 3  # nbgrader's cell-metadata schema
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
_CHECK_LINE = re.compile(r"^check_\w+\(")


def chapters(root: Path = ROOT) -> list[Path]:
    """The chapter notebooks that have exercises, in the order of ``_toc.yml``."""
    found = [root / f"{entry}.ipynb" for entry in toc_entries(root)]
    return [path for path in found if path.exists() and "{exercise-start}" in path.read_text(encoding="utf-8")]


def _text(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _split_checks(code: str) -> tuple[str, str]:
    """Split solution code into (answer, checker calls): the top-level ``check_…(…)`` statements go to the second."""
    answer, checks, lines = [], [], code.splitlines()
    i = 0
    while i < len(lines):
        if _CHECK_LINE.match(lines[i]):
            call = [lines[i]]
            while sum(s.count("(") - s.count(")") for s in call) > 0:  # a call over several lines
                i += 1
                call.append(lines[i])
            checks.extend(call)
        else:
            answer.append(lines[i])
        i += 1
    return re.sub(r"\n{4,}", "\n\n\n", "\n".join(answer)).strip("\n"), "\n".join(checks)


def _meta(grade_id: str, *, solution: bool, grade: bool, locked: bool, points: int | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": SCHEMA, "solution": solution}
    if points is not None:
        meta["points"] = points
    return meta


def _starting_point(stub: str) -> str:
    """The exercise's starting code as comments, without its commented-out checker call."""
    kept = [line for line in stub.splitlines() if line.strip() and not line.lstrip().startswith("# check_")]
    return "\n".join(["# The exercise starts from:"] + [f"#     {line}" for line in kept])


def source_notebook(path: Path) -> tuple[nbformat.NotebookNode, list[str]]:
    """Return the chapter as an nbgrader source notebook, and the labels of its graded exercises."""
    notebook = nbformat.read(path, as_version=4)
    solutions: dict[str, list[str]] = {}
    label = solution = None
    for cell in notebook.cells:  # first pass: every solution's code, by label
        text = _text(cell)
        if found := _SOLUTION.search(text):
            solution = found.group(1)
        if solution and cell.cell_type == "code":
            solutions.setdefault(solution, []).append(text)
        if "{solution-end}" in text:
            solution = None
    cells, graded = [], []
    for cell in notebook.cells:
        text = _text(cell)
        if is_solution(cell):
            continue
        if found := _LABEL.search(text):
            label = found.group(1)
        code = "\n\n".join(solutions.get(label or "", []))
        answer, checks = _split_checks(code)
        if label and cell.cell_type == "code" and checks and label not in graded:
            graded.append(label)
            body = f"{_starting_point(text)}\n{BEGIN}\n{answer}\n{END}" if answer else f"{BEGIN}\n{END}"
            answer_cell = nbformat.v4.new_code_cell(body)
            answer_cell.metadata["nbgrader"] = _meta(f"{label}-answer", solution=True, grade=False, locked=False)
            grade_cell = nbformat.v4.new_code_cell(checks)
            grade_cell.metadata["nbgrader"] = _meta(f"{label}-check", solution=False, grade=True, locked=True, points=1)
            cells.extend([answer_cell, grade_cell])
        else:
            cells.append(copy.deepcopy(cell))
        if "{exercise-end}" in text:
            label = None
    for cell in cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    notebook.cells = cells
    return notebook, graded


def write_sources(out: Path, root: Path = ROOT) -> dict[str, list[str]]:
    """Write every chapter's source notebook and the course configuration; return the graded labels by chapter."""
    course = out / "nbgrader"
    course.mkdir(parents=True, exist_ok=True)
    (course / "nbgrader_config.py").write_text(
        "# nbgrader's configuration for the course folder written by tools/classroom.py\n"
        "c = get_config()  # noqa: F821 (nbgrader defines it)\n"
        "c.CourseDirectory.root = __file__.rsplit('/', 1)[0]\n"
        "c.Execute.timeout = 300  # seconds a cell may take; the chapters' longest take well under a minute\n",
        encoding="utf-8",
    )
    graded = {}
    for path in chapters(root):
        notebook, labels = source_notebook(path)
        target = course / "source" / path.stem / f"{path.stem}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, target)
        graded[path.stem] = labels
    return graded


def release(out: Path, names: list[str]) -> None:
    """Run nbgrader's ``generate_assignment`` for every chapter into ``release/``."""
    course = (out / "nbgrader").resolve()
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}  # nbgrader calls alembic
    for name in names:
        result = subprocess.run(
            [str(Path(bin_dir) / "nbgrader"), "generate_assignment", name, "--force", f"--CourseDirectory.root={course}"],
            cwd=course, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if result.returncode != 0 or not (course / "release" / name / f"{name}.ipynb").exists():
            raise RuntimeError(f"nbgrader generate_assignment {name} failed:\n{result.stdout}{result.stderr}")


def validate(path: str | Path) -> list[str]:
    """Run ``nbgrader validate`` on one notebook; return the sources of the grade cells that failed."""
    from nbgrader.validator import Validator
    from traitlets.config import Config

    os.environ["OMP_NUM_THREADS"] = "1"
    config = Config({"Execute": {"timeout": 300}})
    result = Validator(config=config).validate(str(path))
    return [failure["source"] for failure in result.get("failed", [])] + [
        f"changed: {change['source']}" for change in result.get("changed", [])
    ]


def _validate_all(out: Path, names: list[str]) -> int:
    course = out / "nbgrader"
    jobs = {(name, kind): course / kind / name / f"{name}.ipynb" for name in names for kind in ("source", "release")}
    with ProcessPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
        results = dict(zip(jobs, pool.map(validate, jobs.values()), strict=True))
    bad = 0
    for (name, kind), failed in results.items():
        if kind == "source" and failed:
            print(f"  {name}: the source fails {len(failed)} grade cell(s): {failed[0][:80]!r}")
            bad += 1
        if kind == "release" and not failed:
            print(f"  {name}: the released notebook passes without answers")
            bad += 1
    print(f"validated {len(names)} sources (all must pass) and {len(names)} releases (all must fail): {bad} problem(s)")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "_build" / "classroom"), help="where to write the course folders")
    parser.add_argument("--validate", action="store_true", help="also run nbgrader validate on every notebook")
    args = parser.parse_args(argv)
    out = Path(args.out).resolve()
    graded = write_sources(out)
    release(out, list(graded))
    points = sum(len(labels) for labels in graded.values())
    print(f"wrote {len(graded)} nbgrader assignments ({points} graded exercises, a point each) to {out / 'nbgrader'}")
    return _validate_all(out, list(graded)) if args.validate else 0


if __name__ == "__main__":
    sys.exit(main())
