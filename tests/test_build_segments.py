"""How many segments a big build leaves and what each holds (issue 15: a built index has at most 3), on
real NSB records: a segment every SEGMENT_DOCS statements while reading goes on, a smaller tail started
while reading goes on too (TAIL_RATIO), and a commit that rewrites a segment mostly deleted by a later
run."""

from __future__ import annotations

import gzip
import itertools
import json
import sys
from pathlib import Path

import pytest

from bench.common import NSB
from indexer import update
from indexer.store import open_index, segment_count

pytestmark = pytest.mark.skipif(not NSB.exists(), reason="needs ../shared/corpus/nsb")


def nsb_head(path: Path, n: int) -> None:
    with gzip.open(NSB, "rb") as f, open(path, "wb") as out:
        out.writelines(itertools.islice(f, n))


def segments(index_dir: Path) -> list[tuple[int, int]]:
    """(documents, deleted documents) of each segment, in the index's order."""
    return [(seg.doc_count_all(), seg.deleted_count()) for seg in open_index(index_dir)._segments()]


@pytest.fixture
def updating(monkeypatch):
    """indexer.updating with a segment every 400 statements (``full_size``: the real one)."""
    module = sys.modules["indexer.updating"]
    monkeypatch.setattr(module, "full_size", module.SEGMENT_DOCS, raising=False)
    monkeypatch.setattr(module, "SEGMENT_DOCS", 400)
    return module


@pytest.mark.slow
def test_a_build_of_under_two_segments_worth_leaves_at_most_three(tmp_path: Path, updating) -> None:
    """The full NSB build is this at scale: its statements are under 2 x SEGMENT_DOCS, so it writes one
    full segment, the next up to the last few percent of the input, and the small tail (3 in all)."""
    with gzip.open(NSB, "rb") as f:
        records = sum(1 for _ in f)
    assert records < 2 * updating.full_size  # the whole of NSB: at most 3 segments
    folder = tmp_path / "c"
    folder.mkdir()
    nsb_head(folder / "nsb.jsonl", 790)
    report = update([folder], tmp_path / "ix", workers=True)
    assert report.statements == 790
    assert segment_count(tmp_path / "ix") == 3
    (first, _), (second, _), (tail, _) = segments(tmp_path / "ix")
    assert first == updating.SEGMENT_DOCS  # rotated at SEGMENT_DOCS documents, not before or after
    # the tail: started when what is left to read is about TAIL_RATIO times the segment before it (plus the
    # documents the link pass writes again at the end), so that the reader reads it while the writer
    # finishes that segment, and it is the only one left to finish once reading is over
    assert 0.5 * updating.TAIL_RATIO * second <= tail < second
    assert tail <= 1.5 * updating.TAIL_RATIO * second + 40
    assert first + second + tail >= 790


@pytest.mark.slow
def test_a_build_under_one_segment_s_worth_still_finishes_its_bulk_while_reading(tmp_path: Path,
                                                                                 updating) -> None:
    folder = tmp_path / "c"
    folder.mkdir()
    nsb_head(folder / "nsb.jsonl", 390)
    assert update([folder], tmp_path / "ix", workers=True).statements == 390
    (bulk, _), (tail, _) = segments(tmp_path / "ix")
    assert tail < bulk and bulk + tail >= 390
    # read in this process: one segment, finished at the commit
    assert update([folder], tmp_path / "one", workers=False).statements == 390
    assert segment_count(tmp_path / "one") == 1


@pytest.mark.slow
def test_a_segment_mostly_replaced_by_a_later_run_is_rewritten(tmp_path: Path, updating) -> None:
    """Most of the first segment's statements change: the commit rewrites what is left of it (with the
    small segments) instead of keeping a segment of mostly deleted documents."""
    folder = tmp_path / "c"
    folder.mkdir()
    nsb_head(folder / "nsb.jsonl", 790)
    ix = tmp_path / "ix"
    update([folder], ix, workers=True)
    assert segment_count(ix) == 3
    live = open_index(ix).doc_count()
    lines = (folder / "nsb.jsonl").read_text("utf-8").splitlines()
    changed = []
    for i, line in enumerate(lines):
        rec = json.loads(line)
        if i < 300:  # 300 of the first segment's 400
            rec["title"] = f"{rec.get('title') or ''} (version corrigée)"
        changed.append(json.dumps(rec, ensure_ascii=False))
    (folder / "nsb.jsonl").write_text("\n".join(changed) + "\n", "utf-8")
    report = update([folder], ix, workers=True)
    assert report.updated >= 290 and report.statements == 790
    after = segments(ix)
    assert (updating.SEGMENT_DOCS, 300) not in after
    assert all(dead <= updating.MERGE_DELETED_SHARE * docs for docs, dead in after), after
    assert sum(docs - dead for docs, dead in after) == live
