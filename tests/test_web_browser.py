"""The web search page in a real browser: the real waitress server on a free port, headless Chromium.

Screenshots go to test-artifacts/ (gitignored).
"""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit
from urllib.request import urlopen

import pytest

from tests.test_web_app import ATOM, XSS_QUERY, web_index

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium"),
]


@pytest.fixture(scope="module")
def server():
    """`serve()`'s waitress server over the test index, on 127.0.0.1 and a free port, in a thread."""
    from search.web.server import make_server

    srv = make_server(str(web_index()), host="127.0.0.1", port=0, threads=4)
    closing = threading.Event()

    def run():
        try:
            srv.run()
        except OSError:  # close() from this thread can race the loop's select(): expected at shutdown
            if not closing.is_set():
                raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.effective_port}"
    closing.set()
    srv.close()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    pg = context.new_page()
    pg.set_default_timeout(30_000)  # a hang guard on a busy machine
    pg.dialogs = []
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    pg.console_errors = []
    pg.on("console", lambda m: m.type == "error" and pg.console_errors.append(m.text))
    yield pg
    context.close()


def shoot(pg, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_type_query_without_accents_finds_accented_words(page, server):
    page.goto(server + "/")
    page.fill("#q", "")
    page.type("#q", "sante", delay=20)  # search-as-you-type swaps the results in
    page.wait_for_selector(".snippet mark")
    assert "q=sante" in page.url
    marks = [m.lower() for m in page.locator(".snippet mark").all_inner_texts()]
    assert any("é" in m for m in marks), marks
    page.press("#q", "Enter")  # the plain form gives the same page
    page.wait_for_load_state()
    assert page.input_value("#q") == "sante"
    assert page.locator(".result").count() == 10
    shoot(page, "search-wide.png")
    assert page.dialogs == [] and page.console_errors == []


def test_from_a_result_to_its_marked_text_and_from_match_to_match(page, server):
    page.goto(server + "/?q=caribou")
    page.locator(".result-title a").first.click()
    page.wait_for_load_state()
    assert "/statement/" in page.url and "q=caribou" in page.url
    marks = page.locator(".statement mark")
    assert marks.count() >= 2
    page.locator(".match-count a").click()
    assert page.evaluate("location.hash") == "#m1"
    page.locator("#m1 + a.next-match").click()
    assert page.evaluate("location.hash") == "#m2"
    assert page.evaluate("document.querySelector('mark:target').id") == "m2"
    shoot(page, "statement-marked.png")
    assert page.dialogs == [] and page.console_errors == []


def test_works_without_javascript(browser, server):
    context = browser.new_context(java_script_enabled=False)
    pg = context.new_page()
    pg.goto(server + "/")
    pg.set_default_timeout(30_000)  # a hang guard on a busy machine
    pg.fill("#q", "yukon")
    pg.click("button[type=submit]")
    pg.wait_for_selector(".result")
    assert parse_qs(urlsplit(pg.url).query)["q"] == ["yukon"]
    pg.click(".pagination a[rel=next]")
    assert "page=2" in pg.url
    context.close()


def test_narrow_by_facet_then_page(page, server):
    page.goto(server + "/?q=yukon")
    total = page.inner_text("#total")
    page.click("#filters a.facet-link:has-text('French')")
    page.wait_for_url("**lang=fr**")
    assert page.inner_text("#total") != total
    badges = set(page.locator(".result .badge").all_inner_texts())
    assert badges == {"French"}
    assert page.locator(".chip").count() == 1
    first = page.locator(".result-title").first.inner_text()
    page.click(".pagination a[rel=next]")
    page.wait_for_url("**page=2**")
    assert "lang=fr" in page.url
    assert page.locator(".result-title").first.inner_text() != first
    assert page.locator(".pagination a[aria-current=page]").inner_text() == "2"
    page.click("#filters a.facet-link:has-text('2019')")
    page.wait_for_url("**year=2019**")
    dates = page.locator(".result time").evaluate_all("els => els.map(e => e.getAttribute('datetime'))")
    assert dates and all(d.startswith("2019") for d in dates)
    page.click(".sort a:has-text('newest')")
    dates = page.locator(".result time").evaluate_all("els => els.map(e => e.getAttribute('datetime'))")
    assert dates == sorted(dates, reverse=True)


def test_feed_link_opens_atom(page, server):
    page.goto(server + "/?q=caribou")
    href = page.get_attribute("link[rel=alternate][type='application/atom+xml']", "href")
    assert page.get_attribute("a.feed-link", "href") == href
    response = page.request.get(server + href)
    assert response.ok and response.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(response.body())
    entries = root.findall(f"{ATOM}entry")
    assert entries
    updated = [e.findtext(f"{ATOM}updated") for e in entries]
    assert updated == sorted(updated, reverse=True)


def test_xss_probes_render_as_text(page, server):
    page.goto(server + "/?q=xssprobe")
    title = page.locator(".result-title a", has_text="Hostile")
    assert "<script>alert(1)</script>" in title.inner_text()
    assert title.get_attribute("href") == "/statement/hostile-1?q=xssprobe"
    hrefs = page.locator("a").evaluate_all("els => els.map(e => e.getAttribute('href') || '')")
    assert not [h for h in hrefs if h.lower().startswith(("javascript:", "data:"))]
    page.goto(server + "/statement/hostile-1")
    assert "<script>alert(\"body\")</script>" in page.inner_text(".statement-body")
    assert page.locator(".statement-body img").count() == 0
    page.goto(server + "/?q=" + quote(XSS_QUERY))
    assert page.input_value("#q") == XSS_QUERY
    assert page.locator("main img").count() == 0
    page.fill("#q", "")
    page.type("#q", "<img src=x onerror=alert(5)>", delay=5)  # through search-as-you-type too
    page.wait_for_timeout(800)
    page.goto(server + "/related/hostile-1")
    page.wait_for_timeout(200)
    assert page.dialogs == []


def test_phone_viewport_is_readable(browser, server):
    context = browser.new_context(viewport={"width": 375, "height": 740}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True, locale="fr-CA")
    pg = context.new_page()
    pg.goto(server + "/?q=caribou")
    assert pg.get_attribute("html", "lang") == "fr"
    assert "communiqués" in pg.inner_text("#total")
    overflow = pg.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    size = pg.evaluate("parseFloat(getComputedStyle(document.querySelector('.snippet')).fontSize)")
    assert size >= 15
    box = pg.locator("#q").bounding_box()
    assert box["width"] > 250  # the search box fills the width
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "search-phone.png"))
    context.close()


def test_keyboard_skip_link_and_focus(page, server):
    page.goto(server + "/?q=caribou")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.locator(".skip-link").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
    outline = page.evaluate("""() => { const a = document.querySelector('.result-title a'); a.focus();
        return getComputedStyle(a).outlineStyle; }""")
    assert outline != "none"
    landmarks = page.evaluate("""() => ['header', 'main', 'aside', 'footer', 'form[role=search]']
        .map(s => document.querySelectorAll(s).length)""")
    assert landmarks == [1, 1, 1, 1, 1]
    unlabeled = page.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden])')]
        .filter(i => !(i.labels && i.labels.length)).map(i => i.name)""")
    assert unlabeled == []


def test_parallel_requests(server):
    queries = ["caribou", "yukon", "sante", "covid"]

    def get(i):
        with urlopen(f"{server}/api/search?q={queries[i % 4]}&page={i % 3 + 1}", timeout=30) as r:
            return r.status

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(get, range(40))) == {200}
