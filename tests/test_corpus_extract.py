"""Extraction of one page or fragment: metadata, boilerplate, encodings, dates, language."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus import Problem, Statement, extract_html
from corpus.dates import date_from_text, parse_iso, parse_text_date
from corpus.decode import decode_bytes
from corpus.language import detect, normalize_lang

DATA = Path(__file__).parent / "data"

FR_TEXT = (
    "Le Conseil fédéral a adopté aujourd’hui le message relatif à la révision de la loi sur l’énergie. "
    "Cette réforme doit permettre de renforcer l’approvisionnement du pays en électricité durant l’hiver, "
    "tout en maintenant les objectifs climatiques fixés par le Parlement et la population. "
)
EN_TEXT = (
    "The Federal Council today adopted the dispatch on the revision of the Energy Act. The reform is "
    "intended to strengthen the country’s electricity supply during the winter, while keeping the climate "
    "targets set by Parliament and the people. "
)
DE_TEXT = (
    "Der Bundesrat hat heute die Botschaft zur Revision des Energiegesetzes verabschiedet. Die Reform soll "
    "die Stromversorgung des Landes im Winter stärken und dabei die vom Parlament und vom Volk "
    "festgelegten Klimaziele einhalten. "
)


def statement(data, **kw) -> Statement:
    item = extract_html(data, origin=kw.pop("origin", "test.html"), **kw)
    assert isinstance(item, Statement), item
    return item


def test_full_page_metadata_and_boilerplate():
    st = statement((DATA / "newsarticle.html").read_bytes())
    assert st.title == "Minister announces new ferry service"
    assert st.date == "2024-07-03"
    assert st.lang == "en" and st.declared_lang == "en"
    assert st.url == "https://NEWS.example.org:443/releases/ferry-service"
    assert st.source == "Ministry of Transport"
    assert st.place == "Halifax"
    assert st.alternates == {"fr": "https://news.example.org/fr/communiques/traversier"}
    # the statement, in order: paragraphs, list, table, quote and author; the date line, the media contact and
    # the "Quick facts" heading are furniture, kept in fields of their own (tests/test_furniture.py)
    assert st.dateline == "July 3, 2024"
    assert st.body.startswith("The Minister of Transport today announced")
    for kept in (
        "- Two vessels will serve the route.",
        "Halifax – Dartmouth | 30 min",
        "This service will change",
        "— Minister Jane Doe",
    ):
        assert kept in st.body
    assert st.contacts == ["Media contact", "Jane Roe\nCommunications\n902-555-0100"]
    assert st.quick_facts == ["Two vessels will serve the route.", "Crossings every 30 minutes."]
    assert "Quick facts" not in st.body and "Media contact" not in st.body and "902-555" not in st.body
    for gone in (
        "cookies",
        "Skip to",
        "Home",
        "Français",
        "Search",
        "Facebook",
        "Related articles",
        "Bridge works",
        "Report a problem",
        "Privacy",
        "©",
        "dataLayer",
        "color: red",
    ):
        assert gone not in st.body
    assert "\n\n\n" not in st.body


def test_id_from_canonical_url_is_stable_and_normalised():
    a = statement((DATA / "newsarticle.html").read_bytes())
    b = statement((DATA / "newsarticle.html").read_bytes(), origin="elsewhere.html")
    assert a.id == b.id and a.id.startswith("u-")
    c = statement("<p>" + EN_TEXT + "</p>", url="https://news.example.org/releases/ferry-service#x")
    assert c.id == a.id


def test_record_fields_win_except_language():
    record = {
        "id": "r1",
        "title": "Titre donné",
        "date": "2021-03-02T10:00:00Z",
        "lang": "en",
        "source": "Office fédéral",
        "place": "Berne",
        "url": "https://x.example/1",
        "type": "Memorandum",
        "tags": ["a"],
    }
    st = statement(f"<h1>Autre titre</h1><p>Publié le 5 mai 2020</p><p>{FR_TEXT}</p>", record=record)
    assert (st.id, st.title, st.date, st.source, st.place, st.url) == (
        "r1",
        "Titre donné",
        "2021-03-02",
        "Office fédéral",
        "Berne",
        "https://x.example/1",
    )
    assert st.lang == "fr" and st.declared_lang == "en"
    assert st.extra == {"type": "Memorandum", "tags": ["a"]}


def test_text_record_paragraphs():
    st = statement("", record={"text": f"{FR_TEXT}\n\n\n{FR_TEXT}\nligne deux", "title": "T"})
    assert st.body.count("\n\n") == 1 and st.body.endswith("\nligne deux")


def test_fragment_entities_nbsp_and_typography():
    st = statement(
        "<p>L&rsquo;&eacute;t&eacute; &laquo;&nbsp;chaud&nbsp;&raquo; &ndash; c&oelig;ur</p>"
        f"<p>{FR_TEXT}</p><ul><li>un</li><li>deux&nbsp;</li></ul>"
    )
    assert st.body.startswith("L’été «\u00a0chaud\u00a0» – cœur")
    assert "- un\n\n- deux" in st.body
    assert st.lang == "fr"


def test_br_br_makes_paragraphs():
    st = statement(f"<p>Monsieur le Ministre,<br><br><br>\n{FR_TEXT}<br><br>\n{FR_TEXT}<br>fin</p>")
    assert st.body.split("\n\n")[0] == "Monsieur le Ministre,"
    assert len(st.body.split("\n\n")) == 3 and st.body.endswith("\nfin")


def test_nfc_output():
    st = statement("<p>Cafe\u0301 " + FR_TEXT + "</p>")
    assert st.body.startswith("Café ")


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Publié le 3 juillet 2024", "2024-07-03"),
        ("Berne, le 1er août 2019", "2019-08-01"),
        ("Published March 2, 2021", "2021-03-02"),
        ("July 3rd, 2024", "2024-07-03"),
        ("3 July 2024", "2024-07-03"),
        ("le 16 juin", ""),
        ("03.07.2024", "2024-07-03"),
        ("31 février 2024", ""),
    ],
)
def test_text_dates(text, expected):
    assert parse_text_date(text) == expected


def test_date_without_year_uses_default_and_published_line_wins():
    assert parse_text_date("le 16 juin", default_year=2020) == "2020-06-16"
    blocks = ["Ottawa", "Published March 2, 2021", "As of April 1, 2020, things changed."]
    assert date_from_text(blocks) == "2021-03-02"
    assert date_from_text(["Mis en ligne : mardi 3 juillet 2018"]) == "2018-07-03"


def test_iso_dates():
    assert parse_iso("2020-09-18T12:00:00Z") == "2020-09-18"
    assert parse_iso("20200918") == "2020-09-18"
    assert parse_iso("not a date") == ""


def test_meta_dates_and_time_tag():
    page = (
        '<html><head><meta name="dcterms.issued" content="2019-05-06"></head><body><main><h1>T</h1>'
        f"<p>{EN_TEXT}</p></main></body></html>"
    )
    assert statement(page).date == "2019-05-06"
    page = (f'<html><body><article><time datetime="2018-01-02T10:00">Jan 2</time><p>{EN_TEXT}</p>'
            "</article></body></html>")
    assert statement(page).date == "2018-01-02"


def test_release_number_from_meta_and_text():
    page = (
        '<html><head><meta name=news_release_number content="21-100"></head><body><main>'
        f"<p>{EN_TEXT}</p></main></body></html>"
    )
    assert statement(page).release == "21-100"
    st = statement(f"<p>{EN_TEXT}</p><div>News release #:</div><div>21-101</div>")
    assert st.release == "21-101"
    assert statement(f"<p>{FR_TEXT}</p><p>Communiqué no 21-102</p>").release == "21-102"
    assert statement(f"<p>{FR_TEXT}</p><p>Numéro du communiqué : 21-103</p>").release == "21-103"


def test_language_detection():
    assert detect(FR_TEXT) == "fr"
    assert detect(EN_TEXT) == "en"
    assert detect(DE_TEXT, declared="en") == "de"
    assert detect("Communiqué", declared="fr") == "fr"  # too short to contradict the declaration
    assert detect("the minister and the council", declared="fr") == "en"  # short, but the words say it
    assert normalize_lang("fr-CA") == "fr" and normalize_lang("eng") == "en" and normalize_lang("x") == ""


def test_declared_language_checked_against_text():
    st = statement(f'<html lang="en"><body><main><p>{DE_TEXT}</p></main></body></html>')
    assert st.lang == "de" and st.declared_lang == "en"


def test_decode_windows_1252_without_charset():
    raw = f"<html><body><p>L’été « chaud » – cœur. {FR_TEXT}</p></body></html>".encode("cp1252")
    assert "L’été « chaud » – cœur." in decode_bytes(raw)


def test_decode_bom_and_xml_prolog_latin1():
    assert decode_bytes(b"\xef\xbb\xbf<p>\xc3\xa9t\xc3\xa9</p>") == "<p>été</p>"
    raw = '<?xml version="1.0" encoding="ISO-8859-1"?><html><body><p>Noël à Genève</p></body></html>'
    assert "Noël à Genève" in decode_bytes(raw.encode("latin-1"))
    raw = '<html><head><meta charset="windows-1252"></head><body><p>C’est</p></body></html>'
    assert "C’est" in decode_bytes(raw.encode("cp1252"))


def test_binary_and_empty_are_problems():
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10
    item = extract_html(png, origin="x.html")
    assert isinstance(item, Problem) and "binary" in item.reason
    item = extract_html(b"<html><body><script>x</script></body></html>", origin="y.html")
    assert isinstance(item, Problem) and item.reason.startswith("no text")


def test_truncated_html_keeps_what_is_there():
    st = statement(f"<html><head><title>Coupé</title></head><body><main><p>{FR_TEXT}</p><p>Et la sui")
    assert st.title == "Coupé" and st.body.endswith("Et la sui")


def test_deeply_nested_page_keeps_its_text() -> None:
    """5,000 nested <div>: the text walk is iterative, so the statement is not lost to a RecursionError."""
    html = ("<html lang=fr><body>" + "<div>" * 5000
            + "<p>Le ministre de la santé a annoncé aujourd’hui une mesure pour les hôpitaux du pays.</p>"
            + "</div>" * 5000 + "</body></html>")
    st = extract_html(html, origin="deep.html")
    assert isinstance(st, Statement)
    assert "hôpitaux" in st.body and st.lang == "fr"


def test_mixed_utf8_and_windows_1252_bytes_are_both_read() -> None:
    data = ("<p>Le ministère a publié un communiqué.</p>".encode()
            + "<p>Réunion à Québec – « oui » œuvre</p>".encode("cp1252"))
    text = decode_bytes(data)
    assert "ministère a publié" in text and "Réunion à Québec – « oui » œuvre" in text


# ---- crafted pages (issue 16, M4): extraction is near-linear in page size, or the page is skipped ----------

LINK_TEXT = "Le ministre a annoncé une mesure"


def _row_of_cells(n: int) -> str:
    return "<html><body><main><table><tr>" + "<td>x</td>" * n + "</tr></table></main></body></html>"


def _nested_divs_with_links(n: int) -> str:
    return ("<html><body>" + f"<div><a href='/x'>{LINK_TEXT}</a> et quelques mots" * n + "</div>" * n
            + "</body></html>")


def _nested_main_article(n: int) -> str:
    return ("<html><body>" + "<main><article>" * n + f"<p>{FR_TEXT}</p>" + "</article></main>" * n
            + "</body></html>")


def _many_br(n: int) -> str:
    return f"<html><body><main><p>{FR_TEXT}" + "<br>" * n + "fin</p></main></body></html>"


@pytest.mark.timeout(60)  # a hang guard: each takes ~1-5 s; the old code took 16 s to over 120 s
@pytest.mark.parametrize(
    "make, n",
    # 100k cells: the old quadratic join needed ~100 s, past the guard; now ~5 s.
    [(_row_of_cells, 100_000), (_nested_divs_with_links, 2_500), (_nested_main_article, 10_000)],
    ids=["100k-td", "2500-nested-div-links", "10k-nested-main-article"],
)
def test_crafted_pages_extract_in_bounded_time(make, n: int) -> None:
    st = extract_html(make(n), origin="crafted.html")
    assert isinstance(st, Statement), st
    assert st.body


@pytest.mark.timeout(60)
def test_a_page_of_a_million_elements_is_skipped_with_a_reason() -> None:
    from corpus.extract import MAX_ELEMENTS

    problem = extract_html(_many_br(1_000_000), origin="br.html")
    assert isinstance(problem, Problem) and problem.reason.startswith("page too complex: 1,000,0")
    assert str(MAX_ELEMENTS // 1000) in problem.reason
    # Just under the bound, the page is read.
    st = extract_html(_many_br(MAX_ELEMENTS // 10), origin="br.html")
    assert isinstance(st, Statement) and "ministre" not in st.body and st.body.startswith(FR_TEXT[:40])


def _calls(html: str) -> int:
    """Python and C function calls (generator steps too) made by one extraction: deterministic work."""
    import sys

    count = 0

    def profile(frame, event, arg):  # noqa: ARG001
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profile)
    try:
        extract_html(html, origin="scaling.html")
    finally:
        sys.setprofile(None)
    return count


@pytest.mark.timeout(120)
@pytest.mark.parametrize("make, n", [(_nested_divs_with_links, 150), (_nested_main_article, 300),
                                     (_row_of_cells, 2_000)], ids=["div-links", "main-article", "td"])
def test_extraction_work_grows_linearly(make, n: int) -> None:
    """Four times the page, about four times the calls (at most 6): a quadratic step would make it 16."""
    extract_html(make(10), origin="warm.html")  # lazy imports and the language model, outside the count
    small, large = _calls(make(n)), _calls(make(4 * n))
    assert large < 6 * small, (small, large)


def test_link_lists_are_still_dropped_and_link_rich_statements_kept() -> None:
    """The bottom-up measure keeps extraction as it was: a menu of links goes, a text with links stays."""
    menu = "".join(f"<li><a href='/p{i}'>Page {i}</a></li>" for i in range(8))
    html = (f"<html lang=fr><body><main><h1>Titre</h1><div class='x'><ul>{menu}</ul></div>"
            f"<p>{FR_TEXT} Voir <a href='/a'>la loi</a>, <a href='/b'>le message</a> et "
            f"<a href='/c'>le rapport</a>.</p></main></body></html>")
    st = statement(html)
    assert "Page 3" not in st.body and "le message" in st.body and "Conseil fédéral" in st.body
    from bs4 import BeautifulSoup

    from corpus.extract import Measure
    from corpus.metadata import clean

    soup = BeautifulSoup(html, "lxml")
    measure = Measure(soup)
    for tag in soup.find_all(True):
        assert measure.text_len(tag) == len(clean(tag.get_text(" "))), tag.name
        links = tag.find_all("a")
        assert measure.links(tag) == (len(links), sum(len(clean(a.get_text(" "))) for a in links))


# ---- odd values in records (issue 16, H1 and L5) --------------------------------------------------------


def test_lone_surrogates_are_repaired_not_fatal() -> None:
    st = extract_html("<p>Le ministre \ud800 a parlé.</p>", origin="x.jsonl:1",
                      record={"id": "a\udfff", "title": "Titre \ud83d", "type": ["\udc80"]})
    assert isinstance(st, Statement)
    assert st.body == "Le ministre \ufffd a parlé." and st.title == "Titre \ufffd"
    assert st.id == "a\ufffd" and st.extra == {"type": ["\ufffd"]}
    st.to_dict()["body"].encode("utf-8")  # hashing and the index can encode every field


@pytest.mark.parametrize("given, expected", [
    ("a\nb", "a b"), ("  x\t\r\ny  ", "x y"), ("id\x00\x1b[31m", "id[31m"), ("a\u202eb\u200bc", "abc"),
    ("2021-100", "2021-100"), ("communiqué n° 12", "communiqué n° 12"),
])
def test_ids_are_normalised(given: str, expected: str) -> None:
    st = statement(f"<p>{FR_TEXT}</p>", record={"id": given})
    assert st.id == expected


def test_an_id_of_only_control_characters_falls_back_to_the_url() -> None:
    st = statement(f"<p>{FR_TEXT}</p>", record={"id": "\n\t\x00", "url": "https://e.example/a"})
    assert st.id.startswith("u-")
