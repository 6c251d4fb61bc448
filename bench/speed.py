"""Speed of presse beside SQLite FTS5, in the same run: `python -m bench speed [--quick | --limit N]`.

For each corpus size (the 10,000-statement head of ../shared/corpus/nsb/nsb.jsonl.gz, then the whole file;
--quick: the subset only; --limit N: the first N records only):

1. presse, in a fresh process (``bench.indexing.measure``): ingest + full build, no-op reindex, +100
   statements (a new small file), -100 (that file deleted); CPU of the writer and of the reader worker, peak
   RSS of each, index size on disk;
2. FTS5, in a fresh process (``bench.fts5ref``): the same statements through the same ingester, INSERTed into
   an FTS5 table (unicode61, remove_diacritics 2); the same no-op / +100 / -100;
3. query latency, QUERIES (3-5 keywords each) with snippets for 10 results, round-robin after a warm-up:
   presse's CLI batch path (``presse search --json -`` fed one query at a time, time from writing the line to
   reading the JSON answer), presse's web API under one keep-alive client (``presse serve`` on 127.0.0.1,
   GET /api/search), presse's Searcher in this process, and FTS5 (AND of the words, bm25, snippet(), COUNT)
   in this process;
4. start-up: ``presse search QUERY`` as a whole process, against a ``python -c`` process that opens the FTS5
   database and runs the same query with snippets.

Prints the tables (ratio = presse / FTS5), a target / measured / met? table, and saves everything as JSON
under bench/results/.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from bench.common import NSB, ROOT, Table, cell, machine, machine_line, percentile, ratio, report, require

QUERIES = ["assurance maladie primes hausse", "politique énergétique Conseil fédéral",
           "climate change adaptation strategy", "protection des données personnelles santé",
           "sanctions Russie Ukraine économie"]
SUBSET = 10_000
TARGETS_FOR = 58_980  # the targets are set for the whole NSB file
PY = sys.executable
CLI = [PY, "-c", "from cli import main; main()"]


def _child(code: list[str], what: str) -> dict:
    """Run a measuring child process (fresh RSS and CPU counters); its last stdout line is a JSON object."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.run([PY, *code], cwd=ROOT, capture_output=True, text=True, env=env, check=False)
    lines = [x for x in p.stdout.splitlines() if x.startswith("{")]
    if p.returncode or not lines:
        raise RuntimeError(f"{what} failed (exit {p.returncode}):\n{p.stderr[-3000:]}")
    return json.loads(lines[-1])


def build_both(work: Path, limit: int | None) -> tuple[dict, dict, Path, Path]:
    from bench.indexing import prepare
    corpus, index_dir, db = work / "corpus", work / "index", work / "fts5.sqlite"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    records = prepare(corpus, limit)
    print(f"  presse: full build of {records:,} records …", flush=True)
    presse = _child(["-c", "import json, sys; from pathlib import Path; from bench.indexing import measure; "
                     "print(json.dumps(measure(Path(sys.argv[1]), Path(sys.argv[2]))))",
                     str(corpus), str(index_dir)], "presse build")
    presse["records"] = records
    print(f"    {presse['build_s']:.1f} s; FTS5: ingest + INSERT …", flush=True)
    fts = _child(["-m", "bench.fts5ref", str(corpus), str(db)], "FTS5 build")
    print(f"    {fts['build_s']:.1f} s", flush=True)
    return presse, fts, index_dir, db


def _order(runs: int) -> list[tuple[int, str]]:
    """Warm-up round (i = 0), then `runs` round-robin rounds over the queries."""
    return [(i, q) for i in range(runs + 1) for q in QUERIES]


def lat_fts(db_path: Path, runs: int) -> tuple[dict, dict]:
    db = sqlite3.connect(db_path)
    times: dict[str, list[float]] = {q: [] for q in QUERIES}
    hits = {}
    for i, q in _order(runs):
        t = time.perf_counter()
        hits[q] = _fts_search(db, q)
        dt = (time.perf_counter() - t) * 1000
        if i:
            times[q].append(dt)
    db.close()
    return times, hits


def _fts_search(db, q):
    from bench.fts5ref import search
    return search(db, q)


def lat_inprocess(index_dir: Path, runs: int) -> tuple[dict, dict]:
    from search import Searcher
    times: dict[str, list[float]] = {q: [] for q in QUERIES}
    hits = {}
    with Searcher(index_dir) as s:
        for i, q in _order(runs):
            t = time.perf_counter()
            res = s.search(q, limit=10)
            dt = (time.perf_counter() - t) * 1000
            hits[q] = res.total
            if i:
                times[q].append(dt)
    return times, hits


