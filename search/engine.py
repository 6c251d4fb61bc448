"""The searcher: open an index once, then run many queries against it.

Matching. The words of a query are all required first (AND), as web search users expect. When that finds
fewer statements than a page holds (``limit``), the statements that match only some of the words are ranked
below them by BM25 (OR): the result says so with ``mode == "any"`` (``"all"`` otherwise). Words that are
stopwords in French or English (articles, question words such as "qu'est-ce", "comment", "quelles") are not
required. Explicit operators (AND/ET, OR/OU, NOT/SAUF, -word) are always honoured as written.

Ranking. BM25F over per-language title and body fields, the title boosted (``field_boost`` 3 in the schema),
plus a bonus for statements where the words appear close together in order (a phrase query with slop, as a
SHOULD clause). ``recency`` (0..1) blends in freshness: the top BM25 candidates are re-ranked by
``(1 - recency) * score / best + recency * 0.5 ** (age_days / 365)``. ``sort="date"`` lists newest first.

Duplicates. Statements with the same ``group`` (same title and date, e.g. posted by two offices) are shown
once; the others are listed in the hit's ``duplicates``.

Facets (``lang``, ``source``, ``year``) and ``total`` count the whole result set, not the page.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import struct
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from whoosh import collectors, scoring
from whoosh import index as windex
from whoosh import query as wq

from indexer import safe_pickle
from indexer.analysis import LANGS, fold
from search import fastpath
from search.query import Compiled, compile_query, parse_date_bound, prune
from search.snippets import Snippeter
from search.spelling import Speller

BM25_B = 0.3
BM25_K1 = 1.6
RECENCY_POOL = 200
PROXIMITY_POOL = 50  # how many of the best BM25 candidates get the proximity bonus
PROXIMITY_WINDOW = 5  # words
PROXIMITY_WEIGHT = 0.5
# Queries of more plain words than this read as sentences (questions): AND-first is not forced on them.
LONG_QUERY_WORDS = 3
LONG_MODE = "blend"  # "blend": AND if it fills a page, else plain BM25 over any word; "or": always BM25 OR
SORTS = ("relevance", "date")


class BM25(scoring.BM25F):
    """Whoosh's BM25F with the usual BM25 idf, log(1 + (N - n + 0.5) / (n + 0.5)).

    Whoosh's own idf, log(N / (n + 1)) + 1, gives very common words far too much weight: on the
    service-public questions it costs 0.1 of MRR@10.
    """

    def idf(self, searcher, fieldname, text):
        parent = searcher.get_parent()
        n = parent.doc_frequency(fieldname, text)
        dc = parent.doc_count_all()
        return math.log(1.0 + (dc - n + 0.5) / (n + 0.5))


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


class SearchError(Exception):
    """A problem the user can fix, in one sentence: no index, bad date, unknown id, bad option."""


class IndexUnavailable(SearchError):
    """The index cannot be read: damaged, or refused (it would run code). Not the query's fault: the web app
    may answer it with a 503 rather than a 400."""


@dataclass
class Results:
    query: str
    total: int
    hits: list[dict[str, Any]]
    facets: dict[str, dict[str, int]]
    suggestion: str | None = None
    mode: str = "all"
    page: int = 1
    limit: int = 10
    sort: str = "relevance"
    extra: dict[str, Any] = field(default_factory=dict)

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
            "mode": self.mode,
            "page": self.page,
            "pages": self.pages,
            "limit": self.limit,
            "sort": self.sort,
        }
        d.update(self.extra)
        return d


def parse_date_option(value: str | None, *, end: bool = False, name: str = "date") -> dt.datetime | None:
    """--since/--until values: YYYY, YYYY-MM or YYYY-MM-DD (a datetime or date passes through)."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, *((23, 59, 59) if end else ()))
    try:
        return parse_date_bound(str(value), end=end)
    except (ValueError, OverflowError):
        raise SearchError(f"Bad {name} {value!r}: use YYYY, YYYY-MM or YYYY-MM-DD.") from None


