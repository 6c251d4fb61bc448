"""Searching the distributed engine (real ``searchd`` servers, two shards) beside the embedded index: the
same JSON schema, the same totals and facets for filters, comparable statement sets, snippets made by
presse, related statements, the CLI and the JSON API with --engine, and an agent down reported."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from click.testing import CliRunner

from cli import main
from indexer.sphinxql import sync
from search import Searcher
from search.options import IndexUnavailable, SearchError
from search.query import compile_query
from tests.corpora import SAMPLE
from tests.sphinx_servers import Servers, needs_searchd

pytestmark = [needs_searchd, pytest.mark.slow]

# Unaccented French and English queries, a phrase, a prefix, fields and filters (none names a result).
QUERIES = [("securite", {}), ("sante publique", {}), ("covid vaccine", {}), ("economie", {"lang": "fr"}),
           ('"conseil des ministres"', {}), ("educ*", {}), ("title:yukon", {}),
           ("premier", {"since": "2020"}), ("yukon -covid", {"lang": "en"}),
           ("tourism", {"source": "Government of Yukon"})]
FILTERS = [{"lang": "fr"}, {"lang": "en"}, {"since": "2019", "until": "2020-06-30"},
           {"source": "yukon"}, {"source": "vie-publique"}, {"lang": "en", "since": "2021"}]


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    """Two searchd (one shard each) holding the bundled sample, and the embedded index it was sent from."""
    if not SAMPLE.exists():
        pytest.skip("sample/ missing")
    root = tmp_path_factory.mktemp("sphinx-search")
    from indexer import update

    update([str(SAMPLE)], root / "ix")
    servers = Servers(root / "engine", servers=2, shards=2)
    try:
        sync(root / "ix", servers.url)
        yield servers, root / "ix"
    finally:
        servers.close()


@pytest.fixture(scope="module")
def both(engine):
    from search.sphinxql import RemoteSearcher

    servers, index_dir = engine
    with RemoteSearcher(servers.url) as remote, Searcher(index_dir) as embedded:
        yield remote, embedded


def statement_of(searcher, hit: dict) -> str:
    """A hit as its statement: a statement and its translation are one result, shown in either language."""
    other = [t["id"] for t in hit.get("translations") or []]
    return min([hit["id"], *other])


def test_same_schema_totals_and_comparable_statements(both):
    remote, embedded = both
    overlaps = []
    for query, options in QUERIES:
        a, b = remote.search(query, **options).to_dict(), embedded.search(query, **options).to_dict()
        assert set(a) - {"corrected_query"} >= set(b) - {"corrected_query"} - {"suggestion"}, query
        assert a["total"] == b["total"] > 0, query  # the same statements match (presse's own terms)
        assert a["facets"] == b["facets"] and a["mode"] == b["mode"], query
        for hit in a["results"]:
            assert set(hit) == set(b["results"][0]), query
        top_a = {statement_of(remote, h) for h in a["results"]}
        top_b = {statement_of(embedded, h) for h in b["results"]}
        overlaps.append(len(top_a & top_b) / min(len(top_a), len(top_b)))
    mean = sum(overlaps) / len(overlaps)
    print(f"top-10 overlap (statements) with the embedded index on {len(QUERIES)} queries: {mean:.2f}")
    assert mean >= 0.8, overlaps  # a guard: ranking is the embedded index's, over the engine's candidates


def test_filters_give_the_same_totals_facets_and_histogram(both):
    remote, embedded = both
    for options in FILTERS:
        a, b = remote.search("", **options), embedded.search("", **options)
        assert a.total == b.total > 0, options
        assert a.facets == b.facets, options
        assert a.extra["histogram"] == b.extra["histogram"], options
        assert [h["date"] for h in a.hits] == sorted((h["date"] for h in a.hits), reverse=True)


def test_counts_are_asked_of_each_shards_own_server_and_stay_exact(both, monkeypatch):
    """Totals, facets and histogram are counted on every shard's own server (through the distributed index,
    each agent sent all its groups to the head) and summed. A shard holding more matches than its likely
    share is counted again with room for all of them: the counts stay the embedded index's."""
    import search.sphinxql as sq

    remote, embedded = both
    asked = []
    real = remote.batch

    def batch(statements, conn="main", server=None):
        if server is not None:
            asked.append((server, re.search(r"GROUP BY pair .*max_matches=(\d+)", statements[3][0])[1]))
        return real(statements, conn, server)

    monkeypatch.setattr(remote, "batch", batch)
    monkeypatch.setattr(sq, "MIN_KEEP", 2)
    monkeypatch.setattr(sq, "SHARD_SHARE", 0.01)  # far less than a shard holds
    for query, options in [("yukon", {}), ("", {"lang": "fr"}), ("sante publique", {}), ("covid", {})]:
        a, b = remote.search(query, **options), embedded.search(query, **options)
        assert a.total == b.total > 0 and a.facets == b.facets, (query, options)
        assert a.extra["histogram"] == b.extra["histogram"], (query, options)
    shards = {(s.host, s.port) for s in remote.shards()}
    assert len(shards) == 2 and {server for server, _ in asked} == shards
    for server in shards:  # counted again, with more room
        assert len({keep for s, keep in asked if s == server}) >= 2, asked


