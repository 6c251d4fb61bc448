"""The web search page: a small Flask app over the same search API as the CLI, served by waitress.

Every page is a plain GET URL (shareable, works without JavaScript); ``/static/presse.js`` only adds
search-as-you-type on top. ``/api/search`` answers with the CLI's ``--json`` object, ``/feed`` with an Atom
feed of any search, newest first.

One ``Searcher`` is opened when the app is created and shared by the server's threads; at most once a second
a request asks it to reopen the index if the index changed on disk (one thread at a time, under a lock;
the others go on searching meanwhile).
"""

from __future__ import annotations

import json
import logging
import math
import queue
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

from feedgen.feed import FeedGenerator
from flask import Flask, Response, current_app, g, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.exceptions import BadRequest, HTTPException, NotFound, ServiceUnavailable
from werkzeug.routing import PathConverter

from search import Searcher, SearchError, snippets
from search.options import SORTS, IndexUnavailable, parse_date
from search.snippets import Snippet
from search.web.i18n import DEFAULT_UI, MESSAGES, UI_LANGS, choose_ui, format_date, format_number

log = logging.getLogger(__name__)

MAX_QUERY = 500  # characters
MAX_LIMIT = 50  # results per page
MAX_PAGE = 1000
DEFAULT_LIMIT = 10
FEED_LIMIT = 30
BROWSE_SINCE = "1000-01-01"  # no query: list every dated statement, newest first
REFRESH_INTERVAL = 1.0  # seconds between two index refresh checks
UI_COOKIE = "presse_ui"
# The parameters of our own pages: the only ones a link built from the current URL carries over.
PAGE_PARAMS = ("q", "lang", "source", "since", "until", "sort", "limit", "page", "recency", "bilingual")
_YES, _NO = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")
# Host names served by default (DNS rebinding: a page of evil.example resolving to 127.0.0.1 must not read
# the index); `presse serve --allow-host NAME` adds others, "*" allows any.
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
_LANG_CODE = re.compile(r"[a-z]{2,3}")

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                               "connect-src 'self'; form-action 'self'; base-uri 'none'; "
                               "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


class StatementId(PathConverter):
    """Any stored id in a URL path: newlines, a leading slash or "//" included (the path converter stops at a
    newline, and a leading slash is not one of its values). Quoted by Werkzeug when a URL is built."""

    regex = r"[\s\S]+"
    part_isolating = False  # it spans slashes (Werkzeug infers this only from a "/" in the regex)

    def to_url(self, value: Any) -> str:
        url = super().to_url(value)
        if any(part in (".", "..") for part in str(value).split("/")):
            url = url.replace("/", "%2F")  # one segment: a browser would resolve "a/../b" to "b"
        return url


class BadParameter(Exception):
    """A request parameter out of bounds: answered with a 400 page whose text is in the interface language."""

    def __init__(self, key: str, **fields: Any) -> None:
        super().__init__(key)
        self.key = key
        self.fields = fields

    def message(self, ui: str) -> str:
        return MESSAGES[ui][self.key].format(**self.fields)


class SearcherPool:
    """Searchers shared by the server's threads, each refreshed when the index changes on disk.

    ``search.Searcher`` is not thread-safe (one per thread), so a request borrows one from the pool for its
    duration; up to ``size`` are opened, the first when the pool is made (a missing index fails there, at
    start-up). A borrowed searcher is asked to reopen a changed index at most every ``interval`` seconds:
    no other thread holds it meanwhile, and the others go on searching with theirs.
    """

    def __init__(self, opener: Callable[[], Any], size: int = 8, interval: float = REFRESH_INTERVAL) -> None:
        self._opener = opener
        self.size = max(1, size)
        self.interval = interval
        self._idle: queue.LifoQueue = queue.LifoQueue()
        self._lock = threading.Lock()
        self._opened = 1
        self._changed = 0.0  # monotonic time the index was last known to change (index_changed)
        first = opener()
        self.index_dir = getattr(first, "index_dir", None)
        self._idle.put(_Slot(first))

    def _take(self) -> _Slot:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            can_open = self._opened < self.size
            if can_open:
                self._opened += 1
        if not can_open:
            return self._idle.get()
        try:
            return _Slot(self._opener())
        except BaseException:
            with self._lock:
                self._opened -= 1
            raise

    def index_changed(self) -> None:
        """The index was just updated (by a watcher in this process): searchers refresh when next used."""
        self._changed = time.monotonic()

    @contextmanager
    def searcher(self) -> Iterator[Any]:
        slot = self._take()
        try:
            slot.refresh_if_due(self.interval, self._changed)
            yield slot.searcher
        finally:
            self._idle.put(slot)


