"""The export views: every match of a search (not one page) as a CSV or JSON Lines download,
``/export.csv`` and ``/export.jsonl`` with the page's own parameters (see :mod:`search.export`)."""

from __future__ import annotations

import re
from typing import Any

from flask import Response, request

from search.export import EXPORT_MAX, MEDIA_TYPES, export_hits, export_lines
from search.web.context import searchers
from search.web.params import parse_params
from search.web.search_views import BROWSE_SINCE, search_errors, search_options

_FILE_CHARS = re.compile(r"[^A-Za-z0-9]+")


def export(fmt: str) -> Response:
    params = parse_params(request.args)
    if not params["q"]:  # no query: every dated statement of the filters, newest first, as the page lists
        params.update(since=params["since"] or BROWSE_SINCE, sort="date")
    with searchers().searcher() as s, search_errors():
        # Read whole before answering: the searcher goes back to the pool, and an error is still a status.
        text = "".join(export_lines(fmt, export_hits(s, params["q"], max_results=EXPORT_MAX,
                                                     **search_options(params))))
    response = Response(text, content_type=MEDIA_TYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{file_name(params["q"])}.{fmt}"'
    return response


def file_name(q: str) -> str:
    """A download's file name: presse-<the query's letters and digits>, ASCII, at most 60 characters."""
    stem = _FILE_CHARS.sub("-", q).strip("-")[:50].strip("-")
    return "presse-" + stem if stem else "presse-export"


def export_csv() -> Any:
    return export("csv")


def export_jsonl() -> Any:
    return export("jsonl")


ROUTES = (("/export.csv", export_csv), ("/export.jsonl", export_jsonl))
