"""Query latency on the full NSB corpus: `python -m bench.querying [--index DIR] [--runs N] [--cold N]`.

Builds (once, cached under /tmp) an index of ../shared/corpus/nsb/nsb.jsonl.gz and an SQLite FTS5 table of
the same statements (unicode61 remove_diacritics 2), then times keyword queries end to end with snippets for
10 results: `Searcher.search` (exact total, facets, duplicates, snippets) against FTS5
`MATCH ... ORDER BY bm25 LIMIT 10` with `snippet()` plus a COUNT(*).

- warm: one Searcher (as the server and the batch CLI keep), one warm-up, then --runs runs per query;
- cold: a new Searcher (and a new SQLite connection) for each of --cold runs, first query only (the OS page
  cache is warm: this is the cost of a fresh process's first search, not of a disk read);
- start-up: `presse search QUERY` as a subprocess, wall time (Python start, imports, open, one query, print).

Reports median and p95 in ms per query and overall, and the presse/FTS5 ratio of the medians.
Targets (warm): median <= 10 ms, p95 <= 50 ms.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import subprocess
import sys
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NSB = ROOT.parent / "shared" / "corpus" / "nsb" / "nsb.jsonl.gz"
INDEX = Path("/tmp/presse-nsb-index")
FTS = Path("/tmp/presse-nsb-fts5.sqlite")
QUERIES = ["coronavirus", "énergie nucléaire", "protection des données", "climate change", "Conseil fédéral",
           # 3-5 keywords
           "assurance maladie primes hausse", "politique énergétique Conseil fédéral",
           "climate change adaptation strategy", "protection des données personnelles santé",
           "sanctions Russie Ukraine économie"]


def build_index(index_dir: Path) -> None:
    tmp = index_dir.with_name(index_dir.name + ".building")
    from indexer import update

    update([NSB], tmp)
    tmp.rename(index_dir)


def build_fts(index_dir: Path, db_path: Path) -> None:
    from whoosh import index as windex
    ix = windex.open_dir(str(index_dir))
    tmp = db_path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp)
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, body, "
               "tokenize='unicode61 remove_diacritics 2')")
    with ix.searcher() as s:
        rows = ((f.get("id"), f.get("title", ""), zlib.decompress(f["body_z"]).decode("utf-8"))
                for f in s.all_stored_fields())
        db.executemany("INSERT INTO docs VALUES (?, ?, ?)", rows)
    db.commit()
    db.close()
    tmp.rename(db_path)


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]


def _fts(db, q: str) -> None:
    words = [w for w in q.replace("'", " ").split()]
    match = " AND ".join('"' + w.replace('"', "") + '"' for w in words)
    db.execute("SELECT id, title, snippet(docs, 2, '<mark>', '</mark>', '…', 30) FROM docs "
               "WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT 10", (match,)).fetchall()
    db.execute("SELECT count(*) FROM docs WHERE docs MATCH ?", (match,)).fetchone()


def _ms(f) -> float:
    t = time.perf_counter()
    f()
    return (time.perf_counter() - t) * 1000


def _row(name, hits, tp, tf) -> str:
    mp, mf = statistics.median(tp), statistics.median(tf)
    return (f"{name:<42} {hits:>6} {mp:>8.1f} {percentile(tp, .95):>7.1f} {mf:>8.1f} "
            f"{percentile(tf, .95):>7.1f} {mp / mf if mf else 0:>6.1f}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", default=str(INDEX))
    ap.add_argument("--fts", default=str(FTS))
    ap.add_argument("--runs", type=int, default=7, help="warm runs per query")
    ap.add_argument("--cold", type=int, default=3, help="cold runs per query (a new Searcher each)")
    ap.add_argument("--startup", type=int, default=3, help="`presse search` runs (0: skip)")
    args = ap.parse_args(argv)
    index_dir, fts_path = Path(args.index), Path(args.fts)
    if not index_dir.exists():
        print(f"building {index_dir} (once; takes several minutes)")
        build_index(index_dir)
    if not fts_path.exists():
        build_fts(index_dir, fts_path)

    from search import Searcher
    header = f"{'query':<42} {'hits':>6} {'presse':>8} {'p95':>7} {'FTS5':>8} {'p95':>7} {'ratio':>6}"

    # cold: a fresh Searcher (and connection) per run, first query only
    opens = []
    cold: dict[str, tuple[list, list]] = {}
    for q in QUERIES:
        tp, tf = [], []
        for _ in range(args.cold):
            t = time.perf_counter()
            s = Searcher(index_dir)
            opens.append((time.perf_counter() - t) * 1000)
            tp.append(_ms(lambda s=s, q=q: s.search(q, limit=10)))
            s.close()
            db = sqlite3.connect(fts_path)
            tf.append(_ms(lambda db=db, q=q: _fts(db, q)))
            db.close()
        cold[q] = (tp, tf)

    searcher = Searcher(index_dir)
    db = sqlite3.connect(fts_path)
    warm: dict[str, tuple[list, list]] = {}
    totals = {}
    for q in QUERIES:
        tp, tf = [], []
        for i in range(args.runs + 1):
            t = time.perf_counter()
            res = searcher.search(q, limit=10)
            dp = (time.perf_counter() - t) * 1000
            df = _ms(lambda q=q: _fts(db, q))
            if i:
                tp.append(dp)
                tf.append(df)
        warm[q] = (tp, tf)
        totals[q] = res.total

    print(f"{searcher.doc_count} statements; times in ms (median, p95); ratio = presse median / FTS5 median")
    for label, table, note in (("WARM", warm, f"one Searcher, {args.runs} runs per query after a warm-up"),
                               ("COLD", cold, f"a new Searcher per run, its first query, {args.cold} runs")):
        print(f"\n{label}: {note}")
        print(header)
        all_p, all_f = [], []
        for q in QUERIES:
            tp, tf = table[q]
            all_p += tp
            all_f += tf
            print(_row(q, totals[q], tp, tf))
        print(_row("all", "", all_p, all_f))
    print(f"\nopening a Searcher: median {statistics.median(opens):.1f} ms")
    if args.startup:
        cli = Path(sys.executable).with_name("presse")
        cmd = [str(cli)] if cli.exists() else [sys.executable, "-m", "cli"]
        times = []
        for _ in range(args.startup):
            t = time.perf_counter()
            subprocess.run([*cmd, "search", QUERIES[-1], "--index", str(index_dir)], cwd=ROOT,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            times.append((time.perf_counter() - t) * 1000)
        print(f"`presse search {QUERIES[-1]!r}` start to finish: median {statistics.median(times):.0f} ms "
              f"(min {min(times):.0f})")
    searcher.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
