"""Shortcuts of the query path that must give exactly what the long way gives, on real data: snippets from
the index's term counts instead of listing a statement's words, and the compiler's own normalize()."""

from __future__ import annotations

import pytest

from search import Searcher, snippets
from search import query as sq
from search.results import highlight_lang, term_counts
from tests.corpora import SAMPLE, SHARED, items_of

SPF = SHARED / "eval" / "spf" / "queries.tsv"
QUERIES = ["yukon", "covid vaccine", "COVID-19 vaccination clinics", "santé publique yukon", "coopération",
           "government of yukon announces funding", "quelles sont les mesures pour les entreprises",
           "premier ministre", "First Nations land claims", "l'État et les collectivités"]


def _pages(index_dir):
    """(searcher, matcher, compiled query, [(docnum, stored fields)]) of each query's first page."""
    s = Searcher(index_dir)
    matcher = s.numpy_matcher()
    for q in QUERIES:
        compiled = sq.compile_query(q)
        found = matcher.match(compiled.any_query, None, "relevance", 20)
        docs = [d for d, _ in found.top(10)]
        yield s, matcher, compiled, [(d, s.store.fields(d)) for d in docs]


def _snippet(sn, fields, compiled, counts=None):
    from search.results import body_text

    terms, prefixes = compiled.highlight.get(highlight_lang(fields), (frozenset(), ()))
    return sn.snippet(body_text(fields), fields.get("title") or "", highlight_lang(fields), terms, prefixes,
                      counts)


def test_snippets_from_the_index_counts_are_the_full_scans(sample_index, monkeypatch):
    """With the index's count of each term in a body, a snippet found through the words already known is
    the one the full scan finds; once the vocabulary knows a body's words, the body is not listed at all;
    and a count that does not add up (here one too many) falls back to the full scan, same snippet."""
    sn = snippets.Snippeter()
    cases = [(compiled, d, f, term_counts(matcher.positions, [(d, f)], compiled).get(d))
             for _s, matcher, compiled, page in _pages(sample_index) for d, f in page]
    counted = [c for c in cases if c[3] is not None]
    assert len(counted) > 50 and any(sum(c[3].values()) for c in counted)
    full = [_snippet(sn, f, compiled) for compiled, _d, f, _c in cases]  # the long way (and learns the words)
    scans = []
    real_scan = snippets._scan
    monkeypatch.setattr(snippets, "_scan", lambda *a: scans.append(1) or real_scan(*a))
    for (compiled, _d, f, counts), want in zip(cases, full, strict=True):
        assert _snippet(sn, f, compiled, counts) == want
    assert len(scans) < len(cases) - len(counted) + 5  # the counted bodies were (nearly all) not listed
    for compiled, _d, f, counts in counted:
        if counts and any(counts.values()):
            wrong = {t: n + 1 for t, n in counts.items()}
            scans.clear()
            assert _snippet(sn, f, compiled, wrong) == _snippet(sn, f, compiled)
            assert scans  # the counts did not add up: the body was listed


def test_term_counts_are_the_analysed_bodys_tokens(sample_index):
    """term_counts reads the index; the body analysed again gives the same count of each term."""
    from indexer.analysis import analyze
    from search.results import body_text

    checked = 0
    for _s, matcher, compiled, page in _pages(sample_index):
        counts = term_counts(matcher.positions, page, compiled)
        for d, f in page:
            if d in counts:
                tokens = analyze(body_text(f), highlight_lang(f))
                assert counts[d] == {t: tokens.count(t) for t in counts[d]}
                checked += 1
    assert checked > 50


def _real_queries() -> list[str]:
    out = list(QUERIES)
    if SPF.exists():
        out += [line.split("\t", 1)[1].strip() for line in SPF.read_text(encoding="utf-8").splitlines()[:300]]
    titles = [s.title for s in items_of(SAMPLE / "vie-publique.jsonl") if getattr(s, "title", "")]
    out += titles[:200]
    out += [f"{a} OR ({b} OR {a})" for a, b in zip(titles[:20], titles[20:40], strict=True)]
    out += ['"conseil fédéral" OR "conseil fédéral" -covid -covid', "date:>2020 date:<2022 covid OR santé",
            "title:budget title:budget body:budget", "((yukon))", "NOT x", "yuk* OR yuk*",
            "source:admin covid"]
    return out


@pytest.mark.parametrize("mode", ["all", "any"])
def test_normalize_is_whooshs_for_real_queries(mode):
    """The compiler's normalize() gives Whoosh's normalize() of the same tree: equal, same repr (boosts of
    every clause), same types; and it leaves the compiled tree as it was."""
    checked = 0
    for text in _real_queries():
        q = sq._Compiler().compile(sq.parse(text), mode, top=True)
        if q is None:
            continue
        before = repr(q)
        ours, whoosh = sq.normalize(q), q.normalize()
        assert ours == whoosh and repr(ours) == repr(whoosh) and type(ours) is type(whoosh), text
        assert repr(q) == before
        checked += 1
    assert checked > 300
