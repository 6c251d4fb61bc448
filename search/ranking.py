"""Ranking signals, in one place: BM25F, pooled idf, the known-item signals, the recency blend, facet order.

BM25F over per-language title and body fields, the title boosted (``field_boost`` 3 in the schema), with
the usual idf (:class:`BM25`). A query's per-query state is a :class:`Signals` (made by the engine's plan):

- **pooled idf**: a word's document frequency is summed over the language fields of its analysed forms
  (``body_fr`` + ``body_en`` + ``body_xx``), so a French word in an English page does not look rare; the
  compiled query carries it as term boosts (:meth:`Signals.pool`), which both matchers honour alike;
- **coverage**: statements with every word first (the AND part), then the others by the idf-weighted share
  of the words they contain (:func:`rerank`);
- **where**: the idf-weighted share of the words found in the title, and how much of the title they make
  up (a title made only of the query's words is an exact match and goes above a longer one); a keyword
  lookup weighs these far above BM25 over long bodies, a question (``Signals.sentence``) much less;
- **proximity**: words close together and in query order (:func:`proximity_bonus`);
- **lead**: words among the body's first LEAD_WINDOW words (the first sentence a person remembers besides the
  title; it also tells apart periodic releases whose titles are the same);
- **dates**: a month name (French or English, ``corpus.dates``' table) or a year among the words is also a
  soft date signal: statements dated then get a small bonus.

Each signal is a bonus in BM25 units (scaled by the query's total idf) added to the BM25 score of the
candidates; the all-word matches stay first. When asked, freshness is blended in (:func:`blend_recency`).

The signals read the index through a matcher (:class:`search.matching.Matcher`): languages, term presence,
field lengths, positions and dates, whichever backend evaluated the query, so both give the same order.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from whoosh import query as wq
from whoosh import scoring

from indexer.analysis import LANGS, fold
from indexer.schema import text_lang
from search.query import analyse_query

BM25_B = 0.5  # 0.3 let long transcripts bury short statements; tuned on bench.knownitem (tune half)
BM25_K1 = 1.6
RECENCY_POOL = 200
RANK_POOL = 100  # how many of the best BM25 candidates the known-item signals re-rank
PROXIMITY_POOL = 50  # how many of the best BM25 candidates get the proximity bonus
PROXIMITY_WINDOW = 5  # words
PROXIMITY_WEIGHT = 0.5
LEAD_WINDOW = 20  # words: the body's lead (its first sentence or two)
LEAD_WEIGHT = 0.8  # tuned on bench.knownitem's tune halves (SPF +0.026, NSB and Yukon +0.005)
# The known-item bonuses, times the query's total (pooled) idf: tuned on bench.knownitem's tune halves. For a
# keyword lookup the title weighs far more than BM25 over long bodies (title 1.5 and share 0.3 gave NSB 0.809,
# 5 and 2.5 give 0.829, SPF and Yukon unchanged)
COVERAGE_WEIGHT = 1.0  # the idf-weighted share of the words a statement contains
TITLE_WEIGHT = 5.0  # ... that its title contains (to the power TITLE_POWER: most of the words, not one
TITLE_POWER = 3  # word of a long question)
SHARE_WEIGHT = 2.5  # how much of the title the query's words make up
EXACT_WEIGHT = 0.3  # the title is made of the query's words, all of them
DATE_WEIGHT = 0.5  # dated in the month / year the query names (0.2 was too weak beside the title weights)
# a question (long, with stopwords) is seldom a title: its own (title, share, exact) weights, tuned on SPF
SENTENCE_TITLE = (0.75, 0.15, 0.15)
NO_DATE = -1  # in a date-ticks array (search.fastpath.IndexArrays.dates): no date
TICKS_PER_DAY = 86_400_000_000  # Whoosh's date ticks are microseconds
_EPOCH = dt.datetime.min  # Whoosh's date ticks count from there
UNIX_EPOCH_TICKS = (dt.datetime(1970, 1, 1) - _EPOCH) // dt.timedelta(microseconds=1)  # 1970-01-01 in ticks

Ranked = list[tuple[int, float]]  # (docnum, score), best first
Positions = dict[str, dict[int, list[int]]]  # term -> docnum -> its positions in one field


class BM25(scoring.BM25F):
    """Whoosh's BM25F with the usual BM25 idf, log(1 + (N - n + 0.5) / (n + 0.5)).

    Whoosh's own idf, log(N / (n + 1)) + 1, gives very common words far too much weight: on the
    service-public questions it costs 0.1 of MRR@10.
    """

    def idf(self, searcher, fieldname, text):
        parent = searcher.get_parent()
        return bm25_idf(parent.doc_count_all(), parent.doc_frequency(fieldname, text))


def weighting() -> BM25:
    return BM25(B=BM25_B, K1=BM25_K1)


def by_part(ranked: Ranked, n_must: int | None, rerank: Callable[[Ranked], Ranked]) -> Ranked:
    """rerank applied to the whole list, or (n_must given) to the all-word matches and the rest apart."""
    if n_must is None:
        return rerank(ranked)
    return rerank(ranked[:n_must]) + rerank(ranked[n_must:])


@dataclass
class Signals:
    """What ranking knows of one query: its plain words analysed per language, their pooled idf, the
    months and years they name, and the analysed words in order (for proximity)."""

    words: list[dict[str, tuple[str, ...]]]  # per plain word: text-field language -> its analysed terms
    idf: np.ndarray  # per word: the pooled idf (body fields; the title's when no body has it)
    boosts: dict[tuple[str, tuple[str, ...]], float]  # (field, a word's terms) -> pooled idf / the field's
    proximity: dict[str, list[str]]  # language -> analysed words in query order
    months: frozenset[int] = frozenset()
    years: frozenset[int] = frozenset()
    sentence: bool = False  # a question or a sentence rather than remembered keywords (search.engine)

    @classmethod
    def make(cls, words: list[str], proximity: dict[str, list[str]], stats: IndexStats) -> Signals:
        """The signals of a query's plain words (``Compiled.words``) against an index's statistics."""
        analysed: list[dict[str, tuple[str, ...]]] = []
        idf, boosts = [], {}
        for w in dict.fromkeys(words):
            forms = {lang: tuple(t for _, t in analyse_query(w, lang)) for lang in LANGS}
            forms = {lang: terms for lang, terms in forms.items() if terms}
            if not forms:
                continue
            analysed.append(forms)
            pooled, found = {}, {}
            for kind in ("title", "body"):
                dfs = {lang: min(stats.df(f"{kind}_{lang}", t) for t in terms)
                       for lang, terms in forms.items()}
                pooled[kind], found[kind] = bm25_idf(stats.n_docs, sum(dfs.values())), any(dfs.values())
                for lang, terms in forms.items():
                    fname = f"{kind}_{lang}"
                    if dfs[lang]:  # a phrase scores as its words' sum
                        boosts[(fname, terms)] = pooled[kind] / sum(stats.idf(fname, t) for t in terms)
            idf.append(pooled["body"] if found["body"] else pooled["title"])
        months, years = date_words(words)
        return cls(analysed, np.asarray(idf, dtype=np.float64), boosts, proximity, months, years)

    def pool(self, q):
        """q with each plain word's terms weighted by the pooled idf instead of their field's own."""
        if q is None or not self.boosts:
            return q
        if isinstance(q, wq.Term):
            ratio = self.boosts.get((q.fieldname, (q.text,)))
            return q if ratio is None else wq.Term(q.fieldname, q.text, boost=q.boost * ratio)
        if isinstance(q, wq.Phrase):  # a word the analyzer splits ("l'économie" in English: l, economi)
            ratio = self.boosts.get((q.fieldname, tuple(q.words)))
            return q if ratio is None else wq.Phrase(q.fieldname, q.words, slop=q.slop, boost=q.boost * ratio,
                                                     char_ranges=q.char_ranges)
        return q.apply(self.pool)

    def idf_of(self, matcher: Any, fname: str, t: str) -> float:
        return matcher.idf(fname, t) * self.boosts.get((fname, (t,)), 1.0)


class IndexStats:
    """Document frequencies and idf of an open index, cached (the same words recur from query to query)."""

    MAX_CACHED = 200_000

    def __init__(self, searcher: Any):
        self.searcher = searcher
        self.reader = searcher.reader()
        self.n_docs = self.reader.doc_count_all()
        self._df: dict[tuple[str, str], int] = {}

    def df(self, fname: str, t: str) -> int:
        key = (fname, t)
        n = self._df.get(key)
        if n is None:
            if len(self._df) > self.MAX_CACHED:
                self._df.clear()
            n = self._df[key] = self.reader.doc_frequency(fname, t)
        return n

    def __contains__(self, key: tuple[str, str]) -> bool:
        """Whether the index holds the term (field, text), as ``key in reader`` says (a term is only ever
        written with a posting), from the cached frequency: no lexicon search in every segment."""
        return self.df(*key) > 0

    def expand_prefix(self, fname: str, prefix: str):
        return self.reader.expand_prefix(fname, prefix)

    def idf(self, fname: str, t: str) -> float:
        """The weighting's idf (what BM25 multiplies the field's term score by)."""
        return bm25_idf(self.n_docs, self.df(fname, t))


def bm25_idf(n_docs: int, df: int) -> float:
    """The usual BM25 idf, log(1 + (N - n + 0.5) / (n + 0.5))."""
    return math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))


def _month_names() -> dict[str, int]:
    """Month names as a query's folded word: French, and English in full (abbreviations are words too)."""
    from corpus.dates import EN_MONTHS, FR_MONTHS

    full = {m: max((k for k, v in EN_MONTHS.items() if v == m), key=len) for m in set(EN_MONTHS.values())}
    return {fold(k): v for k, v in FR_MONTHS.items()} | {k: m for m, k in full.items()}


