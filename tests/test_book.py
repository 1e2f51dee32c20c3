"""The book itself: notebooks are clean and listed, exercises are complete, and it builds with warnings as errors."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, build_book, make
from tools.student_edition import load_config, toc_entries

NOTEBOOKS = sorted((ROOT / "book").rglob("*.ipynb"))
NOTEBOOKS = [nb for nb in NOTEBOOKS if ".ipynb_checkpoints" not in nb.parts]
TOC = toc_entries(ROOT)


def _resolve(entry: str) -> Path | None:
    for suffix in (".ipynb", ".md"):
        path = ROOT / f"{entry}{suffix}"
        if path.exists():
            return path
    return None


def _cells(notebook: Path) -> list[dict]:
    return json.loads(notebook.read_text())["cells"]


def _text(cell: dict) -> str:
    source = cell["source"]
    return "".join(source) if isinstance(source, list) else source


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_committed_without_outputs(notebook):
    for cell in _cells(notebook):
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [] and cell.get("execution_count") is None, (
                f"{notebook.name} has outputs; strip them before committing"
            )


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_cell_has_a_distinct_id(notebook):
    """nbformat 4.5 cells carry an id; a cell without one makes nbformat warn on every read (nbgrader, nbval, the student edition)."""
    ids = [cell.get("id") for cell in _cells(notebook)]
    assert None not in ids, f"{notebook.name}: cells {[i for i, c in enumerate(ids) if c is None]} have no id"
    assert len(set(ids)) == len(ids), f"{notebook.name}: repeated cell ids"


#: Tags that keep a code cell's source off the page (myst-nb removes it from the HTML and the PDF).
HIDDEN = {"remove-cell", "remove-input"}
#: The longest code cell a reader sees on the page (CONTRIBUTING's chapter template).
MAX_VISIBLE_LINES = 30


def _tags(cell: dict) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def _bookkeeping(source: str) -> list[str]:
    """The glue calls and asserts in a cell's code (a cell that does not parse has none we can see)."""
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            found.append(f"assert on line {node.lineno}")
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "glue":
            found.append(f"glue( on line {node.lineno}")
    return found


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_code_on_the_page_is_the_lesson_not_the_bookkeeping(notebook):
    """Test markers are tags, not comments; glue calls and claim asserts sit in cells the page leaves out
    (remove-cell), and a code cell the reader sees has at most 30 lines. Solutions (in a dropdown) may
    assert, as a student's own check would; cells behind the "show code" toggle (hide-input) may be longer."""
    problems = []
    for index, cell in enumerate(_cells(notebook)):
        if cell["cell_type"] != "code":
            continue
        source, tags = _text(cell), _tags(cell)
        if "NBVAL" in source:
            problems.append(f"cell {index}: an NBVAL comment (use the tag nbval-check-output)")
        if tags & HIDDEN:
            continue
        if "solution" not in tags:
            problems += [f"cell {index}: {what} on the page" for what in _bookkeeping(source)]
        lines = len(source.splitlines())
        if lines > MAX_VISIBLE_LINES and "hide-input" not in tags:
            problems.append(f"cell {index}: {lines} lines on the page (at most {MAX_VISIBLE_LINES})")
    assert not problems, f"{notebook.relative_to(ROOT)}: " + "; ".join(problems)


def test_every_notebook_is_in_the_toc():
    listed = {_resolve(entry) for entry in TOC}
    missing = [str(nb.relative_to(ROOT)) for nb in NOTEBOOKS if nb not in listed]
    assert not missing, f"notebooks not in _toc.yml: {missing}"


def test_every_toc_entry_exists():
    absent = [entry for entry in TOC if _resolve(entry) is None]
    assert not absent, f"_toc.yml lists files that do not exist: {absent}"


_LABEL = {
    "exercise": re.compile(r"```\{exercise-start\}[^\n]*\n:label:\s*(\S+)"),  # a title may follow the directive
    "solution": re.compile(r"```\{solution-start\}\s*(\S+)"),
}


