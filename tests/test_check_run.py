"""The check run (tools/check_run.py): each chapter's second execution, with nbval's comparison and the grading verdicts.

Three kinds of test:

* ``graded`` (make test, after every chapter's check run): each chapter's result in
  ``_build/check``: every checked cell repeated the build's output, nothing raised, the
  nbgrader source passes and the release fails only on grade cells, Otter's tests pass.
* ``conformance`` (make test): the real ``nbgrader validate`` and ``otter assign`` on the
  smallest chapter give the verdicts the check run gave; ``otter assign`` fails a master
  whose solution fails its test.
* the rest (the unit tests): a small chapter of its own, executed, graded and checked,
  then broken on purpose three ways (a checked cell whose output changes, a grade cell
  that fails, an Otter test that fails): each is caught.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import BIN, ROOT
from tools import check_run, classroom, execute, exercise_counts
from tools.student_edition import chapter_notebooks

CHAPTERS = chapter_notebooks(ROOT)
GRADED = {path.stem for path in classroom.chapters()}
RESULTS = ROOT / "_build" / "check"


def _result(chapter: Path) -> dict:
    path = RESULTS / f"{chapter.stem}.json"
    if not path.is_file():
        pytest.fail(f"no check run result for {chapter.stem} ({path}): run python -m tools.check_run {chapter.relative_to(ROOT)}",
                    pytrace=False)  # fmt: skip
    return json.loads(path.read_text(encoding="utf-8"))


def _checked_cells(chapter: Path) -> int:
    return sum(bool(check_run.nbval_options(c).get("check")) for c in nbformat.read(chapter, as_version=4).cells
               if c.cell_type == "code")  # fmt: skip


@pytest.mark.graded
@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_the_check_run_repeats_the_build_and_grades_right(chapter):
    result = _result(chapter)
    assert check_run.verdicts(result) == [], "\n".join(check_run.verdicts(result))
    assert result["checked"] == _checked_cells(chapter)  # every checked cell was compared
    assert result["graded"] == (chapter.stem in GRADED)
    if result["graded"]:
        labels = exercise_counts.count(chapter)[1]
        assert len(result["otter"]) == len(labels)  # one Otter test per checked exercise, each run
        grade_cells = [s for s in result["source"]["passed"] if re.match(r"check_\w+\(", s)]
        assert len(grade_cells) == len(labels)  # every grade cell passed on the source
        # the simulated students (check_run.verdicts says which grade cell misjudged whom)
        assert result["release"]["passed"] == [] and result["wrong"]["passed"] == []
        assert len([s for s in result["own words"]["passed"] if re.match(r"check_\w+\(", s)]) == len(labels)


def _black_box(chapter: str, tmp_path: Path) -> dict:
    """nbgrader validate on the chapter's source and release, otter assign (tests run) on a copy of its master."""
    course = ROOT / "_build" / "classroom"
    source, release = (course / "nbgrader" / kind / chapter / f"{chapter}.ipynb" for kind in ("source", "release"))
    shutil.copy(course / "otter" / f"{chapter}.ipynb", tmp_path / f"{chapter}.ipynb")
    shutil.copy(course / "otter" / classroom.wheel_name(), tmp_path)  # the autograder zip carries it
    verdict = {"source": classroom.validate(source), "release": classroom.validate(release),
               "otter": classroom.otter_assign(tmp_path / f"{chapter}.ipynb")}  # fmt: skip
    for path in (source, release, tmp_path / f"{chapter}.ipynb"):
        execute.record_execution(ROOT, course / "otter" / path.name if path.parent == tmp_path else path, "conformance", 0.0)
    return verdict


@pytest.mark.conformance
def test_nbgrader_and_otter_themselves_agree_with_the_check_run_on_the_preface(tmp_path):
    """The real tools, end to end, on the smallest chapter: the same verdicts as the check run's."""
    result = _result(ROOT / "book" / "preface.ipynb")
    tools = _black_box("preface", tmp_path)
    assert tools["source"] == [] and result["source"]["failed"] == []
    assert result["release"]["failed"] != []  # a blank written answer fails too: nbgrader scores it 0 by itself
    assert sorted(tools["release"]) == sorted(result["release"]["failed"] + result["release"]["written"])
    assert tools["otter"] == "" and not any(result["otter"].values())


