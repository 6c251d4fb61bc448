"""Matching: which documents a compiled query matches under the filters, their scores, and what ranking
reads of them (languages, term positions, idf, dates, facets, duplicate groups).

One interface, two backends over the same Whoosh searcher:

- :class:`FastMatcher`: numpy over cached postings (:mod:`search.fastpath`), for the queries it covers
  (words, phrases, AND/OR/NOT);
- :class:`WhooshMatcher`: Whoosh's own matchers and collectors, for the rest (prefixes, ranges and filters
  written in the query, the unscored "every statement" list) and the reference the fast one is tested
  against (``Searcher(fast=False)``).

``match(q, filt, sort, pool)`` returns a :class:`Match`: the matching documents (``len`` is the total, the
facets count them) and ``top(n)``, the n best (docnum, score), by score or, with ``sort="date"``, newest
first. Everything else about a search (widening, ranking, pages) is policy, in :mod:`search.engine` and
:mod:`search.ranking`, and written once.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any, Protocol

import numpy as np
from whoosh import collectors
from whoosh import query as wq
from whoosh.matching import AndNotMatcher

from indexer.analysis import fold
from indexer.tables import FACETS, NO_DATE
from search import fastpath, ranking
from search.histogram import date_histogram
from search.options import SearchOptions
from search.query import Compiled, analyse_query

_CACHE_SIZE = 64


def _source_clause(source: str) -> wq.Query | None:
    """A source's words, every one, in any order: "government yukon" finds "Government of Yukon"."""
    terms = [t for _, t in analyse_query(source, "xx")]
    if not terms:
        return None
    return wq.Term("source_text", terms[0]) if len(terms) == 1 else wq.And(
        [wq.Term("source_text", t) for t in terms])


def _year_clause(year: int) -> wq.Query:
    return wq.DateRange("date", dt.datetime(year, 1, 1), dt.datetime(year, 12, 31, 23, 59, 59))


def _any(clauses: list) -> wq.Query | None:
    """One clause, an Or of several, or None."""
    clauses = [c for c in clauses if c is not None]
    return None if not clauses else clauses[0] if len(clauses) == 1 else wq.Or(clauses)


def filter_clauses(opts: SearchOptions) -> tuple | None:
    """The options' filters as Whoosh clauses, all required (AND across facets), or None without filters:
    any of a facet's values (an Or of them: lang, source, year), none of its excluded values (a Not),
    the date range."""
    langs = [wq.Term("lang", fold(v)) for v in opts.lang_values]
    sources = [_source_clause(v) for v in opts.source_values]
    clauses = [_any(langs), _any(sources), _any([_year_clause(y) for y in opts.years])]
    for excluded in (_any([wq.Term("lang", fold(v)) for v in opts.not_lang]),
                     _any([_source_clause(v) for v in opts.not_source]),
                     _any([_year_clause(y) for y in opts.not_year])):
        if excluded is not None:
            clauses.append(wq.Not(excluded))
    if opts.since or opts.until:
        clauses.append(wq.DateRange("date", opts.since, opts.until))
    return tuple(c for c in clauses if c is not None) or None


GROUPS_CACHE = 20_000  # duplicate groups whose members a FastMatcher remembers


class _Cache(dict):
    """A small cache of filters by their clauses: cleared when full (the same few filters recur)."""

    def put(self, key: Any, value: Any) -> Any:
        if len(self) > _CACHE_SIZE:
            self.clear()
        self[key] = value
        return value


def _walk(q):
    yield q
    for child in q.children():
        yield from _walk(child)


def fast_covers(compiled: Compiled, sort: str, schema) -> bool:
    """Whether :class:`FastMatcher` evaluates both forms of the query (else :class:`WhooshMatcher` does)."""
    for q in (compiled.must_query, compiled.any_query):
        if not fastpath.supported(q, schema):
            return False
        if q is not None and sort != "date" and any(isinstance(x, wq.Every) for x in _walk(q)):
            return False  # Every is scored by Whoosh in its own way: keep it there
    return True


