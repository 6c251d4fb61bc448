"""A presse query in SphinxQL (search.sphinxql.translate, _where): the engine's MATCH expression and the
filters, without a server."""

from __future__ import annotations

from search.options import SearchOptions
from search.query import compile_query
from search.sphinxql import translate, where_clause


def match(query: str, mode: str = "all") -> str | None:
    return translate(compile_query(query).tree, mode).match


def test_plain_words_all_then_any_stopwords_left_out():
    assert match("sécurité alimentaire") == "((@(title,body) sécurité) (@(title,body) alimentaire))"
    either = "(((@(title,body) sécurité) | (@(title,body) alimentaire)))"
    assert match("sécurité alimentaire", "any") == either
    assert match("la sécurité des aliments") == match("sécurité aliments")  # French stopwords not sent


def test_elision_ligatures_phrases_prefixes_fields_and_not():
    assert "@(title,body) économie)" in match("l'économie")  # the elided article dropped
    assert "oeuvre" in match("œuvre")  # a ligature unfolded by presse: charset_table cannot
    assert '"covid 19"' in match("covid-19")  # a hyphenated word: its parts, in order
    assert match('"conseil des ministres"') == '((@(title,body) "conseil des ministres"))'
    assert match("educ*") == "((@(title,body) educ*))"
    assert match("title:yukon") == "((@title yukon))"
    assert match("yukon -covid") == "((@(title,body) yukon) -(@(title,body) covid))"
    assert match("-covid") is None  # a NOT alone: the engine cannot compute it


def test_filters_of_the_query_and_the_options():
    tr = translate(compile_query("budget lang:fr date:2020").tree, "all")
    assert [f for f, _ in tr.filters] == ["lang", "date"]
    where, args = where_clause(SearchOptions.make("budget", source="Government of Yukon", until="2021"), tr)
    assert where.startswith("MATCH(%s) AND stub = 0 AND lang IN (%s)") and "day >= " in where
    assert args[0].endswith("(@source Government of Yukon)") and args[1] == "fr"


def test_candidates_text_analysed_as_the_embedded_index_holds_it():
    """search.sphinxql.analysed (word by word, cached) gives the very terms, positions and lengths of
    presse's analysis chain on real statements: titles and bodies, French and English, compounds, elision,
    stopwords."""
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
        n = 0
        for t in analyzer(lang)(text, positions=True):
            expected.setdefault(t.text, []).append(t.pos)
            n += 1
        assert analysed(text, lang) == (expected, n)
