"""The built book in a real browser (Playwright driving Debian's Chromium) with every other host blocked.

Skips when no Chromium is found, unless ``GAEDU_REQUIRE_BROWSER=1`` (CI sets it),
which turns a missing browser into a failure. Screenshots go to ``_build/screenshots``.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

from conftest import ROOT
from test_book import TOC

pytestmark = pytest.mark.book

#: Console messages that are not the book's fault, by exact text.
ALLOWED_CONSOLE_ERRORS = {
    # pydata-sphinx-theme reads the light/dark choice from localStorage; a fresh
    # browser profile has none, so the theme reports it and falls back to "auto".
    "Got invalid theme mode: . Resetting to auto.",
}


def _chromium() -> str | None:
    for candidate in (os.environ.get("GAEDU_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


@pytest.fixture(scope="module")
def browser():
    executable = _chromium()
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "the Python package playwright is not installed"
    if executable is None:
        reason = "no Chromium found (Debian: apt-get install chromium; or set GAEDU_CHROMIUM)"
    if reason:
        if os.environ.get("GAEDU_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests required (GAEDU_REQUIRE_BROWSER=1) but {reason}", pytrace=False)
        pytest.skip(f"browser tests skipped: {reason}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield browser
        browser.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output clean
        pass


@pytest.fixture(scope="module")
def server(built_book):
    handler = functools.partial(_QuietHandler, directory=str(built_book))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


class Visit:
    """A browser page on the book's server that records blocked requests, failures and console errors."""

    def __init__(self, browser, base: str, color_scheme: str = "light"):
        self.base = base
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=color_scheme)
        self.blocked, self.failed, self.errors = [], [], []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        # A limit on how long the page takes, not on how busy the machine is: make test runs
        # one process per core, and a page that never loads still fails, after two minutes.
        self.page.set_default_timeout(120_000)
        self.page.on("requestfailed", lambda request: self.failed.append(f"{request.url} ({request.failure})"))
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))

    def _route(self, route):
        if urlparse(route.request.url).netloc == urlparse(self.base).netloc or route.request.url.startswith("data:"):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def _console(self, message):
        if message.type == "error" and message.text not in ALLOWED_CONSOLE_ERRORS:
            self.errors.append(message.text)

    def open(self, path: str):
        """Load ``path`` and wait until the network has been quiet for half a second too."""
        response = self.page.goto(f"{self.base}/{path}", wait_until="load")
        self.page.wait_for_load_state("networkidle")
        return response

    def close(self):
        self.context.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@pytest.fixture
def visit(browser, server):
    visits = []

    def open_page(path: str) -> Visit:
        v = Visit(browser, server)
        visits.append(v)
        v.open(path)
        return v

    yield open_page
    for v in visits:
        v.close()


#: The Chinese edition's pages (tools.i18n), beside the English ones at the same paths under zh_CN/.
CHINESE = [f"zh_CN/{entry}" for entry in TOC]


