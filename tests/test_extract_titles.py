"""Titles and the lines around them on news and blog templates (issue 18): the site's name and a kicker are
not the statement's title, the headline is not its first body line, a wire byline is a credit. Checked on real
pages of ../shared/eval/article-extraction (all "tune" pages) against their expected text."""

from __future__ import annotations

import lxml.html
import pytest

from bench.extraction import token_prf
from corpus.extract import COMMENT_POLICY
from corpus.furniture import WIRE_BYLINE
from tests.test_extract_articles import ARTICLES, _page, _statement

pytestmark = pytest.mark.skipif(not ARTICLES.is_dir(), reason="../shared/eval/article-extraction is missing")


def _meta(html: bytes, key: str) -> str:
    doc = lxml.html.fromstring(html.decode("utf-8", "replace"))
    values = doc.xpath(f'//meta[@property="{key}" or @name="{key}"]/@content')
    return " ".join(values[0].split()) if values else ""


@pytest.mark.parametrize("prefix", ["ac3c0355", "dfd43bc0", "680c2848", "287e4d9f", "ad826691"])
def test_the_site_name_is_not_in_the_title(prefix: str) -> None:
    """"September 2018 open thread - The GiveWell Blog", "… | my6sense", "… - Digg", "… - IGN", "… - 9to5Mac":
    the site's name (og:site_name, application-name, or the label of the page's address) goes; the headline
    before it stays whole."""
    html, _ = _page(prefix)
    og_title = _meta(html, "og:title")
    site = _meta(html, "og:site_name") or _meta(html, "application-name")
    assert site and og_title.endswith(site)
    st = _statement(html)
    assert og_title.startswith(st.title)
    assert og_title[len(st.title):].strip(" -|") == site
    assert len(st.title.split()) >= 4


def test_a_title_with_a_separator_but_no_site_name_stays_whole() -> None:
    """"Milan Design Week 2018 | Anastassiades' light installation for FLOS" (site "Inexhibit"): both parts
    are the headline."""
    html, _ = _page("94fbcc26")
    og_title = _meta(html, "og:title")
    assert " | " in og_title
    assert _statement(html).title == og_title


@pytest.mark.parametrize("prefix", ["358cc4a0", "0dd13570"])
def test_a_kicker_is_not_in_the_title(prefix: str) -> None:
    """"BREAKING NEWS: Chelsea Activate …", "BREAKING: Lawan moves …": the kicker goes, the headline stays."""
    html, _ = _page(prefix)
    og_title = _meta(html, "og:title")
    assert og_title.upper().startswith("BREAKING")
    st = _statement(html)
    assert not st.title.upper().startswith("BREAKING")
    assert og_title.endswith(st.title) and len(st.title) > 40


@pytest.mark.parametrize("prefix", ["ac3c0355", "ad9e9e59", "287e4d9f", "680c2848"])
def test_the_headline_is_not_the_first_body_line(prefix: str) -> None:
    """The headline over the text (once, or twice as on a GiveWell post) is the title, not body; a short label
    above it ("STREAM BIG") goes with it. The body then opens on the article's own first words."""
    html, expected = _page(prefix)
    st = _statement(html)
    blocks = st.body.split("\n\n")
    assert st.title not in blocks
    assert len(blocks[0].split()) > 5 and token_prf(blocks[0], expected)[0] > 0.9
    assert token_prf(st.body, expected)[1] > 0.9


@pytest.mark.parametrize("prefix", ["db6b0816", "a6968f42", "05844573", "e7994d55"])
def test_a_wire_byline_without_by_is_a_credit(prefix: str) -> None:
    """"Robert Burns, AP National Security Writer", "Meg Kinnard and Errin Haines, Associated Press",
    "Associated Press": the writers of a wire story, a credit over the text, not its first words; a picture's
    credit in the text ("ITV, ASSOCIATED PRESS") is a credit too."""
    html, expected = _page(prefix)
    st = _statement(html)
    assert [c for c in st.credits if WIRE_BYLINE.match(c)]
    assert not [b for b in st.body.split("\n\n") if WIRE_BYLINE.match(b)]
    assert token_prf(st.body, expected)[1] > 0.95