class Match(Protocol):
    def __len__(self) -> int: ...

    def top(self, n: int) -> ranking.Ranked: ...


class Matcher(Protocol):
    searcher: Any

    def filter(self, clauses: tuple | None) -> Any: ...

    def match(self, q, filt: Any, sort: str, pool: int) -> Match: ...

    def facets(self, match: Match) -> dict[str, dict[str, int]]: ...

    def histogram(self, match: Match) -> dict[str, Any]: ...

    def lang_of(self, d: int) -> str: ...

    def positions(self, fname: str, t: str, docs: list[int]) -> dict[int, list[int]] | None: ...

    def idf(self, fname: str, t: str) -> float: ...

    def has(self, fname: str, t: str, docs: np.ndarray) -> np.ndarray: ...

    def field_lengths(self, fname: str, docs: np.ndarray) -> np.ndarray: ...

    def date_ticks(self) -> np.ndarray: ...

    def group_members(self, group: str) -> list[int]: ...


# ---------------------------------------------------------------------------------------------------------
# Whoosh


class _AllDocsTopCollector(collectors.TopCollector):
    """The top n documents by score, also recording every matching docnum (one pass for hits, total, facets).

    Block-quality skipping is off: the total and the facets need every match anyway.
    """

    def __init__(self, limit):
        super().__init__(limit=limit, usequality=False, replace=0)
        self.seen: list[int] = []

    def collect(self, sub_docnum):
        self.seen.append(self.offset + sub_docnum)
        return super().collect(sub_docnum)


class _AndNotMatcher(AndNotMatcher):
    """Whoosh 2.7.5's AndNotMatcher, its first document checked too: Whoosh moves the excluded matcher
    forward only when both start on the same document, so a first document that the excluded words reach
    later was kept ("Kindergarten -Grade" listed a statement saying "Grade")."""

    def _find_first(self):
        if self.a.is_active() and self.b.is_active():
            self._find_next()


class _AndNot(wq.AndNot):
    def matcher(self, searcher, context=None):
        return _AndNotMatcher(self.a.matcher(searcher, context),
                              self.b.matcher(searcher, searcher.boolean_context()))


def _fixed(q):
    """q with every AndNot evaluated by :class:`_AndNotMatcher`."""
    if isinstance(q, wq.AndNot):
        return _AndNot(_fixed(q.a), _fixed(q.b))
    return q.apply(_fixed)


class WhooshMatch:
    """Documents a query matches through Whoosh; the best ``pool`` of them kept from the same pass."""

    def __init__(self, matcher: WhooshMatcher, q, filt: set | None, sort: str, pool: int):
        self.q, self.filt, self.sort, self.pool = (None if q is None else _fixed(q)), filt, sort, pool
        self._s = matcher.searcher
        self.best: ranking.Ranked | None = None
        self.docs = self._collect() if q is not None else set()

    def __len__(self) -> int:
        return len(self.docs)

    def _collect(self) -> set:
        q, filt = self.q, self.filt
        if self.sort == "date":
            every = isinstance(q, wq.Every)
            docs = set(self._s.reader().all_doc_ids()) if every else set(q.docs(self._s))
        else:
            col = _AllDocsTopCollector(self.pool)
            self._s.search_with_collector(
                q, col if filt is None else collectors.FilterCollector(col, allow=filt))
            self.best = [(hit.docnum, hit.score or 0.0) for hit in col.results()]
            docs = set(col.seen)
        return docs & filt if filt is not None else docs

    def top(self, n: int) -> ranking.Ranked:
        if self.best is not None and n <= self.pool:
            return self.best[:n]
        kwargs: dict[str, Any] = {"limit": n, "filter": self.filt}
        if self.sort == "date":
            kwargs.update(sortedby="date", reverse=True)
        try:
            res = self._s.search(self.q, **kwargs)
        except (ValueError, TypeError):  # e.g. a sort column missing from an old index
            res = self._s.search(self.q, limit=n, filter=self.filt)
        if self.sort == "date":  # Whoosh puts the sort key (date ticks) in hit.score: not a score
            return [(hit.docnum, 0.0) for hit in res]
        return [(hit.docnum, hit.score or 0.0) for hit in res]


