import copy
import json
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.snippets import Snippeter, plain

BODY = ("La coopération entre les régions progresse.\n\n" + "Texte neutre sans intérêt. " * 20 +
        "Les coopérations économiques d’Asie-Pacifique <b>gras</b> & co.")


def test_marks_inflected_and_accented_forms():
    s = Snippeter(size=120)
    html = s.snippet(BODY, "", "fr", frozenset({"cooperation", "economiqu"}), ())
    assert "<mark>coopérations</mark>" in html and "<mark>économiques</mark>" in html
    assert "<mark>coopération</mark>" in s.snippet(BODY[:60], "", "fr", frozenset({"cooperation"}))
    assert "<b>" not in html and "&lt;b&gt;" in html


def test_fragments_cut_at_word_boundaries_and_limited():
    s = Snippeter(size=80, max_fragments=3)
    frags = s.fragments(BODY, "fr", frozenset({"cooperation", "economiqu", "asi"}))
    assert 1 <= len(frags) <= 3
    for f in frags:
        text = plain(f).strip("… ")
        assert len(text) <= 90


def test_title_then_lead_when_body_does_not_match():
    s = Snippeter()
    title = s.snippet("rien ici", "Coopération", "fr", frozenset({"cooperation"}))
    assert title == "<mark>Coopération</mark>"
    assert s.snippet("rien <ici>", "titre", "fr", frozenset({"zzz"})) == "rien &lt;ici&gt;"


def test_snippet_is_spans_with_its_html_as_the_string():
    """A snippet is a structure (spans of text, matched or not); its string value is the HTML of the JSON
    field ``snippet``, and ``plain`` reads the spans, not the HTML back."""
    from search.snippets import Span, html

    snip = Snippeter(size=120).snippet(BODY[-70:], "", "fr", frozenset({"economiqu"}))
    assert Span("économiques", True) in snip.spans
    assert all(not s.matched for s in snip.spans if s.text != "économiques")
    assert snip == html(snip.spans) and "&lt;b&gt;gras&lt;/b&gt; &amp; co." in snip
    assert plain(snip).endswith("<b>gras</b> & co.")
    assert json.loads(json.dumps({"snippet": snip})) == {"snippet": str(snip)}
    assert copy.deepcopy(snip).spans == snip.spans and pickle.loads(pickle.dumps(snip)).spans == snip.spans


@pytest.mark.parametrize("text,lang,terms,marked", [
    ("Les coopérations d’Asie-Pacifique", "fr", {"asie"}, ["Asie"]),  # a part of a compound
    ("Le virus COVID-19 recule", "fr", {"covid19"}, ["COVID-19"]),  # the whole: marked once, not its parts
    ("Le virus COVID-19 recule", "fr", {"covid", "19"}, ["COVID", "19"]),
    ("l’État et l’économie", "fr", {"etat"}, ["État"]),  # the elided article is not marked
    ("Yukon’s premier", "en", {"yukon"}, ["Yukon"]),  # nor the possessive
    ("aujourd’hui encore", "fr", {"aujourdhui"}, ["aujourd’hui"]),
])
def test_marked_spans_are_the_analyzer_token_offsets(text, lang, terms, marked):
    from indexer.analysis import analyzer

    snip = Snippeter().snippet(text, "", lang, frozenset(terms))
    assert [s.text for s in snip.spans if s.matched] == marked
    offsets = {text[t.startchar:t.endchar] for t in analyzer(lang)(text, chars=True) if t.text in terms}
    assert set(marked) <= offsets


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["coopération", "l’État", "COVID-19", "d’Asie-Pacifique", "<b>", "&amp;",
                                 "économiques", "\n\n", "  ", "x" * 30, "Yukon’s", "\x1b[2J", "é"]),
                max_size=60))
def test_html_and_plain_are_two_formats_of_the_same_spans(words):
    """Whatever the body, unescaping the HTML form and dropping its marks gives the plain form."""
    import html as std_html

    body = " ".join(words)
    s = Snippeter(size=60)
    snip = s.snippet(body, "", "fr", frozenset({"cooperation", "etat", "asie", "economi"}), ("covid",))
    text = std_html.unescape(str(snip).replace("<mark>", "").replace("</mark>", ""))
    assert text == plain(snip)
    assert str(snip).count("<mark>") == sum(1 for sp in snip.spans if sp.matched)