def _open(index_dir: str | Path):
    """The index, opened by :func:`indexer.open_index`: checked for ownership, code in its pickles and
    damaged files before use."""
    from indexer import IndexMissing, open_index

    try:
        return open_index(index_dir)
    except IndexMissing as e:  # none there, damaged, or refused (indexer.integrity, indexer.trust)
        raise (SearchError if type(e) is IndexMissing else IndexUnavailable)(str(e)) from None
    except FileNotFoundError:
        raise  # a commit replaced the generation being opened: _open_searcher opens the new one
    except (OSError, windex.IndexError) as e:
        raise SearchError(f"Cannot open the index in {index_dir}: {e}") from None


def _open_searcher(index_dir: Path, weighting, attempts: int = 5):
    """The index and a searcher on its latest commit. A commit that lands while they open deletes the
    table of contents (or segment files) of the generation being opened: that generation is gone, so
    open again, on the new one."""
    for attempt in range(attempts):
        ix = None
        try:
            ix = _open(index_dir)
            return ix, ix.searcher(weighting=weighting)
        except FileNotFoundError as e:
            if ix is not None:
                ix.close()
            if attempt == attempts - 1:
                raise SearchError(f"Cannot open the index in {index_dir}: {e}") from None
        except (OSError, windex.IndexError) as e:
            if ix is not None:
                ix.close()
            raise SearchError(f"Cannot open the index in {index_dir}: {e}") from None
    raise AssertionError("unreachable")


