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
- **proximity**: words close together (title, body);
- **lead**: words among the body's first LEAD_WINDOW words (the first sentence a person remembers besides the
  title; it also tells apart periodic releases whose titles are the same);
- **title and lead**: every word in the title or among the body's first LEAD_WIDE words, where a remembered
  lookup's words come from (NSB lookups' test half 0.823 -> 0.855 with the refit);
- **dates**: a month name (French or English, ``corpus.dates``' table) or a year among the words is also a
  soft date signal: statements dated then get a small bonus;
- **questions** (:mod:`search.questions`: a question mark or an interrogative first word, or a long query with
  stopwords): ranked as sentences, all-word matches not forced first; their French words also match their
  Snowball family ("immatriculer" -> "immatriculation") at FAMILY_WEIGHT, in BM25 and in the evidence; and
  **opening**: the words first met near the body's start (a page names its subject in its first words).
  On SPF: tune 0.863 -> 0.889, test 0.828 -> 0.850 (questions alone: 0.866 / 0.837; with families 0.880 /
  0.842; with opening 0.889 / 0.850). Then, tune half only: the family taken from the typed word's Snowball
  stem, not the light-stemmed term's (0.8887 -> 0.8925); a question's inverted verb ("peut-on", "doit-il":
  the answer says "vous pouvez") scored but not required (-> 0.8963); "elles" a stopword (-> 0.9000); and
  undated pages with one title no longer grouped as duplicates (indexer.documents.group_key: -> 0.8982, the
  distractor sections titled "Cas général" no longer hidden).

The candidates' :class:`Evidence` (which words are where) gives each a row of :data:`FEATURES`; the bonus is
the query's total idf times ``features @ weights`` (KEYWORD_WEIGHTS, or QUESTION_WEIGHTS for a question),
added to the BM25 score; the all-word matches stay first. The weights are fitted on the tune halves of
bench.knownitem by ``python -m bench.fit``. Measured there and not kept (no gain on the tune halves that held
on the test halves): title words adjacent in query order, a wider lead, the body's length, the questions'
own refit (SPF tune +0.016, test +0.002), a first-position decay, coverage cubed, positions for 100
candidates instead of 50. Measured for questions only on SPF and not kept (tune half up to +0.010, test
half -0.003 to +0.004, within the halves' noise): pseudo-relevance feedback (Bo1 terms of the top 1-8
candidates, 5-40 terms, scored by presence or BM25 tf; 80 ms a question through Whoosh's
key_terms_from_text), per-question BM25 b 0.3-0.9 / k1 1.2-3.0, question-frame words ("peut", "faut",
"comment") at 0.1-0.5 of their idf, the best window of 10-80 body words' idf share, and these combined.
Measured after the question signals and not kept: a corpus-trained LSA (randomized SVD in numpy, 100-300
dimensions, over the SPF pages' analysed words) as a question-document similarity feature (tune half lower at
every weight), a passage BM25 of the body's first 60 words (k1 0.5 / 1.2: at most +0.0013), consecutive
question words together in the opening, an idf power in the features, positions
for 100 candidates, families scored in BM25 only or in the evidence only, MIN_STEM 3, MAX_FAMILY 16,
OPENING_SCALE 5/20, no typo tolerance for questions: each lower on the tune half. MIN_STEM 5 (+0.0014) and
MAX_FAMILY 4 (+0.0005) were higher there by less than one question's rank and are not taken.
When asked, freshness is blended in (:func:`blend_recency`).

The signals read the index through a matcher (:class:`search.matching.Matcher`): languages, term presence,
field lengths, positions and dates, whichever backend evaluated the query, so both give the same order.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from whoosh import query as wq
from whoosh import scoring

from indexer.analysis import LANGS, fold
from indexer.postings import distinct
from indexer.schema import text_lang
from indexer.tables import NO_DATE  # in a date-ticks array: no date
from search.query import analyse_query
from search.questions import family, is_inversion

BM25_B = 0.5  # 0.3 let long transcripts bury short statements; tuned on bench.knownitem (tune half)
BM25_K1 = 1.6
RECENCY_POOL = 200
RANK_POOL = 100  # how many of the best BM25 candidates the known-item signals re-rank
PROXIMITY_POOL = 50  # how many of the best BM25 candidates get the proximity bonus
PROXIMITY_WINDOW = 5  # words
LEAD_WINDOW = 20  # words: the body's lead (its first sentence or two)
LEAD_WIDE = 30  # words: the title-and-lead window (20 to 80 measured: 30 best on the tune halves)
FAMILY_WEIGHT = 0.5  # a question's word matched by a derived form (search.questions) scores half the word
TITLE_POWER = 3  # the title's share of the words counts to this power: most of the words, not one of many
# The known-item weights (search.ranking.FEATURES), in BM25 units per unit of the query's total pooled idf,
# fitted by coordinate ascent on the mean MRR@10 of bench.knownitem's tune halves (SPF, NSB, Yukon):
# ``python -m bench.fit`` refits them. A keyword lookup (no stopword) weighs the title far above BM25 over
# long bodies; a question (long, with stopwords, ``Signals.sentence``) is seldom a title and has its own.
KEYWORD_WEIGHTS = {"coverage": 0.75, "title": 0.0, "title_share": 10.0, "exact": 0.3, "date": 0.5,
                   "proximity": 0.15, "lead": 0.5, "title_lead": 2.0, "opening": 0.0}
QUESTION_WEIGHTS = {"coverage": 1.0, "title": 0.75, "title_share": 0.15, "exact": 0.15, "date": 0.5,
                    "proximity": 0.5, "lead": 0.8, "title_lead": 0.0, "opening": 1.0}
OPENING_SCALE = 10  # words: a word first seen at the body's start counts 1, at the 10th 1/2, the 30th 1/4
TICKS_PER_DAY = 86_400_000_000  # Whoosh's date ticks are microseconds
_EPOCH = dt.datetime.min  # Whoosh's date ticks count from there
UNIX_EPOCH_TICKS = (dt.datetime(1970, 1, 1) - _EPOCH) // dt.timedelta(microseconds=1)  # 1970-01-01 in ticks

Ranked = list[tuple[int, float]]  # (docnum, score), best first


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
    # (field, term) -> the derived terms a question's French word also matches, each with its term boost
    # (search.questions.family): FAMILY_WEIGHT of the word's pooled idf
    variants: dict[tuple[str, str], tuple[tuple[str, float], ...]] = field(default_factory=dict)
    # (field, a word's terms) of a question's inverted verbs ("peut-on"): not required (search.questions)
    optional: frozenset[tuple[str, tuple[str, ...]]] = frozenset()

    @classmethod
    def make(cls, words: list[str], proximity: dict[str, list[str]], stats: IndexStats,
             sentence: bool = False) -> Signals:
        """The signals of a query's plain words (``Compiled.words``) against an index's statistics; a
        ``sentence`` (a question) also matches its French words' derived forms."""
        analysed: list[dict[str, tuple[str, ...]]] = []
        idf, boosts, variants, optional = [], {}, {}, set()
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
                if sentence and len(forms.get("fr", ())) == 1:
                    fname, t = f"{kind}_fr", forms["fr"][0]
                    found_as = stats.family(fname, t, w)
                    if found_as:
                        variants[(fname, t)] = tuple((v, FAMILY_WEIGHT * pooled[kind] / stats.idf(fname, v))
                                                     for v in found_as)
            idf.append(pooled["body"] if found["body"] else pooled["title"])
            if sentence and is_inversion(w):
                optional.update((f"{kind}_{lang}", terms) for kind in ("title", "body")
                                for lang, terms in forms.items())
        months, years = date_words(words)
        return cls(analysed, np.asarray(idf, dtype=np.float64), boosts, proximity, months, years, sentence,
                   variants, frozenset(optional))

    def pool(self, q):
        """q with each plain word's terms weighted by the pooled idf instead of their field's own; a
        question's inverted verbs ("peut-on": ``optional``) moved out of an AND into its "maybe" part."""
        if q is None or not self.boosts:
            return q
        if isinstance(q, wq.Term):
            ratio = self.boosts.get((q.fieldname, (q.text,)))
            term = q if ratio is None else wq.Term(q.fieldname, q.text, boost=q.boost * ratio)
            derived = self.variants.get((q.fieldname, q.text))
            if not derived:
                return term
            return wq.Or([term, *(wq.Term(q.fieldname, v, boost=q.boost * b) for v, b in derived)])
        if isinstance(q, wq.And) and self.optional:
            frame = [c for c in q.subqueries if self._optional(c)]
            if frame and len(frame) < len(q.subqueries):
                must = [self.pool(c) for c in q.subqueries if not self._optional(c)]
                maybe = [self.pool(c) for c in frame]
                return wq.AndMaybe(must[0] if len(must) == 1 else wq.And(must),
                                   maybe[0] if len(maybe) == 1 else wq.Or(maybe))
        if isinstance(q, wq.Phrase):  # a word the analyzer splits ("l'économie" in English: l, economi)
            ratio = self.boosts.get((q.fieldname, tuple(q.words)))
            return q if ratio is None else wq.Phrase(q.fieldname, q.words, slop=q.slop, boost=q.boost * ratio,
                                                     char_ranges=q.char_ranges)
        return q.apply(self.pool)

    def _optional(self, q) -> bool:
        """Whether every leaf of q is a term of a word not required (``optional``)."""
        if isinstance(q, wq.Term):
            return (q.fieldname, (q.text,)) in self.optional
        if isinstance(q, wq.Phrase):
            return (q.fieldname, tuple(q.words)) in self.optional
        kids = list(q.children())
        return bool(kids) and all(self._optional(c) for c in kids)

    def idf_of(self, matcher: Any, fname: str, t: str) -> float:
        return matcher.idf(fname, t) * self.boosts.get((fname, (t,)), 1.0)

    def forms_of(self, fname: str, t: str) -> tuple[str, ...]:
        """The term and the derived forms it also matches in a field (a question's French word)."""
        return (t, *(v for v, _ in self.variants.get((fname, t), ())))


class IndexStats:
    """Document frequencies and idf of an open index, cached (the same words recur from query to query)."""

    MAX_CACHED = 200_000

    def __init__(self, searcher: Any):
        self.searcher = searcher
        self.reader = searcher.reader()
        self.n_docs = self.reader.doc_count_all()
        self._df: dict[tuple[str, str], int] = {}
        self._families: dict[tuple[str, str, str], tuple[str, ...]] = {}

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

    def family(self, fname: str, t: str, word: str = "") -> tuple[str, ...]:
        """The indexed derived forms of a French term typed as ``word`` (:func:`search.questions.family`),
        cached; a title field's are the body field's that it holds (one lexicon walk a word, not two)."""
        key = (fname, t, word)
        got = self._families.get(key)
        if got is None:
            if len(self._families) > self.MAX_CACHED:
                self._families.clear()
            kind, _, lang = fname.partition("_")
            if kind == "title":
                got = tuple(v for v in self.family(f"body_{lang}", t, word) if self.df(fname, v))
            else:
                got = family(t, lambda prefix: self.expand_prefix(fname, prefix), word)
            self._families[key] = got
        return got

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
    None) first; each part by BM25 plus the known-item bonuses, the query's total idf times
    ``features @ weights`` (:func:`features`, :func:`weights`).
    """
    if len(ranked) < 2 or not signals.words:
        return ranked
    docs = np.fromiter((d for d, _ in ranked), dtype=np.int64, count=len(ranked))
    score = np.fromiter((s for _, s in ranked), dtype=np.float64, count=len(ranked))
    score = score + score_bonus(evidence(docs, n_must, signals, matcher), signals)
    tier = np.zeros(len(ranked), dtype=np.int64)
    if n_must is not None:
        tier[n_must:] = 1
    order = np.lexsort((docs, -score, tier))
    return [(int(docs[k]), float(score[k])) for k in order]


@dataclass
class Evidence:
    """What the known-item features read of a query's candidates (one column a candidate): where each word
    is, how long the title is, whether the date matches, and (for the PROXIMITY_POOL best BM25 candidates
    of each part, ``near``) the word positions' contributions."""

    in_title: np.ndarray  # (words, docs) bool
    in_body: np.ndarray  # (words, docs) bool
    first: np.ndarray  # (words, docs): the word's first position in the body (NOWHERE: not there / not near)
    title_len: np.ndarray  # words in the title
    title_terms: np.ndarray  # distinct query terms found in the title
    date: np.ndarray  # bool: dated in the month / year the query names
    pairs: np.ndarray  # (2, docs) sum over consecutive query words close together in the title, the body:
    # mean idf / distance
    near: np.ndarray  # bool: the positions were read


