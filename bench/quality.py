"""Quality of presse beside references, in one run: `python -m bench quality [--quick]`.

- Relevance on ../shared/eval/spf (service-public.fr, 535 French questions, one right page each): the pages
  are indexed by presse (ingester + indexer) and INSERTed into an in-memory SQLite FTS5 table (unicode61,
  remove_diacritics 2, the words OR-ed, bm25); MRR@10, success@1, success@10 of both (``bench.relevance``).
- Main-content extraction: token F1 of presse's extracted body and of trafilatura's text against the
  reference bodies of bench/reference (``bench.extraction``). trafilatura is used only here.

--quick: the first 100 questions only. Saves the tables as JSON under bench/results/.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.common import SPF, Table, machine, machine_line, report, require


def relevance(quick: bool) -> tuple[Table, dict]:
    from bench import relevance as rel
    require(SPF / "docs.jsonl", SPF / "queries.tsv", SPF / "qrels.txt")
    queries, qrels = rel.load_eval(SPF)
    if quick:
        keep = list(qrels)[:100]
        qrels = {q: qrels[q] for q in keep}
        queries = {q: queries[q] for q in keep if q in queries}
    with tempfile.TemporaryDirectory(prefix="presse-spf-") as tmp:
        t = time.perf_counter()
        rel.build(Path(tmp), SPF)
        build_s = time.perf_counter() - t
        ranked, took, modes = rel.run_presse(Path(tmp), queries)
    fts, fts_took = rel.run_fts5(SPF, queries)
    mp, mf = rel.metrics(ranked, qrels), rel.metrics(fts, qrels)
    table = Table(f"Relevance — ../shared/eval/spf, {len(qrels)} French questions",
                  ["engine", "MRR@10", "success@1", "success@10", "ms/query"])
    n = max(1, len(queries))
    def f3(*xs):
        return [f"{x:+.3f}" if x < 0 or name == "diff" else f"{x:.3f}" for x in xs]
    name = ""
    table.add("presse", *f3(mp["mrr@10"], mp["success@1"], mp["success@10"]), 1000 * took / n)
    table.add("SQLite FTS5 (words OR-ed, bm25)", *f3(mf["mrr@10"], mf["success@1"], mf["success@10"]),
              1000 * fts_took / n)
    name = "diff"
    table.add("presse − FTS5", *f3(mp["mrr@10"] - mf["mrr@10"], mp["success@1"] - mf["success@1"],
                                   mp["success@10"] - mf["success@10"]), "")
    data = {"questions": len(qrels), "presse": mp, "fts5": mf, "presse_modes": modes,
            "index_build_s": build_s}
    return table, data


def extraction() -> tuple[Table, dict]:
    from bench import common
    from bench import extraction as ex
    require(ex.REFERENCE / "cases.json")
    ex.SHARED = common.SHARED
    res = ex.run()
    if not res:
        raise common.MissingData(f"no extraction case could be loaded (pages expected under {common.SHARED})")
    table = Table("Main-content extraction — token F1 against bench/reference bodies",
                  ["group", "pages", "presse", "trafilatura", "presse − trafilatura"])
    total = sum(r["pages"] for r in res.values())
    for name, r in res.items():
        table.add(name, r["pages"], f"{r['presse']:.3f}", f"{r['trafilatura']:.3f}",
                  f"{r['presse'] - r['trafilatura']:+.3f}")
    if total:
        mp = sum(r["presse"] * r["pages"] for r in res.values()) / total
        mt = sum(r["trafilatura"] * r["pages"] for r in res.values()) / total
        table.add("all pages", total, f"{mp:.3f}", f"{mt:.3f}", f"{mp - mt:+.3f}")
    return table, res


def main(args) -> int:
    m = machine()
    print("machine: " + machine_line(m), flush=True)
    print("relevance (indexing ../shared/eval/spf) …", flush=True)
    rel_table, rel_data = relevance(args.quick)
    print("extraction …", flush=True)
    ex_table, ex_data = extraction()
    mrr = rel_data["presse"]["mrr@10"]
    targets = Table("Targets — quality", ["target", "wanted", "measured", "met?"],
                    "" if not args.quick else "--quick: 100 questions, not the target set")
    targets.add("SPF MRR@10 (presse)", "≥ 0.85", f"{mrr:.3f}", "yes" if mrr >= 0.85 else "NO")
    tables = [rel_table, ex_table, targets]
    report("quality", m, tables, {"quick": args.quick, "relevance": rel_data, "extraction": ex_data})
    return 0