def _index_errors(method):
    """Data that reading refuses or cannot decode surfaces as one :class:`SearchError` sentence: a pickle
    that would run code (never run), or a damaged file the open-time check could not see."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except safe_pickle.ForbiddenPickle as e:
            from indexer.trust import UnsafeIndex
            raise IndexUnavailable(str(UnsafeIndex(self.index_dir, e.global_name, self.index_dir))) from None
        except (safe_pickle.IndexDataError, struct.error, zlib.error, EOFError) as e:
            from indexer import IndexDamaged
            problem = e.problem if isinstance(e, safe_pickle.CorruptPickle) else (
                f"does not read ({type(e).__name__}: {e})")
            raise IndexUnavailable(str(IndexDamaged(self.index_dir, "an index file", problem))) from None

    return wrapper


class Searcher:
    """A reusable searcher over one index directory. Not thread-safe: one per thread."""

    def __init__(self, index_dir: str | Path | None = None, *, snippeter: Snippeter | None = None,
                 fast: bool = True, cache_bytes: int = fastpath.DEFAULT_CACHE_BYTES):
        if index_dir is None:
            try:
                from indexer import default_index_dir
                index_dir = default_index_dir()
            except ImportError:
                raise SearchError("No index directory given.") from None
        self.index_dir = Path(index_dir)
        self._weighting = BM25(B=BM25_B, K1=BM25_K1)
        self._ix, self._s = _open_searcher(self.index_dir, self._weighting)
        self.snippeter = snippeter or Snippeter()
        self.fast = fast  # False: always the Whoosh collectors (the reference for the fast path)
        self.cache_bytes = cache_bytes
        self._reset_caches()

    # -- lifecycle --------------------------------------------------------------------------------------

    def _reset_caches(self):
        self._columns: dict[str, list] = {}
        self._filter_cache: dict[tuple, set] = {}
        self._mask_cache: dict[tuple, np.ndarray | None] = {}
        self._arrays: fastpath.IndexArrays | None = None
        self._evaluator: fastpath.Evaluator | None = None
        self.speller = Speller(self._s)

    def _fast(self) -> tuple[fastpath.IndexArrays, fastpath.Evaluator]:
        if self._arrays is None:
            self._arrays = fastpath.IndexArrays(self._s, self.cache_bytes)
            self._evaluator = fastpath.Evaluator(self._arrays, BM25_B, BM25_K1)
        return self._arrays, self._evaluator

    def refresh(self) -> bool:
        """Reopen the index if it changed on disk; True when it did. Cheap when nothing changed.

        The new generation is opened as the first one was (:func:`_open`: ownership, the pickle allowlist,
        the quick check of its files): one that fails raises :class:`SearchError`, and this searcher keeps
        the old one."""
        try:
            if self._s.up_to_date():
                return False
        except (OSError, windex.IndexError):
            return False
        # A new index and searcher, not Whoosh's searcher.refresh(): that one keeps the old segment readers
        # and their old deletion lists (deleted and replaced statements would stay visible), and reads the
        # new table of contents with no check.
        ix = None
        try:
            ix = _open(self.index_dir)
            new = ix.searcher(weighting=self._weighting)
        except (OSError, windex.IndexError):  # a commit is replacing that generation: next time
            if ix is not None:
                ix.close()
            return False
        (old, self._s), old_ix, self._ix = (self._s, new), self._ix, ix
        old.close()
        old_ix.close()
        self._reset_caches()
        return True

    def close(self):
        self._s.close()
        self._ix.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def doc_count(self) -> int:
        return self._s.doc_count()

    # -- per-document columns ---------------------------------------------------------------------------

    def _column(self, name: str) -> list:
        col = self._columns.get(name)
        if col is None:
            reader = self._s.reader()
            n = reader.doc_count_all()
            if reader.has_column(name):
                cr = reader.column_reader(name)

                def value(i):
                    try:
                        return cr[i]
                    except (OverflowError, ValueError):  # a date column's "no date" default
                        return None

                col = [value(i) for i in range(n)]
                if name in ("lang", "source", "year"):
                    col = [v.decode("utf-8") if isinstance(v, bytes) else v for v in col]
            else:
                col = [None] * n
            self._columns[name] = col
        return col

    def _facets(self, docnums) -> dict[str, dict[str, int]]:
        out = {}
        for name in ("lang", "source", "year"):
            col = self._column(name)
            counts = Counter(col[d] for d in docnums)
            counts.pop(None, None)
            counts.pop("", None)
            key = (lambda kv: (-int(kv[0]) if kv[0].isdigit() else 0, kv[0])) if name == "year" else (
                lambda kv: (-kv[1], kv[0]))
            out[name] = dict(sorted(counts.items(), key=key))
        return out

    # -- filters ----------------------------------------------------------------------------------------

    def _filter_spec(self, lang, source, since, until) -> tuple | None:
        """The filter clauses (validated), or None without filters."""
        clauses = []
        if lang:
            clauses.append(wq.Term("lang", fold(lang)))
        if source:
            from search.query import _analyse
            terms = [t for _, t in _analyse(source, "xx")]
            if terms:
                clauses.append(wq.Term("source_text", terms[0]) if len(terms) == 1
                               else wq.Phrase("source_text", terms))
        start = parse_date_option(since, name="--since date")
        end = parse_date_option(until, end=True, name="--until date")
        if start and end and start > end:
            raise SearchError("The --since date is after the --until date.")
        if start or end:
            clauses.append(wq.DateRange("date", start, end))
        return tuple(clauses) or None

    def _filter(self, lang, source, since, until) -> set | None:
        return self._filter_docs(self._filter_spec(lang, source, since, until))

    def _filter_docs(self, clauses) -> set | None:
        if not clauses:
            return None
        key = tuple(repr(c) for c in clauses)
        docs = self._filter_cache.get(key)
        if docs is None:
            q = clauses[0] if len(clauses) == 1 else wq.And(clauses)
            docs = set(self._s.docs_for_query(q))
            if len(self._filter_cache) > 64:
                self._filter_cache.clear()
            self._filter_cache[key] = docs
        return docs

    # -- search -----------------------------------------------------------------------------------------

    @_index_errors
    def search(self, query: str, *, lang: str | None = None, source: str | None = None,
               since: str | None = None, until: str | None = None, sort: str = "relevance",
               limit: int = 10, page: int = 1, recency: float = 0.0) -> Results:
        """Search; see the module docstring for matching, ranking, duplicates and facets."""
        if sort not in SORTS:
            raise SearchError(f"Unknown sort {sort!r}: use relevance or date.")
        try:
            limit = int(limit)
            page = int(page)
            recency = float(recency or 0.0)
        except (TypeError, ValueError):
            raise SearchError("limit and page must be whole numbers, recency a number.") from None
        if limit < 1 or page < 1:
            raise SearchError("limit and page must be at least 1.")
        if not 0.0 <= recency <= 1.0:
            raise SearchError("recency must be between 0 and 1.")
        limit = min(limit, 1000)
        query = query or ""
        spec = self._filter_spec(lang, source, since, until)
        compiled = compile_query(query)
        base = Results(query=query, total=0, hits=[], facets={"lang": {}, "source": {}, "year": {}},
                       page=page, limit=limit, sort=sort)
        if compiled.must_query is None:
            if not query.strip() and spec is not None:  # filters only: list them, newest first
                compiled.must_query = compiled.any_query = wq.Every()
                sort = "date" if sort == "relevance" and recency == 0 else sort
            else:
                base.suggestion = self.speller.suggest(query, compiled.words) if compiled.words else None
                return base

        reader = self._s.reader()
        compiled.must_query = prune(compiled.must_query, reader)
        compiled.any_query = prune(compiled.any_query, reader)
        long_query = len(set(compiled.words)) > LONG_QUERY_WORDS
        if long_query and LONG_MODE == "or" and compiled.any_query is not None:
            compiled.must_query = compiled.any_query
        self._pool = max(page * limit * 2 + 10, RECENCY_POOL if recency else 0, PROXIMITY_POOL)
        if self._fast_ok(compiled, sort, recency):
            try:
                return self._search_fast(compiled, spec, sort, recency, page, limit, query, base, long_query)
            except fastpath.Unsupported:
                pass
        filt = self._filter_docs(spec)
        self._tops = {}
        must_docs = self._docset(compiled.must_query, filt, sort)
        mode = "all"
        docs = must_docs
        widen = compiled.any_query is not None and compiled.any_query != compiled.must_query
        if len(must_docs) < limit and widen:
            any_docs = self._docset(compiled.any_query, filt, sort)
            if len(any_docs) > len(must_docs):
                mode = "any"
                docs = any_docs
        base.mode = mode
        base.total = len(docs)
        base.facets = self._facets(docs)
        if compiled.words and (len(must_docs) < limit or mode == "any"):
            base.suggestion = self.speller.suggest(query, compiled.words)
        if not docs:
            return base

        if mode == "any" and long_query:  # a sentence: BM25 over any word, all-word matches not forced
            compiled.must_query = compiled.any_query
            must_docs = docs
            mode_rank = "all"
        else:
            mode_rank = mode
        ranked = self._rank(compiled, must_docs, docs, mode_rank, filt, sort, recency, page * limit)
        base.hits = self._page(ranked, page, limit, compiled)
        base.extra["collapsed"] = self._collapsed
        return base

    # -- the fast path (numpy over cached postings; see search.fastpath) -----------------------------------

    def _fast_ok(self, compiled: Compiled, sort, recency) -> bool:
        if not self.fast:
            return False
        schema = self._s.schema
        for q in (compiled.must_query, compiled.any_query):
            if not fastpath.supported(q, schema):
                return False
            if q is not None and sort != "date" and any(isinstance(x, wq.Every) for x in _walk(q)):
                return False  # Every is scored by Whoosh in its own way: keep it there
        return True

    def _filter_mask(self, spec) -> np.ndarray | None:
        """The documents the filters let through (and not deleted), as a mask; None: all of them."""
        fx, _ = self._fast()
        if not spec:
            return fx.live
        key = tuple(repr(c) for c in spec)
        if key in self._mask_cache:
            return self._mask_cache[key]
        mask = np.ones(fx.n, dtype=bool) if fx.live is None else fx.live.copy()
        for c in spec:
            if isinstance(c, wq.Term) and c.fieldname == "lang":
                codes, _ = fx.codes("lang")
                code = fx.code_of("lang", c.text) if c.text else None
                mask &= (codes == code) if code is not None else False
            elif isinstance(c, wq.DateRange):
                dates = fx.dates
                mask &= dates != fastpath.NO_DATE
                if c.startdate is not None:
                    mask &= dates >= fastpath.ticks(c.startdate)
                if c.enddate is not None:
                    mask &= dates <= fastpath.ticks(c.enddate)
            else:
                mask &= self._source_mask(c)
        if len(self._mask_cache) > 64:
            self._mask_cache.clear()
        self._mask_cache[key] = mask
        return mask

    def _source_mask(self, c) -> np.ndarray:
        """The documents a --source clause (a Term or Phrase on source_text) matches.

        source_text is the source, so documents with the same source value match alike: the phrase is
        checked on one document per source value, not on every candidate.
        """
        fx, _ = self._fast()
        words = [c.text] if isinstance(c, wq.Term) else list(c.words)
        postings = [fx.postings("source_text", w) for w in words]
        mask = np.zeros(fx.n, dtype=bool)
        cand = postings[0].ids
        for p in postings[1:]:
            cand = np.intersect1d(cand, p.ids, assume_unique=True)
        if len(words) > 1 and len(cand):
            codes, _ = fx.codes("source")
            cc = codes[cand]
            uniq, first = np.unique(cc, return_index=True)
            ok = [code for code, i in zip(uniq.tolist(), first.tolist(), strict=True)
                  if _in_a_row([p.positions(int(cand[i])) or [] for p in postings])]
            cand = cand[np.isin(cc, ok)]
        mask[cand] = True
        return mask

    def _facets_fast(self, docs: np.ndarray) -> dict[str, dict[str, int]]:
        fx, _ = self._fast()
        out = {}
        for name in ("lang", "source", "year"):
            codes, values = fx.codes(name)
            counts = np.bincount(codes[docs], minlength=len(values))
            items = [(values[i], int(counts[i])) for i in np.flatnonzero(counts) if values[i]]
            key = (lambda kv: (-int(kv[0]) if kv[0].isdigit() else 0, kv[0])) if name == "year" else (
                lambda kv: (-kv[1], kv[0]))
            out[name] = dict(sorted(items, key=key))
        return out

    def _top_fast(self, docs: np.ndarray, scores: np.ndarray, n: int, sort) -> list[tuple[int, float]]:
        """(docnum, score) of the n best of docs (scores: the dense score vector)."""
        if sort == "date":
            fx, _ = self._fast()
            dates = fx.dates[docs]
            dates = np.where(dates == fastpath.NO_DATE, np.iinfo(np.int64).max, dates)
            order = np.lexsort((-docs, -dates))[:n]  # newest first, then as Whoosh: higher docnum first
            return [(int(d), 0.0) for d in docs[order]]
        best, sc = fastpath.top(docs, scores[docs], n)
        return list(zip(best.tolist(), sc.tolist(), strict=True))

    def _search_fast(self, compiled: Compiled, spec, sort, recency, page, limit, query, base, long_query):
        """search() after parsing, on numpy arrays: same matching, scores, ranking, facets and pages."""
        fx, ev = self._fast()
        fmask = self._filter_mask(spec)

        def run(q):
            if q is None:
                return np.zeros(0, dtype=np.int64), None
            mask, score = ev.evaluate(q)
            if fmask is not None:
                mask = mask & fmask
            return np.flatnonzero(mask), score

        must_q, any_q = compiled.must_query, compiled.any_query
        must_docs, must_scores = run(must_q)
        mode = "all"
        docs = must_docs
        any_docs = any_scores = None
        widen = any_q is not None and any_q != must_q
        if len(must_docs) < limit and widen:
            any_docs, any_scores = run(any_q)
            if len(any_docs) > len(must_docs):
                mode = "any"
                docs = any_docs
        base.mode = mode
        base.total = int(len(docs))
        base.facets = self._facets_fast(docs)
        if compiled.words and (len(must_docs) < limit or mode == "any"):
            base.suggestion = self.speller.suggest(query, compiled.words)
        if not len(docs):
            return base
        if mode == "any" and long_query:  # a sentence: BM25 over any word, all-word matches not forced
            must_docs, must_scores = any_docs, any_scores
            mode_rank = "all"
        else:
            mode_rank = mode

        n = self._pool
        first = self._top_fast(must_docs, must_scores, n, sort) if len(must_docs) else []
        if mode_rank == "all":
            ranked = first
        else:
            seen = {d for d, _ in first}
            more = self._top_fast(any_docs, any_scores, n + len(first), sort)
            ranked = first + [(d, s) for d, s in more if d not in seen]
        n_must = len(must_docs) if mode_rank == "any" else None
        if sort == "relevance" and compiled.proximity and ranked:
            langs, values = fx.codes("lang")
            lang_of = lambda d: values[langs[d]]  # noqa: E731
            positions = lambda fname, t, docs: _positions_from(fx.postings(fname, t), docs)  # noqa: E731
            if n_must is None:
                ranked = self._proximity_rerank(ranked, compiled, lang_of, positions)
            else:
                ranked = self._proximity_rerank(ranked[:n_must], compiled, lang_of, positions) + \
                    self._proximity_rerank(ranked[n_must:], compiled, lang_of, positions)
        if recency and sort == "relevance" and ranked:
            now = fastpath.ticks(dt.datetime.now())
            fresh_all = fastpath.freshness(fx.dates, now)
            ranked = self._blend_recency(ranked, recency, n_must, lambda d: float(fresh_all[d]))
        base.hits = self._page_fast(ranked, page, limit, compiled)
        base.extra["collapsed"] = self._collapsed
        return base

    def _page_fast(self, ranked, page, limit, compiled: Compiled) -> list[dict]:
        """_page with duplicate groups from the cached group postings."""
        fx, _ = self._fast()
        return self._page(ranked, page, limit, compiled,
                          members_of=lambda group: fx.postings("group", group).ids.tolist())

    # -- the Whoosh path --------------------------------------------------------------------------------

    def _docset(self, q, filt, sort) -> set:
        """Every document matching q (and the filter); the best ones are kept for _top, same pass."""
        if q is None:
            return set()
        if sort == "date":
            every = isinstance(q, wq.Every)
            docs = set(self._s.reader().all_doc_ids()) if every else set(q.docs(self._s))
            if filt is not None:
                docs &= filt
            return docs
        col = _AllDocsTopCollector(self._pool)
        self._s.search_with_collector(q, col) if filt is None else \
            self._s.search_with_collector(q, collectors.FilterCollector(col, allow=filt))
        res = col.results()
        self._tops[id(q)] = (q, [(hit.docnum, hit.score or 0.0) for hit in res])
        docs = set(col.seen)
        if filt is not None:
            docs &= filt
        return docs

    def _top(self, q, filt, n, sort):
        """(docnum, score) of the n best documents for q."""
        cached = self._tops.get(id(q))
        if cached is not None and cached[0] is q and sort != "date" and n <= self._pool:
            return cached[1][:n]
        kwargs = {"limit": n, "filter": filt}
        if sort == "date":
            kwargs.update(sortedby="date", reverse=True)
        try:
            res = self._s.search(q, **kwargs)
        except (ValueError, TypeError):  # e.g. a sort column missing from an old index
            res = self._s.search(q, limit=n, filter=filt)
        if sort == "date":  # Whoosh puts the sort key (date ticks) in hit.score: not a score
            return [(hit.docnum, 0.0) for hit in res]
        return [(hit.docnum, hit.score or 0.0) for hit in res]

    def _rank(self, compiled: Compiled, must_docs, docs, mode, filt, sort, recency, need):
        """The ranked docnums, enough of them to fill `need` groups (plus some slack for duplicates)."""
        n = self._pool
        if mode == "all":
            ranked = self._top(compiled.must_query, filt, n, sort) if must_docs else []
        else:
            first = self._top(compiled.must_query, filt, n, sort) if must_docs else []
            seen = {d for d, _ in first}
            more = self._top(compiled.any_query, filt, n + len(first), sort)
            rest = [(d, s) for d, s in more if d not in seen]
            ranked = first + rest
            if sort == "date":
                pass  # AND matches first, each part newest first
        if sort == "relevance" and compiled.proximity and ranked:
            n_must = len(must_docs) if mode == "any" else None
            if n_must is None:
                ranked = self._proximity_rerank(ranked, compiled)
            else:
                ranked = self._proximity_rerank(ranked[:n_must], compiled) + \
                    self._proximity_rerank(ranked[n_must:], compiled)
        if recency and sort == "relevance" and ranked:
            ranked = self._blend_recency(ranked, recency, len(must_docs) if mode == "any" else None)
        return ranked

    def _proximity_rerank(self, ranked, compiled: Compiled, lang_of=None, positions_of=None):
        """Add a bonus to the best candidates whose query words stand close together.

        For each pair of consecutive query words (in query order) found within PROXIMITY_WINDOW words of
        each other in the title or body: PROXIMITY_WEIGHT * (mean idf of the pair) / distance. Positions
        come straight from the postings, for the PROXIMITY_POOL best candidates only.
        """
        if len(ranked) < 2:
            return ranked
        head, tail = ranked[:PROXIMITY_POOL], ranked[PROXIMITY_POOL:]
        if lang_of is None:
            langs = self._column("lang")
            lang_of = langs.__getitem__
        if positions_of is None:
            positions_of = self._positions_whoosh
        by_lang: dict[str, list[int]] = {}
        for d, _ in head:
            lang = lang_of(d)
            by_lang.setdefault(lang if lang in LANGS else "xx", []).append(d)
        bonus: dict[int, float] = {}
        for tl, docs in by_lang.items():
            terms = compiled.proximity.get(tl)
            if not terms:
                continue
            docs.sort()
            for kind in ("title", "body"):
                fname = f"{kind}_{tl}"
                positions: dict[str, dict[int, list[int]]] = {}
                for t in set(terms):
                    found = positions_of(fname, t, docs)
                    if found is not None:
                        positions[t] = found
                for a, b in zip(terms, terms[1:], strict=False):
                    if a == b or a not in positions or b not in positions:
                        continue
                    weight = PROXIMITY_WEIGHT * (self._s.idf(fname, a) + self._s.idf(fname, b)) / 2
                    pa, pb = positions[a], positions[b]
                    for d in docs:
                        if d in pa and d in pb:
                            dist = _min_distance(pa[d], pb[d])
                            if dist <= PROXIMITY_WINDOW:
                                bonus[d] = bonus.get(d, 0.0) + weight / max(1, dist)
        if not bonus:
            return ranked
        head = sorted(((d, s + bonus.get(d, 0.0)) for d, s in head), key=lambda x: -x[1])
        return head + tail

    def _positions_whoosh(self, fname, t, docs) -> dict[int, list[int]] | None:
        """Positions of term t in each of docs (sorted) that has it; None when the index lacks t."""
        reader = self._s.reader()
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

    def _blend_recency(self, ranked, recency, n_must, fresh=None):
        if fresh is None:
            dates = self._column("date")
            now = dt.datetime.now()

            def fresh(d):
                v = dates[d]
                if not isinstance(v, dt.datetime):
                    return 0.0
                return 0.5 ** (max(0, (now - v).days) / 365.0)

        def blend(part):
            if not part:
                return []
            best = max(s for _, s in part) or 1.0
            scored = [(d, (1 - recency) * (s / best) + recency * fresh(d)) for d, s in part]
            return sorted(scored, key=lambda x: -x[1])

        if n_must is None:
            return blend(ranked)
        return blend(ranked[:n_must]) + blend(ranked[n_must:])

    def _page(self, ranked, page, limit, compiled: Compiled | None, members_of=None) -> list[dict]:
        """Collapse duplicates, cut the page, build its hits (snippets only for the page shown).

        ``members_of(group)`` lists the docnums of a duplicate group (Whoosh's postings by default)."""
        if members_of is None:
            def members_of(group):
                return list(self._s.docs_for_query(wq.Term("group", group)))
        shown: list[tuple[int, float, list[int]]] = []
        consumed: set[int] = set()
        stored: dict[int, dict] = {}
        start = (page - 1) * limit
        stop = start + limit
        self._collapsed = 0
        for d, score in ranked:
            if d in consumed:
                self._collapsed += 1
                continue
            consumed.add(d)
            fields = stored[d] = self._s.stored_fields(d)
            group = fields.get("group")
            members: list[int] = []
            if group:
                members = [m for m in members_of(group) if m != d]
                consumed.update(members)
            shown.append((d, score, members))
            if len(shown) >= stop:
                break
        return [self._hit(d, score, members, compiled, stored.get(d))
                for d, score, members in shown[start:stop]]

    def _hit(self, d, score, members, compiled: Compiled | None, fields=None) -> dict:
        if fields is None:
            fields = self._s.stored_fields(d)
        body = _body(fields)
        lang = fields.get("lang") or ""
        tl = lang if lang in LANGS else "xx"
        title = fields.get("title") or ""
        hit = {
            "id": fields.get("id"),
            "url": fields.get("url") or "",
            "title": title or _title_from_body(body),
            "date": _date_str(fields.get("date")),
            "lang": lang,
            "source": fields.get("source") or "",
            "place": fields.get("place") or "",
            "score": round(float(score), 4),
            "snippet": "",
            "duplicates": [],
        }
        if compiled is not None:
            terms, prefixes = compiled.highlight.get(tl, (frozenset(), ()))
            hit["snippet"] = self.snippeter.snippet(body, title, tl, terms, prefixes)
        else:
            hit["snippet"] = self.snippeter.lead(body)
        for m in members:
            mf = self._s.stored_fields(m)
            hit["duplicates"].append({"id": mf.get("id"), "source": mf.get("source") or "",
                                      "url": mf.get("url") or ""})
        from search.links import attach_link  # translation links (search/links.py)
        attach_link(self, hit, fields)
        return hit

    # -- statements -------------------------------------------------------------------------------------

    def _docnum(self, id) -> int | None:
        if id is None:
            return None
        return self._s.document_number(id=str(id))

    @_index_errors
    def statement(self, id) -> dict | None:
        """All stored fields of a statement, body decompressed and date as YYYY-MM-DD; None if unknown."""
        d = self._docnum(id)
        if d is None:
            return None
        fields = dict(self._s.stored_fields(d))
        fields["body"] = _body(fields)
        fields.pop("body_z", None)
        fields["date"] = _date_str(fields.get("date"))
        return fields

    @_index_errors
    def related(self, id, *, limit: int = 10) -> Results:
        """Statements most like a given one (more-like-this over its language's body and title terms)."""
        d = self._docnum(id)
        if d is None:
            raise SearchError(f"No statement with id {id!r} in the index.")
        fields = self._s.stored_fields(d)
        lang = fields.get("lang") or ""
        tl = lang if lang in LANGS else "xx"
        text = (fields.get("title") or "") + "\n" + _body(fields)
        kts = self._s.key_terms_from_text(f"body_{tl}", text, numterms=15)
        res = Results(query=f"related:{id}", total=0, hits=[], facets={"lang": {}, "source": {}, "year": {}},
                      limit=limit, mode="related")
        if not kts:
            return res
        clauses = []
        for term, weight in kts:
            clauses.append(wq.Term(f"body_{tl}", term, boost=weight))
            clauses.append(wq.Term(f"title_{tl}", term, boost=weight))
        q = wq.Or(clauses)
        exclude = {d}
        if fields.get("group"):
            exclude |= set(self._s.docs_for_query(wq.Term("group", fields["group"])))
        docs = set(q.docs(self._s)) - exclude
        res.total = len(docs)
        res.facets = self._facets(docs)
        hits = self._s.search(q, limit=limit * 2 + len(exclude) + 10, mask=exclude)
        ranked = [(h.docnum, h.score or 0.0) for h in hits]
        res.hits = self._page(ranked, 1, limit, None)
        res.extra["source_id"] = str(id)
        return res


def _walk(q):
    yield q
    for child in q.children():
        yield from _walk(child)


def _positions_from(p: fastpath.Postings, docs) -> dict[int, list[int]] | None:
    """Positions of a cached posting list's term in each of docs that has it; None for an absent term."""
    if not len(p.ids):
        return None
    if p.values is None:
        return {}
    want = np.asarray(docs, dtype=np.int64)
    idx = np.minimum(np.searchsorted(p.ids, want), len(p.ids) - 1)
    hit = p.ids[idx] == want
    return {int(d): fastpath.decode_positions(p.values[i])
            for d, i in zip(want[hit].tolist(), idx[hit].tolist(), strict=True)}


def _in_a_row(positions: list[list[int]]) -> bool:
    """Whether the words (their positions, in phrase order) stand at consecutive positions somewhere."""
    if not positions or not positions[0]:
        return False
    starts = set(positions[0])
    for k, pos in enumerate(positions[1:], 1):
        starts = {p - k for p in pos if p - k in starts}
        if not starts:
            return False
    return True


def _min_distance(a: list[int], b: list[int]) -> int:
    """The smallest |i - j| for i in a, j in b (both sorted)."""
    i = j = 0
    best = 1 << 30
    while i < len(a) and j < len(b):
        d = a[i] - b[j]
        if d < 0:
            best = min(best, -d)
            i += 1
        else:
            best = min(best, d)
            j += 1
        if best <= 1:
            break
    return best


def _body(fields) -> str:
    z = fields.get("body_z")
    if not z:
        return fields.get("body") or ""
    try:
        return zlib.decompress(z).decode("utf-8")
    except (zlib.error, UnicodeDecodeError):
        return ""


def _date_str(value) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%Y-%m-%d")
    return str(value or "")


def _title_from_body(body: str, size: int = 90) -> str:
    """A title for a statement without one: its first line, cut at a word boundary."""
    line = body.strip().split("\n", 1)[0].strip()
    if len(line) <= size:
        return line
    cut = line.rfind(" ", 0, size)
    return line[: cut if cut > size // 2 else size].rstrip(" ,;:") + " …"
