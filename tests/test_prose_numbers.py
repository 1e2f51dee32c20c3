"""Every number a chapter's prose states either comes from a cell (glue) or is on the allow-list with a reason.

``tools/prose_numbers.py`` is the checker; these tests run it on every chapter and
check the checker itself, so that a typed measurement cannot hide from it.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml

from conftest import ROOT
from tools import prose_numbers

CHAPTERS = prose_numbers.chapters()
ALLOW = yaml.safe_load(prose_numbers.ALLOW.read_text()) or {}
REASONS = {"setting", "constant", "data", "hand", "reference", "name"}


def _notebook(tmp_path, *markdown: str):
    cells = [{"cell_type": "markdown", "metadata": {}, "source": text} for text in markdown]
    path = tmp_path / "chapter.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_the_checker_finds_a_typed_measurement_and_nothing_else(tmp_path):
    notebook = _notebook(
        tmp_path,
        "The PSNR rose to 23.4 dB, then {glue:text}`psnr:.2f`, with $\\eta = 0.25$ and `lr=0.1` on 28×28 "
        "images (source §3.2, Goodfellow et al. 2014, {cite:p}`kingma2015`); 3 seeds; a step of 0.02 here.",
        "```{figure} x.png\n:width: 300px\n```\n(fig-1)=\nSee [page 7](https://example.org/7).",
        "## References\n\n- Someone (1998). A paper. *Journal* 86(11), 2278–2324.",
        "```python\nlr = 0.125\n```\n```{note}\nA note that says 0.75.\n```",
    )
    tokens = [token for _, token, _ in prose_numbers.typed_numbers(notebook)]
    assert tokens == ["23.4 dB", "0.02", "0.75"]  # code is skipped, a directive's prose is not
    assert [t for _, t, _ in prose_numbers.typed_numbers(notebook, ["a step of 0.02"])] == ["23.4 dB", "0.75"]


@pytest.mark.parametrize("text", ["covers 7 % of it", "at 8 dB", "a gap of 0.5", "from 12 runs", "−3.5 on average"])
def test_the_checker_flags_units_decimals_and_longer_numbers(tmp_path, text):
    assert prose_numbers.typed_numbers(_notebook(tmp_path, text)), text


def test_a_phrase_that_left_the_chapter_is_reported(tmp_path):
    notebook = _notebook(tmp_path, "Nothing to see.")
    assert prose_numbers.stale_phrases(notebook, ["a step of 0.02"]) == ["a step of 0.02"]


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_chapter_types_a_number_a_cell_computes(notebook):
    allowed = prose_numbers.allowed_for(notebook, ALLOW)
    typed = prose_numbers.typed_numbers(notebook, allowed)
    assert not typed, "glue these numbers, or allow-list them in tools/prose_numbers.yml with a reason:\n" + "\n".join(
        f"  cell {cell}: {token!r} in …{context}…" for cell, token, context in typed
    )
    stale = prose_numbers.stale_phrases(notebook, allowed)
    assert not stale, f"tools/prose_numbers.yml lists phrases the chapter no longer has: {stale}"


def test_the_allow_list_names_real_chapters_and_gives_reasons():
    for chapter, entries in ALLOW.items():
        assert (ROOT / chapter).exists(), f"tools/prose_numbers.yml: no chapter {chapter}"
        for entry in entries:
            assert set(entry) == {"text", "why"}, f"{chapter}: {entry}"
            assert entry["why"] in REASONS, f"{chapter}: {entry['text']!r} has reason {entry['why']!r}"
            assert re.search(r"\d", entry["text"]), f"{chapter}: {entry['text']!r} has no number to allow"
        texts = [entry["text"] for entry in entries]
        assert len(texts) == len(set(texts)), f"{chapter}: a phrase is listed twice"


_GLUED = re.compile(r"""\bglue\(\s*(f?)(["'])(.*?)\2""")
_USED = re.compile(r"\{glue(?::[a-z]+)?\}`([^`:]+)")


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_glued_reference_has_a_glue_call(notebook):
    cells = json.loads(notebook.read_text())["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    literal, prefixes = set(), set()
    for is_f, _, key in _GLUED.findall(code):
        if is_f:
            prefixes.add(key.split("{")[0])
        else:
            literal.add(key)
    markdown = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    missing = sorted({key for key in _USED.findall(markdown)
                      if key not in literal and not any(p and key.startswith(p) for p in prefixes)})  # fmt: skip
    assert not missing, f"{notebook.name} refers to glue keys no cell glues: {missing}"