MONTHS = _month_names()


def date_words(words: Iterable[str]) -> tuple[frozenset[int], frozenset[int]]:
    """The months and the years (1900-2100) a query's words name."""
    months, years = set(), set()
    for w in words:
        f = fold(w)
        if f in MONTHS:
            months.add(MONTHS[f])
        elif len(f) == 4 and f.isdigit() and 1900 <= int(f) <= 2100:
            years.add(int(f))
    return frozenset(months), frozenset(years)


def rerank(ranked: Ranked, n_must: int | None, signals: Signals, matcher: Any) -> Ranked:
    """The candidates in their final order: the all-word matches (the first ``n_must``, or all of them when
    None) first; each part by BM25 plus the known-item bonuses (coverage, title, exactness, date, proximity).
    """
    if len(ranked) < 2 or not signals.words:
        return ranked
    docs = np.fromiter((d for d, _ in ranked), dtype=np.int64, count=len(ranked))
    score = np.fromiter((s for _, s in ranked), dtype=np.float64, count=len(ranked))
    score = score + bonuses(docs, signals, matcher)
    parts = [(0, len(ranked))] if n_must is None else [(0, n_must), (n_must, len(ranked))]
    for start, end in parts:
        head = slice(start, min(end, start + PROXIMITY_POOL))
        prox = proximity_bonus(docs[head].tolist(), signals, matcher)
        for k, d in enumerate(docs[head].tolist(), start):
            score[k] += prox.get(d, 0.0)
    tier = np.zeros(len(ranked), dtype=np.int64)
    if n_must is not None:
        tier[n_must:] = 1
    order = np.lexsort((docs, -score, tier))
    return [(int(docs[k]), float(score[k])) for k in order]


