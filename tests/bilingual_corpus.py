"""A small bilingual index of real Yukon pages for the bilingual-results and related tests.

Real EN/FR pairs from ../shared (the same file name under en/ and fr/, linked by the indexer), picked by
topic so that the queries have several candidates in both languages, plus a few English pages without their
French twin (statements that exist in one language only).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
YUKON = SHARED / "corpus" / "yukon"
TOPICS = {"wildfire": 8, "caribou": 8, "grizzly": 6, "food security": 8}
ENGLISH_ONLY = 3


def pick_pages() -> tuple[list[Path], list[Path]]:
    """(paired English pages, English-only pages) by topic, in file order."""
    if not (YUKON / "en").is_dir():
        pytest.skip("../shared/corpus/yukon is not there")
    pages = sorted((YUKON / "en").rglob("*.html"))
    texts = {p: p.read_text("utf-8", errors="replace").lower() for p in pages}
    paired: list[Path] = []
    for word, n in TOPICS.items():
        found = [p for p in pages if word in texts[p] and p not in paired]
        paired += [p for p in found if (YUKON / "fr" / p.relative_to(YUKON / "en")).exists()][:n]
    alone = [p for p in pages if "caribou" in texts[p] and p not in paired][:ENGLISH_ONLY]
    return paired, alone


def build(root: Path) -> Path:
    """Copy the picked pages under root/en and root/fr, index them with ``indexer.update``: the index dir."""
    from indexer import update

    paired, alone = pick_pages()
    for page in paired + alone:
        rel = page.relative_to(YUKON / "en")
        targets = [("en", page)] + ([("fr", YUKON / "fr" / rel)] if page in paired else [])
        for lang, src in targets:
            dest = root / "pages" / lang / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
    index_dir = root / "ix"
    update([root / "pages" / "en", root / "pages" / "fr"], index_dir)
    return index_dir


def fixtures(name: str):
    """The module-scoped fixtures ``index_dir`` (this corpus, indexed under a tmp folder ``name``) and
    ``searcher`` (a Searcher on it) for a test module: ``index_dir, searcher = fixtures("x")``."""
    from search import Searcher

    @pytest.fixture(scope="module")
    def index_dir(tmp_path_factory):
        return build(tmp_path_factory.mktemp(name))

    @pytest.fixture(scope="module")
    def searcher(index_dir):
        with Searcher(index_dir) as s:
            yield s

    return index_dir, searcher