def _tiny_master(folder: Path, answer: str) -> Path:
    """A master notebook of one question whose test expects ``x == 2``, answered with ``answer``."""
    cells = [
        nbformat.v4.new_raw_cell("# ASSIGNMENT CONFIG\nname: tiny\nexport_cell: false\ngenerate: true\n"
                                 "tests:\n  files: true\n  ok_format: false\n"),  # fmt: skip
        nbformat.v4.new_raw_cell("# BEGIN QUESTION\nname: q\npoints: 1"),
        nbformat.v4.new_markdown_cell("Set x to two."),
        nbformat.v4.new_raw_cell("# BEGIN SOLUTION"),
        nbformat.v4.new_code_cell(f"# BEGIN SOLUTION\n{answer}\n# END SOLUTION"),
        nbformat.v4.new_raw_cell("# END SOLUTION"),
        nbformat.v4.new_raw_cell("# BEGIN TESTS"),
        nbformat.v4.new_code_cell(classroom.otter_test("q", "assert x == 2, 'x is not two'")),
        nbformat.v4.new_raw_cell("# END TESTS"),
        nbformat.v4.new_raw_cell("# END QUESTION"),
    ]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    path = folder / "tiny.ipynb"
    nbformat.write(notebook, path)
    return path


@pytest.mark.conformance
def test_otter_assign_fails_when_a_solution_fails_its_test(tmp_path):
    assert classroom.otter_assign(_tiny_master(tmp_path, "x = 2")) == ""
    student = json.dumps(json.loads((tmp_path / "tiny" / "student" / "tiny.ipynb").read_text())["cells"])
    assert "x = 2" not in student and "..." in student
    assert "x is not two" in classroom.otter_assign(_tiny_master(tmp_path, "x = 3"))


def test_otter_assign_without_tests_writes_every_master_and_names_the_one_that_failed(tmp_path):
    """make test's classroom job: every master in one process; a broken one is named and loses no other."""
    good = _tiny_master(tmp_path, "x = 2")
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{}")
    errors = classroom.otter_assign_without_tests([broken, good])
    assert errors["tiny"] == "" and "broken.ipynb: " in errors["broken"]
    student = json.dumps(json.loads((tmp_path / "tiny" / "student" / "tiny.ipynb").read_text())["cells"])
    assert "x = 2" not in student and "..." in student


# A small chapter of its own: a body with a checked cell, and two exercises with checkers.
_BODY = [
    ("markdown", "# A small chapter"),
    ("code", "import numpy as np\nrng = np.random.default_rng(0)\nprint(rng.integers(100, size=3))", ["nbval-check-output"]),
    ("code", "def check_double(y):\n    assert y == 2 * 21, f'{y} is not twice 21'\n\n\n"
             "def check_draw(z):\n    assert np.asarray(z).shape == (3,) and np.asarray(z).dtype.kind in 'iu', 'three integers'"),
]
_EXERCISES = [
    ("markdown", "```{exercise-start}\n:label: small-double\n```\n\nDouble 21 into `y`."),
    ("code", "y = ...\n# check_double(y)"),
    ("markdown", "```{exercise-end}\n```"),
    ("markdown", "```{solution-start} small-double\n:class: dropdown\n```", ["solution"]),
    ("code", "y = 2 * 21\ncheck_double(y)", ["solution"]),
    ("markdown", "```{solution-end}\n```", ["solution"]),
    ("markdown", "```{exercise-start}\n:label: small-draw\n```\n\nDraw three more numbers into `z`."),
    ("code", "z = ...\n# check_draw(z)"),
    ("markdown", "```{exercise-end}\n```"),
    ("markdown", "```{solution-start} small-draw\n:class: dropdown\n```", ["solution"]),
    ("code", "z = rng.integers(100, size=3)\ncheck_draw(z)\nprint(z)\n"
             "y = str(y)  # a later answer may reuse an earlier one's name", ["solution", "nbval-check-output"]),  # fmt: skip
    ("markdown", "```{solution-end}\n```", ["solution"]),
]


def _write_chapter(root: Path, body=_BODY, exercises=_EXERCISES) -> Path:
    cells = []
    for kind, source, *tags in [*body, *exercises]:
        cell = nbformat.v4.new_markdown_cell(source) if kind == "markdown" else nbformat.v4.new_code_cell(source)
        if tags:
            cell.metadata["tags"] = tags[0]
        cells.append(cell)
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    (root / "book").mkdir(parents=True, exist_ok=True)
    path = root / "book" / "small.ipynb"
    nbformat.write(notebook, path)
    (root / "_toc.yml").write_text("format: jb-book\nroot: book/small\n")
    return path


