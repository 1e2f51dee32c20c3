"""Count the exercises of every chapter and those that an automatic checker confirms.

An exercise is a ``{exercise-start}`` directive with a ``:label:``; it counts as
*checked* when a code cell of the exercise, or of its solution (``{solution-start} label``),
calls a checker of :mod:`gaedu.exercises` (a call ``check_…(…)`` that :mod:`ast` finds in the
cell, not an import, a comment or a string; a cell that does not parse calls nothing).
``book/back/instructors.md`` states these counts; ``tests/test_exercises.py`` checks
that it states them right.

Usage: .venv/bin/python -m tools.exercise_counts           (prints the table)
       .venv/bin/python -m tools.exercise_counts --write   (writes it into instructors.md)
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from tools.student_edition import chapter_notebooks

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "book" / "back" / "instructors.md"
_BLOCK = re.compile(r"(<!-- exercise-counts: start -->\n).*?(<!-- exercise-counts: end -->)", re.S)
_SENTENCE = re.compile(r"Of the book's (\d+) exercises, (\d+) end with a call to a checker")
_LABEL = re.compile(r"\{exercise-start\}[^\n]*\n(?:[^\n]*\n)*?:label:\s*(\S+)")
_SOLUTION = re.compile(r"\{solution-start\}\s*(\S+)")


def title(path: Path) -> str:
    """A chapter's title: the first ``# `` heading of its first cell."""
    first = "".join(json.loads(path.read_text(encoding="utf-8"))["cells"][0]["source"])
    match = re.search(r"^# (.+)$", first, re.M)
    if match is None:
        raise ValueError(f"{path.relative_to(ROOT)}: the first cell has no '# ' title")
    return match.group(1).strip()


def calls_checker(code: str) -> bool:
    """Whether ``code`` calls a checker: a call of a function ``check_…``, by its name or as an attribute."""
    try:
        tree = ast.parse(code)
    except SyntaxError:  # Markdown, or code that is not plain Python
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if name.startswith("check_"):
                return True
    return False


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
        if current is not None and cell.get("cell_type", "code") == "code" and calls_checker(text):
            checked.add(current)
        if "{exercise-end}" in text:
            exercise = None
        if "{solution-end}" in text:
            solution = None
    return labels, checked & set(labels)


def table() -> tuple[str, int, int]:
    """The Markdown table of counts per chapter, and the book's totals (exercises, checked)."""
    rows = ["| chapter | exercises | with a checker |", "| --- | ---: | ---: |"]
    total = checked_total = 0
    for path in chapter_notebooks(ROOT):  # the one chapter list, in the order of _toc.yml
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
