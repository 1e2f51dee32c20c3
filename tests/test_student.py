"""The student edition: no solution leaks into its notebooks or its HTML, and its notebooks still run."""

from __future__ import annotations

import ast
import html
import json
import re
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT
from tools import student_edition

pytestmark = pytest.mark.book

WINDOW = 6  # a run of this many words from a solution must not appear in the student edition


def _words(text: str) -> list[str]:
    """Latin words and numbers; a run of Chinese characters is one word (the Chinese pages' prose between numbers)."""
    return re.findall(r"[A-Za-z0-9_]+|[\u4e00-\u9fff]+", text.lower())


def _windows(text: str) -> set[tuple[str, ...]]:
    words = _words(text)
    return {tuple(words[i : i + WINDOW]) for i in range(len(words) - WINDOW + 1)}


def _source(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _page_text(path: Path) -> str:
    text = re.sub(r"<script.*?</script>|<style.*?</style>", " ", path.read_text(encoding="utf-8"), flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


@pytest.fixture(scope="module")
def edition(built_book, tmp_path_factory):
    """Write the student edition (notebooks and HTML) into a temporary folder, from the full build."""
    out = tmp_path_factory.mktemp("student")
    notebooks = student_edition.write_notebooks(ROOT, out / "notebooks")
    student_edition.write_html_sources(ROOT, out / "source")
    jupyter_book = str(Path(sys.executable).parent / "jupyter-book")
    student_edition.build_html(out / "source", out / "html", jupyter_book)
    student_edition.build_chinese_html(out / "source", out / "html", jupyter_book)
    return out, notebooks


def _chapters():
    return student_edition.chapter_notebooks(ROOT)


def _outputs(cell) -> str:
    texts = []
    for output in cell.get("outputs", []):
        texts.append("".join(output.get("text", "")))
        for mime in ("text/plain", "text/markdown", "text/html"):
            texts.append("".join(output.get("data", {}).get(mime, "")))
    return " ".join(texts)


def _public(source: Path) -> set[tuple[str, ...]]:
    """The word runs of a chapter outside its solutions: the executed cells' sources and outputs."""
    executed = ROOT / "_build" / "jupyter_execute" / source.relative_to(ROOT)
    cells = json.loads(executed.read_text())["cells"] if executed.exists() else []
    return set().union(*(_windows(_source(c) + " " + _outputs(c)) for c in cells if not student_edition.is_solution(c)))


def _leaks(source: Path) -> set[tuple[str, ...]]:
    """The word runs of a chapter's solutions that appear nowhere else in the chapter (sources or outputs)."""
    solution = set().union(*(_windows(_source(c)) for c in json.loads(source.read_text())["cells"]
                             if student_edition.is_solution(c)))  # fmt: skip
    return solution - _public(source)


def test_every_chapter_has_solutions_to_remove(built_book):
    assert all(_leaks(chapter) for chapter in _chapters())


@pytest.mark.parametrize("chapter", _chapters(), ids=lambda p: p.stem)
def test_no_solution_in_student_notebook_or_page(chapter, edition):
    out, _ = edition
    entry = chapter.relative_to(ROOT).with_suffix("")
    notebook = json.loads((out / "notebooks" / f"{entry}.ipynb").read_text())
    assert not any(student_edition.is_solution(c) for c in notebook["cells"])
    assert "solution-start" not in json.dumps(notebook)
    secrets = _leaks(chapter)
    notebook_text = _windows(" ".join(_source(c) for c in notebook["cells"]))
    assert not secrets & notebook_text, f"solution text in the student notebook: {sorted(secrets & notebook_text)[:3]}"
    page = out / "html" / f"{entry}.html"
    assert page.exists()
    page_text = _windows(_page_text(page))
    assert not secrets & page_text, f"solution text in the student page: {sorted(secrets & page_text)[:3]}"
    full_page = ROOT / "_build" / "html" / f"{entry}.html"
    assert secrets & _windows(_page_text(full_page)), "the check would not see a solution (it is absent from the full page too)"


def test_no_solution_anywhere_in_the_student_html(edition):
    out, _ = edition
    pages = [ROOT / f"{e}.md" for e in student_edition.toc_entries(ROOT) if (ROOT / f"{e}.md").exists()]
    public = set().union(*(_public(chapter) for chapter in _chapters()),  # a phrase may recur in another chapter
                         *(_windows(page.read_text()) for page in pages))  # or on a page such as the glossary
    secrets = set().union(*(_leaks(chapter) for chapter in _chapters())) - public
    assert secrets
    for page in (out / "html").rglob("*.html"):
        assert not secrets & _windows(_page_text(page)), f"{page.name} shows a solution"


def _names(source: str, context: type) -> set[str]:
    """The names a code cell binds (``ast.Store``) or reads (``ast.Load``); IPython magics are skipped."""
    code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    tree = ast.parse(code)
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, context)}
    if context is ast.Store:  # imports, functions, classes and parameters bind names too
        for node in ast.walk(tree):
            if isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names |= {(a.asname or a.name).split(".")[0] for a in node.names}
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
    return names