def test_snippets_mark_the_accented_words_of_an_unaccented_query(both):
    remote, _ = both
    res = remote.search("securite", lang="fr")
    marked = [h["snippet"] for h in res.hits if "<mark>" in h["snippet"]]
    assert marked and all("<mark>s\u00e9curit\u00e9" in s.lower() for s in marked)


def test_statement_and_related_as_on_the_embedded_index(both):
    remote, embedded = both
    hit = embedded.search("premier", lang="en").hits[0]
    assert remote.statement(hit["id"]) == embedded.statement(hit["id"])
    assert remote.statement("no-such-id") is None
    res = remote.related(hit["id"], limit=5).to_dict()
    assert res["mode"] == "related" and 0 < res["total"] == len(res["results"]) <= 5
    own = {hit["id"], *(t["id"] for t in hit["translations"])}
    assert not own & {h["id"] for h in res["results"]}
    assert all(0 < h["score"] <= 1 for h in res["results"])
    with pytest.raises(SearchError):
        remote.related("no-such-id")


def test_cli_and_json_api_with_engine(engine):
    servers, index_dir = engine
    runner = CliRunner()
    remote = runner.invoke(main, ["search", "--engine", servers.url, "--json", "--lang", "en", "premier"])
    local = runner.invoke(main, ["search", "--index", str(index_dir), "--json", "--lang", "en", "premier"])
    assert remote.exit_code == local.exit_code == 0, remote.output
    a, b = json.loads(remote.output), json.loads(local.output)
    assert a["total"] > 0 and set(a["results"][0]) == set(b["results"][0]) and a["facets"]["source"]
    first = a["results"][0]["id"]
    # with --index, the engine's searcher reads the local index's typo index: corrected as on it
    typo = ["search", "--index", str(index_dir), "--json", "goverment yukon"]
    fixed, own = runner.invoke(main, [*typo, "--engine", servers.url]), runner.invoke(main, typo)
    corrected = json.loads(own.output)["corrected_query"]
    assert json.loads(fixed.output)["corrected_query"] == corrected is not None
    related = runner.invoke(main, ["related", "--engine", servers.url, "--json", first])
    assert related.exit_code == 0 and json.loads(related.output)["source_id"] == first

    from search.web.app import create_app

    app = create_app(str(index_dir), engine=servers.url, threads=1)
    with app.test_client() as client:
        api = client.get("/api/search?q=premier&lang=en")
        assert api.status_code == 200
        assert {h["id"] for h in api.get_json()["results"]} == {h["id"] for h in a["results"]}
        assert client.get("/api/search?q=goverment+yukon").get_json()["corrected_query"] == corrected
        assert client.get(f"/statement/{first}").status_code == 200
        stored = client.get(f"/api/statements/{first}")
        assert stored.status_code == 200 and stored.get_json()["id"] == first


def test_an_agent_down_is_reported_not_swallowed(tmp_path, sample_index):
    from search.sphinxql import RemoteSearcher

    local = tmp_path / "ix"
    shutil.copytree(sample_index, local)
    servers = Servers(tmp_path / "engine", servers=2, shards=2)
    try:
        sync(local, servers.url)
        with RemoteSearcher(servers.url) as remote:
            total = remote.search("yukon").total
            servers.stop(servers.ports[0])  # the server presse talks to restarts: its connection is new
            servers.start(servers.ports[0])
            assert remote.search("yukon").total == total > 0
            servers.stop(servers.ports[1])
            with pytest.raises(IndexUnavailable) as info:
                remote.search("yukon")
            assert "agent" in str(info.value) and "\n" not in str(info.value)
        result = CliRunner().invoke(main, ["search", "--engine", servers.url, "yukon"])
        assert result.exit_code == 1 and result.output.count("\n") == 1 and "agent" in result.output
    finally:
        servers.close()


