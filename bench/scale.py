"""How cost grows with the archive: `python -m bench scale [--sizes 10k,30k,59k,240k] [--queries N]`.

For each size, in a temporary folder (never in the repository):

- the statements: the first N records of ../shared/corpus/nsb/nsb.jsonl.gz (``59k``: the whole file), or for a
  size beyond NSB (``240k``) a synthetic archive: NSB copied ``ceil(N / 58,980)`` times, each copy with its
  ids and message numbers shifted (``nsb-3164-fr`` -> ``nsb-10003164-fr``: the FR/EN pairs stay pairs), its
  dates shifted by a day per copy, and two neighbouring words of the body swapped every ``SWAP_EVERY``
  words, at places that differ per copy, so that no copy is an exact or near duplicate (shingle Jaccard
  < 0.8) of another and the duplicate grouping keeps them all (:func:`synthetic_records`);
- presse: a full build in a fresh process (``indexer.update``): wall and CPU time (writer and reader
  worker), peak RSS of the largest process, index size on disk, segments;
- SQLite FTS5, in a fresh process: the same statements through the same ingester into an FTS5 table
  (unicode61, remove_diacritics 2) plus a table of languages and dates for the filters: wall, CPU, RSS, size;
- queries, in a fresh process: a sample of the query mix (:mod:`bench.mix`, every class, the same seed) on
  both, timed warm (best of ``--repeat``), 10 hits with snippets, exact total: median and p95; the RSS of
  the searching process.

Prints one table per size and a curve (one row per size, presse / FTS5 ratios), with the wall time, CPU
time and load average of the run; saves them under bench/results/.

``--engine sphinxql`` adds the distributed engine (issue 19) beside, with 1, 2 and 3 agents, through
``bench.sphinxql.scale_point(index_dir, queries, agents) -> dict`` (keys ``sync_s``, ``sync_cpu_s``,
``median_ms``, ``p95_ms``) when that module offers it; otherwise it says so and goes on without it. Each
point is printed as soon as it is measured (at ~240k statements a sync takes a quarter of an hour).

``--keep`` keeps the corpora, indexes and build figures; ``--reuse FOLDER`` (the folder a ``--keep`` run
printed) measures the queries and the engine again on them without building anything.
"""

from __future__ import annotations

import gzip
import itertools
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import astuple
from datetime import date, timedelta
from pathlib import Path

from bench.common import NSB, ROOT, Table, machine, machine_line, ratio, report, require

NSB_RECORDS = 58_980
SIZES = {"10k": 10_000, "30k": 30_000, "59k": NSB_RECORDS, "240k": 4 * NSB_RECORDS}
ID_SHIFT = 10_000_000  # message numbers of copy k: n + k * ID_SHIFT
SWAP_EVERY = 25  # words of the body between two swapped neighbours, per copy (see synthetic_records)
_TAG = re.compile(r"(<[^>]*>|&#?\w+;)")  # tags and character references: never changed
_WORD = re.compile(r"(\w+)")
_NUMBER = re.compile(r"(nsb-|msg-id-)(\d+)")
GOAL_RSS_MB = 1024  # a build within one machine's budget (issue 15: peak RSS <= 1 GB)
GOAL_P95_MS = 30.0


def options(ap) -> None:
    """The command line of `python -m bench scale` (also used by bench/__main__.py)."""
    ap.add_argument("--sizes", default="10k,30k,59k,240k",
                    help="comma-separated sizes: 10k, 30k, 59k (all of NSB), 240k (NSB x4, synthetic), or a "
                    "number of statements (default: all four)")
    ap.add_argument("--queries", type=int, default=300, help="queries sampled from the mix (default 300)")
    ap.add_argument("--repeat", type=int, default=2, help="runs of each query, the best kept (default 2)")
    ap.add_argument("--engine", choices=("sphinxql",), help="also the distributed engine, 1, 2 and 3 agents")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (corpora, indexes)")
    ap.add_argument("--reuse", type=Path, help="a folder an earlier --keep run left (printed at its end): "
                    "its corpora, indexes and build figures are reused, the queries and the engine run again")


def parse_sizes(text: str) -> list[int]:
    """'10k,30k,59k' -> [10000, 30000, 58980]; raises ValueError on a bad size."""
    out = []
    for part in (p.strip().lower() for p in text.split(",") if p.strip()):
        if part in SIZES:
            out.append(SIZES[part])
        elif re.fullmatch(r"\d+k?", part):
            out.append(int(part.rstrip("k")) * (1000 if part.endswith("k") else 1))
        else:
            raise ValueError(f"not a size: {part!r} (10k, 30k, 59k, 240k or a number)")
        if out[-1] <= 0:
            raise ValueError(f"not a size: {part!r}")
    return out