def bonuses(docs: np.ndarray, signals: Signals, matcher: Any) -> np.ndarray:
    """Per candidate, the coverage, title, exactness and date bonuses, in BM25 units."""
    n_words = len(signals.words)
    in_title = np.zeros((n_words, len(docs)), dtype=bool)
    in_body = np.zeros((n_words, len(docs)), dtype=bool)
    title_len = np.zeros(len(docs), dtype=np.float64)
    title_terms = np.zeros(len(docs), dtype=np.float64)  # query terms found in the title
    langs = np.array([text_lang(matcher.lang_of(int(d))) for d in docs])
    for lang in np.unique(langs).tolist():
        at = np.flatnonzero(langs == lang)
        sub = docs[at]
        title_len[at] = matcher.field_lengths(f"title_{lang}", sub)
        seen: set[str] = set()
        for i, forms in enumerate(signals.words):
            terms = forms.get(lang)
            if not terms:
                continue
            t_hit = np.ones(len(at), dtype=bool)
            b_hit = np.ones(len(at), dtype=bool)
            for t in terms:
                has_t = matcher.has(f"title_{lang}", t, sub)
                t_hit &= has_t
                b_hit &= matcher.has(f"body_{lang}", t, sub)
                if t not in seen:
                    seen.add(t)
                    title_terms[at] += has_t
            in_title[i, at] = t_hit
            in_body[i, at] = b_hit
    idf = signals.idf
    total = float(idf.sum()) or 1.0
    coverage = idf @ (in_title | in_body) / total
    title_cov = idf @ in_title / total
    share = np.divide(title_terms, title_len, out=np.zeros(len(docs)), where=title_len > 0)
    share = np.minimum(share, 1.0)
    exact = (title_cov >= 1.0 - 1e-9) & (share >= 1.0 - 1e-9)
    title_cov = title_cov ** TITLE_POWER
    keywords = (TITLE_WEIGHT, SHARE_WEIGHT, EXACT_WEIGHT)
    w_title, w_share, w_exact = SENTENCE_TITLE if signals.sentence else keywords
    bonus = COVERAGE_WEIGHT * coverage + (w_title + w_share * share) * title_cov + w_exact * exact
    if signals.months or signals.years:
        bonus = bonus + DATE_WEIGHT * date_match(matcher.date_ticks()[docs], signals)
    return total * bonus


