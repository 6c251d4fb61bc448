"""`python -m bench scale` (bench/scale.py) and `python -m bench speed` (bench/__main__.py), on NSB records.

- the synthetic archive (NSB copied with ids, dates and word order shifted) keeps every copy: no copy is an
  exact or near duplicate of another, and a statement's translation is found within its own copy;
- `bench scale` builds and queries presse and FTS5 and prints the curve;
- `bench speed` runs the query mix (bench.mix), and the build benchmark only with --builds.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import corpus
from bench import mix, scale
from bench import speed as speed_bench
from bench.__main__ import main as bench_main
from bench.common import NSB
from indexer import open_index, update
from indexer.duplicates import exact_key, near_duplicate_groups

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not NSB.exists(), reason="needs ../shared/corpus/nsb")


def statements(folder: Path) -> list:
    return [x for x in corpus.read_paths(sorted(folder.iterdir())) if hasattr(x, "body")]


def message(sid: str) -> int:
    """The original NSB message number of a (possibly shifted) id."""
    return int(re.match(r"nsb-(\d+)-", sid)[1]) % scale.ID_SHIFT


def test_parse_sizes() -> None:
    assert scale.parse_sizes("10k,30k,59k,240k") == [10_000, 30_000, 58_980, 4 * 58_980]
    assert scale.parse_sizes(" 500 , 2k") == [500, 2000]
    for bad in ("ten", "10m", "0", "-5"):
        with pytest.raises(ValueError, match="not a size"):
            scale.parse_sizes(bad)


def test_synthetic_copies_are_neither_exact_nor_near_duplicates(tmp_path: Path) -> None:
    written = scale.prepare(tmp_path, 320, base=80)  # 4 copies of the first 80 records
    assert written == 320
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"nsb-{k}.jsonl" for k in range(4)]
    sts = statements(tmp_path)
    assert len({st.id for st in sts}) == 320
    by_copy = [[st for st in sts if int(re.match(r"nsb-(\d+)-", st.id)[1]) // scale.ID_SHIFT == k]
               for k in range(4)]
    assert [len(c) for c in by_copy] == [80] * 4
    first = {(message(st.id), st.id[-2:]): st for st in by_copy[0]}
    for k in (1, 2, 3):
        for st in by_copy[k]:
            orig = first[(message(st.id), st.id[-2:])]
            assert st.title == orig.title
            if orig.date:  # shifted by k days
                assert st.date != orig.date and st.date[:4] >= orig.date[:4]
            assert sorted(re.findall(r"\w+", st.body)) == sorted(re.findall(r"\w+", orig.body))  # same words…
            if len(orig.body.split()) > 10:
                assert exact_key(st) != exact_key(orig)  # …in another order
    groups = near_duplicate_groups(sts)
    # a group may hold statements of one copy (NSB's own duplicates), never two copies of one message
    for sid, canonical in groups.items():
        if sid != canonical:
            assert (message(sid), sid[-2:]) != (message(canonical), canonical[-2:]), (sid, canonical)


@pytest.mark.slow
def test_synthetic_copies_are_all_indexed_and_pairs_stay_in_their_copy(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    scale.prepare(folder, 240, base=120)  # 2 copies
    report = update([folder], tmp_path / "ix")
    once = update([folder / "nsb-0.jsonl"], tmp_path / "ix0")
    assert report.statements == 2 * once.statements
    assert report.exact_duplicates == 2 * once.exact_duplicates
    with open_index(tmp_path / "ix").searcher() as s:
        fields = list(s.all_stored_fields())
    linked = [f for f in fields if f.get("translation")]
    assert len(linked) >= 2 * once.linked - 2 and linked
    for f in linked:
        shift = int(re.match(r"nsb-(\d+)-", f["id"])[1]) // scale.ID_SHIFT
        assert int(re.match(r"nsb-(\d+)-", f["translation"])[1]) // scale.ID_SHIFT == shift
        assert message(f["translation"]) == message(f["id"])
    with open_index(tmp_path / "ix0").searcher() as s:
        groups0 = {f["group"] for f in s.all_stored_fields()}
    assert len({f["group"] for f in fields}) == 2 * len(groups0)  # no group spans two copies


@pytest.mark.slow
def test_bench_scale_prints_the_curve_beside_fts5(tmp_path: Path) -> None:
    p = subprocess.run([sys.executable, "-m", "bench", "scale", "--sizes", "150", "--queries", "12",
                        "--repeat", "1", "--engine", "sphinxql"], cwd=ROOT, capture_output=True, text=True,
                       timeout=900, check=False)
    assert p.returncode == 0, p.stderr[-3000:]
    out = p.stdout
    assert "Scale — 150 records" in out and "Scale curve" in out
    row = next(line for line in out.splitlines() if re.match(r"150 ", line))
    assert row.count("×") == 6  # build wall, CPU, RSS, size, median, p95: each beside FTS5
    saved = Path(re.search(r"saved (\S+\.json)", out)[1])
    data = json.loads(saved.read_text())
    r = data["results"][0]
    assert r["presse"]["statements"] == r["fts5"]["statements"] == 150
    assert r["presse"]["segments"] == 1 and r["queries"]["queries"] == 12
    assert r["presse"]["cpu_s"] > 0 and r["presse"]["rss_mb"] > 0 and r["presse"]["bytes"] > 0
    if shutil.which("searchd"):  # the distributed engine beside, through bench.sphinxql.scale_point
        assert sorted(r["engine"]) == ["1", "2", "3"]
        assert all(m["statements"] > 0 and m["p95_ms"] > 0 for m in r["engine"].values())
    else:
        assert "searchd is not installed" in r["engine"]
    saved.unlink()
    saved.with_suffix(".md").unlink()


def test_a_bad_size_is_one_line(capsys) -> None:
    assert bench_main(["scale", "--sizes", "lots"]) == 2
    assert capsys.readouterr().err.strip() == "error: not a size: 'lots' (10k, 30k, 59k, 240k or a number)"


def test_bench_speed_runs_the_query_mix_and_the_builds_only_when_asked(monkeypatch, tmp_path) -> None:
    calls = []
    monkeypatch.setattr(mix, "main", lambda argv: calls.append(("mix", argv)) or 0)
    monkeypatch.setattr(speed_bench, "main", lambda args: calls.append(("builds", args.limit)) or 0)
    assert bench_main(["speed", "--index", str(tmp_path), "--repeat", "1"]) == 0
    assert bench_main(["speed"]) == 0
    assert bench_main(["speed", "--builds", "--limit", "500"]) == 0
    assert calls == [("mix", ["--repeat", "1", "--index", str(tmp_path)]), ("mix", ["--repeat", "2"]),
                     ("builds", 500)]
