"""Exporting a whole result list: `search.export` (every match, in order, page by page), the page's
/export.csv and /export.jsonl downloads. The index: conftest's sample_index (`indexer.update`)."""

from __future__ import annotations

import csv
import io
import json

import pytest


@pytest.fixture(scope="module")
def searcher(sample_index):
    from search import Searcher

    with Searcher(sample_index) as s:
        yield s


@pytest.fixture(scope="module")
def client(sample_index):
    from search.web.app import create_app

    app = create_app(str(sample_index), threads=1)
    app.testing = True
    return app.test_client()


def test_export_lists_every_match_in_the_searchs_order(searcher, monkeypatch):
    from search import export

    monkeypatch.setattr(export, "BATCH", 7)  # several search calls: the pages must join up exactly
    rows = list(export.export_hits(searcher, "yukon"))
    assert len(rows) > 3 * export.BATCH
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    ids = [r["id"] for r in rows]
    assert len(set(ids)) == len(ids)
    one_page = searcher.search("yukon", limit=1000)
    assert ids == [h["id"] for h in one_page.hits] and one_page.pages == 1
    assert [r["id"] for r in export.export_hits(searcher, "yukon", max_results=5)] == ids[:5]


def test_csv_rows_carry_plain_snippets_and_linked_ids(searcher):
    from search.export import CSV_COLUMNS, csv_lines, export_hits

    text = "".join(csv_lines(export_hits(searcher, "caribou", lang="en")))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and tuple(rows[0]) == CSV_COLUMNS
    assert all(r["lang"] == "en" for r in rows)
    assert any("caribou" in r["snippet"].lower() for r in rows)
    assert not any("<mark>" in r["snippet"] for r in rows)
    assert any(r["translations"] for r in rows)  # Yukon pages have their French version


def test_page_offers_and_serves_both_exports(client):
    page = client.get("/?q=caribou&lang=fr").get_data(as_text=True)
    assert 'href="/export.csv?q=caribou&amp;lang=fr"' in page
    assert 'href="/export.jsonl?q=caribou&amp;lang=fr"' in page
    r = client.get("/export.csv?q=caribou&lang=fr")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.headers["Content-Disposition"] == 'attachment; filename="presse-caribou.csv"'
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    api = client.get("/api/search?q=caribou&lang=fr&limit=50").get_json()
    assert [row["id"] for row in rows] == [h["id"] for h in api["results"]]
    r = client.get("/export.jsonl?q=caribou&lang=fr")
    assert r.mimetype == "application/x-ndjson"
    lines = [json.loads(x) for x in r.get_data(as_text=True).splitlines()]
    assert [x["id"] for x in lines] == [row["id"] for row in rows]
    assert all({"rank", "title", "snippet", "translations"} <= set(x) for x in lines)


def test_export_errors_are_answers_not_tracebacks(client):
    assert client.get("/export.csv?since=nope").status_code == 400
    assert client.get("/export.jsonl?q=%22unclosed").status_code in (200, 400)
    empty = client.get("/export.csv?q=zzqxjkwv")
    assert empty.status_code == 200 and empty.get_data(as_text=True).strip() == ",".join(
        ("rank", "id", "date", "lang", "source", "place", "title", "url", "score", "snippet", "translations",
         "duplicates"))
