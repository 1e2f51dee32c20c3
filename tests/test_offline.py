"""The book's Sphinx extension (``book/_ext/offline.py``), function by function, without building the book."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from sphinx.errors import ExtensionError

import offline  # book/_ext, on pytest's pythonpath as on Sphinx's (pyproject.toml)
from conftest import ROOT


def _fake_mathjax(root: Path) -> Path:
    """Lay out the parts of MathJax's ``es5`` folder that the extension copies, under ``root/node_modules``."""
    es5 = root / "node_modules" / "mathjax" / "es5"
    for part in offline.MATHJAX_PARTS:
        if part.endswith(".js"):
            (es5 / part).parent.mkdir(parents=True, exist_ok=True)
            (es5 / part).write_text("// MathJax\n")
        else:
            (es5 / part).mkdir(parents=True, exist_ok=True)
            (es5 / part / "part.js").write_text(f"// {part}\n")
    return es5


class _Warnings:
    def __init__(self):
        self.messages: list[str] = []

    def warning(self, message, *args, **kwargs):
        self.messages.append(message)


def _app(srcdir: Path, outdir: Path, builder: str = "html") -> SimpleNamespace:
    return SimpleNamespace(srcdir=str(srcdir), outdir=str(outdir), builder=SimpleNamespace(format=builder))


def test_the_config_loads_the_extension_from_book_ext():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["sphinx"]["local_extensions"] == {"offline": "book/_ext", "pdf": "book/_ext", "languages": "book/_ext"}
    assert "offline" not in config["sphinx"].get("extra_extensions", [])
    assert "book/_ext" in config["exclude_patterns"]
    assert offline.REPOSITORY == ROOT


@pytest.mark.parametrize(
    ("html", "found"),
    [
        ('<script src="https://cdn.example.org/x.js"></script>', [("script", "https://cdn.example.org/x.js")]),
        ('<img alt="" src="//images.example.org/a.png">', [("img", "//images.example.org/a.png")]),
        ('<IFRAME SRC="http://example.org/embed"></IFRAME>', [("IFRAME", "http://example.org/embed")]),
        ('<link rel="stylesheet" href="https://fonts.example.org/f.css">', [("link", "https://fonts.example.org/f.css")]),
        ('<script src="_static/mathjax/tex-mml-chtml.js"></script>', []),
        ('<img src="../_images/figure.png">', []),
        ('<a href="https://example.org/paper">a paper</a>', []),  # a hyperlink loads nothing
        ('<script>var url = "https://example.org";</script>', []),
    ],
)
def test_external_finds_what_a_page_loads_from_another_host(html, found):
    assert offline.EXTERNAL.findall(html) == found


def test_font_awesome_from_the_cdn_and_thebe_are_dropped():
    font_awesome = (
        '<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/font-awesome/4.4.0/css/font-awesome.min.css">\n'
    )
    thebe = '<script type="text/x-thebe-config">\n{"requestKernel": true}\n</script>\n'
    own = '<link rel="stylesheet" href="_static/own.css">'
    context = {
        "body": f"<p>before</p>{font_awesome}{thebe}<div class='animation'>{own}</div>",
        "script_files": ["_static/jquery.js", "_static/sphinx-thebe.js", SimpleNamespace(filename="_static/THEBE.JS")],
        "css_files": [SimpleNamespace(filename="_static/book.css", attributes={}),
                      SimpleNamespace(filename=None, attributes={"body": "const THEBE = 1"})],  # fmt: skip
    }
    offline._drop_network_assets(None, "page", "page.html", context, None)
    assert context["body"] == f"<p>before</p><div class='animation'>{own}</div>"
    assert context["script_files"] == ["_static/jquery.js"]
    assert [asset.filename for asset in context["css_files"]] == ["_static/book.css"]


def test_a_page_context_without_body_or_assets_is_left_alone():
    context = {"title": "search"}
    offline._drop_network_assets(None, "search", "search.html", context, None)
    assert context == {"title": "search"}


def test_a_canonical_link_is_no_resource_but_a_stylesheet_is(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        '<link rel="canonical" href="https://example.org/page.html">\n'
        '<link rel="stylesheet" href="https://fonts.example.org/f.css">\n'
        '<link href="https://example.org/no-rel">\n'
    )
    assert not offline._is_resource_link(page, "https://example.org/page.html")
    assert offline._is_resource_link(page, "https://fonts.example.org/f.css")
    assert offline._is_resource_link(page, "https://example.org/no-rel")