@pytest.mark.parametrize("entry", TOC + CHINESE)
def test_page_loads_offline_and_is_accessible_in_light_and_dark_mode(entry, browser, server, built_book):
    """One load per page: offline, MathJax typeset, images drawn, no console error, axe-core's WCAG 2 A/AA
    rules with the reader's system in light mode, a screenshot, then the colour rules in dark mode.

    The dark theme changes the page's colours and nothing else (the same elements, attributes and
    layout), so in dark mode only the rules that read colours run again. A Chinese page has the
    English page's elements and styles in other words, so its colours are checked on the English
    page, in both themes, and every other rule on the Chinese page itself (its names, labels and
    language are its own)."""
    with Visit(browser, server) as v:
        page = v.page
        # Loaded without waiting for a quiet network: the requests are checked at the end, after seconds of checks.
        page.goto(f"{v.base}/{entry}.html", wait_until="load")
        assert page.url.endswith(f"{entry}.html")
        response = page.request.get(page.url)
        assert response.status == 200
        has_math = page.locator("main .math").count() > 0
        if has_math:
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20000)
            page.evaluate("() => MathJax.startup.promise")
            assert page.locator("main mjx-container").count() > 0, "MathJax typeset nothing"
            assert "$$" not in page.locator("main").inner_text(), "raw TeX left on the page"
        broken = page.evaluate(
            "() => Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
        )
        assert broken == [], f"images that did not load: {broken}"
        # Every code cell fits the page's column at this width: no sideways scroll inside a cell.
        wide = page.evaluate(
            "() => Array.from(document.querySelectorAll('div.cell_input pre'))"
            ".filter(p => p.offsetParent !== null && p.scrollWidth > p.clientWidth + 1)"
            ".map(p => p.textContent.split('\\n').reduce((a, b) => (a.length >= b.length ? a : b)))"
        )
        assert wide == [], f"code wider than the page (the reader would scroll sideways): {wide[:3]}"
        violations = _axe(page, colours=entry not in CHINESE)
        assert violations == [], f"WCAG 2 A/AA violations (axe-core): {violations}"
        shots = ROOT / "_build" / "screenshots"
        shots.mkdir(parents=True, exist_ok=True)
        # JPEG: a third faster to write than PNG for these tall pages, and as good to look at
        page.screenshot(path=str(shots / f"{entry.replace('/', '__')}.jpg"), full_page=True, type="jpeg", quality=85)
        if entry not in CHINESE:  # a Chinese page's colours are the English page's, checked there in both themes
            # The same page with the reader's system in dark mode: the theme follows it without a reload.
            page.emulate_media(color_scheme="dark")
            page.wait_for_function("() => document.documentElement.dataset.theme === 'dark'")
            # The theme fades its colours: axe reads them once every transition has ended.
            page.wait_for_function("() => document.getAnimations().filter(a => a instanceof CSSTransition)"
                                   ".every(a => a.playState === 'finished')")  # fmt: skip
            violations = _axe(page, only_colours=True)
            assert violations == [], f"WCAG 2 A/AA violations in dark mode (axe-core): {violations}"
        # Every request the page made by now (MathJax's fonts come after the load event) stayed on the book's host.
        page.wait_for_load_state("networkidle")
        assert v.blocked == [], f"requests to other hosts: {v.blocked}"
        assert v.failed == [], f"failed requests: {v.failed}"
        assert v.errors == [], f"console errors: {v.errors}"


AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
#: axe-core's rule sets for WCAG 2.0 and 2.1, levels A and AA.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


#: Runs axe-core's WCAG 2 A/AA rules as ``runOnly`` by tag picks them (no experimental or deprecated rule),
#: with or without those that read the page's colours (axe's category ``cat.color``), or only those.
AXE_RUN = """([tags, colours, others]) => {
    const colour = axe.getRules(tags).filter(rule => rule.tags.includes('cat.color')).map(rule => rule.ruleId);
    if (!others) return axe.run(document, {runOnly: {type: 'rule', values: colour}});
    const off = colours ? {} : Object.fromEntries(colour.map(id => [id, {enabled: false}]));
    return axe.run(document, {runOnly: {type: 'tag', values: tags}, rules: off});
}"""


def _axe(page, colours: bool = True, only_colours: bool = False) -> list[str]:
    """Run axe-core's WCAG 2 A/AA rules on the page (without the colour rules, or only those); return each
    violation as 'rule: count × first element'."""
    assert AXE.is_file(), f"{AXE} is missing: run `npm ci` (`make install` does it)"
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))  # inline, so no request leaves the page's host
    result = page.evaluate(AXE_RUN, [WCAG_TAGS, colours, not only_colours])
    assert result["passes"] + result["violations"] + result["incomplete"] + result["inapplicable"], "axe ran no rule"
    return [f"{v['id']}: {len(v['nodes'])} × {v['nodes'][0]['html'][:120]}" for v in result["violations"]]


def test_each_set_of_axe_rules_finds_its_own_violations(browser):
    """The control for the split above: grey text on white is found by the colour rules only, an image
    without alternative text by the other rules only."""
    page = browser.new_page()
    try:
        page.set_content('<html lang="en"><head><title>t</title></head><body><main><h1>A page</h1>'
                         '<p style="color:#bbb;background:#fff">grey on white</p><img src="data:,"></main></body></html>')  # fmt: skip
        rules = {name: {v.split(":")[0] for v in found} for name, found in (
            ("all", _axe(page)), ("without colours", _axe(page, colours=False)), ("colours", _axe(page, only_colours=True)))}  # fmt: skip
    finally:
        page.close()
    assert rules == {"all": {"color-contrast", "image-alt"}, "without colours": {"image-alt"}, "colours": {"color-contrast"}}


