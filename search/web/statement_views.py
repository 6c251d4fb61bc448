"""One statement: its page (``/statement/ID``), the statements like it (``/related/ID``) and its JSON
(``/api/statements/ID``)."""

from __future__ import annotations

import re
from typing import Any

from flask import request

from search.web.context import json_response, page, searchers
from search.web.errors import not_found
from search.web.params import MAX_LIMIT, MAX_QUERY, parse_int
from search.web.search_views import as_dict
from search.web.urls import DEFAULT_LIMIT


def _back() -> dict[str, Any]:
    """The search to go back to."""
    return {"q": (request.args.get("q") or "")[:MAX_QUERY]}


def paragraphs(body: str) -> list[str]:
    parts = re.split(r"\n\s*\n", body or "")
    return [p.strip() for p in parts if p.strip()]


def statement(sid: str) -> Any:
    with searchers().searcher() as s:
        doc = s.statement(sid)
    if doc is None:
        raise not_found("statement_not_found")
    return page("statement.html", doc=doc, paragraphs=paragraphs(doc.get("body", "")), params=_back())


def related(sid: str) -> Any:
    limit = parse_int("limit", request.args.get("limit"), DEFAULT_LIMIT, MAX_LIMIT)
    with searchers().searcher() as s:
        doc = s.statement(sid)
        if doc is None:
            raise not_found("statement_not_found")
        results = as_dict(s.related(sid, limit=limit))
    return page("related.html", doc=doc, results=results, params=_back())


def api_statement(sid: str) -> Any:
    with searchers().searcher() as s:
        doc = s.statement(sid)
    if doc is None:
        raise not_found("statement_not_found")
    return json_response(doc)


ROUTES = (("/statement/<sid:sid>", statement), ("/related/<sid:sid>", related),
          ("/api/statements/<sid:sid>", api_statement))