def test_missing_mathjax_is_an_error_that_says_what_to_run(tmp_path, monkeypatch):
    monkeypatch.setattr(offline, "REPOSITORY", tmp_path / "repository")
    with pytest.raises(ExtensionError, match=r"MathJax is missing: run `npm ci`"):
        offline._check_mathjax(_app(tmp_path / "source", tmp_path / "out"))


def test_mathjax_beside_the_sources_comes_before_the_repository(tmp_path, monkeypatch):
    monkeypatch.setattr(offline, "REPOSITORY", tmp_path / "repository")
    repository = _fake_mathjax(tmp_path / "repository")
    assert offline._mathjax(_app(tmp_path / "source", tmp_path / "out")) == repository
    source = _fake_mathjax(tmp_path / "source")
    assert offline._mathjax(_app(tmp_path / "source", tmp_path / "out")) == source


def test_finish_copies_mathjax_and_warns_about_other_hosts(tmp_path, monkeypatch):
    es5 = _fake_mathjax(tmp_path / "source")
    (es5 / "unused-part.js").write_text("// not served\n")
    out = tmp_path / "out"
    (out / "chapter").mkdir(parents=True)
    (out / "index.html").write_text('<link rel="canonical" href="https://example.org/"><p>fine</p>')
    (out / "chapter" / "page.html").write_text(
        '<script src="https://cdn.example.org/x.js"></script><a href="https://example.org/">a link</a>'
    )
    warnings = _Warnings()
    monkeypatch.setattr(offline, "logger", warnings)
    offline._finish(_app(tmp_path / "source", out), None)
    target = out / "_static" / "mathjax"
    assert (target / "tex-mml-chtml.js").read_text() == "// MathJax\n"
    for part in offline.MATHJAX_PARTS[1:]:
        assert (target / part / "part.js").is_file(), part
    assert not (target / "unused-part.js").exists()
    assert (out / "_static" / "plotly.min.js").read_bytes() == offline._plotly_js().read_bytes()
    assert warnings.messages == ["chapter/page.html loads a <script> from another host: https://cdn.example.org/x.js"]


@pytest.mark.parametrize(("builder", "exception"), [("html", RuntimeError("the build failed")), ("latex", None)])
def test_finish_does_nothing_after_a_failure_or_for_another_builder(tmp_path, monkeypatch, builder, exception):
    monkeypatch.setattr(offline, "REPOSITORY", tmp_path / "repository")  # no MathJax anywhere: _mathjax would raise
    offline._finish(_app(tmp_path / "source", tmp_path / "out", builder), exception)
    assert not (tmp_path / "out").exists()


def test_setup_points_mathjax_at_the_build_and_connects_its_events():
    events = []
    app = SimpleNamespace(config=SimpleNamespace(), connect=lambda event, handler: events.append((event, handler)))
    metadata = offline.setup(app)
    assert app.config.mathjax_path == "mathjax/tex-mml-chtml.js"
    assert events == [
        ("config-inited", offline._add_styles),
        ("builder-inited", offline._check_mathjax),
        ("html-page-context", offline._drop_network_assets),
        ("build-finished", offline._finish),
    ]
    assert metadata["parallel_read_safe"] and metadata["parallel_write_safe"]


def test_the_installed_mathjax_has_every_part_the_extension_copies():
    es5 = ROOT / "node_modules" / "mathjax" / "es5"
    if not es5.is_dir():
        pytest.skip("node_modules/mathjax is not installed (make install runs npm ci)")
    missing = [part for part in offline.MATHJAX_PARTS if not (es5 / part).exists()]
    assert not missing, f"MathJax parts missing from the npm package: {missing}"


def test_only_a_page_with_an_interactive_figure_loads_plotly():
    added = []
    app = SimpleNamespace(add_js_file=lambda name, **kwargs: added.append(name))
    offline._drop_network_assets(app, "plain", "page.html", {"body": "<p>text</p>"}, None)
    assert added == []
    offline._drop_network_assets(app, "figure", "page.html", {"body": '<div class="gaedu-slider-figure" id="x">'}, None)
    assert added == ["plotly.min.js"]