def _exercise_labels(cells: list[dict], kind: str) -> list[str]:
    return [m.group(1) for cell in cells if (m := _LABEL[kind].search(_text(cell)))]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_exercises_have_solutions_and_a_checker(notebook):
    cells = _cells(notebook)
    exercises = _exercise_labels(cells, "exercise")
    solutions = _exercise_labels(cells, "solution")
    assert len(exercises) >= 2, f"{notebook.name}: at least two exercises expected"
    assert sorted(exercises) == sorted(solutions), f"{notebook.name}: each exercise needs one solution"
    solution_code = [_text(c) for c in cells if c["cell_type"] == "code" and "solution" in c["metadata"].get("tags", [])]
    assert any(re.search(r"\bcheck_\w+\(", code) for code in solution_code), (
        f"{notebook.name}: at least one exercise must be auto-checked by a solution calling a checker"
    )


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_solution_blocks_are_tagged(notebook):
    inside = False
    for cell in _cells(notebook):
        text = _text(cell)
        if "{solution-start}" in text:
            inside = True
        if inside:
            assert "solution" in cell["metadata"].get("tags", []), f"{notebook.name}: untagged cell in a solution"
        if "{solution-end}" in text:
            inside = False
    assert not inside, f"{notebook.name}: a solution is never closed"


def _notebook_json(source: str) -> str:
    cell = {"cell_type": "code", "execution_count": None, "id": "c0", "metadata": {}, "outputs": [], "source": source}
    title = {"cell_type": "markdown", "id": "t0", "metadata": {}, "source": "# A page"}
    meta = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}}
    return json.dumps({"cells": [title, cell], "metadata": meta, "nbformat": 4, "nbformat_minor": 5})


def _one_page_book(folder: Path, name: str, text: str) -> None:
    """Write a book of one page, ``name``, with the real book's configuration (its extensions found from here)."""
    config = load_config(ROOT)
    (folder / name).write_text(text)
    (folder / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    (folder / "_toc.yml").write_text(f"format: jb-book\nroot: {Path(name).stem}\n")
    for bib in config.get("bibtex_bibfiles", []):  # Sphinx reads them relative to the book
        (folder / bib).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / bib, folder / bib)


def test_the_fingerprint_follows_the_package_the_book_and_the_model_cache(tmp_path, monkeypatch):
    from tools import execute

    (tmp_path / "gaedu").mkdir()
    (tmp_path / "book").mkdir()
    (tmp_path / "gaedu" / "core.py").write_text("x = 1\n")
    (tmp_path / "book" / "chapter.ipynb").write_text("{}")
    models = tmp_path / "models"
    models.mkdir()
    monkeypatch.setenv("GAEDU_CACHE_DIR", str(models))
    seen = [execute.fingerprint(tmp_path)]
    assert execute.fingerprint(tmp_path) == seen[0]  # nothing changed
    (tmp_path / "book" / "chapter.ipynb").write_text('{"cells": []}')  # the cache's own hash covers a notebook
    (tmp_path / "book" / "page.md").write_text("# A page no notebook reads\n")
    (tmp_path / "book" / "_ext").mkdir()
    (tmp_path / "book" / "_ext" / "extension.py").write_text("# Sphinx's, not the notebooks'\n")
    assert execute.fingerprint(tmp_path) == seen[0]
    for change in (
        lambda: (tmp_path / "gaedu" / "core.py").write_text("x = 2\n"),
        lambda: (tmp_path / "book" / "data.csv").write_text("1,2\n"),
        lambda: (models / "gan-0123.pt").write_bytes(b"weights"),
        lambda: (models / "gan-0123.pt").write_bytes(b"weights, trained again"),
    ):
        change()
        seen.append(execute.fingerprint(tmp_path))
    assert len(set(seen)) == len(seen), "a change left the fingerprint as it was"


@pytest.mark.book
def test_make_book_executes_only_what_changed(tmp_path, monkeypatch):
    """`make book` reuses the cache: an unchanged notebook is not executed again, an edited one is; FRESH=1 runs all.

    Its first build is also the control for the broken pages below: sound pages (two notebooks and a page of
    prose with math) build, with MathJax served from the book itself."""
    # A model cache of its own (the small book loads no model, MODELS=none): a model written
    # into the real one while this test runs would change the fingerprint and execute everything.
    models = tmp_path / "models"
    models.mkdir()
    monkeypatch.setenv("GAEDU_CACHE_DIR", str(models))
    _one_page_book(tmp_path, "page.ipynb", _notebook_json("print('first ' + 'version')"))
    (tmp_path / "other.ipynb").write_text(_notebook_json("print('the other page')"))
    (tmp_path / "prose.md").write_text("# Prose\n\nSome math: $x^2$.\n")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: page\nchapters:\n- file: other\n- file: prose\n")

    def executed(result) -> str:
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        said = result.stdout.splitlines()
        line = next((line for line in said if line.startswith("executing ")), result.stdout)
        return line + "".join(f"\n{x}" for x in said if x.startswith("starting with an empty cache"))

    def execute_step(*flags: str):
        # the step of `make book` that decides what to execute, without the Sphinx build after it
        return subprocess.run([sys.executable, "-m", "tools.execute", "--root", str(tmp_path), *flags], cwd=ROOT,
                              capture_output=True, text=True)  # fmt: skip

    assert executed(build_book(tmp_path, fresh=False)).startswith("executing 2 of 2 notebooks")  # nothing cached yet
    assert (tmp_path / "_build" / "html" / "_static" / "mathjax" / "tex-mml-chtml.js").is_file()
    assert "x^2" in (tmp_path / "_build" / "html" / "prose.html").read_text()
    assert executed(execute_step()).startswith("executing 0 of 2 notebooks")
    (tmp_path / "page.ipynb").write_text(_notebook_json("print('second ' + 'version')"))
    assert executed(build_book(tmp_path, fresh=False)).startswith("executing 1 of 2 notebooks")
    assert "second version" in (tmp_path / "_build" / "html" / "page.html").read_text()
    assert "the other page" in (tmp_path / "_build" / "html" / "other.html").read_text()
    assert executed(execute_step("--fresh")).startswith("executing 2 of 2 notebooks")
    # and FRESH=1 is what passes --fresh to that step
    planned = make("-n", "build-book", f"BOOK_ROOT={tmp_path}", "FRESH=1", "MODELS=none").stdout
    assert f"tools.execute --root {tmp_path} --fresh" in planned, planned


