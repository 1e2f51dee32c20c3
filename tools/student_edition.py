"""Write the student edition of the book into ``_build/student`` (``make student`` runs this).

* ``_build/student/notebooks/``: every chapter notebook with its solution cells
  removed (the cells tagged ``solution``, dropped by nbconvert's
  ``TagRemovePreprocessor``; nbformat reads and writes every notebook, so each
  is validated), outputs empty; the exercises' checkers in ``gaedu.exercises``
  still work.
* ``_build/student/html/``: the book without solutions. It is built from the
  notebooks that the full build executed (``_build/jupyter_execute``), with the
  solution cells removed and sphinx-exercise's ``hide_solutions`` on, so no
  notebook runs twice and no solution reaches a page.
* ``_build/student/html/zh_CN/``: the same book in Chinese, from the same sources and
  the Chinese edition's catalogues (``locale/zh_CN``, ``tools.i18n``).

Usage: .venv/bin/python -m tools.student_edition [--root .] [--html/--no-html]
"""

from __future__ import annotations

import argparse
import copy
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import yaml
from nbconvert.preprocessors import TagRemovePreprocessor
from sphinx_external_toc.parsing import parse_toc_yaml

ROOT = Path(__file__).resolve().parents[1]
SOLUTION_TAG = "solution"
_REMOVE_SOLUTIONS = TagRemovePreprocessor(remove_cell_tags={SOLUTION_TAG}, enabled=True)


def toc_entries(root: Path) -> list[str]:
    """Return the documents of ``root / "_toc.yml"`` in reading order (a depth-first walk), without suffixes.

    The file is parsed by sphinx-external-toc, as the book's build parses it.
    """
    site_map = parse_toc_yaml(root / "_toc.yml")
    entries: list[str] = []

    def walk(docname: str) -> None:
        entries.append(docname)
        for subtree in site_map[docname].subtrees:
            for child in subtree.files():
                walk(child)

    walk(site_map.root.docname)
    return entries


def chapter_notebooks(root: Path = ROOT) -> list[Path]:
    """The book's notebooks, in the order of its table of contents: the one chapter list every tool uses."""
    return [root / f"{entry}.ipynb" for entry in toc_entries(root) if (root / f"{entry}.ipynb").exists()]


def is_solution(cell: dict) -> bool:
    """Whether a cell belongs to a solution (tagged ``solution``)."""
    return SOLUTION_TAG in cell.get("metadata", {}).get("tags", [])


def without_solutions(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return a copy of ``notebook`` without its solution cells."""
    student, _ = _REMOVE_SOLUTIONS(copy.deepcopy(notebook), {})
    return student


def _strip(source: Path, target: Path) -> None:
    """Read the notebook ``source``, drop its solutions, check it against the notebook schema, write it to ``target``."""
    student = without_solutions(nbformat.read(source, as_version=4))
    try:
        nbformat.validate(student)  # read and write only log what is invalid
    except nbformat.ValidationError as err:
        sys.exit(f"student edition: {source} is not a valid notebook: {err.message[:300]}")
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(student, target)


def write_notebooks(root: Path, out: Path) -> list[Path]:
    """Write every chapter notebook without its solutions under ``out``; return the paths."""
    written = []
    for source in chapter_notebooks(root):
        target = out / source.relative_to(root)
        _strip(source, target)
        written.append(target)
    return written


def load_config(root: Path) -> dict:
    """Return ``root / "_config.yml"`` with its local extensions' folders made absolute.

    Jupyter Book resolves those folders against the configuration file's own
    folder, so a copy of the configuration written elsewhere must name them in full.
    """
    config = yaml.safe_load((root / "_config.yml").read_text())
    sphinx = config.get("sphinx") or {}
    if sphinx.get("local_extensions"):
        sphinx["local_extensions"] = {
            name: str((root / folder).resolve()) for name, folder in sphinx["local_extensions"].items()
        }
    return config


def write_html_sources(root: Path, source_dir: Path) -> None:
    """Assemble a book under ``source_dir`` from the executed notebooks, solutions removed."""
    executed = root / "_build" / "jupyter_execute"
    if source_dir.exists():
        shutil.rmtree(source_dir)
    config = load_config(root)
    config["title"] = f"{config['title']} (student edition)"
    config["execute"] = {**config.get("execute", {}), "execute_notebooks": "off"}
    config.setdefault("sphinx", {}).setdefault("config", {})["hide_solutions"] = True
    source_dir.mkdir(parents=True)
    (source_dir / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    shutil.copy(root / "_toc.yml", source_dir / "_toc.yml")
    for bib in config.get("bibtex_bibfiles", []):  # the citations' database
        (source_dir / bib).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(root / bib, source_dir / bib)
    for entry in toc_entries(root):
        notebook = executed / f"{entry}.ipynb"
        if (root / f"{entry}.ipynb").exists():
            if not notebook.exists():
                sys.exit(f"student edition: {notebook} is missing; build the book first (make book)")
            _strip(notebook, source_dir / f"{entry}.ipynb")
        else:
            page = root / f"{entry}.md"
            (source_dir / page.relative_to(root)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(page, source_dir / page.relative_to(root))


def build_html(source_dir: Path, html_dir: Path, jupyter_book: str) -> None:
    """Build the student book with the main build's flags and move its HTML to ``html_dir``."""
    command = [jupyter_book, "build", str(source_dir), "--builder", "html", "--all", "-W", "-n", "--keep-going"]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"student edition: the HTML build failed\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    if html_dir.exists():
        shutil.rmtree(html_dir)
    shutil.move(str(source_dir / "_build" / "html"), html_dir)


def build_chinese_html(source_dir: Path, html_dir: Path, jupyter_book: str, root: Path = ROOT) -> None:
    """Build the student book of ``source_dir`` in Chinese into ``html_dir / "zh_CN"`` (after :func:`build_html`)."""
    config = yaml.safe_load((source_dir / "_config.yml").read_text())
    config["title"] = "图像生成与重建中的梯度上升（学生版）"  # the Chinese edition's title, tools.i18n.TITLE
    from tools import i18n

    config["sphinx"]["config"].update(i18n.sphinx_settings(root.resolve()))
    path = source_dir / "_config.zh_CN.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    out = source_dir / "_zh_CN"
    command = [jupyter_book, "build", str(source_dir), "--config", str(path), "--path-output", str(out)]
    command += ["--builder", "html", "--all", "-W", "-n", "--keep-going"]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"student edition: the Chinese HTML build failed\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    target = html_dir / "zh_CN"
    if target.exists():
        shutil.rmtree(target)
    shutil.move(str(out / "_build" / "html"), target)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the book's repository (default: this one)")
    parser.add_argument("--no-html", dest="html", action="store_false", help="write the notebooks only")
    args = parser.parse_args(argv)
    out = args.root / "_build" / "student"
    if (out / "notebooks").exists():
        shutil.rmtree(out / "notebooks")
    notebooks = write_notebooks(args.root, out / "notebooks")
    print(f"wrote {len(notebooks)} student notebooks to {out / 'notebooks'}")
    if args.html:
        write_html_sources(args.root, out / "source")
        jupyter_book = str(Path(sys.executable).parent / "jupyter-book")
        build_html(out / "source", out / "html", jupyter_book)
        build_chinese_html(out / "source", out / "html", jupyter_book, args.root)
        print(f"wrote the student book to {out / 'html'}/index.html, in Chinese to {out / 'html' / 'zh_CN'}/index.html")


if __name__ == "__main__":
    main()
