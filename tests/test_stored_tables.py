"""The tables a search would build on its first query (facet codes, translation pairs) are stored at index
time (indexer.tables) and used by a fresh searcher; an index without them, with a damaged file or with a file
of another state of the index gives the same answers, and a damaged file is named in the warnings. On the
bundled sample indexed by ``indexer.update``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import indexer
from indexer import tables
from indexer.tables import FACETS, NO_DATE, column_codes, date_ticks, sidecar_table
from search import Searcher
from search.fastpath import field_lengths

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample"
QUERIES = [("yukon", {}), ("government of yukon", {"lang": "fr"}), ("santé", {}), ("covid", {"sort": "date"}),
           ("premier", {"source": "Government of Yukon"}), ("budget", {"bilingual": True})]


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory) -> Path:
    index_dir = tmp_path_factory.mktemp("tables") / "idx"
    indexer.update([str(SAMPLE)], index_dir)
    return index_dir


def _answers(index_dir: Path) -> tuple[list[dict], list[str], bool]:
    """The full answers of QUERIES from a fresh searcher, the warnings, and whether it used stored tables."""
    with Searcher(index_dir) as s:
        answers = [s.search(q, limit=10, **opts).to_dict() for q, opts in QUERIES]
        used = tables.of(s._s.reader()).get() is not None
    warnings = sorted({w for a in answers for w in a.pop("warnings")})
    return answers, warnings, used


def _copy(index_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "idx"
    shutil.copytree(index_dir, copy)
    return copy


def test_an_update_stores_the_tables_a_search_would_build(sample_index):
    assert (sample_index / tables.TABLES_NAME).is_file()
    with Searcher(sample_index) as s:
        reader = s._s.reader()
        stored = tables.of(reader).get()
        assert stored is not None
        leaves = list(reader.leaf_readers())
        for name in FACETS:
            codes, values = column_codes(leaves, reader.doc_count_all(), name)
            assert np.array_equal(stored.codes[name][0], codes) and stored.codes[name][1] == values
        n = reader.doc_count_all()
        assert sorted(stored.length_bytes) == sorted(reader.schema.scorable_names())
        for name in reader.schema.scorable_names():
            assert np.array_equal(s.numpy_matcher().x.lengths(name), field_lengths(leaves, n, name))
        assert np.array_equal(stored.dates, date_ticks(leaves, n)) and (stored.dates != NO_DATE).any()
        partner, (id_texts, id_docs) = sidecar_table(reader)
        assert (partner >= 0).sum() > 10  # the sample's Yukon pages come in pairs
        assert np.array_equal(stored.pairs[0], partner)
        assert np.array_equal(stored.pairs[1][0], id_texts) and np.array_equal(stored.pairs[1][1], id_docs)
        assert s.search("yukon").total and s.pairs.partner() is stored.pairs[0]  # read, not built


def test_without_the_file_the_answers_are_the_same(sample_index, tmp_path):
    want, warned, used = _answers(sample_index)
    assert used and not warned
    copy = _copy(sample_index, tmp_path)
    (copy / tables.TABLES_NAME).unlink()  # an index built by older code
    got, warned, used = _answers(copy)
    assert not used and not warned and got == want
    assert any(a["total"] and a["facets"]["source"] for a in want)


@pytest.mark.parametrize("damage", ["flip", "truncate", "garbage"])
def test_a_damaged_file_is_not_used_and_is_named(sample_index, tmp_path, damage):
    want, _, _ = _answers(sample_index)
    copy = _copy(sample_index, tmp_path)
    path = copy / tables.TABLES_NAME
    raw = bytearray(path.read_bytes())
    if damage == "flip":  # one byte of the facet codes
        raw[len(raw) // 2] ^= 0x01
    elif damage == "truncate":
        raw = raw[:len(raw) - 100]
    else:
        raw = bytearray(b"not a tables file at all")
    path.write_bytes(bytes(raw))
    got, warned, used = _answers(copy)
    assert not used and got == want
    assert len(warned) == 1 and tables.TABLES_NAME in warned[0]


def test_a_file_of_another_state_of_the_index_is_not_used(sample_index, tmp_path):
    """Tables written before a statement was removed (by code that did not rewrite them) describe other
    documents: the search builds them from the index, with the answers of a fresh build."""
    copy = _copy(sample_index, tmp_path)
    old = (copy / tables.TABLES_NAME).read_bytes()
    victim = sorted((SAMPLE / "yukon" / "en").rglob("*.htm*"))[0]
    assert indexer.remove([str(victim)], copy).changed
    fresh, _, used = _answers(copy)
    assert used and (copy / tables.TABLES_NAME).read_bytes() != old  # the removal rewrote them
    (copy / tables.TABLES_NAME).write_bytes(old)
    got, warned, used = _answers(copy)
    assert not used and not warned and got == fresh


def test_the_cli_reports_a_damaged_file(sample_index, tmp_path):
    copy = _copy(sample_index, tmp_path)
    path = copy / tables.TABLES_NAME
    path.write_bytes(path.read_bytes()[:-8])

    def presse(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", "import cli; cli.main()", "search", "yukon", *args,
                               "--index", str(copy)], cwd=ROOT, capture_output=True, text=True, timeout=120)

    answer = json.loads(presse("--json").stdout)
    assert answer["total"] and any(tables.TABLES_NAME in w for w in answer["warnings"])
    text = presse()
    assert text.returncode == 0 and "statements match" in text.stdout
    assert f"warning: {tables.TABLES_NAME}" in text.stderr


def test_a_refreshed_searcher_reads_the_new_tables_and_lets_the_old_reader_go(sample_index, tmp_path):
    """A long-running searcher (the web app) refreshes after an update: it reads the tables written for the
    new state, and the old reader (with its tables) is freed, not kept alive by the per-reader cache."""
    import gc
    import weakref

    copy = _copy(sample_index, tmp_path)
    with Searcher(copy) as s:
        s.search("yukon")
        old = weakref.ref(s._s.reader())
        assert tables.of(old()).get() is not None
        victim = sorted((SAMPLE / "yukon" / "en").rglob("*.htm*"))[0]
        assert indexer.remove([str(victim)], copy).changed
        assert s.refresh()
        got = [s.search(q, limit=10, **opts).to_dict() for q, opts in QUERIES]
        assert tables.of(s._s.reader()).get() is not None
        gc.collect()
        assert old() is None
    fresh, _, used = _answers(copy)
    assert used and [a for a in got if a.pop("warnings") is not None] == fresh


def test_an_update_that_changes_nothing_writes_the_missing_tables(sample_index, tmp_path):
    """An index built by older code gets its tables from the next `presse index` of its inputs, even when
    no statement changed: the same bytes as a build writes."""
    copy = _copy(sample_index, tmp_path)
    (copy / tables.TABLES_NAME).unlink()
    report = indexer.update([str(SAMPLE)], copy)
    assert not report.changed
    assert (copy / tables.TABLES_NAME).read_bytes() == (sample_index / tables.TABLES_NAME).read_bytes()
