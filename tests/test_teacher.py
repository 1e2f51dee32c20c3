"""A teacher's grading with the real tools (``tools/teacher.py``), on one chapter, in ``make test``.

``core-concepts`` is graded as a teacher grades it: four simulated students (the blank
release, the solutions, the solutions in the student's own words, a wrong answer to every
exercise) by ``nbgrader autograde`` and ``nbgrader export``, and by ``otter run`` with the
chapter's autograder zip in a fresh environment built from what the zip describes (which
must install ``gaedu`` by itself). It is the chapter whose blank release once scored a
point, and it has three graded exercises.

``otter run`` in the book's own environment is the same command, with the same zip and the
same pinned versions, in an environment that only has more packages; Otter's tests themselves
run there in every chapter's check run (``tools/check_run.py``), for five simulated students.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from conftest import ROOT
from tools import classroom, execute, teacher

CHAPTER = "core-concepts"
COURSE = ROOT / "_build" / "classroom"


def _expected(points: float, written: float = 0.0) -> dict[str, tuple[float, float]]:
    """Each student's (score, max score): the automatic points as deserved; the written answers, which the
    teacher scores by hand, count in the maximum only."""
    return {who: (share * points, points + written) for who, share in teacher.DESERVES.items()}


@pytest.fixture(scope="module")
def points() -> float:
    if not (COURSE / "otter" / CHAPTER / "autograder").is_dir():
        pytest.fail(f"no Otter autograder for {CHAPTER}: run python -m tools.classroom --prepare first", pytrace=False)
    return float(len(classroom.source_notebook(ROOT / "book" / "foundations" / f"{CHAPTER}.ipynb")[1]))


@pytest.fixture(scope="module")
def written() -> float:
    return float(len(classroom.written_labels(ROOT / "book" / "foundations" / f"{CHAPTER}.ipynb")))


def _record(by: str, start: float, runs: int) -> None:
    for _ in range(runs):  # the pipeline's report counts these executions beside the chapters'
        execute.record_execution(ROOT, COURSE / "teacher" / f"{CHAPTER}.ipynb", by, (time.perf_counter() - start) / runs)


@pytest.mark.teacher
def test_nbgrader_autograde_and_export_score_each_student_as_deserved(points, written, tmp_path):
    start = time.perf_counter()
    grades = teacher.nbgrader_grades(COURSE / "nbgrader", CHAPTER, tmp_path)
    _record("teacher: nbgrader autograde", start, len(teacher.STUDENTS))
    assert points >= 3 and written >= 1
    assert grades == _expected(points, written)
    # formgrader lists every written answer for the teacher to score (a blank one is scored 0 already)
    assert teacher.needs_manual_grading(tmp_path / "nbgrader", CHAPTER) == {
        "release": False, "source": True, "own words": True, "wrong": True}


@pytest.mark.teacher
def test_the_autograder_zip_installs_gaedu_in_a_fresh_environment_where_otter_grades_right(points, tmp_path):
    """What a grading service does with the zip, without Docker: build its environment, then grade."""
    autograder = teacher._zip(COURSE / "otter", CHAPTER)
    bin_dir = teacher.autograder_environment(autograder, tmp_path)
    where = teacher._run([str(bin_dir / "python"), "-c", "import gaedu, torch, otter; print(gaedu.__file__)"], tmp_path)
    assert Path(where.strip()).is_relative_to(tmp_path / "env")  # the wheel's gaedu, not this checkout's
    start = time.perf_counter()
    grades = teacher.otter_grades(COURSE / "otter", CHAPTER, COURSE / "nbgrader", tmp_path / "graded", bin_dir=bin_dir)
    _record("teacher: otter run, fresh environment", start, len(teacher.STUDENTS))
    assert grades == _expected(points)


def test_a_student_notebook_for_otter_gets_each_answer_in_its_answer_cell():
    version = teacher.nbformat.v4.new_notebook(cells=[
        teacher.nbformat.v4.new_code_cell("x = None  # your code here\n...", metadata={"tags": ["otter_answer_cell"]}),
        teacher.nbformat.v4.new_code_cell('grader.check("q")'),
    ])  # fmt: skip

    def answer():
        cell = teacher.nbformat.v4.new_code_cell(f"x = None\n{classroom.BEGIN}\nx = 2\n{classroom.END}")
        cell.metadata["nbgrader"] = {"solution": True}
        return cell

    submission = teacher.nbformat.v4.new_notebook(cells=[answer()])
    filled = teacher.otter_student(version, submission)
    assert filled.cells[0].source == "x = None  # your code here\nx = 2" and version.cells[0].source.endswith("...")
    assert teacher.otter_student(version, None).cells[0].source == version.cells[0].source
    with pytest.raises(ValueError, match="1 answer cells, the submission 2 answers"):
        teacher.otter_student(version, teacher.nbformat.v4.new_notebook(cells=[answer(), answer()]))
