"""Hostile queries never raise and never become wildcard scans."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whoosh import query as wq

from corpus.statement import Statement
from search import Searcher
from search.query import compile_query, parse
from tests.indexes import index_statements

_CHARS = "ab éÉ'’\"«»()[]{}:?*-+^~!\\/ANDORTNETOUSAUF date:source:lang:title:foo:2020-"
ALPHABET = st.sampled_from(list(_CHARS) +
                           ["AND", "OR", "NOT", "ET", "OU", "SAUF", " TO ", "\x00", "ﬁ", "ß", "İ", "𝔘"])
QUERIES = st.one_of(st.text(max_size=40), st.lists(ALPHABET, max_size=20).map("".join))


@pytest.fixture(scope="module")
def searcher(tmp_path_factory):
    sts = [Statement(id=f"s{i}", origin="t", title=t, body=b, lang=lang, date=f"2020-01-0{i + 1}",
                     source="Essai") for i, (t, b, lang) in enumerate([
                         ("Médiation familiale", "Qu’est-ce que la médiation familiale ? Une aide.", "fr"),
                         ("Family mediation", "What is family mediation? Help for parents.", "en"),
                         ("Aide à domicile", "L'aide à domicile des personnes âgées.", "fr")])]
    s = Searcher(index_statements(sts, tmp_path_factory.mktemp("h") / "index"))
    yield s
    s.close()


def _no_wildcards(q):
    if q is None:
        return True
    if isinstance(q, wq.Wildcard) or (isinstance(q, wq.Prefix) and len(q.text) < 3):
        return False
    return all(_no_wildcards(c) for c in q.children())


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(QUERIES)
def test_hostile_queries_never_raise(searcher, text):
    parse(text)
    c = compile_query(text)
    assert _no_wildcards(c.must_query) and _no_wildcards(c.any_query)
    res = searcher.search(text, limit=3)
    d = res.to_dict()
    assert d["total"] >= len(d["results"])


def test_question_marks_are_not_wildcards(searcher):
    res = searcher.search("Qu'est-ce que la médiation familiale ?")
    assert res.hits and res.hits[0]["id"] == "s0"
    assert searcher.search("What is family mediation?").hits[0]["id"] == "s1"
    for q in ["AND OR", "((", '"', "foo:bar", ":", "*", "?", "-", "date:", "date:[", "NOT NOT"]:
        searcher.search(q)
    assert searcher.search("foo:médiation").total >= 1