def _prepare(root: Path) -> Path:
    """Execute the small chapter into its build cache and write its classroom files; return the classroom folder."""
    models = root / "models"
    models.mkdir(exist_ok=True)
    env = {"GAEDU_CACHE_DIR": str(models), "PATH": f"{BIN}:/usr/bin:/bin"}
    run = subprocess.run([sys.executable, "-m", "tools.execute", "--root", str(root), "--fresh"],
                         cwd=ROOT, capture_output=True, text=True, env=env)  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    out = root / "classroom"
    graded = classroom.write_sources(out, root=root)
    assert graded == {"small": ["small-double", "small-draw"]}
    classroom.release(out, ["small"])
    classroom.write_otter(out, root=root)
    assert classroom.otter_assign_without_tests([out / "otter" / "small.ipynb"]) == {"small": ""}
    return out


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("small")
    chapter = _write_chapter(root)
    return chapter, _prepare(root)


def _check(chapter: Path, course: Path) -> dict:
    return check_run.check_chapter(chapter, course, chapter.parents[1] / "_build" / "check", root=chapter.parents[1])


def test_a_sound_chapter_passes_its_check_run(small):
    chapter, course = small
    result = _check(chapter, course)
    assert check_run.verdicts(result) == []
    assert result["checked"] == 2 and result["graded"]
    # Otter checks each question where its answer was given: y is a string by the end of the source
    assert result["otter"] == {"small_double": "", "small_draw": ""}
    assert len(result["release"]["failed"]) == 2 and result["source"]["failed"] == []
    log = [json.loads(line) for line in (chapter.parents[1] / "_build" / "executions.jsonl").read_text().splitlines()]
    assert [(r["notebook"], r["by"]) for r in log] == [("book/small.ipynb", "build"), ("book/small.ipynb", "check")]


def test_a_checked_cell_whose_output_changes_fails(small):
    """A checked cell that prints other numbers than the build printed is caught by nbval's comparison."""
    chapter, course = small
    root = chapter.parents[1]
    reference = check_run.reference(root, chapter)
    (output,) = reference.cells[1].outputs
    output.text = output.text.replace(output.text.strip()[1:-1].split()[0], "999", 1)  # the first number drawn
    result = check_run.check_chapter(chapter, course, root / "_build" / "check", root=root, ref=reference)
    wrong = check_run.verdicts(result)
    assert len(wrong) == 1 and wrong[0].startswith("body cell 1 does not repeat the build's output"), wrong
    assert "999" in wrong[0]


def test_a_cell_that_raises_in_the_check_run_fails(small):
    chapter, course = small
    root = chapter.parents[1]
    reference = check_run.reference(root, chapter)
    broken = nbformat.read(chapter, as_version=4)
    broken.cells[2].source += "\nraise RuntimeError('only the second time')"
    result = check_run.run_cells(broken, reference, root / "_build" / "check" / "work")
    assert [e["error"] for e in result["errors"]] == ["RuntimeError: only the second time"]


def _broken(course: Path, tmp_path: Path, kind: str, change) -> Path:
    """A copy of the classroom folder whose nbgrader ``kind`` notebook (source or release) has ``change(cells)`` made."""
    copy = tmp_path / "classroom"
    shutil.copytree(course, copy)
    path = copy / "nbgrader" / kind / "small" / "small.ipynb"
    notebook = nbformat.read(path, as_version=4)
    change(notebook.cells)
    nbformat.write(notebook, path)
    return copy


def test_a_grade_cell_that_fails_on_the_solution_fails(small, tmp_path):
    chapter, course = small

    def break_a_grade_cell(cells):
        next(c for c in cells if c.metadata.get("nbgrader", {}).get("grade")).source = "check_double(y + 1)"

    wrong = check_run.verdicts(_check(chapter, _broken(course, tmp_path, "source", break_a_grade_cell)))
    assert any("the source fails its grade cell 'check_double(y + 1)'" in line for line in wrong), wrong


def test_an_otter_test_that_fails_on_the_solution_fails(small, tmp_path):
    chapter, course = small
    copy = _broken(course, tmp_path, "source", lambda cells: None)
    test = copy / "otter" / "small" / "autograder" / "tests" / "small_draw.py"
    test.write_text(test.read_text().replace("check_draw(z)", "check_draw(list(z) + [1])"))
    wrong = check_run.verdicts(_check(chapter, copy))
    assert any(line.startswith("Otter's test small_draw fails on the solutions") for line in wrong), wrong


