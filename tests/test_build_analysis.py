"""A build analyses each distinct word once (indexer.analysis.index_positions, LangText's fast path): the
postings it gives must be exactly those of Whoosh's own path through the same chain, on real statements
of every language and on the words that the chain splits, elides, stops or keeps whole."""

from __future__ import annotations

import gzip
import itertools
from pathlib import Path

import pytest
from whoosh.fields import TEXT

from bench.common import NSB
from corpus import Statement, read_paths
from indexer import analysis
from indexer.schema import TEXT_LANGS, make_schema, text_lang

pytestmark = pytest.mark.skipif(not NSB.exists(), reason="needs ../shared/corpus/nsb")

TRICKY = ("L’économie d’Asie-Pacifique: qu’aujourd’hui COVID-19 l'État, Xi’an, Yukon’s parents’ "
          "jusqu’à de-la la-de l’ d’ 1er-janvier-2020 prud’hommes aujourd'hui — Ça-va‐bien ‑ ʼs e-mail "
          "A-B-C-D-E co-operation's ÉCOLE éCole ecole œuvre Straße naïve café's")


def nsb_texts(n: int, tmp_path: Path) -> list[tuple[str, str, str]]:
    """(field, text, statement language) of the titles and bodies of the first ``n`` NSB records, as the
    ingester gives them."""
    path = tmp_path / "nsb.jsonl"
    with gzip.open(NSB, "rb") as f:
        path.write_bytes(b"".join(itertools.islice(f, n)))
    out = []
    for st in read_paths([str(path)]):
        if isinstance(st, Statement):
            lang = text_lang(st.lang)
            out += [(f"title_{lang}", st.title, lang), (f"body_{lang}", st.body, lang)]
    return out


def whoosh_postings(field, text: str) -> list:
    return list(TEXT.index(field, text))  # Whoosh's own path: Positions.word_values over the chain


def test_the_fast_path_gives_whooshs_postings_on_real_statements(tmp_path: Path) -> None:
    schema = make_schema()
    texts = nsb_texts(400, tmp_path)
    assert {lang for _, _, lang in texts} >= {"fr", "en"}
    assert sum(len(t) for _, t, _ in texts) > 500_000
    for name, text, _lang in texts:
        field = schema[name]
        assert field._chain_lang() is not None
        assert field.index(text) == whoosh_postings(field, text), name


@pytest.mark.parametrize("lang", TEXT_LANGS)
def test_the_fast_path_on_compounds_elisions_and_stopwords(lang: str) -> None:
    schema = make_schema()
    for name in (f"title_{lang}", f"body_{lang}", "source_text"):
        field = schema[name]
        for text in (TRICKY, TRICKY.upper(), TRICKY * 3, "", "de la le", "l’ d’"):
            assert field.index(text) == whoosh_postings(field, text), (name, text)


def test_the_word_memo_is_bounded_and_starts_over(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(analysis, "WORD_CACHE", 5)
    monkeypatch.setattr(analysis, "_TERMS", {lang: {} for lang in analysis.LANGS})
    text = " ".join(nsb_texts(3, tmp_path)[1][1].split()[:200])
    expected = [(t.pos, t.text) for t in analysis.analyzer("fr")(text, positions=True)]
    poses = analysis.index_positions(text, "fr")
    assert len(analysis._TERMS["fr"]) <= 5
    assert sum(len(p) for p in poses.values()) == len(expected)
    assert sorted((p, t) for t, ps in poses.items() for p in ps) == sorted(expected)


def test_another_analyzer_takes_whooshs_path() -> None:
    from whoosh.analysis import StandardAnalyzer

    from indexer.schema import LangText

    field = LangText(analyzer=StandardAnalyzer(), phrase=True)
    assert field._chain_lang() is None
    assert list(field.index("The cats sat")) == whoosh_postings(field, "The cats sat")
