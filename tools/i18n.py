"""The book's Simplified Chinese edition: its message catalogues, their checks, and its build's configuration.

The Chinese pages are the English notebooks with their prose replaced through Sphinx's
gettext machinery. Every Markdown paragraph, heading, list item, caption and directive
title of the book is one message; ``locale/zh_CN/LC_MESSAGES/<page>.po`` holds each
message's translation. Code cells are not messages: they are the same bytes in both
editions, so the Chinese build takes every output from the English build's execution
cache and every glued number is the same in both languages.

Usage (``make gettext``, ``make book``, ``make test`` call it)::

    python -m tools.i18n update     # extract the English messages, update the catalogues
    python -m tools.i18n check      # no untranslated or fuzzy message; markup kept; terms used
    python -m tools.i18n html       # the Chinese HTML book, _build/html/zh_CN (make book)
    python -m tools.i18n pdf        # the Chinese PDF, _build/latex/zh_CN/gaedu.pdf (make pdf)
    python -m tools.i18n notebooks  # the chapters with their Markdown in Chinese (_build/zh_CN/notebooks)

``update`` marks a message fuzzy when its English changed (Babel's fuzzy matching) and
adds a new one untranslated, so ``check`` (and ``make test``) fails until a translator
has read it again. Messages that hold nothing to translate (display math, a bare
reference) are copied as they are.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
LANGUAGE = "zh_CN"
LOCALE = ROOT / "locale"
CATALOGUES = LOCALE / LANGUAGE / "LC_MESSAGES"
TERMS = LOCALE / LANGUAGE / "terms.tsv"
#: The Chinese edition's title (the English one is ``_config.yml``'s).
TITLE = "图像生成与重建中的梯度上升"


def sphinx_settings(root: Path = ROOT) -> dict:
    """What the Chinese builds (HTML, PDF, student pages) set in Sphinx's configuration beside ``_config.yml``'s.

    The labels of the book's hidden code cells are myst-nb's (the book hides only inputs), and the
    hints of the folded solutions sphinx-togglebutton's.
    """
    return {
        "language": LANGUAGE,
        "locale_dirs": [str(root / "locale")],
        "html_search_options": {"dict": str(search_words(root))},
        "gettext_compact": False,
        "nb_code_prompt_show": "显示代码",
        "nb_code_prompt_hide": "隐藏代码",
        "togglebutton_hint": "点击显示",
        "togglebutton_hint_hide": "点击隐藏",
    }


#: A run of Chinese characters (the CJK Unified Ideographs).
_CJK = re.compile(r"[\u4e00-\u9fff]+")


def search_words(root: Path = ROOT) -> Path:
    """The words the Chinese search index keeps whole, written as jieba's user dictionary: the glossary's Chinese
    renderings (``terms.tsv``). Sphinx's Chinese indexer cuts the text into words with jieba, which alone would cut
    梯度上升 into 梯度 and 上升, so that a reader who searches for the term found no page; with the dictionary the
    index holds the term and its parts."""
    renderings = glossary_terms(root).values() if (root / TERMS.relative_to(ROOT)).is_file() else []
    words = {word for chinese in renderings for word in _CJK.findall(chinese) if len(word) > 1}
    text = "".join(f"{word}\n" for word in sorted(words))
    path = root / "_build" / f"{LANGUAGE}-search-words.txt"
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return path


# The markup a translation must keep, token for token: math, roles with their targets
# (glue keys, citations, cross-references), inline code, link targets, and substitutions.
_TOKENS = re.compile(
    r"\$\$.+?\$\$"  # display math inside a paragraph
    r"|(?<![\\$])\$(?!\s)[^$]+?(?<![\s\\])\$"  # inline math
    r"|\{[a-zA-Z:-]+\}`[^`]*`"  # a role: {glue:text}`key:.3f`, {cite:p}`key`, {ref}`label`, {doc}`path`
    r"|``[^`]+``|`[^`]+`"  # inline code
    r"|\]\([^)\s]+\)"  # a Markdown link's target
    r"|<[a-z][a-z0-9+.-]*://[^>\s]+>",  # an autolink
    re.S,
)
_ROLE_TEXT = re.compile(r"^\{(ref|doc|numref|term)\}`([^`<]*)<([^>]+)>`$")


def tokens(text: str) -> list[str]:
    """The markup of one message, in order; a cross-reference with its own text keeps only its target."""
    found = []
    for token in _TOKENS.findall(text):
        match = _ROLE_TEXT.match(token)
        found.append(f"{{{match.group(1)}}}`<{match.group(3)}>`" if match else token)
    return found


def nothing_to_translate(msgid: str) -> bool:
    """A message whose text, with its markup taken out, has no word: display math, a bare reference."""
    rest = _TOKENS.sub("", msgid)
    if msgid.lstrip().startswith("\\") or msgid.startswith("\n"):  # a display-math block
        return True
    return not re.search(r"[A-Za-z]{2,}", rest)


def read_catalogue(path: Path):
    """A catalogue as Babel reads it, with each fuzzy message's previous English (``#|``) read back as that.

    Babel writes a message's ``previous_id`` as ``#|`` comments (wrapped) but reads them back as comments of
    the translator's; so they are turned back into ``previous_id``, and dropped once the message is no longer
    fuzzy (its translation was brought up to date).
    """
    from babel.messages.pofile import read_po, unescape

    with path.open("rb") as handle:
        catalogue = read_po(handle, locale=LANGUAGE)
    for message in catalogue:
        previous = [c[1:].strip() for c in message.user_comments if c.startswith("|")]
        if not previous:
            continue
        message.user_comments = [c for c in message.user_comments if not c.startswith("|")]
        text = " ".join(previous)
        if message.fuzzy and text.startswith('msgid "') and text.endswith('"'):
            message.previous_id = [unescape(text.removeprefix("msgid "))]
    return catalogue


def write_catalogue(catalogue, path: Path) -> None:
    from babel.messages.pofile import write_po

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalogue, width=0, omit_header=False, sort_output=False, include_previous=True)


def derived_config(root: Path = ROOT, name: str = "gettext", **changes) -> Path:
    """``_config.yml`` with ``changes`` under ``sphinx.config``, written into ``_build/_config.<name>.yml`` (local
    extensions made absolute; one file per build, as the HTML and the PDF may be built at once)."""
    from tools.student_edition import load_config

    config = load_config(root)
    sphinx = config.setdefault("sphinx", {})
    config["bibtex_bibfiles"] = [str(root / path) for path in config.get("bibtex_bibfiles", [])]
    if "title" in changes:
        config["title"] = changes.pop("title")
    execute = changes.pop("execute", None)
    if execute is not None:
        config["execute"].update(execute)
    sphinx.setdefault("config", {}).update(changes)
    path = root / "_build" / f"_config.{name}.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    return path


def extract(out: Path) -> Path:
    """The English messages as ``.pot`` files under ``out`` (Sphinx's gettext builder; nothing is executed)."""
    config = derived_config(
        execute={"execute_notebooks": "off"}, gettext_compact=False, gettext_uuid=False, gettext_location=False, gettext_last_translator=""
    )
    command = [str(Path(sys.executable).with_name("jupyter-book")), "build", str(ROOT), "--config", str(config), "--path-output", str(out)]
    command += ["--builder", "custom", "--custom-builder", "gettext", "-q"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"the gettext build failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return out / "_build" / "gettext"


def merge(catalogue, template) -> None:
    """Bring ``catalogue`` to ``template``'s messages: a new one empty (or copied, if it has nothing to translate), a
    changed one keeping its old translation marked fuzzy (Babel's fuzzy matching), a removed one dropped."""
    catalogue.update(template, no_fuzzy_matching=False)
    catalogue.obsolete.clear()
    for message in catalogue:
        if message.id and not message.string and nothing_to_translate(message.id):
            message.string = message.id


def captions(page: Path) -> list[str]:
    """The figure captions a notebook keeps in its code cells' metadata (``mystnb.figure.caption``), as messages.

    Sphinx's gettext builder runs without the outputs, so it never sees these figures; the
    Chinese build does, and translates each caption (Sphinx reads a caption's text with its
    line breaks as spaces).
    """
    import nbformat

    if page.suffix != ".ipynb" or not page.is_file():
        return []
    found = []
    for cell in nbformat.read(page, as_version=4).cells:
        caption = cell.metadata.get("mystnb", {}).get("figure", {}).get("caption")
        if cell.cell_type == "code" and caption:
            found.append(caption.replace("\n", " ").strip())
    return found


#: An exercise's opening line with its title (sphinx-exercise's ``exercise-start`` directive in a Markdown cell).
_EXERCISE_TITLE = re.compile(r"^(?:`{3,}|:{3,})\{exercise-start\}[ \t]+(\S.*?)[ \t]*$", re.M)


def exercise_titles(page: Path) -> list[str]:
    """The exercises' own titles on a page, as messages ("One step, with autograd" of "Exercise 3.1 (One step, with autograd)").

    The gettext builder writes a page after sphinx-exercise has made each title one text, so it never
    sees them; the Chinese build translates each where the directive left it (``book/_ext/languages.py``).
    """
    if not page.is_file():
        return []
    text = page.read_text(encoding="utf-8")
    if page.suffix == ".ipynb":
        import nbformat

        text = "\n".join(c.source for c in nbformat.read(page, as_version=4).cells if c.cell_type == "markdown")
    return _EXERCISE_TITLE.findall(text)


def templates(out: Path) -> dict[Path, object]:
    """Every page's English messages, each page's as a Babel catalogue keyed by its ``.po`` path: the
    gettext builder's messages, the page's figure captions and its exercises' titles."""
    extracted = extract(out)
    found = {}
    for template_path in sorted(extracted.rglob("*.pot")):
        relative = template_path.relative_to(extracted).with_suffix(".po")
        template = read_catalogue(template_path)
        for caption in captions(ROOT / relative.with_suffix(".ipynb")):
            if caption not in template:
                template.add(caption, auto_comments=["figure caption"])
        for page in (ROOT / relative.with_suffix(".ipynb"), ROOT / relative.with_suffix(".md")):
            for title in exercise_titles(page):
                if title not in template:
                    template.add(title, auto_comments=["exercise title"])
        found[relative] = template
    return found


def update() -> None:
    """Bring every catalogue up to the English text: new messages empty, changed ones fuzzy, removed ones dropped."""
    from babel.messages.catalog import Catalog

    found = templates(ROOT / "_build" / "gettext-source")
    for relative, template in found.items():
        path = CATALOGUES / relative
        catalogue = read_catalogue(path) if path.exists() else Catalog(locale=LANGUAGE)
        merge(catalogue, template)
        catalogue.project = "gaedu"
        catalogue.language_team = "简体中文"
        write_catalogue(catalogue, path)
    for stale in CATALOGUES.rglob("*.po"):
        if stale.relative_to(CATALOGUES) not in found:
            stale.unlink()
    print(f"updated {len(found)} catalogues in {CATALOGUES.relative_to(ROOT)}")


def glossary_terms(root: Path = ROOT) -> dict[str, str]:
    """Each glossary term and its one Chinese rendering (``locale/zh_CN/terms.tsv`` of the book in ``root``)."""
    terms = root / TERMS.relative_to(ROOT)
    pairs = [line.split("\t") for line in terms.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {english: chinese for english, chinese in pairs}


def glossary_uses() -> dict[str, list[str]]:
    """Each glossary term and the pages its entry's *Used in* names (as catalogue paths)."""
    text = (ROOT / "book" / "back" / "glossary.md").read_text()
    body = text.split("```{glossary}")[1].split("```")[0]
    uses, term = {}, None
    for line in body.splitlines():
        if line and not line.startswith((" ", ":")):
            term = line
        elif term and "*Used in:*" in line:
            pages = re.findall(r"\{doc\}`\.\./([^`]+)`", line)
            uses[term] = [f"book/{page}.po" for page in pages]
    return uses


def problems() -> list[str]:
    """Everything that keeps the catalogues from being complete and faithful, one line each."""
    found = []
    catalogues = {path.relative_to(CATALOGUES).as_posix(): read_catalogue(path) for path in sorted(CATALOGUES.rglob("*.po"))}
    if not catalogues:
        return [f"no catalogue in {CATALOGUES.relative_to(ROOT)}: run `make gettext`"]
    for name, catalogue in catalogues.items():
        for message in catalogue:
            if not message.id:
                continue
            where = f"{name}: {message.id[:60]!r}"
            if message.fuzzy:
                found.append(f"{where}: fuzzy (the English changed; translate it again and remove the flag)")
            elif not message.string:
                found.append(f"{where}: not translated")
            elif sorted(tokens(message.id)) != sorted(tokens(message.string)):
                lost = sorted(set(tokens(message.id)) - set(tokens(message.string)))
                extra = sorted(set(tokens(message.string)) - set(tokens(message.id)))
                found.append(f"{where}: the markup differs (missing {lost}, added {extra})")
    terms = glossary_terms()
    for term, pages in glossary_uses().items():
        chinese = terms.get(term)
        if chinese is not None:
            chinese = re.sub(r"（[^）]*）$", "", chinese)  # the term without its abbreviation
        if chinese is None:
            found.append(f"glossary term {term!r} has no Chinese rendering in {TERMS.relative_to(ROOT)}")
            continue
        for page in pages:
            catalogue = catalogues.get(page)
            if catalogue is not None and not any(chinese in m.string for m in catalogue if m.id):
                found.append(f"{page}: the glossary's rendering {chinese!r} of {term!r} is not used")
    return found


def check(only: list[str] | None = None) -> None:
    found = problems()
    if only:
        found = [line for line in found if any(line.startswith(name) for name in only)]
    for line in found:
        print(line)
    if found:
        sys.exit(f"{len(found)} problems in the Chinese catalogues")
    print("the Chinese catalogues are complete")


def todo(page: str, out: Path) -> None:
    """The messages of one catalogue still to translate (empty or fuzzy), as a JSON object msgid -> "" in ``out``."""
    import json

    catalogue = read_catalogue(CATALOGUES / page)
    pending = {m.id: "" for m in catalogue if m.id and (m.fuzzy or not m.string)}
    out.write_text(json.dumps(pending, ensure_ascii=False, indent=1))
    print(f"{len(pending)} messages to translate in {page}, written to {out}")


def fill(page: str, source: Path) -> None:
    """Write the translations of a JSON object msgid -> translation into one catalogue (clearing their fuzzy flag)."""
    import json

    path = CATALOGUES / page
    catalogue = read_catalogue(path)
    done = 0
    for msgid, string in json.loads(source.read_text()).items():
        message = catalogue.get(msgid)
        if message is None:
            print(f"not a message of {page}: {msgid[:60]!r}")
        elif string:
            message.string = string
            message.flags.discard("fuzzy")
            message.previous_id = []
            done += 1
    write_catalogue(catalogue, path)
    print(f"{done} translations written to {page}")


def _forget_pages_if_extensions_changed(out: Path, root: Path) -> None:
    """Sphinx does not read a page again when the book's extensions (``book/_ext``) change: forget its saved pages then."""
    from tools import execute

    stamp = out / "_build" / "gaedu-extensions"
    if not stamp.is_file() or stamp.read_text() != execute.sphinx_fingerprint(root):
        shutil.rmtree(out / "_build" / ".doctrees", ignore_errors=True)
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(execute.sphinx_fingerprint(root))


def _cached_runs(root: Path) -> list[tuple[int, str]]:
    """The execution cache's records (id, notebook hash): a notebook executed by a build adds one."""
    from jupyter_cache import get_cache

    return sorted((r.pk, r.hashkey) for r in get_cache(root / "_build" / ".jupyter_cache").list_cache_records())


#: latexmk's XeLaTeX mode, as Sphinx's LaTeX Makefile advises: the passes write no PDF, xdvipdfmx writes it once.
LATEXMK = {"LATEXMKOPTS": "-xelatex"}


def _chinese_build(root: Path, builder: str, out: Path, fresh: bool = False) -> int:
    """Run Jupyter Book's ``builder`` ("html" or "pdflatex") on the Chinese configuration into ``out``, taking every
    output from the English build's execution cache; return its exit status. Exits if a notebook is not in the
    cache as it is now, or if the build added a record to the cache (it executed a notebook)."""
    from tools import execute

    if todo := execute.stale(root):
        sys.exit(f"{len(todo)} notebooks are not in the build's cache as they are now: build the English book first (make book)")
    config = derived_config(
        root,
        "zh_CN-html" if builder == "html" else "zh_CN-pdf",
        title=TITLE,
        **sphinx_settings(root),
        execute={"execute_notebooks": "cache", "cache": str(root / "_build" / ".jupyter_cache")},
    )
    command = [str(Path(sys.executable).with_name("jupyter-book")), "build", str(root), "--config", str(config)]
    command += ["--path-output", str(out), "--builder", builder, "-W", "-n", "--keep-going"] + (["--all"] if fresh else [])
    _forget_pages_if_extensions_changed(out, root)
    before = _cached_runs(root)
    failed = subprocess.run(command, env={**os.environ, **LATEXMK}).returncode
    if _cached_runs(root) != before:
        sys.exit(f"the Chinese {builder} build executed notebooks: it must take every output from the English build's cache")
    return failed


def html(root: Path = ROOT, fresh: bool = False) -> None:
    """The Chinese HTML book in ``_build/html/zh_CN``, from the English build's execution cache (executes nothing).

    A book without catalogues (``locale/zh_CN/LC_MESSAGES``: the tests' small books) has no Chinese edition.
    """
    locale = root / "locale"
    if not (locale / LANGUAGE / "LC_MESSAGES").is_dir():
        print(f"no Chinese catalogues in {locale}: no Chinese edition")
        return
    out = root / "_build" / LANGUAGE
    if _chinese_build(root, "html", out, fresh):
        shutil.rmtree(out / "_build" / ".doctrees", ignore_errors=True)  # the next build reads every page again
        sys.exit("the Chinese build failed")
    target = root / "_build" / "html" / LANGUAGE
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(out / "_build" / "html", target)
    print(f"The Chinese book is in {target}/index.html")


def pdf(root: Path = ROOT) -> Path:
    """The Chinese PDF, ``_build/latex/zh_CN/gaedu.pdf`` with its log (XeLaTeX; the outputs from the build's cache)."""
    if not (root / "locale" / LANGUAGE / "LC_MESSAGES").is_dir():
        print(f"no Chinese catalogues in {root / 'locale'}: no Chinese edition")
        return root
    out = root / "_build" / f"{LANGUAGE}-pdf"
    failed = _chinese_build(root, "pdflatex", out)
    target = root / "_build" / "latex" / LANGUAGE
    target.mkdir(parents=True, exist_ok=True)
    for name in ("gaedu.pdf", "gaedu.log"):
        if (out / "_build" / "latex" / name).is_file():
            shutil.copy(out / "_build" / "latex" / name, target / name)
    if failed:
        sys.exit("the Chinese PDF's build failed")
    return target / "gaedu.pdf"


def _pattern(msgid: str) -> re.Pattern:
    """A message as it stands in a Markdown cell: its words in order, any run of white space between them."""
    return re.compile(r"\s+".join(re.escape(word) for word in msgid.split()))


def translator(catalogue):
    """A function from a Markdown cell's source to its Chinese, and the count of messages it replaced.

    Every message of ``catalogue`` with a translation of its own is looked for as whole words, any
    run of white space matching any other; one pass, longest message first, so a translation is
    never searched again. Display math and other messages kept as they are stay as they are.
    """
    messages = sorted((m for m in catalogue if m.id and m.string and m.string != m.id), key=lambda m: -len(m.id))
    if not messages:
        return lambda source: (source, 0)
    strings = {" ".join(m.id.split()): m.string for m in messages}
    pattern = re.compile("|".join(rf"(?<!\w){_pattern(m.id).pattern}(?!\w)" for m in messages))

    def translate(source: str) -> tuple[str, int]:
        return pattern.subn(lambda match: strings[" ".join(match.group(0).split())], source)

    return translate


def notebooks(out: Path = ROOT / "_build" / LANGUAGE / "notebooks") -> None:
    """Each chapter with its Markdown cells in Chinese and its code cells unchanged, into ``out``."""
    import nbformat

    from tools.student_edition import chapter_notebooks

    for notebook_path in chapter_notebooks(ROOT):
        entry = notebook_path.relative_to(ROOT)
        translate = translator(read_catalogue(CATALOGUES / entry.with_suffix(".po")))
        notebook = nbformat.read(notebook_path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "markdown":
                cell.source, _ = translate(cell.source)
        target = out / entry
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, target)
    print(f"wrote {len(chapter_notebooks(ROOT))} Chinese notebooks to {out}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["update", "check", "todo", "fill", "html", "pdf", "notebooks"])
    parser.add_argument("--fresh", action="store_true", help="html: read every page again")
    parser.add_argument("--root", type=Path, default=ROOT, help="html: the book's folder")
    parser.add_argument("page", nargs="*", help="check: only these catalogues; todo/fill: the catalogue (book/.../x.po) and the JSON file")
    args = parser.parse_args(argv)
    if args.command == "update":
        update()
    elif args.command == "check":
        check(args.page)
    elif args.command == "html":
        html(args.root.resolve(), args.fresh)
    elif args.command == "pdf":
        pdf(args.root.resolve())
    elif args.command == "notebooks":
        notebooks()
    else:
        {"todo": todo, "fill": fill}[args.command](args.page[0], Path(args.page[1]))


if __name__ == "__main__":
    main()