NOWHERE = 1 << 30


def evidence(docs: np.ndarray, n_must: int | None, signals: Signals, matcher: Any) -> Evidence:
    """The :class:`Evidence` of the candidates ``docs`` (in BM25 order; the first ``n_must`` match every
    word)."""
    n_words, n = len(signals.words), len(docs)
    ev = Evidence(np.zeros((n_words, n), dtype=bool), np.zeros((n_words, n), dtype=bool),
                  np.full((n_words, n), NOWHERE, dtype=np.int64), np.zeros(n), np.zeros(n),
                  np.zeros(n, dtype=bool), np.zeros((2, n)), np.zeros(n, dtype=bool))
    parts = [(0, n)] if n_must is None else [(0, n_must), (n_must, n)]
    for start, end in parts:
        ev.near[start:min(end, start + PROXIMITY_POOL)] = True
    langs = np.array([text_lang(matcher.lang_of(int(d))) for d in docs])
    for lang in distinct(langs).tolist():  # not np.unique: it imports numpy.ma (cold start)
        at = np.flatnonzero(langs == lang)
        _presence(ev, at, docs[at], lang, signals, matcher)
        near = at[ev.near[at]]
        if len(near):
            _positional(ev, near, docs[near], lang, signals, matcher)
    if signals.months or signals.years:
        ev.date = date_match(matcher.date_ticks()[docs], signals)
    return ev


