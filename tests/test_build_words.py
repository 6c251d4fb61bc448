"""The typo index's words are counted as a run writes its statements (the reader worker lists each
statement's words, the writer counts those of the statements it keeps), not read back after the commit:
the typo index is the one reading every statement back would make, on real NSB records, for a fresh build
and for updates that replace, duplicate, stub and delete statements."""

from __future__ import annotations

import gzip
import itertools
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from bench.common import NSB
from indexer import typos, update
from indexer.store import open_index

pytestmark = pytest.mark.skipif(not NSB.exists(), reason="needs ../shared/corpus/nsb")


def nsb_records(n: int, skip: int = 0) -> list[dict]:
    with gzip.open(NSB, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in itertools.islice(f, skip, skip + n)]


def write_jsonl(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def same_arrays(a: typos.TypoArrays, b: typos.TypoArrays) -> bool:
    return all(np.array_equal(getattr(a, n), getattr(b, n)) for n in typos.ARRAYS)


def read_back(index_dir: Path) -> typos.TypoArrays:
    """The typo index made by reading every statement of the index back (what refresh did after a build)."""
    copy = index_dir.parent / f"{index_dir.name}-reread"
    shutil.copytree(index_dir, copy)
    (copy / typos.TYPOS_NAME).unlink()
    report = typos.refresh(copy, open_index(copy))
    assert report.rebuilt and report.statements_read > 0
    return typos.load(copy)


@pytest.mark.slow
def test_a_build_counts_the_words_as_it_writes(tmp_path: Path, monkeypatch) -> None:
    updating = sys.modules["indexer.updating"]
    monkeypatch.setattr(updating, "SEGMENT_DOCS", 300)  # several segments, the reader in its worker
    (tmp_path / "c").mkdir()
    records = nsb_records(900)
    records += [dict(records[5], id="copy-of-5"), dict(records[7], id="copy-of-7")]  # exact duplicates: stubs
    write_jsonl(tmp_path / "c" / "a.jsonl", records)
    reads: list[int] = []
    segment_words = typos._segment_words
    monkeypatch.setattr(typos, "_segment_words", lambda leaf, into: (reads.append(leaf.doc_count()),
                                                                     segment_words(leaf, into))[1])
    report = update([tmp_path / "c"], tmp_path / "ix", workers=True)
    assert report.statements == len(records) and report.exact_duplicates >= 2
    assert reads == []  # no statement was read back for the typo index
    monkeypatch.undo()
    built = typos.load(tmp_path / "ix")
    assert len(built.words) > 10_000
    assert same_arrays(built, read_back(tmp_path / "ix"))


@pytest.mark.slow
@pytest.mark.parametrize("workers", [True, False])
def test_updates_count_what_reading_back_would(tmp_path: Path, monkeypatch, workers: bool) -> None:
    """The same runs twice: counting as they write, and reading the new segments back (the old way). Each
    run's typo index is the same; the second run replaces, deletes, duplicates ids across inputs and adds
    exact copies (stubs), so links and groups of indexed statements are written again too."""
    first = nsb_records(400)
    edited = [dict(r, title=r["title"] + " Zyxwvutsrq") for r in first[:30]]
    second = edited + first[30:350] + nsb_records(60, skip=400)  # 50 statements gone, 60 new
    other = [dict(first[100], title="Qwertzuiop"), dict(first[120], id="copy-of-120"),
             dict(first[3], id="copy-of-3")]  # an id also in a.jsonl (b.jsonl wins), two exact copies

    def run(index_dir: Path, corpus: Path, counted: bool) -> list[typos.TypoArrays]:
        refresh = typos.refresh
        if not counted:
            monkeypatch.setattr(typos, "refresh", lambda d, ix, counted=None: refresh(d, ix))
        corpus.mkdir()
        out = []
        for records, extra in ((first, None), (second, other)):
            write_jsonl(corpus / "a.jsonl", records)
            if extra is not None:
                write_jsonl(corpus / "b.jsonl", extra)
            update([corpus], index_dir, workers=workers)
            out.append(typos.load(index_dir))
        monkeypatch.undo()
        return out

    counted = run(tmp_path / "ix1", tmp_path / "c1", counted=True)
    reread = run(tmp_path / "ix2", tmp_path / "c2", counted=False)
    assert len(counted[1].words) > len(counted[0].words)
    assert b"zyxwvutsrq" in counted[1].words.tolist() and b"qwertzuiop" in counted[1].words.tolist()
    for a, b in zip(counted, reread, strict=True):
        assert same_arrays(a, b)
