"""The assignments of ``make classroom`` (nbgrader and Otter-Grader): made from the chapters, graded by the checkers, no solution released.

The structural tests run without executing a notebook. The tests marked ``classroom`` run
``nbgrader validate`` on every source notebook (which must pass: the chapters' solutions
satisfy their checkers) and on every released one (which must fail: the answers are gone),
and ``otter assign`` on every master notebook (which runs the tests against the solutions
and fails if one does not pass); they execute every chapter three more times, so ``make
test`` leaves them to instructors (``pytest -m classroom``, or ``python -m
tools.classroom --check``) and asks the same questions of each chapter's check run (tests/test_check_run.py).
"""

from __future__ import annotations

import ast
import json
import re
import textwrap
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from tools import classroom, exercise_counts

WINDOW = 6  # a run of this many words from an answer must not appear in the released notebook
CHAPTERS = classroom.chapters()


def _source(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _windows(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"[A-Za-z0-9_]+", text.lower())
    return {tuple(words[i : i + WINDOW]) for i in range(len(words) - WINDOW + 1)}


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _nbgrader(cell) -> dict:
    return cell["metadata"].get("nbgrader", {})


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """The course folder that ``make classroom`` writes, here into a temporary folder (sources and releases)."""
    out = tmp_path_factory.mktemp("classroom")
    assert classroom.main(["--out", str(out)]) == 0
    return out / "nbgrader"


def test_checker_calls_are_split_from_the_answer_even_over_several_lines():
    code = "x = 1\ncheck_a(x)\ny = [x,\n     2]\ncheck_b(\n    y,\n)\nprint(y)"
    answer, checks = classroom._split_checks(code)
    assert answer == "x = 1\ny = [x,\n     2]\nprint(y)"
    assert checks == "check_a(x)\ncheck_b(\n    y,\n)"


def test_checker_calls_are_found_by_parsing_not_by_counting_brackets():
    """A bracket in a string, a checker call nested in other code, and a name that only starts like one."""
    code = 'x = ")"\ncheck_a(x, "(")\nif x:\n    check_b(x)\ncheck_c_result = 3\nprint(check_a)\ny = 2'
    answer, checks = classroom._split_checks(code)
    assert checks == 'check_a(x, "(")'
    assert answer == 'x = ")"\nif x:\n    check_b(x)\ncheck_c_result = 3\nprint(check_a)\ny = 2'


def test_every_chapter_with_exercises_is_an_assignment_graded_by_its_checkers(tmp_path):
    graded = classroom.write_sources(tmp_path)
    assert list(graded) == [path.stem for path in CHAPTERS]
    for path in CHAPTERS:
        _, checked = exercise_counts.count(path)
        assert set(graded[path.stem]) == checked, path.stem  # one graded cell per checked exercise, no more
    assert sum(map(len, graded.values())) == sum(len(exercise_counts.count(p)[1]) for p in CHAPTERS)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_source_cells_carry_nbgrader_metadata(chapter):
    notebook, graded = classroom.source_notebook(chapter)
    everything = [cell for cell in notebook.cells if _nbgrader(cell)]
    assert len({_nbgrader(cell)["grade_id"] for cell in everything}) == len(everything)  # grade ids are unique
    written = [cell for cell in everything if cell.cell_type == "markdown"]
    labels = classroom.written_labels(chapter)
    assert [_nbgrader(cell)["grade_id"] for cell in written] == [f"{label}-written" for label in labels]
    for cell in written:  # a manually graded answer of one point, holding the solution's text for the teacher
        assert _nbgrader(cell) == {"grade": True, "grade_id": _nbgrader(cell)["grade_id"], "locked": False,
                                   "points": 1, "schema_version": 3, "solution": True}  # fmt: skip
        assert cell.source.strip() and "{solution-" not in cell.source
    marked = [cell for cell in everything if cell.cell_type == "code"]
    assert len(marked) == 2 * len(graded)
    assert not any("solution" in cell.metadata.get("tags", []) for cell in notebook.cells)
    assert "{solution-start}" not in json.dumps(notebook)
    for answer, grade in zip(marked[::2], marked[1::2], strict=True):
        a, g = _nbgrader(answer), _nbgrader(grade)
        assert a == {"grade": False, "grade_id": a["grade_id"], "locked": False, "schema_version": 3, "solution": True}
        assert g == {"grade": True, "grade_id": g["grade_id"], "locked": True, "points": 1, "schema_version": 3,
                     "solution": False}  # fmt: skip
        assert classroom.BEGIN in answer.source and classroom.END in answer.source
        assert all(re.match(r"check_\w+\(", line) or line.startswith(" ") or line == ")"
                   for line in grade.source.splitlines()), grade.source  # fmt: skip


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_no_answer_is_released(chapter, course):
    source, released = (course / kind / chapter.stem / f"{chapter.stem}.ipynb" for kind in ("source", "release"))
    cells = _cells(source)
    def answer(cell) -> str:  # the code between the markers, or a written answer's whole text (the model answer)
        return _source(cell).split(classroom.BEGIN)[1].split(classroom.END)[0] if cell["cell_type"] == "code" else _source(cell)

    answers = [answer(c) for c in cells if _nbgrader(c).get("solution")]
    public = set().union(*(_windows(_source(c)) for c in cells if not _nbgrader(c).get("solution")),
                         *(_windows(_source(c).split(classroom.BEGIN)[0]) for c in cells  # the starting code
                           if _nbgrader(c).get("solution") and c["cell_type"] == "code"))  # fmt: skip
    secrets = set().union(*(_windows(a) for a in answers)) - public
    assert secrets or all(not a.strip() for a in answers)
    release_cells = _cells(released)
    text = _windows(" ".join(_source(c) for c in release_cells))
    assert not secrets & text, f"answer text in the released notebook: {sorted(secrets & text)[:3]}"
    graded = [c for c in release_cells if _nbgrader(c).get("solution")]
    assert len(graded) == len(answers)
    assert all("raise NotImplementedError()" in _source(c) for c in graded if c["cell_type"] == "code")
    assert all(_source(c) == "YOUR ANSWER HERE" for c in graded if c["cell_type"] == "markdown")


@pytest.fixture(scope="module")
def checked(course) -> dict:
    """tools/classroom.py's checks: nbgrader validate on every source and release, otter assign on every master."""
    return classroom.check_all(course.parent, [p.stem for p in CHAPTERS])


def test_a_grade_cell_reads_only_names_the_starting_code_defines():
    """A checker call that passes an expression grades nothing the student wrote (and shows the answer);
    one that reads a name the starting code does not define grades whatever the chapter left there."""
    path = Path("chapter.ipynb")
    classroom._check_question(path, "q", "best_lr = None  # your code here", "check_lr(best_lr)")
    classroom._check_question(path, "q", "a = None\nb = None\n# check_pair((a, b))", "check_pair((a, b))")
    classroom._check_question(path, "q", "def tent(x):\n    return None  # your code here", "check_tent(tent)")
    with pytest.raises(ValueError, match=r"exercise q: the checker call .* reads '\[0.5 < p for p in P\]', which is not a name"):
        classroom._check_question(path, "q", "allowed = None", "check_powers([0.5 < p for p in P])")
    with pytest.raises(ValueError, match="reads best_lr, which the starting code does not define: start it with `best_lr = None"):
        classroom._check_question(path, "q", "# your code here", "check_lr(best_lr)")


def test_the_answer_cell_starts_from_the_named_answer_outside_the_solution_region():
    source, _ = classroom.source_notebook(ROOT / "book" / "foundations" / "core-concepts.ipynb")
    (cell,) = [c for c in source.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "ch2-supergradient-answer"]
    before = cell.source.split(classroom.BEGIN)[0]
    assert before.splitlines()[0].startswith("g = None"), before  # a blank release resets g


@pytest.mark.classroom
@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_nbgrader_validates_the_source_and_rejects_the_release(chapter, checked):
    assert checked[(chapter.stem, "source")] == [], "a chapter's own solutions fail its grade cells"
    failed = checked[(chapter.stem, "release")]
    assert failed, "the released notebook passes its grade cells without answers"
    assert all(re.match(r"check_\w+\(", source) for source in failed)  # what fails is a grade cell


def test_every_chapter_has_an_otter_master_with_a_question_per_checked_exercise(tmp_path):
    assert classroom.write_otter(tmp_path) == classroom.write_sources(tmp_path)
    for path in CHAPTERS:
        cells = _cells(tmp_path / "otter" / f"{path.stem}.ipynb")
        assert cells[0]["cell_type"] == "raw" and _source(cells[0]).startswith("# ASSIGNMENT CONFIG")
        config = yaml.safe_load(_source(cells[0]))
        assert config["name"] == path.stem and config["tests"]["ok_format"] is False and config["run_tests"] is True
        raw = [_source(c).splitlines()[0] for c in cells[1:] if c["cell_type"] == "raw"]
        blocks = ["# BEGIN QUESTION", "# BEGIN SOLUTION", "# END SOLUTION", "# BEGIN TESTS", "# END TESTS",
                  "# END QUESTION"]  # fmt: skip
        _, checked_labels = exercise_counts.count(path)
        assert raw == blocks * len(checked_labels), path.stem
        tests = [_source(c) for c in cells if c["cell_type"] == "code" and _source(c).startswith("def test_")]
        assert len(tests) == len(checked_labels)
        for test in tests:  # a test is one function whose parameters are the names its checker call reads
            (function,) = ast.parse(test).body
            body = textwrap.dedent(test.split("\n", 1)[1])
            assert [arg.arg for arg in function.args.args] == classroom._free_names(body), test


def test_free_names_are_the_globals_a_checker_call_reads():
    code = "check_a(x, [y for y in range(3)], lambda z: z + w,\n        key=k)"
    assert classroom._free_names(code) == ["check_a", "x", "w", "k"]
    assert classroom.otter_test("ch-one", "check_a(x)") == "def test_ch_one(check_a, x):\n    check_a(x)"


@pytest.mark.classroom
@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_otter_assign_passes_the_solutions(chapter, checked):
    assert checked[(chapter.stem, "otter")] == "", checked[(chapter.stem, "otter")]


@pytest.mark.graded
@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_otter_releases_no_answer(chapter):
    """Otter's student notebook (make test's `python -m tools.classroom --prepare`, in _build/classroom) holds no answer."""
    folder = ROOT / "_build" / "classroom" / "otter"
    if not (folder / chapter.stem / "student").is_dir():
        pytest.fail(f"no Otter student notebook for {chapter.stem}: run python -m tools.classroom --prepare", pytrace=False)
    master = _cells(folder / f"{chapter.stem}.ipynb")
    solution = re.compile(r"# BEGIN SOLUTION\n(.*?)# END SOLUTION", re.S)
    answers = [m for c in master if c["cell_type"] == "code" for m in solution.findall(_source(c))]
    public = set().union(*(_windows(solution.sub("", _source(c))) for c in master))
    secrets = set().union(*(_windows(a) for a in answers)) - public
    student = _cells(folder / chapter.stem / "student" / f"{chapter.stem}.ipynb")
    text = _windows(" ".join(_source(c) for c in student))
    assert not secrets & text, f"answer text in the student notebook: {sorted(secrets & text)[:3]}"
    tests = sorted(p.stem for p in (folder / chapter.stem / "autograder" / "tests").glob("*.py"))
    assert len(tests) == len(exercise_counts.count(chapter)[1])


def test_an_otter_run_that_hangs_is_killed_and_tried_once_more(tmp_path, monkeypatch):
    """A hung `otter assign` (a kernel reply lost) is killed after OTTER_TIMEOUT and run again; hanging twice is an error."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    runs = tmp_path / "runs"
    (bin_dir / "otter").write_text(f"#!/bin/sh\necho run >> {runs}\nsleep 60\n")
    (bin_dir / "otter").chmod(0o755)
    monkeypatch.setattr(classroom.sys, "executable", str(bin_dir / "python"))
    monkeypatch.setattr(classroom, "OTTER_TIMEOUT", 1)
    master = tmp_path / "chapter.ipynb"
    master.write_text("{}")
    assert classroom.otter_assign(master) == "otter assign did not finish within 1 s, twice"
    assert runs.read_text().splitlines() == ["run", "run"]


def test_exercises_with_a_written_part_are_those_without_a_checker_or_that_ask_why():
    """Every exercise without a checker is read by the teacher; one with a checker too when it asks why."""
    found = {p.stem: classroom.written_labels(p) for p in CHAPTERS}
    assert "preface-device-timing" in found["preface"]  # no checker: "which device is fastest, and why"
    assert "ga-best-lr" in found["gradient-ascent"]  # a checker for the rate, and "why might the winner differ"
    assert "ga-one-step" not in found["gradient-ascent"]  # a checker, nothing to write
    for path in CHAPTERS:
        labels, checked = exercise_counts.count(path)
        assert set(labels) - checked <= set(found[path.stem]), path.stem
    assert sum(map(len, found.values())) > sum(len(set(labels) - c) for labels, c in map(exercise_counts.count, CHAPTERS))