def date_match(ticks: np.ndarray, signals: Signals) -> np.ndarray:
    """Whether each date (Whoosh ticks) falls in a month and a year the query names (either, when it names
    only one of them)."""
    out = np.zeros(len(ticks), dtype=bool)
    for k, t in enumerate(ticks.tolist()):
        if t == NO_DATE:
            continue
        day = _EPOCH + dt.timedelta(microseconds=int(t))
        out[k] = ((not signals.months or day.month in signals.months)
                  and (not signals.years or day.year in signals.years))
    return out


def proximity_bonus(docs: list[int], signals: Signals, matcher: Any) -> dict[int, float]:
    """A bonus for candidates whose query words stand close together, and for words in the body's lead.

    For each pair of consecutive query words (in query order) found within PROXIMITY_WINDOW words of each
    other in the title or body: PROXIMITY_WEIGHT * (mean pooled idf of the pair) / distance. For each query
    word among the body's first LEAD_WINDOW words (what a person remembers besides the title: the first
    sentence): LEAD_WEIGHT * its pooled idf; it tells apart periodic releases whose titles are the same.
    Positions come straight from the postings, for the PROXIMITY_POOL best candidates of each part only.
    """
    by_lang: dict[str, list[int]] = {}
    for d in docs:
        by_lang.setdefault(text_lang(matcher.lang_of(d)), []).append(d)
    bonus: dict[int, float] = {}
    for tl, lang_docs in by_lang.items():
        terms = signals.proximity.get(tl)
        if terms:
            lang_docs.sort()
            for kind in ("title", "body"):
                fname = f"{kind}_{tl}"
                positions = _positions(fname, terms, lang_docs, matcher)
                _pair_bonus(fname, terms, positions, lang_docs, matcher, signals, bonus)
                if kind == "body":
                    _lead_bonus(fname, positions, matcher, signals, bonus)
    return bonus


def _positions(fname: str, terms: list[str], docs: list[int], matcher: Any) -> Positions:
    positions: Positions = {}
    for t in set(terms):
        found = matcher.positions(fname, t, docs)
        if found is not None:
            positions[t] = found
    return positions


def _pair_bonus(fname: str, terms: list[str], positions: Positions, docs: list[int],
                matcher: Any, signals: Signals, bonus: dict[int, float]) -> None:
    for a, b in zip(terms, terms[1:], strict=False):
        if a == b or a not in positions or b not in positions:
            continue
        weight = PROXIMITY_WEIGHT * (signals.idf_of(matcher, fname, a) + signals.idf_of(matcher, fname, b))
        weight /= 2
        pa, pb = positions[a], positions[b]
        for d in docs:
            if d in pa and d in pb:
                dist = min_distance(pa[d], pb[d])
                if dist <= PROXIMITY_WINDOW:
                    bonus[d] = bonus.get(d, 0.0) + weight / max(1, dist)


def _lead_bonus(fname: str, positions: Positions, matcher: Any, signals: Signals,
                bonus: dict[int, float]) -> None:
    for t, found in positions.items():
        weight = LEAD_WEIGHT * signals.idf_of(matcher, fname, t)
        for d, pos in found.items():
            if pos and pos[0] < LEAD_WINDOW:
                bonus[d] = bonus.get(d, 0.0) + weight


def freshness(dates: np.ndarray, now_ticks: int) -> np.ndarray:
    """0.5 ** (age in whole days / 365) from date ticks, 0 without a date."""
    days = np.maximum(0, (now_ticks - dates) // TICKS_PER_DAY)
    return np.where(dates == NO_DATE, 0.0, 0.5 ** (days / 365.0))


def blend_recency(ranked: Ranked, recency: float, fresh: np.ndarray) -> Ranked:
    """(1 - recency) * score / best + recency * freshness, best first (fresh: per docnum)."""
    if not ranked:
        return []
    best = max(s for _, s in ranked) or 1.0
    scored = [(d, (1 - recency) * (s / best) + recency * float(fresh[d])) for d, s in ranked]
    return sorted(scored, key=lambda x: -x[1])


def min_distance(a: list[int], b: list[int]) -> int:
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


def facet_counts(items: Iterable[tuple[str, int]], name: str) -> dict[str, int]:
    """A facet's counts in display order: years newest first, the others by count then name; no empties."""
    items = [(k, v) for k, v in items if k]
    key = (lambda kv: (-int(kv[0]) if kv[0].isdigit() else 0, kv[0])) if name == "year" else (
        lambda kv: (-kv[1], kv[0]))
    return dict(sorted(items, key=key))
