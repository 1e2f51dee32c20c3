"""The book's two editions, English and Simplified Chinese: a link on every page to the same page in the other.

``_config.yml`` loads it as a local extension. The English book is built into
``_build/html`` and the Chinese one (``python -m tools.i18n html``, run by ``make book``) into
``_build/html/zh_CN``, from the same notebooks, the same execution cache and the message
catalogues in ``locale/zh_CN``. Each page begins with a link to its other edition (with
``hreflang``, and its text in its own language) and names it in a ``<link rel="alternate">``;
the ``<html>`` element's ``lang`` is the page's language (``zh-CN`` for the Chinese edition).

Glued numbers in translated prose: Sphinx parses each translation (its ``Locale`` transform,
right after the notebook is read) as a document of its own, which has none of the notebook's
glue data, so myst-nb's ``{glue:text}`` roles would find no value there. In a translated build
this extension notes the renderer of the notebook being read, and myst-nb's glue lookup, in a
document without a renderer of its own, takes that one: the translation shows the notebook's value.
"""

from __future__ import annotations

import html
from pathlib import Path

from sphinx import addnodes
from sphinx.transforms import SphinxTransform

#: The Chinese edition's folder inside the English build, its Sphinx language and its HTML language tag.
FOLDER = "zh_CN"
EDITIONS = {"en": ("en", "English"), "zh_CN": ("zh-CN", "简体中文")}


def _switch(app, pagename, templatename, context, doctree):
    if app.builder.format != "html" or doctree is None:
        return
    language = app.config.language or "en"
    up = "../" * pagename.count("/")
    if language == FOLDER:
        other, href = "en", f"{up}../{pagename}.html"
    else:
        other, href = FOLDER, f"{up}{FOLDER}/{pagename}.html"
    tag, name = EDITIONS[other]
    label = "Language" if other == FOLDER else "语言"
    link = f'<a href="{html.escape(href)}" hreflang="{tag}" lang="{tag}">{name}</a>'
    context["body"] = f'<nav class="gaedu-language" aria-label="{label}">{link}</nav>\n' + context.get("body", "")
    context["metatags"] = context.get("metatags", "") + f'\n<link rel="alternate" hreflang="{tag}" href="{html.escape(href)}" />'


def _lang_attribute(app, pagename, templatename, context, doctree):
    """The ``<html lang>`` of a Chinese page is the BCP 47 tag ``zh-CN``, not Sphinx's ``zh_CN``."""
    if app.builder.format == "html" and (app.config.language or "en") in EDITIONS:
        context["language"] = EDITIONS[app.config.language or "en"][0]


_renderer = {"current": None}


def _glue_from_the_notebook(app, config) -> None:
    """In a translated build, myst-nb's glue lookup falls back on the notebook being read (and the search field,
    whose text Jupyter Book sets in the theme's options, speaks the page's language)."""
    if (config.language or "en") == "en":
        return
    config.html_theme_options = {**config.html_theme_options, "search_bar_text": "搜索本书……"}
    from myst_nb import sphinx_
    from myst_nb.ext.glue import directives, roles, utils

    load_renderer, retrieve_glue_data = sphinx_.load_renderer, utils.retrieve_glue_data

    def load(name):
        renderer_class = load_renderer(name)

        def make(*args, **kwargs):
            _renderer["current"] = renderer = renderer_class(*args, **kwargs)
            return renderer

        return make

    def retrieve(document, key):
        if "nb_renderer" in document.attributes or _renderer["current"] is None:
            return retrieve_glue_data(document, key)
        document.attributes["nb_renderer"] = _renderer["current"]
        try:
            return retrieve_glue_data(document, key)
        finally:  # the value keeps its renderer; the translation's nodes must not (Sphinx pickles them)
            del document.attributes["nb_renderer"]

    sphinx_.load_renderer = load
    for module in (utils, roles, directives):
        module.retrieve_glue_data = retrieve


