"""Related statements: the most similar ones in either language (through the translation), a similarity
score in 0..1, and a total that is the number returned. On real Yukon EN/FR pairs."""

from __future__ import annotations

import json

from click.testing import CliRunner

from tests.bilingual_corpus import fixtures

index_dir, searcher = fixtures("related")


def statement_key(hit: dict) -> frozenset[str]:
    """A statement whichever version is shown: its id and its translation's."""
    return frozenset({hit["id"], *(t["id"] for t in hit["translations"])})


def a_pair(searcher) -> tuple[str, str]:
    hit = searcher.search("grizzly bear", lang="en").hits[0]
    return hit["id"], hit["translations"][0]["id"]


def test_related_in_either_language_finds_the_same_statements(searcher):
    en, fr = a_pair(searcher)
    from_en, from_fr = searcher.related(en, limit=5), searcher.related(fr, limit=5)
    assert from_en.hits and all(h["lang"] == "en" for h in from_en.hits if h["translations"])
    assert all(h["lang"] == "fr" for h in from_fr.hits if h["translations"])
    # Both versions' key terms, each in its own language: the same statements, the same similarities.
    assert [statement_key(h) for h in from_en.hits] == [statement_key(h) for h in from_fr.hits]
    assert [h["score"] for h in from_en.hits] == [h["score"] for h in from_fr.hits]
    # Some were found through their other version: the French one's terms matched a French text.
    assert {h["matched_in"] for h in from_en.hits} == {"en", "fr"}
    shown = set().union(*(statement_key(h) for h in from_en.hits))
    assert en not in shown and fr not in shown


def test_scores_are_similarities_and_total_is_what_is_returned(searcher):
    en, _ = a_pair(searcher)
    res = searcher.related(en, limit=4)
    scores = [h["score"] for h in res.hits]
    assert scores == sorted(scores, reverse=True) and all(0.0 < s <= 1.0 for s in scores)
    assert res.total == len(res.hits) <= 4 and res.pages == 1
    assert sum(res.facets["lang"].values()) == res.total
    big = searcher.related(en, limit=1000)
    assert big.total == len(big.hits) < searcher.doc_count / 2  # not "every statement matches"
    assert all(s >= 0.1 for s in (h["score"] for h in big.hits))


def test_a_statement_in_one_language_only(searcher):
    alone = next(h for h in searcher.search("caribou", limit=100).hits if not h["translations"])
    res = searcher.related(alone["id"], limit=5)
    assert res.hits and all(0.0 < h["score"] <= 1.0 for h in res.hits)
    assert alone["id"] not in {h["id"] for h in res.hits}


def test_cli_related_says_how_many_and_the_similarity(index_dir, searcher):
    from cli import main

    en, _ = a_pair(searcher)
    runner = CliRunner()
    out = runner.invoke(main, ["related", en, "--index", str(index_dir), "--limit", "3"])
    assert out.exit_code == 0, out.output
    n = searcher.related(en, limit=3).total
    assert f"{n} similar statement" in out.output and "statements match" not in out.output
    assert "similarity 0." in out.output or "similarity 1.00" in out.output
    data = json.loads(runner.invoke(main, ["related", en, "--index", str(index_dir), "--json"]).output)
    assert data["total"] == len(data["results"]) and data["mode"] == "related" and data["source_id"] == en
