"""`python -m bench scale --reuse`: the engine's points of a long run (~240k statements) measured on the
builds an earlier `--keep` run left, each point printed as soon as it is measured."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.common import NSB
from tests.sphinx_servers import needs_searchd

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not NSB.exists(), reason="needs ../shared/corpus/nsb")
HANG_GUARD = 900  # seconds: a run takes well under a minute


def bench_scale(*args: str) -> tuple[str, dict]:
    p = subprocess.run([sys.executable, "-m", "bench", "scale", "--sizes", "150", "--queries", "6",
                        "--repeat", "1", *args], cwd=ROOT, capture_output=True, text=True, timeout=HANG_GUARD,
                       check=False)
    assert p.returncode == 0, p.stderr[-3000:]
    saved = Path(re.search(r"saved (\S+\.json)", p.stdout)[1])
    results = json.loads(saved.read_text())["results"][0]
    saved.unlink()
    saved.with_suffix(".md").unlink()
    return p.stdout, results


@needs_searchd
@pytest.mark.slow
def test_reuse_measures_the_engine_on_a_kept_build_without_building_again() -> None:
    out, first = bench_scale("--keep")
    kept = Path(re.search(r"\(kept (\S+)\)", out)[1])
    try:
        index = kept / "n150" / "index"
        before = {p.name: p.stat().st_mtime_ns for p in index.iterdir()}
        again, second = bench_scale("--reuse", str(kept), "--engine", "sphinxql")
        assert "reusing the builds" in again and "presse build" not in again
        assert second["presse"] == first["presse"] and second["fts5"] == first["fts5"]
        assert {p.name: p.stat().st_mtime_ns for p in index.iterdir()} == before  # nothing rebuilt
        assert second["queries"]["queries"] == 6
        for agents in (1, 2, 3):  # each point printed as it comes, not only in the final table
            assert re.search(rf"SphinxQL, {agents} agent\(s\): sync \d+ s, median [\d.]+ ms", again)
        assert sorted(second["engine"]) == ["1", "2", "3"]
        assert all(m["statements"] == first["presse"]["statements"] for m in second["engine"].values())
        assert kept.is_dir()  # a reused folder is the caller's: kept
    finally:
        shutil.rmtree(kept, ignore_errors=True)
