"""One statement: its page (``/statement/ID``), the statements like it (``/related/ID``) and its JSON
(``/api/statements/ID``)."""

from __future__ import annotations

from typing import Any

from flask import request

from search.highlight import highlight_statement
from search.web.context import json_response, page, searchers
from search.web.errors import not_found
from search.web.params import MAX_LIMIT, MAX_QUERY, parse_int
from search.web.search_views import as_dict
from search.web.urls import DEFAULT_LIMIT


def _back() -> dict[str, Any]:
    """The search to go back to."""
    return {"q": (request.args.get("q") or "")[:MAX_QUERY]}


def statement(sid: str) -> Any:
    """The statement, the search's words marked (``?q=``), with its other-language version linked."""
    params = _back()
    with searchers().searcher() as s:
        doc = s.statement(sid)
        if doc is None:
            raise not_found("statement_not_found")
        other = s.statement(doc["translation"]) if doc.get("translation") else None
    text = highlight_statement(doc.get("title") or doc["id"], doc.get("body", ""), doc.get("lang") or "",
                               params["q"])
    furniture = (doc.get("extra") or {}).get("furniture") or {}
    return page("statement.html", doc=doc, text=text, translation=other, params=params,
                furniture=furniture if isinstance(furniture, dict) else {})


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
