"""Searching a distributed engine (Sphinx 2.2 / Manticore through SphinxQL): the read side of
:mod:`indexer.sphinxql`, with the same methods and the same :class:`~search.results.Results` as
:class:`search.engine.Searcher`.

The engine matches and ranks; presse does the rest on the hits it returns, with its own code: duplicates
collapsed and translations folded in (:func:`search.results.page_hits`), snippets and highlighting
(:mod:`search.snippets`, on the stored body each row carries), the JSON schema. ``open_searcher`` picks
the engine: the embedded index unless an engine address is given.

Matching, as on the embedded index, because it is the embedded index's: the query is compiled by presse
(:func:`search.query.compile_query`, the all-word and any-word forms) and that compiled query is printed in
SphinxQL (:func:`translate`) over the engine's rows, which hold presse's own terms (each field analysed by
presse, :func:`indexer.sphinxql.engine_terms`). So the same statements match, totals and facets included:
all the words first, any of them when that finds fewer than a page (``mode == "any"``), stopwords left out,
operators, phrases, fields (title:, body:, source:), prefixes (word*) and the lang:/date: filters.

Ranking: the engine picks ENGINE_POOL times the embedded index's pool of candidates (:data:`RANKER`: the
query words a field holds, then its BM25F); presse scores them with the embedded index's own BM25
(:class:`PoolEvaluator`, :mod:`search.fastpath`'s arithmetic: per-field term frequencies from the candidates'
stored text through presse's analysis chain, lengths from the rows, document frequencies, document count
and average lengths counted by the engine, :class:`RemoteStats`), then ranks the best of them with its own
code (:meth:`search.engine.Searcher._rank`: coverage, title, exactness, date, proximity, recency, the
preferred language). No ranking policy is copied.

Typos, suggestions and the query's language: the embedded index's code (:mod:`search.spelling`,
:mod:`search.language`) over :class:`EngineReader` (document frequencies counted by the engine), with the typo
index of the local index that was sent to the engine (:func:`typo_dir`).

Term counts: each candidate's count of each query keyword in title and body together comes with the engine's
ranking factors (:func:`term_frequencies`); presse analyses only the title, the body's count is the rest.

What differs from the embedded index: a Whoosh index counts its deleted documents in its statistics until
they are merged away, the engine does not (so scores, and a query language on the edge, differ a little after
updates); a candidate beyond the engine's pool cannot come back; a prefix query keeps the engine's order;
without the local typo index no typo is corrected; and related statements are found from the key words the
engine's own statistics give (``CALL KEYWORDS``) rather than Whoosh's key terms.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from itertools import accumulate
from pathlib import Path
from typing import Any

import numpy as np
from whoosh import query as wq
from whoosh.util.numeric import length_to_byte

from indexer.analysis import JOINERS, LANGS, WORD, normalize, word_tokens
from indexer.schema import TITLE_BOOST, stored_body, text_lang
from indexer.sphinxql import (
    DAY_ZERO,
    EVERY_TERM,
    SOURCE_TAG,
    Engine,
    EngineError,
    Shard,
    doc_id,
    dropped,
    engine_terms,
    error_text,
    layout,
    signed,
    stores_name,
    tagged,
)
from search.engine import RELATED_MIN, Plan, Searcher
from search.fastpath import LENGTH_TABLE, Evaluator, Unsupported, in_a_row, ticks
from search.histogram import date_histogram, empty_histogram
from search.language import QueryLanguage
from search.options import IndexUnavailable, SearchError, SearchOptions
from search.query import analyse_query, compile_query
from search.questions import reads_as_sentence
from search.ranking import (
    BM25_B,
    BM25_K1,
    NO_DATE,
    RANK_POOL,
    RECENCY_POOL,
    TICKS_PER_DAY,
    UNIX_EPOCH_TICKS,
    Signals,
    bm25_idf,
)
from search.results import DocStore, Results, empty_facets, hit_facets, other_version, page_hits
from search.snippets import VOCABULARY, Snippeter, word_terms
from search.spelling import Speller, Typos

# The engine's order of the candidates presse re-scores: the query words each field holds, then the engine's
# BM25F. Chosen on the tune halves of the known-item lookups (bench.sphinxql) by how many of the embedded
# index's top 10 are among the engine's best 200: Yukon 0.980, NSB 0.941, against 0.963 and 0.928 with the
# title weighted 3 times, 0.71 with BM25F alone and 0.87 with Sphinx's bm25 ranker.
RANKER = "expr('sum(word_count)*10000+10000*bm25f(1.2,0.75,{title=3,body=1})')"
ENGINE_POOL = 2  # the engine's best (times the embedded index's pool) that presse's BM25 re-scores
STATS_SECONDS = 60.0  # how long the engine's document counts are reused
EVERY = f"(@source {EVERY_TERM})"  # every row (the engine cannot compute a NOT alone)
MAX_BATCH = 32  # statements the engine takes in one round trip (searchd's max_batch_queries default)
MAX_MATCHES = 100_000  # a group count (the total) is exact up to this many groups
MAX_DAYS = 40_000  # days of the date histogram kept: more than a century
SHARD_THREADS = 16  # shards counted at once (each on its own connection)
MIN_KEEP = 1000  # rows a grouping sets aside at least (the engine's default max_matches)
SHARD_SHARE = 1.25  # a shard's likely share of the matches, over an even share (statements spread by a hash)
RELATED_TERMS = 15
DAY_ORDINAL = date(1970, 1, 1).toordinal()
TEXT_FIELDS = "@(title,body)"
# A warning that says an agent did not answer (down, unreachable, too slow): its shard is missing.
AGENT_FAILED = re.compile(
    r"connect\(\)|\b(?:connection|timed out|timeout|refused|unreachable|failed|error)\b",
    re.I)
# The words a warning lists as missing from an index (any word, e.g. "terroriste", may hold "error").
MISSING_WORDS = re.compile(r"query word\(s\) mismatch:[^;]*")


def open_searcher(index_dir: str | Path | None = None, engine: str | None = None, **kwargs: Any):
    """The searcher of the embedded index in ``index_dir``, or of the engine at ``engine``
    (``sphinxql://HOST:PORT[/prefix]``) when given."""
    if engine:  # index_dir: the local index sent to it, for its typo index (typo_dir)
        return RemoteSearcher(engine, index_dir=index_dir, **kwargs)
    return Searcher(index_dir, **kwargs)


# ---------------------------------------------------------------------------------------------------------
# The query, in SphinxQL


@dataclass
class Translated:
    """A compiled query in SphinxQL: the MATCH expression (None: none) and the filters it carried."""

    match: str | None
    filters: list[tuple[str, Any]] = dataclasses.field(default_factory=list)


def _target(fname: str) -> tuple[str, str]:
    """The engine's field and the tag of presse's field (title_fr -> @title, fr; source_text -> @source)."""
    if fname == "source_text":
        return "@source", SOURCE_TAG
    kind, lang = fname.split("_", 1)
    return f"@{kind}", lang


def _node(q: Any, filters: list[tuple[str, Any]]) -> str | None:
    """One node of a compiled Whoosh query (search.query) in SphinxQL's syntax; filters are set aside."""
    if isinstance(q, wq.Term) and q.fieldname == "lang":
        filters.append(("lang", q.text))
        return None
    if isinstance(q, wq.DateRange):
        filters.append(("date", (q.startdate, q.enddate)))
        return None
    if isinstance(q, wq.Term | wq.Prefix):
        field, tag = _target(q.fieldname)
        return f"({field} {tagged(q.text, tag)}{'*' if isinstance(q, wq.Prefix) else ''})"
    if isinstance(q, wq.Phrase):
        field, tag = _target(q.fieldname)
        return f'({field} "{" ".join(tagged(w, tag) for w in q.words)}")'
    if isinstance(q, wq.AndNot | wq.AndMaybe):
        a, b = _node(q.a, filters), _node(q.b, filters)
        a = a or EVERY  # a NOT alone: everything, less b
        if b is None:
            return a
        return f"({a} -{b})" if isinstance(q, wq.AndNot) else f"({a} MAYBE {b})"
    if type(q) in (wq.And, wq.Or):
        parts = [x for x in (_node(s, filters) for s in q.subqueries) if x]
        if not parts:
            return None
        return "(" + (" " if type(q) is wq.And else " | ").join(parts) + ")"
    if isinstance(q, wq.Every):
        return None
    raise SearchError(f"The search engine cannot run this query ({type(q).__name__}).")


def translate(q: Any) -> Translated:
    """A compiled presse query (search.query.compile_query's must_query or any_query) in SphinxQL: the
    same terms, fields and operators; the engine holds presse's own terms (indexer.sphinxql.engine_terms)."""
    filters: list[tuple[str, Any]] = []
    match = _node(q, filters) if q is not None else None
    return Translated(match, filters)


def _day(value: datetime | date | None) -> int | None:
    if value is None:
        return None
    return (date(value.year, value.month, value.day) - date(1970, 1, 1)).days + DAY_ZERO


def _source_match(sources: tuple[str, ...]) -> str | None:
    """Any of the sources, each by all its words in any order (as the embedded index filters them)."""
    groups = [" ".join(tagged(t, SOURCE_TAG) for _, t in analyse_query(src, "xx")) for src in sources]
    groups = [f"(@source {g})" for g in groups if g.strip()]
    return None if not groups else groups[0] if len(groups) == 1 else "(" + " | ".join(groups) + ")"


def where_clause(opts: SearchOptions, tr: Translated) -> tuple[str, list[Any]]:
    """The WHERE clause of a search (MATCH, the options' and the query's filters) and its arguments."""
    terms = [t for t in (tr.match, _source_match(opts.source_values)) if t]
    excluded = _source_match(tuple(opts.not_source))
    if excluded:  # the engine cannot compute a NOT alone: every row less the excluded sources
        terms = (terms or [EVERY]) + [f"-{excluded}"]
    clauses, args = ["stub = 0"], []
    if terms:
        clauses.insert(0, "MATCH(%s)")
        args.append(" ".join(terms))
    for values, negate in ((list(opts.lang_values) + [v for f, v in tr.filters if f == "lang"], False),
                           (list(opts.not_lang), True)):
        if values:
            clauses.append(f"lang {'NOT IN' if negate else 'IN'} ({', '.join(['%s'] * len(values))})")
            args += values
    if opts.years:
        clauses.append(f"year IN ({', '.join(str(int(y)) for y in opts.years)})")
    if opts.not_year:
        clauses.append(f"year NOT IN ({', '.join(str(int(y)) for y in opts.not_year)})")
    spans = [(opts.since, opts.until)] + [v for f, v in tr.filters if f == "date"]
    for start, end in spans:
        if start is not None:
            clauses.append(f"day >= {_day(start)}")
        if end is not None:
            clauses.append(f"day <= {_day(end)}")
    return " AND ".join(clauses), args


def _histogram(days: list[tuple]) -> dict[str, Any]:
    """The date histogram of a search (search.histogram), from its documents counted by ``day``."""
    day = np.array([int(d) for d, _ in days], dtype=np.int64)
    ticks = np.where(day > 0, UNIX_EPOCH_TICKS + (day - DAY_ZERO) * TICKS_PER_DAY, NO_DATE)
    return date_histogram(np.repeat(ticks, [int(n) for _, n in days]))


# ---------------------------------------------------------------------------------------------------------
# Stored fields


class RemoteStore(DocStore):
    """Stored fields of the engine's statements by document id (the ``doc`` JSON of each row), as
    :class:`search.results.DocStore` gives them from the local index; fetched in batches, kept for one
    search."""

    def __init__(self, searcher: RemoteSearcher) -> None:
        super().__init__(searcher)
        self.cache: dict[int, dict[str, Any] | None] = {}
        self.lengths: dict[int, tuple[int, int]] = {}  # the fields' lengths in terms (tlen, blen)
        self.groups: dict[str, list[int]] = {}

    def prefetch(self, ids: list[int], related: bool = False) -> None:
        """Fetch the stored fields of ``ids`` in one query; ``related``: also their translations' and the
        members of their duplicate groups (the page's hits need both)."""
        wanted = [d for d in dict.fromkeys(ids) if d not in self.cache]
        if wanted:
            rows = self.searcher.query(f"SELECT id, doc, tlen, blen FROM {stores_name(self.searcher.index)} "
                                       f"WHERE id IN ({', '.join(map(str, wanted))}) LIMIT {len(wanted)}")
            self.cache.update(dict.fromkeys(wanted))
            for d, doc, tlen, blen in rows:
                self.lengths[int(d)] = (int(tlen), int(blen))
                fields = json.loads(doc)
                if fields.get("date"):
                    fields["date"] = datetime.fromisoformat(fields["date"])  # strptime: 10x slower
                self.cache[int(d)] = fields
        if not related:
            return
        found = [self.cache[d] for d in ids if self.cache.get(d)]
        others = [doc_id(str(f["translation"])) for f in found if f.get("translation")]
        self.prefetch(others)
        found += [self.cache[d] for d in others if self.cache.get(d)]  # a version's group is collapsed too
        groups = {f["group"] for f in found if f.get("group")} - set(self.groups)
        if groups:
            keys = {signed(g): g for g in groups}
            rows = self.searcher.query(f"SELECT id, grp FROM {self.searcher.index} WHERE grp IN "
                                       f"({', '.join(map(str, keys))}) LIMIT 10000")
            self.groups.update({g: [] for g in groups})
            for d, g in rows:
                self.groups[keys[int(g)]].append(int(d))

    def members(self, group: str) -> list[int]:
        """The documents of a duplicate group."""
        if group not in self.groups:
            rows = self.searcher.query(f"SELECT id FROM {self.searcher.index} WHERE grp = {signed(group)} "
                                       "LIMIT 1000")
            self.groups[group] = [int(d) for d, in rows]
        return self.groups[group]

    def fields(self, d: int) -> dict[str, Any]:
        self.prefetch([d])
        return self.cache[d] or {}

    def docnum(self, sid: Any) -> int | None:
        if sid is None:
            return None
        d = doc_id(str(sid))
        self.prefetch([d])
        return d if self.cache[d] is not None else None


# ---------------------------------------------------------------------------------------------------------
# What presse's ranking reads (search.ranking), for the engine's candidates


class RemoteStats:
    """What presse's BM25 and signals read of the whole index, as :class:`search.ranking.IndexStats` and
    Whoosh's searcher give it on the embedded index: documents per (field, term), the number of documents and
    the fields' total lengths. Counted by the engine over all its shards (it holds presse's own terms, so the
    counts are the embedded index's), one round trip for the terms not seen yet; kept STATS_SECONDS (the
    engine changes under a searcher), bounded."""

    MAX_CACHED = 50_000

    def __init__(self, searcher: RemoteSearcher) -> None:
        self.searcher = searcher
        self.n_docs = 0
        self.lengths: dict[str, float] = {}  # field (title_fr, body_en...) -> its length over all documents
        self.dfs: dict[tuple[str, str], int] = {}  # (field, term) -> documents holding it
        self.langs: dict[str, int] = {}  # language (as statements give it) -> documents
        self.loaded = 0.0

    def family(self, fname: str, t: str, word: str = "") -> tuple[str, ...]:
        """No derived forms (:func:`search.questions.family`) through the engine: finding them walks the
        field's terms by prefix, which SphinxQL does not list. A question's French words match as typed."""
        return ()

    def load(self, keys: Iterable[tuple[str, str]]) -> None:
        """Count the documents holding each (field, term) of ``keys`` not counted yet."""
        if time.monotonic() - self.loaded > STATS_SECONDS or len(self.dfs) > self.MAX_CACHED:
            self.dfs.clear()
            self.n_docs = 0
        new = [k for k in dict.fromkeys(keys) if k not in self.dfs]
        index = self.searcher.index
        statements = [] if self.n_docs else [
            (f"SELECT lang, COUNT(*) AS n, SUM(tlen) AS t, SUM(blen) AS b FROM {index} GROUP BY lang "
             "LIMIT 1000", ())]
        statements += [(f"SELECT COUNT(*) FROM {index} WHERE MATCH(%s) OPTION ranker=none",
                        [_node(wq.Term(f, t), [])]) for f, t in new]
        if not statements:
            return
        rows = [r for at in range(0, len(statements), MAX_BATCH)  # the engine's max_batch_queries (32)
                for r in self.searcher.batch(statements[at:at + MAX_BATCH])]
        if not self.n_docs:
            self.lengths, self.langs = {}, {}
            for lang, n, title, body in rows.pop(0):
                tl = text_lang(str(lang))
                self.n_docs += int(n)
                self.langs[str(lang)] = int(n)
                for kind, total in (("title", title), ("body", body)):
                    self.lengths[f"{kind}_{tl}"] = self.lengths.get(f"{kind}_{tl}", 0) + float(total)
            self.loaded = time.monotonic()
        for key, found in zip(new, rows, strict=True):
            self.dfs[key] = int(found[0][0]) if found else 0

    def df(self, fname: str, t: str) -> int:
        if (fname, t) not in self.dfs:
            self.load([(fname, t)])
        return self.dfs[(fname, t)]

    def __contains__(self, key: tuple[str, str]) -> bool:
        return self.df(*key) > 0

    def idf(self, fname: str, t: str) -> float:
        return bm25_idf(self.n_docs, self.df(fname, t))

    def avg_field_length(self, fname: str) -> float:
        """As Whoosh's searcher: the field's total length over all documents."""
        return self.lengths.get(fname, 0.0) / (self.n_docs or 1)


# A keyword of a MATCH expression as search.sphinxql writes it (not a field name, a quorum or a proximity).
ATOM = re.compile(r"(?<![@\w/~])[a-z0-9_]+\*?(?![\w*])")
WORD_TF = re.compile(r"\bword(\d+)=\(tf=(\d+)")


PHRASE = re.compile(r'"[^"]*"')


def match_atoms(match: str) -> list[str | None]:
    """The keywords of a MATCH expression in order, as Sphinx numbers them in its ranking factors; None for
    a keyword of a phrase (its ``tf`` there counts the phrase's occurrences, not the word's)."""
    phrased = set(ATOM.findall(" ".join(PHRASE.findall(match))))
    return [None if a in phrased else a for a in ATOM.findall(match)]


def term_frequencies(factors: str, atoms: list[str | None]) -> dict[str, int]:
    """keyword -> its occurrences in a row's title and body together, from the row's ``PACKEDFACTORS()``:
    Sphinx numbers the query's keywords by their place in the MATCH expression (``atoms``, in order; a
    keyword written again keeps its first number) and lists each one's ``tf`` there."""
    out = {}
    for i, tf in WORD_TF.findall(factors):
        if int(i) < len(atoms) and (atom := atoms[int(i)]) is not None:
            out[atom] = int(tf)
    return out


def query_terms(q: Any) -> list[tuple[str, str]]:
    """The (field, term) of a compiled query's terms and phrases: what its BM25 reads."""
    if q is None:
        return []
    if isinstance(q, wq.Term) and q.fieldname != "lang":
        return [(q.fieldname, q.text)]
    if isinstance(q, wq.Phrase):
        return [(q.fieldname, w) for w in q.words]
    return [k for sub in q.children() for k in query_terms(sub)]


def analysed(text: str, lang: str, terms: frozenset[str] = frozenset(),
             wanted: frozenset[str] | None = None) -> dict[str, list[int]]:
    """A text's terms (all, or those of ``terms`` when given) with their positions, as presse's analysis
    chain indexes it (:func:`indexer.analysis.analyzer`), a word at a time (:func:`indexer.analysis.
    word_tokens`, cached: the same words recur from text to text). A word's first position is the count of
    terms before it (a running sum); with ``terms``, only the words that give one (the snippets'
    vocabulary, :data:`search.snippets.VOCABULARY`; ``wanted``: those words, when already known) are looked
    at for their terms."""
    words = WORD.findall(text)
    if not words:
        return {}
    known = STEPS.setdefault(lang, {})
    if len(known) > MAX_STEPS:
        known.clear()
    for w in set(words):  # (not ``- known.keys()``: that copies every known word into a set)
        if w not in known:
            known[w] = word_steps(w, lang)
    steps = list(map(known.__getitem__, words))  # (map and accumulate: no Python loop over a long body)
    ends = list(accumulate(steps))
    if terms and wanted is None:
        wanted = frozenset(VOCABULARY.words_giving(set(words), lang, terms, ()))
    found: dict[str, list[int]] = {}
    for i in range(len(words)) if wanted is None else [i for i, w in enumerate(words) if w in wanted]:
        for t in word_tokens(words[i], lang):
            if not terms or t.text in terms:
                found.setdefault(t.text, []).append(ends[i] - steps[i] + t.pos)
    return found


STEPS: dict[str, dict[str, int]] = {}  # language -> word -> the positions it takes (word_steps), cached
MAX_STEPS = 400_000


def word_steps(word: str, lang: str) -> int:
    """The positions one word of ``WORD`` takes in a field as presse indexes it: none for a stopword, one for
    a word without joiners (its normalized form, without the whole chain), else its tokens' last position
    plus one (a compound's whole shares its first part's)."""
    if JOINERS.search(word) is None:
        return 1 if normalize(word, lang if lang in LANGS else "xx") else 0
    tokens = word_tokens(word, lang)
    return tokens[-1].pos + 1 if tokens else 0


@dataclass
class PoolPostings:
    """A term's postings among the candidates, as :class:`search.fastpath.Postings` reads them: candidate
    numbers, ascending, and weights (term frequency times the field's boost)."""

    ids: np.ndarray
    weights: np.ndarray


class PoolMatcher:
    """The engine's candidates as :mod:`search.ranking` reads a matcher (:class:`search.matching.Matcher`)
    and as :class:`search.fastpath.Evaluator` reads an index: document ``k`` is the k-th candidate; terms and
    positions come from its stored title and body run through presse's analysis chain (as the embedded index
    holds them), once per field; field lengths from the engine's row (``tlen``, ``blen``, byte-quantised as
    Whoosh stores them)."""

    def __init__(self, fields: list[dict[str, Any]], lengths: list[tuple[int, int]],
                 stats: RemoteStats, terms: Iterable[str] = (),
                 engine_tfs: list[dict[str, int] | None] | None = None) -> None:
        self.docs = fields
        # keyword -> count in title and body together, per candidate, from the engine (matches): a body's
        # counts are those less its title's, and only the short title is analysed here
        self.engine_tfs = engine_tfs or [None] * len(fields)
        self.titles: dict[int, Counter] = {}
        self.terms = frozenset(terms)  # the query's terms: only their frequencies are counted (none: all)
        self.n = len(fields)
        self.stats = self.searcher = stats  # idf, avg_field_length: what the evaluator asks its searcher
        self.langs = [text_lang(f.get("lang") or "") for f in fields]
        self.of_lang: dict[str, list[int]] = {}  # language -> its candidates, ascending
        for k, lang in enumerate(self.langs):
            self.of_lang.setdefault(lang, []).append(k)
        self.raw_lengths = np.array(lengths, dtype=np.int64).reshape(-1, 2)
        self.analysed: dict[tuple[str, int], dict[str, list[int]]] = {}
        self.counted: dict[tuple[str, int], Counter] = {}
        self.words: dict[tuple[str, int], Counter] = {}  # (field, k) -> its words as written, counted
        self.wanted: dict[str, frozenset[str]] = {}  # language -> the candidates' words giving a query term
        self._lengths: dict[str, np.ndarray] = {}

    def _text(self, fname: str, k: int) -> str:
        """Candidate k's text of field ``fname``; empty when the field is another language's."""
        kind, lang = fname.split("_", 1)
        if self.langs[k] != lang:
            return ""
        return (self.docs[k].get("title") or "") if kind == "title" else stored_body(self.docs[k])

    def _words(self, fname: str, k: int) -> Counter:
        key = (fname, k)
        if key not in self.words:
            self.words[key] = Counter(WORD.findall(self._text(fname, k)))
        return self.words[key]

    def _wanted(self, lang: str) -> frozenset[str]:
        """The words of the candidates in ``lang`` that give one of the query's terms: the snippets'
        vocabulary (:data:`search.snippets.VOCABULARY`, each distinct word analysed once per process)
        asked once for all the candidates' words, not once per field."""
        if lang not in self.wanted:
            every: set[str] = set()
            for k in range(self.n):
                if self.langs[k] == lang:
                    for kind in ("title", "body"):
                        every.update(self._words(f"{kind}_{lang}", k))
            self.wanted[lang] = frozenset(VOCABULARY.words_giving(every, lang, self.terms, ()))
        return self.wanted[lang]

    def term_counts(self, fname: str, k: int) -> Counter:
        """term -> frequency in candidate k's field ``fname``, of the query's terms (when given; else of
        all): only the words that give one are analysed (:meth:`_wanted`); no positions (BM25 needs none:
        cheaper than :meth:`field_terms`)."""
        key = (fname, k)
        if key not in self.counted:
            lang = fname.split("_", 1)[1]
            words = self._words(fname, k)
            counts: Counter = Counter()
            for word in (words.keys() & self._wanted(lang) if self.terms else words):
                for t in word_terms(word, lang):
                    counts[t] += words[word]
            self.counted[key] = counts
        return self.counted[key]

    def tf(self, fname: str, k: int, t: str) -> int:
        """Candidate k's count of term ``t`` in field ``fname``: from the engine's counts when it gave one
        for the term (the title's analysed here, the body's the rest), else from the stored text."""
        kind, lang = fname.split("_", 1)
        if self.langs[k] != lang:
            return 0
        return self._tf(kind, lang, k, t, tagged(t, lang))

    def _tf(self, kind: str, lang: str, k: int, t: str, tag: str) -> int:
        """:meth:`tf` of a candidate in ``lang``, the term's engine keyword ``tag`` already made."""
        known = self.engine_tfs[k]
        if known is not None and (both := known.get(tag)) is not None:
            if k not in self.titles:
                self.titles[k] = Counter(x for w in WORD.findall(self.docs[k].get("title") or "")
                                         for x in word_terms(w, lang))
            title = self.titles[k].get(t, 0)
            return title if kind == "title" else both - title
        return self.term_counts(f"{kind}_{lang}", k).get(t, 0)

    def field_terms(self, fname: str, k: int) -> dict[str, list[int]]:
        """term -> positions of candidate k's field ``fname`` (title_fr, body_en...)."""
        key = (fname, k)
        if key not in self.analysed:
            lang = fname.split("_", 1)[1]
            # the candidates' words giving a query term, when already known (BM25 from the text); else
            # this text's alone: positions are read for a few candidates only
            self.analysed[key] = analysed(self._text(fname, k), lang, self.terms, self.wanted.get(lang))
        return self.analysed[key]

    def lang_of(self, k: int) -> str:
        return self.docs[k].get("lang") or ""

    def lengths(self, fname: str) -> np.ndarray:
        """Every candidate's length of ``fname`` in terms, byte-quantised as Whoosh stores it (0: another
        language's field)."""
        if fname not in self._lengths:
            kind, lang = fname.split("_", 1)
            raw = self.raw_lengths[:, 0 if kind == "title" else 1]
            mine = np.array([tl == lang for tl in self.langs], dtype=bool)
            self._lengths[fname] = np.where(mine, LENGTH_TABLE[[length_to_byte(int(n)) for n in raw]], 0.0) \
                if self.n else np.zeros(0)
        return self._lengths[fname]

    def postings(self, fname: str, t: str) -> PoolPostings:
        if not fname.startswith(("title_", "body_")):
            raise Unsupported(fname)  # source: terms are not scored on the engine's rows
        boost = TITLE_BOOST if fname.startswith("title_") else 1.0
        kind, lang = fname.split("_", 1)
        tag = tagged(t, lang)  # once, and only this language's candidates: ~10,000 counts a query
        found = [(k, n) for k in self.of_lang.get(lang, ()) if (n := self._tf(kind, lang, k, t, tag))]
        return PoolPostings(np.array([k for k, _ in found], dtype=np.int64),
                            np.array([n * boost for _, n in found], dtype=np.float64))

    def has(self, fname: str, t: str, docs: np.ndarray) -> np.ndarray:
        return np.array([self.tf(fname, int(k), t) > 0 for k in docs], dtype=bool)

    def field_lengths(self, fname: str, docs: np.ndarray) -> np.ndarray:
        return self.lengths(fname)[np.asarray(docs, dtype=np.int64)]

    def positions(self, fname: str, t: str, docs: list[int]) -> dict[int, list[int]] | None:
        found = {k: p for k in docs if (p := self.field_terms(fname, k).get(t))}
        return found if found or self.stats.df(fname, t) else None

    def idf(self, fname: str, t: str) -> float:
        return self.stats.idf(fname, t)

    def date_ticks(self) -> np.ndarray:
        return np.array([ticks(f["date"]) if isinstance(f.get("date"), datetime) else NO_DATE
                         for f in self.docs], dtype=np.int64)


class PoolEvaluator(Evaluator):
    """The embedded index's own BM25 (:class:`search.fastpath.Evaluator`) over the candidates: phrases from
    their analysed positions; a prefix is not expanded (Unsupported: the engine's order is kept)."""

    def expand(self, q: wq.Prefix):
        raise Unsupported("prefix")

    def _phrase(self, q) -> tuple[np.ndarray, np.ndarray]:
        n = self.x.n
        mask = np.zeros(n, dtype=bool)
        score = np.zeros(n, dtype=np.float64)
        for k in range(n):
            found = [self.x.field_terms(q.fieldname, k).get(w) for w in q.words]
            mask[k] = all(found) and (len(found) == 1 or in_a_row(found))
        for w in q.words:
            ids, sc = self.term(q.fieldname, w)
            score[ids] += np.where(mask[ids], sc, 0.0)
        return mask, score * q.boost if q.boost != 1.0 else score


@dataclass
class Pooled:
    """A part of the candidates (the all-word matches, or the others) as the ranking reads a match:
    (candidate number, engine score) best first, and how many documents the engine matched."""

    ranked: list[tuple[int, float]]
    found: int

    def top(self, n: int) -> list[tuple[int, float]]:
        return self.ranked[:n]

    def __len__(self) -> int:
        return self.found


# ---------------------------------------------------------------------------------------------------------
# Typos, suggestions and the query's language (search.spelling, search.language) over the engine


def typo_dir(engine: Engine, index_dir: str | Path | None) -> Path | None:
    """The folder of the typo index for the engine's words: ``index_dir`` when given, else the default
    index when it was sent to this engine (`presse index --engine`); None without one (no typo correction)."""
    from indexer.sphinxql import recorded_engines
    from indexer.store import default_index_dir
    from indexer.typos import TYPOS_NAME

    folder = Path(index_dir).expanduser() if index_dir else default_index_dir()
    if not (folder / TYPOS_NAME).is_file():
        return None
    return folder if index_dir or engine.url in recorded_engines(folder) else None


def word_keys(words: Iterable[str]) -> list[tuple[str, str]]:
    """The (field, term) of the query's words in every language's title and body: what its language and its
    typos are judged by."""
    return [(f"{kind}_{lang}", t) for w in dict.fromkeys(words) for lang in LANGS
            for _, t in analyse_query(w, lang) for kind in ("title", "body")]


class EngineReader:
    """The part of a Whoosh reader that :class:`search.spelling.Speller` and
    :class:`search.language.QueryLanguage` read, answered by the engine: document frequencies by (field,
    term) and by language (:class:`RemoteStats`, cached), the statements holding a term, stored fields. No
    term list: an index without a typo index gets no correction (the bounded scan reads Whoosh's terms)."""

    def __init__(self, searcher: RemoteSearcher) -> None:
        self.searcher = searcher

    def doc_frequency(self, fname: str, term: str) -> int:
        if fname == "lang":
            self.searcher.stats.load(())
            return self.searcher.stats.langs.get(term, 0)
        return self.searcher.stats.df(fname, term)

    def __contains__(self, key: tuple[str, str]) -> bool:
        return self.searcher.stats.df(*key) > 0

    def postings(self, fname: str, term: str) -> EnginePostings:
        """The statements holding ``term`` in ``fname`` (the first few: a written form is looked for)."""
        rows = self.searcher.query(f"SELECT id FROM {self.searcher.index} WHERE MATCH(%s) AND stub = 0 "
                                   "ORDER BY id ASC LIMIT 5", [_node(wq.Term(fname, term), [])])
        return EnginePostings([int(d) for d, in rows])

    def stored_fields(self, d: int) -> dict[str, Any]:
        return self.searcher.store.fields(d)

    def indexed_field_names(self) -> tuple[str, ...]:
        return ()

    def expand_prefix(self, fname: str, prefix: str) -> Iterable[bytes]:
        return ()


@dataclass
class EnginePostings:
    ids: list[int]

    def id(self) -> int:
        if not self.ids:
            raise KeyError("no statement")
        return self.ids[0]

    def all_ids(self) -> list[int]:
        return self.ids


# ---------------------------------------------------------------------------------------------------------
# The searcher


class RemoteSearcher(Searcher):
    """A searcher over the engine at ``url``: :class:`search.engine.Searcher`'s methods and results (its
    ``search`` itself: options, bilingual search, other languages), matching and counting done by the
    engine. Not thread-safe: one per thread (one connection each)."""

    def __init__(self, url: str, *, snippeter: Snippeter | None = None, index_dir: str | Path | None = None,
                 **_ignored: Any) -> None:
        try:
            self.engine = Engine.parse(url)
            conn = self.engine.connect()
        except EngineError as e:
            raise IndexUnavailable(str(e)) from None
        self.index = self.engine.prefix
        self.index_dir = None  # no local index to search: nothing to watch or reopen
        self.snippeter = snippeter or Snippeter()
        self.store = RemoteStore(self)
        self.stats = RemoteStats(self)
        # Typos and suggestions as on the embedded index: its typo index (indexer.typos), from the local
        # index that was sent to this engine; every word checked against the engine (EngineReader).
        self.speller = Speller(self, typo_dir(self.engine, index_dir))
        self.typos = Typos()
        self.tfs: dict[int, dict[str, int]] = {}  # id -> keyword -> count, of this search's candidates
        self._numpy = None  # no embedded index's arrays (Searcher.search reads their warnings)
        self.conns = {"main": conn}  # and "counts": the totals' own, counted while presse ranks
        self.counter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="presse-engine-counts")
        self.shard_pool = ThreadPoolExecutor(max_workers=SHARD_THREADS,
                                             thread_name_prefix="presse-engine-shard")
        self._shards: tuple[float, list[Shard]] | None = None

    def refresh(self) -> bool:
        return False  # the engine serves its latest state to every query

    def reader(self) -> EngineReader:
        """What search.spelling and search.language read of an index, answered by the engine."""
        return EngineReader(self)

    def close(self) -> None:
        self.counter.shutdown(wait=True)
        self.shard_pool.shutdown(wait=True)
        for conn in self.conns.values():
            conn.close()

    @property
    def doc_count(self) -> int:
        return int(self.query(f"SELECT COUNT(*) FROM {self.index}")[0][0])

    def query(self, sql: str, args: list | tuple = ()) -> list[tuple]:
        """The rows of one statement (see :meth:`batch`)."""
        return self.batch([(sql, args)])[0]

    def meta(self, rows: list[tuple] | tuple) -> dict[str, str]:
        """``SHOW META`` rows as a dict; IndexUnavailable when they say an agent did not answer."""
        meta = {str(k): str(v) for k, v in rows}
        warning = " ".join(meta.get("warning", "").split())
        if AGENT_FAILED.search(MISSING_WORDS.sub("", warning)):  # not an index without the word
            raise IndexUnavailable(f"search engine {self.engine.url}: {warning} "
                                   "(results would be incomplete)")
        return meta

    def batch(self, statements: list[tuple[str, list | tuple]], conn: str = "main",
              server: tuple[str, int] | None = None) -> list[list[tuple]]:
        """The rows of each statement, sent together on connection ``conn`` (one round trip), to the
        engine's server or to ``server`` (one of its shards' own). A connection that dropped since the last
        query (the server restarted) is opened again once. An engine error, or an agent that did not answer
        (the results would be incomplete), raises :class:`IndexUnavailable` in one line; a query it refuses,
        :class:`SearchError`."""
        import pymysql

        for attempt in (1, 2):
            try:
                if conn not in self.conns:
                    self.conns[conn] = self.engine.connect(*(server or ()))
                return self._send(statements, self.conns[conn])
            except EngineError as e:
                raise IndexUnavailable(str(e)) from None
            except pymysql.MySQLError as e:
                if e.args and e.args[0] == 1064 and "agent" not in str(e.args[1]):
                    raise SearchError(f"The search engine refused the query: {error_text(e)}") from None
                if attempt == 1 and dropped(e):
                    try:
                        self.conns[conn] = self.engine.connect(*(server or ()))
                        continue
                    except EngineError:
                        pass
                raise IndexUnavailable(f"search engine {self.engine.url}: {error_text(e)}") from None
        raise AssertionError("unreachable")

    def _send(self, statements: list[tuple[str, list | tuple]], conn: Any) -> list[list[tuple]]:
        out: list[list[tuple]] = []
        warned = False
        with conn.cursor() as cur:
            cur.execute(";\n".join(cur.mogrify(sql, args) for sql, args in statements))
            while True:
                out.append(list(cur.fetchall()))
                warned = warned or bool(cur.warning_count)
                if not cur.nextset():
                    break
            if warned:  # the last statement's: an agent down makes every statement warn
                cur.execute("SHOW META")
                self.meta(cur.fetchall())
        return out

    # -- search (Searcher.search calls _search) --------------------------------------------------------

    def _search(self, opts: SearchOptions, prefer: str | None) -> Results:
        self.store = RemoteStore(self)
        self.tfs = {}
        compiled = compile_query(opts.query)
        self.stats.load(word_keys(compiled.words))  # what the query's language and typos read, one round trip
        inferred = QueryLanguage(self, self.stats).infer(opts.query) if opts.query.strip() else None
        self.typos = self.speller.expand(compiled, opts.query)  # as the embedded index (search.spelling)
        res = Results(query=opts.query, total=0, hits=[], facets=empty_facets(), page=opts.page,
                      limit=opts.limit, sort=opts.sort, corrected_query=self.typos.corrected_query,
                      suggestion=self.typos.corrected_query,
                      extra={"query_lang": inferred, "histogram": empty_histogram()})
        if compiled.must_query is None and (opts.query.strip() or not opts.filtered):
            if compiled.words:  # nothing to search: maybe a typo
                res.suggestion = self.speller.suggest(opts.query, compiled.words)
            return res  # as on the embedded index: nothing to search, or filters alone (listed newest first)
        prefer = prefer or inferred
        every, some = translate(compiled.must_query), translate(compiled.any_query)
        sort = "date" if compiled.must_query is None and opts.sort == "relevance" else opts.sort
        pool = max(opts.page * opts.limit * 2 + 10, RECENCY_POOL if opts.recency else 0, RANK_POOL)
        where = where_clause(opts, every)
        must, docs = self.matches(where, sort, pool * ENGINE_POOL)
        more = None
        res.mode = "all"
        if docs < opts.limit and some.match != every.match:  # fewer than a page: any of the words after
            any_where = where_clause(opts, some)
            found, more_docs = self.matches(any_where, sort, pool * ENGINE_POOL)
            if more_docs > docs:
                more = (found, more_docs)
                res.mode, where = "any", any_where
        if compiled.words and (docs < opts.limit or more):
            res.suggestion = self.speller.suggest(opts.query, compiled.words)
        if not (docs or more):
            return res
        counting = self.counter.submit(self._counts, where, more[1] if more else docs)  # while presse ranks
        try:
            ranked, prefer = self._ranked(opts, compiled, sort, pool, (must, docs), more, prefer)
        finally:
            res.total, res.facets, res.extra["histogram"] = counting.result()
        if not res.total:
            return res
        self.store.prefetch([d for d, _ in ranked[:opts.page * opts.limit * 3]], related=True)
        res.hits, collapsed = page_hits(ranked, opts.page, opts.limit, self.store, self.store.members,
                                        self.snippeter, compiled if every.match else None, prefer)
        res.extra["collapsed"] = collapsed
        return res

    def _ranked(self, opts: SearchOptions, compiled: Any, sort: str, pool: int, must: tuple[list, int],
                more: tuple[list, int] | None,
                prefer: str | None) -> tuple[list[tuple[int, float]], str | None]:
        """The engine's candidates (the all-word matches, then the others) in presse's order: scored by the
        embedded index's BM25 (:class:`PoolEvaluator`), then its own :meth:`Searcher._rank` over a
        :class:`PoolMatcher` of them; and the language shown first (asked for, or the best candidate's when
        the query has words)."""
        ids = list(dict.fromkeys([d for d, _ in must[0]] + [d for d, _ in (more[0] if more else [])]))
        number = {d: k for k, d in enumerate(ids)}
        self.store.prefetch(ids)
        queries = [compiled.must_query, compiled.any_query if more else None]
        terms = [t for q in queries for _, t in query_terms(q)]
        matcher = PoolMatcher([self.store.fields(d) for d in ids],
                              [self.store.lengths.get(d, (0, 0)) for d in ids], self.stats, terms,
                              [self.tfs.get(d) for d in ids])
        long_query = reads_as_sentence(compiled.words, compiled.stopwords, opts.query)  # as embedded
        signals = None
        if compiled.words:
            self.stats.load([k for q in queries for k in query_terms(q)])
            words = self.typos.words(compiled.words)
            signals = Signals.make(words, compiled.proximity, self.stats, long_query)
        parts = [Pooled([(number[d], s) for d, s in part[0]], part[1]) for part in (must, more) if part]
        if sort == "relevance":
            parts = [self._rescored(part, q, signals, matcher)
                     for part, q in zip(parts, queries, strict=False)]
        plan = Plan(opts, compiled, None, sort, long_query, pool, signals, prefer)
        if more is not None and long_query:  # a sentence: BM25 over any word, all-word matches not forced
            parts = [parts[1], None]
        ranked = self._rank(plan, matcher, parts[0], parts[1] if len(parts) > 1 else None)
        return [(ids[k], s) for k, s in ranked], prefer

    @staticmethod
    def _rescored(part: Pooled, q: Any, signals: Signals | None, matcher: PoolMatcher) -> Pooled:
        """A part of the candidates by the embedded index's BM25 of the query (its words' idf pooled as
        there); the engine's order when the query holds what the candidates' text cannot score."""
        if q is None or not part.ranked:
            return part
        try:
            _, score = PoolEvaluator(matcher, BM25_B, BM25_K1).evaluate(signals.pool(q) if signals else q)
        except Unsupported:
            return part
        ranked = sorted(((k, float(score[k])) for k, _ in part.ranked), key=lambda x: -x[1])
        return Pooled(ranked, part.found)

    def matches(self, where_args: tuple[str, list], sort: str,
                pool: int) -> tuple[list[tuple[int, float]], int]:
        """The best ``pool`` (id, score) of a search and how many documents it matches; each one's count of
        each query term in its title and body together, from the engine's ranking factors, into
        ``self.tfs`` (see :func:`term_frequencies`)."""
        where, args = where_args
        order = "day DESC, w DESC" if sort == "date" else "w DESC, day DESC"
        text = "MATCH(" in where and bool(args)  # else a full scan: no ranking factors
        rows, meta = self.batch([
            (f"SELECT id, WEIGHT() AS w{', PACKEDFACTORS() AS f' if text else ''} FROM {self.index} "
             f"WHERE {where} ORDER BY {order} LIMIT {pool} "
             f"OPTION ranker={RANKER}, max_matches={max(pool, 1000)}", args), ("SHOW META", ())])
        if text:
            atoms = match_atoms(args[0])
            for d, _, factors in rows:
                self.tfs.setdefault(int(d), {}).update(term_frequencies(str(factors), atoms))
        return [(int(r[0]), float(r[1]) / 10000) for r in rows], int(self.meta(meta).get("total_found", 0))

    def shards(self) -> list[Shard]:
        """The engine's shards, from its distributed index (read again after STATS_SECONDS: a reconfigured
        engine is seen)."""
        if self._shards is None or time.monotonic() - self._shards[0] > STATS_SECONDS:
            try:
                self._shards = (time.monotonic(), layout(self.engine))
            except EngineError as e:
                raise IndexUnavailable(str(e)) from None
        return self._shards[1]

    def _counts(self, where_args: tuple[str, list], docs: int) -> tuple[int, dict, dict]:
        """(statements, facets, histogram) of a search matching ``docs`` documents, run while presse ranks.
        Facets and histogram count documents (versions), as on the embedded index; the year facet is read
        off the days. Statements: the count of translation pairs, as :meth:`search.links.Pairs.folded`
        counts (a pair whose two versions match is one statement, whatever their language labels).

        Counted on every shard's own server over its own indexes, all shards at once, and summed: a
        statement and its translation share a shard, so the pair counts add up. Through the distributed
        index, every agent sent all its groups to be merged again (the largest part of a query's time)."""
        shards = self.shards()
        parts = list(self.shard_pool.map(lambda sh: self._shard_counts(sh, where_args, docs, len(shards)),
                                         shards))
        langs, sources, days = Counter(), Counter(), Counter()
        for _, lang, source, day in parts:
            langs.update(lang)
            sources.update(source)
            days.update(day)
        facets = empty_facets()
        years: Counter = Counter()
        for d, n in days.items():
            years[date.fromordinal(DAY_ORDINAL + d - DAY_ZERO).year if d else 0] += n
        for name, counts in (("lang", langs), ("source", sources), ("year", years)):
            facets[name] = {str(v): n for v, n in counts.most_common(1000) if v not in ("", 0)}
        return sum(p[0] for p in parts), facets, _histogram(sorted(days.items()))

    def _shard_counts(self, shard: Shard, where_args: tuple[str, list], docs: int,
                      shards: int) -> tuple[int, Counter, Counter, Counter]:
        """One shard's (pairs, languages, sources, days) of a search matching ``docs`` documents in all.
        Sphinx 2.2 sets aside ``max_matches`` rows for each index a grouping searches, whatever it finds
        (100,000 kept for 700 matches: 90 ms; 1,000: 3 ms), so first as many as a shard is likely to hold
        (statements are spread by a hash), all of them only when a grouping filled that: a grouping that
        stays under it never dropped a group, so its count is exact."""
        where, args = where_args
        base = f"FROM {', '.join(shard.indexes.values())} WHERE {where}"
        likely = int(docs * SHARD_SHARE / shards) + MIN_KEEP
        for keep in dict.fromkeys(max(MIN_KEEP, min(k, docs, MAX_MATCHES)) for k in (likely, docs)):
            days_kept = min(keep, MAX_DAYS)
            statements = [
                *[(f"SELECT {column}, COUNT(*) AS n {base} GROUP BY {column} ORDER BY n DESC LIMIT 1000 "
                   "OPTION ranker=none", args) for column in ("lang", "src")],
                (f"SELECT day, COUNT(*) AS n {base} GROUP BY day LIMIT {days_kept} "
                 f"OPTION ranker=none, max_matches={days_kept}", args),
                (f"SELECT pair {base} GROUP BY pair LIMIT 1 OPTION ranker=none, max_matches={keep}", args),
                ("SHOW META", ())]
            langs, sources, days, _, meta = self.batch(statements, conn=f"shard{shard.number}",
                                                       server=(shard.host, shard.port))
            pairs = int(self.meta(meta).get("total_found", 0))
            if pairs < keep and len(days) < days_kept:
                break
        counted = [Counter({str(v): int(n) for v, n in rows}) for rows in (langs, sources)]
        return pairs, *counted, Counter({int(d): int(n) for d, n in days})

    # -- statements -------------------------------------------------------------------------------------

    def statement(self, id) -> dict | None:
        """All stored fields of a statement, date as YYYY-MM-DD; None if unknown."""
        self.store = RemoteStore(self)
        return self.store.statement(id)

    def related(self, id, *, limit: int = 10) -> Results:
        """The statements most like a given one, in either language: any of its key words (and its
        translation's), by the engine's own statistics; ``score`` is the share of the statement's own match
        (0..1, at least RELATED_MIN), ``total`` the number returned, as on the embedded index."""
        self.store = RemoteStore(self)
        versions = self._versions(id)
        words, exclude = [], set()
        for doc, f in versions:
            words += self._key_words(f)
            exclude |= {doc} | (set(self.store.members(f["group"])) if f.get("group") else set())
        ranked = []
        if words:
            match = f"{TEXT_FIELDS} \"{' '.join(dict.fromkeys(words))}\"/1"
            rows = [(int(x), float(w)) for x, w in self.query(
                f"SELECT id, WEIGHT() AS w FROM {self.index} WHERE MATCH(%s) AND stub = 0 ORDER BY w DESC "
                f"LIMIT {3 * limit + 10 + len(exclude)} OPTION ranker={RANKER}", [match])]
            own = max((w for x, w in rows if x in dict(versions)), default=0.0) or max(
                (w for _, w in rows), default=1.0)
            ranked = [(x, min(1.0, w / own)) for x, w in rows if x not in exclude and w / own >= RELATED_MIN]
        res = Results(query=f"related:{id}", total=0, hits=[], facets=empty_facets(), limit=limit,
                      mode="related", extra={"source_id": str(id)})
        res.hits, _ = page_hits(ranked, 1, limit, self.store, self.store.members, self.snippeter, None,
                                versions[0][1].get("lang") or None)
        res.total, res.facets = len(res.hits), hit_facets(res.hits)
        return res

    def _versions(self, sid: Any) -> list[tuple[int, dict[str, Any]]]:
        """A statement (document id, stored fields) and its other-language version when there is one."""
        d = self.store.docnum(sid)
        if d is None:
            raise SearchError(f"No statement with id {sid!r} in the index.")
        other = other_version(d, self.store.fields(d), self.store)
        return [(d, self.store.fields(d))] + ([other] if other else [])

    def _key_words(self, fields: dict[str, Any]) -> list[str]:
        """The RELATED_TERMS words of a statement that best tell it apart: frequent in it, rare in its
        language's index on its shard (``CALL KEYWORDS`` gives both)."""
        lang = text_lang(fields.get("lang") or "")
        text = engine_terms((fields.get("title") or "") + "\n" + (fields.get("body") or "")[:20000], lang)[0]
        local = self._local_index(lang)
        if local is None:
            return []
        rows = self.query("CALL KEYWORDS(%s, %s, 1)", [text, local])
        tf = Counter(r[2] for r in rows)
        docs = {r[2]: (r[1], int(r[3])) for r in rows if len(r[1]) > len(lang) + 3}  # more than 2 letters
        total = max((n for _, n in docs.values()), default=1)
        scored = sorted(docs, key=lambda k: -tf[k] * (1.0 + (total + 1) / (docs[k][1] + 1)) ** 0.5)
        return [docs[k][0] for k in scored[:RELATED_TERMS]]

    def _local_index(self, lang: str) -> str | None:
        """A shard's index of ``lang`` on the server this searcher talks to: its statistics stand for the
        whole engine's (statements are spread over the shards by a hash)."""
        if not hasattr(self, "_tables"):
            self._tables = sorted(name for name, _ in self.query("SHOW TABLES"))
        pattern = re.compile(rf"{re.escape(self.index)}_{lang}_\d+")
        return next((t for t in self._tables if pattern.fullmatch(t)), None)
