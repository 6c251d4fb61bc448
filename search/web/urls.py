"""Every URL the app builds, in one place: its routes' ids in paths, search links, the language switch,
and which outside addresses may become links."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from flask import g, request, url_for
from werkzeug.routing import PathConverter

from search.web.context import ui

DEFAULT_LIMIT = 10
QUERY_SAFE = "!$'()*,/:;?@"  # left as they are in a query string, as by Werkzeug's url_for
# The parameters of our own pages: the only ones a link built from the current URL carries over.
PAGE_PARAMS = ("q", "lang", "source", "since", "until", "sort", "limit", "page", "recency", "bilingual",
               "year", "not_lang", "not_source", "not_year", "last")


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
    # The route's path once a request, the query encoded as Werkzeug's url_for encodes it: a results page
    # builds a hundred of these links (facets, histogram bars), and url_for was a third of its time.
    paths = g.setdefault("route_paths", {})
    path = paths.get(endpoint) or paths.setdefault(endpoint, url_for(endpoint))
    return path + "?" + urlencode(args, doseq=True, safe=QUERY_SAFE) if args else path


def statement_url(sid: str, endpoint: str = "statement", q: str = "", **kwargs: Any) -> str:
    """/statement/ID, /related/ID or /api/statements/ID of any stored id; with the search's words ``q``
    (the statement page marks them, and its "back" link returns to that search)."""
    if q:
        kwargs["q"] = q
    return url_for(endpoint, sid=sid, **kwargs)


def home_url(q: str = "") -> str:
    """The search page: empty, or back at the search ``q``."""
    return url_for("index", q=q) if q else url_for("index")


def static_url(filename: str) -> str:
    return url_for("static", filename=filename)


# Feed ids are tag URIs (RFC 4151): they name a statement or a search, not the address the server had when a
# reader subscribed, so moving the server (another host or port) does not re-announce every entry.
TAG_AUTHORITY = "presse,2024"


def statement_tag(sid: str) -> str:
    """The permanent id of a statement in feeds: tag:presse,2024:statement/ID (the id percent-encoded)."""
    return f"tag:{TAG_AUTHORITY}:statement/{quote(str(sid), safe='')}"


def search_tag(args: dict[str, Any]) -> str:
    """The permanent id of a feed: its search parameters in a fixed order, not the server's address."""
    kept = [(k, str(v)) for k in PAGE_PARAMS if k not in ("page", "sort") for v in _all(args, k) if v]
    return f"tag:{TAG_AUTHORITY}:feed" + (f"?{urlencode(kept)}" if kept else "")


def _all(args: Any, key: str) -> list[Any]:
    """Every value of a parameter: a repeated one (a query string's getlist), a list, or one value."""
    if hasattr(args, "getlist"):
        return args.getlist(key)
    value = args.get(key)
    return list(value) if isinstance(value, list | tuple) else [value]


def toggle(values: list[str], value: Any) -> list[str]:
    """A facet's selection with ``value`` added, or taken out when it is there."""
    value = str(value)
    return [v for v in values if v != value] if value in values else [*values, value]


def newest_first_url(args: dict[str, Any]) -> str:
    """The absolute URL of the search page of ``args``, newest first (a feed's page)."""
    return url_for("index", _external=True, sort="date", **args)


def ui_switch_url() -> str:
    """This page in the other interface language: only our own parameters are carried over (any other
    key reached url_for as one of its arguments, "endpoint" or "_external", and was a 500)."""
    args: dict[str, Any] = {k: v for k in PAGE_PARAMS if (v := request.args.getlist(k))}
    args["ui"] = "fr" if ui() == "en" else "en"
    sid = (request.view_args or {}).get("sid")
    if request.endpoint in ("statement", "related") and isinstance(sid, str):
        return url_for(request.endpoint, sid=sid, **args)
    return url_for("index", **args)


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