@pytest.mark.book
@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("page.ipynb", _notebook_json("raise RuntimeError('this cell is broken')"), "this cell is broken"),
        ("page.md", "# A page\n\nA link to {doc}`nowhere`.\n", "nowhere"),
    ],
    ids=["failing-cell", "sphinx-warning"],
)
def test_a_broken_page_fails_the_build(tmp_path, name, text, message):
    _one_page_book(tmp_path, name, text)
    result = build_book(tmp_path)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr


@pytest.mark.book
def test_book_builds_every_chapter_with_figures(built_book):
    assert (built_book / "index.html").exists()
    for entry in TOC:
        page = built_book / f"{entry}.html"
        assert page.exists(), f"{page} was not built"
        source = _resolve(entry)
        if source.suffix == ".ipynb":
            html = page.read_text()
            assert "cell_output" in html, f"{entry}: no executed output in the page"
            has_figure = any("plt." in _text(c) or "show_images" in _text(c) for c in _cells(source))
            if has_figure:
                assert re.search(r'<img[^>]+src="[^"]+\.png"', html), f"{entry}: figures missing"


@pytest.mark.book
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_executed_copies_hold_the_outputs_nbval_checks(notebook, built_book):
    """nbval compares against _build/jupyter_execute: a checked cell without stored outputs would check nothing."""
    executed = ROOT / "_build" / "jupyter_execute" / notebook.relative_to(ROOT)
    cells = [c for c in _cells(executed) if c["cell_type"] == "code"]
    checked = [c for c in cells if "nbval-check-output" in _tags(c)]
    assert all(c["outputs"] for c in checked), f"{notebook.name}: a checked cell has no stored output"
    assert any(c["outputs"] for c in cells), f"{notebook.name}: no cell has an output"


_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$", re.M)
_TABLE_RULE = re.compile(r"^\s*\|(\s*:?-{3,}:?\s*\|)+\s*$", re.M)


def _markdown_tables(notebook: Path) -> int:
    """The Markdown tables among a built chapter's displayed outputs (text/markdown with a header rule)."""
    executed = ROOT / "_build" / "jupyter_execute" / notebook.relative_to(ROOT)
    found = 0
    for cell in _cells(executed):
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get("text/markdown", "")
            found += len(_TABLE_RULE.findall("".join(text) if isinstance(text, list) else text))
    return found


@pytest.mark.book
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_results_tables_render_as_tables_not_pipes(notebook, built_book):
    """A cell that displays a Markdown table shows a table: no paragraph of pipe rows on the page, and at
    least as many <table> elements in the page's outputs as there are tables among them."""
    page = (built_book / notebook.relative_to(ROOT)).with_suffix(".html").read_text(encoding="utf-8")
    text = re.sub(r"<table\b.*?</table>", "", page, flags=re.S)  # a cell of a real table may hold a |pipe|
    paragraphs = [html for html in re.findall(r"<p>(.*?)</p>", text, re.S) if _TABLE_ROW.search(html.replace("<br />", "\n"))]
    assert not paragraphs, f"a table printed as text: {paragraphs[0][:200]}"
    in_prose = sum(len(_TABLE_RULE.findall(_text(c))) for c in _cells(notebook) if c["cell_type"] == "markdown")
    assert page.count("<table") >= _markdown_tables(notebook) + in_prose


