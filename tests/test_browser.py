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

    def __init__(self, browser, base: str):
        self.base = base
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.blocked, self.failed, self.errors = [], [], []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
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
        response = self.page.goto(f"{self.base}/{path}", wait_until="load")
        self.page.wait_for_load_state("networkidle")
        return response

    def close(self):
        self.context.close()


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


@pytest.mark.parametrize("entry", TOC)
def test_page_loads_offline(entry, visit, built_book):
    v = visit(f"{entry}.html")
    page = v.page
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
    assert v.blocked == [], f"requests to other hosts: {v.blocked}"
    assert v.failed == [], f"failed requests: {v.failed}"
    assert v.errors == [], f"console errors: {v.errors}"
    shots = ROOT / "_build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / f"{entry.replace('/', '__')}.png"), full_page=True)


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


def test_search_finds_the_gradient_ascent_chapter(visit):
    v = visit("search.html?q=gradient")
    v.page.wait_for_selector("#search-results li a", timeout=20000)
    links = v.page.locator("#search-results li a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert any("algorithm/gradient-ascent" in link for link in links), links
    assert v.blocked == [] and v.errors == []
