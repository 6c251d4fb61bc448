"""Query speed on a realistic mix: `python -m bench.mix [--index DIR] [--repeat R]`.

Over 1,000 queries of every kind a newsroom types, on the full NSB index (58,980 statements), each timed
warm in this process through ``Searcher.search(q, limit=10)`` (snippets, exact total and facets included),
and beside it the same query through SQLite FTS5 over the same statements in the same run (the ingester's
text; all words first and any word when that finds less than a page, as presse does; a snippet per hit; the
exact total by COUNT):

    class     n    what
    lookup    400  3-5 words remembered from a title or first sentence (bench.knownitem), FR and EN
    question  150  SPF questions, as typed (French sentences)
    typo      150  the lookups with one edit in one word
    phrase    100  two or three consecutive title words in quotes
    prefix    100  the first 5+ letters of a title word and ``*``, with another word
    filter    100  lookup words with --lang, a date range, or ``title:``
    common    100  very common words ("suisse", "conseil federal", "covid", …), several pages

Per class and for the whole mix: median, p95 and p99 in ms for presse and FTS5 and their ratio, plus the wall
time, the CPU time and the load average of the run. The goals of the speed issue (median ≤ 10 ms, p95 ≤ 30,
p99 ≤ 60) are printed beside. The first query of a fresh process (cold) is timed apart, and `presse search`
as a whole process (11 runs, the median is the figure, best and CPU beside) is timed interleaved with a
`python -c` process that opens the FTS5 database and runs one query.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench import knownitem as ki
from bench.common import Table, machine, machine_line, percentile, ratio, report
from bench.fts5ref import STARTUP

COLD_RUNS = 11  # whole `presse search` processes timed (the median is the figure: a process varies most)

SEED = 15
COMMON = ["suisse", "conseil federal", "covid", "confederation", "departement federal", "coronavirus",
          "office federal", "schweiz", "federal council", "securite"]
GOALS = {"median": 10.0, "p95": 30.0, "p99": 60.0}
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Q:
    kind: str
    text: str
    options: dict  # Searcher.search's options (lang, since, until, page)


def title_words(title: str) -> list[str]:
    return [w for w in ki.WORD.findall(ki.fold(title)) if len(w) > 2]


def make_mix(docs: list[ki.Doc], rel: ki.Relations, seed: int = SEED) -> list[Q]:
    rng = random.Random(seed)
    lookups = ki.make_lookups("nsb", docs, rel, n=650)
    mix = [Q("lookup", q.text, {}) for q in lookups[:400]]
    mix += [Q("question", q.text, {}) for q in ki.spf_queries([])[:150]]
    mix += [Q("typo", q.text, {}) for q in ki.with_typos(lookups[:150])]
    titled = [d for d in docs if len(title_words(d.title)) >= 4]
    rng.shuffle(titled)
    for d in titled[:100]:
        ws = title_words(d.title)
        i = rng.randrange(len(ws) - 2)
        mix.append(Q("phrase", '"' + " ".join(ws[i:i + rng.choice((2, 3))]) + '"', {}))
    for d in titled[100:200]:
        ws = [w for w in title_words(d.title) if len(w) >= 6]
        if len(ws) >= 2:
            mix.append(Q("prefix", f"{ws[0][:5]}* {ws[1]}", {}))
    for i, q in enumerate(lookups[400:500]):
        words = q.text.split()
        kind = i % 3
        if kind == 0:
            mix.append(Q("filter", q.text, {"lang": q.lang or "fr"}))
        elif kind == 1:
            mix.append(Q("filter", q.text, {"since": "2010", "until": "2020-12-31"}))
        else:
            mix.append(Q("filter", f"title:{words[0]} " + " ".join(words[1:]), {}))
    for i in range(100):
        mix.append(Q("common", COMMON[i % len(COMMON)], {"page": 1 + (i // len(COMMON)) % 3}))
    return mix


def fts5_search(db: sqlite3.Connection, q: Q, limit: int = 10) -> int:
    """The same query through FTS5, as near as it goes: AND then OR (as presse widens), phrases and prefixes
    in FTS5's syntax, filters as WHERE clauses on the statements' language and date, page offsets, a
    snippet per hit and the exact total."""
    text = q.text
    phrase = text.startswith('"')
    words = re.findall(r"[^\W_]+\*?", text.replace("title:", ""))
    terms = [f'"{w[:-1]}" *' if w.endswith("*") else f'"{w}"' for w in words]
    if not terms:
        return 0
    title_only = text.startswith("title:")
    where, args = "", []
    if q.options.get("lang"):
        where, args = " AND m.lang = ?", [q.options["lang"]]
    if q.options.get("since"):  # the same range as presse's options (YYYY or YYYY-MM-DD), as ISO dates
        since, until = q.options["since"], q.options["until"]
        where, args = " AND m.date BETWEEN ? AND ?", [f"{since}-01-01"[:10], f"{until}-12-31"[:10]]
    offset = (q.options.get("page", 1) - 1) * limit
    total = 0
    for op in ((" ",) if phrase else (" AND ", " OR ")):
        match = '"' + " ".join(words) + '"' if phrase else op.join(terms)
        if title_only:
            match = f"title : {terms[0]}" + ("" if len(terms) == 1 else op + op.join(terms[1:]))
        # the statements' language and date only when a filter asks for them (a join costs FTS5 time)
        source = "docs d JOIN meta m ON m.id = d.id" if where else "docs d"
        sql = (f"SELECT d.id, snippet(docs, 2, '<mark>', '</mark>', '…', 30) FROM {source} "
               f"WHERE docs MATCH ?{where} ORDER BY bm25(docs) LIMIT ? OFFSET ?")
        db.execute(sql, [match, *args, limit, offset]).fetchall()
        count = f"SELECT count(*) FROM {source} WHERE docs MATCH ?{where}"
        total = db.execute(count, [match, *args]).fetchone()[0]
        if total >= limit or len(terms) < 2:
            break
    return total


def time_all(mix: list[Q], run, repeat: int) -> dict[str, list[float]]:
    """ms per query and class (the best of ``repeat`` runs of each query: the noise of a shared machine
    only ever adds time)."""
    out: dict[str, list[float]] = {}
    for q in mix:
        best = float("inf")
        for _ in range(repeat):
            t = time.perf_counter()
            run(q)
            best = min(best, time.perf_counter() - t)
        out.setdefault(q.kind, []).append(1000 * best)
    return out


def process_seconds(args: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one process run to its end."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, cwd=ROOT)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def cold_starts(index_dir: Path, db: str, runs: int) -> dict[str, list[tuple[float, float]]]:
    """``runs`` whole `presse search` processes and as many FTS5 ``python -c`` ones, interleaved (so that
    both see the same moments of a shared machine): (wall, CPU) seconds each."""
    out: dict[str, list[tuple[float, float]]] = {"presse": [], "fts5": []}
    query = "conseil federal"
    for _ in range(runs):
        out["presse"].append(process_seconds([sys.executable, "-m", "cli", "search", query,
                                              "--index", str(index_dir)]))
        out["fts5"].append(process_seconds([sys.executable, "-c", STARTUP, db, query]))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, default=ki.DEFAULT_INDEX["nsb"], help="a full NSB index")
    ap.add_argument("--repeat", type=int, default=2, help="runs of each query; the best is kept")
    args = ap.parse_args(argv)
    m = machine()
    print("machine: " + machine_line(m), flush=True)
    db = ki.open_corpus("nsb")
    docs = ki.load_docs(db)
    index_dir = ki.ensure_index("nsb", args.index)
    mix = make_mix(docs, ki.relations(docs))
    print(f"{len(mix)} queries on {index_dir}", flush=True)

    from search import Searcher

    t = time.perf_counter()
    searcher = Searcher(index_dir)
    searcher.search(mix[0].text, limit=10, **mix[0].options)
    cold = time.perf_counter() - t
    load0, wall0, cpu0 = os.getloadavg(), time.perf_counter(), time.process_time()
    presse = time_all(mix, lambda q: searcher.search(q.text, limit=10, **q.options), args.repeat)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    fts = time_all(mix, lambda q: fts5_search(db, q), args.repeat)
    searcher.close()
    presse["all"] = [x for k in list(presse) for x in presse[k]]
    fts["all"] = [x for k in list(fts) if k != "all" for x in fts[k]]

    table = Table(f"Query mix — {len(mix)} queries on NSB ({len(docs):,} statements), warm, 10 hits with "
                  "snippets, exact total, facets; ms, best of " + str(args.repeat),
                  ["class", "n", "presse median", "p95", "p99", "FTS5 median", "p95", "p99",
                   "median ratio", "p95 ratio"])
    for kind in [*dict.fromkeys(q.kind for q in mix), "all"]:
        p, f = presse[kind], fts[kind]
        pm, p95, p99 = percentile(p, .5), percentile(p, .95), percentile(p, .99)
        fm, f95, f99 = percentile(f, .5), percentile(f, .95), percentile(f, .99)
        table.add(kind, len(p), pm, p95, p99, fm, f95, f99, ratio(pm, fm), ratio(p95, f95))
    allp = presse["all"]
    goals = Table("Goals — the whole mix (presse)", ["measure", "goal", "measured", "met?"])
    for name, p in (("median", .5), ("p95", .95), ("p99", .99)):
        v = percentile(allp, p)
        goals.add(name, f"≤ {GOALS[name]:.0f} ms", v, "yes" if v <= GOALS[name] else "NO")
    starts = cold_starts(index_dir, db_path(db), COLD_RUNS)
    walls = {k: sorted(w for w, _ in v) for k, v in starts.items()}
    start_presse, start_fts = percentile(walls["presse"], .5), percentile(walls["fts5"], .5)
    goals.add(f"cold `presse search` process, median of {COLD_RUNS}", "≤ 0.25 s", start_presse,
              "yes" if start_presse <= .25 else "NO")
    goals.add("  its best / its CPU, median", "", f"{walls['presse'][0]:.3f} / "
              f"{percentile(sorted(c for _, c in starts['presse']), .5):.3f}", "")
    goals.add("(FTS5: python -c, open, one query; median)", "", start_fts, ratio(start_presse, start_fts))
    goals.add("first query of a fresh Searcher", "", cold, "")
    rusage = resource.getrusage(resource.RUSAGE_SELF)
    run = Table("This run", ["measure", "value"])
    run.add("presse: wall s / CPU s over the mix", f"{wall:.1f} / {cpu:.1f}")
    run.add("load average at the start (1, 5, 15 min)", " / ".join(f"{x:.2f}" for x in load0))
    run.add("peak RSS of this process", f"{rusage.ru_maxrss / 1024:.0f} MB")
    for tb in (table, goals, run):
        print()
        print(tb.text())
    report("mix", m, [table, goals, run], {"queries": len(mix), "presse_ms": presse, "fts5_ms": fts,
                                          "cold_s": cold, "start_presse_s": start_presse,
                                          "start_fts5_s": start_fts, "starts_wall_cpu_s": starts})
    return 0


def db_path(db: sqlite3.Connection) -> str:
    return db.execute("PRAGMA database_list").fetchone()[2]


if __name__ == "__main__":
    raise SystemExit(main())