def _visible_code(page: str) -> list[str]:
    """The code of every cell whose source a page shows without a click (not behind "Show code cell source")."""
    import html

    shown = []
    for cell in re.split(r'<div class="cell[ "]', page)[1:]:
        before_input = cell.split('<div class="cell_input', 1)
        if len(before_input) == 1 or "hide above-input" in before_input[0]:
            continue
        pre = re.search(r"<pre>(.*?)</pre>", before_input[1], re.S)
        if pre:
            shown.append(html.unescape(re.sub(r"<[^>]+>", "", pre.group(1))).rstrip("\n"))
    return shown


@pytest.mark.book
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_page_shows_no_bookkeeping(notebook, built_book):
    """What the reader must not see on a built page: a test marker, a glue call, a code cell over 30 lines."""
    page = (built_book / notebook.relative_to(ROOT)).with_suffix(".html").read_text(encoding="utf-8")
    assert "NBVAL" not in page
    code = _visible_code(page)
    assert code, f"{notebook.name}: the page shows no code (has the page's HTML changed?)"
    for source in code:
        assert "glue(" not in source, f"{notebook.name}: a glue call on the page: {source[:200]}"
        lines = len(source.splitlines())
        assert lines <= MAX_VISIBLE_LINES, f"{notebook.name}: a code cell of {lines} lines on the page: {source[:200]}"


@pytest.mark.book
def test_the_pdf_sources_print_no_table_as_pipes(built_book):
    """The LaTeX the PDF is made from has no row of a Markdown table left as text (when `make pdf` has run)."""
    tex = ROOT / "_build" / "latex" / "gaedu.tex"
    if not tex.is_file():
        pytest.skip("the PDF's LaTeX is not built (make pdf; make test builds it)")
    rows = [line for line in tex.read_text(encoding="utf-8").splitlines() if re.match(r"^\\(textbar|\|)\s", line)
            or line.strip().startswith("| ") and line.strip().endswith(" |")]  # fmt: skip
    assert not rows, f"a table printed as text in the PDF: {rows[0][:200]}"


@pytest.mark.book
def test_figures_are_opaque_so_they_read_in_dark_mode(built_book):
    """Every figure is a PNG with an opaque background: in the theme's dark mode a transparent one would draw
    black axes and labels on the black page."""
    import base64
    import io

    from PIL import Image

    def transparent(image: Image.Image) -> bool:
        return "A" in image.getbands() and image.getchannel("A").getextrema()[0] < 255

    files = sorted((built_book / "_images").glob("*.png"))
    assert files, "the build has no figures"
    bad = [f.name for f in files if transparent(Image.open(f))]
    for page in built_book.rglob("*.html"):  # animations embed their frames in the page
        for frame in re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page.read_text(encoding="utf-8")):
            if transparent(Image.open(io.BytesIO(base64.b64decode(frame)))):
                bad.append(f"a frame in {page.relative_to(built_book)}")
    assert not bad, f"transparent figures: {bad[:5]}"


def test_pages_are_made_accessible_where_the_theme_is_not():
    import offline  # book/_ext, on pytest's pythonpath as on Sphinx's (pyproject.toml)

    page = (
        '<figure class="align-default" id="fig-a">\n<img alt="../_images/abc.png" src="../_images/abc.png" />\n'
        '<figcaption>\n<p><span class="caption-number">Fig. 1 </span><span class="caption-text">The path of '
        '<span class="math notranslate nohighlight">\\(\\theta\\)</span> to the "top"</span>'
        '<a class="headerlink" href="#fig-a">#</a></p></figcaption></figure>'
        '<img id="_anim_img1" src="data:image/jpeg;base64,xx"><input id="_anim_slider1" type="range">'
        '<div class="citation" id="id1" role="doc-biblioentry"></div>'
        '<button class="btn search-button-field search-button__button" title="Search" aria-label="Search" x="y">'
        '<summary aria-label="Toggle hidden content"><p>Show code cell source</p></summary>'
        '<i class="theme-switch fa-solid fa-sun" data-mode="light" title="Light"></i>'
    )
    fixed = offline.accessible(page)
    assert '<img alt="The path of theta to the \'top\'" src="../_images/abc.png"' in fixed
    assert '<img alt="A frame of the animation' in fixed and '<input aria-label="Frame of the animation"' in fixed
    assert 'role="listitem"' in fixed and "doc-biblioentry" not in fixed
    assert 'title="Search" x="y">' in fixed and 'aria-label="Search"' not in fixed
    assert "<summary><p>Show code cell source" in fixed and 'data-mode="light"></i>' in fixed
    assert offline.accessible(fixed) == fixed  # applying the fixes again changes nothing
