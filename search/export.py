"""A whole result list, every match and not one page, as CSV or JSON Lines: what `presse search --format
csv|jsonl` prints and what the page's "Export" links download (``/export.csv``, ``/export.jsonl``).

Rows come out in the search's own order (relevance, or the chosen sort), one statement per row with its
duplicates and translation folded in as on the page, read page by page so that a large export never holds
every snippet in memory. A JSON Lines row is the ``--json`` hit with its ``rank``; a CSV row has the
columns of :data:`CSV_COLUMNS`, the snippet as plain text and the lists joined by spaces.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from search.snippets import Snippet, plain

EXPORT_FORMATS = ("csv", "jsonl")
EXPORT_MAX = 10_000  # rows: beyond that, narrow the search (an export is a list to read, not a dump)
BATCH = 200  # statements fetched per search call
CSV_COLUMNS = ("rank", "id", "date", "lang", "source", "place", "title", "url", "score", "snippet",
               "translations", "duplicates")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}


def export_hits(searcher: Any, query: str, *, max_results: int = EXPORT_MAX,
                **options: Any) -> Iterator[dict]:
    """Every hit of a search, best first, each with its ``rank`` (1-based); at most ``max_results``.

    ``options`` are :meth:`search.Searcher.search`'s (lang, source, since, until, sort, recency,
    bilingual); its ``limit`` and ``page`` are this function's to set."""
    rank, page = 0, 1
    while rank < max_results:
        res = searcher.search(query, limit=BATCH, page=page, **options)
        for hit in res.hits:
            rank += 1
            yield {"rank": rank, **hit}
            if rank >= max_results:
                return
        if not res.hits or page >= res.pages:
            return
        page += 1


def csv_row(hit: dict[str, Any], columns: tuple[str, ...] = CSV_COLUMNS) -> dict[str, str]:
    """A hit as one CSV row: plain-text snippet, translation and duplicate ids joined by spaces."""
    snippet = hit.get("snippet") or ""
    row = {k: hit.get(k, "") for k in columns}
    row["snippet"] = plain(snippet) if isinstance(snippet, Snippet) else str(snippet)
    row["translations"] = " ".join(str(t.get("id", "")) for t in hit.get("translations") or ())
    row["duplicates"] = " ".join(str(d.get("id", "")) for d in hit.get("duplicates") or ())
    return {k: "" if v is None else str(v) for k, v in row.items()}


def csv_lines(hits: Iterable[dict[str, Any]], columns: tuple[str, ...] = CSV_COLUMNS,
              header: bool = True) -> Iterator[str]:
    """A header line (unless ``header`` is false), then one CSV line per hit (RFC 4180 quoting, CRLF line
    ends). ``columns``: CSV_COLUMNS, or more (a batch of queries adds "query" in front)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns)
    if header:
        writer.writeheader()
    for hit in hits:
        writer.writerow(csv_row(hit, columns))
        yield _drain(buf)
    yield _drain(buf)


def jsonl_lines(hits: Iterable[dict[str, Any]]) -> Iterator[str]:
    """One JSON object per line and per hit (the ``--json`` hit, with its ``rank``)."""
    for hit in hits:
        yield json.dumps(hit, ensure_ascii=False) + "\n"


def export_lines(fmt: str, hits: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The lines of an export in ``fmt`` (one of :data:`EXPORT_FORMATS`)."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}: one of {', '.join(EXPORT_FORMATS)}")
    return csv_lines(hits) if fmt == "csv" else jsonl_lines(hits)


def _drain(buf: io.StringIO) -> str:
    text = buf.getvalue()
    buf.seek(0)
    buf.truncate()
    return text
