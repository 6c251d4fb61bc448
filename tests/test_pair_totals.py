"""A result's total counts statements: the two versions of a pair are one, whatever their language labels,
and whatever the searcher read before (real NSB records, some of whose pairs carry a third language or one
label twice)."""

from __future__ import annotations

import gzip
import itertools
import shutil

import numpy as np
import pytest

from indexer.analysis import analyze
from search import Searcher
from search.results import body_text
from tests.corpora import SHARED

NSB = SHARED / "corpus" / "nsb" / "nsb.jsonl.gz"
RECORDS = 700  # the first records of NSB hold a few pairs labelled fr and de (German pages under "en")

pytestmark = [pytest.mark.skipif(not NSB.exists(), reason="../shared/corpus/nsb is missing"),
              pytest.mark.slow]


@pytest.fixture(scope="module")
def nsb_head(tmp_path_factory):
    from indexer import update

    root = tmp_path_factory.mktemp("pairs")
    source = root / "nsb-head.jsonl"
    with gzip.open(NSB, "rt", encoding="utf-8") as f, open(source, "w", encoding="utf-8") as out:
        out.writelines(itertools.islice(f, RECORDS))
    update([source], root / "index")
    return root / "index"


def _odd_pair_queries(s: Searcher) -> list[str]:
    """For each pair whose two versions do not carry fr and en, a word found in both versions' bodies
    and in few statements: a query that finds both versions."""
    partner = s.pairs.partner()
    queries = []
    for d in np.flatnonzero(partner >= 0).tolist():
        o = int(partner[d])
        a, b = s.store.fields(d), s.store.fields(o)
        if d > o or {a.get("lang"), b.get("lang")} == {"fr", "en"}:
            continue
        common = set(analyze(body_text(a), "xx")) & set(analyze(body_text(b), "xx"))
        words = sorted((w for w in common if w.isalpha() and len(w) > 3),
                       key=lambda w: (s.search(w, limit=1).total, w))
        if words:
            queries.append(words[0])
    return queries


def _totals(index_dir, queries: list[str]) -> list[tuple[int, int]]:
    """(total, statements listed on a page holding them all) of each query, from a fresh searcher."""
    with Searcher(index_dir) as s:
        out = []
        for q in queries:
            res = s.search(q, limit=1000)
            out.append((res.total, len(res.hits) + res.extra.get("collapsed", 0)))
        return out


def test_a_pair_with_a_third_language_is_one_statement_from_the_first_search(nsb_head, tmp_path):
    with Searcher(nsb_head) as s:
        queries = _odd_pair_queries(s)
    assert len(queries) >= 3  # the head of NSB has such pairs (e.g. nsb-9399: fr and a German "en" page)
    fresh = _totals(nsb_head, queries)
    assert all(total == listed for total, listed in fresh), list(zip(queries, fresh, strict=True))
    with Searcher(nsb_head) as s:  # a searcher that has read every pair first: the same totals
        s.pairs.partner()
        assert [s.search(q, limit=1000).total for q in queries] == [t for t, _ in fresh]
    # without postings sidecars (nor stored tables) the pair table comes from Whoosh's term tables: the same
    # totals
    bare = tmp_path / "bare"
    shutil.copytree(nsb_head, bare)
    for psc in [*bare.glob("*.psc"), *bare.glob("presse-tables.bin")]:
        psc.unlink()
    with Searcher(bare) as s:
        assert s.numpy_matcher().x.sidecars == [None] * len(s.numpy_matcher().x.sidecars)
    assert _totals(bare, queries) == fresh


def test_the_sidecar_pair_table_is_the_term_tables(nsb_head, tmp_path):
    """The table of every pair read from the sidecars in numpy is the one read from Whoosh's term tables,
    and so are the ids' documents."""
    with Searcher(nsb_head) as s:
        fast = s.pairs.partner().copy()
        ids = s.store.ids()
        reader = s.store.searcher.reader()
        for d in range(reader.doc_count_all()):
            if not reader.is_deleted(d):
                sid = s.store.fields(d)["id"]
                assert ids.get(sid.encode()) == [d]
    bare = tmp_path / "bare"
    shutil.copytree(nsb_head, bare)
    for psc in bare.glob("*.psc"):
        psc.unlink()
    with Searcher(bare) as s:
        assert np.array_equal(s.pairs.partner(), fast)
    assert (fast >= 0).sum() > 50
