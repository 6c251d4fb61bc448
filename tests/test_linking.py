"""Translation links: explicit signals (alternates, id stem, release number) and the content-only matcher."""

from __future__ import annotations

import dataclasses
import gzip
import json

import pytest

from corpus import Statement, extract_html, read_paths
from indexer.linking import (
    content_links,
    explicit_links,
    feature_hashes,
    features,
    id_stem,
    link_translations,
    url_key,
)
from tests.corpora import SHARED

YUKON = SHARED / "corpus" / "yukon"
NSB = SHARED / "corpus" / "nsb" / "nsb.jsonl.gz"

needs_yukon = pytest.mark.skipif(not YUKON.exists(), reason="../shared/corpus/yukon not found")
needs_nsb = pytest.mark.skipif(not NSB.exists(), reason="../shared/corpus/nsb not found")


def st(id: str, lang: str, body: str = "", **kw) -> Statement:
    return Statement(id=id, origin="test", title=kw.pop("title", ""), body=body, lang=lang, **kw)


def hidden(statements: list[Statement]) -> tuple[list[Statement], dict[str, str]]:
    """Copies with no explicit signal left: opaque ids, no release number, no alternates, no URL."""
    out = [dataclasses.replace(s, id=f"h{i}", release="", alternates={}, url="")
           for i, s in enumerate(statements)]
    return out, {h.id: s.id for h, s in zip(out, statements, strict=True)}


# -- units ---------------------------------------------------------------------------------------------------

def test_id_stem():
    assert id_stem("nsb-3404-en") == ("nsb-3404-{}", "en")
    assert id_stem("nsb-3404-fr") == ("nsb-3404-{}", "fr")
    assert id_stem("fr/2021/21-100.html") == ("{}/2021/21-100.html", "fr")
    assert id_stem("u-04d1724116a085a2") == ("", "")


def test_url_key_ignores_scheme_www_fragment_and_trailing_slash():
    assert url_key("https://www.Example.ca/fr/news/x/#top") == url_key("http://example.ca/fr/news/x")


def test_features_are_language_independent():
    fr = features("Le 9 avril 2021, M. Sandy Silver a annoncé 1 000 $ et 2,5 % à Whitehorse. "
                  "Contact : 867-332-3135, oshea.jephson@yukon.ca, https://yukon.ca/fr/news")
    en = features("On April 9, 2021, Sandy Silver announced $1,000 and 2.5% in Whitehorse. "
                  "Contact: 867-332-3135, oshea.jephson@yukon.ca, https://yukon.ca/en/news")
    for f in ("d:04-09", "n:2021", "n:1000", "n:25", "n:8673323135", "w:sandy", "w:silver", "w:whitehorse",
              "e:oshea.jephson@yukon.ca", "u:yukon.ca"):
        assert f in fr and f in en, f
    assert "w:le" not in fr and "w:on" not in en  # stopwords are not names


def test_explicit_links_from_alternates_id_stem_and_release():
    statements = [
        st("a", "en", url="https://gc.ca/en/x", alternates={"fr": "https://gc.ca/fr/y", "en": "https://gc.ca/en/x"}),
        st("b", "fr", url="https://gc.ca/fr/y/"),
        st("nsb-1-fr", "fr"), st("nsb-1-en", "de"),  # the id says en: a German text is still the pair
        st("c", "en", url="https://yukon.ca/en/c", release="21-100", date="2021-04-09"),
        st("d", "fr", url="https://yukon.ca/fr/d", release="21-100", date="2021-04-09"),
        st("e", "fr", url="https://other.ca/fr/e", release="21-100", date="2021-04-09"),  # other site
        st("f", "en", url="https://yukon.ca/en/f", release="19-001", date="2019-01-01"),
        st("g", "fr", url="https://yukon.ca/fr/g", release="19-001", date="2020-06-01"),  # too far apart
    ]
    links = explicit_links(statements)
    assert links == {"a": "b", "b": "a", "nsb-1-fr": "nsb-1-en", "nsb-1-en": "nsb-1-fr", "c": "d", "d": "c"}


def test_content_links_pair_one_to_one_within_the_date_window():
    en = st("en1", "en", "Minister Jane Doe announced $4.2 million for 17 schools in Dawson City on March 3.",
            date="2021-03-03")
    fr = st("fr1", "fr", "La ministre Jane Doe a annoncé 4,2 millions de dollars pour 17 écoles à "
            "Dawson City le 3 mars.", date="2021-03-04")
    other = st("fr2", "fr", "Le ministre John Roe a présenté le budget 2021-2022 à Whitehorse.",
               date="2021-03-03")
    far = st("fr3", "fr", fr.body, date="2021-03-10")  # same content, a week later: out of the window
    assert content_links([en, fr, other, far]) == {"en1": "fr1", "fr1": "en1"}
    assert content_links([en, far]) == {}
    assert content_links([en, far], days=7) == {"en1": "fr3", "fr3": "en1"}
    # Precomputed feature hashes stand in for the bodies (a statement left out is hashed on the spot).
    pre = {x.id: feature_hashes(x) for x in (en, fr, far)}
    bare = [dataclasses.replace(x, body="") for x in (en, fr, far)] + [other]
    assert content_links(bare, features=pre) == {"en1": "fr1", "fr1": "en1"}
    assert content_links(bare, days=7, features=pre) == {"en1": "fr1", "fr1": "en1"}


