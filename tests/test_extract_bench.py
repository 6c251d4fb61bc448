"""bench.extraction's article pages: two fixed halves, tuned on one (issue 18)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bench import extraction as ex

TRUTH = ex.SHARED / "eval" / "article-extraction" / "ground-truth.json"
pytestmark = pytest.mark.skipif(not TRUTH.exists(), reason="../shared/eval/article-extraction is missing")


def test_the_halves_are_fixed_disjoint_and_whole() -> None:
    keys = list(json.loads(TRUTH.read_text(encoding="utf-8")))
    split = ex.article_split(keys)
    assert set(split) == set(keys)
    tune = {k for k, half in split.items() if half == "tune"}
    assert abs(len(tune) - (len(keys) - len(tune))) <= 1
    assert ex.article_split(list(reversed(keys))) == split  # the order pages are listed in does not matter


def test_rules_are_tested_on_tune_pages_only() -> None:
    """The pages the extraction tests name are all in the tune half: the test half stays unseen."""
    split = ex.article_split(list(json.loads(TRUTH.read_text(encoding="utf-8"))))
    named: set[str] = set()
    for name in ("test_extract_articles.py", "test_extract_titles.py"):
        source = (Path(__file__).parent / name).read_text(encoding="utf-8")
        found = set(re.findall(r'"([0-9a-f]{8})"', source))
        assert found, name
        named |= found
    for prefix in named:
        (key,) = [k for k in split if k.startswith(prefix)]
        assert split[key] == "tune", prefix


@pytest.mark.slow
def test_run_reports_both_halves_beside_trafilatura() -> None:
    """One run: the whole article set and its two halves, presse beside trafilatura, and the press sets."""
    results = ex.run()
    articles = results[ex.ARTICLES]
    halves = articles["halves"]
    assert set(halves) == {"tune", "test"}
    assert halves["tune"]["pages"] + halves["test"]["pages"] == articles["pages"]
    for group in (articles, *halves.values()):
        assert {"presse", "trafilatura"} <= set(group["detail"])
        assert all(0 <= d["f1"] <= 1 and d["under"] >= 0 for d in group["detail"].values())
    assert {"yukon", "canada", "synthetic"} <= set(results)