def lat_cli(index_dir: Path, runs: int) -> tuple[dict, dict]:
    """`presse search --json --index DIR -`: one process, one query per line, one JSON line per answer."""
    p = subprocess.Popen([*CLI, "search", "--json", "--index", str(index_dir), "-"], cwd=ROOT, text=True,
                         encoding="utf-8", stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, bufsize=1)
    times: dict[str, list[float]] = {q: [] for q in QUERIES}
    hits = {}
    try:
        for i, q in _order(runs):
            t = time.perf_counter()
            p.stdin.write(q + "\n")
            p.stdin.flush()
            line = p.stdout.readline()
            dt = (time.perf_counter() - t) * 1000
            if not line:
                raise RuntimeError(f"presse search - stopped: {p.stderr.read()[-2000:]}")
            hits[q] = json.loads(line)["total"]
            if i:
                times[q].append(dt)
    finally:
        p.stdin.close()
        p.wait(30)
        p.stdout.close()
        p.stderr.close()
    return times, hits


def lat_web(index_dir: Path, runs: int) -> tuple[dict, dict]:
    """GET /api/search?q=…&limit=10 on `presse serve` (127.0.0.1), one client, one keep-alive connection."""
    from bench.load import start_server, stop_server
    proc, base = start_server(index_dir)
    times: dict[str, list[float]] = {q: [] for q in QUERIES}
    hits = {}
    try:
        host, port = base.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        for i, q in _order(runs):
            t = time.perf_counter()
            conn.request("GET", f"/api/search?q={quote(q)}&limit=10")
            r = conn.getresponse()
            body = r.read()
            dt = (time.perf_counter() - t) * 1000
            if r.status != 200:
                raise RuntimeError(f"GET /api/search answered {r.status}: {body[:300]!r}")
            hits[q] = json.loads(body)["total"]
            if i:
                times[q].append(dt)
        conn.close()
    finally:
        stop_server(proc)
    return times, hits


def startup(index_dir: Path, db: Path, runs: int) -> tuple[list[float], list[float]]:
    from bench.fts5ref import STARTUP
    q = QUERIES[0]
    tp, tf = [], []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([*CLI, "search", q, "--index", str(index_dir)], cwd=ROOT, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=True)
        tp.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        subprocess.run([PY, "-c", STARTUP, str(db), q], stdout=subprocess.DEVNULL, check=True)
        tf.append((time.perf_counter() - t) * 1000)
    return tp, tf


def _flat(times: dict[str, list[float]]) -> list[float]:
    return [x for q in QUERIES for x in times[q]]


def _stats(times: dict[str, list[float]]) -> dict:
    xs = _flat(times)
    return {"median_ms": statistics.median(xs), "p95_ms": percentile(xs, 0.95), "n": len(xs),
            "per_query": {q: {"median_ms": statistics.median(v), "p95_ms": percentile(v, 0.95)}
                          for q, v in times.items()}}


def measure_size(label: str, limit: int | None, runs: int, starts: int, tmp: Path) -> dict:
    print(f"\n[{label}]", flush=True)
    work = tmp / (f"n{limit}" if limit else "full")
    presse, fts, index_dir, db = build_both(work, limit)
    print("  query latency: FTS5, in-process Searcher, CLI batch, web API …", flush=True)
    lat: dict[str, dict] = {}
    hits: dict[str, dict] = {}
    for name, fn, path in (("fts5", lat_fts, db), ("inprocess", lat_inprocess, index_dir),
                           ("cli", lat_cli, index_dir), ("web", lat_web, index_dir)):
        try:
            t, h = fn(path, runs)
            lat[name], hits[name] = _stats(t), h
        except Exception as e:  # noqa: BLE001 - one failing path is reported, the others still run
            print(f"    {name}: failed: {e}", file=sys.stderr)
            lat[name] = None
    print("  start-up …", flush=True)
    tp, tf = startup(index_dir, db, starts)
    out = {"label": label, "limit": limit, "presse": presse, "fts5": fts, "latency": lat, "hits": hits,
           "startup_ms": {"presse": statistics.median(tp), "fts5": statistics.median(tf), "runs": starts,
                          "presse_all": tp, "fts5_all": tf},
           "queries": QUERIES, "runs_per_query": runs}
    return out


