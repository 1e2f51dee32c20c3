"""The nbgrader assignments of ``make classroom``: made from the chapters, graded by the checkers, no solution released.

The structural tests run without executing a notebook. ``test_nbgrader_validates_*`` run
``nbgrader validate`` on every source notebook (which must pass: the chapters' solutions
satisfy their checkers) and on every released one (which must fail: the answers are gone);
they execute every chapter twice, so they are marked ``classroom`` and run in the last lane
of ``make test``, beside nbval.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import classroom  # noqa: E402
import exercise_counts  # noqa: E402

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
    marked = [cell for cell in notebook.cells if _nbgrader(cell)]
    assert len(marked) == 2 * len(graded)
    assert len({_nbgrader(cell)["grade_id"] for cell in marked}) == len(marked)  # grade ids are unique
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
    answers = [_source(c).split(classroom.BEGIN)[1].split(classroom.END)[0] for c in cells if _nbgrader(c).get("solution")]
    public = set().union(*(_windows(_source(c)) for c in cells if not _nbgrader(c).get("solution")),
                         *(_windows(_source(c).split(classroom.BEGIN)[0]) for c in cells  # the starting code
                           if _nbgrader(c).get("solution")))  # fmt: skip
    secrets = set().union(*(_windows(a) for a in answers)) - public
    assert secrets or all(not a.strip() for a in answers)
    release_cells = _cells(released)
    text = _windows(" ".join(_source(c) for c in release_cells))
    assert not secrets & text, f"answer text in the released notebook: {sorted(secrets & text)[:3]}"
    graded = [c for c in release_cells if _nbgrader(c).get("solution")]
    assert len(graded) == len(answers) and all("raise NotImplementedError()" in _source(c) for c in graded)


@pytest.fixture(scope="module")
def validated(course) -> dict[tuple[str, str], list[str]]:
    """``nbgrader validate`` on every source and released notebook, two at a time; the failed grade cells of each."""
    from concurrent.futures import ProcessPoolExecutor

    jobs = {(p.stem, kind): course / kind / p.stem / f"{p.stem}.ipynb" for p in CHAPTERS for kind in ("source", "release")}
    with ProcessPoolExecutor(max_workers=2) as pool:
        return dict(zip(jobs, pool.map(classroom.validate, jobs.values()), strict=True))


@pytest.mark.classroom
@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_nbgrader_validates_the_source_and_rejects_the_release(chapter, validated):
    assert validated[(chapter.stem, "source")] == [], "a chapter's own solutions fail its grade cells"
    failed = validated[(chapter.stem, "release")]
    assert failed, "the released notebook passes its grade cells without answers"
    assert all(re.match(r"check_\w+\(", source) for source in failed)  # what fails is a grade cell
