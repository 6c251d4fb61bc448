"""Watch-mode latency: from a new file landing in a watched folder to its statements being on the search page.

    python -m bench.watching               # the full ../shared/corpus/nsb/nsb.jsonl.gz index (58,980 records)
    python -m bench.watching --limit 5000  # the first N records only: a quick run

Runs a real ``presse serve --watch CORPUS`` process over the index, drops files of new statements (NSB
records from the end of the file under new ids, each title carrying a word no other statement has) into the
watched folder — written elsewhere, then renamed in, as a crawler does — and polls ``/api/search`` until all
of them are found; then deletes the file and polls until they are gone.

The corpus and index are built once into a cache under /tmp (a few minutes for the full corpus) and reused;
the files the benchmark adds are removed again at the end (and at the start, after an interrupted run).
Target: a batch of 100 statements searchable in under 5 s on the full index.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

NSB = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "nsb" / "nsb.jsonl.gz"
CACHE = Path(tempfile.gettempdir()) / "presse-watch-cache"
PREFIX = "bench-watch-"
POLL = 0.05  # seconds between two searches


def prepare(limit: int | None, cache: Path) -> tuple[Path, Path]:
    """The cached corpus folder and index, built (or brought up to date) now."""
    from indexer import update

    work = cache / ("nsb" if limit is None else f"nsb-{limit}")
    corpus, index_dir = work / "corpus", work / "index"
    corpus.mkdir(parents=True, exist_ok=True)
    if limit is None:
        link = corpus / "nsb.jsonl.gz"
        if not link.exists():
            os.symlink(NSB, link)
    elif not (corpus / "nsb.jsonl").exists():
        tmp = corpus / ".nsb.jsonl.tmp"
        with gzip.open(NSB, "rb") as f, open(tmp, "wb") as out:
            out.writelines(itertools.islice(f, limit))
        os.replace(tmp, corpus / "nsb.jsonl")
    for leftover in corpus.glob(f"{PREFIX}*"):
        leftover.unlink()
    t = time.perf_counter()
    print(f"preparing the index in {index_dir} (built once, then reused) ...", file=sys.stderr, flush=True)
    report = update([corpus], index_dir, lock_timeout=600)
    print(f"  {report.statements:,} statements, {report.added:,} added, {time.perf_counter() - t:.1f} s",
          file=sys.stderr, flush=True)
    return corpus, index_dir


def new_records(n: int, token: str, skip: int) -> list[str]:
    """n NSB records from the end of the file, under new ids, each title carrying ``token``."""
    with gzip.open(NSB, "rt", encoding="utf-8") as f:
        tail = list(itertools.islice(f, 58_000 + skip, 58_000 + skip + n))
    out = []
    for i, line in enumerate(tail):
        rec = json.loads(line)
        rec["id"] = f"{rec['id']}-{token}"
        rec["url"] = f"{rec['url']}?{token}"
        rec["title"] = f"{rec.get('title', '')} {token} {i}"
        out.append(json.dumps(rec, ensure_ascii=False))
    return out


class Server:
    def __init__(self, corpus: Path, index_dir: Path) -> None:
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "import cli; cli.main()", "serve", "--index", str(index_dir),
             "--port", "0", "--watch", str(corpus)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            cwd=Path(__file__).resolve().parents[1])
        threading.Thread(target=self._pump, daemon=True).start()
        deadline = time.monotonic() + 120
        self.url = ""
        while not self.url:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                sys.exit("the server did not start:\n" + "\n".join(self.lines))
            for line in self.lines:
                m = re.search(r"http://[\d.]+:\d+/", line)
                if m:
                    self.url = m.group(0)
            time.sleep(0.05)
        self.wait_line("initial update", 600)

    def _pump(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_line(self, text: str, timeout: float, after: int = 0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines[after:]:
                if text in line:
                    return line
            time.sleep(0.05)
        return ""

    def total(self, q: str) -> int:
        url = self.url + "api/search?" + urllib.parse.urlencode({"q": q, "limit": 1})
        with urllib.request.urlopen(url, timeout=30) as r:
            return int(json.load(r)["total"])

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def until(server: Server, q: str, expected: int, timeout: float = 30.0) -> float:
    t = time.perf_counter()
    while server.total(q) != expected:
        if time.perf_counter() - t > timeout:
            return float("inf")
        time.sleep(POLL)
    return time.perf_counter()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.watching", description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=None, help="use only the first N records of NSB")
    ap.add_argument("--batch", type=int, default=100, help="statements per new file (default 100)")
    ap.add_argument("--rounds", type=int, default=3, help="files to drop, one after the other (default 3)")
    ap.add_argument("--cache", type=Path, default=CACHE, help=f"corpus and index cache (default {CACHE})")
    args = ap.parse_args(argv)
    if not NSB.exists():
        sys.exit(f"benchmark data missing: {NSB}")
    corpus, index_dir = prepare(args.limit, args.cache)
    server = Server(corpus, index_dir)
    rows: list[tuple[str, float, str]] = []
    try:
        nonce = f"{os.getpid():x}"
        for r, size in enumerate([1] + [args.batch] * args.rounds):
            token = f"benchwatch{nonce}r{r}"
            staged = args.cache / f".{PREFIX}{token}.jsonl"
            staged.write_text("\n".join(new_records(size, token, skip=r * args.batch)) + "\n", "utf-8")
            mark = len(server.lines)
            t0 = time.perf_counter()
            os.replace(staged, corpus / f"{PREFIX}{token}.jsonl")
            added = until(server, token, size) - t0
            line = server.wait_line(" added", 10, mark)
            rows.append((f"+{size} statements (new file)", added, line.split(": ", 2)[-1]))
            mark = len(server.lines)
            t0 = time.perf_counter()
            (corpus / f"{PREFIX}{token}.jsonl").unlink()
            gone = until(server, token, 0) - t0
            line = server.wait_line(" removed", 10, mark)
            rows.append((f"-{size} statements (file deleted)", gone, line.split(": ", 2)[-1]))
    finally:
        server.stop()
        for leftover in corpus.glob(f"{PREFIX}*"):
            leftover.unlink()

    from indexer import stats

    n = stats(index_dir)["statements"]
    print(f"\nwatch latency: file lands in the watched folder -> found by /api/search on a running "
          f"`presse serve --watch` ({n:,} statements{'' if args.limit is None else f', --limit {args.limit}'}"
          f"; {os.cpu_count()} CPUs)")
    width = max(len(k) for k, _, _ in rows)
    print(f"{'change':<{width}}  latency  the watcher's log line")
    print(f"{'-' * width}  -------  {'-' * 60}")
    for k, v, line in rows:
        shown = f"{v:6.2f}s" if v != float("inf") else "  >30 s"
        print(f"{k:<{width}}  {shown}  {line}")
    adds = [v for k, v, _ in rows if k.startswith(f"+{args.batch} ")]
    if adds:
        print(f"\n+{args.batch}: median {statistics.median(adds):.2f} s, max {max(adds):.2f} s "
              "(target < 5 s)")


if __name__ == "__main__":
    main()