class _Slot:
    def __init__(self, searcher: Any) -> None:
        self.searcher = searcher
        self.checked = time.monotonic()
        self.lock = threading.Lock()

    def refresh_if_due(self, interval: float, changed: float = 0.0) -> None:
        now = time.monotonic()
        if now - self.checked < interval and self.checked >= changed:
            return
        with self.lock:
            self.checked = now
            try:
                self.searcher.refresh()
            except Exception:  # a half-written index must not take the page down: keep searching the old one
                log.exception("index refresh failed; still searching the previous version")


# ---------------------------------------------------------------------------------------------- parameters

def _parse_date(value: str, end: bool) -> str:
    """YYYY, YYYY-MM or YYYY-MM-DD -> ISO date; a year or month alone: its first (or, for end, last) day."""
    try:
        when = parse_date(value, end=end)
    except (ValueError, OverflowError):
        when = None
    if when is None:
        raise BadParameter("bad_date", value=value)
    return when.date().isoformat()


def _parse_int(name: str, value: str | None, default: int, hi: int) -> int:
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= hi:
        raise BadParameter("bad_int", name=name, lo=1, hi=hi, value=value)
    return number


def parse_params(args, default_limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
    """The search parameters of a request, checked and bounded; raises BadParameter."""
    q = (args.get("q") or "").strip()
    if len(q) > MAX_QUERY:
        raise BadParameter("bad_query", n=len(q), max=MAX_QUERY)
    lang = (args.get("lang") or "").strip().lower()
    if lang and not _LANG_CODE.fullmatch(lang):
        raise BadParameter("bad_param", name="lang", value=lang[:20])
    source = (args.get("source") or "").strip()
    if len(source) > 200:
        raise BadParameter("bad_param", name="source", value=source[:20] + "…")
    since = _parse_date(args["since"].strip(), end=False) if (args.get("since") or "").strip() else ""
    until = _parse_date(args["until"].strip(), end=True) if (args.get("until") or "").strip() else ""
    if since and until and since > until:
        raise BadParameter("bad_range", since=since, until=until)
    sort = (args.get("sort") or "").strip().lower() or ("relevance" if q else "date")
    if sort not in SORTS:
        raise BadParameter("bad_sort", value=sort[:20])
    limit = _parse_int("limit", args.get("limit"), default_limit, MAX_LIMIT)
    page = _parse_int("page", args.get("page"), 1, MAX_PAGE)
    return {"q": q, "lang": lang, "source": source, "since": since, "until": until, "sort": sort,
            "limit": limit, "page": page, "recency": _parse_recency(args.get("recency")),
            "bilingual": _parse_flag("bilingual", args.get("bilingual"))}


def _parse_recency(value: str | None) -> float:
    """recency: 0 (BM25 only, the default) to 1 (newest first among the best matches)."""
    text = (value or "").strip()
    try:
        number = float(text) if text else 0.0
    except ValueError:
        number = -1.0
    if not 0.0 <= number <= 1.0:  # also NaN
        raise BadParameter("bad_param", name="recency", value=text[:20])
    return number


def _parse_flag(name: str, value: str | None) -> bool:
    text = (value or "").strip().lower()
    if text not in _YES + _NO:
        raise BadParameter("bad_param", name=name, value=text[:20])
    return text in _YES


def run_search(searcher: Any, p: dict[str, Any]) -> Any:
    """The search layer's results for checked parameters: recency and the bilingual view (see
    ``Searcher.search``) are passed only when asked for."""
    extra = {k: p[k] for k in ("recency", "bilingual") if p.get(k)}
    try:
        res = searcher.search(p["q"], lang=p["lang"] or None, source=p["source"] or None,
                              since=p["since"] or None, until=p["until"] or None, sort=p["sort"],
                              limit=p["limit"], page=p["page"], **extra)
    except IndexUnavailable as exc:  # damaged or refused index (indexer.integrity): not the query's fault
        raise ServiceUnavailable(str(exc)) from exc
    except SearchError as exc:
        raise BadParameter("bad_search", reason=str(exc)) from exc
    return res


# ------------------------------------------------------------------------------------------------- helpers

def safe_href(url: Any) -> str | None:
    """The URL if it is an absolute http(s) address, else None: nothing else becomes a clickable link."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    if any(ord(c) < 33 for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return url
    return None


def host_of(url: str) -> str:
    parts = urlsplit(url)
    path = " › ".join(p for p in parts.path.split("/") if p)
    host = parts.netloc.removeprefix("www.")
    return f"{host} › {path}" if path else host


def snippet_html(snippet: Snippet | None) -> Markup:
    """A snippet as HTML: its text escaped, matched words in <mark>."""
    return Markup(snippets.html(snippet.spans)) if snippet else Markup("")


def _as_dict(obj: Any) -> dict[str, Any]:
    return obj if isinstance(obj, dict) else obj.to_dict()


def _json(data: Any, status: int = 200) -> Response:
    body = json.dumps(data, ensure_ascii=False, default=str, indent=1)
    return Response(body + "\n", status=status, mimetype="application/json")


def _paragraphs(body: str) -> list[str]:
    parts = re.split(r"\n\s*\n", body or "")
    return [p.strip() for p in parts if p.strip()]


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _xml_text(text: str) -> str:
    """Text without the characters XML 1.0 cannot carry (control characters, lone surrogates)."""
    return _NOT_XML.sub("", text)


def _host_name(value: str) -> str | None:
    """The host name of a Host header value ("[::1]:8080" -> "::1"), lower-case; None if malformed."""
    value = value.strip().lower()
    if value.startswith("["):
        name, closed, port = value[1:].partition("]")
        if not closed or port and not re.fullmatch(r":\d{1,5}", port):
            return None
    else:
        name, _, port = value.partition(":")
        if port and not port.isdigit():
            return None
    return name.rstrip(".") or None


def allowed_hosts(bind: str = "127.0.0.1", extra: Iterable[str] = ()) -> frozenset[str] | None:
    """The Host names served: the local names, the address bound to when it is a specific one, and
    ``extra`` (``--allow-host``); None (any name) when ``extra`` holds "*"."""
    names = list(LOCAL_HOSTS) + list(extra)
    if "*" in names:
        return None
    if bind and bind not in ("0.0.0.0", "::", "*"):
        names.append(bind)
    # a bare IPv6 address ("::1") is bracketed first; a name may come with a port ("news.example:80")
    return frozenset(n for n in (_host_name(f"[{x}]" if x.count(":") > 1 and "[" not in x else x)
                                 for x in names) if n)


def _security_headers(wsgi_app: Callable) -> Callable:
    """Every response carries SECURITY_HEADERS, including routing errors and an error page that fails
    itself (then a plain 500 here, rather than the WSGI server's own page without them)."""
    headers = list(SECURITY_HEADERS.items())

    def app(environ, start_response):
        started = []

        def start(status, response_headers, exc_info=None):
            started.append(status)
            have = {k.lower() for k, _ in response_headers}
            extra = [(k, v) for k, v in headers if k.lower() not in have]
            return start_response(status, [*response_headers, *extra], exc_info)
        try:
            return wsgi_app(environ, start)
        except Exception:
            log.exception("error page failed: %s", environ.get("PATH_INFO"))
            plain = [("Content-Type", "text/plain; charset=utf-8"), *headers]
            # exc_info only when headers were set already: it tells the server to replace them
            start_response("500 Internal Server Error", plain, sys.exc_info() if started else None)
            return [b"500 Internal Server Error\n"]
    return app


def _to_datetime(iso: str) -> datetime | None:
    try:
        d = date.fromisoformat(str(iso)[:10])
    except ValueError:
        return None
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


# -------------------------------------------------------------------------------------- request context

def ui() -> str:
    """The interface language of this request."""
    return getattr(g, "ui", DEFAULT_UI)


def search_url(params: dict[str, Any], endpoint: str = "index", **changes: Any) -> str:
    """The URL of a search: ``params`` with ``changes``, without empty or default values."""
    merged = {**params, **changes}
    if "page" not in changes:
        merged["page"] = 1  # a new filter or sort starts again at page 1
    args = {}
    for key in PAGE_PARAMS:
        value = merged.get(key)
        if not value:
            continue
        if key == "page" and value == 1 or key == "limit" and value == DEFAULT_LIMIT:
            continue
        if key == "sort" and value == ("relevance" if merged.get("q") else "date"):
            continue
        args[key] = value
    return url_for(endpoint, **args)


def ui_switch_url() -> str:
    """This page in the other interface language: only our own parameters are carried over (any other
    key reached url_for as one of its arguments, "endpoint" or "_external", and was a 500)."""
    args: dict[str, Any] = {k: v for k in PAGE_PARAMS if (v := request.args.get(k))}
    args["ui"] = "fr" if ui() == "en" else "en"
    sid = (request.view_args or {}).get("sid")
    if request.endpoint in ("statement", "related") and isinstance(sid, str):
        return url_for(request.endpoint, sid=sid, **args)
    return url_for("index", **args)


def lang_name(code: str) -> str:
    return MESSAGES[ui()].get(f"lang_{code}", code)


def _choose_ui() -> None:
    requested = request.args.get("ui")
    g.ui = choose_ui(requested, request.cookies.get(UI_COOKIE), request.accept_languages)
    g.set_ui_cookie = requested in UI_LANGS


def _check_host() -> None:
    hosts = current_app.config["PRESSE_HOSTS"]
    header = request.headers.get("Host")
    if hosts is None or header is None:  # no Host header (HTTP/1.0): no browser, no rebinding
        return
    name = _host_name(header)
    if name not in hosts:
        shown = header[:100]
        raise BadRequest(MESSAGES[ui()]["bad_host"].format(
            host=shown, name=f"[{name}]" if name and ":" in name else (name or shown)))


def _vary_and_cookie(response: Response) -> Response:
    response.vary.add("Accept-Language")
    response.vary.add("Cookie")
    if getattr(g, "set_ui_cookie", False):
        response.set_cookie(UI_COOKIE, g.ui, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


def _template_globals() -> dict[str, Any]:
    return {"t": MESSAGES[ui()], "ui": ui(), "search_url": search_url, "ui_switch_url": ui_switch_url,
            "safe_href": safe_href, "host_of": host_of, "lang_name": lang_name, "max_query": MAX_QUERY}


def _searchers() -> SearcherPool:
    return current_app.extensions["presse_searchers"]


def search_dict(params: dict[str, Any]) -> dict[str, Any]:
    with _searchers().searcher() as s:
        return _as_dict(run_search(s, params))


def browse_dict(params: dict[str, Any]) -> dict[str, Any]:
    """Newest statements without a query: the search layer lists a filter's statements, newest first."""
    return search_dict({**params, "since": params["since"] or BROWSE_SINCE, "sort": "date"})


# ------------------------------------------------------------------------------------------------- errors

def _lenient_params() -> dict[str, Any]:
    """What to put back in the search box on an error page."""
    return {"q": (request.args.get("q") or "")[:MAX_QUERY]}


def not_found(key: str = "not_found_text") -> NotFound:
    exc = NotFound()
    exc.presse_message = MESSAGES[ui()][key]  # type: ignore[attr-defined]
    return exc


def _bad_parameter(exc: BadParameter):
    message = exc.message(ui())
    if request.path.startswith("/api/"):
        return _json({"error": message}, 400)
    if request.endpoint == "feed":
        return Response(message + "\n", status=400, mimetype="text/plain")
    return render_template("error.html", status=400, title=MESSAGES[ui()]["error_title"],
                           message=message, params=_lenient_params()), 400


def _http_error(exc: HTTPException):
    t = MESSAGES[ui()]
    status = exc.code or 500
    if status == 404:
        title, message = t["not_found"], getattr(exc, "presse_message", None) or t["not_found_text"]
    else:
        title, message = f"{status} {exc.name}", exc.description or ""
    if request.path.startswith("/api/"):
        return _json({"error": message}, status)
    return render_template("error.html", status=status, title=title, message=message,
                           params=_lenient_params()), status


def _server_error(exc: Exception):
    log.exception("request failed: %s", request.full_path)
    message = MESSAGES[ui()]["server_error"]
    if request.path.startswith("/api/"):
        return _json({"error": message}, 500)
    return render_template("error.html", status=500, title="500", message=message,
                           params=_lenient_params()), 500


# ------------------------------------------------------------------------------------------------- routes

def index():
    related = request.args.get("related")
    if related:
        return redirect(url_for("related", sid=related))
    params = parse_params(request.args)
    filtered = any(params[k] for k in ("lang", "source", "since", "until"))
    results = search_dict(params) if params["q"] else browse_dict(params)
    pages = min(MAX_PAGE, math.ceil(int(results.get("total") or 0) / params["limit"]))
    return render_template("search.html", params=params, results=results, pages=pages,
                           filtered=filtered, feed_url=search_url(params, "feed", sort=None, limit=None),
                           api_url=search_url(params, "api_search"))


def statement(sid: str):
    with _searchers().searcher() as s:
        doc = s.statement(sid)
    if doc is None:
        raise not_found("statement_not_found")
    return render_template("statement.html", doc=doc, paragraphs=_paragraphs(doc.get("body", "")),
                           params={"q": (request.args.get("q") or "")[:MAX_QUERY]})


def related(sid: str):
    limit = _parse_int("limit", request.args.get("limit"), DEFAULT_LIMIT, MAX_LIMIT)
    with _searchers().searcher() as s:
        doc = s.statement(sid)
        if doc is None:
            raise not_found("statement_not_found")
        results = _as_dict(s.related(sid, limit=limit))
    return render_template("related.html", doc=doc, results=results,
                           params={"q": (request.args.get("q") or "")[:MAX_QUERY]})


def feed():
    params = parse_params(request.args, default_limit=FEED_LIMIT)
    params.update(sort="date", page=1)
    results = search_dict(params) if params["q"] else browse_dict(params)
    return Response(_atom(results, params["q"]), mimetype="application/atom+xml")


def _atom(results: dict[str, Any], q: str) -> bytes:
    t = MESSAGES[ui()]
    fg = FeedGenerator()
    q, url = _xml_text(q), _xml_text(request.url)  # a control character in the query was a 500
    fg.id(url)
    fg.title(t["feed_title"].format(q=q) if q else t["feed_title_all"])
    fg.subtitle(t["feed_subtitle"].format(q=q) if q else t["feed_subtitle_all"])
    fg.link(href=url, rel="self", type="application/atom+xml")
    page_args = {k: v for k, v in request.args.items() if k in ("q", "lang", "source", "since", "until")}
    fg.link(href=url_for("index", _external=True, sort="date", **page_args), rel="alternate",
            type="text/html")
    fg.language(ui())
    fg.generator("presse")
    newest: datetime | None = None
    for hit in results.get("results", []):
        when = _atom_entry(fg, hit)
        newest = max(newest, when) if newest else when
    fg.updated(newest or datetime.now(UTC))
    return fg.atom_str(pretty=True)


def _atom_entry(fg: FeedGenerator, hit: dict[str, Any]) -> datetime:
    """One hit as a feed entry; its date (now when it has none)."""
    local = url_for("statement", sid=hit["id"], _external=True)
    entry = fg.add_entry(order="append")
    entry.id(local)
    entry.title(_xml_text(hit.get("title") or hit["id"]))
    entry.link(href=safe_href(hit.get("url")) or local, rel="alternate")
    when = _to_datetime(hit.get("date", "")) or datetime.now(UTC)
    entry.updated(when)
    entry.published(when)
    summary = snippets.plain(hit["snippet"]).strip() if hit.get("snippet") else ""
    if summary:
        entry.summary(_xml_text(summary))
    if hit.get("source"):
        entry.author({"name": _xml_text(hit["source"])})
    if hit.get("lang"):
        entry.category(term=hit["lang"], label=lang_name(hit["lang"]))
    return when


def api_search():
    return _json(search_dict(parse_params(request.args)))


def api_statement(sid: str):
    with _searchers().searcher() as s:
        doc = s.statement(sid)
    if doc is None:
        raise not_found("statement_not_found")
    return _json(doc)


def healthz():
    return _json({"ok": True})


ROUTES = (("/", index), ("/statement/<sid:sid>", statement), ("/related/<sid:sid>", related),
          ("/feed", feed), ("/api/search", api_search), ("/api/statements/<sid:sid>", api_statement),
          ("/healthz", healthz))


# ----------------------------------------------------------------------------------------------------- app

def create_app(index_dir: str | None, searcher: Any = None, threads: int = 8,
               hosts: frozenset[str] | None = frozenset(LOCAL_HOSTS)) -> Flask:
    """The web app over the index in ``index_dir`` (raises SearchError when there is no index there).

    Up to ``threads`` searchers are opened, one per concurrent request. ``searcher`` replaces the Searcher
    the app would open (then it is the only one, and requests take turns). ``hosts``: the Host names
    answered (see :func:`allowed_hosts`; None: any), others get a 400.
    """
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    app.config["PRESSE_HOSTS"] = hosts
    app.url_map.converters["sid"] = StatementId
    app.wsgi_app = _security_headers(app.wsgi_app)  # type: ignore[method-assign]
    if searcher is not None:
        pool = SearcherPool(lambda: searcher, size=1)
    else:
        pool = SearcherPool(lambda: Searcher(index_dir), size=threads)
    app.extensions["presse_searchers"] = pool
    app.before_request(_choose_ui)
    app.before_request(_check_host)
    app.after_request(_vary_and_cookie)
    app.context_processor(_template_globals)
    app.add_template_filter(snippet_html, "snippet")
    app.add_template_filter(lambda iso: format_date(iso, ui()), "fdate")
    app.add_template_filter(lambda n: format_number(int(n), ui()), "fnum")
    app.register_error_handler(BadParameter, _bad_parameter)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _server_error)
    for rule, view in ROUTES:
        app.add_url_rule(rule, view_func=view, methods=["GET"], merge_slashes=False if "<" in rule else None)
    return app


# Every route is a GET: a request body is refused past 64 KB (413), headers and URL past 64 KB (431), a
# connection idle for 30 s is closed. Waitress buffers a request before the app sees it: its own defaults
# (1 GB bodies, 256 KB headers, 120 s) would let one client make the server store a gigabyte.
# cleanup_interval: how often (seconds) the header deadline below is checked.
SERVER_LIMITS = {"max_request_body_size": 64 * 1024, "max_request_header_size": 64 * 1024,
                 "channel_timeout": 30, "connection_limit": 100, "cleanup_interval": 1}
# Slowloris: waitress's channel_timeout is an inactivity timeout, so a client sending a header line every
# few seconds kept its connection forever, and 100 of them locked everyone out. A request must arrive whole
# (request line, headers, body) within HEADER_TIMEOUT seconds of its first byte, and one client address
# holds at most PER_IP_CONNECTIONS connections at once. 127.0.0.1 and ::1 are not capped: there every client
# is the local user, or a reverse proxy on this machine that all clients share (one on another machine: raise
# the cap, and let the proxy limit).
HEADER_TIMEOUT = 10.0
PER_IP_CONNECTIONS = 20
UNCAPPED = ("127.0.0.1", "::1")


def _server_class():
    """A waitress TCP server whose channels must send each request within the header deadline, and which
    closes a connection at once when its client address (but those of UNCAPPED) already holds ``per_ip``
    of them."""
    from waitress.channel import HTTPChannel
    from waitress.server import TcpWSGIServer

    class Channel(HTTPChannel):
        request_started = 0.0  # time.monotonic() of the first byte of the request being received

        def __init__(self, server, sock, addr, adj, map=None):
            super().__init__(server, sock, addr, adj, map=map)
            ip = _client_ip(addr)
            if ip in UNCAPPED:
                return
            same = sum(1 for ch in server.active_channels.values()
                       if not ch.will_close and _client_ip(ch.addr) == ip)
            if same > server.per_ip:  # this one included
                self.will_close = True  # never read; closed by the next turn of the loop

        def received(self, data):
            if self.request is None and data:
                self.request_started = time.monotonic()
            return super().received(data)

    class Server(TcpWSGIServer):
        channel_class = Channel

        def __init__(self, *args: Any, header_timeout: float, per_ip: int, **kw: Any) -> None:
            self.header_timeout = header_timeout
            self.per_ip = per_ip
            super().__init__(*args, **kw)

        def maintenance(self, now):
            super().maintenance(now)  # idle connections (channel_timeout)
            late = time.monotonic() - self.header_timeout
            for ch in list(self.active_channels.values()):
                # A request begun and still incomplete, none being served: the deadline is a total one.
                if ch.request is not None and not ch.requests and ch.request_started < late:
                    ch.will_close = True

    return Server


def _client_ip(addr: Any) -> Any:
    return addr[0] if isinstance(addr, tuple) and addr else addr


def make_server(index_dir: str | None, host: str = "127.0.0.1", port: int = 8080, threads: int = 8,
                limits: dict[str, Any] | None = None, allow_hosts: Iterable[str] = (), **kwargs: Any):
    """A waitress server for the app, not yet running: call ``.run()``; ``.effective_port`` when port=0.

    ``limits``: settings to use instead of the defaults: waitress's (:data:`SERVER_LIMITS`, e.g. a shorter
    channel_timeout) and ``header_timeout`` / ``per_ip_connections`` (:data:`HEADER_TIMEOUT`,
    :data:`PER_IP_CONNECTIONS`). ``allow_hosts``: Host names answered besides the local ones (see
    :func:`allowed_hosts`)."""
    from waitress.adjustments import Adjustments
    from waitress.server import MultiSocketServer
    from waitress.task import ThreadedTaskDispatcher

    settings = {**SERVER_LIMITS, **(limits or {})}
    header_timeout = float(settings.pop("header_timeout", HEADER_TIMEOUT))
    per_ip = int(settings.pop("per_ip_connections", PER_IP_CONNECTIONS))
    app = create_app(index_dir, threads=threads, hosts=allowed_hosts(host, allow_hosts), **kwargs)
    adj = Adjustments(host=host, port=port, threads=threads, ident="presse",
                      clear_untrusted_proxy_headers=True, **settings)
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(threads)
    socket_map: dict = {}
    server_class = _server_class()
    servers = [server_class(app, socket_map, dispatcher=dispatcher, adj=adj, sockinfo=info,
                            header_timeout=header_timeout, per_ip=per_ip) for info in adj.listen]
    if len(servers) == 1:
        server = servers[0]
    else:  # a name with several addresses ("localhost": ::1 and 127.0.0.1): waitress's own multiplexer
        server = MultiSocketServer(socket_map, adj, [(s.effective_host, s.effective_port) for s in servers],
                                   dispatcher, servers[0].log_info)
        server.effective_host, server.effective_port = servers[0].effective_host, servers[0].effective_port
    server.presse_app = app
    return server


def serve(index_dir: str | None, host: str = "127.0.0.1", port: int = 8080, threads: int = 8,
          watch: Iterable[str] | None = None, allow_hosts: Iterable[str] = (),
          header_timeout: float = HEADER_TIMEOUT, per_ip_connections: int = PER_IP_CONNECTIONS) -> None:
    """Serve the search page with waitress until interrupted; binds to 127.0.0.1 unless told otherwise.

    ``watch``: corpus paths to keep the index in step with (``presse watch``) in a background thread; the
    searchers refresh after each update. With no index yet, the first update runs before the server starts.
    ``allow_hosts``: Host names answered besides 127.0.0.1, localhost, [::1] and ``host`` ("*": any).
    ``header_timeout``, ``per_ip_connections``: see :data:`HEADER_TIMEOUT`, :data:`PER_IP_CONNECTIONS`.
    """
    watcher = None
    built = False
    if watch:
        from indexer.store import index_exists
        from indexer.watch import Watcher

        watcher = Watcher(watch, index_dir)
        if not index_exists(watcher.index_dir):
            watcher.update_once(initial=True)
            built = True
    server = make_server(index_dir, host=host, port=port, threads=threads, allow_hosts=allow_hosts,
                         limits={"header_timeout": header_timeout, "per_ip_connections": per_ip_connections})
    shown = f"[{host}]" if ":" in host else host
    pool = server.presse_app.extensions["presse_searchers"]
    where = pool.index_dir or index_dir
    print(f"presse: serving {where} at http://{shown}:{server.effective_port}/ (Ctrl-C to stop)",
          file=sys.stderr, flush=True)
    try:
        if watcher is not None:
            watcher.on_commit = lambda report: pool.index_changed()
            watcher.start(initial=not built)
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        if watcher is not None:
            watcher.stop()
        server.close()
