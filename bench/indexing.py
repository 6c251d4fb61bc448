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

from indexer import stats, update
from indexer.store import index_size

NSB = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "nsb" / "nsb.jsonl.gz"


def peak_rss_mb() -> tuple[float, float]:
    """(this process, largest waited-for child) peak resident memory, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, kids


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and its waited-for children: wall time is noisy on a shared
    machine, CPU time says what the work costs."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


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


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.indexing", description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=None, help="index only the first N records")
    ap.add_argument("--workdir", type=Path, default=None, help="keep the corpus and index here")
    args = ap.parse_args(argv)
    if not NSB.exists():
        sys.exit(f"benchmark data missing: {NSB}")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="presse-bench-"))
    corpus, index_dir = work / "corpus", work / "index"
    shutil.rmtree(corpus, ignore_errors=True)
    shutil.rmtree(index_dir, ignore_errors=True)
    records = prepare(corpus, args.limit)

    rows: list[tuple[str, str]] = []
    t, c = time.perf_counter(), cpu_seconds()
    report = update([corpus], index_dir)
    build, build_cpu = time.perf_counter() - t, cpu_seconds() - c
    own, kids = peak_rss_mb()
    rows += [
        ("records in input", f"{records:,}"),
        ("statements indexed", f"{report.statements:,} ({report.added:,} added, "
                               f"{sum(report.skipped.values()):,} skipped)"),
        ("full build", f"{build:.1f} s wall, {build_cpu:.1f} s CPU (both processes)"),
        ("full build rate", f"{report.statements / build:.0f} statements/s"),
        ("peak RSS (main / reader worker)", f"{own:.0f} MB / {kids:.0f} MB"),
        ("index size on disk", f"{index_size(index_dir) / 1e6:.1f} MB"),
    ]
    t = time.perf_counter()
    noop = update([corpus], index_dir)
    rows.append(("no-op reindex", f"{time.perf_counter() - t:.2f} s ({noop.unchanged:,} unchanged, "
                                  f"{noop.added + noop.updated + noop.removed} changes)"))
    (corpus / "extra.jsonl").write_text("\n".join(extra_records(100)) + "\n", encoding="utf-8")
    t = time.perf_counter()
    plus = update([corpus], index_dir)
    rows.append(("+100 statements (new small file)", f"{time.perf_counter() - t:.2f} s ({plus.added} added)"))
    (corpus / "extra.jsonl").unlink()
    t = time.perf_counter()
    minus = update([corpus], index_dir)
    rows.append(("-100 statements (file deleted)",
                 f"{time.perf_counter() - t:.2f} s ({minus.removed} removed)"))
    t = time.perf_counter()
    s = stats(index_dir)
    rows.append(("stats", f"{time.perf_counter() - t:.2f} s ({s['statements']:,} statements)"))

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