def _presence(ev: Evidence, at: np.ndarray, sub: np.ndarray, lang: str, signals: Signals,
              matcher: Any) -> None:
    """Which words the title and the body of the candidates ``sub`` (columns ``at``, one language) hold."""
    ev.title_len[at] = matcher.field_lengths(f"title_{lang}", sub)
    seen: set[str] = set()
    for i, forms in enumerate(signals.words):
        terms = forms.get(lang)
        if not terms:
            continue
        t_hit = np.ones(len(at), dtype=bool)
        b_hit = np.ones(len(at), dtype=bool)
        for t in terms:
            has_t = _has(matcher, f"title_{lang}", t, sub, signals)
            t_hit &= has_t
            b_hit &= _has(matcher, f"body_{lang}", t, sub, signals)
            if t not in seen:
                seen.add(t)
                ev.title_terms[at] += has_t
        ev.in_title[i, at] = t_hit
        ev.in_body[i, at] = b_hit


def _has(matcher: Any, fname: str, t: str, sub: np.ndarray, signals: Signals) -> np.ndarray:
    """Whether each of the candidates ``sub`` holds the term in the field, or (a question) a derived form."""
    forms = signals.forms_of(fname, t)
    found = matcher.has(fname, forms[0], sub)
    for v in forms[1:]:
        found = found | matcher.has(fname, v, sub)
    return found