#: Reads, for every CJK character of the page's main text, whether the page's font draws
#: it as a glyph of its own: each is drawn on a canvas in its element's font and compared
#: with a private-use character that no font draws (the missing-glyph box).
CJK_GLYPHS = """() => {
    const cjk = /[\u4e00-\u9fff]/;
    const found = new Map();
    for (const el of document.querySelectorAll('main *'))
        for (const node of el.childNodes)
            if (node.nodeType === 3)
                for (const c of node.textContent)
                    if (cjk.test(c) && !found.has(c)) found.set(c, getComputedStyle(el).fontFamily);
    if (!found.size) return null;
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 48;
    const ctx = canvas.getContext('2d');
    const draw = (c, family) => {
        ctx.font = `40px ${family}`;
        ctx.clearRect(0, 0, 48, 48);
        ctx.fillText(c, 4, 40);
        return canvas.toDataURL();
    };
    const chars = [...found.keys()], boxes = [], drawn = new Set();
    for (const c of chars) {
        const image = draw(c, found.get(c));
        if (image === draw('\ue000', found.get(c))) boxes.push(c);
        drawn.add(image);
    }
    return {chars: chars.join(''), boxes: boxes.join(''), distinct: drawn.size};
}"""


def _cjk_glyphs(page) -> dict:
    found = page.evaluate(CJK_GLYPHS)
    assert found is not None, "the page has no Chinese text"
    return found


@pytest.mark.parametrize("entry", ["book/back/glossary", "zh_CN/book/algorithm/gradient-ascent"])
def test_chinese_terms_are_drawn_as_glyphs_not_boxes(entry, visit):
    """The glossary's Chinese terms, and a chapter of the Chinese edition, render with a CJK font (CI installs fonts-noto-cjk)."""
    import subprocess

    listed = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True).stdout if shutil.which("fc-list") else ""
    if not listed.strip() and os.environ.get("GAEDU_REQUIRE_BROWSER") != "1":
        pytest.skip("no CJK font is installed (Debian: apt-get install fonts-noto-cjk)")
    found = _cjk_glyphs(visit(f"{entry}.html").page)
    assert len(found["chars"]) >= 10
    assert found["boxes"] == "", f"drawn as missing-glyph boxes: {found['boxes']}"
    assert found["distinct"] == len(found["chars"])  # boxes would all look alike


def test_the_glyph_check_sees_boxes_when_no_cjk_font_is_found(browser, server, tmp_path):
    """The control for the test above: with a font configuration that hides every CJK font, the check finds boxes."""
    import subprocess

    def font_files(pattern: str = ":") -> set[str]:
        listed = subprocess.run(["fc-list", pattern, "file"], capture_output=True, text=True, check=True).stdout
        return {line.split(":")[0] for line in listed.splitlines() if line.strip()}

    latin = sorted(font_files().difference(*map(font_files, (":lang=zh", ":lang=ja", ":lang=ko"))))  # no CJK
    if not latin:
        pytest.skip("no font other than a Chinese one is installed")
    folder = tmp_path / "fonts"
    folder.mkdir()
    for i, font in enumerate(latin):
        (folder / f"{i}-{Path(font).name}").symlink_to(font)
    config = tmp_path / "fonts.conf"
    config.write_text(f'<?xml version="1.0"?><fontconfig><dir>{folder}</dir><cachedir>{tmp_path}</cachedir></fontconfig>')
    bare = browser.browser_type.launch(executable_path=_chromium(), args=["--no-sandbox"],
                                       env={**os.environ, "FONTCONFIG_FILE": str(config)})  # fmt: skip
    try:
        page = bare.new_page()
        page.goto(f"{server}/book/back/glossary.html", wait_until="load")
        found = _cjk_glyphs(page)
    finally:
        bare.close()
    assert found["boxes"] == found["chars"], found


def _first_notebook_with(marker: str) -> str:
    for entry in TOC:
        source = ROOT / f"{entry}.ipynb"
        if source.exists() and marker in source.read_text():
            return entry
    pytest.fail(f"no chapter contains {marker!r}")


def test_animation_next_frame_changes_the_frame(visit):
    v = visit(f"{_first_notebook_with('to_jshtml')}.html")
    player = v.page.locator("div.animation").first
    player.scroll_into_view_if_needed()
    player.locator("button[title='Pause']").click()
    image = player.locator("img").first
    before = image.get_attribute("src")
    player.locator("button[title='Next frame']").click()
    assert image.get_attribute("src") != before
    icons = player.locator("button svg, button i")
    assert icons.count() > 0 and icons.first.bounding_box()["width"] > 0, "the player's icons are missing"
    assert v.blocked == [] and v.errors == []


