"""Where a build's time goes: `python -m bench profile [--limit 5000]`.

cProfile of ``indexer.update`` on the first N records of ../shared/corpus/nsb/nsb.jsonl.gz, with the reader
worker kept in this process (``WORKER_MIN_BYTES`` raised) so that one profile sees the whole build: reading
and extracting (the reader worker's share in a real build) and analysing and writing (the writer's share).
Prints the time of the main stages (cumulative, they nest), the self time by package (sums to 100 %), and
the top functions by self time. The profiler slows Python code down, pure-C calls less: read percentages,
not seconds.
"""

from __future__ import annotations

import cProfile
import pstats
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from bench.common import NSB, Table, require

# (label, file suffix, function name): cumulative time, as a share of the whole build
STAGES = [
    ("ingester: read + decode + extract (corpus.read_input)", "corpus/inputs.py", "read_input"),
    ("  extract_html (parse, prune, main content, metadata)", "corpus/extract.py", "extract_html"),
    ("    BeautifulSoup parse", "corpus/extract.py", "parse"),
    ("    prune", "corpus/extract.py", "prune"),
    ("    main_content", "corpus/content.py", "main_content"),
    ("    text_blocks", "corpus/extract.py", "text_blocks"),
    ("    language identification (corpus.language.detect)", "corpus/language.py", "detect"),
    ("statement → fields (statement_fields)", "indexer/documents.py", "statement_fields"),
    ("pre-analysis: tokenize, fold, stem (pre_analyze)", "indexer/documents.py", "pre_analyze"),
    ("writer: add documents (_Adder.add)", "indexer/updating.py", "add"),
    ("  whoosh field.index: analysis chain (tokenize, fold, stem)", "whoosh/fields.py", "index"),
    ("writer: finish segments (_Adder._finish_current)", "indexer/updating.py", "_finish_current"),
    ("  posting lists: sort terms, write blocks (BulkWriter._flush_segment)", "indexer/segments.py",
     "_flush_segment"),
    ("links and duplicates (LinkPass.add, wraps the writer's add)", "indexer/linkpass.py", "add"),
    ("links and duplicates (LinkPass.finish)", "indexer/linkpass.py", "finish"),
    ("commit (_commit)", "indexer/updating.py", "_commit"),
]

PACKAGES = [("bs4", "bs4 (HTML tree)"), ("lxml", "lxml"), ("html5lib", "html5lib"),
            ("dateparser", "dateparser"),
            ("py3langid", "py3langid (language)"), ("whoosh", "whoosh (postings, segments)"),
            ("numpy", "numpy"), ("/corpus/", "presse corpus/ (ingester)"), ("/indexer/", "presse indexer/"),
            ("/search/", "presse search/"), ("regex", "regex"), ("json", "json"), ("gzip", "gzip / zlib")]


def package_of(filename: str, func: str) -> str:
    if filename == "~":
        name = func.strip("<>")
        if "Stemmer" in name or "stem" in name.lower():
            return "PyStemmer (C)"
        if "zlib" in name or "compress" in name:
            return "gzip / zlib"
        if "re.Pattern" in name or "_sre" in name:
            return "re (C)"
        if "pickle" in name or "marshal" in name:
            return "pickle / marshal (C)"
        return "builtins (C): " + name.split(" of ")[0][:40]
    for key, label in PACKAGES:
        if key in filename:
            return label
    return "other Python: " + Path(filename).name


def main(args) -> int:
    require(NSB)
    from bench.indexing import prepare
    upd = sys.modules.get("indexer.updating")
    if upd is None:
        import importlib
        upd = importlib.import_module("indexer.updating")
    upd.WORKER_MIN_BYTES = 1 << 60  # read in this process: one profile for the whole build
    work = Path(tempfile.mkdtemp(prefix="presse-profile-"))
    try:
        n = prepare(work / "corpus", args.limit)
        prof = cProfile.Profile()
        t = time.perf_counter()
        prof.enable()
        report = upd.update([work / "corpus"], work / "index")
        prof.disable()
        wall = time.perf_counter() - t
    finally:
        shutil.rmtree(work, ignore_errors=True)
    st = pstats.Stats(prof)
    total = st.total_tt
    print(f"cProfile of a {n:,}-record build ({report.statements:,} statements), one process: "
          f"{wall:.1f} s wall under the profiler, {total:.1f} s profiled")
    stages = Table("Stages (cumulative time, nested)", ["stage", "s", "% of build"])
    for label, suffix, name in STAGES:
        cum = sum(v[3] for (f, _, fn), v in st.stats.items() if fn == name and f.endswith(suffix))
        if cum:
            stages.add(label, cum, f"{100 * cum / total:.1f} %")
    by_pkg: dict[str, float] = defaultdict(float)
    for (f, _, fn), v in st.stats.items():
        by_pkg[package_of(f, fn)] += v[2]
    pkgs = Table("Self time by package (sums to 100 %)", ["package", "s", "%"])
    for k, v in sorted(by_pkg.items(), key=lambda kv: -kv[1])[:18]:
        pkgs.add(k, v, f"{100 * v / total:.1f} %")
    top = Table(f"Top {args.top} functions by self time", ["function", "calls", "self s", "%", "cum s"])
    for (f, line, fn), v in sorted(st.stats.items(), key=lambda kv: -kv[1][2])[:args.top]:
        where = fn if f == "~" else f"{'/'.join(Path(f).parts[-2:])}:{line} {fn}"
        top.add(where[:90], v[1], v[2], f"{100 * v[2] / total:.1f} %", v[3])
    for t in (stages, pkgs, top):
        print("\n" + t.text())
    return 0
