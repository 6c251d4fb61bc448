"""How a build shares its work between the reader worker and the writer (indexer.updating._Share), and
what the reader computes once for both: on real NSB records, a build that analyses every text in the
reader, with the memoised chain, gives the index that Whoosh's own analysis in one process gives."""

from __future__ import annotations

import gzip
import itertools
import multiprocessing
import pickle
import sys
import time
from pathlib import Path

import pytest

from bench.common import NSB
from corpus import Statement, read_paths
from indexer import duplicates, update
from indexer.duplicates import exact_key
from indexer.schema import LangText
from indexer.store import open_index

pytestmark = pytest.mark.skipif(not NSB.exists(), reason="needs ../shared/corpus/nsb")


def nsb_file(path: Path, n: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(NSB, "rb") as f:
        path.write_bytes(b"".join(itertools.islice(f, n)))
    return path


def share():
    return sys.modules["indexer.updating"]._Share(multiprocessing.get_context("fork"))


def test_a_writer_behind_gives_the_reader_more_work_before_a_send_blocks() -> None:
    s = share()
    s.backlog.value = s.AHEAD + 1  # batches wait in the writer's buffer; the reader's sends do not block
    for _ in range(5):
        s.adjust(0.0)
    assert s.fraction == pytest.approx(5 * s.STEP)


def test_a_send_that_waits_on_the_pipe_alone_is_no_backlog() -> None:
    """A batch is larger than the pipe's buffer and the writer's receiving thread waits for the interpreter
    lock: a send blocks some milliseconds whatever the backlog. With the writer waiting for work, that is
    not the writer behind (it was, and the reader took all the analysis while the writer sat idle)."""
    s = share()
    s.backlog.value = 0
    for _ in range(5):
        s.writer_wait.value += 0.05  # the writer waited to receive
        s.adjust(0.02)  # a 20 ms send, as measured on a loaded 2-core machine
    assert s.fraction == pytest.approx(-5 * s.STEP)
    s.adjust(2 * s.BLOCKED)  # a send blocked that long: the writer's buffer is full
    assert s.fraction == pytest.approx(-4 * s.STEP)


def test_a_waiting_writer_takes_work_back() -> None:
    s = share()
    s.fraction = 0.5
    s.backlog.value = 0
    s.writer_wait.value = 1.0  # the writer waited to receive
    s.adjust(0.0)
    assert s.fraction == pytest.approx(0.5 - s.STEP)
    s.backlog.value = 2  # neither side waits: the share stays
    s.writer_wait.value = 1.0
    s.adjust(0.0)
    assert s.fraction == pytest.approx(0.5 - s.STEP)


@pytest.mark.parametrize("fraction", [-1.0, 0.0, 1.0])
def test_the_reader_lists_a_body_once_for_its_exact_key_and_its_sketch(tmp_path: Path, monkeypatch,
                                                                       fraction: float) -> None:
    documents = sys.modules["indexer.updating"]._Documents
    calls: list[int] = []
    real = duplicates.words
    monkeypatch.setattr(duplicates, "words", lambda text: (calls.append(1), real(text))[1])
    s = share()
    s.fraction = fraction
    make = documents(s).make
    path = nsb_file(tmp_path / "c" / "a.jsonl", 60)
    sts = [st for st in read_paths([str(path)]) if isinstance(st, Statement)]
    for st in sts:
        calls.clear()
        doc = make(st, "key")
        assert len(calls) == 1
        monkeypatch.setattr(duplicates, "words", real)
        assert doc["exact"] == exact_key(st)
        monkeypatch.setattr(duplicates, "words", lambda text: (calls.append(1), real(text))[1])


def postings_by_id(index_dir: Path) -> dict:
    """Every posting of the live documents, by statement id: (field, term) -> {id: (weight, value)}."""
    out: dict = {}
    with open_index(index_dir).searcher() as s:
        ids = {d: f["id"] for d, f in s.iter_docs()}
        for field, text in s.reader().all_terms():
            m = s.postings(field, text)
            got = {}
            while m.is_active():
                if m.id() in ids:
                    got[ids[m.id()]] = (m.weight(), m.value())
                m.next()
            if got:
                out[(field, text)] = got
    return out


@pytest.mark.slow
def test_a_build_analysed_in_the_reader_is_the_one_whoosh_analysis_makes(tmp_path: Path, monkeypatch) -> None:
    corpus = nsb_file(tmp_path / "c" / "nsb.jsonl", 400)
    updating = sys.modules["indexer.updating"]
    monkeypatch.setattr(updating, "SEGMENT_DOCS", 150)
    monkeypatch.setattr(updating._Share, "adjust", lambda self, blocked: setattr(self, "fraction", 1.0))
    update([corpus], tmp_path / "reader", workers=True)
    monkeypatch.setattr(LangText, "_find_chain_lang", lambda self: None)  # Whoosh's own analysis path
    update([corpus], tmp_path / "whoosh", workers=False)
    assert len(open_index(tmp_path / "reader")._segments()) >= 2
    mine, theirs = postings_by_id(tmp_path / "reader"), postings_by_id(tmp_path / "whoosh")
    assert len(mine) > 10_000
    assert mine == theirs


def _quick_reader(conn, jobs, known, share, parent) -> None:
    """A reader worker that sends 20 small batches at once, then the end."""
    updating = sys.modules["indexer.updating"]
    for i in range(20):
        conn.send_bytes(pickle.dumps([i]))
    conn.send_bytes(updating._END)
    conn.close()


def test_the_backlog_grows_while_the_writer_is_busy(monkeypatch) -> None:
    """Batches that arrive while the writer is busy (finishing a segment) count as its backlog at once,
    not only when it next takes one: the reader takes more of the work while the writer cannot."""
    updating = sys.modules["indexer.updating"]
    shares = []

    class Seen(updating._Share):
        def __init__(self, ctx) -> None:
            super().__init__(ctx)
            shares.append(self)

    monkeypatch.setattr(updating, "_Share", Seen)
    monkeypatch.setattr(updating, "_worker", _quick_reader)
    batches = updating._batches([], {}, True)
    assert next(batches) == [0]
    (share_seen,) = shares
    deadline = time.monotonic() + 10  # a hang guard: the 19 others and the end arrive in milliseconds
    while share_seen.backlog.value < 19 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert share_seen.backlog.value >= 19  # the writer has not taken another one yet
    assert list(batches) == [[i] for i in range(1, 20)]
