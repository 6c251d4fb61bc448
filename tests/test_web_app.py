"""The web search page through Flask's test client: routes, status codes, JSON API, feed, escaping, languages.

The index holds real Yukon news releases (English and French, from ../shared or the bundled sample) plus
two hostile statements: markup in the title and body, and ``javascript:`` / ``data:`` URLs.
"""

from __future__ import annotations

import atexit
import re
import shutil
import tempfile
import time
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import pytest

from tests.corpora import SAMPLE, SHARED
from tests.indexes import direct_index, index_statements, write_jsonl

YUKON = SHARED / "corpus" / "yukon"
ATOM = "{http://www.w3.org/2005/Atom}"

XSS_QUERY = '"><img src=x onerror=alert(1)>'
HOSTILE_TITLE = "<script>alert(1)</script> Hostile xssprobe statement"
HOSTILE_BODY = ('A body with <script>alert("body")</script> and <img src=x onerror=alert(2)> in it.\n\n'
                "Second paragraph mentions xssprobe and caribou & </mark><b>bold</b>.")


def hostile_statements():
    from corpus.statement import Statement

    return [
        Statement(id="hostile-1", origin="test", title=HOSTILE_TITLE, body=HOSTILE_BODY, lang="en",
                  url="javascript:alert(3)", date="2020-06-01", source="<b>Evil</b> Office"),
        Statement(id="hostile-2", origin="test", title="Data URL xssprobe", body="Another xssprobe text.",
                  lang="en", url="data:text/html,<script>alert(4)</script>", date="2020-06-02",
                  source="Government of Yukon"),
    ]


def corpus_files() -> list[Path]:
    """Some Yukon pages in both languages: late 2019 and early 2020 (two years, for the year facet)."""
    if (YUKON / "en" / "2020").is_dir():
        files = []
        for lang in ("en", "fr"):
            files += sorted((YUKON / lang / "2019").glob("*.html"))[-20:]
            files += sorted((YUKON / lang / "2020").glob("*.html"))[:50]
        if (SAMPLE / "vie-publique.jsonl").is_file():  # statements without a URL
            files.append(SAMPLE / "vie-publique.jsonl")
        return files
    files = sorted(p for p in SAMPLE.rglob("*") if p.is_file() and p.suffix in (".html", ".jsonl", ".gz"))
    if not files:
        pytest.skip("no Yukon corpus in ../shared and no bundled sample")
    return files


@cache
def web_index() -> Path:
    """One index for the whole test session (both test modules), removed at exit: the corpus files and
    the hostile statements (a JSON Lines file of their own), indexed by ``indexer.update``."""
    import indexer

    tmp = Path(tempfile.mkdtemp(prefix="presse-web-"))
    atexit.register(shutil.rmtree, tmp, True)
    index_dir = tmp / "index"
    hostile = write_jsonl(hostile_statements(), tmp / "hostile.jsonl")
    indexer.update([str(p) for p in corpus_files()] + [str(hostile)], str(index_dir))
    return index_dir


@pytest.fixture(scope="session")
def index_dir() -> Path:
    return web_index()


@pytest.fixture(scope="session")
def app(index_dir):
    from search.web.app import create_app

    app = create_app(str(index_dir))
    app.config["TESTING"] = True
    return app


@pytest.fixture()
def client(app):
    return app.test_client()


def html(response) -> str:
    return response.get_data(as_text=True)


# ------------------------------------------------------------------------------------------- search page

def test_search_page_shows_results_total_facets_and_feed(client):
    r = client.get("/?q=caribou")
    assert r.status_code == 200
    assert r.mimetype == "text/html"
    page = html(r)
    assert 'value="caribou"' in page  # the box keeps the query
    assert re.search(r'id="total">\s*<strong>\d+ statements</strong>', page)
    assert "<mark>" in page.lower()
    assert 'href="https://yukon.ca/' in page
    assert 'rel="alternate" type="application/atom+xml" href="/feed?q=caribou"' in page
    assert 'class="feed-link" href="/feed?q=caribou"' in page
    for facet in ("facet-lang", "facet-source", "facet-year"):
        assert f'id="{facet}"' in page
    assert "/related/" in page
    assert '<html lang="en">' in page


