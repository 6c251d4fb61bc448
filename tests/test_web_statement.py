"""The statement page as a reader arrives on it from a search: the search's words marked and numbered with
"next match" anchors, the other-language version linked, the release number shown, and the archived copy
as every result's primary link with the source beside it. Real Yukon pages (the bundled sample's pairs),
indexed by `indexer.update` (conftest's sample_index)."""

from __future__ import annotations

import re
from html import unescape

import pytest


@pytest.fixture(scope="module")
def client(sample_index):
    from search.web.app import create_app

    app = create_app(str(sample_index), threads=1)
    app.testing = True
    return app.test_client()


def _hit_with_translation(client, q: str) -> dict:
    data = client.get(f"/api/search?q={q}&limit=20").get_json()
    hit = next((h for h in data["results"] if h["translations"] and h["url"]), None)
    assert hit is not None, f"no result of {q!r} with a translation"
    return hit


def test_results_link_to_the_archived_copy_with_the_search_and_the_source_beside(client):
    hit = _hit_with_translation(client, "yukon")
    page = client.get("/?q=yukon&limit=20").get_data(as_text=True)
    item = page[page.index(f'/statement/{hit["id"]}?q=yukon') - 400:]
    item = item[: item.index("</article>")]
    title = re.search(r'<h2 class="result-title"[^>]*><a href="([^"]+)"', item)
    assert title and unescape(title.group(1)) == f"/statement/{hit['id']}?q=yukon"
    assert f'class="source-link" href="{hit["url"]}"' in item
    tr = hit["translations"][0]
    assert f'href="/statement/{tr["id"]}?q=yukon"' in item


def test_statement_page_marks_and_numbers_the_searchs_words(client):
    hit = _hit_with_translation(client, "yukon")
    page = client.get(f"/statement/{hit['id']}?q=yukon").get_data(as_text=True)
    marks = re.findall(r'<mark id="m(\d+)">([^<]+)</mark><a class="next-match" href="#m(\d+)"', page)
    assert len(marks) >= 2
    numbers = [int(n) for n, _, _ in marks]
    assert numbers == list(range(1, len(marks) + 1))
    assert all(word.lower() == "yukon" for _, word, _ in marks)
    nexts = [int(n) for _, _, n in marks]
    assert nexts == numbers[1:] + [1]  # each to the next, the last back to the first
    assert f"{len(marks)} matches for “yukon”" in unescape(page)
    assert 'href="/?q=yukon"' in page  # back to the search


def test_statement_page_links_its_other_language_version(client):
    hit = _hit_with_translation(client, "yukon")
    tr = hit["translations"][0]
    page = client.get(f"/statement/{hit['id']}?q=yukon").get_data(as_text=True)
    link = re.search(r'<a class="translation-link" href="([^"]+)" lang="(\w+)"', page)
    assert link and link.group(2) == tr["lang"]
    assert unescape(link.group(1)) == f"/statement/{tr['id']}?q=yukon"
    other = client.get(unescape(link.group(1))).get_data(as_text=True)
    assert f'href="/statement/{hit["id"]}?q=yukon"' in other  # and back


def test_statement_page_shows_the_release_number_and_marks_nothing_without_a_query(client):
    hit = _hit_with_translation(client, "yukon")
    doc = client.get(f"/api/statements/{hit['id']}").get_json()
    page = client.get(f"/statement/{hit['id']}").get_data(as_text=True)
    assert doc["release"] and f"Release {doc['release']}" in page  # every Yukon release has its number
    assert "<mark" not in page and "matches for" not in page  # no query: nothing marked


def test_a_query_absent_from_this_version_says_so(client):
    hit = _hit_with_translation(client, "yukon")
    page = client.get(f"/statement/{hit['id']}?q=zzqxjkwv").get_data(as_text=True)
    assert "<mark" not in page and "is not in this version" in unescape(page)


def test_statement_page_shows_its_furniture_apart_from_its_text(client):
    """The ingester keeps media contacts and the date line out of the text (issue 18); the page shows
    them, each contact block on its own lines, under the text."""
    hit = _hit_with_translation(client, "yukon")
    doc = client.get(f"/api/statements/{hit['id']}").get_json()
    furniture = doc["extra"]["furniture"]
    assert furniture.get("contacts") and furniture.get("dateline")
    page = client.get(f"/statement/{hit['id']}").get_data(as_text=True)
    assert f'<p class="dateline">{furniture["dateline"]}</p>' in unescape(page)
    contacts = page[page.index('class="furniture contacts"'):]
    contacts = unescape(contacts[: contacts.index("</section>")])
    block = next(b for b in furniture["contacts"] if "\n" in b)
    assert f"<p>{block}</p>" in contacts  # its line breaks kept (white-space: pre-line)
    body = page[page.index('class="statement-body"'):page.index('class="furniture contacts"')]
    assert furniture["dateline"] not in unescape(body) and block.split("\n")[-1] not in unescape(body)