def test_nsb_slice_through_presse_index_engine(tmp_path):
    """1,500 NSB records (French and English) sent by `presse index --engine`: the same statement counts
    per language, and title lookups typed without accents find their statement on both engines."""
    import gzip

    from unidecode import unidecode

    from search.sphinxql import RemoteSearcher
    from tests.corpora import SHARED

    nsb = SHARED / "corpus" / "nsb" / "nsb.jsonl.gz"
    if not nsb.exists():
        pytest.skip(f"{nsb} missing")
    corpus = tmp_path / "nsb-slice.jsonl"
    with gzip.open(nsb, "rt", encoding="utf-8") as f, corpus.open("w", encoding="utf-8") as out:
        for _, line in zip(range(1500), f, strict=False):
            out.write(line)
    servers = Servers(tmp_path / "engine", servers=2, shards=2)
    try:
        result = CliRunner().invoke(main, ["index", str(corpus), "--index", str(tmp_path / "ix"),
                                           "--engine", servers.url, "--json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["engine"]["sent"] == json.loads(result.output)["statements"]
        with RemoteSearcher(servers.url) as remote, Searcher(tmp_path / "ix") as embedded:
            for lang in ("fr", "en"):
                assert remote.search("", lang=lang).total == embedded.search("", lang=lang).total > 0
            listed = [h for lang in ("fr", "en") for h in embedded.search("", lang=lang, limit=30).hits]
            found = {"remote": 0, "embedded": 0}
            lookups = 0
            for hit in listed:
                words = [w for w in re.findall(r"[a-z]+", unidecode(hit["title"]).lower()) if len(w) > 3]
                if len(words) < 3:
                    continue
                lookups += 1
                want = {hit["id"], *(t["id"] for t in hit["translations"])}
                for name, searcher in (("remote", remote), ("embedded", embedded)):
                    top = searcher.search(" ".join(words[:4]), limit=10).hits
                    found[name] += bool(want & {h["id"] for h in top})
            print(f"NSB slice title lookups found in the top 10, of {lookups}: {found}")
            assert lookups >= 20 and found["remote"] >= 0.8 * lookups
    finally:
        servers.close()


def test_titles_rank_as_on_the_embedded_index(both):
    """Known items (the last 3 words of a statement's title as the query): presse's re-ranking of the
    engine's candidates puts first the statement the embedded index puts first, more often than the
    engine's own order does."""
    from search.options import SearchOptions
    from search.query import compile_query
    from search.sphinxql import translate, where_clause


    remote, embedded = both
    titles = [embedded.store.fields(d).get("title") or "" for d in range(embedded.doc_count)]
    titles = sorted({" ".join(t.split()[-3:]) for t in titles if len(t.split()) >= 5})[:40]  # its end
    assert len(titles) >= 20
    same = engine_same = 0
    for title in titles:
        first = statement_of(embedded, embedded.search(title, limit=10).hits[0])
        hits = remote.search(title, limit=10).hits
        same += statement_of(remote, hits[0]) == first
        where = where_clause(SearchOptions.make(title), translate(compile_query(title).must_query))
        ranked, _ = remote.matches(where, "relevance", 10)
        if ranked:  # the engine's best, as a statement
            f = remote.store.fields(ranked[0][0])
            engine_same += min(x for x in (f.get("id"), f.get("translation")) if x) == first
    print(f"same first statement on {len(titles)} titles: re-ranked {same}, engine order {engine_same}")
    assert same >= 0.8 * len(titles) and same > engine_same


class EmbeddedStats:
    """The embedded index's own statistics (deleted statements included, as Whoosh counts them until merged),
    where search.sphinxql reads the engine's."""

    def __init__(self, embedded):
        self.stats, self.searcher = embedded.stats, embedded._s
        self.n_docs = self.stats.n_docs

    def df(self, fname, t):
        return self.stats.df(fname, t)

    def idf(self, fname, t):
        return self.stats.idf(fname, t)

    def avg_field_length(self, fname):
        return self.searcher.avg_field_length(fname)


QUERIES_BM25 = ["securite alimentaire", "covid vaccine", "premier ministre", "title:yukon",
                '"conseil des ministres"', "l'économie yukon"]


@pytest.mark.parametrize("query", QUERIES_BM25)
def test_candidates_are_scored_by_the_embedded_index_bm25(both, query):
    """presse's BM25 over the engine's rows (search.sphinxql.PoolEvaluator: term frequencies from the stored
    text, lengths from the rows) gives the embedded index's very scores, given its statistics."""
    from indexer.sphinxql import doc_id
    from search.query import compile_query
    from search.ranking import BM25_B, BM25_K1, Signals
    from search.sphinxql import PoolEvaluator, PoolMatcher, RemoteStore

    remote, embedded = both
    compiled = compile_query(query)
    pooled = Signals.make(compiled.words, compiled.proximity, embedded.stats).pool(compiled.must_query)
    found = embedded.numpy_matcher().match(pooled, None, "relevance", 50).top(50)
    want = {embedded.store.fields(d)["id"]: s for d, s in found}
    assert len(want) >= 2, query
    remote.store = RemoteStore(remote)
    ids = [doc_id(i) for i in want]
    remote.store.prefetch(ids)
    matcher = PoolMatcher([remote.store.fields(d) for d in ids], [remote.store.lengths[d] for d in ids],
                          EmbeddedStats(embedded))
    mask, score = PoolEvaluator(matcher, BM25_B, BM25_K1).evaluate(pooled)
    assert mask.all(), query
    assert score.tolist() == pytest.approx(list(want.values()), rel=1e-9), query


def test_the_engine_counts_documents_as_the_embedded_index_holds_them(both):
    """Documents per (field, term), counted by the engine over all its shards, are the embedded index's live
    documents holding the term (the engine holds presse's own terms)."""
    from whoosh import query as wq

    from search.sphinxql import query_terms

    remote, embedded = both
    keys = {k for q in QUERIES_BM25 for k in query_terms(compile_query(q).must_query)}
    assert len(keys) >= 30
    remote.stats.load(keys)
    for fname, t in sorted(keys):
        live = len(embedded.numpy_matcher().match(wq.Term(fname, t), None, "relevance", 1))
        assert remote.stats.df(fname, t) == live, (fname, t)
    assert remote.stats.n_docs == remote.doc_count == embedded.doc_count


def test_a_missing_word_is_not_an_agent_down(both):
    """A warning listing words an index lacks is no failure, even when a word holds "error" (terroriste);
    an agent that did not answer is."""
    remote, _ = both
    remote.meta([("warning", "index 'presse_xx_0': query word(s) mismatch: menace, terroriste")])
    assert remote.search("menace terroriste").total >= 0
    with pytest.raises(IndexUnavailable):
        remote.meta([("warning", "agent 127.0.0.1:9: connect() failed: Connection refused")])


def test_sources_differing_in_case_are_two_facet_values_as_on_the_embedded_index(tmp_path):
    """The engine compares and groups strings byte for byte (its default collation would merge "Justice"
    and "justice" into one source value): the same facets as the embedded index."""
    from indexer import update

    lines = (SAMPLE / "vie-publique.jsonl").read_text(encoding="utf-8").splitlines()[:6]
    records = [json.loads(line) for line in lines]
    for k, record in enumerate(records):
        record["source"] = "Office de l'auditeur - " + ("Justice militaire" if k % 2 else "justice militaire")
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "r.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    update([str(tmp_path / "corpus")], tmp_path / "ix")
    servers = Servers(tmp_path / "engine", servers=1, shards=1)
    try:
        sync(tmp_path / "ix", servers.url)
        from search.sphinxql import RemoteSearcher

        with RemoteSearcher(servers.url) as remote, Searcher(tmp_path / "ix") as embedded:
            a, b = remote.search("", lang="fr"), embedded.search("", lang="fr")
            assert len(b.facets["source"]) == 2 and a.facets == b.facets and a.total == b.total == 6
    finally:
        servers.close()


# Misspelt words (a letter dropped, swapped or doubled) and clean ones, French and English.
TYPO_QUERIES = ["securte alimentaire", "goverment yukon", "tourisme yukn", "educaton", "sante publiqe",
                "ministre de la santee", "covid vacine", "premeir ministre", "economie", "climate chnage",
                "xqzwv", "la securite des aliments"]


def test_typos_suggestions_and_query_language_as_on_the_embedded_index(engine):
    """With the typo index of the local index sent to it, the engine corrects and suggests as the embedded
    index does, matches the same statements through the typos, and infers the same query language."""
    from search.sphinxql import RemoteSearcher

    servers, index_dir = engine
    from indexer.analysis import fold
    from search.language import MARGIN

    corrected = decided = 0
    with RemoteSearcher(servers.url, index_dir=index_dir) as remote, Searcher(index_dir) as embedded:
        for query in TYPO_QUERIES:
            a, b = remote.search(query), embedded.search(query)
            # the same corrections, written as some statement writes them (maybe another statement)
            assert [fold(x or "") for x in (a.corrected_query, a.suggestion)] == [
                fold(x or "") for x in (b.corrected_query, b.suggestion)], query
            assert (a.corrected_query is None, a.suggestion is None) == (
                b.corrected_query is None, b.suggestion is None), query
            # Whoosh counts its deleted statements in the languages' sizes, the engine does not: the same
            # language where the evidence is clear either way
            if abs(abs(embedded.languages.evidence(query)) - MARGIN) > 1.0:
                assert a.extra["query_lang"] == b.extra["query_lang"], query
                decided += b.extra["query_lang"] is not None
            assert (a.total, a.mode, a.facets) == (b.total, b.mode, b.facets), query
            corrected += b.corrected_query is not None
    assert corrected >= len(TYPO_QUERIES) // 2 and decided >= 3  # the queries do hold typos and languages


def test_without_a_typo_index_the_engine_says_so_by_correcting_nothing(engine, tmp_path):
    """An engine searched with no local index sent to it (another machine): no typo index, no correction,
    and the search still works."""
    from search.sphinxql import RemoteSearcher

    servers, _ = engine
    with RemoteSearcher(servers.url, index_dir=tmp_path) as remote:
        res = remote.search("goverment yukon")
    assert res.corrected_query is None and res.suggestion is None and res.total > 0


@pytest.mark.parametrize("query", ["securite alimentaire", "yukon government tourism", "sante publique covid",
                                   '"conseil des ministres"', "economie -covid", "premier ministre yukon"])
def test_term_counts_from_the_engine_are_those_of_the_stored_text(both, query):
    """The counts of each query term in each candidate's title and body, read off the engine's ranking
    factors (keywords numbered by their place in the MATCH expression), are those presse's analysis finds in
    the stored text."""
    from search.options import SearchOptions
    from search.sphinxql import PoolMatcher, RemoteStore, query_terms, translate, where_clause

    remote, _ = both
    remote.store, remote.tfs = RemoteStore(remote), {}
    opts = SearchOptions.make(query)
    compiled = compile_query(query)
    for q in (compiled.must_query, compiled.any_query):
        remote.matches(where_clause(opts, translate(q)), "relevance", 50)
    ids = list(remote.tfs)
    assert len(ids) >= 2, query
    remote.store.prefetch(ids)
    keys = set(query_terms(compiled.any_query))
    fields, lengths = [remote.store.fields(d) for d in ids], [remote.store.lengths[d] for d in ids]
    # the engine's counts are what is compared; a phrase's words are counted from the text (the engine's
    # counts of them are the phrase's)
    assert all(bool(remote.tfs[d]) == ('"' not in query) for d in ids), query
    terms = [t for _, t in keys]
    from_engine = PoolMatcher(fields, lengths, remote.stats, terms, [remote.tfs[d] for d in ids])
    from_text = PoolMatcher(fields, lengths, remote.stats, terms)
    counted = 0
    for fname, t in keys:
        for k in range(len(ids)):
            assert from_engine.tf(fname, k, t) == from_text.tf(fname, k, t), (query, fname, t, ids[k])
            counted += from_text.tf(fname, k, t) > 0
    assert counted >= len(ids), query


QUESTIONS = ["comment obtenir un permis ?", "quelles mesures contre la covid ?",
             "pourquoi fermer les frontieres ?", "what support for tourism businesses?",
             "how to apply for a hunting licence?", "quand ouvrent les ecoles ?"]


@pytest.mark.parametrize("question", QUESTIONS)
def test_a_question_reads_as_a_sentence_through_the_engine_too(both, question):
    """A short question (search.questions) ranks its any-word matches as a sentence on the engine as on the
    embedded index, not all-word matches first: the same first statement, and most of the first page (the
    engine does not match a French word's derived forms, search.sphinxql.RemoteStats.family)."""
    remote, embedded = both
    mine = [statement_of(embedded, h) for h in embedded.search(question, limit=10).to_dict()["results"]]
    theirs = [statement_of(remote, h) for h in remote.search(question, limit=10).to_dict()["results"]]
    assert mine, question
    assert theirs[0] == mine[0]
    assert len(set(mine) & set(theirs)) >= 0.7 * len(mine)