def test_query_without_accents_marks_accented_words(client):
    page = html(client.get("/?q=sante&lang=fr"))
    marked = re.findall(r"<mark>(.*?)</mark>", page, re.IGNORECASE)
    assert any("santé" in m.lower() for m in marked), marked[:5]


def test_front_page_lists_latest_statements(client):
    page = html(client.get("/"))
    assert 'class="welcome"' in page
    dates = re.findall(r'<time datetime="(\d{4}-\d\d-\d\d)"', page)
    assert dates and dates == sorted(dates, reverse=True)


def test_language_facet_narrows(client):
    all_ = client.get("/api/search?q=caribou").get_json()
    assert set(all_["facets"]["lang"]) == {"en", "fr"}
    fr = client.get("/api/search?q=caribou&lang=fr").get_json()
    assert fr["total"] == all_["facets"]["lang"]["fr"]
    assert {hit["lang"] for hit in fr["results"]} == {"fr"}
    page = html(client.get("/?q=caribou&lang=fr"))
    assert 'class="chip" href="/?q=caribou"' in page  # the active filter, removable
    assert 'aria-current="true"' in page


def test_year_facet_and_date_range(client):
    page = html(client.get("/?q=yukon"))
    assert 'href="/?q=yukon&amp;year=2019"' in page  # the year facet (several years may be chosen)
    data = client.get("/api/search?q=yukon&since=2019-01-01&until=2019-12-31&limit=50").get_json()
    assert data["total"] > 0
    assert all(hit["date"].startswith("2019") for hit in data["results"])
    short = client.get("/api/search?q=yukon&since=2020-01&until=2020-01").get_json()
    assert all(hit["date"].startswith("2020-01") for hit in short["results"])


def test_sort_by_date_and_pagination(client):
    data = client.get("/api/search?q=yukon&sort=date&limit=20").get_json()
    dates = [hit["date"] for hit in data["results"]]
    assert dates == sorted(dates, reverse=True)
    p1 = html(client.get("/?q=yukon"))
    p2 = html(client.get("/?q=yukon&page=2"))
    assert 'rel="next" href="/?q=yukon&amp;page=2"' in p1
    assert 'rel="prev" href="/?q=yukon"' in p2
    assert 'aria-current="page" href="/?q=yukon&amp;page=2"' in p2
    ids1 = set(re.findall(r'class="result-title"[^>]*><a href="/statement/([^"]+)"', p1))
    ids2 = set(re.findall(r'class="result-title"[^>]*><a href="/statement/([^"]+)"', p2))
    assert ids1 and ids2 and not ids1 & ids2
    assert '<ol class="results" start="11">' in p2


def test_did_you_mean(client):
    page = html(client.get("/?q=carribou"))
    assert "Showing results for" in page  # corrected and searched (typo tolerance), no longer only offered
    assert 'href="/?q=caribou"' in page


def test_related_page_and_redirect(client):
    # A statement with similar ones in this small index (the one caribou page has none 0.1 similar).
    hit = client.get("/api/search?q=logement&limit=1").get_json()["results"][0]
    r = client.get(f"/related/{hit['id']}")
    assert r.status_code == 200
    assert "Statements related to" in html(r)
    assert html(r).count('class="result"') >= 1
    redirect = client.get(f"/?related={hit['id']}")
    assert redirect.status_code == 302
    assert redirect.headers["Location"].endswith(f"/related/{hit['id']}")


def test_statement_page(client):
    hit = client.get("/api/search?q=caribou&limit=1").get_json()["results"][0]
    page = html(client.get(f"/statement/{hit['id']}"))
    assert f"<h1>{hit['title']}</h1>" in page
    assert f'href="{hit["url"]}"' in page
    assert page.count("<p>") > 3  # paragraphs


def test_statement_without_url_links_to_its_text(client):
    data = client.get("/api/search?q=ministres&source=vie-publique.fr&limit=3").get_json()
    if not data["total"]:
        pytest.skip("no URL-less statements in this corpus")
    hit = data["results"][0]
    assert hit["url"] == ""
    page = html(client.get("/?q=ministres&source=vie-publique.fr"))
    assert f'<h2 class="result-title" id="r1"><a href="/statement/{hit["id"]}?q=ministres" lang="fr">' in page


