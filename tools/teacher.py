"""A teacher's grading, end to end, with the real tools and four simulated students.

The check run (``tools/check_run.py``) grades simulated students inside one execution of
every chapter, through nbgrader's and Otter's own grading functions. This module does what
a teacher does instead, with the tools' command lines, on one chapter:

* :func:`nbgrader_grades`: a copy of the nbgrader course, the students' notebooks in
  ``submitted/<student>/<chapter>/``, ``nbgrader autograde <chapter>`` and ``nbgrader
  export``; the scores are read from the exported ``grades.csv``.
* :func:`otter_grades`: each student's notebook made from Otter's student version,
  graded by ``otter run`` with the chapter's autograder zip; the scores are read from
  Otter's ``results.json``.
* :func:`autograder_environment`: the environment an autograder zip describes
  (``environment.yml``'s Python and pip requirements, which install ``gaedu`` from the
  wheel in the zip), built without Docker as a fresh virtual environment, where
  ``otter run`` can then grade as a grading service would.

The students are the check run's: the blank release, the chapter's solutions, the same
solutions in the student's own words, and a wrong answer to every exercise
(:func:`check_run.student`). ``tests/test_check_run.py``'s conformance tests run them on
the smallest chapter in ``make test``.
"""

from __future__ import annotations

import ast
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import nbformat

from tools import check_run, classroom

#: The simulated students, in the order they are graded.
STUDENTS = ("release", "source", "own words", "wrong")
#: What each deserves, as a fraction of the points.
DESERVES = {"release": 0.0, "source": 1.0, "own words": 1.0, "wrong": 0.0}
#: Seconds one grading command may take (the smallest chapter takes seconds).
TIMEOUT = 900


def _env(bin_dir: Path) -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}


def _run(command: list[str], cwd: Path, bin_dir: Path = Path(sys.executable).parent) -> str:
    done = subprocess.run(command, cwd=cwd, env=_env(bin_dir), capture_output=True, text=True, timeout=TIMEOUT)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command[:3])} failed ({done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}")
    return done.stdout + done.stderr


def _slug(who: str) -> str:
    return re.sub(r"\W", "-", who)


def nbgrader_students(course: Path, chapter: str) -> dict[str, nbformat.NotebookNode]:
    """The four students' nbgrader submissions of ``chapter``: the release as handed out, and the source
    with its answers as the solutions, in the student's own words, and wrong."""
    source = nbformat.read(course / "source" / chapter / f"{chapter}.ipynb", as_version=4)
    release = nbformat.read(course / "release" / chapter / f"{chapter}.ipynb", as_version=4)
    return {"release": release, "source": source,
            "own words": check_run.student(source, "own words"), "wrong": check_run.student(source, "wrong")}  # fmt: skip


def _answers(notebook) -> list[str]:
    """The code between nbgrader's solution markers in each answer cell, in order."""
    return [cell.source.split(classroom.BEGIN, 1)[1].split(classroom.END, 1)[0].strip("\n")
            for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("solution")
            and classroom.BEGIN in cell.source]  # fmt: skip


def otter_student(student_version, submission=None):
    """Otter's student notebook with each answer cell's ``...`` replaced by the answer in ``submission``
    (an nbgrader submission of the same chapter; ``None``: handed in blank)."""
    notebook = copy_of(student_version)
    if submission is None:
        return notebook
    answers = _answers(submission)
    cells = [cell for cell in notebook.cells if "otter_answer_cell" in cell.metadata.get("tags", [])]
    if len(cells) != len(answers):
        raise ValueError(f"Otter's student notebook has {len(cells)} answer cells, the submission {len(answers)} answers")
    for cell, answer in zip(cells, answers, strict=True):
        cell.source = _fill(cell.source, answer)
    return notebook


def _fill(source: str, answer: str) -> str:
    """Otter's answer cell ``source`` with its placeholder, the last top-level statement ``...`` (found by
    :mod:`ast`, so a ``...`` in the starting code's functions, strings or comments stays), replaced by ``answer``."""
    dots = [node for node in ast.parse(source).body if isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant) and node.value.value is Ellipsis]  # fmt: skip
    if not dots:
        raise ValueError(f"Otter's answer cell has no `...` for the answer: {source[-200:]!r}")
    last, lines = dots[-1], source.split("\n")
    line = lines[last.lineno - 1].encode()  # ast's columns count UTF-8 bytes
    lines[last.lineno - 1] = line[: last.col_offset].decode() + answer + line[last.end_col_offset :].decode()
    return "\n".join(lines)


def copy_of(notebook):
    return nbformat.from_dict(json.loads(json.dumps(notebook)))


