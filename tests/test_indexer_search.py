"""Accent, elision, case and stemming equivalences, as searches on real indexed statements (Yukon, French).

The real query layer is written elsewhere; these searches use a plain Whoosh MultifieldParser over the text
fields, which analyses the query with each field's own analyzer — as the index did.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from whoosh.qparser import MultifieldParser

from indexer import open_index, update
from indexer.schema import TEXT_LANGS
from tests.corpora import ROOT, SHARED

SAMPLE_FR = ROOT / "sample" / "yukon" / "fr"
SHARED_FR = SHARED / "corpus" / "yukon" / "fr"
TEXT_FIELDS = [f"{kind}_{lang}" for kind in ("title", "body") for lang in TEXT_LANGS]


def _yukon_fr() -> Path:
    if SAMPLE_FR.is_dir():
        return SAMPLE_FR
    if SHARED_FR.is_dir():
        return SHARED_FR / "2019"
    pytest.skip("no Yukon French pages (sample/yukon/fr or ../shared/corpus/yukon/fr)")


@pytest.fixture(scope="module")
def ix(tmp_path_factory):
    corpus = tmp_path_factory.mktemp("corpus")
    shutil.copytree(_yukon_fr(), corpus / "fr")
    index_dir = tmp_path_factory.mktemp("index")
    report = update([corpus], index_dir)
    assert report.added > 0
    return open_index(index_dir)


def ids(ix, text: str) -> set[str]:
    parser = MultifieldParser(TEXT_FIELDS, ix.schema)
    with ix.searcher() as s:
        return {hit["id"] for hit in s.search(parser.parse(text), limit=None)}


@pytest.mark.parametrize(("a", "b"), [
    ("securite", "sécurité"),
    ("SÉCURITÉ", "sécurité"),
    ("l'economie", "L’économie"),
    ("economie", "l’économie"),
    ("cooperations", "coopération"),
    ("Coopérations", "cooperation"),
])
def test_equivalent_queries_find_the_same_statements(ix, a, b):
    found = ids(ix, b)
    assert found, f"{b!r} should match some Yukon statements"
    assert ids(ix, a) == found


def test_accentless_query_finds_accented_text(ix):
    with ix.searcher() as s:
        hits = s.search(MultifieldParser(TEXT_FIELDS, ix.schema).parse("securite"), limit=3)
        assert len(hits) > 0
        assert hits[0]["lang"] == "fr"


def test_unrelated_word_finds_nothing(ix):
    assert ids(ix, "zzyzxqq") == set()


def test_title_is_boosted(ix):
    """A word in the title ranks its statement above statements that only mention it in the body."""
    with ix.searcher() as s:
        for fields in s.all_stored_fields():
            words = [w for w in fields["title"].split() if len(w) > 6 and w.isalpha()]
            if words:
                word = words[0]
                break
        else:
            pytest.skip("no title word to try")
        hits = s.search(MultifieldParser(TEXT_FIELDS, ix.schema).parse(word), limit=None)
        assert len(hits) >= 1
        from indexer.analysis import normalize

        top = hits[0]["title"]
        assert any(normalize(w, "fr") == normalize(word, "fr") for w in top.replace("’", " ").split())
