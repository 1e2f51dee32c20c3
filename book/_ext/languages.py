"""The book's two editions, English and Simplified Chinese: a link on every page to the same page in the other.

``_config.yml`` loads it as a local extension. The English book is built into
``_build/html`` and the Chinese one (``python -m tools.i18n html``, run by ``make book``) into
``_build/html/zh_CN``, from the same notebooks, the same execution cache and the message
catalogues in ``locale/zh_CN``. Each page begins with a link to its other edition (with
``hreflang``, and its text in its own language) and names it in a ``<link rel="alternate">``;
the ``<html>`` element's ``lang`` is the page's language (``zh-CN`` for the Chinese edition).
"""

from __future__ import annotations

import html

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


def setup(app):
    app.connect("html-page-context", _switch)
    app.connect("html-page-context", _lang_attribute)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