@pytest.mark.parametrize("chapter", _chapters(), ids=lambda p: p.stem)
def test_student_notebook_runs_like_the_built_one(chapter, edition):
    """The student notebook is the full one less its solutions, so it runs as the build ran it, without executing it again.

    Up to its first exercise it is the very sequence of cells the build executed without error; after that, no
    cell reads a name that only a removed solution defines (it would raise NameError for a student).
    """
    out, _ = edition
    entry = chapter.relative_to(ROOT).with_suffix("")
    student = nbformat.read(out / "notebooks" / f"{entry}.ipynb", as_version=4)
    nbformat.validate(student)
    full = nbformat.read(chapter, as_version=4)
    kept = [c for c in full.cells if not student_edition.is_solution(c)]
    assert [c.source for c in student.cells] == [c.source for c in kept]
    first = next(i for i, c in enumerate(full.cells) if "{exercise-start}" in c.source)
    assert not any(student_edition.is_solution(c) for c in full.cells[: first + 2])  # the prefix is untouched
    code = [c for c in full.cells if c.cell_type == "code"]
    only_in_solutions = set().union(*(_names(c.source, ast.Store) for c in code if student_edition.is_solution(c)))
    only_in_solutions -= set().union(*(_names(c.source, ast.Store) for c in code if not student_edition.is_solution(c)))
    for cell in (c for c in kept if c.cell_type == "code"):
        missing = _names(cell.source, ast.Load) & only_in_solutions
        assert not missing, f"{entry}: a cell left to students reads {sorted(missing)}, which only a solution defines"


CJK_WINDOW = 10  # a run of this many Chinese characters from a solution's translation must not appear


def _cjk_windows(text: str) -> set[str]:
    chars = "".join(re.findall(r"[\u4e00-\u9fff]", text))
    return {chars[i : i + CJK_WINDOW] for i in range(len(chars) - CJK_WINDOW + 1)}


@pytest.mark.parametrize("chapter", _chapters(), ids=lambda p: p.stem)
def test_no_translated_solution_in_the_chinese_student_page(chapter, edition):
    """The Chinese student pages are built from the same sources without solutions: no solution's translation is on them."""
    from tools import i18n

    out, _ = edition
    entry = chapter.relative_to(ROOT).with_suffix("")
    cells = [c for c in json.loads(chapter.read_text())["cells"] if c["cell_type"] == "markdown"]
    hidden = "\n".join(_source(c) for c in cells if student_edition.is_solution(c))
    shown = "\n".join(_source(c) for c in cells if not student_edition.is_solution(c))
    catalogue = i18n.read_catalogue(i18n.CATALOGUES / f"{entry}.po")
    secrets = set().union(*(_cjk_windows(m.string) for m in catalogue
                            if m.id and m.string and i18n._pattern(m.id).search(hidden) and not i18n._pattern(m.id).search(shown)))  # fmt: skip
    secrets -= _cjk_windows(" ".join(m.string for m in catalogue if m.id and m.string and i18n._pattern(m.id).search(shown)))
    page = out / "html" / "zh_CN" / f"{entry}.html"
    assert page.exists()
    assert not secrets & _cjk_windows(_page_text(page)), f"a solution's translation on the Chinese student page: {sorted(secrets & _cjk_windows(_page_text(page)))[:2]}"
    full_page = ROOT / "_build" / "html" / "zh_CN" / f"{entry}.html"
    assert secrets & _cjk_windows(_page_text(full_page)), "the check would not see a solution (none is on the full Chinese page)"