# ---------------------------------------------------------------------------------------------- JSON API

def test_api_search_is_the_cli_json_object(client, index_dir):
    from search import Searcher

    params = {"q": "caribou", "lang": "en", "sort": "date", "limit": "5", "page": "1"}
    r = client.get("/api/search", query_string=params)
    assert r.status_code == 200
    assert r.mimetype == "application/json"
    data = r.get_json()
    with Searcher(index_dir) as s:
        expected = s.search("caribou", lang="en", sort="date", limit=5, page=1).to_dict()
    options = data.pop("facet_options")  # the page's choices, beside the CLI's object (search.facets)
    assert data == expected
    assert options["source"] == expected["facets"]["source"] and set(options["lang"]) == {"en", "fr"}
    assert {"query", "total", "results", "facets", "suggestion", "mode"} <= set(data)
    assert {"id", "url", "title", "date", "lang", "source", "score", "snippet", "duplicates"} <= set(
        data["results"][0])
    assert set(data["facets"]) == {"lang", "source", "year"}


def test_api_search_takes_recency_and_the_bilingual_view_as_the_cli_does(client, index_dir):
    from search import Searcher

    params = {"q": "caribou", "recency": "0.5", "bilingual": "1", "lang": "en"}
    r = client.get("/api/search", query_string=params)
    assert r.status_code == 200
    with Searcher(index_dir) as s:
        expected = s.search("caribou", lang="en", recency=0.5, bilingual=True).to_dict()
    data = r.get_json()
    assert data.pop("facet_options") and data == expected and expected["bilingual"] is True
    page = client.get("/?q=caribou&recency=0.5&bilingual=1").get_data(as_text=True)
    assert 'name="recency" value="0.5"' in page and 'name="bilingual" value="True"' in page
    for bad in ({"recency": "2"}, {"recency": "nan"}, {"recency": "soon"}, {"bilingual": "maybe"}):
        r = client.get("/api/search", query_string={"q": "caribou", **bad})
        assert r.status_code == 400 and next(iter(bad)) in r.get_json()["error"]


def test_api_statement(client):
    hit = client.get("/api/search?q=caribou&limit=1").get_json()["results"][0]
    r = client.get(f"/api/statements/{hit['id']}")
    assert r.status_code == 200
    doc = r.get_json()
    assert doc["id"] == hit["id"] and doc["title"] == hit["title"] and len(doc["body"]) > 100
    missing = client.get("/api/statements/no-such-id")
    assert missing.status_code == 404 and "error" in missing.get_json()


# ------------------------------------------------------------------------------------------------- feed

def test_feed_is_atom_newest_first(client):
    r = client.get("/feed?q=caribou")
    assert r.status_code == 200
    assert r.mimetype == "application/atom+xml"
    root = ET.fromstring(r.data)
    assert root.tag == f"{ATOM}feed"
    assert "caribou" in root.findtext(f"{ATOM}title")
    assert root.find(f"{ATOM}link[@rel='self']") is not None
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) >= 3
    updated = [e.findtext(f"{ATOM}updated") for e in entries]
    assert updated == sorted(updated, reverse=True)
    for e in entries:
        assert e.findtext(f"{ATOM}id") and e.findtext(f"{ATOM}title")
        assert e.find(f"{ATOM}link").get("href").startswith(("http://", "https://"))
    assert "<mark>" not in r.get_data(as_text=True)


def test_feed_ids_do_not_depend_on_the_servers_address(client):
    """Feed readers key entries by id: moving the server (other host, port) must not re-announce them."""
    here = ET.fromstring(client.get("/feed?q=caribou", base_url="http://127.0.0.1:8080").data)
    there = ET.fromstring(client.get("/feed?q=caribou", base_url="http://localhost:9000").data)
    ids = [e.findtext(f"{ATOM}id") for e in here.findall(f"{ATOM}entry")]
    assert ids == [e.findtext(f"{ATOM}id") for e in there.findall(f"{ATOM}entry")]
    assert here.findtext(f"{ATOM}id") == there.findtext(f"{ATOM}id") == "tag:presse,2024:feed?q=caribou"
    assert all(i.startswith("tag:presse,2024:statement/") for i in ids) and len(set(ids)) == len(ids)
    assert not any("127.0.0.1" in i or "localhost" in i for i in ids)


