"""Hostile content and hostile URLs against the web server.

Statements come in through the real ingester (a JSON Lines file) with markup and script in their title, body
and source, and ``javascript:`` / ``data:`` / ``vbscript:`` URLs: every page, the feed and the JSON render
them
inert. No route serves a file outside the static folder, whatever the encoding of the ``..``: checked through
Flask's test client and as raw bytes against a real waitress server. The server binds to 127.0.0.1 by default.
"""

from __future__ import annotations

import json
import re
import socket
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.corpora import ROOT
from tests.wire import raw_get

XSS = [
    '<script>alert("t")</script>',
    '"><img src=x onerror=alert(1)>',
    "<svg/onload=alert(2)>",
    "javascript:alert(3)",
    '<a href="javascript:alert(4)">x</a>',
    "</textarea><iframe src=//evil>",
    "{{7*7}}",
    "<!--",
    "]]><x>",
    "&lt;script&gt;",
]
URLS = [
    "javascript:alert(5)",
    " JaVaScRiPt:alert(6)",
    "data:text/html,<script>alert(7)</script>",
    "vbscript:msgbox(8)",
    "java\tscript:alert(9)",
    "//evil.example/x",
    "https://ok.example/a?<script>",
]


def _records() -> list[dict]:
    out = []
    for i, (payload, url) in enumerate(zip(XSS, URLS * 2, strict=False)):
        out.append(
            {
                "id": f"evil-{i}",
                "title": f"Hostile hostileprobe {payload}",
                "text": f"Body hostileprobe {payload} and again {payload}.\n\nSecond {payload}",
                "url": url,
                "source": f"<b>Evil</b> {payload}",
                "lang": "en",
                "date": f"2020-05-{i + 1:02d}",
            }
        )
    return out


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> Path:
    import indexer

    root = tmp_path_factory.mktemp("sec")
    corpus = root / "hostile.jsonl"
    corpus.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in _records()), "utf-8")
    index_dir = root / "index"
    report = indexer.update([str(corpus), str(ROOT / "sample" / "yukon" / "en" / "2020")], index_dir)
    assert report.statements >= len(XSS)
    return index_dir


@pytest.fixture(scope="module")
def client(index_dir):
    from search.web.app import create_app

    return create_app(str(index_dir), threads=1).test_client()


