"""The numpy fast path (search.fastpath) against the Whoosh collectors, on real Yukon statements: same hits,
order, totals, facets, modes, duplicates and snippets, on one segment and on several with deletions."""

from __future__ import annotations

import re

import numpy as np
import pytest
from whoosh import index as windex

from corpus.statement import Statement
from indexer import postings as sidecars
from indexer.tables import NO_DATE, deleted_docs
from search import Searcher, fastpath
from search.matching import FastMatcher
from tests.corpora import SHARED
from tests.indexes import index_statements

YUKON = SHARED / "corpus" / "yukon"

pytestmark = pytest.mark.skipif(not YUKON.is_dir(), reason="../shared/corpus/yukon is missing")

CRAFTED = [
    Statement(id="x-dup-a", origin="t", title="Budget supplémentaire adopté", lang="fr", date="2019-06-01",
              source="Office A", body="Le budget supplémentaire zyglophonique est adopté."),
    Statement(id="x-dup-b", origin="t", title="Budget supplémentaire adopté", lang="fr", date="2019-06-01",
              source="Office B", body="Le budget supplémentaire zyglophonique est adopté par le conseil."),
    Statement(id="x-nodate", origin="t", title="Wildlife note", lang="en", source="Office A",
              body="Caribou and wildlife viewing in Yukon parks, no date given."),
    Statement(id="x-de", origin="t", title="Mitteilung", lang="de", date="2020-02-02", source="Amt",
              body="Die Regierung von Yukon informiert über Covid und Impfungen."),
]

QUERIES = [
    ("yukon", {}),
    ("covid", {}),
    ("covid vaccine", {}),
    ("COVID-19 vaccination clinics", {}),
    ("santé publique yukon", {}),
    ("coopération", {"lang": "fr"}),
    ("government of yukon announces funding", {}),  # a sentence: blend of AND and BM25 over any word
    ("quelles sont les mesures pour les entreprises", {}),
    ("zyglophonique yukon", {}),  # AND finds too few: OR fallback ("any")
    ("zyglophonique", {}),  # duplicates collapsed
    ("wildlife", {"sort": "date"}),
    ("yukon", {"sort": "date", "limit": 7, "page": 2}),
    ("covid", {"recency": 0.5}),
    ("health minister", {"since": "2020-03", "until": "2020-06-30"}),
    ("yukon", {"source": "Office A"}),
    ("", {"lang": "fr", "sort": "date"}),
    ("", {"since": "2020", "until": "2020-12-31"}),
    ('"chief medical officer"', {}),
    ('"santé publique" covid', {}),
    ("covid -vaccine", {}),
    ("+covid school", {}),
    ("covid OR caribou", {}),
    ("title:covid", {}),
    ("yukon", {"limit": 5, "page": 3}),
    ("qwxzv", {}),  # nothing
    ("caribou", {"lang": "de"}),
    ("vaccin*", {}),  # a prefix: the Or of the words it expands to, each scored, in every segment
    ("heal* minister", {}),
]


def _yukon(n_per_folder: int) -> list[Statement]:
    from corpus.inputs import read_paths
    files = []
    for lang in ("en", "fr"):
        for year in ("2019", "2020"):
            files += sorted((YUKON / lang / year).glob("*.html"))[:n_per_folder]
    return [x for x in read_paths(files) if isinstance(x, Statement)]


@pytest.fixture(scope="module")
def statements():
    return _yukon(45) + CRAFTED


@pytest.fixture(scope="module")
def one_segment(statements, tmp_path_factory):
    return index_statements(statements, tmp_path_factory.mktemp("one") / "index")


