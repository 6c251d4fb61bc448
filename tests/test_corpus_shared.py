"""The ingester on the real data in ../shared (skipped cleanly when it is missing)."""

from __future__ import annotations

import csv
import gzip
import json
import unicodedata
from pathlib import Path

import pytest

from corpus import Problem, Statement, Summary, extract_html, read_paths
from tests.corpora import SHARED, items_of

CORPUS = SHARED / "corpus"
needs_shared = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared is missing")
pytestmark = needs_shared


def nsb_records(ids: set[str]) -> dict[str, dict]:
    found = {}
    with gzip.open(CORPUS / "nsb" / "nsb.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            if any(f'"{i}"' in line[:40] for i in ids):
                record = json.loads(line)
                found[record["id"]] = record
                if len(found) == len(ids):
                    break
    return found


def test_nsb_known_records_get_their_real_language():
    expected = {"nsb-9299-fr": ("fr", "en"), "nsb-19918-fr": ("fr", "de"), "nsb-3164-fr": ("fr", "fr"),
                "nsb-22912-en": ("en", "fr")}
    records = nsb_records(set(expected))
    for ident, (declared, real) in expected.items():
        st = extract_html(records[ident]["html"], origin=ident, record=records[ident])
        assert isinstance(st, Statement)
        assert (st.id, st.declared_lang, st.lang) == (ident, declared, real)
        assert st.title == records[ident]["title"] and st.date == records[ident]["date"]
        assert st.extra == {"type": records[ident]["type"]}
    assert "’" in extract_html(records["nsb-3164-fr"]["html"], origin="x").body


@pytest.mark.slow
def test_nsb_whole_file_languages():
    from bench.linking import load_nsb  # the ingester's statements, cached for the other whole-NSB tests

    statements = load_nsb()
    # one record of 58,980 is empty ("<p>-</p>"): reported, not a statement
    assert len(statements) == 58979
    summary = Summary()
    for st in statements:
        summary.add(st)
    en_de = summary.disagreements["en→de"]
    fr_en = summary.disagreements["fr→en"]
    assert 1200 <= en_de <= 1450, summary.disagreements
    # ../shared's README says "about 130"; function words agree with the 44 found (see the report)
    assert 30 <= fr_en <= 170, summary.disagreements
    assert summary.other_languages["de"] >= en_de


def test_yukon_pair_body_and_metadata():
    for lang, published in (("en", "Published April 14, 2020"), ("fr", "Publié le 14 avril 2020")):
        st = next(read_paths([CORPUS / "yukon" / lang / "2020" / "20-100.html"]))
        assert isinstance(st, Statement)
        assert st.lang == lang and st.date == "2020-04-14" and st.release == "20-100"
        # the date line and the media contact are furniture: fields of their own, not the body (issue 18)
        assert st.dateline == published and not st.body.startswith(published)
        assert "archiv" not in st.body and "Home" not in st.body
        assert st.contacts[0] in ("Media contact", "Renseignements")
        assert "@gov.yk.ca" in "\n".join(st.contacts)
        assert "@gov.yk.ca" not in st.body


@pytest.mark.slow
def test_yukon_all_pages_against_manifest():
    root = CORPUS / "yukon"
    with (root / "manifest.csv").open(encoding="utf-8") as f:
        manifest = {row["path"].removeprefix("output/"): row for row in csv.DictReader(f)}
    got = {}
    for item in items_of(root):
        assert not (isinstance(item, Problem) and item.kind == "skipped"), item
        if isinstance(item, Statement):
            got[Path(item.origin).relative_to(root).as_posix()] = item
    assert set(got) == set(manifest)
    misses = {"title": [], "date": [], "lang": [], "release": [], "body": []}
    for path, row in manifest.items():
        st = got[path]
        title = " ".join(unicodedata.normalize("NFC", row["title"]).split())
        for field, value in (("title", title), ("date", row["date"]), ("lang", row["lang"]),
                             ("release", row["news_release_number"])):
            if getattr(st, field) != value:
                misses[field].append(path)
        if not st.dateline.startswith(("Published", "Publié")) or "has been archived" in st.body \
                or "a été archivé" in st.body:
            misses["body"].append(path)
    assert misses == {k: [] for k in misses}


def test_canada_chrome_gone_notices_kept():
    for path in sorted((CORPUS / "canada").glob("*.html")):
        st = next(read_paths([path]))
        assert isinstance(st, Statement)
        lang = path.name[:2]
        assert st.lang == lang and st.declared_lang == lang
        assert set(st.alternates) == {"en", "fr"}
        notice = "Notice of half-masting" if lang == "en" else "Avis de mise en berne"
        assert st.body.count(notice) > 100
        assert "Tumbler Ridge" in st.body
        for chrome in ("Report a problem", "Signaler un problème", "Search Canada.ca",
                       "Rechercher dans Canada.ca",
                       "You are here", "Vous êtes ici", "Date modified", "Date de modification",
                       "Language selection", "Sélection de la langue", "Terms and conditions", "Jobs\n",
                       "Emplois\n"):
            assert chrome not in st.body, (path.name, chrome)
        assert st.title in ("National Flag of Canada half-masting notices",
                            "Avis de mise en berne du drapeau national du Canada")


def test_vie_publique_ids_stable_and_unique():
    path = CORPUS / "vie-publique" / "statements.jsonl"
    first = [s for s in read_paths([path]) if isinstance(s, Statement)]
    second = [s for s in read_paths([path]) if isinstance(s, Statement)]
    assert len(first) == 324
    assert [s.id for s in first] == [s.id for s in second]
    assert len({s.id for s in first}) == 324
    assert all(s.lang == "fr" and s.date and s.title and s.body for s in first)
    assert all(set(s.extra) <= {"tags", "speakers"} for s in first)
