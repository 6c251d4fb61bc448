"""Ranking signals, in one place: BM25F, the proximity bonus, the recency blend, and the order of facets.

BM25F over per-language title and body fields, the title boosted (``field_boost`` 3 in the schema), with
the usual idf (:class:`BM25`); then a bonus for the best candidates whose query words stand close together,
in order (:func:`proximity_rerank`); then, when asked, freshness blended in (:func:`blend_recency`). When
statements matching every word are followed by statements matching only some (``mode == "any"``), each part
is re-ranked on its own (:func:`by_part`): the all-word matches stay first.

The signals read the index through a matcher (:class:`search.matching.Matcher`): document languages, term
positions, idf and dates, whichever backend evaluated the query.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from whoosh import scoring

from indexer.analysis import LANGS

BM25_B = 0.3
BM25_K1 = 1.6
RECENCY_POOL = 200
PROXIMITY_POOL = 50  # how many of the best BM25 candidates get the proximity bonus
PROXIMITY_WINDOW = 5  # words
PROXIMITY_WEIGHT = 0.5
NO_DATE = -1  # in a date-ticks array (search.fastpath.IndexArrays.dates): no date
TICKS_PER_DAY = 86_400_000_000  # Whoosh's date ticks are microseconds

Ranked = list[tuple[int, float]]  # (docnum, score), best first


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


def weighting() -> BM25:
    return BM25(B=BM25_B, K1=BM25_K1)


def by_part(ranked: Ranked, n_must: int | None, rerank: Callable[[Ranked], Ranked]) -> Ranked:
    """rerank applied to the whole list, or (n_must given) to the all-word matches and the rest apart."""
    if n_must is None:
        return rerank(ranked)
    return rerank(ranked[:n_must]) + rerank(ranked[n_must:])


def proximity_rerank(ranked: Ranked, proximity: dict[str, list[str]], matcher: Any) -> Ranked:
    """Add a bonus to the best candidates whose query words stand close together.

    For each pair of consecutive query words (in query order) found within PROXIMITY_WINDOW words of each
    other in the title or body: PROXIMITY_WEIGHT * (mean idf of the pair) / distance. Positions come
    straight from the postings, for the PROXIMITY_POOL best candidates only.
    """
    if len(ranked) < 2:
        return ranked
    head, tail = ranked[:PROXIMITY_POOL], ranked[PROXIMITY_POOL:]
    by_lang: dict[str, list[int]] = {}
    for d, _ in head:
        lang = matcher.lang_of(d)
        by_lang.setdefault(lang if lang in LANGS else "xx", []).append(d)
    bonus: dict[int, float] = {}
    for tl, docs in by_lang.items():
        terms = proximity.get(tl)
        if terms:
            docs.sort()
            for kind in ("title", "body"):
                _pair_bonus(f"{kind}_{tl}", terms, docs, matcher, bonus)
    if not bonus:
        return ranked
    head = sorted(((d, s + bonus.get(d, 0.0)) for d, s in head), key=lambda x: -x[1])
    return head + tail


def _pair_bonus(fname: str, terms: list[str], docs: list[int], matcher: Any, bonus: dict[int, float]) -> None:
    positions: dict[str, dict[int, list[int]]] = {}
    for t in set(terms):
        found = matcher.positions(fname, t, docs)
        if found is not None:
            positions[t] = found
    for a, b in zip(terms, terms[1:], strict=False):
        if a == b or a not in positions or b not in positions:
            continue
        weight = PROXIMITY_WEIGHT * (matcher.idf(fname, a) + matcher.idf(fname, b)) / 2
        pa, pb = positions[a], positions[b]
        for d in docs:
            if d in pa and d in pb:
                dist = min_distance(pa[d], pb[d])
                if dist <= PROXIMITY_WINDOW:
                    bonus[d] = bonus.get(d, 0.0) + weight / max(1, dist)


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