# -- the statements ---------------------------------------------------------------------------------------

def _shift_date(value: str, days: int) -> str:
    try:
        return (date.fromisoformat(value[:10]) + timedelta(days=days)).isoformat() + value[10:]
    except ValueError:
        return value


def _swap_words(html: str, copy: int) -> str:
    """Swap two neighbouring words of the text (never inside a tag) every SWAP_EVERY words, starting at a
    place that depends on the copy: the vocabulary and lengths stay, the word order (shingles) changes."""
    parts = _TAG.split(html)
    count = 0
    for i in range(0, len(parts), 2):  # even parts are text between tags
        pieces = _WORD.split(parts[i])  # odd pieces are words
        words = list(range(1, len(pieces), 2))
        for j in range(len(words) - 1):
            if (count + j) % SWAP_EVERY == copy % SWAP_EVERY:
                a, b = words[j], words[j + 1]
                pieces[a], pieces[b] = pieces[b], pieces[a]
        count += len(words)
        parts[i] = "".join(pieces)
    return "".join(parts)


def synthetic_records(lines: list[str], copy: int) -> list[str]:
    """Copy ``copy`` (0: the records as they are) of NSB JSON Lines records: ids, message numbers in the
    url, dates and word order changed as the module doc says."""
    if copy == 0:
        return lines
    shift = copy * ID_SHIFT
    out = []
    for line in lines:
        rec = json.loads(line)
        for key in ("id", "url"):
            if isinstance(rec.get(key), str):
                rec[key] = _NUMBER.sub(lambda m: f"{m[1]}{int(m[2]) + shift}", rec[key])
        if isinstance(rec.get("date"), str):
            rec["date"] = _shift_date(rec["date"], copy)
        if isinstance(rec.get("html"), str):
            rec["html"] = _swap_words(rec["html"], copy)
        out.append(json.dumps(rec, ensure_ascii=False) + "\n")
    return out


def prepare(folder: Path, size: int, base: int | None = None) -> int:
    """Write ``size`` records into ``folder`` (JSON Lines, one file per copy of the first ``base`` records of
    NSB, default all of them); how many."""
    folder.mkdir(parents=True, exist_ok=True)
    with gzip.open(NSB, "rt", encoding="utf-8") as f:
        lines = list(itertools.islice(f, min(size, base or size)))
    written = 0
    for copy in range(math.ceil(size / max(len(lines), 1))):
        chunk = synthetic_records(lines, copy)[:size - written]
        with open(folder / f"nsb-{copy}.jsonl", "w", encoding="utf-8") as out:
            out.writelines(chunk)
        written += len(chunk)
    return written


# -- measures, each in a fresh process (fresh RSS and CPU counters) ----------------------------------------

def _cpu_rss() -> dict:
    import resource
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"cpu_s": own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime,
            "rss_mb": max(own.ru_maxrss, kids.ru_maxrss) / 1024}


def build_presse(corpus_dir: str, index_dir: str) -> dict:
    from indexer import update
    from indexer.store import index_size, segment_count
    t = time.perf_counter()
    rep = update([corpus_dir], index_dir)
    out = {"build_s": time.perf_counter() - t, **_cpu_rss(), "statements": rep.statements,
           "bytes": index_size(index_dir), "segments": segment_count(index_dir),
           "load": os.getloadavg()[0]}
    return out


def build_fts5(corpus_dir: str, db_path: str) -> dict:
    """The FTS5 reference, and beside it bench.knownitem's ``meta`` table (language and date for the
    filters, title and lead for drawing the queries)."""
    import sqlite3

    import corpus
    from bench.fts5ref import SCHEMA, size
    from bench.knownitem import to_doc
    t = time.perf_counter()
    db = sqlite3.connect(db_path)
    db.execute(SCHEMA)
    db.execute("CREATE TABLE meta (id TEXT PRIMARY KEY, title TEXT, lead TEXT, lang TEXT, date TEXT, "
               "pair TEXT)")
    n = 0
    for x in corpus.read_paths(sorted(Path(corpus_dir).iterdir())):
        if hasattr(x, "body"):
            db.execute("INSERT INTO docs VALUES (?, ?, ?)", (x.id, x.title or "", x.body))
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?, ?, ?, ?, ?)", astuple(to_doc("nsb", x)))
            n += 1
    db.commit()
    db.close()
    return {"build_s": time.perf_counter() - t, **_cpu_rss(), "statements": n, "bytes": size(Path(db_path)),
            "load": os.getloadavg()[0]}