class WhooshMatcher:
    """Whoosh's matchers over the searcher; per-document columns read once."""

    def __init__(self, searcher):
        self.searcher = searcher
        self._columns: dict[str, list] = {}
        self._filters = _Cache()
        self._dates: np.ndarray | None = None

    def column(self, name: str) -> list:
        col = self._columns.get(name)
        if col is None:
            reader = self.searcher.reader()
            n = reader.doc_count_all()
            if reader.has_column(name):
                cr = reader.column_reader(name)

                def value(i):
                    try:
                        return cr[i]
                    except (OverflowError, ValueError):  # a date column's "no date" default
                        return None

                col = [value(i) for i in range(n)]
                if name in FACETS:
                    col = [v.decode("utf-8") if isinstance(v, bytes) else v for v in col]
            else:
                col = [None] * n
            self._columns[name] = col
        return col

    def filter(self, clauses: tuple | None) -> set | None:
        if not clauses:
            return None
        key = tuple(repr(c) for c in clauses)
        docs = self._filters.get(key)
        if docs is None:
            # Excluded values subtracted here: Whoosh's AndNot may keep a first document it should drop
            # (see _AndNotMatcher), and a lone Not would need every document listed.
            keep = [c for c in clauses if not isinstance(c, wq.Not)]
            if keep:
                docs = set(self.searcher.docs_for_query(keep[0] if len(keep) == 1 else wq.And(keep)))
            else:
                docs = set(self.searcher.reader().all_doc_ids())
            for c in clauses:
                if isinstance(c, wq.Not):
                    docs -= set(self.searcher.docs_for_query(c.query))
            docs = self._filters.put(key, docs)
        return docs

    def match(self, q, filt: set | None, sort: str, pool: int) -> WhooshMatch:
        return WhooshMatch(self, q, filt, sort, pool)

    def docs_facets(self, docs) -> dict[str, dict[str, int]]:
        out = {}
        for name in FACETS:
            col = self.column(name)
            out[name] = ranking.facet_counts(Counter(col[d] for d in docs).items(), name)
        return out

    def facets(self, match: WhooshMatch) -> dict[str, dict[str, int]]:
        return self.docs_facets(match.docs)

    def histogram(self, match: WhooshMatch) -> dict[str, Any]:
        """The matches by month or year (search.histogram)."""
        return date_histogram(self.date_ticks()[np.fromiter(match.docs, dtype=np.int64, count=len(match))])

    def lang_of(self, d: int) -> str:
        return self.column("lang")[d]

    def positions(self, fname: str, t: str, docs: list[int]) -> dict[int, list[int]] | None:
        """Positions of term t in each of docs (sorted) that has it; None when the index lacks t."""
        reader = self.searcher.reader()
        if (fname, t) not in reader:
            return None
        m = reader.postings(fname, t)
        found = {}
        for d in docs:
            if not m.is_active():
                break
            if m.id() < d:
                m.skip_to(d)
            if m.is_active() and m.id() == d:
                found[d] = m.value_as("positions")
        return found

    def idf(self, fname: str, t: str) -> float:
        return self.searcher.idf(fname, t)

    def has(self, fname: str, t: str, docs: np.ndarray) -> np.ndarray:
        """Whether each of docs contains term t in field fname."""
        out = np.zeros(len(docs), dtype=bool)
        reader = self.searcher.reader()
        if (fname, t) not in reader:
            return out
        m = reader.postings(fname, t)
        for k in np.argsort(docs, kind="stable").tolist():
            d = int(docs[k])
            if not m.is_active():
                break
            if m.id() < d:
                m.skip_to(d)
            out[k] = m.is_active() and m.id() == d
        return out

    def field_lengths(self, fname: str, docs: np.ndarray) -> np.ndarray:
        """Each of docs' (byte-quantised) length of field fname, in words."""
        reader = self.searcher.reader()
        return np.array([reader.doc_field_length(int(d), fname, 0) or 0 for d in docs], dtype=np.float64)

    def date_ticks(self) -> np.ndarray:
        if self._dates is None:
            self._dates = np.array([fastpath.ticks(v) if isinstance(v, dt.datetime) else NO_DATE
                                    for v in self.column("date")], dtype=np.int64)
        return self._dates

    def group_members(self, group: str) -> list[int]:
        return list(self.searcher.docs_for_query(wq.Term("group", group)))


