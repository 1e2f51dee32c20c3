"""A Sphinx extension that makes the built book work with no network.

``_config.yml`` loads it as a local extension (``sphinx: local_extensions:
{offline: book/_ext}``); it lives beside the book, not in the ``gaedu``
package, because Sphinx is a dependency of the book only.

* MathJax is served from the build (``_static/mathjax``), copied from the npm
  package ``mathjax`` that ``make book`` installs with ``npm ci``.
* The Font Awesome 4 stylesheet that matplotlib's animation player links from a
  CDN is dropped; the theme's own Font Awesome draws the player's icons.
* Thebe (live code through Binder, which needs the network) is not loaded.
* A page with an interactive figure (``gaedu.interactive``) loads Plotly's
  JavaScript from the build (``_static/plotly.min.js``, copied from the Python
  package ``plotly``); other pages do not load it.
* After the build every page is scanned: a script, stylesheet, image or frame
  loaded from another host is a warning, and the book's build turns warnings
  into errors.
* And every page is made accessible where the theme and its extensions are not
  (the browser tests run axe-core's WCAG 2 A/AA rules on every page): a figure's
  image gets its caption as alternative text (not its file name), an animation's
  frame and slider get a description and a label, the bibliography's entries lose
  the deprecated ARIA role ``doc-biblioentry``, the search button, the theme switch
  and the code cells' show/hide toggles are named by what they show, and links are dark enough in the light theme
  (``static/gaedu.css``).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

REPOSITORY = Path(__file__).resolve().parents[2]  # book/_ext/offline.py -> the repository
#: The parts of MathJax a page can load: the combined file, the TeX extensions it
#: loads on demand, the CHTML fonts, and the accessibility and menu modules.
MATHJAX_PARTS = ("tex-mml-chtml.js", "input", "output/chtml", "a11y", "sre", "ui", "adaptors")
CDN_FONT_AWESOME = re.compile(r'<link[^>]*href="https://maxcdn\.bootstrapcdn\.com/font-awesome/[^"]*"[^>]*>\s*')
EXTERNAL = re.compile(r'<(script|img|iframe|link)\b[^>]*?\b(?:src|href)="((?:https?:)?//[^"]+)"[^>]*>', re.IGNORECASE)


def _mathjax(app) -> Path:
    """The npm package's ``es5`` folder: beside the book's sources, else in this repository."""
    for root in (Path(app.srcdir), REPOSITORY):
        folder = root / "node_modules" / "mathjax" / "es5"
        if (folder / "tex-mml-chtml.js").is_file():
            return folder
    raise ExtensionError(f"MathJax is missing: run `npm ci` in {REPOSITORY} (`make book` does it)")


def _add_styles(app, config) -> None:
    """Serve ``static/`` (the book's own styles) and load ``gaedu.css`` on every page."""
    config.html_static_path.append(str(Path(__file__).resolve().parent / "static"))
    app.add_css_file("gaedu.css")


def _check_mathjax(app) -> None:
    _mathjax(app)


THEBE_CONFIG = re.compile(r'<script type="text/x-thebe-config">.*?</script>\s*', re.S)


def _is_thebe(asset) -> bool:
    name = str(getattr(asset, "filename", asset) or "")
    body = str(getattr(asset, "attributes", {}).get("body", ""))
    return "thebe" in name.lower() or "THEBE" in body


SLIDER_FIGURE = 'class="gaedu-slider-figure"'


def _plotly_js() -> Path:
    """plotly.js as the Python package ``plotly`` ships it."""
    try:
        import plotly
    except ImportError:
        raise ExtensionError("plotly is missing: the interactive figures need it (`make install` installs it)") from None
    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise ExtensionError(f"plotly.min.js is missing from the plotly package ({path})")
    return path


def _drop_network_assets(app, pagename, templatename, context, doctree) -> None:
    if SLIDER_FIGURE in context.get("body", ""):
        app.add_js_file("plotly.min.js")  # this page only
    if context.get("body"):
        context["body"] = THEBE_CONFIG.sub("", CDN_FONT_AWESOME.sub("", context["body"]))
    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = [asset for asset in context[key] if not _is_thebe(asset)]


FIGURE = re.compile(r'(<figure\b[^>]*>\s*<img alt=")([^"]*)("[^>]*>.*?<span class="caption-text">(.*?)</span><a class="headerlink")', re.S)
ANIMATION_FRAME = re.compile(r'<img id="_anim_img(?![^>]*\balt=)')
ANIMATION_SLIDER = re.compile(r'<input id="_anim_slider(?![^>]*\baria-label=)')
THEME_ICON_TITLE = re.compile(r'(<i class="theme-switch [^>]*?) title="[^"]*"')
SEARCH_BUTTON = re.compile(r'(<button class="btn search-button-field[^"]*"[^>]*?) aria-label="[^"]*"')  # "Search", "搜索"
TOGGLE_SUMMARY = re.compile(r'<summary aria-label="(Toggle hidden content|[^"]*隐藏[^"]*)">')


def _plain(html: str, limit: int = 300) -> str:
    """A caption as plain text for an ``alt`` attribute: no tags, no TeX delimiters, no quotes, at most ``limit`` characters."""
    text = re.sub(r"<[^>]+>", "", html)
    text = re.sub(r"\\[()\[\]]", "", text).replace('"', "'")
    text = re.sub(r"\\([A-Za-z]+)", r"\1", text)  # \theta -> theta
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def accessible(html: str) -> str:
    """Return a page's HTML with the accessibility fixes of this module's docstring (applying them twice changes nothing)."""
    html = FIGURE.sub(lambda m: m.group(1) + (_plain(m.group(4)) if "_images/" in m.group(2) or not m.group(2) else m.group(2)) + m.group(3), html)
    html = ANIMATION_FRAME.sub('<img alt="A frame of the animation: the buttons below play it or step through it" id="_anim_img', html)
    html = ANIMATION_SLIDER.sub('<input aria-label="Frame of the animation" id="_anim_slider', html)
    html = html.replace('role="doc-biblioentry"', 'role="listitem"')
    # The visible text names these, as WCAG 2.5.3 asks, not a label that differs from it:
    html = TOGGLE_SUMMARY.sub("<summary>", html)  # "Show code cell source"
    html = THEME_ICON_TITLE.sub(r"\1", html)  # Font Awesome would draw each title into the button's text
    return SEARCH_BUTTON.sub(r"\1", html)


def _finish(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    mathjax, target = _mathjax(app), Path(app.outdir) / "_static" / "mathjax"
    for part in MATHJAX_PARTS:
        source, destination = mathjax / part, target / part
        if source.is_dir():
            shutil.copytree(source, destination, dirs_exist_ok=True)
        else:
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)
    shutil.copy2(_plotly_js(), target.parent / "plotly.min.js")  # for the pages with interactive figures
    for page in sorted(Path(app.outdir).rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        if (fixed := accessible(text)) != text:
            page.write_text(fixed, encoding="utf-8")
        for tag, url in EXTERNAL.findall(fixed):
            if tag.lower() == "link" and not _is_resource_link(page, url):
                continue
            logger.warning(f"{page.relative_to(app.outdir)} loads a <{tag}> from another host: {url}")


def _is_resource_link(page: Path, url: str) -> bool:
    """Whether a <link> with this URL loads something (a stylesheet, a preload, an icon), not a plain hyperlink."""
    text = page.read_text(encoding="utf-8")
    for match in re.finditer(r"<link\b[^>]*>", text):
        if url in match.group(0):
            rel = re.search(r'rel="([^"]*)"', match.group(0))
            return rel is None or rel.group(1) not in ("canonical", "alternate", "author", "license")
    return True


def setup(app):
    app.config.mathjax_path = "mathjax/tex-mml-chtml.js"  # relative to _static
    app.connect("config-inited", _add_styles)
    app.connect("builder-inited", _check_mathjax)
    app.connect("html-page-context", _drop_network_assets)
    app.connect("build-finished", _finish)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
