"""Refit the known-item weights of search/ranking.py: `python -m bench.fit [--rounds N] [--sets S,S]`.

The ranking adds ``total idf * features @ weights`` (:func:`search.ranking.features`,
:func:`search.ranking.weights`) to each candidate's BM25. This script runs the tune half of each query set of
:mod:`bench.knownitem` (SPF questions, NSB and Yukon lookups) once through presse, keeping for every query
what the ranking saw (the candidates' BM25, the all-word part, their :class:`search.ranking.Evidence`, the
language preferred), then replays the ranking offline for other weights and climbs the mean MRR@10 of the
sets, one weight at a time (coordinate ascent, as RankLib's). It prints the weights found and each set's
MRR@10 before and after, on the tune halves and, for the record, the test halves (never fitted on).

The replay is the engine's order (tiers, bonuses, language preference) with one result per statement (a
statement's versions and duplicates are one result, as the engine folds them): it gives the engine's
MRR@10 to within a few thousandths. Copy the weights into search/ranking.py by hand, then check them with
``python -m bench quality``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import pickle
import sys
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from bench import knownitem as ki
from search.ranking import NOWHERE

STEPS = (0.0, 0.25, 0.5, 0.75, 0.9, 1.1, 1.33, 2.0, 4.0)  # a weight's trial values, times its present value
CAPTURE_NEAR = 1000  # positions read for every candidate at capture; the replay keeps PROXIMITY_POOL's
FROM_ZERO = (-1.0, -0.25, 0.25, 1.0)  # trial values of a weight at 0


@dataclass
class Case:
    """One query as the ranking saw it."""

    qid: str
    part: str  # "tune" / "test"
    sentence: bool
    total: float
    bm25: np.ndarray
    tier: np.ndarray  # 0: every word, 1: some
    ev: Any  # search.ranking.Evidence (None: nothing ranked)
    idf: np.ndarray  # the query's words' pooled idf
    docs: np.ndarray
    other_lang: np.ndarray  # bool: not in the preferred language (None preferred: all False)
    relevant: np.ndarray  # bool
    key: np.ndarray  # one statement, one key (versions and duplicates share it)
    _feats: np.ndarray | None = None

    @property
    def feats(self) -> np.ndarray:
        """(docs, features): search.ranking.features of the evidence, as the code now computes them."""
        if self._feats is None:
            from search import ranking
            if self.ev is None:
                return np.zeros((0, len(ranking.FEATURES)))
            self._feats = ranking.features(near(self.ev, self.tier, ranking.PROXIMITY_POOL),
                                           SimpleNamespace(idf=self.idf))
        return self._feats


def near(ev: Any, tier: np.ndarray, pool: int) -> Any:
    """The evidence as the engine reads it: positions only for the ``pool`` best BM25 candidates of each part
    (tier)."""
    far = np.zeros(len(tier), dtype=bool)
    for t in (0, 1):
        at = np.flatnonzero(tier == t)
        far[at[pool:]] = True
    if not far.any():
        return ev
    first = ev.first.copy()
    first[:, far] = NOWHERE
    pairs = ev.pairs.copy()
    pairs[:, far] = 0
    return dataclasses.replace(ev, first=first, pairs=pairs, near=ev.near & ~far)


def capture(corpus: str, index: Path | None, limit: int | None = None) -> list[Case]:
    """Every query of ``corpus`` (both halves) run once through presse, as the ranking saw it."""
    db = ki.open_corpus(corpus)
    docs = ki.load_docs(db)
    db.close()
    rel = ki.relations(docs)
    queries = ki.spf_queries(docs) if corpus == "spf" else ki.make_lookups(corpus, docs, rel)
    queries = queries[:limit] if limit else queries
    return capture_queries(queries, ki.ensure_index(corpus, index or ki.default_index(corpus)), rel)


def capture_queries(queries: list[ki.Query], index: Path, rel: ki.Relations) -> list[Case]:
    """Each query run once through presse on ``index``, as the ranking saw it (a query the ranking did not
    see, without results, counts as a miss)."""
    from search import Searcher, language, ranking

    seen: dict = {}
    real_rerank, real_prefer = ranking.rerank, language.prefer

    def rerank(ranked, n_must, signals, matcher):
        d = np.array([x for x, _ in ranked], dtype=np.int64)
        seen.update(docs=d, bm25=np.array([s for _, s in ranked]), n_must=n_must, signals=signals,
                    ev=ranking.evidence(d, n_must, signals, matcher),
                    langs=[matcher.lang_of(int(x)) for x in d])
        return real_rerank(ranked, n_must, signals, matcher)

    def prefer(ranked, lang, lang_of):
        seen["prefer"] = lang
        return real_prefer(ranked, lang, lang_of)

    ranking.rerank, language.prefer = rerank, prefer
    pool, ranking.PROXIMITY_POOL = ranking.PROXIMITY_POOL, CAPTURE_NEAR  # every candidate's positions
    out: list[Case] = []
    try:
        with Searcher(index) as s:
            ids: dict[int, str] = {}
            for q in queries:
                seen.clear()
                s.search(q.text, limit=10)
                out.append(_case(q, seen, s, ids, rel) if "ev" in seen else _unranked(q))
    finally:
        ranking.rerank, language.prefer = real_rerank, real_prefer
        ranking.PROXIMITY_POOL = pool
    return out


def _unranked(q: ki.Query) -> Case:
    """A query that found nothing to rank."""
    none, ints, no = np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    return Case(q.qid, ki.half(q.qid), False, 1.0, none, ints, None, none, ints, no, no, none)


def _case(q: ki.Query, seen: dict, s, ids: dict[int, str], rel: ki.Relations) -> Case:
    d = seen["docs"]
    for x in d.tolist():
        if x not in ids:
            ids[x] = s.store.fields(x)["id"]
    names = [ids[x] for x in d.tolist()]
    signals = seen["signals"]
    tier = np.zeros(len(d), dtype=np.int64)
    if seen["n_must"] is not None:
        tier[seen["n_must"]:] = 1
    prefer = seen.get("prefer")
    relevant = set(q.relevant)
    key = np.array([min(rel.relevant(i)) for i in names])
    return Case(q.qid, ki.half(q.qid), signals.sentence, float(signals.idf.sum()) or 1.0, seen["bm25"], tier,
                seen["ev"], signals.idf, d,
                np.array([bool(prefer) and lang != prefer for lang in seen["langs"]]),
                np.array([i in relevant for i in names]), key)


def cached(corpus: str, folder: Path | None, limit: int | None) -> list[Case]:
    path = folder / f"{corpus}-{limit or 'all'}.pkl" if folder else None
    if path is not None and path.exists():
        with open(path, "rb") as f:
            cases = pickle.load(f)  # noqa: S301 (the script's own file)
        for c in cases:
            c._feats = None  # computed again by the code as it is now
        return cases
    print(f"capturing {corpus} …", file=sys.stderr, flush=True)
    cases = capture(corpus, None, limit)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        for c in cases:
            c._feats = None
        with open(path, "wb") as f:
            pickle.dump(cases, f)
    return cases


def reciprocal_rank(c: Case, w_keywords: np.ndarray, w_sentence: np.ndarray, kept: float) -> float:
    """1 / the rank of the first relevant statement in the replayed order (0 beyond 10)."""
    w = w_sentence if c.sentence else w_keywords
    score = c.bm25 + c.total * (c.feats @ w)
    order = np.lexsort((c.docs, -score, c.tier))
    score = np.where(c.other_lang, score * kept, score)  # search.language.prefer, within each tier
    order = order[np.lexsort((np.arange(len(order)), -score[order], c.tier[order]))]
    shown: set = set()
    for k in order.tolist():
        if c.relevant[k]:
            return 1.0 / (len(shown) + 1) if len(shown) < 10 else 0.0
        shown.add(c.key[k])
        if len(shown) >= 10:
            return 0.0
    return 0.0


def mrr(cases: list[Case], w: np.ndarray, ws: np.ndarray, kept: float) -> float:
    return sum(reciprocal_rank(c, w, ws, kept) for c in cases) / (len(cases) or 1)


def objective(sets: dict[str, list[Case]], w: np.ndarray, ws: np.ndarray, kept: float) -> float:
    """The mean of the sets' MRR@10 (each set counts the same, whatever its size)."""
    return sum(mrr(cs, w, ws, kept) for cs in sets.values()) / len(sets)


