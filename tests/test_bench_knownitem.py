"""The known-item benchmark's generator and metrics (bench/knownitem.py), on real Yukon pages."""

from __future__ import annotations

import pytest

from bench import knownitem as ki
from tests.corpora import SHARED

YUKON = SHARED / "corpus" / "yukon"
pytestmark = pytest.mark.skipif(not (YUKON / "en" / "2018").is_dir(), reason="../shared/corpus/yukon missing")


@pytest.fixture(scope="module")
def docs() -> list[ki.Doc]:
    """The first 40 pages of 2018 in English and the same pages in French, through the ingester."""
    from corpus import Statement, read_paths

    names = sorted(p.name for p in (YUKON / "en" / "2018").glob("*.html"))[:40]
    paths = [YUKON / lang / "2018" / n for lang in ("en", "fr") for n in names]
    out = [ki.to_doc("yukon", x) for x in read_paths(paths) if isinstance(x, Statement)]
    return sorted(out, key=lambda d: d.id)


def words_of(text: str) -> set[str]:
    return set(ki.WORD.findall(ki.fold(text)))


def test_lookups_are_deterministic_and_seeded(docs):
    rel = ki.relations(docs)
    a = ki.make_lookups("yukon", docs, rel, n=30)
    b = ki.make_lookups("yukon", docs, rel, n=30)
    assert [(q.qid, q.text, q.target) for q in a] == [(q.qid, q.text, q.target) for q in b]
    c = ki.make_lookups("yukon", docs, rel, n=30, seed=ki.SEED + 1)
    assert [q.text for q in a] != [q.text for q in c]
    assert ki.with_typos(a) == ki.with_typos(b)


def test_lookups_are_words_of_their_target(docs):
    rel = ki.relations(docs)
    by_id = {d.id: d for d in docs}
    queries = ki.make_lookups("yukon", docs, rel, n=40)
    assert len(queries) == 40
    for q in queries:
        target = by_id[q.target]
        words = q.text.split()
        assert 3 <= len(words) <= 5, q.text
        remembered = words_of(target.title + " " + target.lead)
        assert {ki.fold(w) for w in words} <= remembered, (q.text, target.title)
        assert not {ki.fold(w) for w in words} & ki.STOPWORDS
        assert q.lang == target.lang and q.target in q.relevant
        # the other-language page is the same file name under the other language's folder
        assert q.translation is not None and q.translation in q.relevant
        assert by_id[q.translation].lang != q.lang and by_id[q.translation].pair == target.pair
    assert any(q.text == ki.fold(q.text) for q in queries) and any(q.text != ki.fold(q.text) for q in queries)


def test_first_sentence_skips_the_dateline(docs):
    """Yukon pages open with "Published May 3, 2021" / "Publié le 3 mai 2021" (unless the ingester drops
    it): nobody remembers that, so the first sentence is the one after it."""
    for d in docs:
        lead = d.lead.removeprefix(d.lead.split("\n", 1)[0]) if d.lead.startswith("Publi") else d.lead
        sentence = ki.first_sentence(lead)
        assert sentence and sentence in lead and not sentence.startswith("Publi")
        dated = ("Published " if d.lang == "en" else "Publié le ") + d.date + "\n\n" + lead
        assert ki.first_sentence(dated) == sentence


def test_typos_are_one_edit_in_one_long_word(docs):
    queries = ki.make_lookups("yukon", docs, ki.relations(docs), n=40)
    typos = ki.with_typos(queries)
    assert typos
    base = {q.qid: q for q in queries}
    for t in typos:
        q = base[t.qid.removesuffix("-typo")]
        assert t.base == q.text and t.relevant == q.relevant and ki.half(t.qid) == ki.half(q.qid)
        changed = [(a, b) for a, b in zip(q.text.split(), t.text.split(), strict=True) if a != b]
        assert len(changed) == 1
        a, b = changed[0]
        assert len(a) >= 5 and a[0] == b[0] and edit_distance(a, b) == 1, (a, b)


def edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


def test_metrics_on_a_hand_made_ranking():
    q = [ki.Query("q1", "a", "A", "en", ["A", "Af"], "Af"),
         ki.Query("q2", "b", "B", "fr", ["B", "Be"], "Be"),
         ki.Query("q3", "c", "C", "en", ["C"], None),
         ki.Query("q4", "d", "D", "en", ["D"], None)]
    lang = {"A": "en", "Af": "fr", "B": "fr", "Be": "en", "C": "en", "D": "en", "X": "en"}
    trans = {"A": {"Af"}, "Af": {"A"}, "B": {"Be"}, "Be": {"B"}}
    ranked = {"q1": ["Af", "A", "X"],  # the translation first: relevant, wrong language; a pair in two slots
              "q2": ["B", "X"],  # rank 1, right language
              "q3": ["X"] * 9 + ["C"],  # rank 10
              "q4": ["X"] * 10 + ["D"]}  # rank 11: a miss
    m = ki.metrics(q, ranked, lang, trans)
    assert m["mrr@10"] == pytest.approx((1 + 1 + 0.1 + 0) / 4)
    assert m["success@1"] == pytest.approx(0.5)
    assert m["success@10"] == pytest.approx(0.75)
    assert m["right_lang@1"] == pytest.approx(0.5)  # of two lookups answered at rank 1, one in its language
    assert m["pairs_two_slots"] == pytest.approx(0.25)
    typos = [ki.Query("q1-typo", "x", "A", "en", ["A"], None),
             ki.Query("q2-typo", "y", "B", "fr", ["B"], None)]
    assert ki.same_top(typos, {"q1-typo": ["Af"], "q2-typo": ["X"]}, ranked) == pytest.approx(0.5)


def test_halves_split_the_query_ids():
    ids = [f"nsb-{i:04d}" for i in range(600)]
    halves = [ki.half(i) for i in ids]
    assert halves == [ki.half(i) for i in ids] and set(halves) == {"tune", "test"}
    assert 200 < halves.count("tune") < 400


def test_compare_lists_the_queries_that_moved():
    out = ki.compare({"a": 1, "b": None, "c": 3, "d": 2}, {"a": 2, "b": 1, "c": 3},
                     {"a": "alpha", "b": "beta", "c": "gamma", "d": "delta"})
    assert "1 better, 1 worse, 1 unchanged of 3" in out
    assert "worse: b 'beta' rank 1 -> None" in out and "better: a 'alpha' rank 2 -> 1" in out


def test_quality_targets_judge_the_test_half():
    from bench.quality import targets

    def engines(presse: dict, fts_and: float, fts_or: float) -> dict:
        return {"presse": presse, "FTS5 AND": {"mrr@10": fts_and}, "FTS5 OR": {"mrr@10": fts_or}}

    good = {"mrr@10": 0.9, "pairs_two_slots": 0.0, "right_lang@1": 0.995, "same_top@1": 0.95}
    data = {"spf/lookups": {"test": engines({"mrr@10": 0.86}, 0.1, 0.8)},
            "nsb/lookups": {"test": engines(good, 0.8, 0.91)},  # FTS5 OR ahead: not met
            "nsb/typos": {"test": engines(good, 0, 0.6)},
            "yukon/lookups": {"test": engines({**good, "pairs_two_slots": 0.01}, 0.8, 0.7)},
            "yukon/typos": {"test": engines({**good, "same_top@1": 0.89}, 0, 0.6)}}
    met = {row[0]: row[3] for row in targets(data, quick=False).rows}
    assert met == {"SPF MRR@10": "yes",
                   "nsb known-item MRR@10": "NO", "nsb pairs in two slots": "yes",
                   "nsb right language at rank 1": "yes", "nsb one-edit typo: same top result": "yes",
                   "yukon known-item MRR@10": "yes", "yukon pairs in two slots": "NO",
                   "yukon right language at rank 1": "yes", "yukon one-edit typo: same top result": "NO"}