def test_feed_filters_and_empty_results(client):
    root = ET.fromstring(client.get("/feed?q=caribou&lang=fr&limit=3").data)
    entries = root.findall(f"{ATOM}entry")
    assert 0 < len(entries) <= 3
    assert {e.find(f"{ATOM}category").get("term") for e in entries} == {"fr"}
    empty = ET.fromstring(client.get("/feed?q=zzqxjkw").data)
    assert empty.findall(f"{ATOM}entry") == []
    assert client.get("/feed?since=nope").status_code == 400


# ------------------------------------------------------------------------------------------ bad requests

@pytest.mark.parametrize("query", [
    "q=caribou&since=2020-13-45", "q=caribou&until=yesterday", "q=caribou&since=2021-01-01&until=2020-01-01",
    "q=caribou&sort=popular", "q=caribou&page=0", "q=caribou&page=1001", "q=caribou&page=two",
    "q=caribou&limit=51", "q=" + "a" * 501, "q=caribou&lang=<x>",
])
def test_bad_parameters_are_400(client, query):
    r = client.get("/?" + query)
    assert r.status_code == 400
    page = html(r)
    assert 'class="error-message" role="alert"' in page
    api = client.get("/api/search?" + query)
    assert api.status_code == 400 and api.get_json()["error"]


def test_bounds_accepted_at_the_limit(client):
    assert client.get("/?q=caribou&limit=50&page=1000").status_code == 200
    assert client.get("/?q=" + "a" * 500).status_code == 200


def test_bad_date_message_in_french(client):
    page = html(client.get("/?q=caribou&since=2020-02-30", headers={"Accept-Language": "fr"}))
    assert "n’est pas une date" in page


@pytest.mark.parametrize("path", ["/nope", "/statement/no-such-id", "/related/no-such-id", "/static/nope.js"])
def test_unknown_is_404(client, path):
    r = client.get(path)
    assert r.status_code == 404


def test_post_is_405(client):
    assert client.post("/?q=x").status_code == 405


# ------------------------------------------------------------------------------------------------ escaping

def test_hostile_statement_renders_as_text(client):
    page = html(client.get("/?q=xssprobe"))
    assert "hostile-1" in page
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>Evil</b>" not in page and "&lt;b&gt;Evil&lt;/b&gt;" in page
    assert "javascript:" not in page
    assert 'href="data:' not in page
    assert 'href="/statement/hostile-1?q=xssprobe"' in page  # the title links to the local text


def test_hostile_statement_page_and_related(client):
    page = html(client.get("/statement/hostile-1"))
    assert "<script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#34;body&#34;)&lt;/script&gt;" in page
    assert 'href="javascript:' not in page
    assert "<code>javascript:alert(3)</code>" in page  # shown, not linked
    assert "&lt;/mark&gt;&lt;b&gt;bold&lt;/b&gt;" in page
    related = html(client.get("/related/hostile-1"))
    assert "<script>" not in related
    feed = client.get("/feed?q=xssprobe").get_data(as_text=True)
    assert "javascript:" not in feed and "data:text" not in feed


def test_hostile_query_is_echoed_as_text(client):
    r = client.get("/", query_string={"q": XSS_QUERY})
    assert r.status_code == 200
    page = html(r)
    assert XSS_QUERY not in page
    assert "<img src=x" not in page
    assert 'value="&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"' in page
    feed = client.get("/feed", query_string={"q": XSS_QUERY})
    ET.fromstring(feed.data)  # still well-formed


def test_snippet_filter_formats_the_spans():
    """The page formats the snippet's spans itself: text escaped, matched words (only) in <mark>."""
    from search.snippets import Snippet, Span
    from search.web.context import snippet_html

    snip = Snippet([Span("a "), Span("b", True), Span(" <c> <mark>d</mark>")])
    assert snippet_html(snip) == "a <mark>b</mark> &lt;c&gt; &lt;mark&gt;d&lt;/mark&gt;"
    assert "<script" not in snippet_html(Snippet([Span("<script>alert(1)</script>"), Span("x", True)]))
    assert snippet_html(None) == ""