def test_a_release_that_passes_without_answers_fails(small, tmp_path):
    chapter, course = small

    def give_the_answers(cells):  # a release that carries the answers
        for cell in cells:
            if cell.metadata.get("nbgrader", {}).get("solution"):
                cell.source = "y = 42\nz = np.array([1, 2, 3])"

    wrong = check_run.verdicts(_check(chapter, _broken(course, tmp_path, "release", give_the_answers)))
    assert "the blank release passes the grade cell 'check_double(y)'" in wrong
    assert "the blank release passes the grade cell 'check_draw(z)'" in wrong


def test_a_grade_cell_that_grades_what_the_student_did_not_write_fails(small, tmp_path):
    """A grade cell that passes for the blank release and for a wrong answer (it reads no name the student
    sets), or that reads a name other than the one the exercise states, is caught by the simulated students."""
    chapter, course = small

    def grade_a_constant(cells):  # the grade cell of small-double passes whatever the student wrote
        next(c for c in cells if c.metadata.get("nbgrader", {}).get("grade")).source = "check_double(42)"

    wrong = check_run.verdicts(_check(chapter, _broken(course, tmp_path / "a", "source", grade_a_constant)))
    assert "a wrong answer passes the grade cell 'check_double(42)'" in wrong, wrong

    def grade_a_hidden_name(cells):  # the answer's own helper name is graded: a student who names it otherwise fails
        answer = next(c for c in cells if c.metadata.get("nbgrader", {}).get("solution"))
        answer.source = answer.source.replace("y = 2 * 21", "half = 21\ny = 2 * half")
        next(c for c in cells if c.metadata.get("nbgrader", {}).get("grade")).source = "check_double(2 * half)"

    copy = _broken(course, tmp_path / "b", "source", grade_a_hidden_name)
    master = copy / "otter" / "small.ipynb"  # Otter's master holds the same answer
    master.write_text(master.read_text().replace("y = 2 * 21", "half = 21\\ny = 2 * half"))
    wrong = check_run.verdicts(_check(chapter, copy))
    assert any(line.startswith("an answer in the student's own words (the stated names only) fails the grade cell")
               for line in wrong), wrong  # fmt: skip


def test_the_simulated_students_score_what_they_deserve(small):
    chapter, course = small
    result = _check(chapter, course)
    assert result["release"]["passed"] == [] and result["wrong"]["passed"] == []
    assert result["own words"]["failed"] == [] and len(result["own words"]["passed"]) == 2
    assert all(result["otter_students"]["release"].values()) and all(result["otter_students"]["wrong"].values())
    assert not any(result["otter_students"]["own words"].values())


def test_the_release_is_graded_from_the_body_s_state_not_the_source_s(small):
    """The state after the body is restored between the graded parts: the release's answers never see the source's."""
    chapter, course = small
    result = _check(chapter, course)
    errors = [c for c in result["release"]["failed"]]
    assert errors == ["check_double(y)", "check_draw(z)"]  # y and z were never bound in the release's run


def test_nbval_s_comparison_is_nbval_s():
    out = nbformat.v4.new_output("stream", name="stdout", text="a\n")
    same = [nbformat.v4.new_output("stream", name="stdout", text="a"), nbformat.v4.new_output("stream", text="\n")]
    assert check_run.compare([out], same) == ""  # streams are joined as nbval joins them
    image = nbformat.v4.new_output("display_data", data={"image/png": "AAAA", "text/plain": "<Figure>"})
    other = nbformat.v4.new_output("display_data", data={"image/png": "BBBB", "text/plain": "<Figure>"})
    assert check_run.compare([image], [other]) == ""  # --nbval-lax compares no image
    changed = nbformat.v4.new_output("stream", name="stdout", text="b\n")
    assert "mismatch" in check_run.compare([changed], [out])


def test_a_checker_that_wants_one_type_of_a_right_answer_fails(small, tmp_path):
    """The retyped student hands in the right answers in other types (42 as a NumPy integer, the three draws
    as a tensor): a grade cell that insists on Python's int misjudges him, and the check run says so."""
    chapter, course = small

    def insist_on_int(cells):
        grade = next(c for c in cells if c.metadata.get("nbgrader", {}).get("grade"))
        grade.source = "assert type(y) is int, 'an int'\n" + grade.source

    result = _check(chapter, _broken(course, tmp_path, "source", insist_on_int))
    wrong = check_run.verdicts(result)
    assert any(line.startswith("the right answer in another type") and "type(y) is int" in line for line in wrong), wrong
    assert result["own words"]["failed"] == [] and len(result["retyped"]["failed"]) == 1