def sample(db_path: str | Path, n: int) -> list:
    """n queries of the mix (:func:`bench.mix.make_mix`, every class in its share, the mix's seed), drawn
    from the statements of this size (the ``meta`` table :func:`build_fts5` wrote)."""
    import sqlite3

    from bench import knownitem as ki
    from bench.mix import make_mix
    db = sqlite3.connect(db_path)
    docs = ki.load_docs(db)
    db.close()
    mix = make_mix(docs, ki.relations(docs))
    step = max(1, len(mix) // max(n, 1))
    return mix[::step][:n]


def query_both(index_dir: str, db_path: str, n: int | str, repeat: int | str) -> dict:
    import sqlite3
    import statistics

    from bench.common import percentile
    from bench.mix import fts5_search, time_all
    from search import Searcher

    queries, repeat = sample(db_path, int(n)), int(repeat)
    db = sqlite3.connect(db_path)
    out = {"queries": len(queries)}
    with Searcher(index_dir) as s:
        s.search(queries[0].text, limit=10, **queries[0].options)  # the first query opens everything
        t, c = time.perf_counter(), time.process_time()
        presse = time_all(queries, lambda q: s.search(q.text, limit=10, **q.options), repeat)
        out.update(wall_s=time.perf_counter() - t, cpu_s=time.process_time() - c)
    fts = time_all(queries, lambda q: fts5_search(db, q), repeat)
    db.close()
    for name, times in (("presse", presse), ("fts5", fts)):
        xs = [x for v in times.values() for x in v]
        out[name] = {"median_ms": statistics.median(xs), "p95_ms": percentile(xs, 0.95)}
    out["rss_mb"] = _cpu_rss()["rss_mb"]
    out["load"] = os.getloadavg()[0]
    return out


def _child(func: str, *args: str) -> dict:
    """Run ``bench.scale.func(*args)`` in a fresh process; its JSON answer."""
    code = f"import json, sys; from bench.scale import {func}; print(json.dumps({func}(*sys.argv[1:])))"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, env=env,
                       check=False)
    lines = [x for x in p.stdout.splitlines() if x.startswith("{")]
    if p.returncode or not lines:
        raise RuntimeError(f"{func} failed (exit {p.returncode}):\n{p.stderr[-3000:]}")
    return json.loads(lines[-1])


# -- the distributed engine (issue 19), when bench.sphinxql offers it --------------------------------------

ENGINE_HOOK = "scale_point"


def engine_points(index_dir: Path, db_path: Path, n: int) -> dict[int, dict] | str:
    """{agents: measures} from ``bench.sphinxql.scale_point``, or why there are none."""
    try:
        from bench import sphinxql
    except ImportError as e:
        return f"bench.sphinxql cannot be imported ({e})"
    hook = getattr(sphinxql, ENGINE_HOOK, None)
    if hook is None:
        return (f"bench.sphinxql offers no {ENGINE_HOOK}(index_dir, queries, agents) yet: the distributed "
                "engine is left out of this run")
    if shutil.which("searchd") is None:
        return "searchd is not installed (Debian: apt-get install sphinxsearch): the engine is left out"
    queries = sample(db_path, n)
    out = {}
    # each point printed as it comes, so a long run's first points are not lost: 3 agents (the quickest
    # sync) and 1 before 2
    for agents in (3, 1, 2):
        out[agents] = m = hook(index_dir, queries, agents)
        print(f"  SphinxQL, {agents} agent(s): sync {m['sync_s']:.0f} s, median {m['median_ms']:.1f} ms, "
              f"p95 {m['p95_ms']:.1f} ms", flush=True)
    return out


# -- one size, the tables ----------------------------------------------------------------------------------

def measure(size: int, work: Path, args) -> dict:
    folder = (getattr(args, "reuse", None) or work) / f"n{size}"
    corpus_dir, index_dir, db = folder / "corpus", folder / "index", folder / "fts5.sqlite"
    builds = folder / "builds.json"  # a kept folder's build figures, for --reuse
    if getattr(args, "reuse", None) and builds.exists():
        written, presse, fts = json.loads(builds.read_text())
        print(f"\n[{written:,} records] reusing the builds of {folder}; {args.queries} queries on both …",
              flush=True)
    else:
        written = prepare(corpus_dir, size)
        print(f"\n[{written:,} records] presse build …", flush=True)
        presse = _child("build_presse", str(corpus_dir), str(index_dir))
        print(f"  {presse['build_s']:.0f} s wall, {presse['cpu_s']:.0f} s CPU; FTS5 build …", flush=True)
        fts = _child("build_fts5", str(corpus_dir), str(db))
        print(f"  {fts['build_s']:.0f} s wall; {args.queries} queries on both …", flush=True)
        builds.write_text(json.dumps([written, presse, fts]))
    queries = _child("query_both", str(index_dir), str(db), str(args.queries), str(args.repeat))
    out = {"records": written, "presse": presse, "fts5": fts, "queries": queries}
    if args.engine == "sphinxql":
        out["engine"] = engine_points(index_dir, db, args.queries)
    if not args.keep and not getattr(args, "reuse", None):
        shutil.rmtree(folder, ignore_errors=True)
    return out


