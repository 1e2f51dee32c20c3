"""The PDF edition (``make pdf``): the log checker, and the built PDF itself (every chapter, a clean XeLaTeX log)."""

from __future__ import annotations

import re

import pytest
import yaml

import pdf as pdf_extension  # book/_ext, on pytest's pythonpath as on Sphinx's (pyproject.toml)
from conftest import ROOT, make
from tools import check_pdf

CLEAN = "This is XeTeX, Version 3.141592653\nOutput written on gaedu.pdf (378 pages).\n"


def test_the_extension_sets_the_class_the_fonts_and_the_chinese_terms_once():
    config = {"latex_theme": "jupyterBook", "latex_use_xindy": True, "latex_elements": {"preamble": "% theirs"}}
    for _ in range(2):  # a second run adds nothing
        pdf_extension._latex(None, config)
    assert config["latex_theme"] == "manual" and config["latex_use_xindy"] is False
    preamble = config["latex_elements"]["preamble"]
    assert preamble.count(r"\usepackage{xeCJK}") == 1 and preamble.endswith("% theirs")
    assert r"\setCJKmainfont{Noto Serif CJK SC}" in preamble and r"\newenvironment{sphinxVerbatimInput}" in preamble
    assert r"\setmonofont{DejaVu Sans Mono}" in config["latex_elements"]["fontpkg"]


def test_a_clean_log_has_no_problems():
    assert check_pdf.problems(CLEAN) == []


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("! LaTeX Error: Environment sphinxVerbatimInput undefined.", "error"),
        ("! Package fontspec Error: The font \"FreeSerif\" cannot be found.", "error"),
        ("Missing character: There is no ℓ (U+2113) in font DejaVu Sans Mono Oblique/OT:script=latn;language=dflt;!", "missing character"),
        ("LaTeX Warning: Reference `book/foundations/core-concepts:fig-x' on page 15 undefined on input line 797.", "undefined reference"),
        ("LaTeX Warning: Citation `goodfellow2014' on page 3 undefined on input line 12.", "undefined reference"),
        ("LaTeX Warning: There were undefined references.", "undefined reference"),
    ],
)
def test_each_kind_of_latex_problem_is_found(line, kind):
    found = check_pdf.problems(CLEAN + line + "\n")
    assert len(found) == 1 and found[0].startswith(kind + ": ")


def test_a_message_that_tex_wrapped_is_read_whole():
    message = "Missing character: There is no ₜ (U+209C) in font [FreeSerif.otf]/OT:script=latn;language=dflt;!"
    wrapped = message[:79] + "\n" + message[79:] + "\n"
    assert check_pdf.problems(CLEAN + wrapped) == [f"missing character: {message}"]


