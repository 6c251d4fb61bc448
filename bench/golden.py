"""Golden outputs of the search layer: record the JSON of many varied queries, then compare a later run.

    python -m bench.golden record DIR    # build the two indexes in DIR, run the queries, save their outputs
    python -m bench.golden compare DIR   # rerun the same queries on the same indexes, list every difference

Two indexes, both built through ``indexer.update`` (the real path): the bundled sample (``sample/``: Yukon
pages in two languages with their translation links, vie-publique statements) and the service-public.fr pages
(``../shared/eval/spf/docs.jsonl``, as :mod:`bench.relevance` indexes them). The queries are drawn (seeded)
from the indexed text: words, accented and unaccented, upper case, several words, sentences, phrases,
prefixes, NOT/-word/SAUF, OR/OU, AND/ET, fields (title:, source:, lang:, date:), filters (lang, source,
since, until), sort by date, recency, pages 1-3, bilingual, typos, odd input, bad options, and related ids.
Each runs through the library as ``presse search --json`` / ``presse related --json`` run it, and a subset
through the web API (``/api/search``); the output is the JSON line those commands print (or the error
message). ``compare`` reuses the indexes saved by ``record``, so only the search side is compared.
``compare --whoosh`` runs the library's queries on the Whoosh matcher alone (the web API keeps the default).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import unicodedata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SPF_DOCS = ROOT.parent / "shared" / "eval" / "spf" / "docs.jsonl"
SETS = {"sample": [ROOT / "sample"], "spf": [SPF_DOCS]}
SEED = 13
_WORDS = re.compile(r"[^\W\d_][\w'’-]*[^\W_]|[^\W\d_]{2,}", re.UNICODE)
CLI_DEFAULTS = {"lang": None, "source": None, "since": None, "until": None, "sort": "relevance", "limit": 10,
                "page": 1, "recency": 0.0}


def build(index_dir: Path, paths: list[Path]) -> None:
    from indexer import update

    update(paths, index_dir, workers=False)


def _docs(index_dir: Path) -> list[dict[str, Any]]:
    """Stored fields of every statement (body as text), sorted by id: the material queries are drawn from."""
    from search import Searcher

    with Searcher(index_dir) as s:
        from indexer import open_index

        ix = open_index(index_dir)
        try:
            with ix.searcher() as ws:
                ids = sorted(str(f.get("id")) for f in ws.all_stored_fields() if f.get("id"))
        finally:
            ix.close()
        return [s.statement(i) for i in ids]


def _fold(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")


def _typo(rng: random.Random, word: str) -> str:
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        return word[:i] + word[i + 1:]
    if kind == 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return word[:i] + rng.choice("aeiourst") + word[i:]


def queries(docs: list[dict[str, Any]], seed: int = SEED) -> list[dict[str, Any]]:
    """The cases for one index: {"kind": "search"|"related"|"web", "q"/"id", "opts"}."""
    rng = random.Random(seed)
    texts = []
    for d in docs:
        title = d.get("title") or ""
        body = (d.get("body") or "")[:1500]
        texts.append((d, _WORDS.findall(title), _WORDS.findall(body)))
    words = sorted({w for _, t, b in texts for w in t + b if len(w) >= 4})
    accented = [w for w in words if _fold(w) != w]
    sources = sorted({d.get("source") or "" for d in docs} - {""})
    years = sorted({(d.get("date") or "")[:4] for d in docs} - {""})
    langs = sorted({d.get("lang") or "" for d in docs} - {""})
    ids = [d["id"] for d in docs]
    cases: list[dict[str, Any]] = []

    def add(q, kind="search", **opts):
        cases.append({"kind": kind, "q": q, "opts": opts})

    def doc_words(n, title=False):
        for _ in range(50):
            _, t, b = rng.choice(texts)
            seq = [w for w in (t if title else b) if len(w) >= 3]
            if len(seq) >= n:
                i = rng.randrange(len(seq) - n + 1)
                return seq[i:i + n]
        return [rng.choice(words) for _ in range(n)]

    def w():
        return rng.choice(words)

    for _ in range(40):
        add(w())
    for _ in range(25):
        add(_fold(rng.choice(accented or words)))
    for _ in range(10):
        add(rng.choice(accented or words))
    for _ in range(10):
        add(w().upper())
    for _ in range(40):
        add(" ".join(doc_words(2)))
    for _ in range(30):
        add(" ".join(doc_words(3)))
    for _ in range(35):
        add(" ".join(doc_words(rng.randrange(5, 9))) + rng.choice(["", " ?", "."]))
    for _ in range(20):
        add(" ".join([w(), w()]))  # two unrelated words: AND finds little, OR widens
    for _ in range(25):
        add('"' + " ".join(doc_words(2, title=True)) + '"')
    for _ in range(10):
        add('"' + " ".join(doc_words(3)) + '" ' + w())
    for _ in range(25):
        x = w()
        add(x[: rng.randrange(3, min(6, len(x)) + 1)] + "*")
    for _ in range(30):
        a, b = doc_words(2)
        add(rng.choice([f"{a} -{b}", f"{a} NOT {b}", f"{a} SAUF {b}", f"-{b} {a}"]))
    for _ in range(20):
        a, b = w(), w()
        add(rng.choice([f"{a} OR {b}", f"{a} OU {b}", f"({a} OR {b}) {w()}"]))
    for _ in range(10):
        a, b = doc_words(2)
        add(rng.choice([f"{a} AND {b}", f"{a} ET {b}"]))
    for _ in range(40):
        a = w()
        kind = rng.randrange(6)
        if kind == 0:
            add(f"title:{rng.choice(doc_words(1, title=True))}")
        elif kind == 1 and sources:
            add(f"source:{rng.choice(sources).split()[0]} {a}")
        elif kind == 2 and langs:
            add(f"lang:{rng.choice(langs)} {a}")
        elif kind == 3 and years:
            add(f"date:{rng.choice(years)} {a}")
        elif kind == 4 and years:
            y = rng.choice(years)
            add(f"date:[{y}-01-01 TO {y}-06-30] {a}")
        else:
            add(f'title:"{" ".join(doc_words(2, title=True))}"')
    for _ in range(60):
        opts: dict[str, Any] = {}
        if langs and rng.random() < 0.5:
            opts["lang"] = rng.choice(langs)
        if sources and rng.random() < 0.4:
            opts["source"] = rng.choice(sources)
        if years and rng.random() < 0.5:
            y = rng.choice(years)
            opts["since"] = rng.choice([y, y + "-06", y + "-03-15"])
        if years and rng.random() < 0.4:
            opts["until"] = rng.choice([rng.choice(years), rng.choice(years) + "-09"])
        if opts.get("since") and opts.get("until") and opts["since"][:4] > opts["until"][:4]:
            opts["since"], opts["until"] = opts["until"], opts["since"]
        add(" ".join(doc_words(rng.randrange(1, 3))), **opts)
    for _ in range(30):
        add(" ".join(doc_words(rng.randrange(1, 3))), sort="date",
            **({"lang": rng.choice(langs)} if langs and rng.random() < 0.3 else {}))
    for _ in range(20):
        add(" ".join(doc_words(rng.randrange(1, 4))), recency=rng.choice([0.3, 0.5, 1.0]))
    for _ in range(40):
        add(rng.choice([w(), " ".join(doc_words(2)), w()[:4] + "*"]), page=rng.choice([2, 3]),
            limit=rng.choice([3, 5, 10]))
    for _ in range(40):
        opts = {"bilingual": True}
        if langs and rng.random() < 0.7:
            opts["lang"] = rng.choice(langs + ["fr", "en"])
        add(" ".join(doc_words(rng.randrange(1, 3))), **opts)
    for _ in range(30):
        add(" ".join(_typo(rng, x) if len(x) > 4 and rng.random() < 0.7 else x
                     for x in doc_words(rng.randrange(1, 3))))
    for opts in ({"lang": langs[0]} if langs else {}, {"since": years[0]} if years else {},
                 {"source": sources[0]} if sources else {}, {"since": "2021", "until": "2019"},
                 {"since": "2020-13"}, {"until": "tomorrow"}, {"recency": 0.5, "lang": "fr"},
                 {"sort": "date", "since": years[-1]} if years else {}):
        add("", **opts)
        add(" ", **opts)
    for q in ("*", "-", '"', "()", "AND", "NOT", "le la les", "qu'est-ce que c'est ?", "l'État", "e-mail",
              "x" * 300, "date:2099 " + words[0], "lang:zz " + words[0], "title:", "source:",
              "\u00e9conomie", "ECONOMIE", "cafe\u0301", "‘aujourd’hui’", "foo:bar " + words[1],
              " ".join(words[:40]), "2020", "covid-19", "n°12"):
        add(q)
    for _ in range(30):
        cases.append({"kind": "related", "id": rng.choice(ids), "opts": {"limit": rng.choice([3, 5, 10])}})
    cases.append({"kind": "related", "id": "no-such-id", "opts": {"limit": 10}})
    for c in rng.sample([c for c in cases if c["kind"] == "search"], 120):
        o = {k: v for k, v in c["opts"].items() if k not in ("bilingual", "recency")}
        cases.append({"kind": "web", "q": c["q"], "opts": o})
    return cases


def _search(s, q: str, opts: dict[str, Any]):
    """`presse search --json`: the same call (the CLI's defaults, --bilingual included)."""
    return s.search(q, **{**CLI_DEFAULTS, **opts})


def run_cases(index_dir: Path, cases: list[dict[str, Any]], fast: bool = True) -> list[str]:
    """One output line per case: the command's JSON line, or "ERROR: message"."""
    from search import Searcher, SearchError
    from search.cli import json_line

    out: list[str] = []
    web_cases = []
    with Searcher(index_dir, fast=fast) as s:
        for i, c in enumerate(cases):
            if c["kind"] == "web":
                web_cases.append(i)
                out.append("")
                continue
            try:
                if c["kind"] == "related":
                    res = s.related(c["id"], **c["opts"])
                else:
                    res = _search(s, c["q"], c["opts"])
                out.append(json_line(res.to_dict()))
            except SearchError as e:
                out.append(f"ERROR: {e}")
    if web_cases:
        from search.web.app import create_app

        app = create_app(str(index_dir), threads=1)
        client = app.test_client()
        for i in web_cases:
            c = cases[i]
            params = {"q": c["q"], **{k: str(v) for k, v in c["opts"].items() if v is not None}}
            r = client.get("/api/search", query_string=params, base_url="http://localhost")
            out[i] = f"{r.status_code} {json.dumps(r.get_json(), ensure_ascii=False, sort_keys=True)}"
    return out


def _diff(a: Any, b: Any, path: str = "") -> list[str]:
    if type(a) is not type(b):
        return [f"{path or '.'}: {a!r:.120} -> {b!r:.120}"]
    if isinstance(a, dict):
        out = []
        for k in list(a) + [k for k in b if k not in a]:
            if k not in b or k not in a:
                out.append(f"{path}.{k}: {'removed' if k not in b else 'added'}")
            else:
                out += _diff(a[k], b[k], f"{path}.{k}")
        if not out and list(a) != list(b):
            out.append(f"{path or '.'}: key order {list(a)} -> {list(b)}")
        return out
    if isinstance(a, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items -> {len(b)}"] + _diff(a[: len(b)], b[: len(a)], path)[:3]
        return [x for i, (p, q) in enumerate(zip(a, b, strict=True)) for x in _diff(p, q, f"{path}[{i}]")]
    return [] if a == b else [f"{path or '.'}: {a!r:.120} -> {b!r:.120}"]


def _parse(line: str) -> Any:
    if line.startswith("ERROR: "):
        return {"error": line[7:]}
    if line[:3].isdigit() and line[3:4] == " ":
        return {"status": int(line[:3]), "body": json.loads(line[4:])}
    return json.loads(line)


def record(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, paths in SETS.items():
        missing = [p for p in paths if not p.exists()]
        if missing:
            sys.exit(f"Missing input: {missing[0]}")
        index_dir = folder / f"index-{name}"
        build(index_dir, paths)
        cases = queries(_docs(index_dir))
        outputs = run_cases(index_dir, cases)
        with open(folder / f"{name}.jsonl", "w", encoding="utf-8") as f:
            for c, o in zip(cases, outputs, strict=True):
                f.write(json.dumps({"case": c, "output": o}, ensure_ascii=False) + "\n")
        print(f"{name}: {len(cases)} cases recorded in {folder / (name + '.jsonl')}")


def compare(folder: Path, verbose: int = 3, fast: bool = True) -> int:
    total = differ = 0
    for name in SETS:
        rows = [json.loads(x) for x in (folder / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()]
        outputs = run_cases(folder / f"index-{name}", [r["case"] for r in rows], fast=fast)
        for r, new in zip(rows, outputs, strict=True):
            total += 1
            if new == r["output"]:
                continue
            differ += 1
            c = r["case"]
            print(f"[{name}] {c['kind']} {c.get('q', c.get('id'))!r} {c['opts']}")
            for line in _diff(_parse(r["output"]), _parse(new))[:verbose]:
                print(f"    {line}")
    print(f"{total} cases, {differ} differ")
    return 1 if differ else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.golden", description=__doc__.split("\n")[0])
    ap.add_argument("action", choices=["record", "compare"])
    ap.add_argument("folder", type=Path)
    ap.add_argument("-v", "--verbose", type=int, default=3, help="differences shown per case")
    ap.add_argument("--whoosh", action="store_true",
                    help="library queries through the Whoosh matcher only (Searcher(fast=False))")
    a = ap.parse_args(argv)
    if a.action == "record":
        record(a.folder)
        return 0
    return compare(a.folder, a.verbose, fast=not a.whoosh)


if __name__ == "__main__":
    sys.exit(main())
