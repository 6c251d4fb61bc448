"""The distributed engine beside the embedded index:
`python -m bench.sphinxql --corpus yukon|nsb [--half tune|test|all] [--servers N] [--ranker R] [--limit N]
[--engine URL --index DIR]`.

Starts N ``searchd`` (Debian's sphinxsearch 2.2.11) on free 127.0.0.1 ports with `presse engine-config`'s
configuration (N shards, one per server), sends a copy of the corpus's presse index to it
(:func:`indexer.sphinxql.sync`: wall and CPU time), then runs the known-item lookups of
:mod:`bench.knownitem` (same seed, same halves) through both searchers: top-10 overlap with the embedded
index (shared ids / 10, or / the shorter list), the share of queries with the same total, MRR@10 and
success@1 of each, query median and p95, and SQLite FTS5 (AND) beside on the same queries. Prints one
table; servers are stopped at the end. ``--engine URL --index DIR``: an engine already holding DIR (sent by
`presse index DIR --engine URL`): no server started, nothing sent.

For ``python -m bench scale`` (bench/scale.py):

    scale_point(index_dir: Path, queries: list, agents: int) -> dict

starts ``agents`` searchd servers (one shard each) in a temporary folder, sends a copy of the presse index
``index_dir`` to them and runs ``queries`` (strings, or objects with a ``text`` and ``options``) once each
through the engine, 10 hits with snippets and exact totals. Returns ``{"agents", "statements", "sync_s",
"sync_cpu_s", "median_ms", "p95_ms", "cpu_ms_per_query", "load"}`` (sync: wall and presse-side CPU seconds;
queries: wall milliseconds, warm searcher). The servers are stopped before it returns.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.common import percentile
from bench.knownitem import (
    DEFAULT_INDEX,
    half,
    load_docs,
    make_lookups,
    metrics,
    open_corpus,
    relations,
    run_fts5,
)


def overlap(a: list[str], b: list[str], k: int = 10, same=lambda i: i) -> float | None:
    """Shared ids of two top-k lists, over the shorter list's length (None when both are empty); ``same``:
    an id's statement (a statement and its translation are one result, shown in either language)."""
    a, b = [same(i) for i in a[:k]], [same(i) for i in b[:k]]
    n = min(len(a), len(b))
    if not n:
        return None if not a and not b else 0.0
    return len(set(a) & set(b)) / n


def timed_run(searcher, queries) -> tuple[dict[str, list[str]], list[float], float, dict[str, int]]:
    """Each query's top-10 ids, wall time and total, and the CPU time of the whole run (presse's side)."""
    ranked, times, totals = {}, [], {}
    c0 = cpu()
    for q in queries:
        t = time.perf_counter()
        res = searcher.search(q.text, limit=10)
        times.append(time.perf_counter() - t)
        ranked[q.qid] = [h["id"] for h in res.hits]
        totals[q.qid] = res.total
    return ranked, times, cpu() - c0, totals