def test_link_translations_uses_explicit_links_first():
    body = "Jane Doe, 4.2 million, 17 schools, Dawson City, March 3, 2021."
    a = st("nsb-9-en", "en", body, date="2021-03-03")
    b = st("nsb-9-fr", "fr", "Rien en commun.", date="2021-03-03")
    c = st("x", "fr", body, date="2021-03-03")
    assert link_translations([a, b, c]) == {"nsb-9-en": "nsb-9-fr", "nsb-9-fr": "nsb-9-en"}


# -- real data -----------------------------------------------------------------------------------------------

def _yukon(names: list[str]) -> list[Statement]:
    paths = [YUKON / lang / "2021" / f"{name}.html" for name in names for lang in ("en", "fr")]
    return [s for s in read_paths(paths) if isinstance(s, Statement)]


@needs_yukon
def test_yukon_pair_linked_by_release_number_and_by_content():
    # 21-100 and its neighbours, published within days of each other.
    statements = _yukon(["21-097", "21-098", "21-099", "21-100", "21-101", "21-102"])
    pair = {s.id for s in statements if "21-100" in s.origin}
    assert len(pair) == 2 and all(s.release for s in statements)
    a, b = sorted(pair)
    assert explicit_links(statements)[a] == b

    hide, back = hidden(statements)
    links = content_links(hide)
    found = {frozenset((back[x], back[y])) for x, y in links.items()}
    assert frozenset(pair) in found
    # And with the printed release number taken out of the text too.
    stripped = [dataclasses.replace(s, body=s.body.replace("21-100", "")) for s in hide]
    assert back[content_links(stripped)[next(h.id for h, s in zip(hide, statements, strict=True)
                                             if s.id == a)]] == b


def _nsb_until_pairs(n_pairs: int) -> list[Statement]:
    """The first records of the NSB file, up to the one completing `n_pairs` fr/en pairs."""
    out: list[Statement] = []
    langs: dict[str, set[str]] = {}
    pairs = 0
    with gzip.open(NSB, "rt", encoding="utf-8") as f:
        for line_no, line in enumerate(f, start=1):
            record = json.loads(line)
            item = extract_html(record["html"], origin=f"{NSB}:{line_no}", record=record)
            if not isinstance(item, Statement):
                continue
            out.append(item)
            stem, lang = id_stem(item.id)
            seen = langs.setdefault(stem, set())
            before = len(seen)
            seen.add(lang)
            pairs += before == 1 and len(seen) == 2
            if pairs >= n_pairs:
                return out
    return out


@needs_nsb
def test_nsb_100_pairs_with_ids_hidden():
    statements = _nsb_until_pairs(100)
    truth = {frozenset(v) for v in _group_by_stem(statements).values() if len(v) == 2}
    assert len(truth) >= 100
    assert {frozenset(p) for p in explicit_links(statements).items()} == truth

    hide, back = hidden(statements)
    found = {frozenset((back[a], back[b])) for a, b in content_links(hide).items()}
    precision = len(found & truth) / len(found)
    recall = len(found & truth) / len(truth)
    assert precision >= 0.9, (precision, recall)
    assert recall >= 0.8, (precision, recall)


def _group_by_stem(statements: list[Statement]) -> dict[str, set[str]]:
    groups: dict[str, set[str]] = {}
    for s in statements:
        groups.setdefault(id_stem(s.id)[0], set()).add(s.id)
    return groups


@pytest.mark.slow
@needs_yukon
@needs_nsb
def test_full_corpora_content_linking():
    from bench.linking import load_nsb, load_yukon, nsb_truth, yukon_truth

    for statements, truth, min_p, min_r in ((yukon := load_yukon(), yukon_truth(yukon), 0.99, 0.99),
                                            (nsb := load_nsb(), nsb_truth(nsb), 0.98, 0.95)):
        hide, back = hidden(statements)
        found = {frozenset((back[a], back[b])) for a, b in content_links(hide).items()}
        hits = len(found & truth)
        assert hits / len(found) >= min_p and hits / len(truth) >= min_r, (hits, len(found), len(truth))
