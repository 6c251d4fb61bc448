"""The results page's newsroom tools in a real browser (Debian's Chromium, the real waitress server): the
language choice both / FR / EN, several values of a facet and excluded ones (with JavaScript off: plain
links), a click on the date histogram, and the exports downloaded.

The README's screenshots come from here: with PRESSE_SCREENSHOTS=1 the tests write docs/screenshots/
results.png, statement.png and phone.png (otherwise into test-artifacts/, gitignored, so that a test run does
not touch the committed images).
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.test_web_browser import ARTIFACTS, CHROMIUM, browser, page, server  # noqa: F401 (fixtures)

DOCS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
MAX_PNG = 300_000  # bytes: the README's images stay small

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium"),
]


def screenshot(pg, name: str) -> Path:
    """The viewport as a PNG, for the README when PRESSE_SCREENSHOTS is set."""
    folder = DOCS if os.environ.get("PRESSE_SCREENSHOTS") else ARTIFACTS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    pg.screenshot(path=str(path))
    assert path.stat().st_size < MAX_PNG, (name, path.stat().st_size)
    return path


def args(pg) -> dict[str, list[str]]:
    return parse_qs(urlsplit(pg.url).query)


def badges(pg) -> set[str]:
    return set(pg.locator(".result .badge").all_inner_texts())


def test_language_choice_both_french_english(page, server):  # noqa: F811
    page.goto(server + "/?q=covid")
    choice = page.locator("nav.lang-choice")
    assert choice.locator("[aria-current=true]").inner_text() == "Both"
    assert page.locator(".translations").count() > 0  # one statement, its other version beside it
    both_total = page.inner_text("#total")
    choice.locator("a[data-lang=fr]").click()
    page.wait_for_url("**lang=fr**")
    assert badges(page) == {"French"}
    assert page.locator("nav.lang-choice [aria-current=true]").inner_text() == "FR"
    page.locator("nav.lang-choice a[data-lang=en]").click()
    page.wait_for_url("**lang=en**")
    assert badges(page) == {"English"} and args(page)["lang"] == ["en"]
    page.locator("nav.lang-choice a[data-lang=both]").click()
    page.wait_for_load_state()
    assert "lang" not in args(page) and page.inner_text("#total") == both_total
    assert page.dialogs == [] and page.console_errors == []


def test_several_sources_then_one_excluded_without_javascript(browser, server):  # noqa: F811
    context = browser.new_context(java_script_enabled=False, locale="en-US")
    pg = context.new_page()
    pg.set_default_timeout(30_000)  # a hang guard on a busy machine
    pg.goto(server + "/?q=covid")
    sources = pg.locator("#facet-source ~ ul a.facet-link").evaluate_all(
        "els => els.map(e => [e.dataset.value, e.querySelector('.count').textContent])")
    assert len(sources) >= 3
    (first, n_first), (second, n_second) = sources[0], sources[1]
    pg.click(f"#filters a.facet-link[data-value='{first}']")
    pg.wait_for_url("**source=**")
    assert {r.strip() for r in pg.locator(".result-meta span:not(.badge)").all_inner_texts()} == {first}
    pg.click(f"#filters a.facet-link[data-value='{second}']")  # still offered, with its count
    pg.wait_for_url(lambda url: len(parse_qs(urlsplit(url).query).get("source", [])) == 2)
    assert args(pg)["source"] == [first, second]
    shown = {r.strip() for r in pg.locator(".result-meta span:not(.badge)").all_inner_texts()}
    assert shown <= {first, second} and len(shown) == 2
    counts = dict(pg.locator("#facet-source ~ ul a.facet-link.selected").evaluate_all(
        "els => els.map(e => [e.dataset.value, e.querySelector('.count').textContent])"))
    assert counts == {first: n_first, second: n_second}
    pg.click(f"#filters a.facet-link[data-value='{first}']")  # unticked: the other one stays
    pg.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("source") == [second])
    pg.click("#facet-year ~ ul a.facet-exclude >> nth=0")  # not this year
    year = args(pg)["not_year"][0]
    dates = pg.locator(".result time").evaluate_all("els => els.map(e => e.getAttribute('datetime'))")
    assert not [d for d in dates if d.startswith(year)]
    assert pg.locator(".chip", has_text=f"Year is not {year}").count() == 1
    pg.click(f".chip:has-text('Year is not {year}')")
    assert "not_year" not in args(pg)
    context.close()


def test_a_histogram_bar_narrows_the_dates(page, server):  # noqa: F811
    page.goto(server + "/?q=yukon")
    bars = page.locator("svg.histogram-bars a.bar")
    counts = bars.evaluate_all("els => els.map(e => +e.dataset.count)")
    tallest = bars.nth(counts.index(max(counts)))
    key = tallest.get_attribute("data-key")
    tallest.click()
    page.wait_for_url("**since=**")
    since, until = args(page)["since"][0], args(page)["until"][0]
    assert since.startswith(key) and until.startswith(key)
    dates = page.locator(".result time").evaluate_all("els => els.map(e => e.getAttribute('datetime'))")
    assert dates and all(since <= d <= until for d in dates)
    assert page.locator("svg.histogram-bars a.bar.current").get_attribute("data-key") == key
    assert page.locator(".chip", has_text="Date range").count() == 1
    page.locator("a[data-last='12m']").click()  # a relative range replaces the dates
    page.wait_for_url("**last=12m**")
    assert "since" not in args(page)


def test_exports_download_every_match(page, server):  # noqa: F811
    page.goto(server + "/?q=yukon&limit=5")
    total = int(page.inner_text("#total").split()[0])
    assert total > 5 and page.locator(".result").count() == 5
    with page.expect_download() as info:
        page.click("a.export-link[type='text/csv']")
    download = info.value
    assert download.suggested_filename == "presse-yukon.csv"
    with open(download.path(), encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == total and [r["rank"] for r in rows] == [str(i) for i in range(1, total + 1)]
    with page.expect_download() as info:
        page.click("a.export-link[type='application/x-ndjson']")
    lines = Path(info.value.path()).read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == [r["id"] for r in rows]


def test_screenshots_of_results_statement_and_phone(browser, server):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    pg.goto(server + "/?q=covid&source=vie-publique.fr&source=Government+of+Yukon")
    assert pg.locator("svg.histogram-bars a.bar").count() > 0
    assert pg.locator("#facet-source ~ ul a.facet-link.selected").count() == 2
    screenshot(pg, "results.png")
    pg.locator(".result", has_text="Government of Yukon").first.locator(".result-title a").click()
    pg.wait_for_load_state()
    assert pg.locator(".statement mark").count() > 0 and pg.locator("[hreflang=fr]").count() > 0
    screenshot(pg, "statement.png")
    context.close()
    phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1,
                                is_mobile=True, has_touch=True, locale="fr-CA")
    pg = phone.new_page()
    pg.goto(server + "/?q=covid")
    overflow = pg.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0 and pg.locator("nav.lang-choice").is_visible()
    screenshot(pg, "phone.png")
    phone.close()