@pytest.mark.parametrize("url,ok", [
    ("https://yukon.ca/en/news", True), ("http://example.org/", True), ("javascript:alert(1)", False),
    ("JavaScript:alert(1)", False), (" javascript:alert(1)", False), ("java\tscript:alert(1)", False),
    ("data:text/html,x", False), ("//evil.example/", False), ("/relative", False), ("", False),
    (None, False), ("https://", False), ("vbscript:msgbox", False),
])
def test_safe_href(url, ok):
    from search.web.urls import safe_href

    assert (safe_href(url) is not None) is ok


# ---------------------------------------------------------------------------------- headers and languages

def test_security_headers(client):
    for path in ("/", "/?q=caribou", "/nope", "/api/search?q=caribou", "/feed?q=caribou",
                 "/static/presse.css"):
        r = client.get(path)
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"]


def test_no_external_assets(client):
    page = html(client.get("/?q=caribou"))
    for ref in re.findall(r'<(?:link|script|img)[^>]+(?:href|src)="([^"]+)"', page):
        assert ref.startswith("/"), ref
    assert "style=" not in page and "<style" not in page and "onclick" not in page
    scripts = re.findall(r"<script[^>]*>[\s\S]*?</script>", page)
    assert scripts and all(re.fullmatch(r'<script src="/static/[^"]+" defer></script>', s) for s in scripts)
    for asset in ("/static/presse.css", "/static/presse.js", "/static/favicon.svg"):
        assert client.get(asset).status_code == 200


def test_interface_language_from_accept_language(client):
    fr = html(client.get("/?q=caribou", headers={"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.5"}))
    assert '<html lang="fr">' in fr and "communiqués" in fr and "Rechercher" in fr
    en = html(client.get("/?q=caribou", headers={"Accept-Language": "en-US,en;q=0.9"}))
    assert '<html lang="en">' in en and "statements" in en
    other = html(client.get("/?q=caribou", headers={"Accept-Language": "de"}))
    assert '<html lang="en">' in other
    assert 'href="/?q=caribou&amp;ui=fr"' in en  # the switch


def test_interface_switch_is_remembered(app):
    client = app.test_client()
    r = client.get("/?q=caribou&ui=fr", headers={"Accept-Language": "en"})
    assert '<html lang="fr">' in html(r)
    assert "presse_ui=fr" in r.headers["Set-Cookie"]
    again = client.get("/?q=caribou", headers={"Accept-Language": "en"})
    assert '<html lang="fr">' in html(again)
    back = client.get("/?q=caribou&ui=en")
    assert '<html lang="en">' in html(back)


def test_result_language_is_marked(client):
    page = html(client.get("/?q=caribou&lang=fr"))
    assert re.search(r'<p class="snippet" lang="fr">', page)


# ----------------------------------------------------------------------------------- index refresh, CLI

def test_index_refresh_shows_new_statements(tmp_path):
    from corpus.statement import Statement
    from search.web.app import create_app

    first = Statement(id="r-1", origin="t", title="Glacier report", body="The glacier melts.", lang="en",
                      date="2021-01-01")
    index_dir = index_statements([first], tmp_path / "ix")
    app = create_app(str(index_dir))
    app.extensions["presse_searchers"].interval = 0.2
    client = app.test_client()
    assert client.get("/api/search?q=avalanche").get_json()["total"] == 0
    second = Statement(id="r-2", origin="t", title="Avalanche warning", body="An avalanche warning.",
                       lang="en", date="2021-02-01")
    index_statements([second], index_dir, "more")
    deadline = time.monotonic() + 5
    total = 0
    while time.monotonic() < deadline and not total:
        time.sleep(0.25)
        total = client.get("/api/search?q=avalanche").get_json()["total"]
    assert total == 1
    feed = ET.fromstring(client.get("/feed?q=avalanche").data)
    assert len(feed.findall(f"{ATOM}entry")) == 1


