"""Typo tolerance and French elisions / English possessives (search.spelling.typed_part): the typo index
holds letter runs ("assurance"), so "l'assurance" read whole ("lassurance") looked unknown and one edit from
the word it elides: every elided word got a "showing results for" without its article (and, without a typo
index, a far-fetched correction). Real service-public pages, indexed as a user does."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.statement import Statement
from search import Searcher
from search.spelling import typed_part
from tests.indexes import index_statements

SPF = Path(__file__).resolve().parents[2] / "shared" / "eval" / "spf" / "docs.jsonl"

pytestmark = pytest.mark.skipif(not SPF.is_file(), reason="../shared/eval/spf is missing")


@pytest.fixture(scope="module")
def searcher(tmp_path_factory):
    from corpus.inputs import read_paths

    pages = [x for x in read_paths([SPF]) if isinstance(x, Statement)][:300]
    with Searcher(index_statements(pages, tmp_path_factory.mktemp("elision") / "index")) as s:
        yield s


def test_the_typed_part_of_a_word_leaves_out_its_elision_or_possessive():
    assert typed_part("l'assurance") == "assurance" and typed_part("qu’apporte") == "apporte"
    assert typed_part("Yukon's") == "Yukon" and typed_part("assurance") == "assurance"


def test_an_elided_word_is_not_taken_for_a_typo(searcher):
    assert searcher.search("assurance").total  # the word is in these pages
    for query in ("l'assurance", "franchise d'assurance"):
        res = searcher.search(query)
        assert res.total and res.corrected_query is None, (query, res.corrected_query)


def test_a_typo_after_an_elision_is_corrected_with_its_article(searcher):
    res = searcher.search("franchise d'asurance")
    assert res.corrected_query == "franchise d'assurance"
    assert res.hits and res.total == searcher.search("franchise d'assurance").total