def test_word_at_a_time_tokens_are_the_analyzer_tokens_on_real_pages():
    """Snippets read a body a word at a time, each word's tokens cached: the same (start, end, term) as the
    analysis chain run over the whole text, on real French and English pages (compounds, elisions,
    possessives, stopwords)."""
    from corpus.inputs import read_paths
    from corpus.statement import Statement
    from indexer.analysis import analyzer
    from search.snippets import tokens
    from tests.corpora import SHARED

    yukon = SHARED / "corpus" / "yukon"
    if not yukon.is_dir():
        pytest.skip("../shared/corpus/yukon is missing")
    files = [f for lang in ("en", "fr") for f in sorted((yukon / lang / "2020").glob("*.html"))[:15]]
    statements = [x for x in read_paths(files) if isinstance(x, Statement)]
    assert {s.lang for s in statements} == {"en", "fr"}
    for st_ in statements:
        for lang in ("fr", "en", "xx"):
            text = st_.title + "\n" + st_.body
            whole = [(t.startchar, t.endchar, t.text) for t in analyzer(lang)(text, chars=True)]
            assert list(tokens(text, lang)) == whole, (st_.id, lang)


@pytest.mark.slow
def test_only_words_that_may_match_are_analysed_and_none_is_missed():
    """The snippet's shortcut (search.snippets._may_give): the tokens of a word of ASCII letters and digits
    all start with its first letter, in every language's chain, on real statements; a plain word that cannot
    give a query term is not learnt; and a query's marks are those of a scan of every token."""
    from corpus import Statement, read_paths
    from indexer.analysis import WORD, analyzer
    from search import snippets
    from tests.corpora import SHARED

    yukon = SHARED / "corpus" / "yukon"
    if not yukon.is_dir():
        pytest.skip("../shared/corpus/yukon is missing")
    files = [f for lang in ("en", "fr") for f in sorted((yukon / lang / "2021").glob("*.html"))[:20]]
    statements = [x for x in read_paths(files) if isinstance(x, Statement)]
    words = {w for st_ in statements for w in WORD.findall(st_.title + "\n" + st_.body)}
    plain_words = [w for w in words if w.isascii() and w.isalnum()]
    assert len(plain_words) > 1000
    for lang in ("fr", "en", "xx"):
        for w in plain_words:
            assert all(t.text[:1] == w[0].lower() for t in analyzer(lang)(w)), (w, lang)
    vocabulary = snippets._Vocabulary()  # a fresh one: a query of "z…" terms learns no plain "b…" word
    text = "\n".join(st_.body for st_ in statements)
    vocabulary.words_giving(set(WORD.findall(text)), "en", frozenset({"zone"}), ())
    learnt = vocabulary.seen["en"]
    assert learnt and all(not (w.isascii() and w.isalnum()) or w[0].lower() == "z" for w in learnt)
    assert any(w.startswith(("b", "B")) for w in WORD.findall(text))
    for st_ in statements[:20]:  # the marks of a scan of every token, for several sets of query terms
        lang = st_.lang
        terms = sorted({t.text for t in analyzer(lang)(st_.body)})
        for some in (frozenset(terms), frozenset(terms[::7]), frozenset(terms[3::11])):
            assert snippets._matches(st_.body, lang, some, ()) == _scan(st_.body, lang, some), st_.id


def _scan(text: str, lang: str, terms: frozenset) -> list[tuple[int, int, str]]:
    """The reference: every token of the chain read in turn; a compound whose whole matched is marked whole,
    else its matching parts (the whole of a compound is its word's first token)."""
    from indexer.analysis import WORD, analyzer

    out = []
    for m in WORD.finditer(text):
        toks = [(m.start() + t.startchar, m.start() + t.endchar, t.text)
                for t in analyzer(lang)(m.group(), chars=True)]
        if toks and toks[0][2] in terms:
            out.append(toks[0])
        elif toks:
            out.extend(t for t in toks[1:] if t[2] in terms)
    return out
