"""The searcher: open an index once, then run many queries against it, each through one pipeline.

    options (search.options: checked once) -> parse (search.query) -> match (search.matching: numpy or
    Whoosh, one interface) -> rank (search.ranking) -> collapse duplicates, page, hits, snippets
    (search.results, search.snippets) -> translations, bilingual view (search.links)

Matching. The words of a query are all required first (AND), as web search users expect. When that finds
fewer statements than a page holds (``limit``), the statements that match only some of the words are ranked
below them by BM25 (OR): the result says so with ``mode == "any"`` (``"all"`` otherwise). Words that are
stopwords in French or English (articles, question words such as "qu'est-ce", "comment", "quelles") are not
required. Explicit operators (AND/ET, OR/OU, NOT/SAUF, -word) are always honoured as written. A query of
more than LONG_QUERY_WORDS words with stopwords among them, or a question, reads as a sentence
(search.questions.reads_as_sentence): if AND does not fill a page, BM25 and the signals rank the matches
of any word, not all-word first.

Ranking (search.ranking). BM25F over per-language title and body fields, each word's idf pooled across the
languages, plus bonuses for the share of the words a statement contains, the words in its title (an exact
title first), words close together in order, and a month or year the query names. ``recency`` (0..1)
blends in freshness: the top candidates are re-ranked by
``(1 - recency) * score / best + recency * 0.5 ** (age_days / 365)``. ``sort="date"`` lists newest first.

Duplicates. Statements with the same ``group`` (same title and date, e.g. posted by two offices) are shown
once; the others are listed in the hit's ``duplicates``. ``bilingual=True`` searches both languages and,
with ``lang``, shows each result in that language when it has a version in it.

Facets (``lang``, ``source``, ``year``) and ``total`` count the whole result set, not the page. The
per-query state lives in a :class:`Plan`; the searcher holds only the open index and its caches.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from whoosh import index as windex
from whoosh import query as wq

from indexer import safe_pickle
from indexer.analysis import LANGS
from search import fastpath, histogram, language, links, ranking
from search.matching import FastMatcher, Matcher, WhooshMatcher, fast_covers, filter_clauses
from search.options import SORTS, IndexUnavailable, SearchError, SearchOptions
from search.query import Compiled, compile_query, prune
from search.questions import reads_as_sentence
from search.results import DocStore, Results, body_text, empty_facets, hit_facets, other_version, page_hits
from search.snippets import Snippeter
from search.spelling import Speller, Typos

__all__ = ["SORTS", "IndexUnavailable", "Plan", "Results", "SearchError", "Searcher"]

RELATED_TERMS = 15  # key terms of each version a related search looks for
RELATED_MIN = 0.1  # the least similarity (0..1) of a related statement
LONG_MODE = "blend"  # "blend": AND if it fills a page, else plain BM25 over any word; "or": always BM25 OR


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


@dataclass
class Plan:
    """One query, parsed and ready to match: everything a search keeps while it runs."""

    opts: SearchOptions
    compiled: Compiled
    clauses: tuple | None  # the options' filters
    sort: str  # the order used ("date" for a filter-only listing)
    long_query: bool
    pool: int  # candidates ranked: enough for the page, the recency and the known-item re-ranking
    signals: ranking.Signals | None = None  # what ranking knows of the query's words (None: no plain word)
    prefer: str | None = None  # the language shown first (search.language): the query's, or lang asked for
    typos: Typos | None = None  # typo tolerance applied to the query's words (search.spelling)


class Searcher:
    """A reusable searcher over one index directory. Not thread-safe: one per thread."""

    def __init__(self, index_dir: str | Path | None = None, *, snippeter: Snippeter | None = None,
                 fast: bool = True, cache_bytes: int = fastpath.DEFAULT_CACHE_BYTES):
        if index_dir is None:
            from indexer import default_index_dir
            index_dir = default_index_dir()
        self.index_dir = Path(index_dir)
        fastpath.fast_whoosh()
        self._weighting = ranking.weighting()
        self._ix, self._s = _open_searcher(self.index_dir, self._weighting)
        self.snippeter = snippeter or Snippeter()
        self.fast = fast  # False: always the Whoosh matcher (the reference for the fast one)
        self.cache_bytes = cache_bytes
        self._reset_caches()

    # -- lifecycle --------------------------------------------------------------------------------------

    def _reset_caches(self) -> None:
        self.pairs = links.Pairs(self._s)  # the two versions of a statement: one result
        self.store = DocStore(self._s, self.pairs.ids)
        self.whoosh = WhooshMatcher(self._s)
        self._numpy: FastMatcher | None = None
        self.speller = Speller(self._s, self.index_dir)  # typos and suggestions (search.spelling)
        self.stats = ranking.IndexStats(self._s)  # document frequencies, for the pooled idf (search.ranking)
        self.languages = language.QueryLanguage(self._s, self.stats)  # the query's language (search.language)

    def numpy_matcher(self) -> FastMatcher:
        """The fast matcher, its arrays read on first use."""
        if self._numpy is None:
            self._numpy = FastMatcher(self._s, self.cache_bytes)
        return self._numpy

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

    def close(self) -> None:
        self._s.close()
        self._ix.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def doc_count(self) -> int:
        return self._s.doc_count()

    # -- search -----------------------------------------------------------------------------------------

    @_index_errors
    def search(self, query: str, *, lang: str | None = None, source: str | None = None,
               since: str | None = None, until: str | None = None, sort: str = "relevance",
               limit: int = 10, page: int = 1, recency: float = 0.0, bilingual: bool = False,
               **filters: Any) -> Results:
        """Search (see the module docstring); ``filters``: SearchOptions.make's (year, not_source...)."""
        opts = SearchOptions.make(query, lang=lang, source=source, since=since, until=until, sort=sort,
                                  limit=limit, page=page, recency=recency, bilingual=bilingual, **filters)
        if opts.bilingual:  # both languages searched, each statement shown in lang when it has a version
            res = self._search(dataclasses.replace(opts, lang=None), opts.lang)
            res.extra["bilingual"] = True
        else:
            res = self._search(opts, opts.lang)
        res.extra["other_languages"] = {}
        if opts.lang and not opts.bilingual and not res.total and opts.query.strip():
            res.extra["other_languages"] = self._other_languages(opts)
        res.warnings = self._numpy.warnings() if self._numpy is not None else []  # damaged index files
        return res

    def _other_languages(self, opts: SearchOptions) -> dict[str, int]:
        """How many statements the query finds in the other languages, when it finds none in ``opts.lang``."""
        anywhere = self._search(dataclasses.replace(opts, lang=None, page=1, limit=1), None)
        return {k: n for k, n in anywhere.facets.get("lang", {}).items()
                if k != opts.lang and k in links.LANG_NAMES and n}  # the languages --lang can ask for

    def _search(self, opts: SearchOptions, prefer: str | None) -> Results:
        """One search; ``prefer``: the language shown first (None: the query's, inferred from its words)."""
        inferred = self.languages.infer(opts.query) if opts.query.strip() else None
        plan = self._plan(opts)
        if isinstance(plan, Results):
            plan.extra["query_lang"] = inferred
            return plan
        plan.prefer = prefer or inferred
        res = None
        if self.fast and fast_covers(plan.compiled, plan.sort, self._s.schema):
            try:
                res = self._evaluate(plan, self.numpy_matcher())
            except fastpath.Unsupported:
                pass
        res = res or self._evaluate(plan, self.whoosh)
        res.extra["query_lang"] = inferred
        return res

    def _plan(self, opts: SearchOptions) -> Plan | Results:
        """The query parsed, compiled and pruned against this index; or, when nothing can be searched, the
        (empty) results themselves."""
        clauses = filter_clauses(opts)
        compiled = compile_query(opts.query)
        typos = self.speller.expand(compiled, opts.query)  # typo tolerance: widens compiled (search.spelling)
        sort = opts.sort
        if compiled.must_query is None:
            if not opts.query.strip() and clauses is not None:  # filters only: list them, newest first
                compiled.must_query = compiled.any_query = wq.Every()
                sort = "date" if sort == "relevance" and opts.recency == 0 else sort
            else:
                res = self._empty(opts)
                res.suggestion = self.speller.suggest(opts.query, compiled.words) if compiled.words else None
                return res
        words = typos.words(compiled.words)  # an unknown word counts as its correction (search.spelling)
        long_query = reads_as_sentence(compiled.words, compiled.stopwords, opts.query)  # search.questions
        signals = ranking.Signals.make(words, compiled.proximity, self.stats, long_query) if words else None
        if signals is not None:  # pooled idf as term boosts both matchers apply; a question's derived forms
            compiled.must_query = signals.pool(compiled.must_query)
            compiled.any_query = signals.pool(compiled.any_query)
        compiled.must_query = prune(compiled.must_query, self.stats)  # the cached frequencies: what is there
        compiled.any_query = prune(compiled.any_query, self.stats)
        if long_query and LONG_MODE == "or" and compiled.any_query is not None:
            compiled.must_query = compiled.any_query
        pool = max(opts.page * opts.limit * 2 + 10, ranking.RECENCY_POOL if opts.recency else 0,
                   ranking.RANK_POOL)
        return Plan(opts, compiled, clauses, sort, long_query, pool, signals, typos=typos)

    @staticmethod
    def _empty(opts: SearchOptions) -> Results:
        return Results(query=opts.query, total=0, hits=[], facets=empty_facets(), page=opts.page,
                       limit=opts.limit, sort=opts.sort, extra={"histogram": histogram.empty_histogram()})

    def _evaluate(self, plan: Plan, matcher: Matcher) -> Results:
        """Match (AND, widened to OR when it finds less than a page), count, rank, page."""
        opts, compiled = plan.opts, plan.compiled
        res = self._empty(opts)
        res.corrected_query = res.suggestion = plan.typos.corrected_query if plan.typos else None  # typos
        filt = matcher.filter(plan.clauses)
        must = matcher.match(compiled.must_query, filt, plan.sort, plan.pool)
        mode, found, more = "all", must, None
        widen = compiled.any_query is not None and compiled.any_query != compiled.must_query
        if len(must) < opts.limit and widen:
            more = matcher.match(compiled.any_query, filt, plan.sort, plan.pool)
            if len(more) > len(must):
                mode, found = "any", more
        res.mode, res.total, res.facets = mode, len(found), matcher.facets(found)
        res.extra["histogram"] = matcher.histogram(found)  # by month or year (search.histogram)
        res.total -= self.pairs.folded(found.docs)  # statements, not versions (links)
        if compiled.words and (len(must) < opts.limit or mode == "any"):
            res.suggestion = self.speller.suggest(opts.query, compiled.words)
        if not res.total:
            return res
        if mode == "any" and plan.long_query:  # a sentence: BM25 over any word, all-word matches not forced
            must, mode = more, "all"
        ranked = self._rank(plan, matcher, must, more if mode == "any" else None)
        res.hits, collapsed = page_hits(ranked, opts.page, opts.limit, self.store, matcher.group_members,
                                        self.snippeter, compiled, plan.prefer, matcher.positions)
        res.extra["collapsed"] = collapsed
        return res

    def _rank(self, plan: Plan, matcher: Matcher, must, more) -> ranking.Ranked:
        """The best candidates in order: the all-word matches, then (``more``) the others, each part ranked
        by BM25, the proximity bonus and the recency blend; or newest first."""
        n = plan.pool
        ranked = must.top(n) if len(must) else []
        if more is not None:
            seen = {d for d, _ in ranked}
            ranked = ranked + [(d, s) for d, s in more.top(n + len(ranked)) if d not in seen]
        if plan.sort != "relevance" or not ranked:
            return ranked
        n_must = len(must) if more is not None else None
        if plan.signals is not None:
            ranked = ranking.rerank(ranked, n_must, plan.signals, matcher)
        recency = plan.opts.recency
        if recency:
            fresh = ranking.freshness(matcher.date_ticks(), fastpath.ticks(dt.datetime.now()))
            ranked = ranking.by_part(ranked, n_must, lambda part: ranking.blend_recency(part, recency, fresh))
        if plan.prefer:  # the query's language first, softly (search.language)
            prefer, lang_of = plan.prefer, matcher.lang_of
            ranked = ranking.by_part(ranked, n_must, lambda part: language.prefer(part, prefer, lang_of))
        return ranked

    def _similar(self, q: wq.Query, versions: list[int], exclude: set[int], n: int) -> ranking.Ranked:
        """The ``n`` best matches of q outside ``exclude``, scored by their share of the best score of the
        statement's own versions (0..1), at least RELATED_MIN."""
        best, own = None, 0.0
        if self.fast and fastpath.supported(q, self._s.schema):
            try:
                found = self.numpy_matcher().match(q, None, "relevance", n)
                own = max(float(found.scores[v]) for v in versions)
                best = [(d, s) for d, s in found.top(n + len(exclude)) if d not in exclude][:n]
            except fastpath.Unsupported:
                best = None
        if best is None:  # Whoosh's matchers: the same scores
            own = max((h.score or 0.0 for h in self._s.search(q, limit=2, filter=set(versions))), default=0.0)
            best = [(h.docnum, h.score or 0.0) for h in self._s.search(q, limit=n, mask=exclude)]
        if not own:
            return []
        return [(d, min(1.0, s / own)) for d, s in best if s / own >= RELATED_MIN]

    # -- statements -------------------------------------------------------------------------------------

    @_index_errors
    def statement(self, id) -> dict | None:
        """All stored fields of a statement, body decompressed and date as YYYY-MM-DD; None if unknown."""
        return self.store.statement(id)

    @_index_errors
    def related(self, id, *, limit: int = 10) -> Results:
        """The ``limit`` statements most like a given one, in either language: more-like-this over the key
        terms of the statement and of its other-language version, each in its own language's fields. A
        hit's ``score`` is its similarity, 0..1 (its match over the statement's own); ``total`` is the
        number returned (those at least RELATED_MIN similar), one result a statement as in a search."""
        d = self.store.docnum(id)
        if d is None:
            raise SearchError(f"No statement with id {id!r} in the index.")
        fields = self.store.fields(d)
        versions = [(d, fields)]
        other = other_version(d, fields, self.store)
        if other is not None:
            versions.append(other)
        res = Results(query=f"related:{id}", total=0, hits=[], facets=empty_facets(), limit=limit,
                      mode="related", extra={"source_id": str(id)})
        clauses = []
        exclude: set[int] = set()
        for doc, f in versions:
            tl = f.get("lang") if f.get("lang") in LANGS else "xx"
            text = (f.get("title") or "") + "\n" + body_text(f)
            kts = self._s.key_terms_from_text(f"body_{tl}", text, numterms=RELATED_TERMS)
            clauses += [wq.Term(f"{kind}_{tl}", term, boost=weight) for term, weight in kts
                        for kind in ("body", "title")]
            exclude |= {doc} | (set(self.whoosh.group_members(f["group"])) if f.get("group") else set())
        if not clauses:
            return res
        ranked = self._similar(wq.Or(clauses), [doc for doc, _ in versions], exclude, 3 * limit + 10)
        res.hits, _ = page_hits(ranked, 1, limit, self.store, self.whoosh.group_members, self.snippeter, None,
                                fields.get("lang") or None)
        res.total = len(res.hits)
        res.facets = hit_facets(res.hits)
        return res
