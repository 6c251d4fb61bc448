"""Query latency on the full NSB corpus: `python -m bench.querying [--index DIR] [--runs N]`.

Builds (once, cached under /tmp) an index of ../shared/corpus/nsb/nsb.jsonl.gz and an SQLite FTS5 table of
the same statements (unicode61 remove_diacritics 2), then times a few keyword queries end to end with
snippets for 10 results: `Searcher.search` (total, facets, duplicates, snippets) against FTS5
`MATCH ... ORDER BY bm25 LIMIT 10` with `snippet()` plus a COUNT(*). Reports median and p95 in ms and the
presse/FTS5 ratio. Targets: median <= 10 ms, p95 <= 50 ms.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NSB = ROOT.parent / "shared" / "corpus" / "nsb" / "nsb.jsonl.gz"
INDEX = Path("/tmp/presse-nsb-index")
FTS = Path("/tmp/presse-nsb-fts5.sqlite")
QUERIES = ["coronavirus", "énergie nucléaire", "protection des données", "climate change", "Conseil fédéral"]


def build_index(index_dir: Path) -> None:
    tmp = index_dir.with_name(index_dir.name + ".building")
    try:
        from indexer import update
    except ImportError:
        update = None
    if update is not None:
        update([NSB], tmp)
    else:
        from corpus.inputs import read_paths
        from search.devindex import build_index as build
        build((x for x in read_paths([NSB]) if hasattr(x, "body")), tmp)
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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", default=str(INDEX))
    ap.add_argument("--fts", default=str(FTS))
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args(argv)
    index_dir, fts_path = Path(args.index), Path(args.fts)
    if not index_dir.exists():
        print(f"building {index_dir} (once; takes several minutes)")
        build_index(index_dir)
    if not fts_path.exists():
        build_fts(index_dir, fts_path)

    from search import Searcher
    searcher = Searcher(index_dir)
    db = sqlite3.connect(fts_path)
    print(f"{searcher.doc_count} statements; {args.runs} runs per query after one warm-up")
    print(f"{'query':<26} {'hits':>6} {'presse med':>10} {'p95':>7} {'FTS5 med':>9} {'p95':>7} {'ratio':>6}")
    all_p, all_f = [], []
    for q in QUERIES:
        words = [w for w in q.replace("'", " ").split()]
        match = " AND ".join('"' + w.replace('"', "") + '"' for w in words)
        tp, tf = [], []
        for i in range(args.runs + 1):
            t = time.perf_counter()
            res = searcher.search(q, limit=10)
            dp = time.perf_counter() - t
            t = time.perf_counter()
            db.execute("SELECT id, title, snippet(docs, 2, '<mark>', '</mark>', '…', 30) FROM docs "
                       "WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT 10", (match,)).fetchall()
            db.execute("SELECT count(*) FROM docs WHERE docs MATCH ?", (match,)).fetchone()
            df = time.perf_counter() - t
            if i:
                tp.append(dp * 1000)
                tf.append(df * 1000)
        all_p += tp
        all_f += tf
        mp, mf = statistics.median(tp), statistics.median(tf)
        print(f"{q:<26} {res.total:>6} {mp:>10.1f} {percentile(tp, .95):>7.1f} {mf:>9.1f} "
              f"{percentile(tf, .95):>7.1f} {mp / mf if mf else 0:>6.1f}")
    mp, mf = statistics.median(all_p), statistics.median(all_f)
    print(f"{'all':<26} {'':>6} {mp:>10.1f} {percentile(all_p, .95):>7.1f} {mf:>9.1f} "
          f"{percentile(all_f, .95):>7.1f} {mp / mf if mf else 0:>6.1f}")
    searcher.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