@pytest.fixture(scope="module")
def segments(statements, tmp_path_factory):
    """Three segments (three update runs, each its own file) and two deleted statements (taken out of
    their files, then updated again)."""
    index_dir = tmp_path_factory.mktemp("multi") / "index"
    half, rest = statements[: len(statements) // 2], statements[len(statements) // 2:]
    parts = {"a": half, "b": rest[: len(rest) // 2], "c": rest[len(rest) // 2:]}
    for name, part in parts.items():
        index_statements(part, index_dir, name)
    gone = {statements[3].id, "x-dup-b"}
    for name, part in parts.items():
        if gone & {st.id for st in part}:
            index_statements([st for st in part if st.id not in gone], index_dir, name)
    ix = windex.open_dir(str(index_dir))
    assert len(ix.reader().leaf_readers()) >= 3 and ix.reader().has_deletions()
    ix.close()
    return index_dir


def _pair(index_dir):
    fast, slow = Searcher(index_dir), Searcher(index_dir, fast=False)
    calls = []
    inner = fast._evaluate

    def spy(plan, matcher):
        if isinstance(matcher, FastMatcher):
            calls.append(plan)
        return inner(plan, matcher)

    fast._evaluate = spy
    return fast, slow, calls


def _same(a: dict, b: dict, label: str):
    for key in ("total", "mode", "facets", "suggestion", "page", "pages", "collapsed"):
        assert a.get(key) == b.get(key), (label, key, a.get(key), b.get(key))
    ids_a = [h["id"] for h in a["results"]]
    ids_b = [h["id"] for h in b["results"]]
    assert ids_a == ids_b, label
    for ha, hb in zip(a["results"], b["results"], strict=True):
        assert ha["score"] == pytest.approx(hb["score"], abs=2e-4), label
        ha, hb = dict(ha, score=0), dict(hb, score=0)
        assert ha == hb, label


@pytest.mark.parametrize("where", ["one_segment", "segments"])
def test_fast_path_agrees_with_whoosh(where, request):
    index_dir = request.getfixturevalue(where)
    fast, slow, calls = _pair(index_dir)
    try:
        for q, kw in QUERIES:
            label = f"{q!r} {kw}"
            _same(fast.search(q, **kw).to_dict(), slow.search(q, **kw).to_dict(), label)
        assert len(calls) >= len(QUERIES) - 3  # all but the empty results went the fast way
    finally:
        fast.close()
        slow.close()


def test_queries_the_fast_path_leaves_to_whoosh(one_segment):
    fast, slow, calls = _pair(one_segment)
    try:
        for q in ("covid date:2020", "lang:fr covid", "covid year:2020"):
            _same(fast.search(q).to_dict(), slow.search(q).to_dict(), q)
        assert calls == []  # filters written in the query: Whoosh
        for q in ("source:office", "title:covid body:yukon"):
            _same(fast.search(q).to_dict(), slow.search(q).to_dict(), q)
        assert len(calls) == 2
    finally:
        fast.close()
        slow.close()


def test_block_reader_matches_the_matcher_api(segments):
    ix = windex.open_dir(str(segments))
    with ix.searcher() as s:
        x = fastpath.IndexArrays(s)
        for seg, _ in x.leaves:
            for field in ("body_en", "body_fr", "title_en", "group", "source_text"):
                terms = [t for t, _ in zip(seg.lexicon(field), range(400), strict=False)]
                for t in terms[::7]:
                    fast = sidecars.leaf_postings(seg, field, t)
                    slow = fastpath._leaf_postings_slow(seg, field, t)
                    # slow skips deleted documents (the public matcher does); fast keeps them for later
                    ids_f = np.cumsum(fast[0])
                    ids_s = np.cumsum(slow[0])
                    keep = ~np.isin(ids_f, list(deleted_docs(seg)))
                    assert ids_f[keep].tolist() == ids_s.tolist(), (field, t)
                    assert np.asarray(fast[1])[keep].tolist() == slow[1], (field, t)
        # global arrays: lengths and columns as Whoosh reads them
        r = s.reader()
        for field in ("title_en", "body_fr"):
            lens = x.lengths(field)
            assert all(lens[d] == (r.doc_field_length(d, field, 0) or 0) for d in range(x.n))
        for name in ("lang", "source", "year"):
            codes, values = x.codes(name)
            col = r.column_reader(name)
            for d in range(x.n):
                v = col[d]
                assert values[codes[d]] == (v.decode() if isinstance(v, bytes) else v or ""), (name, d)
        dates = x.dates
        col = r.column_reader("date")
        for d in range(x.n):
            if dates[d] != NO_DATE:
                assert dates[d] == fastpath.ticks(col[d])


def test_cache_is_bounded_and_refresh_resets_it(statements, tmp_path):
    index_dir = index_statements(statements[:60], tmp_path / "ix")
    s = Searcher(index_dir, cache_bytes=20_000)
    try:
        for q in ("yukon", "covid", "health", "government", "santé", "mesures", "yukon covid"):
            s.search(q)
            x = s.numpy_matcher().x
            assert x._cached <= 20_000 or len(x._postings) == 1
        assert s.search("zorblatt").total == 0
        index_statements([Statement(id="x-new", origin="t", title="Zorblatt", lang="en", date="2021-01-01",
                                    body="The zorblatt.")], index_dir, "new")
        assert s.refresh() is True
        res = s.search("zorblatt")
        assert res.total == 1 and res.hits[0]["id"] == "x-new"
    finally:
        s.close()


def test_top_keeps_whoosh_tie_order():
    docs = np.array([1, 3, 4, 8, 9, 12])
    scores = np.array([2.0, 5.0, 2.0, 5.0, 1.0, 2.0])
    best, sc = fastpath.top(docs, scores, 4)
    assert best.tolist() == [3, 8, 1, 4] and sc.tolist() == [5.0, 5.0, 2.0, 2.0]
    assert fastpath.top(docs, scores, 10)[0].tolist() == [3, 8, 1, 4, 12, 9]


def test_phrase_positions_decode(one_segment):
    ix = windex.open_dir(str(one_segment))
    with ix.searcher() as s:
        x = fastpath.IndexArrays(s)
        p = x.postings("body_en", "yukon")
        d = int(p.ids[0])
        m = s.reader().postings("body_en", "yukon")
        m.skip_to(d)
        assert p.positions(d) == m.value_as("positions")
        assert p.positions(-5) is None


def test_no_whoosh_stream_copy_at_open(one_segment):
    """Opening a searcher does not copy the postings file into memory (see fastpath.lazy_buffer_files)."""
    from whoosh.filedb.structfile import BufferFile
    s = Searcher(one_segment)
    assert getattr(BufferFile, "_presse_lazy", False)
    try:
        reader = s._s.reader()
        seg = reader.leaf_readers()[0][0]
        postfile = seg._terms._postfile
        if isinstance(postfile, BufferFile):
            assert "_lazy_file" not in postfile.__dict__
        assert s.search("yukon").total > 0
        assert re.search(r"<mark>", s.search("yukon").hits[0]["snippet"])
    finally:
        s.close()


def test_not_excludes_the_first_match_on_both_matchers(tmp_path):
    """Whoosh's AndNotMatcher kept the first document of the positive words when the excluded word's
    postings start before it (found by bench.golden compare --whoosh: "Kindergarten -Grade")."""
    docs = [Statement(id="only-grade", origin="t", title="Grade", lang="en", date="2020-01-01",
                      body="Grade levels for the year."),
            Statement(id="both", origin="t", title="Kindergarten", lang="en", date="2020-01-02",
                      body="Kindergarten to Grade 12 schools open."),
            Statement(id="kinder-only", origin="t", title="Kindergarten", lang="en", date="2020-01-03",
                      body="Kindergarten registration opens.")]
    index_dir = index_statements(docs, tmp_path / "ix")
    for fast in (True, False):
        with Searcher(index_dir, fast=fast) as s:
            for q in ("kindergarten -grade", "kindergarten NOT grade", "kinder* -grade"):
                assert [h["id"] for h in s.search(q).hits] == ["kinder-only"], (fast, q)


@pytest.mark.parametrize("where", ["one_segment", "segments"])
def test_column_offsets_read_with_numpy_are_whoosh_s_own(where, request, monkeypatch):
    """fastpath.fast_column_offsets: every variable-length column of a real index (source, lang, year) gets
    the same offsets and lengths as Whoosh's own loop computes, and the same values."""
    from whoosh import columns

    index_dir = request.getfixturevalue(where)
    monkeypatch.setattr(fastpath, "FAST_OFFSETS_MIN_DOCS", 0)  # the test index is small: take the fast way
    s = Searcher(index_dir)
    try:
        cls = columns.VarBytesColumn.Reader
        assert getattr(cls, "_presse_fast", False)
        checked = 0
        for seg, _ in s._s.reader().leaf_readers():
            for name in ("source", "lang", "year"):
                fast = seg._perdoc.column_reader(name, seg.schema[name].column_type)
                slow = object.__new__(cls)
                slow.__dict__.update({k: v for k, v in fast.__dict__.items() if not k.startswith("_o")})
                cls._presse_slow(slow)
                assert list(fast._offsets) == list(slow._offsets)
                assert list(fast._lengths) == list(slow._lengths)
                docs = range(seg.doc_count_all())
                assert [fast[d] for d in docs] == [slow[d] for d in docs]
                checked += 1
        assert checked >= 3
        assert s.search("yukon").total > 0
    finally:
        s.close()


def test_remembered_term_lookups_answer_as_whoosh_s_own(segments):
    """fastpath.fast_term_lookups: every term of every segment (and absent ones) gets the same term info
    and document frequency as Whoosh's own lookup, the first time and when remembered."""
    from whoosh.codec import whoosh3

    s = Searcher(segments)
    try:
        cls = whoosh3.W3TermsReader
        assert getattr(cls, "_presse_cached", False)
        own_info, own_df, _own_contains = cls._presse_uncached

        def answer(f, *args):
            try:
                got = f(*args)
            except Exception as e:  # TermNotFound / KeyError, as Whoosh raises them
                return type(e).__name__
            return got if isinstance(got, int) else (got.doc_frequency(), got.weight(), got.min_id(),
                                                     got.max_id(), got.is_inlined(), got.extent() if
                                                     not got.is_inlined() else None)

        checked = 0
        for seg, _ in s._s.reader().leaf_readers():
            terms = seg._terms
            keys = [*terms.terms(), ("body_fr", b"zzznotaword"), ("nosuchfield", b"x")]
            for _ in range(2):  # once read, once remembered
                for f, t in keys:
                    assert answer(terms.term_info, f, t) == answer(own_info, terms, f, t), (f, t)
                    assert answer(terms.doc_frequency, f, t) == answer(own_df, terms, f, t), (f, t)
                    checked += 1
        assert checked > 1000
        assert s.search("yukon").total == s.search("yukon").total > 0
    finally:
        s.close()


def test_stored_fields_are_read_once_a_document(one_segment):
    """search.results.DocStore remembers stored fields: a hit, its other version and its duplicates are
    read from Whoosh once, however often a search (or the next one) needs them; the same answers."""
    s, fresh = Searcher(one_segment), Searcher(one_segment)
    reads: list[int] = []

    class Counting:
        def __init__(self, inner):
            self.inner = inner

        def stored_fields(self, d):
            reads.append(d)
            return self.inner.stored_fields(d)

        def __getattr__(self, name):
            return getattr(self.inner, name)

    s.store.searcher = Counting(s.store.searcher)
    try:
        for q in ("yukon", "covid vaccine", "zyglophonique", "yukon"):
            assert s.search(q).to_dict() == fresh.search(q).to_dict(), q
        assert reads and len(reads) == len(set(reads))
    finally:
        s.close()
        fresh.close()
