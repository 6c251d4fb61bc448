"""Translation links and duplicate groups wired into the index, the search results, the CLI and the web."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from corpus import Statement
from indexer import open_index, update
from indexer.duplicates import near_duplicate_groups
from search import Searcher
from tests.corpora import ROOT, SHARED

YUKON_SAMPLE = ROOT / "sample" / "yukon"
NSB = SHARED / "corpus" / "nsb" / "nsb.jsonl.gz"


def stored(index_dir) -> dict[str, dict]:
    ix = open_index(index_dir)
    with ix.searcher() as s:
        return {d["id"]: dict(d) for d in s.all_stored_fields()}


def write_jsonl(path: Path, recs: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), "utf-8")


BODY = ("<p>Le Conseil fédéral a adopté aujourd’hui le message relatif à la révision de la loi sur les "
        "forêts. La révision renforce la protection des forêts de montagne contre les dangers naturels et "
        "prévoit un crédit de 120 millions de francs pour la période 2024 à 2027.</p><p>Renseignements : "
        "Office fédéral de l’environnement, 058 462 93 11.</p>")


def rec(id: str, *, body: str = BODY, title: str = "Révision de la loi sur les forêts", source: str = "OFEV",
        date: str = "2023-05-10", lang: str = "fr", **kw) -> dict:
    return {"id": id, "url": f"https://example.org/{id}", "lang": lang, "date": date, "title": title,
            "source": source, "html": body, **kw}


EN_BODY = ("<p>The Federal Council today adopted the dispatch on the revision of the Forest Act. The "
           "revision strengthens the protection of mountain forests against natural hazards and provides a "
           "credit of CHF 120 million for the period 2024 to 2027.</p><p>Information: Federal Office for the "
           "Environment FOEN, 058 462 93 11.</p>")


# -- the bundled sample: Yukon EN/FR pairs with the same file names ------------------------------------------

@pytest.fixture(scope="module")
def yukon_index(tmp_path_factory):
    index_dir = tmp_path_factory.mktemp("yk") / "ix"
    report = update([YUKON_SAMPLE], index_dir)
    return index_dir, report


def test_yukon_sample_pairs_are_linked_to_the_page_of_the_same_name(yukon_index):
    index_dir, report = yukon_index
    docs = stored(index_dir)
    linked = {sid: d["translation"] for sid, d in docs.items() if d.get("translation")}
    assert report.linked == len(linked) >= 0.9 * len(docs)
    for sid, other in linked.items():
        a, b = docs[sid], docs[other]
        assert linked[other] == sid  # symmetric
        assert {a["lang"], b["lang"]} == {"en", "fr"}
        assert Path(a["origin"]).name == Path(b["origin"]).name  # en/2020/20-049.html <-> fr/2020/20-049.html


def test_search_hits_carry_translations_and_duplicates(yukon_index):
    index_dir, _ = yukon_index
    with Searcher(index_dir) as s:
        res = s.search("caribou", lang="en")
        assert res.hits
        for hit in res.hits:
            assert isinstance(hit["duplicates"], list)
            assert [t["lang"] for t in hit["translations"]] == ["fr"]
            t = hit["translations"][0]
            assert set(t) == {"lang", "id", "url", "title"} and t["title"] and t["url"].startswith("https://")
            assert s.statement(t["id"])["translation"] == hit["id"]


def test_bilingual_search_finds_the_english_version_through_the_french_one(yukon_index):
    index_dir, _ = yukon_index
    with Searcher(index_dir) as s:
        french = s.search("décès", lang="fr")
        assert french.hits and french.hits[0]["translations"]
        assert s.search("décès", lang="en").total < french.total  # the French word is not in English texts
        res = s.search("décès", lang="en", bilingual=True)
        assert res.hits and all(h["lang"] == "en" for h in res.hits if h["translations"])
        first_fr = french.hits[0]
        assert first_fr["translations"][0]["id"] in {h["id"] for h in res.hits}
        shown = next(h for h in res.hits if h["id"] == first_fr["translations"][0]["id"])
        assert shown["translations"][0]["id"] == first_fr["id"]


def test_cli_json_and_human_output_show_the_links(yukon_index):
    from cli import main

    index_dir, _ = yukon_index
    runner = CliRunner()
    out = runner.invoke(main, ["search", "Linklater", "--index", str(index_dir), "--lang", "fr", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    hit = data["results"][0]
    assert hit["duplicates"] == [] and hit["translations"][0]["lang"] == "en"
    assert set(hit["translations"][0]) == {"lang", "id", "url", "title"}
    human = runner.invoke(main, ["search", "Linklater", "--index", str(index_dir), "--lang", "fr"])
    assert "also in English: " in human.output
    human = runner.invoke(main, ["search", "caribou", "--index", str(index_dir), "--lang", "en"])
    assert "aussi en français : " in human.output
    bi = runner.invoke(main, ["search", "décès", "--index", str(index_dir), "--lang", "en",
                              "--bilingual", "--json"])
    assert bi.exit_code == 0, bi.output
    assert all(h["lang"] == "en" for h in json.loads(bi.output)["results"] if h["translations"])
    assert "--bilingual" in runner.invoke(main, ["search", "--help"]).output


def test_web_page_links_the_other_version(yukon_index):
    from search.web.app import create_app

    index_dir, _ = yukon_index
    client = create_app(str(index_dir)).test_client()
    page = client.get("/", query_string={"q": "caribou", "lang": "en", "ui": "en"}).get_data(as_text=True)
    assert "Also in French" in page and 'hreflang="fr"' in page
    page = client.get("/", query_string={"q": "caribou", "lang": "en", "ui": "fr"}).get_data(as_text=True)
    assert "Aussi en français" in page
    api = client.get("/api/search", query_string={"q": "caribou"}).get_json()
    assert all("translations" in h and "duplicates" in h for h in api["results"])
    # The bilingual view is the searcher's: the web asks for it as the CLI does (--bilingual).
    api = client.get("/api/search", query_string={"q": "décès", "lang": "en", "bilingual": "1"}).get_json()
    assert api["bilingual"] is True and api["results"]
    assert all(h["lang"] == "en" for h in api["results"] if h["translations"])


# -- incremental links and exact duplicates ------------------------------------------------------------------

def test_links_follow_incremental_updates(tmp_path):
    index_dir = tmp_path / "ix"
    (tmp_path / "fr").mkdir()
    (tmp_path / "en").mkdir()
    other = rec("other-fr", body="<p>Autre chose, 3 avril.</p>", title="Autre", date="2023-05-11")
    write_jsonl(tmp_path / "fr" / "a.jsonl", [rec("msg-7-fr"), other])
    update([tmp_path / "fr"], index_dir)
    assert stored(index_dir)["msg-7-fr"].get("translation", "") == ""
    # The English version arrives in a later run: both sides are linked.
    write_jsonl(tmp_path / "en" / "a.jsonl", [rec("msg-7-en", body=EN_BODY, lang="en",
                                                  title="Revision of the Forest Act", source="FOEN")])
    report = update([tmp_path / "fr", tmp_path / "en"], index_dir)
    docs = stored(index_dir)
    assert docs["msg-7-fr"]["translation"] == "msg-7-en" and docs["msg-7-en"]["translation"] == "msg-7-fr"
    assert report.added == 1 and report.updated == 0
    # The English version goes (its folder, given again, is gone): the French one is unlinked.
    shutil.rmtree(tmp_path / "en")
    update([tmp_path / "fr", tmp_path / "en"], index_dir)
    docs = stored(index_dir)
    assert set(docs) == {"msg-7-fr", "other-fr"} and docs["msg-7-fr"]["translation"] == ""


def test_content_link_without_any_explicit_hint(tmp_path):
    index_dir = tmp_path / "ix"
    write_jsonl(tmp_path / "a.jsonl", [rec("aaa"), rec("zzz", body=EN_BODY, lang="en", title="Forest Act",
                                                      source="FOEN", date="2023-05-11")])
    update([tmp_path / "a.jsonl"], index_dir)
    docs = stored(index_dir)
    assert docs["aaa"]["translation"] == "zzz" and docs["zzz"]["translation"] == "aaa"


def test_exact_duplicate_is_indexed_once_and_listed_then_promoted_when_the_kept_one_goes(tmp_path):
    index_dir = tmp_path / "ix"
    write_jsonl(tmp_path / "a.jsonl", [rec("kept", source="Office A")])
    write_jsonl(tmp_path / "b.jsonl", [rec("copy", source="Office B", title="Forêts : la loi révisée")])
    update([tmp_path / "a.jsonl"], index_dir)
    report = update([tmp_path / "a.jsonl", tmp_path / "b.jsonl"], index_dir)
    assert report.added == 1 and report.exact_duplicates == 1 and report.statements == 2
    assert any("exact duplicates" in line for line in report.lines())
    docs = stored(index_dir)
    assert docs["copy"]["duplicate_of"] == "kept" and docs["copy"]["group"] == docs["kept"]["group"]
    with Searcher(index_dir) as s:
        res = s.search("forêts montagne")
        assert [h["id"] for h in res.hits] == ["kept"] and res.total == 1  # one searchable document
        assert res.hits[0]["duplicates"] == [{"id": "copy", "source": "Office B",
                                              "url": "https://example.org/copy"}]
        assert s.search("", source="office b").total == 0
    # The kept statement's file goes: its copy comes back as a searchable statement.
    (tmp_path / "a.jsonl").unlink()
    update([tmp_path / "b.jsonl"], index_dir, prune=True)  # a.jsonl is not among the paths: --prune
    docs = stored(index_dir)
    assert set(docs) == {"copy"} and not docs["copy"].get("duplicate_of")
    with Searcher(index_dir) as s:
        assert [h["id"] for h in s.search("forêts montagne").hits] == ["copy"]


def test_exact_duplicates_within_one_run(tmp_path):
    index_dir = tmp_path / "ix"
    write_jsonl(tmp_path / "a.jsonl", [rec("one", source="Office A"), rec("two", source="Office B"),
                                       rec("three", source="Office C", date="2023-05-12")])
    report = update([tmp_path / "a.jsonl"], index_dir)
    assert report.exact_duplicates == 2 and report.statements == 3
    with Searcher(index_dir) as s:
        res = s.search("forêts")
        assert res.total == 1
        assert {d["id"] for d in res.hits[0]["duplicates"]} == {"two", "three"}


def test_near_duplicates_are_grouped_without_chaining():
    words = [f"w{i}" for i in range(100)]

    def st(id, ws, date):
        return Statement(id=id, origin="t", title="", body=" ".join(ws), lang="fr", date=date)

    a = st("a", words, "2020-01-01")
    b = st("b", words[:90] + [f"x{i}" for i in range(10)], "2020-01-02")  # like a
    c = st("c", words[:80] + [f"x{i}" for i in range(10)] + [f"y{i}" for i in range(10)], "2020-01-03")
    groups = near_duplicate_groups([a, b, c], threshold=0.75)
    # c is like b (J ≈ 0.8) but not like a (J < 0.75): it is not put in a's group through b
    assert groups == {"a": "a", "b": "a"}


# -- real pairs from ../shared -------------------------------------------------------------------------------

@pytest.mark.skipif(not NSB.exists(), reason="../shared/corpus/nsb not found")
def test_nsb_records_linked_by_their_id_stem(tmp_path):
    lines = []
    with gzip.open(NSB, "rt", encoding="utf-8") as f:
        for i, line in enumerate(f):  # a stretch of 2015: most records there have their other version
            if i >= 30_150:
                break
            if i >= 30_000:
                lines.append(line)
    (tmp_path / "nsb.jsonl").write_text("".join(lines), "utf-8")
    update([tmp_path / "nsb.jsonl"], tmp_path / "ix")
    docs = stored(tmp_path / "ix")
    ids = set(docs)
    pairs = {sid for sid in ids if sid.endswith("-fr") and sid[:-3] + "-en" in ids}
    assert len(pairs) > 20
    for sid in pairs:
        if docs[sid].get("duplicate_of") or docs[sid[:-3] + "-en"].get("duplicate_of"):
            continue
        assert docs[sid]["translation"] == sid[:-3] + "-en"