# ---------------------------------------------------------------------------------------------------------
# numpy


class FastMatch:
    """Documents a query matches (ascending docnums) and the dense score vector they were cut from."""

    def __init__(self, arrays: fastpath.IndexArrays, docs: np.ndarray, scores: np.ndarray | None, sort: str):
        self.x, self.docs, self.scores, self.sort = arrays, docs, scores, sort

    def __len__(self) -> int:
        return int(len(self.docs))

    def top(self, n: int) -> ranking.Ranked:
        docs = self.docs
        if self.sort == "date":
            dates = self.x.dates[docs]
            dates = np.where(dates == NO_DATE, np.iinfo(np.int64).max, dates)
            order = np.lexsort((-docs, -dates))[:n]  # newest first, then as Whoosh: higher docnum first
            return [(int(d), 0.0) for d in docs[order]]
        best, sc = fastpath.top(docs, self.scores[docs], n)
        return list(zip(best.tolist(), sc.tolist(), strict=True))


class FastMatcher:
    """The numpy evaluator over cached postings (see :mod:`search.fastpath`)."""

    def __init__(self, searcher, cache_bytes: int):
        self.searcher = searcher
        self.x = fastpath.IndexArrays(searcher, cache_bytes)
        self.evaluator = fastpath.Evaluator(self.x, ranking.BM25_B, ranking.BM25_K1)
        self._masks = _Cache()
        self._members: dict[str, list[int]] = {}  # duplicate groups' members, by group (bounded)
        self._langs: list[str] | None = None

    def warnings(self) -> list[str]:
        """One line for each postings sidecar found damaged so far (at opening or while reading it): its
        segment is searched through Whoosh's postings, the same answers, slower."""
        return [f"postings sidecar {p}: its segment is searched without it until `presse index` or "
                "`presse optimize` writes it again" for p in self.x.sidecar_problems] + self.x.tables.problems

    def filter(self, clauses: tuple | None) -> np.ndarray | None:
        """The documents the filters let through (and not deleted), as a mask; None: all of them."""
        fx = self.x
        if not clauses:
            return fx.live
        key = tuple(repr(c) for c in clauses)
        if key in self._masks:
            return self._masks[key]
        mask = np.ones(fx.n, dtype=bool) if fx.live is None else fx.live.copy()
        for c in clauses:
            mask &= self._mask(c)
        return self._masks.put(key, mask)

    def _mask(self, c) -> np.ndarray:
        """The documents one filter clause lets through (deleted ones included: the caller drops them)."""
        fx = self.x
        if isinstance(c, wq.Not):
            return ~self._mask(c.query)
        if isinstance(c, wq.Or):
            mask = np.zeros(fx.n, dtype=bool)
            for child in c.children():
                mask |= self._mask(child)
            return mask
        if isinstance(c, wq.Term) and c.fieldname == "lang":
            codes, _ = fx.codes("lang")
            code = fx.code_of("lang", c.text) if c.text else None
            return (codes == code) if code is not None else np.zeros(fx.n, dtype=bool)
        if isinstance(c, wq.DateRange):
            dates = fx.dates
            mask = dates != NO_DATE
            if c.startdate is not None:
                mask &= dates >= fastpath.ticks(c.startdate)
            if c.enddate is not None:
                mask &= dates <= fastpath.ticks(c.enddate)
            return mask
        return self._source_mask(c)

    def _source_mask(self, c) -> np.ndarray:
        """The documents a source clause (a Term, or an And of Terms, on source_text) matches."""
        fx = self.x
        words = [c.text] if isinstance(c, wq.Term) else [t.text for t in c.children()]
        postings = [fx.postings("source_text", w) for w in words]
        mask = np.zeros(fx.n, dtype=bool)
        cand = postings[0].ids
        for p in postings[1:]:
            cand = np.intersect1d(cand, p.ids, assume_unique=True)
        mask[cand] = True
        return mask

    def match(self, q, filt: np.ndarray | None, sort: str, pool: int) -> FastMatch:
        if q is None:
            return FastMatch(self.x, np.zeros(0, dtype=np.int64), None, sort)
        mask, score = self.evaluator.evaluate(q)
        if filt is not None:
            mask = mask & filt
        return FastMatch(self.x, np.flatnonzero(mask), score, sort)

    def facets(self, match: FastMatch) -> dict[str, dict[str, int]]:
        out = {}
        for name in FACETS:
            codes, values = self.x.codes(name)
            counts = np.bincount(codes[match.docs], minlength=len(values))
            items = ((values[i], int(counts[i])) for i in np.flatnonzero(counts))
            out[name] = ranking.facet_counts(items, name)
        return out

    def histogram(self, match: FastMatch) -> dict[str, Any]:
        """The matches by month or year (search.histogram)."""
        return date_histogram(self.x.dates[match.docs])

    def lang_of(self, d: int) -> str:
        if self._langs is None:  # every document's language as a list: ranking asks for hundreds a query
            langs, values = self.x.codes("lang")
            self._langs = np.array(values, dtype=object)[langs].tolist()  # in C: ~1 ms, not ~4 ms
        return self._langs[d]

    def positions(self, fname: str, t: str, docs: list[int]) -> dict[int, list[int]] | None:
        """Positions of a cached posting list's term in each of docs that has it; None for an absent term."""
        p = self.x.postings(fname, t)
        if not len(p.ids):
            return None
        if p.table is None:
            return {}
        want = np.asarray(docs, dtype=np.int64)
        idx = np.minimum(np.searchsorted(p.ids, want), len(p.ids) - 1)
        hit = p.ids[idx] == want
        return dict(zip(want[hit].tolist(), p.positions_of(idx[hit].tolist()), strict=True))

    def idf(self, fname: str, t: str) -> float:
        return self.searcher.idf(fname, t)

    def has(self, fname: str, t: str, docs: np.ndarray) -> np.ndarray:
        """Whether each of docs contains term t in field fname (a search in the cached posting list)."""
        ids = self.x.postings(fname, t).ids
        if not len(ids):
            return np.zeros(len(docs), dtype=bool)
        idx = np.minimum(np.searchsorted(ids, docs), len(ids) - 1)
        return ids[idx] == docs

    def field_lengths(self, fname: str, docs: np.ndarray) -> np.ndarray:
        """Each of docs' (byte-quantised) length of field fname, in words."""
        return self.x.lengths(fname)[docs]

    def date_ticks(self) -> np.ndarray:
        return self.x.dates

    def group_members(self, group: str) -> list[int]:
        """A duplicate group's live members (remembered: a shown statement's group is read again by the next
        page and by the queries that find it again, and groups are small)."""
        got = self._members.get(group)
        if got is None:
            if len(self._members) >= GROUPS_CACHE:
                self._members.clear()
            got = self._members[group] = self.x.members("group", group)
        return list(got)
