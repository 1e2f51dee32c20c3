"""The Simplified Chinese edition: complete catalogues that keep the English markup, and pages built from the same execution.

The catalogue tests need no build (``make check`` runs them). The built-page tests read ``_build/html/zh_CN`` beside the
English ``_build/html`` (``make book`` builds both; ``tools.i18n``).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat
import pytest
from babel.messages.catalog import Catalog

from conftest import ROOT
from test_book import TOC
from tools import i18n
from tools.student_edition import chapter_notebooks

ZH = "zh_CN"


# The catalogues


def test_every_message_is_translated_keeps_its_markup_and_uses_the_glossary_s_terms():
    assert i18n.problems() == []


def test_the_catalogues_follow_the_english_text(tmp_path):
    """Every message of the English pages (and every figure caption), extracted now, has its entry: English
    prose changed without ``make gettext`` would otherwise show in English on the Chinese pages."""
    stale = []
    for page, template in i18n.templates(tmp_path).items():
        path = i18n.CATALOGUES / page
        known = {m.id for m in i18n.read_catalogue(path) if m.id} if path.exists() else set()
        stale += [f"{page}: {m.id[:70]!r}" for m in template if m.id and m.id not in known]
    assert stale == [], f"run `make gettext` and translate: {stale[:5]} ({len(stale)} messages)"


@pytest.mark.parametrize(
    ("english", "chinese", "kept"),
    [
        ("The step is $\\eta = 0.1$.", "步长为 $\\eta = 0.1$。", True),
        ("The step is $\\eta = 0.1$.", "步长为 $\\eta=0.1$。", False),  # the math changed
        ("PSNR {glue:text}`psnr:.2f` dB.", "PSNR 为 {glue:text}`psnr:.2f` dB。", True),
        ("PSNR {glue:text}`psnr:.2f` dB.", "PSNR 为 {glue:text}`psnr:.1f` dB。", False),  # another format
        ("See {doc}`../algorithm/gradient-ascent`.", "见 {doc}`../algorithm/gradient-ascent`。", True),
        ("As {cite:t}`kingma2015` showed.", "正如文献所示。", False),  # the citation dropped
        ("Call `restore(problem)`.", "调用 `restore(problem)`。", True),
        ("Call `restore(problem)`.", "调用 restore(problem)。", False),  # code no longer code
        ("See {ref}`the summary <sec-summary>`.", "见{ref}`小结 <sec-summary>`。", True),  # a reference's own text is translated
        ("See {ref}`the summary <sec-summary>`.", "见{ref}`小结 <sec-other>`。", False),
        ("Read [the docs](https://example.org/a).", "阅读[文档](https://example.org/a)。", True),
        ("Read [the docs](https://example.org/a).", "阅读[文档](https://example.org/b)。", False),
        ("Both $x$ and $x$.", "$x$ 与 $y$。", False),  # as often as in the English
    ],
)
def test_a_translation_must_keep_the_messages_markup(english, chinese, kept):
    assert (sorted(i18n.tokens(english)) == sorted(i18n.tokens(chinese))) is kept


def test_display_math_and_bare_references_need_no_translation():
    assert i18n.nothing_to_translate("\ny = A x + \\sigma \\varepsilon\n")
    assert i18n.nothing_to_translate("{numref}`fig-restored`")
    assert not i18n.nothing_to_translate("Overview")
    assert not i18n.nothing_to_translate("The step $\\eta$ is small.")


def test_a_changed_english_message_is_marked_fuzzy_and_fails_the_check(tmp_path, monkeypatch):
    """What `make gettext` does after an edit: the old translation stays, marked fuzzy, and the check fails on it."""
    catalogue = Catalog(locale=ZH)
    catalogue.add("The learning rate is small.", "学习率很小。")
    catalogue.add("Overview", "概述")
    template = Catalog()
    template.add("The learning rate is very small.")  # edited
    template.add("Overview")  # unchanged
    template.add("A new paragraph about the step.")  # added
    i18n.merge(catalogue, template)
    edited = catalogue.get("The learning rate is very small.")
    assert edited.fuzzy and edited.string == "学习率很小。"
    assert catalogue.get("Overview").string == "概述" and not catalogue.get("Overview").fuzzy
    assert not catalogue.get("A new paragraph about the step.").string
    assert catalogue.get("The learning rate is small.") is None
    pages = tmp_path / "LC_MESSAGES" / "book"
    i18n.write_catalogue(catalogue, pages / "page.po")
    monkeypatch.setattr(i18n, "CATALOGUES", tmp_path / "LC_MESSAGES")
    monkeypatch.setattr(i18n, "glossary_uses", lambda: {})
    found = i18n.problems()
    assert any("fuzzy" in line for line in found) and any("not translated" in line for line in found)


def test_a_fuzzy_message_keeps_its_previous_english_until_it_is_translated_again(tmp_path):
    """The ``#|`` lines (the English a fuzzy translation was made for, wrapped) survive a catalogue's reading and
    writing, and go once the message is translated again (as `tools.i18n fill` does)."""
    old = 'The learning rate is small, so the ascent takes many steps before it settles near "the top".'
    new = 'The learning rate is very small, so the ascent takes many steps before it settles near "the top".'
    catalogue = Catalog(locale=ZH)
    catalogue.add("Overview", "概述")
    catalogue.add(old, "学习率很小，所以上升要走很多步才会停在“顶点”附近。")
    template = Catalog()
    template.add("Overview")
    template.add(new)
    i18n.merge(catalogue, template)
    path = tmp_path / "page.po"
    i18n.write_catalogue(catalogue, path)
    for _ in range(2):
        i18n.write_catalogue(i18n.read_catalogue(path), path)
    text = path.read_text(encoding="utf-8")
    assert text.count("#| ") >= 2 and "# |" not in text  # wrapped, and written as Babel writes it
    read = i18n.read_catalogue(path)
    edited = read.get(new)
    assert edited.fuzzy and edited.previous_id == [old] and not edited.user_comments
    edited.string, edited.previous_id = "学习率非常小，所以上升要走很多步才会停在“顶点”附近。", []
    edited.flags.discard("fuzzy")
    i18n.write_catalogue(read, path)
    assert "#|" not in path.read_text(encoding="utf-8") and not i18n.read_catalogue(path).get(new).user_comments


def test_the_search_dictionary_keeps_the_glossary_s_chinese_terms_whole(tmp_path):
    """jieba's user dictionary for the Chinese search index: every glossary rendering's runs of Chinese characters."""
    (tmp_path / "locale" / "zh_CN").mkdir(parents=True)
    (tmp_path / "locale" / "zh_CN" / "terms.tsv").write_text("gradient ascent\t梯度上升\nGAN inversion\tGAN 反演\n"
                                                               "total variation\t全变分（TV）\nL1 and L2\tL1 与 L2\n")  # fmt: skip
    words = i18n.search_words(tmp_path).read_text(encoding="utf-8").split()
    assert words == ["全变分", "反演", "梯度上升"]  # one character alone ("与") is already a word
    assert i18n.sphinx_settings(tmp_path)["html_search_options"] == {"dict": str(tmp_path / "_build" / "zh_CN-search-words.txt")}
    real = i18n.search_words().read_text(encoding="utf-8").split()
    assert {"梯度上升", "次梯度", "生成对抗网络"} <= set(real)


def test_every_glossary_term_has_one_chinese_rendering():
    terms = i18n.glossary_terms()
    assert set(i18n.glossary_uses()) <= set(terms)
    glossary = {m.id: m.string for m in i18n.read_catalogue(i18n.CATALOGUES / "book/back/glossary.po") if m.id}
    # The Chinese glossary names each term by its rendering, the English beside it.
    expected = {english: chinese if chinese == english else f"{chinese}（{english}）" for english, chinese in terms.items()}
    assert {english: glossary.get(english) for english in terms} == expected


# The Chinese notebooks


def test_the_chinese_notebooks_have_the_same_code_and_chinese_prose(tmp_path):
    i18n.notebooks(tmp_path)
    for source in chapter_notebooks(ROOT):
        entry = source.relative_to(ROOT)
        english, chinese = nbformat.read(source, 4), nbformat.read(tmp_path / entry, 4)
        assert [c.cell_type for c in chinese.cells] == [c.cell_type for c in english.cells]
        assert [c.source for c in chinese.cells if c.cell_type == "code"] == [c.source for c in english.cells if c.cell_type == "code"]
        assert [c.id for c in chinese.cells] == [c.id for c in english.cells]
        prose = "\n".join(c.source for c in chinese.cells if c.cell_type == "markdown")
        left = [m.id for m in i18n.read_catalogue(i18n.CATALOGUES / entry.with_suffix(".po"))
                if m.id and m.string and m.string != m.id and len(m.id) > 40 and i18n._pattern(m.id).search(prose)]  # fmt: skip
        assert left == [], f"{entry}: English paragraphs left in the Chinese notebook: {left[:2]}"
        assert len(re.findall(r"[\u4e00-\u9fff]", prose)) > 500, f"{entry} is not in Chinese"


# The built Chinese pages


def _prose(path: Path) -> str:
    """A built page's text without its code cells, their outputs, math, scripts and the language link."""
    text = path.read_text(encoding="utf-8")
    main = text[text.find("<main") :] if "<main" in text else text
    main = re.sub(r"<script.*?</script>|<style.*?</style>|<nav class=\"gaedu-language\".*?</nav>", " ", main, flags=re.S)
    main = re.sub(r'<div class="cell docutils container".*?<!-- end cell -->', " ", main, flags=re.S)
    main = re.sub(r'<(span|div) class="math[^"]*">.*?</\1>', " ", main, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", main))


def _exercise_titles(page: str) -> list[str]:
    """The exercises' own titles on a built page, each exercise's and each solution's (the part in parentheses)."""
    titles = re.findall(r'<p class="admonition-title">(.*?)</p>', page, flags=re.S)
    return [m.group(1) for t in titles if (m := re.search(r"\((.*)\)", html.unescape(re.sub(r"<[^>]+>", "", t)), re.S))]


@pytest.fixture(scope="module")
def chinese_book(built_book) -> Path:
    book = built_book / ZH
    if not (book / "index.html").is_file():
        pytest.fail("the Chinese edition was not built (_build/html/zh_CN): `make book` builds it", pytrace=False)
    return book


@pytest.mark.parametrize("entry", TOC)
def test_each_page_is_in_both_languages_and_links_to_the_other(entry, built_book, chinese_book):
    english, chinese = built_book / f"{entry}.html", chinese_book / f"{entry}.html"
    text = chinese.read_text(encoding="utf-8")
    assert re.search(r'<html[^>]* lang="zh-CN"', text), "the Chinese page does not say its language"
    assert re.search(r'<html[^>]* lang="en"', english.read_text(encoding="utf-8"))
    for page, other in ((english, chinese), (chinese, english)):
        link = re.search(r'<nav class="gaedu-language"[^>]*><a href="([^"]+)"', page.read_text(encoding="utf-8"))
        assert link, f"{page.name} has no link to the other language"
        assert (page.parent / link.group(1)).resolve() == other.resolve()
    assert len(re.findall(r"[\u4e00-\u9fff]", _prose(chinese))) > 20, "the Chinese page is not in Chinese"
    # The labels the book's extensions and theme put on a page are Chinese too.
    english_labels = [label for label in ("Show code cell", "Click to show", ">Exercise", ">Solution", "Search") if label in text]
    assert english_labels == []
    # So are the exercises' own titles, and the solutions' that repeat them (the English page's are in English).
    titles, english_titles = _exercise_titles(text), _exercise_titles(english.read_text(encoding="utf-8"))
    assert len(titles) == len(english_titles)
    assert [t for t in english_titles if re.search(r"[\u4e00-\u9fff]", t)] == []
    assert [t for t in titles if not re.search(r"[\u4e00-\u9fff]", t)] == [], "exercise titles left in English"


#: A number in prose: digits with an optional decimal part or exponent (not part of a word or a label).
NUMBER = re.compile(r"(?<![\w.])[−-]?\d+(?:[.,]\d+)*(?:[eE][−-]?\d+)?(?![\w])")


def _numbers(text: str) -> set[str]:
    """The numbers of a text, written alike: no thousands separator, one minus sign."""
    return {n.replace(",", "").replace("−", "-") for n in NUMBER.findall(text)}


@pytest.mark.parametrize("entry", [e for e in TOC if (ROOT / f"{e}.ipynb").exists()])
def test_the_chinese_page_shows_every_number_of_the_english_prose(entry, built_book, chinese_book):
    """The glued numbers come from one execution: each number in the English page's prose is in the Chinese page's."""
    english = _numbers(_prose(built_book / f"{entry}.html"))
    chinese = _numbers(_prose(chinese_book / f"{entry}.html"))
    assert english, "no number found in the English prose: the test would see nothing"
    assert english - chinese == set(), f"numbers of the English page missing from the Chinese one: {sorted(english - chinese)}"


@pytest.mark.parametrize("entry", [e for e in TOC if (ROOT / f"{e}.ipynb").exists()])
def test_the_chinese_page_shows_the_english_page_s_figures(entry, built_book, chinese_book):
    """The Chinese pages take every output from the English build's cache (tools.i18n.html fails if its build
    executed a notebook): each page shows the very figures of its English page, the same files."""

    def figures(page: Path) -> dict[str, bytes]:
        sources = re.findall(r'<img[^>]* src="([^"]+_images/[^"]+)"', page.read_text(encoding="utf-8"))
        return {Path(src).name: (page.parent / src).read_bytes() for src in sources}

    english = figures(built_book / f"{entry}.html")
    if not english:
        pytest.skip("this page has no figure")
    assert figures(chinese_book / f"{entry}.html") == english


def test_a_page_s_title_is_translated_alike_wherever_it_is_named():
    """A chapter named in another page's table (the instructors' page) carries the title its own page gives it."""
    from tools.check_pdf import title
    from tools.student_edition import toc_entries

    titles = {}
    for entry in toc_entries(ROOT):
        source = next(ROOT / f"{entry}{s}" for s in (".ipynb", ".md") if (ROOT / f"{entry}{s}").is_file())
        titles[title(source)] = i18n.read_catalogue(i18n.CATALOGUES / f"{entry}.po").get(title(source)).string
    assert all(titles.values())
    differ = [(path.name, m.id, m.string) for path in sorted(i18n.CATALOGUES.rglob("*.po"))
              for m in i18n.read_catalogue(path) if m.id in titles and m.string != titles[m.id]]  # fmt: skip
    assert differ == []


@pytest.mark.parametrize(
    ("language", "page", "href", "tag"),
    [
        ("en", "book/algorithm/gradient-ascent", "../../zh_CN/book/algorithm/gradient-ascent.html", "zh-CN"),
        ("zh_CN", "book/algorithm/gradient-ascent", "../../../book/algorithm/gradient-ascent.html", "en"),
        ("en", "index", "zh_CN/index.html", "zh-CN"),
        ("zh_CN", "index", "../index.html", "en"),
    ],
)
def test_each_edition_links_a_page_to_the_same_page_in_the_other(language, page, href, tag):
    from types import SimpleNamespace

    import languages

    app = SimpleNamespace(builder=SimpleNamespace(format="html"), config=SimpleNamespace(language=language))
    context = {"body": "<p>text</p>", "metatags": ""}
    languages._switch(app, page, "page.html", context, doctree=object())
    languages._lang_attribute(app, page, "page.html", context, doctree=object())
    assert f'<a href="{href}" hreflang="{tag}" lang="{tag}">' in context["body"]
    assert context["body"].endswith("<p>text</p>") and f'hreflang="{tag}"' in context["metatags"]
    assert context["language"] == {"en": "en", "zh_CN": "zh-CN"}[language]