def nbgrader_grades(course: Path, chapter: str, work: Path) -> dict[str, tuple[float, float]]:
    """Grade the four students' submissions of ``chapter`` with ``nbgrader autograde`` and ``nbgrader export``
    in a copy of the course folder ``course`` made in ``work``; return each student's (score, max score)."""
    copy = work / "nbgrader"
    shutil.copytree(course, copy, ignore=shutil.ignore_patterns("submitted", "autograded", "feedback", "*.csv"))
    for who, notebook in nbgrader_students(course, chapter).items():
        target = copy / "submitted" / _slug(who) / chapter / f"{chapter}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(notebook, target)
    bin_dir = Path(sys.executable).parent
    _run([str(bin_dir / "nbgrader"), "autograde", chapter, "--force"], copy)
    _run([str(bin_dir / "nbgrader"), "export", "--to", "grades.csv"], copy)
    with open(copy / "grades.csv", encoding="utf-8", newline="") as f:
        rows = [row for row in csv.DictReader(f) if row["assignment"] == chapter]
    found = {row["student_id"]: (float(row["score"]), float(row["max_score"])) for row in rows}
    return {who: found.get(_slug(who), (float("nan"), float("nan"))) for who in STUDENTS}


def _zip(otter_folder: Path, chapter: str) -> Path:
    zips = sorted((otter_folder / chapter / "autograder").glob(f"{chapter}-autograder_*.zip"))
    if not zips:
        raise FileNotFoundError(f"no autograder zip in {otter_folder / chapter / 'autograder'}: run otter assign first")
    return zips[-1]


def otter_grades(otter_folder: Path, chapter: str, nbgrader_course: Path, work: Path,
                 bin_dir: Path = Path(sys.executable).parent) -> dict[str, tuple[float, float]]:  # fmt: skip
    """Grade the four students with ``otter run`` and the chapter's autograder zip (from ``otter assign`` in
    ``otter_folder``), with the ``otter`` of ``bin_dir``; return each student's (score, max score)."""
    autograder = _zip(otter_folder, chapter)
    version = nbformat.read(otter_folder / chapter / "student" / f"{chapter}.ipynb", as_version=4)
    submissions = nbgrader_students(nbgrader_course, chapter)
    grades = {}
    for who in STUDENTS:
        folder = work / "otter" / _slug(who)
        folder.mkdir(parents=True)
        notebook = folder / f"{chapter}.ipynb"
        nbformat.write(otter_student(version, None if who == "release" else submissions[who]), notebook)
        _run([str(bin_dir / "otter"), "run", "--no-logo", "-a", str(autograder), "-o", str(folder), str(notebook)],
             folder, bin_dir)  # fmt: skip
        results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
        tests = results["tests"]
        scored = [test for test in tests if "score" in test]  # the public tests' summary has none
        grades[who] = (sum(t["score"] for t in scored), sum(t["max_score"] for t in scored))
    return grades


def autograder_environment(autograder: Path, where: Path) -> Path:
    """Build the environment the autograder zip describes as a fresh virtual environment in ``where``;
    return its ``bin`` folder.

    The zip is unpacked in ``where/source`` (a grading service unpacks it in
    :data:`classroom.AUTOGRADER_SOURCE`, which its requirements name); the Python of
    ``environment.yml`` must be this one's; its pip requirements are installed with pip from
    that folder, as conda installs them.
    """
    import yaml

    source = where / "source"
    with zipfile.ZipFile(autograder) as archive:
        archive.extractall(source)
    environment = yaml.safe_load((source / "environment.yml").read_text(encoding="utf-8"))
    python = next(dep for dep in environment["dependencies"] if isinstance(dep, str) and dep.startswith("python="))
    if python != f"python={sys.version_info.major}.{sys.version_info.minor}":
        raise RuntimeError(f"the autograder wants {python}; this is Python {sys.version.split()[0]}")
    pip = next(dep["pip"] for dep in environment["dependencies"] if isinstance(dep, dict))
    requirements = source / "requirements-for-venv.txt"
    requirements.write_text("\n".join(line.replace(classroom.AUTOGRADER_SOURCE, str(source)) for line in pip) + "\n",
                            encoding="utf-8")  # fmt: skip
    env_dir = where / "env"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    bin_dir = env_dir / "bin"
    _run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r",
          str(requirements)], source, bin_dir)  # fmt: skip
    return bin_dir


def needs_manual_grading(course: Path, chapter: str) -> dict[str, bool]:
    """Whether nbgrader's gradebook in ``course`` (graded by :func:`nbgrader_grades`) lists each student's
    submission of ``chapter`` for manual grading in formgrader (its written answers)."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return {who: gradebook.find_submission(chapter, _slug(who)).needs_manual_grade for who in STUDENTS}
