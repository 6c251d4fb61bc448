"""Main content on news and blog templates (issue 18): rules checked on real pages of
../shared/eval/article-extraction against their expected article text (the pages named here are in the
benchmark's "tune" half, bench/extraction.py's article_split)."""

from __future__ import annotations

import gzip
import json
from functools import cache

import lxml.html
import pytest

from bench.extraction import token_prf
from corpus import Statement, extract_html
from corpus.extract import CALL_TO_SUBSCRIBE
from corpus.furniture import BARE_URL, CAPTION_MARK, is_stamp
from tests.corpora import SHARED

ARTICLES = SHARED / "eval" / "article-extraction"
pytestmark = pytest.mark.skipif(not ARTICLES.is_dir(), reason="../shared/eval/article-extraction is missing")


@cache
def _expected() -> dict:
    return json.loads((ARTICLES / "ground-truth.json").read_text(encoding="utf-8"))


def _page(prefix: str) -> tuple[bytes, str]:
    """A page of the benchmark by the start of its name, and its expected article text."""
    (key,) = [k for k in _expected() if k.startswith(prefix)]
    html = gzip.decompress((ARTICLES / "html" / f"{key}.html.gz").read_bytes())
    return html, _expected()[key]["articleBody"]


def squeeze(text: str) -> str:
    """The text without white space: the spaces between a block's spans differ between readers."""
    return "".join(text.split())


def _statement(html: bytes) -> Statement:
    st = extract_html(html, origin="test")
    assert isinstance(st, Statement)
    return st


def test_article_in_sections_cut_by_figures_is_kept_whole() -> None:
    """An article whose text sits in several wrappers of one class, with figures between them: every section
    is the article (only the largest, 56% of the text, was kept before)."""
    html, expected = _page("bdb56ac8")
    st = _statement(html)
    assert token_prf(st.body, expected)[1] > 0.95


def test_captions_are_credits_not_body() -> None:
    """A picture's caption (<figcaption>) is furniture: kept as a credit, never body text; the picture's
    other text (a gallery counter) goes with it."""
    html, expected = _page("8b194530")
    captions = [squeeze(c.text_content()) for c in lxml.html.fromstring(html).iter("figcaption")]
    captions = [c for c in captions if c]
    assert len(captions) >= 3
    st = _statement(html)
    credits = [squeeze(c) for c in st.credits]
    for caption in captions:
        assert caption not in squeeze(st.body)
        assert caption in credits
    assert not [b for b in st.body.split("\n\n") if not any(c.isalpha() for c in b)]  # the counters "6"
    assert token_prf(st.body, expected)[0] > 0.95


@pytest.mark.parametrize("prefix", ["264dc3ae", "8e3efab5", "0dd13570", "f344ca5f"])
def test_time_stamps_and_bylines_are_furniture(prefix: str) -> None:
    """"PUBLISHED: November 19, 2019 at 8:59 pm | UPDATED: …", "Posted by Michael David Smith on November 19,
    2019, 6:21 AM EST", "By HNN Staff | November 18, 2019 at 2:26 PM HST - Updated …", "By Reuters":
    the date line and the byline over the article are fields, not its first words; none of them is in the
    expected article text, and the article itself is all kept."""
    html, expected = _page(prefix)
    st = _statement(html)
    taken = [line for line in (st.dateline, *st.credits) if line and is_stamp(line)]
    assert taken
    for line in taken:
        assert line not in st.body
        assert token_prf(line, expected)[0] < 0.6  # mostly words the article does not have
    assert token_prf(st.body, expected)[1] > 0.9


def test_a_sentence_with_a_date_is_not_a_stamp() -> None:
    """The article's own short lines that carry a date stay text: the rule wants a line that is nothing but
    a date, a time and a name."""
    html, expected = _page("f344ca5f")
    paragraphs = [p for p in expected.split("\n") if p.strip()]
    assert not [p for p in paragraphs if is_stamp(p.strip())]


def test_a_bem_element_is_judged_by_its_own_name() -> None:
    """"article-body__tablet-newsletter" is a newsletter box inside the article body: the element's own name
    (after "__") says what it is; the "body" of its block name does not make it the article."""
    html, expected = _page("5a822960")
    st = _boxes_gone(html, lambda names: any("newsletter" in c.rsplit("__")[-1] for c in names if "__" in c))
    assert token_prf(st.body, expected)[1] > 0.95


def _boxes_gone(html: bytes, chosen) -> Statement:
    """The page's statement, checked to hold none of the (sentence-long) blocks whose class list is chosen."""
    elements = [(e, (e.get("class") or "").split()) for e in lxml.html.fromstring(html).iter()]
    boxes = [squeeze(e.text_content()) for e, classes in elements if chosen(classes)]
    boxes = [b for b in boxes if len(b) > 40]
    assert boxes
    st = _statement(html)
    for box in boxes:
        assert box not in squeeze(st.body)
    return st