def size_table(r: dict) -> Table:
    p, f, q = r["presse"], r["fts5"], r["queries"]
    t = Table(f"Scale — {r['records']:,} records ({p['statements']:,} statements indexed by presse, "
              f"{f['statements']:,} by FTS5)", ["measure", "presse", "SQLite FTS5", "presse / FTS5"])
    t.add("build, wall (s)", p["build_s"], f["build_s"], ratio(p["build_s"], f["build_s"]))
    t.add("build, CPU of all processes (s)", p["cpu_s"], f["cpu_s"], ratio(p["cpu_s"], f["cpu_s"]))
    t.add("load average at the end of the build", p["load"], f["load"], "")
    t.add("peak RSS of the build, largest process (MB)", p["rss_mb"], f["rss_mb"],
          ratio(p["rss_mb"], f["rss_mb"]))
    t.add("index size on disk (MB)", p["bytes"] / 1e6, f["bytes"] / 1e6, ratio(p["bytes"], f["bytes"]))
    t.add("segments", p["segments"], "", "")
    for k, label in (("median_ms", "median"), ("p95_ms", "p95")):
        t.add(f"query {label}, {q['queries']} mix queries (ms)", q["presse"][k], q["fts5"][k],
              ratio(q["presse"][k], q["fts5"][k]))
    t.add("peak RSS of the searching process (MB)", q["rss_mb"], "", "")
    eng = r.get("engine")
    if isinstance(eng, dict):
        for agents, m in sorted(eng.items()):
            t.add(f"SphinxQL, {agents} agent(s): sync s / median / p95 ms",
                  f"{m['sync_s']:.0f} / {m['median_ms']:.1f} / {m['p95_ms']:.1f}", "", "")
    return t


def curve_table(results: list[dict]) -> Table:
    t = Table("Scale curve — presse (FTS5), ratio presse / FTS5",
              ["statements", "build wall s", "build CPU s", "peak RSS MB", "index MB", "segments",
               "query median ms", "query p95 ms", "within one machine?", "SphinxQL p95 ms, 1/2/3 agents"],
              f"one machine: build peak RSS <= {GOAL_RSS_MB} MB and query p95 <= {GOAL_P95_MS:.0f} ms")
    for r in results:
        p, f, q = r["presse"], r["fts5"], r["queries"]

        def pair(a: float, b: float, fmt: str = "{:.0f}") -> str:
            return f"{fmt.format(a)} ({fmt.format(b)}) {ratio(a, b)}"
        ok = p["rss_mb"] <= GOAL_RSS_MB and q["presse"]["p95_ms"] <= GOAL_P95_MS
        t.add(f"{p['statements']:,}", pair(p["build_s"], f["build_s"]), pair(p["cpu_s"], f["cpu_s"]),
              pair(p["rss_mb"], f["rss_mb"]), pair(p["bytes"] / 1e6, f["bytes"] / 1e6), p["segments"],
              pair(q["presse"]["median_ms"], q["fts5"]["median_ms"], "{:.1f}"),
              pair(q["presse"]["p95_ms"], q["fts5"]["p95_ms"], "{:.1f}"), "yes" if ok else "NO",
              engine_cell(r.get("engine")))
    return t


def engine_cell(eng) -> str:
    """The distributed engine's query p95 with 1, 2, 3 agents ("—" when it was not run)."""
    if not isinstance(eng, dict):
        return "—"
    return " / ".join(f"{m['p95_ms']:.0f}" for _agents, m in sorted(eng.items()))


def main(args) -> int:
    require(NSB)
    try:
        sizes = parse_sizes(args.sizes)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    m = machine()
    print("machine: " + machine_line(m), flush=True)
    work = Path(tempfile.mkdtemp(prefix="presse-bench-scale-"))
    t, load0 = time.perf_counter(), os.getloadavg()
    results = []
    try:
        for size in sizes:
            results.append(measure(size, work, args))
    finally:
        if args.keep:
            print(f"(kept {work})")
        else:
            shutil.rmtree(work, ignore_errors=True)
    run = Table("This run", ["measure", "value"])
    run.add("wall time of the whole run", f"{time.perf_counter() - t:.0f} s")
    run.add("load average at the start / at the end", " / ".join(f"{x:.2f}" for x in load0) + "  |  "
            + " / ".join(f"{x:.2f}" for x in os.getloadavg()))
    tables = [size_table(r) for r in results] + [curve_table(results), run]
    notes = [r["engine"] for r in results if isinstance(r.get("engine"), str)]
    if notes:
        print("\nengine: " + notes[0])
    report("scale", m, tables, {"results": results, "sizes": sizes})
    return 0
