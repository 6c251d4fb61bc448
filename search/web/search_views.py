"""The search views: the page (``/``), its JSON twin (``/api/search``, the CLI's ``--json`` object) and
``/healthz``."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import redirect, request
from werkzeug.exceptions import ServiceUnavailable

from search.export import EXPORT_FORMATS
from search.facets import facet_options
from search.options import IndexUnavailable, SearchError
from search.web.context import json_response, page, searchers
from search.web.params import FACET_PARAMS, MAX_PAGE, BadParameter, parse_params
from search.web.urls import search_url, statement_url

BROWSE_SINCE = "1000-01-01"  # no query: list every dated statement, newest first


def search_options(p: dict[str, Any]) -> dict[str, Any]:
    """``Searcher.search``'s options for checked parameters, but the page: recency and the bilingual view
    are passed only when asked for."""
    extra = {k: p[k] for k in ("recency", "bilingual", "last", *FACET_PARAMS[2:]) if p.get(k)}
    return dict(lang=p["lang"] or None, source=p["source"] or None, since=p["since"] or None,
                until=p["until"] or None, sort=p["sort"], **extra)


@contextmanager
def search_errors() -> Iterator[None]:
    """The search layer's errors as HTTP answers: a damaged or refused index is a 503 (not the query's
    fault), anything else the search refuses a 400 in the interface language."""
    try:
        yield
    except IndexUnavailable as exc:  # damaged or refused index (indexer.integrity)
        raise ServiceUnavailable(str(exc)) from exc
    except SearchError as exc:
        raise BadParameter("bad_search", reason=str(exc)) from exc


def run_search(searcher: Any, p: dict[str, Any]) -> Any:
    """The search layer's results for checked parameters (one page)."""
    with search_errors():
        return searcher.search(p["q"], limit=p["limit"], page=p["page"], **search_options(p))


def as_dict(obj: Any) -> dict[str, Any]:
    return obj if isinstance(obj, dict) else obj.to_dict()


def search_dict(params: dict[str, Any], choices: bool = False) -> dict[str, Any]:
    """A search's results as the JSON object; with ``choices``, its ``facet_options``: each facet's values
    counted without its own selection, the choices for adding a value to it (search.facets)."""
    with searchers().searcher() as s:
        results = as_dict(run_search(s, params))
        if choices:
            with search_errors():
                results["facet_options"] = facet_options(s, params["q"], results["facets"],
                                                         **search_options(params))
        return results


def page_dict(params: dict[str, Any], choices: bool = False) -> dict[str, Any]:
    """What a page (or feed) lists: the search's results; without a query, the newest statements of the
    filters."""
    if params["q"]:
        return search_dict(params, choices)
    return search_dict({**params, "since": params["since"] or BROWSE_SINCE, "sort": "date"}, choices)


def index() -> Any:
    related = request.args.get("related")
    if related:
        return redirect(statement_url(related, "related"))
    params = parse_params(request.args)
    filtered = any(params[k] for k in (*FACET_PARAMS, "since", "until", "last"))
    results = page_dict(params, choices=True)
    pages = min(MAX_PAGE, math.ceil(int(results.get("total") or 0) / params["limit"]))
    return page("search.html", params=params, results=results, pages=pages,
                filtered=filtered, feed_url=search_url(params, "feed", sort=None, limit=None),
                api_url=search_url(params, "api_search"),
                export_urls={fmt: search_url(params, f"export_{fmt}", limit=None)
                             for fmt in EXPORT_FORMATS})


def api_search() -> Any:
    return json_response(search_dict(parse_params(request.args), choices=True))


def healthz() -> Any:
    return json_response({"ok": True})


ROUTES = (("/", index), ("/api/search", api_search), ("/healthz", healthz))
