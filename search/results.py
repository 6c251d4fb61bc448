"""Results: the ranked documents collapsed (duplicates), cut to a page, and turned into hits.

A hit is a plain dict (the ``--json`` contract): id, url, title, date, lang, source, place, score, snippet,
duplicates (the same statement published elsewhere), translations (its other-language version, see
:mod:`search.links`) and matched_in (the language of the version that ranked it: one statement is one hit,
shown in the preferred language). Snippets are made for the page shown only.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from indexer.analysis import LANGS
from indexer.schema import stored_body
from search import links
from search.query import Compiled
from search.ranking import Ranked, facet_counts
from search.snippets import Snippeter


@dataclass
class Results:
    query: str
    total: int
    hits: list[dict[str, Any]]
    facets: dict[str, dict[str, int]]
    suggestion: str | None = None
    mode: str = "all"
    corrected_query: str | None = None  # the query as corrected for typos: "showing results for …"
    page: int = 1
    limit: int = 10
    sort: str = "relevance"
    extra: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # what the search had to do without (damaged files)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.limit)) if self.limit else 1

    def to_dict(self) -> dict[str, Any]:
        d = {
            "query": self.query,
            "total": self.total,
            "results": self.hits,
            "facets": self.facets,
            "suggestion": self.suggestion,
            "corrected_query": self.corrected_query,
            "mode": self.mode,
            "page": self.page,
            "pages": self.pages,
            "limit": self.limit,
            "sort": self.sort,
            "warnings": self.warnings,
        }
        d.update(self.extra)
        return d


def empty_facets() -> dict[str, dict[str, int]]:
    return {"lang": {}, "source": {}, "year": {}}


def hit_facets(hits: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """The facets of a list of hits (a related list: the statements returned are the whole result)."""
    counts = {"lang": Counter(h.get("lang") for h in hits), "source": Counter(h.get("source") for h in hits),
              "year": Counter((h.get("date") or "")[:4] for h in hits)}
    return {name: facet_counts(c.items(), name) for name, c in counts.items()}


body_text = stored_body  # a statement's body from its stored fields (indexer.schema.stored_body)


def date_str(value: Any) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%Y-%m-%d")
    return str(value or "")


def title_from_body(body: str, size: int = 90) -> str:
    """A title for a statement without one: its first line, cut at a word boundary."""
    line = body.strip().split("\n", 1)[0].strip()
    if len(line) <= size:
        return line
    cut = line.rfind(" ", 0, size)
    return line[: cut if cut > size // 2 else size].rstrip(" ,;:") + " …"


FIELDS_CACHE = 4096  # documents whose stored fields a DocStore remembers


class DocStore:
    """Stored fields of the statements of one Whoosh searcher, by document number or by id.

    ``ids``, when given, returns the table of every id's live documents once something has read it (a
    long-running searcher reads it for the statement pairs, :class:`search.links.Pairs`), else None: a
    lookup is then a dictionary read instead of a search in every segment's term table."""

    def __init__(self, searcher, ids: Callable[[], dict[bytes, list[int]] | None] | None = None):
        self.searcher = searcher
        self.ids = ids
        self._fields: dict[int, dict[str, Any]] = {}

    def fields(self, d: int) -> dict[str, Any]:
        """A document's stored fields (read only: the dict is shared). Remembered, a bounded number: a
        search reads a hit's fields, its other version's and its duplicates', some twice (collapse, the
        hit, its translation entry), and Whoosh unpickles them at each read."""
        got = self._fields.get(d)
        if got is None:
            if len(self._fields) >= FIELDS_CACHE:
                self._fields.clear()
            got = self._fields[d] = self.searcher.stored_fields(d)
        return got

    def docnum(self, sid: Any) -> int | None:
        if sid is None:
            return None
        table = self.ids() if self.ids is not None else None
        if table is not None:
            docs = table.get(str(sid).encode("utf-8"))
            return docs[0] if docs else None
        return self.searcher.document_number(id=str(sid))

    def by_id(self, sid: Any) -> dict[str, Any] | None:
        d = self.docnum(sid) if sid else None
        return None if d is None else self.fields(d)

    def statement(self, sid: Any) -> dict[str, Any] | None:
        """All stored fields of a statement, body decompressed and date as YYYY-MM-DD; None if unknown."""
        fields = self.by_id(sid)
        if fields is None:
            return None
        fields = dict(fields)
        fields["body"] = body_text(fields)
        fields.pop("body_z", None)
        fields["date"] = date_str(fields.get("date"))
        return fields


def other_version(d: int, fields: dict[str, Any], store: DocStore) -> tuple[int, dict[str, Any]] | None:
    """The other-language version of a document (docnum, stored fields), when it is indexed and live."""
    other = store.docnum(fields.get("translation")) if fields.get("translation") else None
    if other is None or other == d:
        return None
    of = store.fields(other)
    return None if of.get("duplicate_of") else (other, of)


