"""Duplicate groups of undated statements (indexer.documents.group_key): a shared title is no duplicate when
no date keeps routine titles apart. Real pages: the service-public pages that open on the same Covid-19
notice, which the ingester takes as their title, are different pages with different answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.statement import Statement
from search import Searcher
from tests.indexes import index_statements

SPF = Path(__file__).resolve().parents[2] / "shared" / "eval" / "spf" / "docs.jsonl"


@pytest.fixture(scope="module")
def banner_pages():
    from collections import Counter

    from corpus.inputs import read_paths

    if not SPF.is_file():
        pytest.skip("../shared/eval/spf is missing")
    pages = [x for x in read_paths([SPF]) if isinstance(x, Statement) and not x.date]
    notices = Counter(p.title for p in pages if p.title.startswith("Face à la propagation"))
    title, n = notices.most_common(1)[0]
    assert n >= 5, "several undated pages share the notice as their title"
    return [p for p in pages if p.title == title]


def test_undated_statements_with_one_title_are_not_duplicates(banner_pages, tmp_path):
    assert len({p.body for p in banner_pages}) == len(banner_pages)  # different texts
    with Searcher(index_statements(banner_pages, tmp_path / "index")) as s:
        res = s.search(banner_pages[0].title, limit=50)
        assert res.total == len(banner_pages)
        assert len(res.hits) == len(banner_pages) and not any(h.get("duplicates") for h in res.hits)


def test_an_undated_exact_copy_is_still_a_duplicate(banner_pages, tmp_path):
    from dataclasses import replace

    page = banner_pages[0]
    copy = replace(page, id=page.id + "-copy", url=page.url + "?copy")
    with Searcher(index_statements([page, copy, banner_pages[1]], tmp_path / "index")) as s:
        hits = s.search(page.title, limit=10).hits
        assert len(hits) == 2 and sum(len(h.get("duplicates") or []) for h in hits) == 1