def _positional(ev: Evidence, at: np.ndarray, sub: np.ndarray, lang: str, signals: Signals,
                matcher: Any) -> None:
    """Proximity and first body position of each word, from the postings, for the candidates ``sub``
    (columns ``at``, one language)."""
    order = np.argsort(sub, kind="stable")
    sorted_docs = sub[order].tolist()
    col = dict(zip(sub.tolist(), at.tolist(), strict=True))
    where: dict[str, list[tuple[int, dict[int, list[int]]]]] = {"title": [], "body": []}
    for i, forms in enumerate(signals.words):
        terms = forms.get(lang)
        if not terms:
            continue
        for kind in ("title", "body"):
            where[kind].append((i, _word_positions(f"{kind}_{lang}", terms, sorted_docs, matcher, signals)))
    for i, found in where["body"]:
        for d, pos in found.items():
            ev.first[i, col[d]] = pos[0]
    idf = signals.idf
    for row, words in enumerate(where.values()):
        for (i, pa), (j, pb) in zip(words, words[1:], strict=False):
            weight = (idf[i] + idf[j]) / 2
            for d in pa.keys() & pb.keys():
                dist = min_distance(pa[d], pb[d])
                if dist <= PROXIMITY_WINDOW:
                    ev.pairs[row, col[d]] += weight / max(1, dist)


