"""Indexing benchmark: full build, no-op reindex, +100 statements, peak memory, index size.

    python -m bench.indexing               # the whole ../shared/corpus/nsb/nsb.jsonl.gz (58,980 statements)
    python -m bench.indexing --limit 10000 # the first N records, written to a temporary JSON Lines file

Targets (2-core machine): full build <= 3 min, no-op <= 3 s, +100 <= 5 s, peak RSS <= 1 GB.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.common import NSB
from indexer import stats, update
from indexer.store import index_size


def peak_rss_mb() -> tuple[float, float]:
    """(this process, largest waited-for child) peak resident memory, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, kids


def cpu_seconds() -> tuple[float, float]:
    """CPU time (user + system) of this process (the writer) and of its waited-for children (the reader
    worker): wall time is noisy on a shared machine, CPU time says what the work costs."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, kids.ru_utime + kids.ru_stime


def prepare(corpus: Path, limit: int | None) -> int:
    corpus.mkdir(parents=True, exist_ok=True)
    if limit is None:
        os.symlink(NSB, corpus / "nsb.jsonl.gz")
        with gzip.open(NSB, "rb") as f:
            return sum(1 for _ in f)
    with gzip.open(NSB, "rb") as f, open(corpus / "nsb.jsonl", "wb") as out:
        n = 0
        for line in itertools.islice(f, limit):
            out.write(line)
            n += 1
    return n


def extra_records(n: int) -> list[str]:
    """n records from the end of the file under new ids: statements the index does not have yet."""
    with gzip.open(NSB, "rt", encoding="utf-8") as f:
        tail = list(itertools.islice(f, 58_000, 58_000 + n))
    out = []
    for line in tail:
        rec = json.loads(line)
        rec["id"] = rec["id"] + "-bench"
        rec["url"] = rec["url"] + "?bench"
        out.append(json.dumps(rec, ensure_ascii=False))
    return out


def stemmer_comparison(records: int = 20_000) -> list[tuple[str, str]]:
    """PyStemmer (C Snowball) against Whoosh's own pure-Python English stemmers, on the distinct words of
    the English statements: microseconds per word (uncached) and how often the stems agree."""
    import re

    import Stemmer
    from whoosh.lang.porter2 import stem as porter2
    from whoosh.lang.snowball.english import EnglishStemmer

    from indexer.analysis import fold

    words: set[str] = set()
    with gzip.open(NSB, "rt", encoding="utf-8") as f:
        for line in itertools.islice(f, records):
            rec = json.loads(line)
            if rec.get("lang") == "en":
                text = re.sub(r"<[^>]+>", " ", rec.get("html", ""))
                words.update(fold(w) for w in re.findall(r"[^\W\d_]+", text))
    vocab = sorted(words)

    def run(fn) -> tuple[list[str], float]:
        t = time.process_time()
        out = [fn(w) for w in vocab]
        return out, (time.process_time() - t) / max(len(vocab), 1) * 1e6

    pystem, t_py = run(Stemmer.Stemmer("english").stemWord)
    p2, t_p2 = run(porter2)
    sb, t_sb = run(EnglishStemmer().stem)
    n = max(len(vocab), 1)
    same_p2 = sum(a == b for a, b in zip(pystem, p2, strict=True)) / n
    same_sb = sum(a == b for a, b in zip(pystem, sb, strict=True)) / n
    return [
        ("stemmer vocabulary (English)", f"{len(vocab):,} distinct words"),
        ("PyStemmer english (used)", f"{t_py:.2f} µs/word"),
        ("whoosh.lang.porter2", f"{t_p2:.2f} µs/word, same stem {same_p2:.2%}"),
        ("whoosh snowball english", f"{t_sb:.2f} µs/word, same stem {same_sb:.2%}"),
    ]


def measure(corpus: Path, index_dir: Path) -> dict:
    """Full build of corpus/ into index_dir/, then no-op, +100 (a new small file), -100 (that file deleted).
    Run it in a fresh process: peak RSS and CPU time are this process's (the writer) and its waited-for
    children's (the reader worker)."""
    out: dict = {}
    t, c = time.perf_counter(), cpu_seconds()
    report = update([corpus], index_dir)
    build = time.perf_counter() - t
    writer_cpu, reader_cpu = (a - b for a, b in zip(cpu_seconds(), c, strict=True))
    own, kids = peak_rss_mb()
    out.update(statements=report.statements, added=report.added, skipped=sum(report.skipped.values()),
               build_s=build, writer_cpu_s=writer_cpu, reader_cpu_s=reader_cpu, rss_writer_mb=own,
               rss_reader_mb=kids, index_bytes=index_size(index_dir), load_end=os.getloadavg()[0])
    t = time.perf_counter()
    noop = update([corpus], index_dir)
    out.update(noop_s=time.perf_counter() - t, noop_unchanged=noop.unchanged,
               noop_changes=noop.added + noop.updated + noop.removed)
    (corpus / "extra.jsonl").write_text("\n".join(extra_records(100)) + "\n", encoding="utf-8")
    t = time.perf_counter()
    plus = update([corpus], index_dir)
    out.update(plus100_s=time.perf_counter() - t, plus100_added=plus.added)
    (corpus / "extra.jsonl").unlink()
    t = time.perf_counter()
    minus = update([corpus], index_dir)
    out.update(minus100_s=time.perf_counter() - t, minus100_removed=minus.removed)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.indexing", description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=None, help="index only the first N records")
    ap.add_argument("--workdir", type=Path, default=None, help="keep the corpus and index here")
    ap.add_argument("--json", action="store_true", help="print the measures as one JSON object (bench speed)")
    args = ap.parse_args(argv)
    if not NSB.exists():
        sys.exit(f"benchmark data missing: {NSB}")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="presse-bench-"))
    corpus, index_dir = work / "corpus", work / "index"
    shutil.rmtree(corpus, ignore_errors=True)
    shutil.rmtree(index_dir, ignore_errors=True)
    records = prepare(corpus, args.limit)
    m = measure(corpus, index_dir)
    m["records"] = records
    if args.json:
        print(json.dumps(m))
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
        return

    rows: list[tuple[str, str]] = [
        ("records in input", f"{records:,}"),
        ("statements indexed", f"{m['statements']:,} ({m['added']:,} added, {m['skipped']:,} skipped)"),
        ("full build", f"{m['build_s']:.1f} s wall (load average {m['load_end']:.1f} at the end)"),
        ("full build CPU", f"{m['writer_cpu_s'] + m['reader_cpu_s']:.1f} s = writer "
                           f"{m['writer_cpu_s']:.1f} s + reader worker {m['reader_cpu_s']:.1f} s"),
        ("full build rate", f"{m['statements'] / m['build_s']:.0f} statements/s"),
        ("peak RSS (main / reader worker)", f"{m['rss_writer_mb']:.0f} MB / {m['rss_reader_mb']:.0f} MB"),
        ("index size on disk", f"{m['index_bytes'] / 1e6:.1f} MB"),
        ("no-op reindex", f"{m['noop_s']:.2f} s ({m['noop_unchanged']:,} unchanged, "
                          f"{m['noop_changes']} changes)"),
        ("+100 statements (new small file)", f"{m['plus100_s']:.2f} s ({m['plus100_added']} added)"),
        ("-100 statements (file deleted)", f"{m['minus100_s']:.2f} s ({m['minus100_removed']} removed)"),
    ]
    t = time.perf_counter()
    s = stats(index_dir)
    rows.append(("stats", f"{time.perf_counter() - t:.2f} s ({s['statements']:,} statements)"))
    rows += stemmer_comparison(min(records, 20_000))

    width = max(len(k) for k, _ in rows)
    print(f"\nindexing benchmark: {NSB.name}" + (f" --limit {args.limit}" if args.limit else " (full)")
          + f", {os.cpu_count()} CPUs, work dir {work}")
    print(f"{'measure':<{width}}  value")
    print(f"{'-' * width}  {'-' * 40}")
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
