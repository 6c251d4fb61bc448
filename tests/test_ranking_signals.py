"""The known-item ranking signals (search.ranking, issue 14), each on real statements: Yukon pages (grizzly
bear plans, an English page with a French paragraph, the first 2020 releases) and every vie-publique one."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from whoosh import query as wq

from corpus.statement import Statement
from indexer.analysis import fold
from search import Searcher, language, questions, ranking
from search.matching import FastMatcher
from search.query import analyse_query, is_stopword
from search.questions import is_question
from tests.indexes import index_statements

SHARED = Path(__file__).resolve().parents[2] / "shared"
YUKON = SHARED / "corpus" / "yukon"
VIE_PUBLIQUE = SHARED / "corpus" / "vie-publique" / "statements.jsonl"
PAGES = ("2018/18-176.html", "2019/19-233.html", "2021/21-412.html", "2018/18-191.html")

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not (YUKON.is_dir() and VIE_PUBLIQUE.is_file()),
                                                   reason="../shared is missing")]


@pytest.fixture(scope="module")
def statements():
    from corpus.inputs import read_paths
    files = [YUKON / lang / page for lang in ("en", "fr") for page in PAGES]
    for lang in ("en", "fr"):
        files += sorted((YUKON / lang / "2020").glob("*.html"))[:60]
    return [x for x in read_paths([*files, VIE_PUBLIQUE]) if isinstance(x, Statement)]


@pytest.fixture(scope="module")
def index_dir(statements, tmp_path_factory):
    return index_statements(statements, tmp_path_factory.mktemp("signals") / "index")


@pytest.fixture(scope="module")
def searcher(index_dir):
    with Searcher(index_dir) as s:
        yield s


def _ids(res) -> list[str]:
    return [h["id"] for h in res.hits]


def _words(text: str) -> list[str]:
    return [fold(w) for w in re.findall(r"\w+", text) if len(w) > 2 and not is_stopword(w)]


def test_an_exact_title_ranks_above_a_longer_one(searcher, statements):
    query = "grizzly bear conservation plan released"
    longer = [s for s in statements if query in s.title.lower() and s.title.lower() != query]
    assert longer, "the draft's longer title is in the corpus"
    top = searcher.search(query).hits[0]
    assert top["title"].lower() == query


def test_a_speaker_named_in_the_title_comes_first(searcher, statements):
    named = {s.id for s in statements if "Castex" in s.title}
    assert len(named) >= 3
    hits = searcher.search("Castex").hits
    first = hits[:min(len(named), len(hits))]
    assert all("Castex" in h["title"] for h in first), [h["title"][:60] for h in first]


def test_a_french_word_in_an_english_page_does_not_look_rare(searcher, statements):
    english = [s for s in statements if s.lang == "en" and "économie" in s.body]
    assert english, "an English page quoting French is in the corpus"
    for query in ("l'économie", "ministre de la Santé"):
        res = searcher.search(query)
        assert res.hits[0]["lang"] == "fr", (query, res.hits[0]["title"])
        assert not {s.id for s in english} & set(_ids(res)[:3]), query


def test_pooled_idf_is_the_same_in_every_language_field(searcher):
    word = "économie"
    signals = ranking.Signals.make([word], {}, searcher.stats)
    matcher = searcher.numpy_matcher()
    pooled = {lang: signals.idf_of(matcher, f"body_{lang}", t)
              for lang in ("fr", "en") for _, t in analyse_query(word, lang)}
    assert pooled["fr"] == pytest.approx(pooled["en"])
    (_, t_en), = analyse_query(word, "en")
    assert pooled["en"] < matcher.idf("body_en", t_en)  # rare among English pages, common overall


def test_statements_with_every_word_come_first(searcher, statements):
    """4-5 words of a title: the statements containing them all (an explicit AND) rank above the others."""
    checked = 0
    for st in statements:
        words = list(dict.fromkeys(_words(st.title)))
        if len(words) < 6 or searcher.statement(st.id).get("duplicate_of"):
            continue  # an exact duplicate's text is indexed once, under the title of the statement kept
        query = " ".join(words[1:6] if len(words) > 6 else words[1:5])
        res = searcher.search(query)
        if res.mode != "any":
            continue
        explicit = searcher.search(" AND ".join(query.split()), limit=50)
        every = set(_ids(explicit))
        # one hit a statement: the title's statement may be shown as its other-language version, or be
        # folded into a duplicate published elsewhere
        versions = every | {x["id"] for h in explicit.hits for x in h["translations"] + h["duplicates"]}
        assert every and st.id in versions
        head = _ids(res)[:len(every)]
        assert set(head) == every, (query, head, every)
        checked += 1
    assert checked >= 5


def test_month_and_year_names_are_soft_date_signals(index_dir, monkeypatch):
    def dated(query: str, prefix: str) -> int:
        with Searcher(index_dir) as s:
            return sum(h["date"].startswith(prefix) for h in s.search(query).hits[:5])

    cases = [("yukon january", "2020-01"), ("health january", "2020-01"), ("bear plan 2018", "2018")]
    with_dates = [dated(q, p) for q, p in cases]
    monkeypatch.setitem(ranking.KEYWORD_WEIGHTS, "date", 0.0)
    monkeypatch.setitem(ranking.QUESTION_WEIGHTS, "date", 0.0)
    without = [dated(q, p) for q, p in cases]
    assert all(a >= b for a, b in zip(with_dates, without, strict=True)), (with_dates, without)
    assert sum(with_dates) > sum(without), (with_dates, without)


def test_date_words():
    assert ranking.date_words(["situation", "marche", "travail", "juillet"]) == (frozenset({7}), frozenset())
    assert ranking.date_words(["budget", "2021"]) == (frozenset(), frozenset({2021}))
    assert ranking.date_words(["April", "covid", "Août", "fevrier"]) == (frozenset({4, 8, 2}), frozenset())
    assert ranking.date_words(["dec", "oct", "1200", "20215"]) == (frozenset(), frozenset())


def test_both_matchers_give_the_same_order(index_dir):
    queries = ["grizzly bear conservation plan released", "Castex", "confinement Castex", "l'économie",
               "ministre de la Santé", "health january", "bear plan 2018", "covid update march",
               "plan de conservation du grizzli", "Premier ministre Castex confinement annonce"]
    with Searcher(index_dir) as fast, Searcher(index_dir, fast=False) as slow:
        for q in queries:
            a, b = fast.search(q), slow.search(q)
            assert _ids(a) == _ids(b), q
            assert [h["score"] for h in a.hits] == pytest.approx([h["score"] for h in b.hits], abs=2e-4), q
        assert isinstance(fast._numpy, FastMatcher)  # the numpy matcher did answer


def test_a_question_is_told_from_a_keyword_lookup(searcher):
    """Only a long query with stopwords (a question) keeps BM25 over any word; keywords: all words first."""
    from search.options import SearchOptions

    asked = "Quelles sont les mesures du plan de conservation du grizzli"
    question = searcher._plan(SearchOptions.make(asked))
    keywords = searcher._plan(SearchOptions.make("mesures plan conservation grizzli"))
    assert question.compiled.stopwords > 0 and question.long_query and question.signals.sentence
    assert keywords.compiled.stopwords == 0 and not keywords.long_query and not keywords.signals.sentence


SPF = SHARED / "eval" / "spf"


@pytest.fixture(scope="module")
def spf_tune():
    """The service-public questions of bench.knownitem's tune half, and the collection's 3,656 pages (the
    real pages, through the ingester)."""
    from bench.knownitem import half
    from bench.relevance import load_eval
    from corpus.inputs import read_paths

    if not (SPF / "docs.jsonl").is_file():
        pytest.skip("../shared/eval/spf is missing")
    queries, qrels = load_eval(SPF)
    tune = {q: (queries[q], rel) for q, rel in qrels.items() if q in queries and half(q) == "tune"}
    return tune, [x for x in read_paths([SPF / "docs.jsonl"]) if isinstance(x, Statement)]


@pytest.fixture(scope="module")
def spf_index(spf_tune, tmp_path_factory):
    return index_statements(spf_tune[1], tmp_path_factory.mktemp("spf") / "index")


def _spf_mrr(index_dir: Path, tune: dict) -> float:
    total = 0.0
    with Searcher(index_dir) as s:
        for text, rel in tune.values():
            ids = _ids(s.search(text, limit=10))
            total += next((1 / r for r, i in enumerate(ids, 1) if i in rel), 0.0)
    return total / len(tune)


def test_query_words_in_the_opening_lines_lift_the_page_that_opens_on_them(spf_tune, spf_index, monkeypatch):
    """The lead signal: a page whose first LEAD_WINDOW words hold the question's words is the one that is
    about them; on the service-public questions (tune half) it raises MRR@10."""
    tune, index_dir = spf_tune[0], spf_index
    with_lead = _spf_mrr(index_dir, tune)
    monkeypatch.setitem(ranking.QUESTION_WEIGHTS, "lead", 0.0)
    monkeypatch.setitem(ranking.KEYWORD_WEIGHTS, "lead", 0.0)
    without = _spf_mrr(index_dir, tune)
    assert with_lead > without + 0.005, (with_lead, without)


def test_a_page_naming_the_questions_subject_in_its_first_words_comes_first(spf_tune, spf_index, monkeypatch):
    """The opening signal: a page about something names it in its very first words ("La franchise est la
    somme ..."); a question's words first met near the body's start lift the page: MRR@10 of the
    service-public questions (tune half) is lower without it."""
    tune = spf_tune[0]
    with_opening = _spf_mrr(spf_index, tune)
    monkeypatch.setitem(ranking.QUESTION_WEIGHTS, "opening", 0.0)
    assert with_opening > _spf_mrr(spf_index, tune) + 0.005


def test_questions_are_told_by_their_question_mark_or_first_word():
    assert is_question("Peut-on avoir deux passeports ?") and is_question("comment immatriculer un tracteur")
    assert is_question("Qu'est-ce qu'un emploi franc") and is_question("how to renew a passport")
    assert not is_question("plan conservation grizzli") and not is_question("Castex confinement")
    assert not is_question("WHO pandemic declaration") and is_question("who declared the pandemic")


def test_a_questions_inverted_verb_is_not_required(spf_tune, spf_index, monkeypatch):
    """"Peut-on conduire en France avec un permis étranger ?": the question conjugates its verb for itself
    ("peut-on", "doit-il"), the answer says "vous pouvez". The inverted verb is scored, not required: the
    page that answers (without "peut") is found and comes first, and the tune half's MRR@10 is higher."""
    from search.options import SearchOptions

    asked = "Peut-on conduire en France avec un permis étranger ?"
    qid = next(q for q, (text, _) in spf_tune[0].items() if text.replace("\xa0", " ") == asked)
    answer = spf_tune[0][qid][1]
    with Searcher(spf_index) as s:
        must = s._plan(SearchOptions.make(asked)).compiled.must_query
        assert isinstance(must, wq.AndMaybe) and "peut" not in str(must.a) and "peut" in str(must.b)
        assert _ids(s.search(asked, limit=10))[0] in answer
        assert "peut" in str(s._plan(SearchOptions.make("peut conduire permis")).compiled.must_query)
    assert questions.is_inversion("a-t-on") and questions.is_inversion("sont-elles")
    assert not questions.is_inversion("porte-parole") and not questions.is_inversion("peut")
    with_it = _spf_mrr(spf_index, spf_tune[0])
    monkeypatch.setattr(ranking, "is_inversion", lambda word: False)
    assert with_it > _spf_mrr(spf_index, spf_tune[0])


def test_elles_is_a_stopword_as_elle_and_ils_are(spf_tune, spf_index):
    """"Les allocations familiales sont-elles saisissables ?": Snowball's list stops "elle" and "ils" but
    not "elles", which left a rare-looking term "elle" in every "sont-elles" question."""
    from search.options import SearchOptions

    assert is_stopword("elles") and is_stopword("Elles")
    asked = "Les allocations familiales sont-elles saisissables ?"
    with Searcher(spf_index) as s:
        words = s._plan(SearchOptions.make(asked)).signals.words
        assert [w["fr"] for w in words] == [("allocation",), ("familial",), ("saisissabl",)]


def test_est_opens_a_question_only_before_its_subject():
    """"Est" is also east: a statement's title opening on it ("Est de ...", read from NSB) is a lookup, not
    a question; "est-ce", "est-il", "est ce que" are questions."""
    import gzip
    import json

    if not NSB.is_file():
        pytest.skip("../shared/corpus/nsb is missing")
    with gzip.open(NSB, "rt", encoding="utf-8") as f:
        titles = [t for t in (json.loads(line).get("title") or "" for line in f) if re.match(r"Est\b", t)]
    assert titles, "NSB has a statement whose title opens on Est"
    assert not any(is_question(t.replace("?", "")) for t in titles)
    assert not is_question("est ukraine sanctions")
    assert is_question("Est-ce que la franchise est obligatoire") and is_question("est ce que je peux partir")
    assert is_question("Est-il possible de changer de nom") and is_question("Est-on couvert à l'étranger")


def test_a_short_question_is_not_held_to_every_word(spf_tune, spf_index, monkeypatch):
    """A short question, or one without stopwords ("Peut-on avoir deux passeports ?"), ranks as a question,
    not as a lookup whose every word is required first: its frame words ("avoir", "règles", "consiste") are
    seldom in the page that answers it. On such service-public questions (tune half), MRR@10 is higher."""
    from search.query import compile_query

    def lookup_like(text: str) -> bool:  # what the length-and-stopwords rule alone takes for a lookup
        c = compile_query(text)
        return len(set(c.words)) <= questions.LONG_QUERY_WORDS or c.stopwords < questions.SENTENCE_STOPWORDS

    short = {q: (text, rel) for q, (text, rel) in spf_tune[0].items() if lookup_like(text)}
    assert len(short) >= 20
    asked = _spf_mrr(spf_index, short)
    monkeypatch.setattr(questions, "is_question", lambda query: False)
    assert asked > _spf_mrr(spf_index, short) + 0.01


def test_a_questions_verb_also_finds_the_pages_noun(spf_tune, spf_index, monkeypatch):
    """A question's French words also match their derived forms in the index, found through Snowball's
    stem ("immatriculer" -> "immatriculation"), at a discount: the service-public questions' MRR@10 (tune
    half) is higher than with the index's light stems alone, and a keyword lookup is left as typed."""
    from search.options import SearchOptions

    with Searcher(spf_index) as s:
        asked = s._plan(SearchOptions.make("Comment immatriculer un tracteur ?")).signals
        typed = s._plan(SearchOptions.make("immatriculer tracteur")).signals
        assert "immatriculation" in asked.forms_of("body_fr", "immatriculer")
        assert typed.forms_of("body_fr", "immatriculer") == ("immatriculer",)
    widened = _spf_mrr(spf_index, spf_tune[0])
    monkeypatch.setattr(ranking, "family", lambda term, expand_prefix, word="": ())
    assert widened > _spf_mrr(spf_index, spf_tune[0]) + 0.005


def test_a_questions_word_widens_by_the_stem_of_the_word_typed(spf_tune, spf_index, monkeypatch):
    """The index holds light stems ("assurance" -> "assuranc", "franchise" -> "franchis"), which Snowball
    reads as other words: the family comes from the typed word's stem ("assur": assurer, assurez), not the
    truncated term's ("assuranc": none; "franch": franchir, franchissement); a lexicon term belongs when
    it or its word (the final "e" back) has that stem ("assurer" finds "assuranc"); and an elided word is
    stemmed without its article ("s'installe"). The service-public questions' MRR@10 (tune half) is higher."""
    from search.options import SearchOptions

    def forms(s, query: str, word: str) -> tuple[str, ...]:
        term = analyse_query(word, "fr")[0][1]
        return s._plan(SearchOptions.make(query)).signals.forms_of("body_fr", term)

    with Searcher(spf_index) as s:
        asked = "Comment fonctionne la franchise d'assurance auto ?"
        assert {"assurer", "assurez"} <= set(forms(s, asked, "assurance"))
        assert not {"franchir", "franchissement"} & set(forms(s, asked, "franchise"))
        assert "installation" in forms(s, "Un étranger qui s'installe en France ?", "installe")
        assert not {"activation", "activement"} & set(forms(s, "Quelle activité déclarer ?", "activité"))
        assert "assuranc" in forms(s, "Comment assurer un véhicule ?", "assurer")  # "assurance" stems so
    typed = _spf_mrr(spf_index, spf_tune[0])
    monkeypatch.setattr(questions, "part_indexed_as", lambda word, term: term)
    assert typed > _spf_mrr(spf_index, spf_tune[0])


NSB = SHARED / "corpus" / "nsb" / "nsb.jsonl.gz"


@pytest.fixture(scope="module")
def nsb_lookups(tmp_path_factory):
    """The first 5,000 NSB statements (FR/EN), indexed, and bench.knownitem's keyword lookups of them (tune
    half): 3-5 words remembered from a title and a first sentence."""
    from itertools import islice

    from bench import knownitem as ki
    from corpus.inputs import read_paths

    if not NSB.is_file():
        pytest.skip("../shared/corpus/nsb is missing")
    statements = [x for x in islice(read_paths([NSB]), 5000) if isinstance(x, Statement)]
    docs = [ki.to_doc("nsb", x) for x in statements]
    rel = ki.relations(docs)
    lookups = [q for q in ki.make_lookups("nsb", docs, rel, n=300) if ki.half(q.qid) == "tune"]
    return index_statements(statements, tmp_path_factory.mktemp("nsb") / "index"), lookups, rel


def _lookup_mrr(index_dir: Path, lookups) -> float:
    total = 0.0
    with Searcher(index_dir) as s:
        for q in lookups:
            ids = _ids(s.search(q.text, limit=10))
            total += next((1 / r for r, i in enumerate(ids, 1) if i in q.relevant), 0.0)
    return total / len(lookups)


def test_a_keyword_lookup_weighs_the_title_above_bm25_over_long_bodies(nsb_lookups, monkeypatch):
    """Keyword lookups (no stopword): the title bonuses outweigh BM25 over long bodies; with the weights of
    questions' scale (title 1.5, share 0.3) the lookups' MRR@10 is lower."""
    index_dir, lookups, _ = nsb_lookups
    assert len(lookups) >= 100
    weighted = _lookup_mrr(index_dir, lookups)
    monkeypatch.setitem(ranking.KEYWORD_WEIGHTS, "title", 1.5)
    monkeypatch.setitem(ranking.KEYWORD_WEIGHTS, "title_share", 0.3)
    assert weighted > _lookup_mrr(index_dir, lookups) + 0.005


def test_a_lookups_words_in_the_title_and_first_sentence_lift_its_statement(nsb_lookups, monkeypatch):
    """The title-and-lead signal: a lookup's words come from a title and a first sentence, so a statement
    whose title and first LEAD_WIDE body words hold them all is the one remembered (among periodic releases
    of one title, the one whose opening holds the other words); without it the lookups' MRR@10 is lower."""
    index_dir, lookups, _ = nsb_lookups
    weighted = _lookup_mrr(index_dir, lookups)
    monkeypatch.setitem(ranking.KEYWORD_WEIGHTS, "title_lead", 0.0)
    assert weighted > _lookup_mrr(index_dir, lookups) + 0.005


def test_the_fit_replays_the_engines_order_and_climbs(nsb_lookups):
    """bench.fit replays the ranking offline from what it saw of each query: with the weights in
    search/ranking.py it gives the engine's own MRR@10 (one result per statement, the language preferred),
    and its coordinate ascent never ends below where it started."""
    from bench import fit

    index_dir, lookups, rel = nsb_lookups
    cases = fit.capture_queries(lookups, index_dir, rel)
    assert len(cases) == len(lookups)
    kept = 1.0 - language.LANG_PENALTY
    w, ws = ranking.weights(False), ranking.weights(True)
    replayed = fit.mrr(cases, w, ws, kept)
    assert replayed == pytest.approx(_lookup_mrr(index_dir, lookups), abs=0.01)
    start = fit.objective({"nsb": cases}, w, ws, kept)
    w2, ws2 = fit.ascend({"nsb": cases}, w.copy(), ws.copy(), kept, rounds=1)
    assert fit.objective({"nsb": cases}, w2, ws2, kept) >= start
    assert fit.mrr(cases, np.zeros_like(w), np.zeros_like(ws), kept) < replayed  # the weights matter
