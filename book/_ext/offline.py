"""A Sphinx extension that makes the built book work with no network.

``_config.yml`` loads it as a local extension (``sphinx: local_extensions:
{offline: book/_ext}``); it lives beside the book, not in the ``gaedu``
package, because Sphinx is a dependency of the book only.

* MathJax is served from the build (``_static/mathjax``), copied from the npm
  package ``mathjax`` that ``make book`` installs with ``npm ci``.
* The Font Awesome 4 stylesheet that matplotlib's animation player links from a
  CDN is dropped; the theme's own Font Awesome draws the player's icons.
* Thebe (live code through Binder, which needs the network) is not loaded.
* After the build every page is scanned: a script, stylesheet, image or frame
  loaded from another host is a warning, and the book's build turns warnings
  into errors.
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


def _check_mathjax(app) -> None:
    _mathjax(app)


THEBE_CONFIG = re.compile(r'<script type="text/x-thebe-config">.*?</script>\s*', re.S)


def _is_thebe(asset) -> bool:
    name = str(getattr(asset, "filename", asset) or "")
    body = str(getattr(asset, "attributes", {}).get("body", ""))
    return "thebe" in name.lower() or "THEBE" in body


def _drop_network_assets(app, pagename, templatename, context, doctree) -> None:
    if context.get("body"):
        context["body"] = THEBE_CONFIG.sub("", CDN_FONT_AWESOME.sub("", context["body"]))
    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = [asset for asset in context[key] if not _is_thebe(asset)]


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
    for page in sorted(Path(app.outdir).rglob("*.html")):
        for tag, url in EXTERNAL.findall(page.read_text(encoding="utf-8")):
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
    app.connect("builder-inited", _check_mathjax)
    app.connect("html-page-context", _drop_network_assets)
    app.connect("build-finished", _finish)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