class _Tags(HTMLParser):
    """What a browser would see as markup: element names and attributes, not escaped text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.bad: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("iframe", "object", "embed", "img", "base"):
            self.bad.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.bad.append(f"<{tag} {name}=>")
            if name in ("href", "src", "action", "formaction", "xlink:href") and value is not None:
                squeezed = re.sub(r"[\x00-\x20]", "", value).lower()
                if re.match(r"(javascript|data|vbscript):", squeezed) or squeezed.startswith("//"):
                    self.bad.append(f"<{tag} {name}={value!r}>")
        if tag == "script" and not dict(attrs).get("src", "").startswith("/static/"):
            self.bad.append("inline <script>")


def _inert_html(page: str) -> None:
    parser = _Tags()
    parser.feed(page)
    assert not parser.bad, parser.bad


def test_pages_render_hostile_statements_inert(client):
    ids = [r["id"] for r in _records()]
    for path in [
        "/?q=hostileprobe",
        "/?q=hostileprobe&limit=50",
        "/?q=hostileprobe&ui=fr",
        "/?lang=en",
        *[f"/statement/{i}" for i in ids],
        *[f"/related/{i}" for i in ids],
    ]:
        r = client.get(path)
        assert r.status_code == 200, path
        page = r.get_data(as_text=True)
        _inert_html(page)
        assert "text/html" in r.headers["Content-Type"]
        assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    page = client.get("/statement/evil-0").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt;" in page  # shown as text


def test_feed_is_inert_and_well_formed(client):
    r = client.get("/feed?q=hostileprobe")
    assert r.status_code == 200 and "atom" in r.headers["Content-Type"]
    root = ET.fromstring(r.data)
    ns = "{http://www.w3.org/2005/Atom}"
    entries = root.findall(f"{ns}entry")
    assert len(entries) >= len(XSS) - 1
    for link in root.iter(f"{ns}link"):
        href = link.get("href", "")
        assert href.startswith(("http://", "https://")), href
    for el in root.iter():  # only Atom elements: the hostile markup is text inside them
        assert el.tag.startswith(ns), el.tag


def test_json_is_faithful_and_not_html(client):
    r = client.get("/api/search?q=hostileprobe&limit=50")
    assert r.mimetype == "application/json" and r.headers["X-Content-Type-Options"] == "nosniff"
    d = r.get_json()
    assert d["total"] >= len(XSS) - 1
    for hit in d["results"]:
        snippet = hit.get("snippet") or ""
        assert "<script" not in snippet and "<img" not in snippet  # snippets are escaped text with <mark>
    doc = client.get("/api/statements/evil-0")
    assert doc.mimetype == "application/json" and doc.headers["X-Content-Type-Options"] == "nosniff"
    assert XSS[0] in doc.get_json()["title"]  # data kept as it was, inert as JSON


@pytest.mark.parametrize("q", XSS)
def test_hostile_queries_are_echoed_as_text(client, q):
    for path in ("/", "/feed", "/api/search"):
        r = client.get(path, query_string={"q": q})
        assert r.status_code == 200
        body = r.get_data(as_text=True)
        if path == "/":
            _inert_html(body)
        elif path == "/feed":
            assert all(
                el.tag.startswith("{http://www.w3.org/2005/Atom}") for el in ET.fromstring(r.data).iter()
            )
        else:
            assert r.get_json()["query"] == q


TRAVERSALS = [
    "/static/../../etc/passwd",
    "/static/../app.py",
    "/static/%2e%2e/%2e%2e/etc/passwd",
    "/static/%2e%2e/app.py",
    "/static/..%2f..%2f..%2fetc%2fpasswd",
    "/static/..%2Fapp.py",
    "/static/%252e%252e/%252e%252e/etc/passwd",
    "/static/..%5c..%5cetc%5cpasswd",
    "/static/..\\..\\etc\\passwd",
    "/static//etc/passwd",
    "/static/%2fetc%2fpasswd",
    "/static/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
    "/static/presse.css/../../app.py",
    "/static/./../app.py",
    "/static/....//....//etc/passwd",
    "/static/%00../app.py",
    "/static/..;/app.py",
    "/api/statements/..%2F..%2Fetc%2Fpasswd",
    "/api/statements/../../etc/passwd",
    "/api/statements/%2fetc%2fpasswd",
    "/api/statements//etc/passwd",
    "/statement/..%2F..%2Fetc%2Fpasswd",
    "/statement/../../../etc/passwd",
    "/statement/%252e%252e%252fetc%252fpasswd",
    "/related/..%2F..%2Fetc%2Fpasswd",
    "/related//etc/passwd",
    "/../../etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/feed/../../etc/passwd",
    "/?related=../../etc/passwd",
]
SECRETS = ("root:x:0:0", "root:*:0:0", "def create_app", "import ", "SECRET")


def _no_leak(status: int, body: str, path: str) -> None:
    assert not any(s in body for s in SECRETS), f"{path}: {status} leaks a file"
    assert status in (200, 301, 302, 308, 400, 404, 405), (path, status)


@pytest.mark.parametrize("path", TRAVERSALS)
def test_no_path_traversal_test_client(client, path):
    r = client.get(path, follow_redirects=True)
    _no_leak(r.status_code, r.get_data(as_text=True), path)


@pytest.fixture(scope="module")
def server(index_dir):
    import threading

    from search.web.server import make_server

    srv = make_server(str(index_dir), port=0, threads=4)
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    yield srv
    srv.close()


@pytest.mark.parametrize("path", TRAVERSALS)
def test_no_path_traversal_raw_http(server, path):
    """As sent on the wire: no client normalises the dots away."""
    status, body = raw_get(server.effective_port, path)
    _no_leak(status, body, path)


def test_server_binds_to_localhost_by_default(server, index_dir):
    import inspect

    from cli import serve_command
    from search.web.server import make_server, serve

    assert server.effective_host == "127.0.0.1"
    for fn in (make_server, serve):
        assert inspect.signature(fn).parameters["host"].default == "127.0.0.1"
    assert next(p for p in serve_command.params if p.name == "host").default == "127.0.0.1"


@pytest.mark.parametrize("q", ["date:2020\x05x", "\x00yukon", "yukon\x1b[31m", "\x0b\x0c\ufffe"])
def test_feed_with_control_characters_in_the_query(client, q):
    """Found by the generated queries: the query went into the feed title, and lxml refused it (a 500)."""
    r = client.get("/feed", query_string={"q": q})
    assert r.status_code == 200
    ET.fromstring(r.data)


# ------------------------------------------------------------------ issue 16, L1: query parameters and errors

HTML_ROUTES = ["/", "/?q=hostileprobe", "/statement/evil-1", "/related/evil-1", "/nope", "/statement/nope"]
URL_FOR_KEYS = ["sid", "endpoint", "_method", "_scheme", "_external", "_anchor", "values", "filename", "ui",
                "q", "page", "limit", "sort", "related"]


def _headers_present(r) -> None:
    for name in ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options"):
        assert r.headers.get(name), (r.status_code, name)


@pytest.mark.parametrize("qs", ["sid=1", "endpoint=x", "_method=POST", "_scheme=javascript&_external=1",
                                "_anchor=x", "_external=1"])
@pytest.mark.parametrize("route", HTML_ROUTES)
def test_url_for_arguments_in_the_query_string_are_not_a_500(client, route, qs):
    """ui_switch_url passed request.args into url_for: ?endpoint= was "multiple values", ?_scheme= a
    BuildError, each a 500 without security headers."""
    r = client.get(route + ("&" if "?" in route else "?") + qs)
    assert r.status_code in (200, 400, 404), r.status_code
    _headers_present(r)
    page = r.get_data(as_text=True)
    _inert_html(page)
    assert "_scheme" not in page and "endpoint=" not in page


@pytest.mark.parametrize("route", HTML_ROUTES + ["/feed", "/api/search", "/api/statements/evil-1"])
def test_query_string_fuzz_never_a_500(client, route):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    keys = st.one_of(st.sampled_from(URL_FOR_KEYS), st.text(max_size=12))
    values = st.one_of(st.sampled_from(["", "1", "x", "en", "fr", "date", "javascript:x", "//evil", "0"]),
                       st.text(max_size=30))

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.tuples(keys, values), max_size=5))
    def check(pairs):
        path, _, fixed = route.partition("?")
        r = client.get(path, query_string=[*(tuple(fixed.split("=")) for _ in fixed[:1]), *pairs])
        assert r.status_code != 500 and r.status_code < 500, (pairs, r.status_code)
        _headers_present(r)

    check()


def test_every_error_carries_the_security_headers(index_dir, monkeypatch):
    """An unexpected exception, and one inside the error page itself (Flask's last-resort 500), still
    answer with the security headers."""
    from search.web import app as webapp

    class Broken:
        index_dir = None

        def search(self, *a, **k):
            raise RuntimeError("boom")

        def refresh(self):
            pass

    client = webapp.create_app(None, searcher=Broken()).test_client()
    for path in ("/?q=x", "/api/search?q=x", "/feed?q=x"):
        r = client.get(path)
        assert r.status_code == 500
        _headers_present(r)

    def failing(*a, **k):
        raise RuntimeError("template broken")

    from search.web import context

    monkeypatch.setattr(context, "render_template", failing)  # every page is rendered there
    for path in ("/?q=x", "/nope", "/?limit=0"):
        r = client.get(path)
        assert r.status_code == 500
        _headers_present(r)


# ------------------------------------------------------------------------ issue 16, L3: the Host allowlist

GOOD_HOSTS = ["localhost", "localhost:8080", "127.0.0.1", "127.0.0.1:1", "[::1]", "[::1]:8080", "LOCALHOST",
              "localhost."]
BAD_HOSTS = ["evil.example", "evil.example:8080", "127.0.0.1.evil.example", "localhost.evil.example",
             "[::2]:80", "0.0.0.0", "127.0.0.2", "localhost:abc", "[::1", "evil.example:80@localhost"]


@pytest.mark.parametrize("host", GOOD_HOSTS)
def test_local_host_names_are_served(client, host):
    assert client.get("/?q=hostileprobe", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("host", BAD_HOSTS)
@pytest.mark.parametrize("path", ["/", "/?q=hostileprobe", "/feed?q=hostileprobe", "/api/search?q=x",
                                  "/api/statements/evil-1", "/static/presse.css"])
def test_other_host_names_are_refused(client, host, path):
    """DNS rebinding: a page of evil.example whose name now resolves to 127.0.0.1 reads nothing."""
    r = client.get(path, headers={"Host": host})
    assert r.status_code == 400
    _headers_present(r)
    body = r.get_data(as_text=True)
    assert "--allow-host" in body and "evil-" not in body and "Body hostileprobe" not in body


def test_host_refusal_is_in_the_interface_language(client):
    r = client.get("/", headers={"Host": "evil.example", "Accept-Language": "fr"})
    assert r.status_code == 400 and "nom d’hôte" in r.get_data(as_text=True)


def test_allowed_hosts():
    from search.web.security import allowed_hosts

    assert allowed_hosts() == {"127.0.0.1", "localhost", "::1"}
    assert allowed_hosts("0.0.0.0") == allowed_hosts("::") == allowed_hosts()
    assert "192.168.1.5" in allowed_hosts("192.168.1.5")
    assert "fe80::1" in allowed_hosts("fe80::1")
    assert {"news.example", "other.example"} <= allowed_hosts("0.0.0.0", ["News.Example", "other.example:80"])
    assert "::2" in allowed_hosts(extra=["[::2]"])
    assert allowed_hosts(extra=["*"]) is None


def test_allow_host_and_feed_links(index_dir):
    from search.web.app import create_app
    from search.web.security import allowed_hosts

    client = create_app(str(index_dir), threads=1,
                        hosts=allowed_hosts("0.0.0.0", ["news.example"])).test_client()
    r = client.get("/feed?q=hostileprobe", headers={"Host": "news.example:8080"})
    assert r.status_code == 200
    links = re.findall(rb'href="([^"]+)"', r.data) + re.findall(rb"<id>([^<]+)</id>", r.data)
    assert links and all(x.startswith(b"http://news.example:8080/") or not x.startswith(b"http") or
                         b"news.example" not in x and b"evil" not in x for x in links)
    assert b"http://news.example:8080/feed" in r.data
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400
    anyhost = create_app(str(index_dir), threads=1, hosts=allowed_hosts(extra=["*"])).test_client()
    assert anyhost.get("/", headers={"Host": "whatever.example"}).status_code == 200


def _raw(port, target: str, host: str) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", int(port)), timeout=30) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode("latin-1"))
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_host_allowlist_on_a_real_server(server, index_dir):
    import threading

    from search.web.server import make_server

    port = server.effective_port
    assert _raw(port, "/?q=hostileprobe", f"127.0.0.1:{port}")[0] == 200
    assert _raw(port, "/?q=hostileprobe", f"localhost:{port}")[0] == 200
    status, body = _raw(port, "/feed?q=hostileprobe", f"evil.example:{port}")
    assert status == 400 and b"--allow-host" in body
    srv = make_server(str(index_dir), port=0, threads=2, allow_hosts=["news.example"])
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    try:
        status, body = _raw(srv.effective_port, "/feed?q=hostileprobe", "news.example")
        assert status == 200 and b"http://news.example/statement/" in body
        assert _raw(srv.effective_port, "/", "evil.example")[0] == 400
    finally:
        srv.close()
