"""Relevance on the service-public.fr test set: `python -m bench.relevance [--index DIR] [--half H] [-v]`.

Indexes ../shared/eval/spf/docs.jsonl (3,656 pages, through the ingester and the indexer when they are
there), runs each of the 535 French questions of queries.tsv through `Searcher.search` exactly as a user's
query, and scores against qrels.txt (one right page per question): MRR@10, success@1, success@10. The same
run scores SQLite FTS5 (unicode61 remove_diacritics 2, all words OR-ed, bm25) as a reference.
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPF = ROOT.parent / "shared" / "eval" / "spf"


def load_eval(spf: Path = SPF):
    queries = {}
    for line in (spf / "queries.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip():
            qid, text = line.split("\t", 1)
            queries[qid] = text
    qrels: dict[str, set[str]] = {}
    for line in (spf / "qrels.txt").read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[3] != "0":
            qrels.setdefault(parts[0], set()).add(parts[2])
    return queries, qrels


def build(index_dir: Path, spf: Path = SPF) -> Path:
    from indexer import update

    update([spf / "docs.jsonl"], index_dir)
    return index_dir


def metrics(ranked: dict[str, list[str]], qrels: dict[str, set[str]], k: int = 10) -> dict[str, float]:
    mrr = s1 = s10 = 0.0
    for qid, rel in qrels.items():
        ids = ranked.get(qid, [])[:k]
        for rank, doc in enumerate(ids, 1):
            if doc in rel:
                mrr += 1.0 / rank
                s1 += rank == 1
                s10 += 1
                break
    n = len(qrels) or 1
    return {"mrr@10": mrr / n, "success@1": s1 / n, "success@10": s10 / n}


def run_presse(index_dir: Path, queries, **kw):
    from search import Searcher
    ranked = {}
    modes = {"all": 0, "any": 0}
    t0 = time.perf_counter()
    with Searcher(index_dir) as s:
        for qid, text in queries.items():
            res = s.search(text, limit=10, **kw)
            ranked[qid] = [h["id"] for h in res.hits]
            modes[res.mode] = modes.get(res.mode, 0) + 1
    return ranked, time.perf_counter() - t0, modes


def run_fts5(spf: Path, queries):
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, text, "
               "tokenize='unicode61 remove_diacritics 2')")
    with open(spf / "docs.jsonl", encoding="utf-8") as f:
        db.executemany("INSERT INTO docs VALUES (?, ?)",
                       ((r["id"], r["text"]) for r in map(json.loads, f)))
    ranked = {}
    t0 = time.perf_counter()
    for qid, text in queries.items():
        words = re.findall(r"\w+", text)
        if not words:
            ranked[qid] = []
            continue
        match = " OR ".join('"' + w.replace('"', '') + '"' for w in words)
        rows = db.execute("SELECT id FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT 10", (match,))
        ranked[qid] = [r[0] for r in rows]
    return ranked, time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", help="reuse (or build into) this index directory")
    ap.add_argument("--spf", default=str(SPF))
    ap.add_argument("--verbose", "-v", action="store_true", help="list the questions presse misses")
    ap.add_argument("--half", choices=("tune", "test", "all"), default="all",
                    help="the questions of one half (bench.knownitem's seeded split)")
    args = ap.parse_args(argv)
    spf = Path(args.spf)
    if not (spf / "docs.jsonl").exists():
        print(f"no test set in {spf}", file=sys.stderr)
        return 2
    queries, qrels = load_eval(spf)
    if args.half != "all":
        from bench.knownitem import half
        qrels = {q: r for q, r in qrels.items() if half(q) == args.half}
        queries = {q: t for q, t in queries.items() if q in qrels}
    tmp = None
    if args.index:
        index_dir = Path(args.index)
        if not (index_dir.exists() and any(index_dir.glob("*.toc"))):
            t = time.perf_counter()
            build(index_dir, spf)
            print(f"indexed {spf / 'docs.jsonl'} in {time.perf_counter() - t:.1f}s")
    else:
        tmp = tempfile.TemporaryDirectory(prefix="presse-spf-")
        index_dir = Path(tmp.name)
        t = time.perf_counter()
        build(index_dir, spf)
        print(f"indexed {spf / 'docs.jsonl'} in {time.perf_counter() - t:.1f}s")

    ranked, took, modes = run_presse(index_dir, queries)
    fts, fts_took = run_fts5(spf, queries)
    rows = [("presse", metrics(ranked, qrels), took),
            ("SQLite FTS5 (OR, bm25)", metrics(fts, qrels), fts_took)]
    print(f"{len(queries)} questions, {len(qrels)} judged; presse modes: {modes}")
    print(f"{'engine':<24} {'MRR@10':>7} {'succ@1':>7} {'succ@10':>8} {'ms/query':>9}")
    for name, m, t in rows:
        print(f"{name:<24} {m['mrr@10']:>7.3f} {m['success@1']:>7.3f} {m['success@10']:>8.3f} "
              f"{1000 * t / max(1, len(queries)):>9.1f}")
    if args.verbose:
        for qid, rel in qrels.items():
            ids = ranked.get(qid, [])
            if not (set(ids[:1]) & rel):
                pos = next((i for i, d in enumerate(ids, 1) if d in rel), None)
                print(f"  {qid} rank={pos} {queries[qid]!r}")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
