"""Quality of presse beside references, in one run: `python -m bench quality [--quick] [--reuse-indexes]`.

- Relevance, beside SQLite FTS5 over the same statements (the ingester's text, title and body, unicode61
  remove_diacritics 2, bm25) with all words required (AND) and with any word (OR), through
  ``bench.knownitem``; each set is split into a "tune" and a "test" half by a seeded hash of the query id, and
  the test half is the one reported (the tune half is shown too, marked):
  - SPF: ../shared/eval/spf (service-public.fr, 535 French questions, one right page each);
  - known-item lookups on NSB and on the Yukon pages: 600 generated each (3-5 words remembered from a title
    and a first sentence, mostly without accents, no language filter), and the same lookups with a typo.
- Main-content extraction: token F1 of presse's extracted body and of trafilatura's text against the
  reference bodies of bench/reference (``bench.extraction``). trafilatura is used only here.

presse's indexes are built afresh in a temporary folder (the current code); ``--reuse-indexes`` takes
/tmp/nsb-idx and /tmp/yk-idx when they exist (faster, but built by whatever code built them). --quick: the
first 100 queries of each set, indexes reused. Saves the tables as JSON under bench/results/.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench import knownitem as ki
from bench.common import Table, machine, machine_line, report, require

SETS = (("spf", "SPF questions (French)"), ("nsb", "NSB known-item lookups (FR/EN)"),
        ("yukon", "Yukon known-item lookups (EN/FR)"))
METRICS = (("mrr@10", "MRR@10"), ("success@1", "success@1"), ("success@10", "success@10"),
           ("right_lang@1", "right language at 1"), ("pairs_two_slots", "pairs in two slots"),
           ("same_top@1", "typo: same top"))


def relevance(quick: bool, reuse: bool) -> tuple[list[Table], dict]:
    """One table per query set (test half, then the tune half marked), and the scores."""
    tables, data = [], {}
    with tempfile.TemporaryDirectory(prefix="presse-quality-") as tmp:
        for corpus, label in SETS:
            print(f"relevance: {label} …", flush=True)
            fresh = not (quick or reuse) or corpus == "spf"
            index = Path(tmp) / corpus if fresh else ki.default_index(corpus)
            m = ki.measure(corpus, index, "all", typos=True, limit=100 if quick else None)
            note = "presse index built in this run" if fresh else f"presse index reused: {index}"
            for which in ("lookups", "typos"):
                if which == "typos" and not m.typos:
                    continue
                scores = {part: m.scores(which, part) for part in ("test", "tune")}
                data[f"{corpus}/{which}"] = scores
                name = label + (" with one typo" if which == "typos" else "")
                tables.append(score_table(name, scores, note))
    return tables, data


def score_table(label: str, scores: dict[str, dict[str, dict[str, float]]], note: str = "") -> Table:
    test = scores["test"]
    cols = [(k, h) for k, h in METRICS if k in test["presse"]]
    n = {part: scores[part]["presse"]["queries"] for part in scores}
    t = Table(f"{label} — test half ({n['test']} queries); tune half ({n['tune']}) below, marked",
              ["engine", "half", *(h for _, h in cols), "ms/query"], note)
    for part in ("test", "tune"):
        for eng, s in scores[part].items():
            name = {"FTS5 AND": "FTS5, all words (AND)", "FTS5 OR": "FTS5, any word (OR)"}.get(eng, eng)
            t.add(name, part if part == "test" else "tune (tuned on)",
                  *(f"{s[k]:.3f}" for k, _ in cols), s["ms_per_query"])
    return t


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


def targets(data: dict, quick: bool) -> Table:
    """The issue's targets, judged on the test halves."""
    t = Table("Targets — quality (test halves)", ["target", "wanted", "measured", "met?"],
              "--quick: 100 queries a set, not the target sets" if quick else "")

    def add(what: str, wanted: str, value: float, ok: bool, shown: str | None = None) -> None:
        t.add(what, wanted, shown or f"{value:.3f}", "yes" if ok else "NO")

    spf = data["spf/lookups"]["test"]["presse"]["mrr@10"]
    add("SPF MRR@10", "≥ 0.85", spf, spf >= 0.85, decimals(spf, 0.85))
    for corpus in ("nsb", "yukon"):
        sc = data[f"{corpus}/lookups"]["test"]
        p, best = sc["presse"]["mrr@10"], max(sc["FTS5 AND"]["mrr@10"], sc["FTS5 OR"]["mrr@10"])
        add(f"{corpus} known-item MRR@10", "≥ 0.85 and ahead of FTS5", p, p >= 0.85 and p > best,
            "{} (FTS5 best {})".format(*side_by_side(p, best, 0.85)))
        pairs, right = sc["presse"]["pairs_two_slots"], sc["presse"]["right_lang@1"]
        add(f"{corpus} pairs in two slots", "0", pairs, pairs == 0, decimals(pairs, 1e-12))
        add(f"{corpus} right language at rank 1", "≥ 0.99", right, right >= 0.99, decimals(right, 0.99))
        same = data[f"{corpus}/typos"]["test"]["presse"]["same_top@1"]
        add(f"{corpus} one-edit typo: same top result", "≥ 0.90", same, same >= 0.90, decimals(same, 0.90))
    return t


def places(value: float, *lines: float) -> int:
    """3 decimals, or as many more (up to 6) as it takes for the shown figure to fall on the same side of
    each goal line as the value itself: 0.849993 against 0.85 is "0.84999", never "0.850"."""
    for n in range(3, 7):
        if all((float(f"{value:.{n}f}") >= line) == (value >= line) for line in lines):
            return n
    return 6


def decimals(value: float, *lines: float) -> str:
    """value shown with :func:`places` decimals."""
    return f"{value:.{places(value, *lines)}f}"


def side_by_side(a: float, b: float, line: float) -> tuple[str, str]:
    """a and b with as many decimals as keep each on its side of the goal line and of the other, and apart
    when they differ."""
    n = max(places(a, line, b), places(b, a))
    while n < 6 and a != b and f"{a:.{n}f}" == f"{b:.{n}f}":
        n += 1
    return f"{a:.{n}f}", f"{b:.{n}f}"


def main(args) -> int:
    m = machine()
    print("machine: " + machine_line(m), flush=True)
    rel_tables, rel_data = relevance(args.quick, getattr(args, "reuse_indexes", False))
    print("extraction …", flush=True)
    ex_table, ex_data = extraction()
    tables = [*rel_tables, ex_table, targets(rel_data, args.quick)]
    report("quality", m, tables, {"quick": args.quick, "relevance": rel_data, "extraction": ex_data})
    return 0
