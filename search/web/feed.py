"""``/feed``: an Atom feed of any search (or of the newest statements), newest first."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from feedgen.feed import FeedGenerator
from flask import Response, request

from search import snippets
from search.web.context import lang_name, messages, ui
from search.web.params import FACET_PARAMS, parse_params
from search.web.search_views import page_dict
from search.web.urls import newest_first_url, safe_href, search_tag, statement_tag, statement_url

FEED_LIMIT = 30
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def feed() -> Response:
    params = parse_params(request.args, default_limit=FEED_LIMIT)
    params.update(sort="date", page=1)
    return Response(atom(page_dict(params), params["q"]), mimetype="application/atom+xml")


def xml_text(text: str) -> str:
    """Text without the characters XML 1.0 cannot carry (control characters, lone surrogates)."""
    return _NOT_XML.sub("", text)


def atom(results: dict[str, Any], q: str) -> bytes:
    t = messages()
    fg = FeedGenerator()
    q, url = xml_text(q), xml_text(request.url)  # a control character in the query was a 500
    fg.id(search_tag(request.args))
    fg.title(t["feed_title"].format(q=q) if q else t["feed_title_all"])
    fg.subtitle(t["feed_subtitle"].format(q=q) if q else t["feed_subtitle_all"])
    fg.link(href=url, rel="self", type="application/atom+xml")
    page_args = {k: request.args.getlist(k) for k in ("q", "since", "until", "last", *FACET_PARAMS)
                 if request.args.get(k)}
    fg.link(href=newest_first_url(page_args), rel="alternate", type="text/html")
    fg.language(ui())
    fg.generator("presse")
    newest: datetime | None = None
    for hit in results.get("results", []):
        when = _entry(fg, hit)
        newest = max(newest, when) if newest else when
    fg.updated(newest or datetime.now(UTC))
    return fg.atom_str(pretty=True)


def _entry(fg: FeedGenerator, hit: dict[str, Any]) -> datetime:
    """One hit as a feed entry; its date (now when it has none)."""
    local = statement_url(hit["id"], _external=True)
    entry = fg.add_entry(order="append")
    entry.id(statement_tag(hit["id"]))
    entry.title(xml_text(hit.get("title") or hit["id"]))
    entry.link(href=safe_href(hit.get("url")) or local, rel="alternate")
    when = _to_datetime(hit.get("date", "")) or datetime.now(UTC)
    entry.updated(when)
    entry.published(when)
    summary = snippets.plain(hit["snippet"]).strip() if hit.get("snippet") else ""
    if summary:
        entry.summary(xml_text(summary))
    if hit.get("source"):
        entry.author({"name": xml_text(hit["source"])})
    if hit.get("lang"):
        entry.category(term=hit["lang"], label=lang_name(hit["lang"]))
    return when


def _to_datetime(iso: str) -> datetime | None:
    try:
        d = date.fromisoformat(str(iso)[:10])
    except ValueError:
        return None
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


ROUTES = (("/feed", feed),)
