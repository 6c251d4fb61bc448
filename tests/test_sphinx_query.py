"""A presse query in SphinxQL (search.sphinxql.translate, where_clause): the compiled query printed as the
engine's MATCH expression over presse's own terms, and the filters; a field's text as the engine indexes it
(indexer.sphinxql.engine_terms). Without a server."""

from __future__ import annotations

import pytest

from indexer.sphinxql import engine_terms
from search.options import SearchOptions
from search.query import compile_query
from search.sphinxql import EVERY, translate, where_clause


def match(query: str, mode: str = "all") -> str | None:
    compiled = compile_query(query)
    return translate(compiled.must_query if mode == "all" else compiled.any_query).match


def test_plain_words_all_then_any_stopwords_left_out():
    every = match("sécurité alimentaire")
    assert "(@title fr_securit)" in every and "(@body en_securit)" in every and "(@body xx_securite)" in every
    assert every.count(" | ") == 10 and match("sécurité alimentaire", "any").count(" | ") == 11  # AND; OR
    assert match("la sécurité des aliments") == match("sécurité aliments")  # French stopwords not sent


def test_elision_compounds_phrases_prefixes_fields_and_not():
    assert "(@body fr_economi)" in match("l'économie")  # the elided article dropped, presse's own stem
    assert "(@body fr_oeuvr)" in match("œuvre")  # ligature folded by presse
    assert '(@body "fr_covid fr_19")' in match("covid-19")  # a hyphenated word: its parts, in order
    assert '(@title "fr_conseil fr_ministr")' in match('"conseil des ministres"')
    assert "(@title fr_educ*)" in match("educ*") and "(@body xx_educ*)" in match("educ*")
    assert "@body" not in match("title:yukon")
    assert " -((@title fr_covid)" in match("yukon -covid")
    assert match("-covid").startswith(f"({EVERY} -(")  # a NOT alone: every row, less the word


def test_filters_of_the_query_and_the_options():
    tr = translate(compile_query("budget lang:fr date:2020").must_query)
    assert [f for f, _ in tr.filters] == ["lang", "date"]
    where, args = where_clause(SearchOptions.make("budget", source="Government of Yukon", until="2021"), tr)
    assert where.startswith("MATCH(%s) AND stub = 0 AND lang IN (%s)") and "day >= " in where
    assert args[0].endswith("(@source government of yukon)") and args[1] == "fr"
    where, args = where_clause(SearchOptions.make("", not_source=["Yukon"]), translate(None))
    assert args == [f"{EVERY} -(@source yukon)"]  # a source left out without words: from every row


@pytest.mark.parametrize("text, lang, terms", [
    ("L'économie d'Asie-Pacifique et le COVID-19", "fr",
     "fr_economi fr_asie fr_pacifiqu fr_covid fr_19 fr_asiepacifiqu fr_covid19"),
    ("Yukon's housing ½", "en", "en_yukon en_hous en_12"),
])
def test_a_field_is_sent_as_presse_s_terms_compound_wholes_last(text, lang, terms):
    """The engine holds presse's own terms, tagged with their language; a compound's whole (at its first
    part's position in the embedded index) after the others, so that phrases keep their positions."""
    sent, length = engine_terms(text, lang)
    assert sent == terms and length == len(terms.split())


def test_candidates_text_analysed_as_the_embedded_index_holds_it():
    """search.sphinxql.analysed (word by word, cached, positions by a running sum) gives the very terms and
    positions of presse's analysis chain on real statements, all of them or those asked for: titles and
    bodies, French and English, compounds, elision, stopwords."""
    import json
    import re

    from indexer.analysis import analyzer
    from search.sphinxql import analysed
    from tests.corpora import SAMPLE

    texts = []
    for line in (SAMPLE / "vie-publique.jsonl").read_text(encoding="utf-8").splitlines()[:40]:
        record = json.loads(line)
        texts += [(record["title"], "fr"), (re.sub(r"<[^>]+>", " ", record["html"]), "fr")]
    texts += [(re.sub(r"<[^>]+>", " ", p.read_text(encoding="utf-8", errors="replace")), "en")
              for p in sorted((SAMPLE / "yukon" / "en").rglob("*"))[:20] if p.is_file()]
    assert len(texts) > 60
    for text, lang in texts * 2:  # twice: the cached words too
        expected: dict[str, list[int]] = {}
        for t in analyzer(lang)(text, positions=True):
            expected.setdefault(t.text, []).append(t.pos)
        assert analysed(text, lang) == expected
        some = frozenset(sorted(expected)[::7])  # a few of its terms, compounds' parts and wholes among them
        assert analysed(text, lang, some) == {t: p for t, p in expected.items() if t in some}