def ascend(sets: dict[str, list[Case]], w: np.ndarray, ws: np.ndarray, kept: float,
           rounds: int, free: set[str] | None = None, signed: frozenset[str] | set[str] = frozenset(),
           questions: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Coordinate ascent on the keyword lookups' weights and the questions'."""
    from search.ranking import FEATURES

    best = objective(sets, w, ws, kept)
    slots = [(vec, k) for vec in ((w, ws) if questions else (w,)) for k, name in enumerate(FEATURES)
             if free is None or name in free]
    for r in range(rounds):
        moved = False
        for vec, k in slots:
            base = vec[k]
            trials = sorted({base * f for f in STEPS} | (set(FROM_ZERO) if base == 0 else set()))
            for v in trials:
                if v < 0 and FEATURES[k] not in signed:
                    continue
                vec[k] = v
                got = objective(sets, w, ws, kept)
                if got > best + 1e-6:
                    best, base, moved = got, v, True
            vec[k] = base
        print(f"round {r + 1}: objective {best:.4f}", flush=True)
        if not moved:
            break
    return w, ws


def report(label: str, sets: dict[str, list[Case]], w, ws, kept) -> None:
    for part in ("tune", "test"):
        cells = [f"{name} {mrr([c for c in cs if c.part == part], w, ws, kept):.3f}"
                 for name, cs in sets.items()]
        print(f"{label:<8} {part}: " + ", ".join(cells))


def main(argv: list[str] | None = None) -> int:
    from search import language, ranking

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", default="spf,nsb,yukon")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--limit", type=int, help="the first N queries of each set")
    ap.add_argument("--near", type=int, help="replay with this PROXIMITY_POOL (positions of the N best)")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="replay with a constant of search.ranking changed (LEAD_WIDE=40)")
    ap.add_argument("--keywords-only", action="store_true", help="keep the questions' weights")
    ap.add_argument("--free", help="the features whose weights move (default: all)")
    ap.add_argument("--signed", default="", help="the features whose weights may be negative")
    ap.add_argument("--cache", help="a folder keeping the captures (pickles, to replay after a change to "
                                    "search.ranking.features; capture again after a change to Evidence)")
    args = ap.parse_args(argv)
    every = {}
    for corpus in args.sets.split(","):
        every[corpus] = cached(corpus, Path(args.cache) if args.cache else None, args.limit)
    if args.near:
        ranking.PROXIMITY_POOL = args.near
    for name, value in (x.split("=") for x in args.set):
        setattr(ranking, name, type(getattr(ranking, name))(value))
    tune = {k: [c for c in cs if c.part == "tune"] for k, cs in every.items()}
    kept = 1.0 - language.LANG_PENALTY
    w, ws = ranking.weights(False), ranking.weights(True)
    print(f"load average {os.getloadavg()[0]:.2f}")
    report("now", every, w, ws, kept)
    free = set(args.free.split(",")) if args.free else None
    w, ws = ascend(tune, w.copy(), ws.copy(), kept, args.rounds, free, set(args.signed.split(",")),
                   not args.keywords_only)
    report("fitted", every, w, ws, kept)
    for name, a, b in zip(ranking.FEATURES, w, ws, strict=True):
        print(f"  {name:<12} keywords {a:.3f}   questions {b:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
