"""A damaged postings sidecar found while searching is said on the result (``Results.warnings``), and the
answers stay those of the sound index (real statements: the bundled sample)."""

from __future__ import annotations

import shutil

from search import Searcher

QUERIES = ["yukon", "covid vaccine", "santé publique", "coopération"]


def _answers(index_dir):
    with Searcher(index_dir) as s:
        got = [s.search(q) for q in QUERIES]
    return [(r.total, [h["id"] for h in r.hits], [h["snippet"] for h in r.hits]) for r in got], got


def test_a_damaged_sidecar_is_a_warning_on_the_result(sample_index, tmp_path):
    sound, results = _answers(sample_index)
    assert all(r.warnings == [] for r in results)
    damaged = tmp_path / "index"
    shutil.copytree(sample_index, damaged)
    cars = sorted(damaged.glob("*.psc"))
    assert cars
    with open(cars[0], "r+b") as f:  # not a sidecar any more: the reader refuses it
        f.write(b"NOTASIDECAR")
    answers, results = _answers(damaged)
    assert answers == sound
    for r in results:
        assert len(r.warnings) == 1 and cars[0].name in r.warnings[0], r.warnings
        assert "presse index" in r.warnings[0]