def test_missing_index_is_a_clear_error(tmp_path):
    from click.testing import CliRunner

    from cli import main

    result = CliRunner().invoke(main, ["serve", "--index", str(tmp_path / "none")])
    assert result.exit_code != 0
    assert "index" in result.output.lower()
    assert "Traceback" not in result.output


def test_serve_defaults_to_localhost():
    import inspect

    from cli import serve_command
    from search.web.server import serve

    assert inspect.signature(serve).parameters["host"].default == "127.0.0.1"
    host = next(p for p in serve_command.params if p.name == "host")
    assert host.default == "127.0.0.1"


# ------------------------------------------------------------------ issue 16, L6: any stored id on the web

def _nasty_ids() -> list[str]:
    """Ids an old index may hold (new ones are normalised at ingest): newlines, slashes, dot segments,
    URL delimiters, percent signs, controls, non-ASCII; fixed cases and a seeded random sample."""
    import random

    fixed = ["line\nbreak", "cr\r\nlf", "tab\tid", "/leading", "double//slash", "trailing/", "pct%20x", "%0A",
             "q?r#s", "sp ace", "été/ü€", "../etc/passwd", "a/../b", "a/./b", "semi;colon", "amp&x=1",
             "plus+sign", "back\\slash", "ctl\x01\x1f", "//", "/", "\n", " lead-space"]
    rng = random.Random(16)
    alphabet = "ab/.%?#&;+ \n\r\t\\é€\x7f"
    generated = {"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 10))) for _ in range(40)}
    return fixed + sorted(x for x in generated if x.strip(". ") and x not in fixed)


@pytest.fixture(scope="module")
def nasty_app(tmp_path_factory):
    from corpus.statement import Statement
    from search.web.app import create_app

    ids = _nasty_ids()
    sts = [Statement(id=sid, origin="test", title=f"Nastyid probe {n}", body=f"Text nastyprobe number {n}.",
                     lang="en", date=f"2020-01-{n % 28 + 1:02d}", source="Office")
           for n, sid in enumerate(ids)]
    index_dir = direct_index(sts, tmp_path_factory.mktemp("nasty") / "index")
    return create_app(str(index_dir), threads=1), ids


def test_statement_and_api_urls_work_for_any_stored_id(nasty_app):
    """/statement/ID, /related/ID and /api/statements/ID, as linked from the pages, reach each statement."""
    from html import unescape

    app, ids = nasty_app
    client = app.test_client()
    page = html(client.get("/?q=nastyprobe&limit=50")) + html(client.get("/?q=nastyprobe&limit=50&page=2"))
    links = {unescape(h) for h in re.findall(r'href="(/(?:statement|related)/[^"]*)"', page)}
    assert len([x for x in links if x.startswith("/statement/")]) == len(ids)
    for link in links:
        assert "\n" not in link and " " not in link
        # a browser resolves dot segments before sending
        assert not any(seg in (".", "..") for seg in link.split("?")[0].split("/")), link
        r = client.get(link)
        assert r.status_code == 200, link
        assert "Nastyid probe" in html(r)
    with app.test_request_context():
        from flask import url_for

        for n, sid in enumerate(ids):
            r = client.get(url_for("api_statement", sid=sid))
            assert r.status_code == 200 and r.get_json()["id"] == sid, repr(sid)
            page = html(client.get(url_for("statement", sid=sid)))
            assert f"Nastyid probe {n}<" in page, repr(sid)


def test_newline_id_on_a_real_server(nasty_app, tmp_path):
    """As sent on the wire by a browser: the newline percent-encoded, decoded by waitress."""
    import json
    import socket
    import threading

    from search.web.server import make_server

    app, ids = nasty_app
    srv = make_server(app.extensions["presse_searchers"].index_dir, port=0, threads=2)
    threading.Thread(target=srv.run, daemon=True).start()
    try:
        for target, sid in (("/api/statements/line%0Abreak", "line\nbreak"),
                            ("/api/statements//leading", "/leading"),
                            ("/api/statements/a%2F..%2Fb", "a/../b")):
            with socket.create_connection(("127.0.0.1", int(srv.effective_port)), timeout=30) as s:
                s.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
                data = b""
                while chunk := s.recv(65536):
                    data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200"), (target, head[:40])
            assert json.loads(body)["id"] == sid
    finally:
        srv.close()
