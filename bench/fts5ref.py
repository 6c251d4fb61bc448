"""The SQLite FTS5 reference of `python -m bench speed`, measured in the same run as presse.

    python -m bench.fts5ref CORPUS_DIR DB_PATH     # one JSON object: build, no-op, +100, -100, RSS, size

The table: ``fts5(id UNINDEXED, title, body, tokenize='unicode61 remove_diacritics 2')``, filled with the
same cleaned statements presse indexes (the ingester, ``corpus.read_paths``, over the same input files).
Build time is split into the ingester's share (reading, decoding, extracting: the same work presse does) and
the FTS5 share (INSERTs and the commit); ``build_s`` is both, the figure beside presse's full build.

- no-op: the reference keeps each input's (size, mtime_ns) as presse's manifest does; a no-op run stats the
  inputs, finds them unchanged and does nothing (the time of that check);
- +100: ingest a new 100-statement file and INSERT its rows, one commit;
- -100: DELETE those 100 rows by id, one commit.
"""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import sys
import time
from pathlib import Path

SCHEMA = ("CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, body, "
          "tokenize='unicode61 remove_diacritics 2')")


def _statements(paths: list[Path], clock: list[float]):
    """(id, title, body) of the statements the ingester reads; clock[0] accumulates the ingester's time."""
    import corpus
    it = iter(corpus.read_paths(paths))
    while True:
        t = time.perf_counter()
        try:
            x = next(it)
        except StopIteration:
            clock[0] += time.perf_counter() - t
            return
        clock[0] += time.perf_counter() - t
        if hasattr(x, "body"):
            clock[1] += 1
            yield x.id, x.title or "", x.body


def _insert(db: sqlite3.Connection, paths: list[Path]) -> tuple[float, float, int]:
    """(total seconds, ingester seconds, rows) to ingest paths and INSERT them, with one commit."""
    clock = [0.0, 0]
    t = time.perf_counter()
    db.executemany("INSERT INTO docs VALUES (?, ?, ?)", _statements(paths, clock))
    db.commit()
    return time.perf_counter() - t, clock[0], clock[1]


def _inputs(corpus_dir: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for p in sorted(corpus_dir.iterdir()):
        st = p.stat()
        out[str(p)] = (st.st_size, st.st_mtime_ns)
    return out


def size(db_path: Path) -> int:
    return sum(p.stat().st_size for p in db_path.parent.glob(db_path.name + "*") if p.is_file())


def measure(corpus_dir: Path, db_path: Path) -> dict:
    from bench.indexing import extra_records
    db_path.unlink(missing_ok=True)
    db = sqlite3.connect(db_path)
    db.execute(SCHEMA)
    inputs = sorted(corpus_dir.iterdir())
    total, ingest, rows = _insert(db, inputs)
    out = {"statements": rows, "build_s": total, "ingest_s": ingest, "insert_s": total - ingest,
           "cpu_s": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]),
           "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    db.close()
    out["db_bytes"] = size(db_path)
    manifest = _inputs(corpus_dir)

    db = sqlite3.connect(db_path)
    t = time.perf_counter()
    changed = [p for p, v in _inputs(corpus_dir).items() if manifest.get(p) != v]
    out.update(noop_s=time.perf_counter() - t, noop_changes=len(changed))

    extra = db_path.with_name("extra.jsonl")
    extra.write_text("\n".join(extra_records(100)) + "\n", encoding="utf-8")
    total, ingest, rows = _insert(db, [extra])
    out.update(plus100_s=total, plus100_ingest_s=ingest, plus100_added=rows)
    ids = [(r["id"],) for r in map(json.loads, extra.read_text(encoding="utf-8").splitlines())]
    before = db.execute("SELECT count(*) FROM docs").fetchone()[0]
    t = time.perf_counter()
    db.executemany("DELETE FROM docs WHERE id = ?", ids)
    db.commit()
    out.update(minus100_s=time.perf_counter() - t,
               minus100_removed=before - db.execute("SELECT count(*) FROM docs").fetchone()[0])
    extra.unlink()
    db.close()
    return out


def search(db: sqlite3.Connection, q: str, limit: int = 10) -> int:
    """presse's default query semantics, as near as FTS5 goes: all words (AND) first, and when that finds
    less than a page, any of the words (OR) — as presse falls back; bm25; a snippet of the body per hit; the
    exact total (a COUNT). Returns the total."""
    words = ['"' + w.replace('"', "") + '"' for w in q.replace("'", " ").split() if w.strip('"')]
    total = 0
    for op in (" AND ", " OR "):
        match = op.join(words)
        db.execute("SELECT id, title, snippet(docs, 2, '<mark>', '</mark>', '…', 30) FROM docs "
                   "WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ?", (match, limit)).fetchall()
        total = db.execute("SELECT count(*) FROM docs WHERE docs MATCH ?", (match,)).fetchone()[0]
        if total >= limit or len(words) < 2:
            break
    return total


# start-up reference: a whole `python -c` process that opens the database and runs one query with snippets
STARTUP = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for op in (' AND ', ' OR '):
    m = op.join('"' + w + '"' for w in sys.argv[2].split())
    for r in db.execute("SELECT id, title, snippet(docs, 2, '<mark>', '</mark>', '…', 30) FROM docs "
                        "WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT 10", (m,)):
        print(*r)
    n = db.execute("SELECT count(*) FROM docs WHERE docs MATCH ?", (m,)).fetchone()[0]
    print(n)
    if n >= 10:
        break
"""


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    print(json.dumps(measure(Path(sys.argv[1]), Path(sys.argv[2]))))