def test_titles_are_compared_without_markup(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("(label)=\n# A GAN for $8\\times8$ `digits`\n\nText.\n")
    assert check_pdf.title(page) == "A GAN for $8\\times8$ `digits`"
    assert check_pdf._plain("The source’s code  examples") == "the source's code examples"
    (tmp_path / "none.md").write_text("No heading here.\n")
    with pytest.raises(ValueError, match="no level-1 heading"):
        check_pdf.title(tmp_path / "none.md")


def test_a_table_of_contents_number_run_into_its_title_is_found():
    text = "10.10At the source’s size . . . 206\n10.11 Summary . . . 210\n28×28 digits, wrapped . . . 7\n10用解码器 175\n10 Reconstruction 187"
    assert check_pdf.crowded_contents(text) == ["10.10At the source’s size . . . 206", "10用解码器 175"]


@pytest.fixture(scope="session")
def pdf(built_book):
    """``_build/latex/gaedu.pdf`` (and the Chinese ``zh_CN/gaedu.pdf``), built with `make build-pdf` unless newer than the HTML build."""
    target = ROOT / "_build" / "latex" / "gaedu.pdf"
    both = (target, ROOT / "_build" / "latex" / "zh_CN" / "gaedu.pdf")
    if any(not p.is_file() or p.stat().st_mtime < (built_book / ".built").stat().st_mtime for p in both):
        result = make("build-pdf", "FRESH=", "REQUIRE_CACHED=1")  # the HTML build's outputs; executes nothing
        if result.returncode != 0:
            pytest.fail(f"make pdf failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}", pytrace=False)
    return target


def test_the_pdf_has_every_chapter_and_a_clean_log(pdf):
    pages, problems = check_pdf.check(ROOT)
    assert problems == []
    assert pages > 100
    outline = [name for name, _ in check_pdf.outline(pdf)]
    parts = [part["caption"] for part in yaml.safe_load((ROOT / "_toc.yml").read_text())["parts"]]
    assert [name for name in outline if name in parts] == parts  # every part, in order, with its own numeral only


def test_the_glossary_s_chinese_terms_are_in_the_pdf_as_text(pdf):
    """Every CJK character of the glossary is in the PDF's glossary pages (set in a CJK font, so it has a glyph and a code point)."""
    from pypdf import PdfReader

    wanted = set(re.findall(r"[\u4e00-\u9fff]", (ROOT / "book" / "back" / "glossary.md").read_text(encoding="utf-8")))
    assert len(wanted) > 20
    outline = check_pdf.outline(pdf)
    start = next(page for name, page in outline if name == "Glossary")
    end = min(page for name, page in outline if page > start)
    text = "".join(page.extract_text() or "" for page in PdfReader(str(pdf)).pages[start - 1 : end - 1])
    assert wanted <= set(text), f"not in the PDF: {''.join(sorted(wanted - set(text)))}"


def test_the_chinese_pdf_has_every_chapter_in_chinese_and_a_clean_log(pdf):
    """`make pdf` writes the Chinese edition too (_build/latex/zh_CN): every chapter under its Chinese title, every
    part, no missing glyph, and the same figures' numbers as the English one."""
    from pypdf import PdfReader

    chinese = ROOT / "_build" / "latex" / "zh_CN" / "gaedu.pdf"
    pages, problems = check_pdf.check(ROOT, "zh_CN")
    assert problems == []
    assert pages > 100
    # Chinese quotation marks are full-width, from the CJK font: what the English PDF's check finds, so it can fail.
    assert check_pdf.punctuation_in_cjk_fonts(chinese).get("“", 0) > 0
    outline = [name for name, _ in check_pdf.outline(chinese)]
    translate = check_pdf._translator(ROOT, "zh_CN")
    parts = [translate("book/index", part["caption"]) for part in yaml.safe_load((ROOT / "_toc.yml").read_text())["parts"]]
    assert [name for name in outline if name in parts] == parts
    assert all(re.search(r"[\u4e00-\u9fff]", part) for part in parts), "a part's caption is not translated"
    sample = PdfReader(str(chinese)).pages[::10]  # every tenth page: most are prose in Chinese
    chinese_pages = [len(re.findall(r"[\u4e00-\u9fff]", page.extract_text() or "")) >= 20 for page in sample]
    assert sum(chinese_pages) > len(sample) / 2, f"only {sum(chinese_pages)} of {len(sample)} sampled pages are in Chinese"


def test_the_chinese_edition_s_latex_names_its_chapters_in_chinese():
    class Config(dict):
        language = "zh_CN"

    config = Config(latex_theme="jupyterBook", latex_use_xindy=True, latex_elements={"preamble": ""})
    pdf_extension._latex(None, config)
    preamble = config["latex_elements"]["preamble"]
    assert r"第\,\thechapter\,章" in preamble and r"\renewcommand{\chaptername}{}" in preamble
    assert config["latex_elements"]["fncychap"] == ""
    english = {"latex_theme": "jupyterBook", "latex_use_xindy": True, "latex_elements": {"preamble": ""}}
    pdf_extension._latex(None, english)
    assert "第" not in english["latex_elements"]["preamble"]
    # English quotation marks in the text's own fonts; Chinese ones full-width, as xeCJK sets them
    assert r"\xeCJKDeclareCharClass{Default}" in english["latex_elements"]["preamble"]
    assert r'\xeCJKDeclareCharClass{Default}{"2018, "2019}' in preamble  # the Chinese text's quotes are “ ”
    assert all(r"\sphinxtableofcontentshook" in p for p in (preamble, english["latex_elements"]["preamble"]))
