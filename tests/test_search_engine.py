"""Searcher on real Yukon statements plus a few crafted ones (duplicates, hostile HTML)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from corpus.statement import Statement
from indexer.analysis import fold
from search import Searcher, SearchError
from search.snippets import plain
from tests.corpora import SHARED
from tests.indexes import index_statements

YUKON = SHARED / "corpus" / "yukon"

pytestmark = pytest.mark.skipif(not YUKON.is_dir(), reason="../shared/corpus/yukon is missing")

CRAFTED = [
    Statement(id="x-script", origin="t", title="Avis <important>", lang="fr", date="2019-05-02",
              source="Essai", body="Attention <script>alert('coopération')</script> & autres risques."),
    Statement(id="x-dup-a", origin="t", title="Budget supplémentaire adopté", lang="fr", date="2019-06-01",
              source="Office A", body="Le budget supplémentaire zyglophonique est adopté."),
    Statement(id="x-dup-b", origin="t", title="Budget supplémentaire adopté", lang="fr", date="2019-06-01",
              source="Office B", body="Le budget supplémentaire zyglophonique est adopté par le conseil."),
]


def _yukon_statements():
    from corpus.inputs import read_paths
    files = []
    for lang in ("en", "fr"):
        files += sorted((YUKON / lang / "2020").glob("*.html"))[:40]
    return [x for x in read_paths(files) if isinstance(x, Statement)]


@pytest.fixture(scope="module")
def corpus_and_index(tmp_path_factory):
    statements = _yukon_statements() + CRAFTED
    index_dir = index_statements(statements, tmp_path_factory.mktemp("idx") / "index")
    return statements, index_dir


@pytest.fixture(scope="module")
def searcher(corpus_and_index):
    s = Searcher(corpus_and_index[1])
    yield s
    s.close()


def _words(text: str) -> set[str]:
    return {fold(w) for w in re.findall(r"\w+", text)}


def test_accent_free_query_marks_accented_words(searcher):
    res = searcher.search("cooperation", lang="fr")
    assert res.total >= 1
    marked = [m for h in res.hits for m in re.findall(r"<mark>(.*?)</mark>", h["snippet"])]
    assert any(fold(m) == "cooperation" and m != "cooperation" for m in marked), marked
    # folded, upper case and typographic apostrophes all work the same
    assert searcher.search("COOPÉRATION", lang="fr").total == res.total


def test_phrase_and_exclusion(corpus_and_index, searcher):
    statements, _ = corpus_and_index
    res = searcher.search('"mineral industry"', limit=100)
    assert res.total > 0
    for h in res.hits:
        st = next(s for s in statements if s.id == h["id"])
        assert "mineral industry" in " ".join(re.findall(r"\w+", fold(st.title + " " + st.body)))
    excluded = searcher.search('"mineral industry" -investment', limit=100)
    assert excluded.total < res.total
    for h in excluded.hits:
        st = next(s for s in statements if s.id == h["id"])
        assert "investment" not in _words(st.title + " " + st.body)


def test_boolean_operators_in_both_languages(searcher):
    a = searcher.search("yukon", limit=1).total
    covid = searcher.search("covid", limit=1).total
    both = searcher.search("yukon AND covid", limit=1).total
    assert both == searcher.search("yukon ET covid", limit=1).total
    either = searcher.search("yukon OR covid", limit=1).total
    assert either == searcher.search("yukon OU covid", limit=1).total
    minus = searcher.search("yukon NOT covid", limit=1).total
    assert minus == searcher.search("yukon SAUF covid", limit=1).total
    assert either == a + covid - both
    assert minus == a - both


def test_prefix(searcher):
    full = searcher.search("vaccination", limit=1).total
    prefix = searcher.search("vaccin*", limit=50)
    assert prefix.total >= full
    assert any("<mark>" in h["snippet"] for h in prefix.hits)
    # a short prefix is a plain word, not a scan
    assert searcher.search("v*").total == searcher.search("v").total


def test_filters_and_facets_agree_with_the_data(corpus_and_index, searcher):
    statements, _ = corpus_and_index
    res = searcher.search("", lang="fr", limit=5)
    assert res.total == sum(1 for s in statements if s.lang == "fr")
    all_res = searcher.search("", since="1900", limit=5)
    assert all_res.facets["lang"] == dict(Counter(s.lang for s in statements if s.date))
    assert all_res.facets["year"] == dict(Counter(s.date[:4] for s in statements if s.date))
    in_2019 = searcher.search("", since="2019", until="2019-12-31")
    assert in_2019.total == sum(1 for s in statements if s.date.startswith("2019"))
    q = searcher.search("yukon", limit=3)
    # total counts statements, the language facet their versions: a French-English pair is one statement
    assert max(q.facets["lang"].values()) <= q.total < sum(q.facets["lang"].values())
    src = searcher.search("", source="office a")
    assert [h["id"] for h in src.hits] == ["x-dup-a"]


def test_date_syntax_and_sort(searcher):
    res = searcher.search("date:2020-03 covid", limit=50)
    assert res.total > 0 and all(h["date"].startswith("2020-03") for h in res.hits)
    ranged = searcher.search("covid date:[2020-03-01 TO 2020-03-31]")
    assert ranged.total == res.total
    by_date = searcher.search("yukon", sort="date", limit=20)
    dates = [h["date"] for h in by_date.hits]
    assert dates == sorted(dates, reverse=True)


def test_duplicates_are_grouped(searcher):
    res = searcher.search("zyglophonique")
    assert len(res.hits) == 1
    hit = res.hits[0]
    assert {d["id"] for d in hit["duplicates"]} | {hit["id"]} == {"x-dup-a", "x-dup-b"}
    assert hit["duplicates"][0]["source"] in ("Office A", "Office B")


def test_script_is_escaped_in_snippets(searcher):
    res = searcher.search("coopération risques")
    hit = next(h for h in res.hits if h["id"] == "x-script")
    assert "<script>" not in hit["snippet"] and "&lt;script&gt;" in hit["snippet"]
    assert "<mark>" in hit["snippet"]
    assert plain(hit["snippet"]).startswith("Attention <script>")


def test_and_first_then_or_fallback(searcher):
    res = searcher.search("zyglophonique yukon")
    assert res.mode == "any" and res.total > 2
    assert {h["id"] for h in res.hits[:1]} <= {"x-dup-a", "x-dup-b"}
    assert searcher.search("yukon").mode == "all"


def test_did_you_mean(searcher):
    res = searcher.search("cooperaton")
    assert res.suggestion in ("coopération", "cooperation", "cooperative")
    assert searcher.search("cooperation").suggestion is None


def test_statement_related_refresh(searcher):
    st = searcher.statement("x-dup-a")
    assert st["body"].startswith("Le budget") and st["date"] == "2019-06-01"
    assert searcher.statement("nope") is None
    # Related lists only statements at least RELATED_MIN similar: some in this small index have none.
    some, rel = next((h["id"], r) for h in searcher.search("coronavirus").hits
                     if (r := searcher.related(h["id"], limit=5)).hits)
    assert rel.total == len(rel.hits) and some not in {h["id"] for h in rel.hits}
    with pytest.raises(SearchError):
        searcher.related("nope")
    assert searcher.refresh() is False


def test_errors(tmp_path, searcher):
    with pytest.raises(SearchError):
        Searcher(tmp_path / "none")
    for kw in ({"since": "2020-13"}, {"until": "hier"}, {"sort": "title"}, {"limit": 0}):
        with pytest.raises(SearchError):
            searcher.search("yukon", **kw)


def test_paging_is_consistent(searcher):
    first = searcher.search("yukon", limit=5, page=1)
    second = searcher.search("yukon", limit=5, page=2)
    both = searcher.search("yukon", limit=10)
    assert [h["id"] for h in first.hits + second.hits] == [h["id"] for h in both.hits]
    d = first.to_dict()
    assert set(d) >= {"query", "total", "results", "facets", "suggestion", "mode", "page"}
    assert set(d["results"][0]) >= {"id", "url", "title", "date", "lang", "source", "score", "snippet"}


def test_opening_while_a_commit_replaces_the_generation(corpus_and_index, monkeypatch):
    """A commit that lands while a Searcher opens deletes the table of contents being read: the Searcher
    opens the new generation instead; only when that keeps happening does it say it cannot open."""
    import indexer

    _, index_dir = corpus_and_index
    real = indexer.open_index
    vanish = {"left": 2}

    def racing_open(path):
        if vanish["left"]:
            vanish["left"] -= 1
            raise FileNotFoundError(2, "No such file or directory", str(Path(path) / "_MAIN_2.toc"))
        return real(path)

    monkeypatch.setattr(indexer, "open_index", racing_open)
    with Searcher(index_dir) as s:
        assert s.search("yukon").total > 0
    assert vanish["left"] == 0
    vanish["left"] = 100
    with pytest.raises(SearchError, match="Cannot open the index"):
        Searcher(index_dir)