def _word_positions(fname: str, terms: tuple[str, ...], docs: list[int], matcher: Any,
                    signals: Signals) -> dict[int, list[int]]:
    """A word's positions in each of docs (sorted) that holds it: its first term's (a word the analyzer
    splits, "l'économie", is placed by its first part), and its derived forms' (a question's)."""
    forms = signals.forms_of(fname, terms[0])
    found = matcher.positions(fname, forms[0], docs) or {}
    for v in forms[1:]:
        for d, pos in (matcher.positions(fname, v, docs) or {}).items():
            found[d] = sorted(found.get(d, []) + list(pos))
    return found


FEATURES = ("coverage", "title", "title_share", "exact", "date", "proximity", "lead", "title_lead", "opening")


def features(ev: Evidence, signals: Signals) -> np.ndarray:
    """The known-item features of each candidate (rows) in FEATURES' order, each in shares of the query's
    total idf (or 0/1):

    - coverage: the idf-weighted share of the words the statement contains (title or body);
    - title: that share in the title, to the power TITLE_POWER (most of the words, not one of a question);
    - title_share: ``title`` times how much of the title the query's terms make up (an exact title above a
      longer one);
    - exact: the title holds every word and nothing else;
    - date: dated in the month / year the query names;
    - proximity: consecutive query words close together (title and body), mean idf / distance;
    - lead: the words among the body's first LEAD_WINDOW words (the first sentence a person remembers
      besides the title; it also tells apart periodic releases whose titles are the same);
    - title_lead: the share of the words in the title or among the body's first LEAD_WIDE words (a title
      and a first sentence: where a remembered lookup's words come from), to the power TITLE_POWER;
    - opening: how close to the body's start the words first come, 1 / (1 + position / OPENING_SCALE),
      idf-weighted (a page about something names it in its first words: "La franchise est ...").
    """
    idf = signals.idf
    total = float(idf.sum()) or 1.0
    coverage = idf @ (ev.in_title | ev.in_body) / total
    title_cov = idf @ ev.in_title / total
    share = np.divide(ev.title_terms, ev.title_len, out=np.zeros(len(ev.title_len)), where=ev.title_len > 0)
    share = np.minimum(share, 1.0)
    exact = (title_cov >= 1.0 - 1e-9) & (share >= 1.0 - 1e-9)
    title_pow = title_cov ** TITLE_POWER
    lead = idf @ (ev.first < LEAD_WINDOW) / total
    title_lead = (idf @ (ev.in_title | (ev.first < LEAD_WIDE)) / total) ** TITLE_POWER
    opening = idf @ (1.0 / (1.0 + ev.first / OPENING_SCALE)) / total  # NOWHERE: ~0
    cols = [coverage, title_pow, share * title_pow, exact, ev.date, ev.pairs.sum(axis=0) / total, lead,
            title_lead, opening]
    return np.column_stack(cols).astype(np.float64)


def weights(sentence: bool) -> np.ndarray:
    """The features' weights (FEATURES' order) for a keyword lookup or (``sentence``) a question."""
    chosen = QUESTION_WEIGHTS if sentence else KEYWORD_WEIGHTS
    return np.array([chosen[name] for name in FEATURES], dtype=np.float64)


def score_bonus(ev: Evidence, signals: Signals) -> np.ndarray:
    """Per candidate, the known-item bonus in BM25 units: the query's total idf times features @ weights."""
    total = float(signals.idf.sum()) or 1.0
    return total * (features(ev, signals) @ weights(signals.sentence))


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
