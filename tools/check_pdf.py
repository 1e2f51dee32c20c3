"""Check the PDF edition (``make pdf`` runs this after the LaTeX build): every chapter is in it, and XeLaTeX's log is clean.

LaTeX runs in nonstop mode, so an error can scroll past and still leave a PDF.
This reads ``_build/latex/gaedu.log`` and fails on any error (a line starting
with ``!``), any character the fonts lack ("Missing character", which prints a
blank), and any undefined reference or citation. It then reads the PDF's outline
and fails unless every page of the table of contents is a chapter of it, and reads
the typesetting a reader would see wrong: a number of the table of contents run into
its title, and (in English) quotation marks set as full-width Chinese punctuation.

Usage: .venv/bin/python -m tools.check_pdf [--root .] [--language zh_CN]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from tools.student_edition import toc_entries

PROBLEMS = (
    (re.compile(r"^! .*"), "error"),
    (re.compile(r"^Missing character: .*"), "missing character"),
    (re.compile(r"^LaTeX Warning: (Reference|Citation|Hyper reference) .*"), "undefined reference"),
    (re.compile(r"^LaTeX Warning: There were undefined references.*"), "undefined reference"),
)


def problems(log: str) -> list[str]:
    """The errors, missing characters and undefined references in a LaTeX log, one line each."""
    # TeX wraps its log at 79 characters: join a wrapped message back to one line.
    lines = log.replace("\r\n", "\n").split("\n")
    found = []
    for i, line in enumerate(lines):
        for pattern, kind in PROBLEMS:
            if pattern.match(line):
                text = line
                while len(lines[i]) == 79 and i + 1 < len(lines):
                    i += 1
                    text += lines[i]
                found.append(f"{kind}: {text}")
    return found


def title(path: Path) -> str:
    """A page's title: the first level-1 heading of its notebook or Markdown file."""
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    else:
        text = path.read_text(encoding="utf-8")
    match = re.search(r"^# (.+)$", text, re.M)
    if match is None:
        raise ValueError(f"{path} has no level-1 heading")
    return match.group(1).strip()


def _plain(text: str) -> str:
    """A title without Markdown and TeX markup, as a PDF outline spells it."""
    text = re.sub(r"[`*$\\]", "", text)
    return re.sub(r"\s+", " ", text.replace("’", "'")).strip().lower()


def outline(pdf: Path) -> list[tuple[str, int]]:
    """The PDF's outline as (title, page) pairs, parts and chapters (two levels), pages from 1."""
    from pypdf import PdfReader

    reader = PdfReader(str(pdf))
    entries = []

    def walk(items, depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            elif depth <= 1:
                entries.append((item.title.strip(), reader.get_destination_page_number(item) + 1))

    walk(reader.outline, 0)
    return entries


#: A table-of-contents line whose number runs into its title ("10.10At the source's size"): the class left the
#: number too little room (book/_ext/pdf.py).
_CROWDED = re.compile(r"^\d+(?:\.\d+)?(?=[^\W\d_])", re.M)
#: Quotation marks and dashes the English edition sets in its own fonts (book/_ext/pdf.py).
LATIN_PUNCTUATION = "–—‘’“”…"


def crowded_contents(text: str) -> list[str]:
    """The lines of a table of contents' text whose number runs into the title after it."""
    return [line for line in text.splitlines() if _CROWDED.match(line)]


def contents_text(pdf: Path) -> str:
    """The text of the pages before the first chapter: the title page and the table of contents."""
    from pypdf import PdfReader

    first = min((page for _, page in outline(pdf)), default=1)
    reader = PdfReader(str(pdf))
    return "\n".join(reader.pages[i].extract_text() for i in range(min(first - 1, len(reader.pages))))


def punctuation_in_cjk_fonts(pdf: Path, every: int = 4) -> dict[str, int]:
    """How often each of :data:`LATIN_PUNCTUATION` is set in a CJK font, on every ``every``-th page: a full-width
    glyph ("GAN’ s") in English text."""
    from pypdf import PdfReader

    found: dict[str, int] = {}

    def visit(text, cm, tm, font, size) -> None:
        if font is not None and "CJK" in str(font.get("/BaseFont", "")):
            for char in text:
                if char in LATIN_PUNCTUATION:
                    found[char] = found.get(char, 0) + 1

    for page in PdfReader(str(pdf)).pages[::every]:
        page.extract_text(visitor_text=visit)
    return found


def _translator(root: Path, language: str):
    """A page's title in ``language``: its translation in the page's catalogue."""
    from babel.messages.pofile import read_po

    def translate(entry: str, text: str) -> str:
        with (root / "locale" / language / "LC_MESSAGES" / f"{entry}.po").open("rb") as handle:
            message = read_po(handle).get(text)
        return message.string if message is not None and message.string else text

    return translate


def check(root: Path, language: str | None = None) -> tuple[int, list[str]]:
    """Return the PDF's page count and what is wrong with it (nothing, if it is complete and its log clean).

    ``language="zh_CN"``: the Chinese edition's PDF (``_build/latex/zh_CN``), whose chapters are
    the titles' translations in its catalogues (``tools.i18n``).
    """
    from pypdf import PdfReader

    folder = root / "_build" / "latex" / (language or "")
    pdf, log = folder / "gaedu.pdf", folder / "gaedu.log"
    translate = (lambda entry, text: text) if language is None else _translator(root, language)
    if not pdf.is_file() or not log.is_file():
        return 0, [f"{pdf.relative_to(root)} or its log is missing: run `make pdf`"]
    found = problems(log.read_text(encoding="utf-8", errors="replace"))
    chapters = {_plain(name) for name, _ in outline(pdf)}
    for entry in toc_entries(root)[1:]:  # the root page is the PDF's front matter, not a chapter
        source = next((root / f"{entry}{s}" for s in (".ipynb", ".md") if (root / f"{entry}{s}").is_file()), None)
        if source is not None and _plain(translate(entry, title(source))) not in chapters:
            found.append(f"missing chapter: {translate(entry, title(source))} ({entry})")
    found += [f"a number runs into its title in the table of contents: {line}" for line in crowded_contents(contents_text(pdf))]
    if language is None:  # in the Chinese edition they are Chinese punctuation, full-width by design
        found += [f"{char!r} set in a CJK font {n} times (full-width in English text)"
                  for char, n in punctuation_in_cjk_fonts(pdf).items()]  # fmt: skip
    return len(PdfReader(str(pdf)).pages), found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=".", help="the book's folder (where _config.yml is)")
    parser.add_argument("--language", default=None, help="zh_CN: the Chinese edition's PDF (_build/latex/zh_CN)")
    args = parser.parse_args(argv)
    root = Path(args.root).resolve()
    pages, found = check(root, args.language)
    for problem in found:
        print(problem, file=sys.stderr)
    if found:
        print(f"the PDF edition has {len(found)} problems (see _build/latex/gaedu.log)", file=sys.stderr)
        return 1
    print(f"The PDF edition is {root / '_build' / 'latex' / (args.language or '') / 'gaedu.pdf'}: {pages} pages, every chapter, a clean log")
    return 0


if __name__ == "__main__":
    sys.exit(main())