def size_table(r: dict) -> Table:
    p, f, lat = r["presse"], r["fts5"], r["latency"]
    fl = lat.get("fts5")
    t = Table(f"Speed — {r['label']}", ["measure", "presse", "SQLite FTS5", "presse / FTS5"])
    t.add("statements indexed", p["statements"], f["statements"], "")
    t.add("ingest + full build (s)", p["build_s"], f["build_s"], ratio(p["build_s"], f["build_s"]))
    t.add("  statements/s", p["statements"] / p["build_s"], f["statements"] / f["build_s"],
          ratio(p["statements"] / p["build_s"], f["statements"] / f["build_s"]))
    t.add("  of which FTS5 INSERT + commit (s)", None, f["insert_s"], "")
    t.add("  of which ingester, one process (s)", None, f["ingest_s"], "")
    t.add("build CPU, all processes (s)", p["writer_cpu_s"] + p["reader_cpu_s"], f["cpu_s"],
          ratio(p["writer_cpu_s"] + p["reader_cpu_s"], f["cpu_s"]))
    t.add("peak RSS, largest process (MB)", max(p["rss_writer_mb"], p["rss_reader_mb"]), f["rss_mb"],
          ratio(max(p["rss_writer_mb"], p["rss_reader_mb"]), f["rss_mb"]))
    t.add("index size on disk (MB)", p["index_bytes"] / 1e6, f["db_bytes"] / 1e6,
          ratio(p["index_bytes"], f["db_bytes"]))
    t.add("no-op reindex (s)", p["noop_s"], f["noop_s"], ratio(p["noop_s"], f["noop_s"]))
    t.add("+100 statements (s)", p["plus100_s"], f["plus100_s"], ratio(p["plus100_s"], f["plus100_s"]))
    t.add("−100 statements (s)", p["minus100_s"], f["minus100_s"], ratio(p["minus100_s"], f["minus100_s"]))
    for name, label in (("cli", "CLI batch `presse search --json -`"), ("web", "web API, one client"),
                        ("inprocess", "Searcher.search in-process")):
        m = lat.get(name)
        for k, kl in (("median_ms", "median"), ("p95_ms", "p95")):
            pv = m[k] if m else None
            fv = fl[k] if fl else None
            t.add(f"query {kl}, {label} (ms)", pv, fv, ratio(pv, fv))
    s = r["startup_ms"]
    t.add("start-up: one query, whole process (ms)", s["presse"], s["fts5"], ratio(s["presse"], s["fts5"]))
    return t


def query_table(r: dict) -> Table:
    lat, hits = r["latency"], r["hits"]
    t = Table(f"Queries — {r['label']} (median ms per query, {r['runs_per_query']} runs each)",
              ["query", "presse hits", "FTS5 hits", "CLI batch", "web API", "in-process", "FTS5"])
    for q in QUERIES:
        def med(name, q=q):
            return lat[name]["per_query"][q]["median_ms"] if lat.get(name) else None
        t.add(q, hits.get("inprocess", {}).get(q), hits.get("fts5", {}).get(q), med("cli"), med("web"),
              med("inprocess"), med("fts5"))
    return t


def target_table(r: dict) -> Table:
    p, lat = r["presse"], r["latency"]
    cli = lat.get("cli") or {}
    web = lat.get("web") or {}

    def ms(d: dict, k: str) -> float:
        return d.get(k) if d.get(k) is not None else 1e9
    rss = max(p["rss_writer_mb"], p["rss_reader_mb"])
    full = r["limit"] is None
    rows = [
        ("full build", "≤ 180 s", p["build_s"], "s", p["build_s"] <= 180),
        ("no-op reindex", "≤ 3 s", p["noop_s"], "s", p["noop_s"] <= 3),
        ("+100 statements", "≤ 5 s", p["plus100_s"], "s", p["plus100_s"] <= 5),
        ("query median (CLI batch)", "≤ 10 ms", cli.get("median_ms"), "ms", ms(cli, "median_ms") <= 10),
        ("query p95 (CLI batch)", "≤ 50 ms", cli.get("p95_ms"), "ms", ms(cli, "p95_ms") <= 50),
        ("query median (web API)", "≤ 10 ms", web.get("median_ms"), "ms", ms(web, "median_ms") <= 10),
        ("query p95 (web API)", "≤ 50 ms", web.get("p95_ms"), "ms", ms(web, "p95_ms") <= 50),
        ("build peak RSS (largest process)", "≤ 1,024 MB", rss, "MB", rss <= 1024),
    ]
    note = "" if full else f"on {r['label']}, NOT the target set (the targets are for all {TARGETS_FOR:,})"
    t = Table("Targets — " + r["label"], ["target", "wanted", "measured", "met?"], note)
    for name, want, val, unit, ok in rows:
        t.add(name, want, "—" if val is None else f"{cell(float(val))} {unit}", "yes" if ok else "NO")
    return t


def main(args) -> int:
    require(NSB)
    if args.limit:
        sizes = [(f"first {args.limit:,} records of nsb.jsonl.gz", args.limit)]
    elif args.quick:
        sizes = [(f"first {SUBSET:,} records of nsb.jsonl.gz", SUBSET)]
    else:
        sizes = [(f"first {SUBSET:,} records of nsb.jsonl.gz", SUBSET), ("nsb.jsonl.gz, all records", None)]
    m = machine()
    print("machine: " + machine_line(m), flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="presse-bench-speed-"))
    results = []
    try:
        for label, limit in sizes:
            results.append(measure_size(label, limit, args.runs, args.startup_runs, tmp))
    finally:
        if args.keep:
            print(f"(kept {tmp})")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    tables = []
    for r in results:
        tables += [size_table(r), query_table(r)]
    tables.append(target_table(results[-1]))
    report("speed", m, tables, {"results": results})
    return 0