def collapse(ranked: Ranked, stop: int, store: DocStore, members_of: Callable[[str], list[int]],
             prefer: str | None = None) -> tuple[list[tuple], int]:
    """The first ``stop`` statements of ranked, one entry a statement: its duplicates (same ``group``) and
    its other-language version folded in, shown in the ``prefer`` language when it has a version in it,
    and how many duplicates were folded: ([(docnum, score, other members, stored fields, matched lang)],
    collapsed)."""
    shown: list[tuple] = []
    consumed: set[int] = set()  # duplicates of a statement shown
    versions: set[int] = set()  # other-language versions of a statement shown
    collapsed = 0
    for d, score in ranked:
        if d in versions:
            continue
        if d in consumed:
            collapsed += 1
            continue
        fields = store.fields(d)
        matched = fields.get("lang") or ""
        other = other_version(d, fields, store)
        if other is not None:
            versions.add(other[0])
            if prefer and matched != prefer and other[1].get("lang") == prefer:
                versions.add(d)
                d, fields = other
        consumed.add(d)
        members: list[int] = []
        for doc, f in ((d, fields), other or (None, {})):
            group = f.get("group")
            if group:
                found = [m for m in members_of(group) if m != doc]
                consumed.update(found)
                if doc == d:
                    members = found
        shown.append((d, score, members, fields, matched))
        if len(shown) >= stop:
            break
    return shown, collapsed


Positions = Callable[[str, str, list[int]], dict[int, list[int]] | None]  # a matcher's positions()


def page_hits(ranked: Ranked, page: int, limit: int, store: DocStore, members_of: Callable[[str], list[int]],
              snippeter: Snippeter, compiled: Compiled | None, prefer: str | None = None,
              positions: Positions | None = None) -> tuple[list[dict[str, Any]], int]:
    """Collapse duplicates and versions, cut the page, build its hits: (hits, number of duplicates
    collapsed). ``positions`` (the matcher's): the index's count of each query term in a hit's body, which
    spares the snippet listing the body's words (:func:`term_counts`)."""
    start = (page - 1) * limit
    shown, collapsed = collapse(ranked, start + limit, store, members_of, prefer)
    counts = {}
    if positions is not None and compiled is not None:
        counts = term_counts(positions, [(d, fields) for d, _, _, fields, _ in shown[start:]], compiled)
    hits = []
    for d, score, members, fields, matched in shown[start:]:
        hit = make_hit(fields, score, members, store, snippeter, compiled, counts.get(d))
        hit["matched_in"] = matched
        hits.append(hit)
    return hits, collapsed


def highlight_lang(fields: dict[str, Any]) -> str:
    """The language whose fields hold a statement's words (its own, or "xx" for any other)."""
    lang = fields.get("lang") or ""
    return lang if lang in LANGS else "xx"


def term_counts(positions: Positions, docs: list[tuple[int, dict[str, Any]]],
                compiled: Compiled) -> dict[int, dict[str, int]]:
    """How many tokens of each of the query's highlight terms each document's body has, as the index holds
    them (its positions), a term's documents at a time; none for a document whose language has prefixes
    to highlight (their terms are not listed) or no terms."""
    by_lang: dict[str, list[int]] = {}
    for d, fields in docs:
        by_lang.setdefault(highlight_lang(fields), []).append(d)
    out: dict[int, dict[str, int]] = {}
    for tl, ds in by_lang.items():
        terms, prefixes = compiled.highlight.get(tl, (frozenset(), ()))
        if prefixes or not terms:
            continue
        ds = sorted(set(ds))
        counts = {d: {} for d in ds}
        for t in terms:
            got = positions("body_" + tl, t, ds) or {}
            for d in ds:
                counts[d][t] = len(got.get(d, ()))
        out.update(counts)
    return out


def make_hit(fields: dict[str, Any], score: float, members: list[int], store: DocStore, snippeter: Snippeter,
             compiled: Compiled | None, counts: dict[str, int] | None = None) -> dict[str, Any]:
    body = body_text(fields)
    lang = fields.get("lang") or ""
    tl = highlight_lang(fields)
    title = fields.get("title") or ""
    hit = {
        "id": fields.get("id"),
        "url": fields.get("url") or "",
        "title": title or title_from_body(body),
        "date": date_str(fields.get("date")),
        "lang": lang,
        "source": fields.get("source") or "",
        "place": fields.get("place") or "",
        "score": round(float(score), 4),
        "snippet": "",
        "duplicates": [],
    }
    if compiled is not None:
        terms, prefixes = compiled.highlight.get(tl, (frozenset(), ()))
        hit["snippet"] = snippeter.snippet(body, title, tl, terms, prefixes, counts)
    else:
        hit["snippet"] = snippeter.lead(body)
    for m in members:
        mf = store.fields(m)
        hit["duplicates"].append({"id": mf.get("id"), "source": mf.get("source") or "",
                                  "url": mf.get("url") or ""})
    entry = links.translation_of(store.by_id, fields)
    hit["translations"] = [entry] if entry else []
    return hit