@pytest.mark.parametrize("line", ["Reuters", "The Associated Press", "Tom Krisher, AP Auto Writer"])
def test_wire_bylines(line: str) -> None:
    assert WIRE_BYLINE.match(line)


@pytest.mark.parametrize("line", ["The company told Reuters", "Press freedom, a writer", "AP"])
def test_lines_naming_an_agency_are_not_bylines(line: str) -> None:
    assert not WIRE_BYLINE.match(line)


@pytest.mark.parametrize(("prefix", "chrome"), [("ac3c0355", "Posted in"), ("21486419", "Filed under"),
                                                ("21486419", "Iklan")])
def test_a_blogs_filing_lines_are_chrome(prefix: str, chrome: str) -> None:
    """"Posted in Open thread | Permalink |", "Filed under: Khawarij |", an "Iklan" (advertisement) label."""
    html, expected = _page(prefix)
    assert chrome in lxml.html.fromstring(html).text_content()
    st = _statement(html)
    assert not [b for b in st.body.split("\n\n") if b.startswith(chrome)]
    assert token_prf(st.body, expected)[1] > 0.95


@pytest.mark.parametrize(("prefix", "chrome"), [
    ("23aaecd1", "Tempo de leitura"),  # reading time
    ("360c732d", "Tags:"),
    ("bd673bd7", "Related:"),  # a link to another story between paragraphs
    ("ec7fc408", "Learn More"),
    ("cc4aa22b", "Subscribe to 9to5Mac on YouTube"),
    ("7a457a4f", "Let our news meet your inbox"),  # a call to subscribe without the word
    ("b6fb53e9", "Leggi anche su:"),  # "read also", in Italian
    ("264dc3ae", "As you comment, please be respectful"),  # the site's comment policy
])
def test_counters_tags_and_buttons_are_chrome(prefix: str, chrome: str) -> None:
    """Reading times, tag lists, "Related: …" links, "Learn More" buttons, calls to subscribe (to a channel,
    to an inbox), a comment policy."""
    html, expected = _page(prefix)
    assert chrome in lxml.html.fromstring(html.decode("utf-8", "replace")).text_content()
    st = _statement(html)
    assert not [b for b in st.body.split("\n\n") if chrome in b]
    assert token_prf(st.body, expected)[1] > 0.95


@pytest.mark.parametrize(("prefix", "credit"), [
    ("9eef8162", "© Amazon"),  # a picture's owner alone
    ("432362af", "Shutterstock"),
    ("dc7ccccc", "Via SyndiGate"),  # the story's source
    ("f81c6c05", "Kathrin Ziegler/Getty"),  # photographer and agency glued to the caption's end
    ("7dfc3e35", "Published 22 hours ago"),  # a relative time stamp
    ("08f79376", "- by Bryan DeArdo"),  # a byline as a list item
    ("08f79376", "- @BryanDeArdo"),  # the writer's account
    ("a6968f42", "Reach the reporters on Twitter"),
    ("7a457a4f", "Phil Helsel is a reporter for NBC News."),  # the writer's line under the text
])
def test_picture_owners_sources_and_writers_accounts_are_credits(prefix: str, credit: str) -> None:
    html, expected = _page(prefix)
    st = _statement(html)
    assert [c for c in st.credits if credit in c]
    assert credit not in st.body
    assert token_prf(st.body, expected)[1] > 0.9


@pytest.mark.parametrize("line", [
    "The consultation invited comments on the energy policy.",  # a statement's words about comments
    "Les commentaires reçus seront publiés.",
])
def test_sentences_about_comments_are_not_a_comment_policy(line: str) -> None:
    assert not COMMENT_POLICY.search(line)