def scale_point(index_dir: Path, queries: list, agents: int) -> dict:
    """Sync a copy of ``index_dir`` to ``agents`` new searchd servers (one shard each) and time ``queries``
    through the engine (see the module docstring)."""
    from indexer.sphinxql import sync
    from search.sphinxql import RemoteSearcher
    from tests.sphinx_servers import Servers

    # each query with its options (a filter of the mix), as bench.scale times the embedded index
    texts = [(getattr(q, "text", q), getattr(q, "options", None) or {}) for q in queries]
    with tempfile.TemporaryDirectory(prefix="presse-scale-sphinx-") as tmp:
        local = Path(tmp) / "idx"
        shutil.copytree(index_dir, local)
        servers = Servers(Path(tmp) / "engine", servers=agents, shards=agents)
        try:
            wall, c0 = time.perf_counter(), cpu()
            report = sync(local, servers.url)
            wall, used = time.perf_counter() - wall, cpu() - c0
            times = []
            with RemoteSearcher(servers.url) as remote:
                c1 = cpu()
                for text, options in texts:
                    t = time.perf_counter()
                    remote.search(text, limit=10, **options)
                    times.append(time.perf_counter() - t)
                per_query = (cpu() - c1) / max(len(texts), 1)
        finally:
            servers.close()
    return {"agents": agents, "statements": report.sent, "sync_s": wall, "sync_cpu_s": used,
            "median_ms": statistics.median(times) * 1000 if times else 0.0,
            "p95_ms": percentile(times, 0.95) * 1000 if times else 0.0,
            "cpu_ms_per_query": per_query * 1000, "load": os.getloadavg()[0]}


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def both_runs(index_dir: Path, url: str, queries) -> tuple:
    """timed_run on the embedded index, then on the engine holding it."""
    from search import Searcher
    from search.sphinxql import RemoteSearcher

    with Searcher(index_dir) as s:
        embedded = timed_run(s, queries)
    with RemoteSearcher(url) as r:
        remote = timed_run(r, queries)
    return (*embedded, *remote)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", choices=("yukon", "nsb"), default="yukon")
    ap.add_argument("--half", choices=("tune", "test", "all"), default="test")
    ap.add_argument("--servers", type=int, default=2)
    ap.add_argument("--ranker", default=None, help="SphinxQL ranker option (default: search.sphinxql's)")
    ap.add_argument("--limit", type=int, default=0, help="at most this many queries")
    ap.add_argument("--engine", default=None, help="an engine holding --index (nothing sent)")
    ap.add_argument("--index", type=Path, default=None, help="with --engine: the presse index it holds")
    args = ap.parse_args(argv)
    if args.engine and not args.index:
        ap.error("--engine needs --index (the presse index the engine holds)")
    if shutil.which("searchd") is None and not args.engine:
        print("searchd is not installed (Debian: apt-get install sphinxsearch)", file=sys.stderr)
        return 2
    from indexer.sphinxql import sync
    from search import sphinxql
    from tests.sphinx_servers import Servers

    if args.ranker:
        sphinxql.RANKER = args.ranker
    source = DEFAULT_INDEX[args.corpus]
    db = open_corpus(args.corpus)
    docs = load_docs(db)
    rel = relations(docs)
    queries = make_lookups(args.corpus, docs, rel)
    queries = [q for q in queries if args.half == "all" or half(q.qid) == args.half]
    queries = queries[:args.limit] if args.limit else queries
    if args.engine:
        report, wall, used = None, 0.0, 0.0
        embedded, t_emb, c_emb, tot_emb, remote, t_rem, c_rem, tot_rem = both_runs(args.index, args.engine,
                                                                                   queries)
        load = os.getloadavg()[0]
    else:
        with tempfile.TemporaryDirectory(prefix="presse-bench-sphinx-") as tmp:
            local = Path(tmp) / "idx"
            shutil.copytree(source, local)
            servers = Servers(Path(tmp) / "engine", servers=args.servers, shards=args.servers)
            try:
                wall, c0 = time.perf_counter(), cpu()
                report = sync(local, servers.url)
                wall, used = time.perf_counter() - wall, cpu() - c0
                embedded, t_emb, c_emb, tot_emb, remote, t_rem, c_rem, tot_rem = both_runs(local, servers.url,
                                                                                           queries)
                load = os.getloadavg()[0]
            finally:
                servers.close()
    fts = run_fts5(db, queries, " AND ")
    db.close()
    overlaps = [o for q in queries if (o := overlap(remote[q.qid], embedded[q.qid])) is not None]
    same = lambda i: min([i, *rel.translations.get(i, ())])  # noqa: E731
    statements = [o for q in queries if (o := overlap(remote[q.qid], embedded[q.qid], same=same)) is not None]
    where = f"{args.servers} searchd (shards {report.per_shard})" if report else f"engine {args.engine}"
    print(f"corpus {args.corpus}, {len(queries)} queries ({args.half} half), {where}, "
          f"ranker {sphinxql.RANKER}")
    if report:
        print(f"sync: {report.sent} statements in {wall:.1f} s wall, {used:.1f} s CPU (presse side), "
              f"{report.sent / max(wall, 1e-9):.0f}/s; load average {os.getloadavg()[0]:.2f}")
    same_total = statistics.mean(tot_rem[q.qid] == tot_emb[q.qid] for q in queries)
    print(f"same total as the embedded index: {same_total:.3f} of the queries")
    print(f"top-10 overlap with the embedded index: ids {statistics.mean(overlaps):.3f} (median "
          f"{statistics.median(overlaps):.3f}), statements {statistics.mean(statements):.3f} (median "
          f"{statistics.median(statements):.3f})")
    print(f"{'engine':<12} {'MRR@10':>7} {'succ@1':>7} {'median ms':>10} {'p95 ms':>8} {'CPU ms/q':>9}")
    rows = (("embedded", embedded, t_emb, c_emb), ("sphinxql", remote, t_rem, c_rem),
            ("FTS5 AND", fts.ranked, None, None))
    for name, ranked, times, used in rows:
        m = metrics(queries, ranked)
        mean_fts = f"{fts.seconds / len(queries) * 1000:.1f}*"
        med = f"{statistics.median(times) * 1000:.1f}" if times else mean_fts
        p95 = f"{percentile(times, 0.95) * 1000:.1f}" if times else ""
        per_query = f"{used / len(queries) * 1000:.1f}" if used is not None else ""
        print(f"{name:<12} {m['mrr@10']:7.3f} {m['success@1']:7.3f} {med:>10} {p95:>8} {per_query:>9}")
    print(f"* FTS5: mean per query. CPU: presse's process (searchd's own not counted); load average after "
          f"the queries {load:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
