"""Find numbers typed into a chapter's prose that no cell computes.

Every number a cell measures reaches the prose through myst-nb's ``glue``
(``{glue:text}`key:fmt```). This checker reads the Markdown cells of each chapter,
removes what may carry digits legitimately, and reports every digit-bearing token
left over:

- glued values, maths (``$…$``, ``$$…$$``), code (inline and fenced), roles such as
  ``{cite}`` or ``{numref}``, link targets, labels, directive options and HTML;
- shapes (``28×28``), sections of the source (``§3.2``) and years (1900–2039);
- lone one-digit integers (counts and names: "3 seeds", "Part 2"), unless a unit
  or a percent sign follows them;
- a chapter's list of references (a cell headed "References" or "Further reading"):
  volumes and pages;
- the phrases of the chapter's allow-list, ``tools/prose_numbers.yml``: settings the
  text chooses, constants of the problem, sizes of data sets and hand-worked examples,
  each with a reason. A phrase that no longer occurs in its chapter is reported too,
  so the list cannot go stale.

Usage: .venv/bin/python -m tools.prose_numbers [CHAPTER ...]   (prints what it finds)
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

from tools.student_edition import chapter_notebooks

ROOT = Path(__file__).resolve().parent.parent
ALLOW = Path(__file__).with_suffix(".yml")

_STRIP = [re.compile(p, flags) for p, flags in [
    (r"\{glue(:[a-z]+)?\}`[^`]*`", 0),  # glued values
    (r"\{[a-z:\-]+\}`[^`]*`", 0),  # other roles: cite, numref, doc, ref, eq, term
    (r"^(`{3,}|~{3,})(?!\{).*?^\1", re.S | re.M),  # fenced code (a directive's body is prose: kept)
    (r"\$\$.*?\$\$", re.S),
    (r"(?<![\\$])\$[^$\n]+?(?<!\\)\$", 0),
    (r"`[^`\n]*`", 0),
    (r"\]\([^)]*\)", 0),  # link targets
    (r"^\([^)\s]*\)=\s*$", re.M),  # labels
    (r"^:[a-z\-]+:.*$", re.M),  # directive options
    (r"<[^>]+>", 0),
    (r"\d+\s*×\s*\d+(\s*×\s*\d+)*", 0),  # shapes
    (r"§\s*\d+(\.\d+)*", 0),  # the source's sections
    (r"(?<![\d.,])(19|20[0-3])\d(?![\d.,]\d)", 0),  # years
]]  # fmt: skip
_DIRECTIVE = re.compile(r"^(`{3,}|:{3,})\{?[\w\-:]*\}?.*$", re.M)  # a directive's first line
_TOKEN = re.compile(r"(?<![\w.])[−-]?\d[\d.,]*(?:\s*(%|pp|dB|s\b|ms\b|×))?")
_UNITLESS_DIGIT = re.compile(r"[−-]?\d")
_REFERENCES = re.compile(r"^#+\s*(References|Further reading)\b", re.M)


def _allow_list() -> dict[str, list[dict]]:
    return yaml.safe_load(ALLOW.read_text()) or {}


def _markdown(notebook: Path) -> list[tuple[int, str]]:
    cells = json.loads(notebook.read_text())["cells"]
    texts = [(i, "".join(c["source"])) for i, c in enumerate(cells) if c["cell_type"] == "markdown"]
    return [(i, _REFERENCES.split(text)[0]) for i, text in texts]


def _prose(text: str) -> str:
    text = _STRIP[0].sub(" ", text)  # glue first: its key may look like a fence's contents
    text = _STRIP[2].sub(" ", text)  # fenced code, before the directives' first lines go
    text = _DIRECTIVE.sub(" ", text)
    for pattern in _STRIP:
        text = pattern.sub(" ", text)
    return text


def typed_numbers(notebook: Path, allowed: list[str] = ()) -> list[tuple[int, str, str]]:
    """Return (cell, token, context) for every digit-bearing token of the prose left unexplained."""
    found = []
    for index, text in _markdown(notebook):
        for phrase in allowed:
            text = text.replace(phrase, " ")
        prose = _prose(text)
        for match in _TOKEN.finditer(prose):
            token = match.group(0).rstrip(".,")
            if _UNITLESS_DIGIT.fullmatch(token):
                continue
            context = " ".join(prose[max(0, match.start() - 60) : match.end() + 40].split())
            found.append((index, token, context))
    return found


def stale_phrases(notebook: Path, allowed: list[str]) -> list[str]:
    """Return the allow-list's phrases that no Markdown cell of the chapter contains."""
    text = "\n".join(t for _, t in _markdown(notebook))
    return [phrase for phrase in allowed if phrase not in text]


def chapters() -> list[Path]:
    """The chapter notebooks (:func:`tools.student_edition.chapter_notebooks`, the one list), sorted by path."""
    return sorted(chapter_notebooks(ROOT))


def allowed_for(notebook: Path, allow: dict | None = None) -> list[str]:
    allow = _allow_list() if allow is None else allow
    entries = allow.get(str(notebook.relative_to(ROOT)), []) or []
    return [entry["text"] for entry in entries]


def main(argv: list[str]) -> int:
    allow = _allow_list()
    targets = [ROOT / a for a in argv] if argv else chapters()
    total = 0
    for notebook in targets:
        allowed = allowed_for(notebook, allow)
        for index, token, context in typed_numbers(notebook, allowed):
            print(f"{notebook.relative_to(ROOT)} cell {index}: {token!r} in …{context}…")
            total += 1
        for phrase in stale_phrases(notebook, allowed):
            print(f"{notebook.relative_to(ROOT)}: allow-list phrase not found: {phrase!r}")
            total += 1
    print(f"{total} unexplained")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
