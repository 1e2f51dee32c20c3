"""Count the exercises of every chapter and those that an automatic checker confirms.

An exercise is a ``{exercise-start}`` directive with a ``:label:``; it counts as
*checked* when a cell of the exercise, or of its solution (``{solution-start} label``),
calls a checker of :mod:`gaedu.exercises` (a call ``check_…(``, not an import or a comment).
``book/back/instructors.md`` states these counts; ``tests/test_exercises.py`` checks
that it states them right.

Usage: .venv/bin/python tools/exercise_counts.py           (prints the table)
       .venv/bin/python tools/exercise_counts.py --write   (writes it into instructors.md)
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "book" / "back" / "instructors.md"
_BLOCK = re.compile(r"(<!-- exercise-counts: start -->\n).*?(<!-- exercise-counts: end -->)", re.S)
_SENTENCE = re.compile(r"Of the book's (\d+) exercises, (\d+) end with a call to a checker")
_LABEL = re.compile(r"\{exercise-start\}[^\n]*\n(?:[^\n]*\n)*?:label:\s*(\S+)")
_SOLUTION = re.compile(r"\{solution-start\}\s*(\S+)")
_CALL = re.compile(r"^(?!\s*(?:from\b|import\b|#)).*\bcheck_\w+\(", re.M)


def title(path: Path) -> str:
    """A chapter's title: the first ``# `` heading of its first cell."""
    first = "".join(json.loads(path.read_text(encoding="utf-8"))["cells"][0]["source"])
    match = re.search(r"^# (.+)$", first, re.M)
    if match is None:
        raise ValueError(f"{path.relative_to(ROOT)}: the first cell has no '# ' title")
    return match.group(1).strip()


def count(path: Path) -> tuple[list[str], set[str]]:
    """The labels of a notebook's exercises, in order, and the set of those that are checked."""
    labels: list[str] = []
    checked: set[str] = set()
    exercise = solution = None
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        text = "".join(cell["source"])
        if found := _LABEL.search(text):
            exercise = found.group(1)
            labels.append(exercise)
        if found := _SOLUTION.search(text):
            solution = found.group(1)
        current = solution or exercise
        if current is not None and _CALL.search(text):
            checked.add(current)
        if "{exercise-end}" in text:
            exercise = None
        if "{solution-end}" in text:
            solution = None
    return labels, checked & set(labels)


def chapters() -> list[Path]:
    """The chapter notebooks in the order of ``_toc.yml`` (:func:`student_edition.chapter_notebooks`)."""
    from student_edition import chapter_notebooks

    return chapter_notebooks(ROOT)


def table() -> tuple[str, int, int]:
    """The Markdown table of counts per chapter, and the book's totals (exercises, checked)."""
    rows = ["| chapter | exercises | with a checker |", "| --- | ---: | ---: |"]
    total = checked_total = 0
    for path in chapters():
        labels, checked = count(path)
        if labels:
            rows.append(f"| {title(path)} | {len(labels)} | {len(checked)} |")
            total += len(labels)
            checked_total += len(checked)
    rows.append(f"| **the book** | **{total}** | **{checked_total}** |")
    return "\n".join(rows), total, checked_total


def page(text: str) -> str:
    """``instructors.md``'s text with the current table and totals written in."""
    markdown, total, checked = table()
    if not _BLOCK.search(text) or not _SENTENCE.search(text):
        raise ValueError(f"{PAGE.name}: the exercise-counts markers or the counting sentence are missing")
    text = _BLOCK.sub(lambda m: m.group(1) + markdown + "\n" + m.group(2), text)
    return _SENTENCE.sub(f"Of the book's {total} exercises, {checked} end with a call to a checker", text)


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--write"]:
        PAGE.write_text(page(PAGE.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        markdown, total, checked = table()
        print(markdown)
        print(f"\n{checked} of {total} exercises have a checker.")