def _settings_made_once(app, config) -> None:
    """In a translated build, MyST makes a new document's default settings once per parser, not once per message.

    Sphinx parses every translated message as a document of its own, and MyST's renderer, handed that
    document, still makes a spare one first (``options.get("document", make_document())``), building
    docutils' default settings anew each time: a seventh of the Chinese build. Each spare document now
    gets its own shallow copy of settings made once.
    """
    if (config.language or "en") == "en":
        return
    import copy

    from docutils.frontend import get_default_settings
    from docutils.utils import new_document
    from myst_parser.mdit_to_docutils import base

    made = {}

    def make_document(source_path="notset", parser_cls=base.RSTParser):
        if parser_cls not in made:
            made[parser_cls] = get_default_settings(parser_cls)
        return new_document(source_path, settings=copy.copy(made[parser_cls]))

    base.make_document = make_document


def _page_catalogue(transform: SphinxTransform):
    """The catalogue of the page being read in a translated build (``None`` in English, or for a page without one)."""
    if (transform.config.language or "en") == "en":
        return None
    from sphinx.locale import init as init_locale
    from sphinx.util.i18n import docname_to_domain

    domain = docname_to_domain(transform.env.docname, transform.config.gettext_compact)
    folders = [str(Path(transform.env.srcdir, folder)) for folder in transform.config.locale_dirs]
    catalogue, found = init_locale(folders, transform.config.language, domain)
    return catalogue if found else None


class _TranslatedToctreeCaptions(SphinxTransform):
    """The parts' captions in a translated build: Jupyter Book inserts the toctrees (priority 100) after Sphinx's
    ``Locale`` has translated the page (20), so their captions ("I Foundations") are translated here, from the
    root page's catalogue, as ``Locale`` translates a written toctree's caption."""

    default_priority = 101

    def apply(self, **kwargs) -> None:
        if (catalogue := _page_catalogue(self)) is None:
            return
        for toctree in self.document.findall(addnodes.toctree):
            if toctree.get("caption"):
                toctree["caption"] = catalogue.gettext(toctree["caption"])


class _TranslatedExerciseTitles(SphinxTransform):
    """An exercise's own title in a translated build ("练习 3.1 (用自动微分走一步)"), from the page's catalogue, where
    ``tools.i18n`` puts it (sphinx-exercise's title node is not a message of Sphinx's). It is translated on the page
    and in the copy of the exercise sphinx-exercise keeps in its registry, from which the solution's title is made."""

    default_priority = 15

    def apply(self, **kwargs) -> None:
        if (catalogue := _page_catalogue(self)) is None:
            return
        from docutils import nodes
        from sphinx_exercise.nodes import exercise_subtitle

        registry = getattr(self.env, "sphinx_exercise_registry", {})
        kept = [entry["node"] for entry in registry.values() if entry.get("docname") == self.env.docname]
        for tree in (self.document, *kept):
            for subtitle in tree.findall(exercise_subtitle):
                text = subtitle.astext()
                if (translated := catalogue.gettext(text)) != text:
                    subtitle.clear()
                    subtitle += nodes.Text(translated)


class _TranslationsBelongToTheirPage(SphinxTransform):
    """Right after Sphinx's ``Locale`` (priority 20): each translated message was parsed as a document of its own,
    and its nodes still name that document as theirs, so every saved page would carry thousands of those documents
    (pages of 10 MB instead of 100 kB, and a build four times as slow). Their nodes are made the page's."""

    default_priority = 21

    def apply(self, **kwargs) -> None:
        if (self.config.language or "en") == "en":
            return
        for node in self.document.findall(include_self=False):
            if getattr(node, "_document", None) is not None and node._document is not self.document:
                node._document = None  # the page's, through its parent


def setup(app):
    app.add_transform(_TranslatedExerciseTitles)
    app.add_transform(_TranslationsBelongToTheirPage)
    app.add_transform(_TranslatedToctreeCaptions)
    app.connect("config-inited", _glue_from_the_notebook)
    app.connect("config-inited", _settings_made_once)
    app.connect("html-page-context", _switch)
    app.connect("html-page-context", _lang_attribute)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
