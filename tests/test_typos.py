"""Typo tolerance on the bundled sample (Yukon pages and vie-publique records) indexed by ``indexer.update``:
misspelled words find the statements of the right spelling and say "showing results for"; the typo index
is built at index time, follows the index, is never code, and an index without it still corrects."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import indexer
from cli import main
from indexer import typos as typo_index
from indexer.analysis import fold
from search import Searcher, spelling
from search.query import compile_query

SAMPLE = Path(__file__).resolve().parents[1] / "sample"
MISSPELLINGS = ["vacination", "vaccinaton", "vaccniation", "vaccinatoin", "VACINATION"]  # of "vaccination"


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory) -> Path:
    index_dir = tmp_path_factory.mktemp("typos") / "idx"
    indexer.update([str(SAMPLE)], index_dir)
    return index_dir


@pytest.fixture(scope="module")
def searcher(sample_index):
    s = Searcher(sample_index)
    yield s
    s.close()


def _ids(res) -> list[str]:
    return [h["id"] for h in res.hits]


def _folded_words(searcher, sid: str) -> set[str]:
    st = searcher.statement(sid)
    return {fold(w) for w in re.findall(r"[^\W\d_]+", f"{st['title']}\n{st['body']}")}


@pytest.mark.parametrize("typo", MISSPELLINGS)
def test_a_misspelled_word_finds_the_statements_of_the_right_spelling(searcher, typo):
    right = searcher.search("vaccination", limit=20)
    assert right.total >= 2 and right.corrected_query is None  # the sample holds the word
    res = searcher.search(typo, limit=20)
    assert res.corrected_query == "vaccination" and res.suggestion == "vaccination"
    assert res.total == right.total and _ids(res) == _ids(right)
    assert "<mark>" in res.hits[0]["snippet"]  # the corrected word is what is highlighted


def test_a_misspelled_word_beside_a_right_one(searcher):
    right = searcher.search("covid vaccination")
    res = searcher.search("covid vacination")
    assert res.corrected_query == "covid vaccination"
    assert res.mode == right.mode and res.total == right.total and _ids(res)[:3] == _ids(right)[:3]


def test_showing_results_for_in_json_cli_and_page(sample_index):
    out = CliRunner().invoke(main, ["search", "vacination", "--index", str(sample_index)])
    assert out.exit_code == 0, out.output
    assert "Showing results for: vaccination" in out.output and "Did you mean" not in out.output
    d = json.loads(CliRunner().invoke(main, ["search", "vacination", "--index", str(sample_index),
                                             "--json"]).output)
    assert d["corrected_query"] == "vaccination" and d["suggestion"] == "vaccination" and d["total"] >= 2
    d = json.loads(CliRunner().invoke(main, ["search", "vaccination", "--index", str(sample_index),
                                             "--json"]).output)
    assert d["corrected_query"] is None  # the field is always there

    from search.web.app import create_app

    client = create_app(str(sample_index)).test_client()
    page = client.get("/?q=vacination").get_data(as_text=True)
    assert re.search(r'Showing results for <a href="/\?q=vaccination"><strong>vaccination</strong></a>', page)
    assert "Showing results for" not in client.get("/?q=vaccination").get_data(as_text=True)


def _rare_word_with_a_frequent_neighbour(searcher) -> tuple[str, str]:
    """A word of the sample in at most RARE_DF statements with a neighbour one edit away in far more."""
    arrays = searcher.speller.typo_arrays()
    order = np.argsort(-arrays.counts.astype(np.int64))
    for i in order[:400].tolist():  # frequent words, then their rare neighbours
        common = arrays.words[i].decode()
        if len(common) < 6:
            continue
        for cand, _ in arrays.candidates(common, 1):
            if cand == common or spelling.distance(cand, common) != 1:
                continue
            own, found = searcher.speller.neighbours(cand)
            if 1 <= own <= spelling.RARE_DF and any(w == common for w, _, n in found):
                return cand, common
    pytest.skip("no rare word with a frequent neighbour in the sample")


def test_exact_matches_rank_above_typo_matches(searcher):
    rare, common = _rare_word_with_a_frequent_neighbour(searcher)
    res = searcher.search(rare, limit=50)
    assert res.corrected_query is None  # a word of the index is never "corrected" away
    has = [rare in _folded_words(searcher, sid) for sid in _ids(res)]
    assert any(has) and not all(has), (rare, common, has)  # both kinds are found ...
    assert has == sorted(has, reverse=True), (rare, common, has)  # ... the exact ones first


@pytest.mark.parametrize("word", ["vaccination", "Yukon", "gouvernement", "santé"])
def test_a_correct_word_is_not_corrected(searcher, word):
    compiled = compile_query(word)
    before = repr(compiled.must_query)
    typos = searcher.speller.expand(compiled, word)
    assert typos.variants == {} and typos.corrected_query is None and repr(compiled.must_query) == before
    res = searcher.search(word)
    assert res.total and res.corrected_query is None and res.suggestion is None


def test_the_neighbourhood_finds_what_a_scan_of_the_vocabulary_finds(searcher):
    arrays = searcher.speller.typo_arrays()
    words = [w.decode() for w in arrays.words.tolist()]
    rng = random.Random(14)
    letters = "abcdefghijklmnopqrstuvwxyz"
    for w in rng.sample([w for w in words if len(w) >= 4], 60):
        i, c = rng.randrange(len(w)), rng.choice(letters)
        typo = rng.choice([w[:i] + w[i + 1:], w[:i] + c + w[i:], w[:i] + c + w[i + 1:],
                           w[:i] + w[i + 1:i + 2] + w[i] + w[i + 2:]])
        limit = typo_index.max_edits(typo)
        found = {c for c, _ in arrays.candidates(typo, limit) if spelling.distance(typo, c) <= limit}
        scan = {c for c in words if abs(len(c) - len(typo)) <= limit and spelling.distance(typo, c) <= limit}
        assert found == scan, typo


def _jsonl(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def test_built_at_index_time_and_updated_on_reindex(tmp_path):
    index_dir = tmp_path / "idx"
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _jsonl(corpus / "a.jsonl", [{"id": "t-1", "title": "Rapport sur la forêt boréale", "lang": "fr",
                                 "date": "2021-03-04", "text": "La forêt boréale couvre le nord du pays."}])
    indexer.update([str(corpus)], index_dir)
    path = index_dir / typo_index.TYPOS_NAME
    first = typo_index.load(index_dir)
    assert first is not None and b"boreale" in first.words.tolist()
    assert b"zorbulation" not in first.words.tolist()

    _jsonl(corpus / "b.jsonl", [{"id": "t-2", "title": "Zorbulation des données", "lang": "fr",
                                 "date": "2021-05-06", "text": "La zorbulation des données avance."}])
    indexer.update([str(corpus)], index_dir)
    second = typo_index.load(index_dir)
    assert b"zorbulation" in second.words.tolist() and b"boreale" in second.words.tolist()
    assert second.counts[second.words.tolist().index(b"boreale")] == 1  # the old statement was not read again
    assert set(first.segments) < set(second.segments) or set(first.segments) != set(second.segments)
    with Searcher(index_dir) as s:
        res = s.search("zorbulaton")
        assert _ids(res) == ["t-2"] and res.corrected_query == "zorbulation"

        stamp = path.stat().st_mtime_ns
        indexer.update([str(corpus)], index_dir)  # nothing changed: the file is not rewritten
        assert path.stat().st_mtime_ns == stamp

        (corpus / "b.jsonl").unlink()
        indexer.update([str(corpus)], index_dir)  # its word stays in the file, but is never used
        assert s.refresh()
        res = s.search("zorbulaton")
        assert res.total == 0 and res.corrected_query is None


def test_an_index_without_a_typo_index_still_corrects(sample_index, tmp_path):
    copy = tmp_path / "idx"
    shutil.copytree(sample_index, copy)
    with Searcher(sample_index) as s:
        want = _ids(s.search("vaccination"))
    (copy / typo_index.TYPOS_NAME).unlink()  # an index built before the typo index
    with Searcher(copy) as s:
        assert s.speller.typo_arrays() is None
        res = s.search("vacination")
        assert res.corrected_query == "vaccination" and _ids(res) == want
    (copy / typo_index.TYPOS_NAME).write_bytes(b"PK\x03\x04 truncated")  # damaged: the same
    with Searcher(copy) as s:
        res = s.search("vacination")
        assert s.speller.typo_arrays() is None
        assert res.corrected_query == "vaccination" and _ids(res) == want
    indexer.update([str(SAMPLE)], copy)  # the next update rebuilds it
    assert typo_index.load(copy) is not None


class _Boom:
    def __reduce__(self):
        return (os.system, (f"touch {_Boom.marker}",))


def test_the_typo_index_is_never_code(sample_index, tmp_path):
    with np.load(sample_index / typo_index.TYPOS_NAME, allow_pickle=False) as z:
        assert all(z[name].dtype != object for name in z.files)  # plain arrays, loaded without pickle
    copy = tmp_path / "idx"
    shutil.copytree(sample_index, copy)
    _Boom.marker = tmp_path / "ran"
    arrays = typo_index.load(copy)
    fields = {name: getattr(arrays, name) for name in typo_index.ARRAYS}
    fields["words"] = np.array([_Boom()], dtype=object)  # what a hostile file would hold
    np.savez(copy / typo_index.TYPOS_NAME, **fields, meta=np.frombuffer(b'{"version": 1, "prefix": 7}',
                                                                         dtype=np.uint8))
    assert typo_index.load(copy) is None
    with Searcher(copy) as s:
        assert s.search("vacination").corrected_query == "vaccination"  # the fallback speller
    assert not _Boom.marker.exists()


@pytest.mark.parametrize("array", ["key_prefix", "prefix_order", "prefix_start"])
def test_a_typo_index_with_numbers_out_of_range_is_not_used(sample_index, tmp_path, array):
    """Read whole, such a file is refused on load; memory-mapped (a searcher's), its sizes are checked on
    load and the numbers each lookup follows by the lookup, which refuses them: the searcher then falls
    back to its own speller."""
    copy = tmp_path / "idx"
    shutil.copytree(sample_index, copy)
    arrays = typo_index.load(copy)
    fields = {name: getattr(arrays, name) for name in typo_index.ARRAYS}
    fields[array] = fields[array].copy()
    fields[array][1:-1] += 10 ** 6  # a well-formed file whose numbers point nowhere (its ends kept: sizes)
    np.savez(copy / typo_index.TYPOS_NAME, **fields, meta=np.frombuffer(b'{"version": 1, "prefix": 7}',
                                                                         dtype=np.uint8))
    assert typo_index.load(copy) is None
    mapped = typo_index.load(copy, mapped=True)
    assert mapped is not None
    with pytest.raises(typo_index.DamagedTypos):
        mapped.candidates("vacination", 2)
    with Searcher(copy) as s:
        assert s.search("vacination").corrected_query == "vaccination"