def test_solutions_are_hidden_until_toggled(visit):
    v = visit(f"{_first_notebook_with('{solution-start}')}.html")
    solution = v.page.locator("div.solution").first
    solution.scroll_into_view_if_needed()
    body = solution.locator(":scope > :not(.admonition-title)").first  # the solution's content
    assert body.count() == 1 and not body.is_visible(), "a solution is visible before its toggle is clicked"
    solution.locator("button.toggle-button").first.click()
    body.wait_for(state="visible", timeout=5000)
    assert body.is_visible()


@pytest.mark.parametrize(("edition", "query"), [("", "gradient"), ("zh_CN/", "梯度上升")], ids=["en", "zh_CN"])
def test_search_finds_the_gradient_ascent_chapter(edition, query, visit):
    """Offline search, in each edition's language: the Chinese index holds the glossary's terms whole."""
    v = visit(f"{edition}search.html?q={query}")
    v.page.wait_for_selector("#search-results li a", timeout=20000)
    links = v.page.locator("#search-results li a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert any("algorithm/gradient-ascent" in link for link in links), links
    assert v.blocked == [] and v.errors == []


#: The interactive figures of the static book (gaedu.interactive): each page and what its slider sets.
INTERACTIVE_FIGURES = {
    "book/algorithm/gradient-ascent": "learning rate η",
    "book/applications/gan-game": "training step",
    "book/applications/restoring-photographs": "method",
}


@pytest.mark.parametrize("edition", ["", "zh_CN/"], ids=["en", "zh_CN"])
@pytest.mark.parametrize("entry", INTERACTIVE_FIGURES)
def test_interactive_figure_slider_changes_the_figure(entry, edition, visit):
    """With no kernel and only the local host: plotly.js from the build draws the figure, and the slider redraws it."""
    v = visit(f"{edition}{entry}.html")
    figure = v.page.locator(".gaedu-slider-figure").first
    figure.scroll_into_view_if_needed()
    v.page.wait_for_selector(".gaedu-slider-figure[data-live]", timeout=30000)  # drawn by plotly.js
    assert figure.locator(".gaedu-slider-static").is_hidden() and figure.locator(".gaedu-slider-plot svg").count() > 0
    slider = figure.get_by_label(INTERACTIVE_FIGURES[entry], exact=True)
    assert slider.get_attribute("type") == "range"
    plot, readout = figure.locator(".gaedu-slider-plot"), figure.locator("output")
    start, drawn = readout.inner_text(), plot.inner_html()
    slider.focus()
    v.page.keyboard.press("Home" if int(slider.input_value()) > 0 else "End")  # the reader's keyboard moves it
    v.page.wait_for_function("([p, before]) => p.innerHTML !== before", arg=[plot.element_handle(), drawn], timeout=10000)
    assert readout.inner_text() != start and slider.get_attribute("aria-valuetext") == readout.inner_text()
    moved = plot.inner_html()
    box = slider.bounding_box()  # and a click in the middle of the track, as with a mouse
    v.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    v.page.wait_for_function("([p, before]) => p.innerHTML !== before", arg=[plot.element_handle(), moved], timeout=10000)
    assert v.page.evaluate("() => typeof window.Plotly") == "object"
    assert v.page.locator("script[src*='plotly.min.js']").count() == 1
    assert v.blocked == [] and v.failed == [] and v.errors == []


def test_play_steps_through_the_training_snapshots(visit):
    v = visit("book/applications/gan-game.html")
    figure = v.page.locator(".gaedu-slider-figure").first
    figure.scroll_into_view_if_needed()
    v.page.wait_for_selector(".gaedu-slider-figure[data-live]", timeout=30000)
    slider = figure.locator("input[type=range]")
    slider.focus()
    v.page.keyboard.press("Home")
    figure.get_by_role("button", name="Play").click()
    v.page.wait_for_function("s => +s.value >= 2", arg=slider.element_handle(), timeout=10000)
    figure.get_by_role("button", name="Pause").click()
    stopped = slider.input_value()
    v.page.wait_for_timeout(900)
    assert slider.input_value() == stopped, "Pause did not stop the film"


def test_pages_without_interactive_figures_do_not_load_plotly(visit):
    v = visit("book/back/glossary.html")
    assert v.page.locator("script[src*='plotly.min.js']").count() == 0