def test_you_may_also_like_lists_are_related_links() -> None:
    """A "You may also like..." heading inside the article and the headlines under it are related links
    (furniture), not the article's last paragraphs."""
    html, expected = _page("35b15891")
    st = _statement(html)
    assert len(st.related_links) >= 3
    for headline in st.related_links:
        assert headline not in st.body
        assert token_prf(headline, expected)[2] < 0.5
    assert "also like" not in st.body.lower()
    assert token_prf(st.body, expected)[1] > 0.95


def test_a_dated_heading_is_not_a_stamp() -> None:
    """Yukon's "May 8, 2020: COVID-19 update" heading is the title, not a date line: the date line stays
    "Published May 8, 2020", in English and French."""
    from corpus import read_paths

    for page in ("en/2020/20-126.html", "fr/2020/20-142.html"):
        (st,) = read_paths([SHARED / "corpus" / "yukon" / page])
        assert st.dateline.startswith(("Published", "Publié")), (page, st.dateline)
        assert not [c for c in st.credits if c[:1].isdigit()]


def test_call_to_action_boxes_are_chrome() -> None:
    """A block whose class says "cta" (call to action: "Support Snopes …", the team's names) is not the
    article."""
    html, expected = _page("8380689f")
    st = _boxes_gone(html, lambda classes: any("cta" in c.replace("_", "-").split("-") for c in classes))
    assert token_prf(st.body, expected)[0] > 0.8


def test_captions_marked_as_such_are_credits_anywhere() -> None:
    """"Protesters have worn masks to protect their identities (Image: GETTY )" between two paragraphs is a
    caption: a credit, wherever it stands."""
    html, expected = _page("624fcd90")
    st = _statement(html)
    assert len([c for c in st.credits if CAPTION_MARK.search(c)]) >= 3
    assert not [b for b in st.body.split("\n\n") if CAPTION_MARK.search(b)]
    assert token_prf(st.body, expected)[1] > 0.95


@pytest.mark.parametrize(("prefix", "chrome"), [
    ("30b771a4", "Advert"), ("30b771a4", "This slideshow requires"), ("624fcd90", "SEE MORE:"),
    ("624fcd90", "DON'T MISS")])
def test_advert_and_see_more_lines_are_chrome(prefix: str, chrome: str) -> None:
    """Lines that only point elsewhere ("SEE MORE: <headline>", "DON'T MISS", "Advert") are not the text."""
    html, expected = _page(prefix)
    assert chrome not in expected
    st = _statement(html)
    assert not [b for b in st.body.split("\n\n") if b.startswith(chrome)]


def test_calls_to_subscribe_are_chrome() -> None:
    """"There's plenty more where that came from. Sign up for … to get the free daily newsletter …": a short
    block asking for a subscription is not the article."""
    html, expected = _page("55bb6340")
    st = _statement(html)
    raw = [b for b in lxml.html.fromstring(html).text_content().split("\n") if CALL_TO_SUBSCRIBE.search(b)]
    assert raw  # the page has such lines
    assert not [b for b in st.body.split("\n\n") if CALL_TO_SUBSCRIBE.search(b)]
    assert token_prf(st.body, expected)[1] > 0.95


@pytest.mark.parametrize("line", [
    "Par la voie du règlement",  # "par" and a word, not a name
    "Conférence le 12 mars",  # an event's date: no year, no time, no "published"
    "Entrée en vigueur le 1er janvier 2024 et le 1er juillet 2024:",  # a list's lead-in
    "12 mars: portes ouvertes",  # a dated heading
])
def test_lines_of_a_statement_are_not_stamps(line: str) -> None:
    """Short dated lines of a statement's own text (lines of that shape are frequent in NSB's releases) stay
    in its body."""
    assert not is_stamp(line)


@pytest.mark.parametrize("prefix", ["ef2b3f26", "db6b0816"])
def test_a_bare_address_at_the_edge_is_a_related_link(prefix: str) -> None:
    """The page's address printed under the article ("https://www.…/article/….php") is a link, not text."""
    html, expected = _page(prefix)
    st = _statement(html)
    assert [link for link in st.related_links if BARE_URL.match(link)]
    assert not [b for b in st.body.split("\n\n") if BARE_URL.match(b)]
    assert token_prf(st.body, expected)[1] > 0.95


def test_a_wire_storys_reporting_credit_is_a_credit() -> None:
    """"(Reporting by …, editing by …)" under a wire story credits its writers: a credit, not its text."""
    html, expected = _page("06e5123e")
    st = _statement(html)
    credits = [c for c in st.credits if "reporting by" in c.lower()]
    assert credits
    for credit in credits:
        assert credit not in st.body
    assert token_prf(st.body, expected)[1] > 0.95


@pytest.mark.parametrize("chrome", ["Like this:", "Like Loading", "Comments"])
def test_blog_buttons_and_comment_headings_are_chrome(chrome: str) -> None:
    """A blog's "Like this:" / "Like Loading..." buttons and its "Comments" heading are not the article."""
    html, expected = _page("0dd13570")
    assert chrome in lxml.html.fromstring(html).text_content()
    st = _statement(html)
    assert not [b for b in st.body.split("\n\n") if b.lower().startswith(chrome.lower())]
