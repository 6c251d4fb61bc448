"""How many segments a big build leaves (issue 15: a built index has at most 3), on real NSB records."""

from __future__ import annotations

import gzip
import itertools
import sys
from pathlib import Path

import pytest

from bench.common import NSB
from indexer import update
from indexer.store import segment_count

pytestmark = pytest.mark.skipif(not NSB.exists(), reason="needs ../shared/corpus/nsb")


def nsb_head(path: Path, n: int) -> None:
    with gzip.open(NSB, "rb") as f, open(path, "wb") as out:
        out.writelines(itertools.islice(f, n))


@pytest.mark.slow
def test_a_build_of_under_two_segments_worth_leaves_at_most_three(tmp_path: Path, monkeypatch) -> None:
    """The full NSB build is this at scale: its statements are under 2 x SEGMENT_DOCS, so it writes one
    full segment, the next up to the last few percent of the input, and the small tail (3 in all)."""
    updating = sys.modules["indexer.updating"]
    with gzip.open(NSB, "rb") as f:
        records = sum(1 for _ in f)
    assert records < 2 * updating.SEGMENT_DOCS  # the whole of NSB: at most 3 segments
    monkeypatch.setattr(updating, "SEGMENT_DOCS", 400)
    folder = tmp_path / "c"
    folder.mkdir()
    nsb_head(folder / "nsb.jsonl", 790)
    report = update([folder], tmp_path / "ix", workers=True)
    assert report.statements == 790
    assert 2 <= segment_count(tmp_path / "ix") <= 3
