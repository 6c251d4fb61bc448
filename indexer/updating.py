"""Incremental update: bring the index in line with the statements under the given paths.

One run:

1. takes the write lock (:func:`indexer.store.write_lock`), opens (or creates) the index, loads the manifest;
2. lists the inputs (``corpus.iter_inputs``); an input whose size and mtime_ns — or, failing that, content
   hash — match the manifest is *unchanged* and not read;
3. reads the other inputs (``corpus.read_input``). For a large job this happens in a worker process that also
   runs part of the analysis (:func:`indexer.documents.pre_analyze`, balanced by :class:`_Share`), while
   this process writes, finishing a segment every ``SEGMENT_DOCS`` statements (:class:`_Adder`) so that
   building posting lists overlaps with reading: the CPU-heavy halves of a build run on two cores;
4. per statement: a new id is added, a known id whose content_hash differs is replaced, a known id with the
   same content_hash is left alone; ids an input no longer produces (and nothing else produced) are deleted;
5. commits (one atomic Whoosh commit; segments left empty by deletions are dropped, small or mostly deleted
   ones merged: :func:`_merge_policy`), then writes the manifest atomically.

What is removed (nothing is ever removed on a guess):

- an input indexed before is removed only when it lies under one of the run's paths (or is one of them) and
  is *gone*: ``stat`` says it does not exist (:func:`_gone`). A permission or I/O error keeps it, and inputs
  indexed from other paths stay: ``presse index new.html`` adds a file to an archive and removes nothing.
  ``prune=True`` (``presse index --prune``) also removes every input that is not under the run's paths;
  :func:`remove` (``presse remove``) removes every input under the given paths, present or not;
- an input that cannot be read (stat or hash fails) keeps its statements and its manifest entry;
- when a reader reports an ``incomplete`` problem (a record that could not be decoded, a file cut short, a
  read error), the statements that input gave before and did not give this time are kept.

Duplicate ids (the same id in two records), one rule whatever the order of runs: the copy from the input
whose key sorts last wins, and within one input the last record read. The others are counted under
``skipped["duplicate id (kept the last)"]``; a losing input remembers the id (``shadowed`` in the manifest)
and is read again when the winning input changes or goes, so that its copy comes back.

Paths: the manifest key and the stored ``input`` of a file is its absolute path as text
(:func:`indexer.manifest.display_path`: a name that is not UTF-8 is shown with ``\\xNN`` escapes); the
real path is still what is read.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import gc
import multiprocessing
import os
import pickle
import queue
import shutil
import signal
import stat
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import corpus
from corpus.statement import Problem, Statement
from corpus.summary import category
from indexer import integrity, postings, tables, typos
from indexer.documents import pre_analyze, statement_fields
from indexer.errors import IndexNotWritable
from indexer.linkpass import LINK_FIELDS, LINK_KEY, WORDS_KEY, LinkPass, link_record
from indexer.manifest import (
    InputEntry,
    Manifest,
    display_path,
    input_key,
    raw_name,
    rebuild_from_index,
    scan_file,
)
from indexer.segments import BulkWriter
from indexer.store import (
    INDEX_NAME,
    IndexMissing,
    create_or_open,
    index_exists,
    resolve_index_dir,
    write_lock,
)
from indexer.store import writer as open_writer

DUPLICATE = "duplicate id (kept the last)"
BATCH = 64  # statements per message from the reader process
WORKER_MIN_BYTES = 2_000_000  # below this much input to read, reading in-process is faster than a worker
WRITER_LIMITMB = 256  # posting pool of the Whoosh writer that merges old small segments (not BulkWriter)
# A big build writes a segment per SEGMENT_DOCS statements while reading goes on. Peak memory grows with it
# (full NSB build, writer: 872 MB with 12,000, 958 MB with 20,000, 1,056 MB with 30,000; with 30,000 since a
# finished segment frees its postings as they are written and the waiting batches stay pickled: see the
# commit log), and fewer segments make queries faster (NSB: 4 segments instead of 6, the query mix's median
# -11 %). 30,000: the whole of NSB (58,975) makes 3 (tests/test_build_segments.py).
SEGMENT_DOCS = 30_000
# The last segment of a big build is started when the input left to read is TAIL_RATIO times what the
# current segment holds (see _Adder.reading_at): the reader reads it while the writer finishes the current
# segment, then the writer catches up, and only that last segment is finished once reading is over.
TAIL_RATIO = 0.6
RECEIVE_AHEAD = 160  # batches buffered from the reader while the writer finishes a segment

Progress = Callable[[int, int, int], None]  # (bytes done, bytes total, statements read)


@dataclass
class UpdateReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # reason (category) -> count
    problems: list[Problem] = field(default_factory=list)  # everything the ingester reported, warnings too
    seconds: float = 0.0
    duplicates: int = 0
    exact_duplicates: int = 0  # statements whose text was already indexed: stored once, listed as duplicates
    linked: int = 0  # statements with a translation link among those written or re-linked this run
    warnings: dict[str, int] = field(default_factory=dict)  # warning category -> count
    disagreements: dict[str, int] = field(default_factory=dict)  # "declared→detected" -> count
    other_languages: dict[str, int] = field(default_factory=dict)  # lang -> statements written this run
    inputs_read: int = 0
    inputs_unchanged: int = 0
    inputs_removed: int = 0
    statements: int = 0  # statements in the index after the run
    index_dir: str = ""
    repaired: str = ""  # what was damaged, when this run rebuilt a damaged index (indexer.integrity.repair)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": self.added, "updated": self.updated, "removed": self.removed,
            "unchanged": self.unchanged,
            "skipped": dict(self.skipped), "duplicates": self.duplicates,
            "exact_duplicates": self.exact_duplicates, "linked": self.linked, "warnings": dict(self.warnings),
            "disagreements": dict(self.disagreements), "other_languages": dict(self.other_languages),
            "inputs": {"read": self.inputs_read, "unchanged": self.inputs_unchanged,
                       "removed": self.inputs_removed},
            "statements": self.statements, "seconds": round(self.seconds, 3), "index_dir": self.index_dir,
            "repaired": self.repaired,
            "problems": [{"where": display_path(p.where()), "reason": display_path(p.reason), "kind": p.kind,
                          "incomplete": p.incomplete} for p in self.problems],
        }

    def lines(self) -> list[str]:
        out = [
            f"index: {display_path(self.index_dir)} ({self.statements} statements)",
            f"statements: {self.added} added, {self.updated} updated, {self.removed} removed, "
            f"{self.unchanged} unchanged",
            f"inputs: {self.inputs_read} read, {self.inputs_unchanged} unchanged, "
            f"{self.inputs_removed} removed",
        ]
        if self.repaired:
            out.insert(1, f"index was damaged ({self.repaired}): rebuilt")
        skipped = sum(self.skipped.values())
        out.append(f"skipped: {skipped}")
        out += [f"  {n:7d}  {reason}" for reason, n in sorted(self.skipped.items(), key=lambda kv: -kv[1])]
        if self.exact_duplicates:
            out.append(f"exact duplicates (text already indexed, kept once and listed as duplicates): "
                       f"{self.exact_duplicates}")
        if self.disagreements:
            total = sum(self.disagreements.values())
            out.append(f"language disagreements (declared→text): {total} ({_counts(self.disagreements)})")
        if self.other_languages:
            total = sum(self.other_languages.values())
            detail = _counts(self.other_languages)
            out.append(f"other languages (indexed in the language-neutral fields): {total} ({detail})")
        out.append(f"time: {self.seconds:.1f} s")
        return out


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {n}" for k, n in sorted(counts.items(), key=lambda kv: -kv[1]))


# ---------------------------------------------------------------------------------------------------------
# Reading: a generator of message batches, run in-process or in a worker process.

@dataclass
class _Job:
    key: str
    inp: Any  # corpus.InputFile
    size: int  # bytes to read
    hash: str = ""  # known already when the main process had to hash to see the change
    lines: int = -1  # with the hash
    appended: bool = False  # only the lines appended since the last run are read (inp.start on)


# The reader's messages, in this order for each input: Started, then Read and Reported as the input gives
# them, then Ended; Progress now and then.

class Started(NamedTuple):
    """An input is about to be read: what the manifest will say of it (-1 and "" when stat failed)."""
    key: str
    size: int
    mtime_ns: int
    hash: str
    lines: int


class Read(NamedTuple):
    """A statement. ``doc`` is None when it is known with the same content_hash under the same input
    (nothing to write), unless its id was already seen in this run (a duplicate carries its document)."""
    key: str
    id: str
    content_hash: str
    lang: str
    declared_lang: str
    doc: dict[str, Any] | None


class Reported(NamedTuple):
    """A problem the ingester reported for the input."""
    key: str
    problem: Problem


class Ended(NamedTuple):
    key: str


class ReadUpTo(NamedTuple):
    """The reader is at byte ``done`` of all the jobs' bytes."""
    done: int


Message = Started | Read | Reported | Ended | ReadUpTo


def _started(job: _Job) -> Started:
    path = str(job.inp.path)
    try:
        st = os.stat(path)
        if job.hash:
            digest, lines = job.hash, job.lines
        else:
            scan = scan_file(path)
            digest, lines = scan.hash, scan.lines
    except OSError:
        return Started(job.key, -1, -1, "", -1)
    return Started(job.key, st.st_size, st.st_mtime_ns, digest, lines)


class _Documents:
    """Makes the documents to write, shifting part of the work to the writer or taking part of its work,
    per :class:`_Share`: a steady rate of ``|share.fraction|`` of the documents takes its turn."""

    def __init__(self, share: _Share | None) -> None:
        self.share = share
        self._acc = 0.0

    def make(self, item: Statement, key: str) -> dict[str, Any]:
        share = self.share
        self._acc += abs(share.fraction) if share is not None else 0.0
        turn = self._acc >= 1.0
        if turn:
            self._acc -= 1.0
        record = None
        if share is None or share.fraction >= 0 or not turn:
            # computed beside the text; otherwise LinkPass.add computes it in the writer
            record = link_record(item)
        # the sketch has the exact key already: the body's words are not listed and hashed twice
        doc = statement_fields(item, input=key, exact=record[0].exact if record is not None else None)
        doc[WORDS_KEY] = typos.statement_words(item.title, item.body)  # counted by the writer (LinkPass)
        if record is not None:
            doc[LINK_KEY] = record
        if turn and share.fraction > 0:
            doc = pre_analyze(doc)
        return doc


def _read_jobs(jobs: list[_Job], known: dict[str, dict[str, str]],
               share: _Share | None) -> Iterator[list[Message]]:
    """Batches of messages for ``jobs``, in order; ``known``: input key -> {id: content_hash} indexed."""
    seen: set[str] = set()
    documents = _Documents(share)
    done_bytes = 0
    for job in jobs:
        batch: list[Message] = [_started(job)]
        old = known.get(job.key, {})
        for item in corpus.read_input(job.inp):
            if isinstance(item, Statement):
                # made from the file name (a page's id is its path): shown as valid UTF-8, like the key
                item.id, item.origin = display_path(item.id), display_path(item.origin)
                doc = None
                if item.id in seen or old.get(item.id) != item.content_hash:
                    doc = documents.make(item, job.key)
                seen.add(item.id)
                batch.append(Read(job.key, item.id, item.content_hash, item.lang, item.declared_lang, doc))
            else:
                batch.append(Reported(job.key, item))
            if len(batch) >= BATCH:
                if job.inp.bytes_read:  # the reader's own count, inside a big JSON Lines or WARC file
                    batch.append(ReadUpTo(done_bytes + min(max(job.inp.bytes_read - job.inp.start, 0),
                                                           job.size)))
                yield batch
                batch = []
        done_bytes += job.size
        batch += [Ended(job.key), ReadUpTo(done_bytes)]
        yield batch


class _Share:
    """How work is shared between the reader worker and the writer, balanced as the build goes.

    The reader (extraction) and the writer (adding postings, finishing segments) run in two processes. Two
    kinds of work can be done on either side: the analysis of a document's text, and its link record (the
    MinHash sketch and content features of :func:`indexer.linkpass.link_record`). ``fraction`` goes from
    -1 to 1: above 0 the worker also pre-analyses that share of the documents; below 0 it leaves the link
    records of that share to the writer. It is steered by the writer's backlog, the batches received and
    not yet written (``backlog``, set by the writer): while it is above ``AHEAD`` batches the writer is the
    slower side and the reader takes more work; when it is empty and the writer waited to receive, the
    reader is the slower side and leaves more to the writer. The backlog is counted as batches arrive as
    well as when the writer takes them, so that it grows while the writer finishes a segment. So both cores
    stay busy whatever the corpus (cheap JSON fragments or heavy HTML pages).

    (The signal used to be the reader's blocked sends alone; but the writer receives ahead up to
    RECEIVE_AHEAD batches, so a send blocked only once that buffer was full: on a build that fits in it,
    never, and the writer did most of the analysis while the reader had time to spare. Then any send that
    blocked over a millisecond counted as a backlog; but a batch is larger than the pipe's buffer, and the
    writer's receiving thread waits for its turn at the interpreter lock: a send blocks for ~20 ms whatever
    the backlog, and the reader took all the analysis while the writer waited for it. A send blocked over
    BLOCKED seconds still counts: the writer's buffer is full.)"""

    STEP = 0.05
    AHEAD = 4  # batches waiting in the writer's backlog: above this, the writer is the slower side
    BLOCKED = 0.25  # seconds a send must block to show a full buffer, not the pipe's and the lock's latency

    def __init__(self, ctx) -> None:
        self.fraction = 0.0
        self.writer_wait = ctx.Value("d", 0.0, lock=False)  # seconds the writer spent waiting to receive
        self.backlog = ctx.Value("i", 0, lock=False)  # batches received by the writer, not yet taken
        self._seen_wait = 0.0

    def adjust(self, send_blocked: float) -> None:
        waited = self.writer_wait.value
        writer_idle, self._seen_wait = waited - self._seen_wait, waited
        if send_blocked > self.BLOCKED or self.backlog.value > self.AHEAD:
            self.fraction = min(1.0, self.fraction + self.STEP)
        elif writer_idle > send_blocked and self.backlog.value == 0:
            self.fraction = max(-1.0, self.fraction - self.STEP)


_END = pickle.dumps(None, protocol=pickle.HIGHEST_PROTOCOL)  # the reader's last message


def _die_with_parent(parent: int) -> None:
    try:  # Linux: the worker is killed when the process that started it dies (e.g. kill -9)
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # it died before the line above
        os._exit(1)


def _worker(conn, jobs, known, share: _Share, parent: int) -> None:
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what an interrupt means
    try:
        for batch in _read_jobs(jobs, known, share):
            t = time.perf_counter()
            conn.send_bytes(pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL))
            share.adjust(time.perf_counter() - t)
        conn.send_bytes(_END)
    except BrokenPipeError:
        pass
    finally:
        conn.close()


def _batches(jobs: list[_Job], known: dict[str, dict[str, str]], use_worker: bool) -> Iterator[list[Message]]:
    if not use_worker:
        yield from _read_jobs(jobs, known, None)
        return
    ctx = multiprocessing.get_context("fork")
    recv_end, send_end = ctx.Pipe(duplex=False)
    share = _Share(ctx)
    proc = ctx.Process(target=_worker, args=(send_end, jobs, known, share, os.getpid()), name="presse-reader",
                       daemon=True)
    proc.start()
    send_end.close()
    wait, backlog = share.writer_wait, share.backlog
    # A thread receives ahead, so the reader keeps going while this process finishes a segment. It keeps
    # the batches as they came, pickled: several times smaller than the documents they hold, and thousands
    # of documents wait there while a segment is finished (the peak memory of a build).
    ahead: queue.Queue = queue.Queue(RECEIVE_AHEAD)
    stop = threading.Event()

    def receive() -> None:
        while not stop.is_set():
            try:
                data = recv_end.recv_bytes()
            except (EOFError, OSError):
                ahead.put(EOFError)
                return
            ahead.put(data)
            backlog.value = ahead.qsize()
            if data == _END:
                return

    receiver = threading.Thread(target=receive, name="presse-receive", daemon=True)
    receiver.start()
    try:
        while True:
            t = time.perf_counter()
            data = ahead.get()
            wait.value += time.perf_counter() - t
            backlog.value = ahead.qsize()
            if data is EOFError:
                proc.join(1)
                raise RuntimeError(f"the reader process died (exit code {proc.exitcode})")
            if data == _END:
                break
            yield pickle.loads(data)
    finally:
        stop.set()
        if proc.is_alive():
            proc.kill()
        proc.join()
        while receiver.is_alive():  # unblock it if the queue is full
            try:
                ahead.get_nowait()
            except queue.Empty:
                receiver.join(0.05)
        recv_end.close()


class _Adder:
    """Adds documents to new segments, finishing a segment every ``rotate`` documents.

    Whoosh builds a segment's postings only when the segment is finished (the sort/merge and writing of
    the posting lists: the most expensive part of a build). With one segment per update that work all
    comes after reading is over; with a segment per ``rotate`` documents it happens while the reader
    worker keeps extracting the next statements. The segments are published together by one commit
    (:func:`_commit`), so the update stays atomic. Uses the same Whoosh internals as its MpWriter."""

    def __init__(self, ix, rotate: int | None, compound: bool) -> None:
        self.ix, self.rotate, self.compound = ix, rotate, compound
        self._tail = False  # the segment that takes the end of the input has been started
        self._added = 0  # documents added, all segments
        self.done: list = []  # finished segments
        self.current = None

    def add(self, doc: dict[str, Any]) -> tuple[int, int]:
        """Add a document; its place (segment slot, docnum in that segment), to delete it later if need be."""
        if self.current is None:
            self.current = BulkWriter(self.ix, _lk=False, compound=self.compound)
        slot, docnum = len(self.done), self.current.docnum
        self.current.add_document(**doc)
        self._added += 1
        if self.rotate and self.current.docnum >= self.rotate:
            self._finish_current()
        return slot, docnum

    def reading_at(self, done: int, total: int) -> None:
        """Reading has reached byte ``done`` of ``total``: near the end, finish the segment early, when what
        is left to read (TAIL_RATIO times the segment, in bytes read per document) takes the reader about as
        long as finishing the segment and catching up takes the writer. Finishing it once reading is over
        would leave the reader idle the while (a segment of 27,000 statements: ~35 s)."""
        current = self.current
        if (self.rotate and not self._tail and total and self._added and current is not None
                and current.docnum >= self.rotate // 8
                and total - done <= TAIL_RATIO * current.docnum * done / self._added):
            self._tail = True
            self._finish_current()

    def delete(self, place: tuple[int, int]) -> None:
        slot, docnum = place
        segment = self.done[slot] if slot < len(self.done) else self.current.newsegment
        segment.delete_document(docnum)

    def _finish_current(self) -> None:
        w, self.current = self.current, None
        self.done.append(w._finalize_segment())  # its temporary runs are consumed; MAIN.tmp goes at commit
        w.is_closed = True

    def finish(self) -> list:
        if self.current is not None:
            if self.current.docnum:
                self._finish_current()
            else:
                self.current._close_segment()
                self.current = None
        return self.done

    def cancel(self) -> None:
        if self.current is not None:
            self.current._close_segment()
            self.current = None


MERGE_DELETED_SHARE = 0.5  # a segment more than this share of whose documents are deleted is rewritten


def _merge_policy(writer, segments: list) -> list:
    """Whoosh's MERGE_SMALL, after two steps it does not take: a segment whose documents are all deleted is
    dropped (it would stay on disk for ever), and one that is mostly deleted documents is rewritten with the
    small ones. Returns the segments kept as they are; the merged ones go into ``writer``'s own segment."""
    from whoosh.reading import SegmentReader
    from whoosh.writing import MERGE_SMALL

    live = [seg for seg in segments if seg.doc_count()]
    heavy = [seg for seg in live if seg.deleted_count() > MERGE_DELETED_SHARE * seg.doc_count_all()]
    for seg in heavy:
        reader = SegmentReader(writer.storage, writer.schema, seg)
        writer.add_reader(reader)
        reader.close()
    return MERGE_SMALL(writer, [seg for seg in live if seg not in heavy])


def _commit(writer, segments: list) -> None:
    """One atomic commit: the writer's deletions and merges of old segments, plus the new segments."""
    final = writer._merge_segments(_merge_policy, None, None)
    if writer._added:  # old small segments merged into the writer's own segment
        final.append(writer._finalize_segment())
    else:
        writer._close_segment()
    writer._commit_toc(final + [s for s in segments if s.doc_count()])
    writer._finish()


@contextlib.contextmanager
def _locked(index_dir: Path, lock_timeout: float | None) -> Iterator[None]:
    """The write lock, with a clear error (not a traceback on MAIN_WRITELOCK) when the folder is read-only."""
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(write_lock(index_dir, lock_timeout))
        except OSError as err:
            raise IndexNotWritable(index_dir, err) from None
        # the lock file may be writable in a folder that is not: segments could not be written
        if not os.access(index_dir, os.W_OK | os.X_OK):
            raise IndexNotWritable(index_dir, PermissionError(13, "Permission denied"))
        yield


# ---------------------------------------------------------------------------------------------------------
# The update.

def update(paths: Iterable[str | Path], index_dir: Path | str | None = None, *,
           progress: Progress | None = None, lock_timeout: float | None = None,
           workers: bool | None = None, prune: bool = False) -> UpdateReport:
    """Bring the index at ``index_dir`` in line with the statements under ``paths``; see the module doc.

    Inputs indexed from other paths stay, unless ``prune`` (then the index holds only what is under
    ``paths``). ``progress(bytes_done, bytes_total, statements_read)`` is called as inputs are read.
    ``workers``: read in a worker process (True), in this process (False), or decide by the amount to read
    (None). Raises :class:`indexer.store.UpdateInProgress` when another update holds the lock past
    ``lock_timeout``, :class:`IndexNotWritable` when the index folder cannot be written.
    """
    return _update(paths, index_dir, progress=progress, lock_timeout=lock_timeout, workers=workers,
                   mode="prune" if prune else "update")


def remove(paths: Iterable[str | Path], index_dir: Path | str | None = None, *,
           lock_timeout: float | None = None) -> UpdateReport:
    """Remove from the index every statement whose input lies under one of ``paths`` (files or folders),
    whether the files still exist or not (``presse remove``). A statement whose id another input also holds
    comes back from that input. Raises :class:`indexer.store.IndexMissing` when there is no index."""
    index_dir = resolve_index_dir(index_dir)
    if not index_exists(index_dir):
        raise IndexMissing(index_dir)
    return _update(paths, index_dir, lock_timeout=lock_timeout, mode="remove")


def _update(paths: Iterable[str | Path], index_dir: Path | str | None, *, mode: str,
            progress: Progress | None = None, lock_timeout: float | None = None,
            workers: bool | None = None) -> UpdateReport:
    start = time.monotonic()
    index_dir = resolve_index_dir(index_dir)
    report = UpdateReport(index_dir=str(index_dir))
    with _locked(index_dir, lock_timeout):
        # A killed writer leaves its posting runs behind; with the lock held, nobody else is using them.
        shutil.rmtree(index_dir / f"{INDEX_NAME}.tmp", ignore_errors=True)
        checked = None  # the index as the repair's check opened it: not checked a second time
        if mode != "remove":
            paths, checked = integrity.repair(index_dir, paths, report)  # M9: rebuild
        ix = checked if checked is not None else create_or_open(index_dir)
        _add_missing_fields(ix)
        manifest = Manifest.load(index_dir)
        if manifest.generation != ix.latest_generation():
            # The manifest does not describe this index (first run, or a crash between commit and manifest).
            manifest = rebuild_from_index(ix, manifest)
        with _fewer_collections():
            counted = _run(ix, index_dir, [str(p) for p in paths], manifest, report, progress, workers, mode)
        typos.refresh(index_dir, ix, counted)  # the typo index follows the words of the commit
        postings.refresh(ix)  # each new segment's postings sidecar, if its writer did not write one
        tables.refresh(ix)  # what a search would build on its first query, stored for this commit
    report.seconds = time.monotonic() - start
    return report


@dataclass
class OptimizeReport:
    segments_before: int
    segments_after: int
    bytes_before: int
    bytes_after: int
    statements: int
    index_dir: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def lines(self) -> list[str]:
        return [f"index: {display_path(self.index_dir)} ({self.statements} statements)",
                f"segments: {self.segments_before} -> {self.segments_after}",
                f"size on disk: {self.bytes_before / 1e6:.1f} MB -> {self.bytes_after / 1e6:.1f} MB"]


def optimize(index_dir: Path | str | None = None, *, lock_timeout: float | None = None) -> OptimizeReport:
    """Merge the index into one segment without deleted documents (``presse optimize``): the smallest index
    and the fastest searches. Same statements, same search results. Holds the write lock meanwhile."""
    from indexer.store import index_size

    index_dir = resolve_index_dir(index_dir)
    if not index_exists(index_dir):
        raise IndexMissing(index_dir)
    with _locked(index_dir, lock_timeout):
        ix = create_or_open(index_dir)
        manifest = Manifest.load(index_dir)
        in_step = manifest.generation == ix.latest_generation()
        before, size_before = ix._segments(), index_size(index_dir)
        if len(before) > 1 or any(seg.has_deletions() for seg in before):
            w = open_writer(ix, limitmb=WRITER_LIMITMB)
            try:
                w.commit(optimize=True)
            except BaseException:
                w.cancel()
                raise
            if in_step:  # the manifest describes the new generation as well: same statements
                manifest.generation = ix.latest_generation()
                manifest.save(index_dir)
            postings.refresh(ix)  # the merged segment's postings sidecar (indexer.postings)
        tables.refresh(ix)  # what a search would build on its first query, stored for this commit
        ix = create_or_open(index_dir)
        return OptimizeReport(len(before), len(ix._segments()), size_before, index_size(index_dir),
                              ix.doc_count(), str(index_dir))


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run the cyclic garbage collector less often during an update (the reader worker inherits it).

    A build allocates millions of objects that live until a segment is finished (postings, documents in
    flight) and makes almost no reference cycles: at the default thresholds the collector scans that heap
    over and over for nothing (about 5% of the writer's CPU on NSB)."""
    before = gc.get_threshold()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _grown_job(key: str, inp, entry: InputEntry | None, size: int) -> _Job:
    """The job for a changed input. A plain JSON Lines file that only grew since its last run (its old
    content, ending with a newline, is the start of the new one) is read from its old size on."""
    if (entry is None or inp.kind != "jsonl" or entry.kind != "jsonl" or inp.path.name.lower().endswith(".gz")
            or not entry.hash or entry.lines < 0 or not 0 < entry.size < size):
        return _Job(key, inp, size)
    try:
        scan = scan_file(inp.path, prefix=entry.size)
    except OSError:
        return _Job(key, inp, size)
    if scan.prefix_hash != entry.hash or not scan.prefix_ends_line:
        return _Job(key, inp, size, scan.hash, scan.lines)  # read whole; the scan is not done again
    tail = dataclasses.replace(inp, start=entry.size, first_line=entry.lines + 1,
                               earlier_ids=frozenset(entry.ids))
    return _Job(key, tail, size - entry.size, scan.hash, scan.lines, appended=True)


def _add_missing_fields(ix) -> None:
    """An index made before the link fields existed: add them (a schema-only commit, no document changes)."""
    missing = [name for name in LINK_FIELDS if name not in ix.schema]
    if not missing:
        return
    from indexer.schema import make_schema

    schema = make_schema()
    w = open_writer(ix)
    try:
        for name in missing:
            w.add_field(name, schema[name])
    except BaseException:
        w.cancel()
        raise
    w.commit()


def _under(key: str, roots: list[str]) -> bool:
    """Whether the input ``key`` is one of the ``roots`` (keys of the paths given) or lies under one."""
    return any(key == root or key.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def _gone(path: str) -> bool:
    """The input no longer exists as a file. Only "no such file" says so: a permission or I/O error (an
    unreadable folder, a disk that hiccups) never deletes anything. ``stat`` follows a symbolic link, so a
    link whose target went is gone too."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return True
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode)


# ---------------------------------------------------------------------------------------------------------
# One run: plan, read, write.

class _Tally:
    """What a run counts as it goes into its report: problems, skipped and duplicate statements, languages."""

    def __init__(self, report: UpdateReport) -> None:
        self.report = report
        self.skipped: Counter[str] = Counter()
        self.warnings: Counter[str] = Counter()
        self.disagreements: Counter[str] = Counter()
        self.other_langs: Counter[str] = Counter()

    def note(self, problem: Problem) -> None:
        self.report.problems.append(problem)
        (self.skipped if problem.kind == "skipped" else self.warnings)[category(problem.reason)] += 1

    def duplicate(self) -> None:
        self.report.duplicates += 1
        self.skipped[DUPLICATE] += 1

    def unchanged_input(self, entry: InputEntry) -> None:
        self.report.inputs_unchanged += 1
        self.report.unchanged += len(entry.ids)

    def close(self, manifest: Manifest) -> None:
        report = self.report
        report.statements = manifest.statement_count()
        report.skipped, report.warnings = dict(self.skipped), dict(self.warnings)
        report.disagreements, report.other_languages = dict(self.disagreements), dict(self.other_langs)


@dataclass
class _Plan:
    """What a run reads and removes, from the inputs listed under its paths and the manifest."""

    jobs: list[_Job] = field(default_factory=list)  # inputs to read, in reading order
    removed: list[str] = field(default_factory=list)  # inputs whose statements go
    present: set[str] = field(default_factory=set)  # inputs listed and there
    kept: set[str] = field(default_factory=set)  # inputs that could not be looked at: they stay as they were
    refused: set[str] = field(default_factory=set)  # files the walker looked at and turned down
    order: dict[str, int] = field(default_factory=dict)  # inputs in the order they are listed
    listed: dict[str, Any] = field(default_factory=dict)  # key -> corpus.InputFile
    touched: bool = False  # an unchanged input's mtime was updated in the manifest: save it

    def keep(self, key: str, manifest: Manifest, report: UpdateReport) -> None:
        self.kept.add(key)
        report.unchanged += len(manifest.inputs[key].ids) if key in manifest.inputs else 0


def _plan(paths: list[str], manifest: Manifest, mode: str, tally: _Tally) -> _Plan:
    """Which inputs changed (to read), which are gone (to remove), which are read again for a shadowed id."""
    plan = _Plan()
    if mode != "remove":
        _plan_listed(plan, paths, manifest, tally)
    _plan_removed(plan, [input_key(p) for p in paths], manifest, mode, tally.report)
    _plan_shadows(plan, manifest, mode, tally.report)
    return plan


def _plan_listed(plan: _Plan, paths: list[str], manifest: Manifest, tally: _Tally) -> None:
    for item in corpus.iter_inputs(paths):
        if isinstance(item, Problem):
            tally.note(item)
            if not item.incomplete:
                plan.refused.add(input_key(item.path))
            continue
        key = input_key(item.path)
        if key in plan.present or key in plan.kept:
            continue
        plan.order[key] = len(plan.order)
        job = _job_for(plan, key, item, manifest, tally)
        if job is not None:
            plan.jobs.append(job)


def _job_for(plan: _Plan, key: str, item: Any, manifest: Manifest, tally: _Tally) -> _Job | None:
    """The job reading a listed input; None when it is unchanged, or cannot be looked at (then kept)."""
    try:
        st = os.stat(item.path)
    except OSError as err:
        tally.note(Problem(key, f"unreadable: {err.strerror or err}", incomplete=True))
        plan.keep(key, manifest, tally.report)
        return None
    plan.present.add(key)
    plan.listed[key] = item
    entry = manifest.inputs.get(key)
    if entry is None or not entry.hash or entry.size != st.st_size:
        return _grown_job(key, item, entry, st.st_size)
    if entry.mtime_ns == st.st_mtime_ns:
        tally.unchanged_input(entry)
        return None
    try:
        scan = scan_file(item.path)
    except OSError as err:
        tally.note(Problem(key, f"unreadable: {err.strerror or err}", incomplete=True))
        plan.present.discard(key)
        plan.keep(key, manifest, tally.report)
        return None
    if scan.hash == entry.hash:  # touched, not changed
        entry.mtime_ns = st.st_mtime_ns
        plan.touched = True
        tally.unchanged_input(entry)
        return None
    return _Job(key, item, st.st_size, scan.hash, scan.lines)


def _plan_removed(plan: _Plan, roots: list[str], manifest: Manifest, mode: str, report: UpdateReport) -> None:
    for key, entry in manifest.inputs.items():
        if key in plan.present or key in plan.kept:
            continue
        if _under(key, roots):
            if mode == "remove" or key in plan.refused or _gone(entry.real_path(key)):
                plan.removed.append(key)
            else:  # there, but not listed: under a folder that could not be read, say
                plan.keep(key, manifest, report)
        elif mode == "prune":
            plan.removed.append(key)


def _plan_shadows(plan: _Plan, manifest: Manifest, mode: str, report: UpdateReport) -> None:
    """An input holding a losing copy of a duplicate id is read again when the winner may go."""
    shadows: dict[str, list[str]] = {}
    for key, entry in manifest.inputs.items():
        for sid in entry.shadowed:
            shadows.setdefault(sid, []).append(key)
    if not shadows:
        return
    queued = {job.key for job in plan.jobs}
    going = set(plan.removed)
    extra = {key for gone in [*queued, *plan.removed] if gone in manifest.inputs
             for sid in manifest.inputs[gone].ids for key in shadows.get(sid, ())
             if key not in queued and key not in going and key not in plan.kept
             and (key in plan.present or mode == "remove")}
    for key in sorted(extra):
        real = manifest.inputs[key].real_path(key)
        for item in [plan.listed[key]] if key in plan.listed else corpus.iter_inputs([real]):
            if isinstance(item, Problem):
                continue
            try:
                size = os.stat(real).st_size
            except OSError:
                continue
            plan.jobs.append(_Job(key, item, size))
            if key in plan.present:  # counted as unchanged above
                report.inputs_unchanged -= 1
                report.unchanged -= len(manifest.inputs[key].ids)
    plan.jobs.sort(key=lambda job: (plan.order.get(job.key, len(plan.order)), job.key))


def _run(ix, index_dir: Path, paths: list[str], manifest: Manifest, report: UpdateReport,
         progress: Progress | None, workers: bool | None, mode: str) -> typos.Counted | None:
    """``mode``: "update" (inputs under ``paths`` are read; those gone are removed), "prune" (and inputs
    not under ``paths`` are removed), "remove" (inputs under ``paths`` are removed; nothing is listed).
    Returns the typo index's words of the segments it wrote (None when it wrote nothing)."""
    tally = _Tally(report)
    plan = _plan(paths, manifest, mode, tally)
    if not plan.jobs and not plan.removed:
        if plan.touched:
            manifest.save(index_dir)
        tally.close(manifest)
        return None
    known = {job.key: manifest.inputs[job.key].ids for job in plan.jobs if job.key in manifest.inputs}
    total_bytes = sum(job.size for job in plan.jobs)
    use_worker = workers if workers is not None else total_bytes >= WORKER_MIN_BYTES
    writing = _Writing(ix, manifest, plan, tally, use_worker)
    try:
        for batch in _batches(plan.jobs, known, use_worker):
            writing.apply(batch, total_bytes, progress)
        writing.delete_gone()
        writing.commit()
    except BaseException:
        writing.cancel()
        raise
    writing.save_manifest(index_dir)
    tally.close(manifest)
    return writing.counted


Place = tuple[int, int]  # where a document written this run is (see _Adder.add)


class _Writing:
    """The writing side of a run: applies the reader's messages to the index (a new id is added, a changed
    one replaced, duplicate ids follow the one rule of the module doc), deletes the statements that went,
    links, commits, then writes the manifest."""

    def __init__(self, ix, manifest: Manifest, plan: _Plan, tally: _Tally, use_worker: bool) -> None:
        self.ix, self.manifest, self.plan, self.tally, self.report = ix, manifest, plan, tally, tally.report
        self.owners = manifest.owners()
        self.reading = {job.key for job in plan.jobs}
        self.going = set(plan.removed)
        self.appended = {job.key for job in plan.jobs if job.appended}
        self.writer = open_writer(ix, limitmb=WRITER_LIMITMB)
        self.adder = _Adder(ix, SEGMENT_DOCS if use_worker else None, compound=not use_worker)
        # an empty index: nothing to delete, ever
        self.searcher = None if not self.owners else self.writer.searcher()
        self.deleted: set[str] = set()  # committed ids deleted this run
        self.links = LinkPass(self.adder, self.searcher, self._raw_delete)
        self.run_ids: dict[str, tuple[str, Place | None]] = {}  # id -> (input key, place if written)
        self.new_ids: dict[str, dict[str, str]] = {}  # input key -> {id: content_hash} for the manifest
        self.shadowed: dict[str, set[str]] = {}  # input key -> ids whose copy from it lost to a later one
        self.entries: dict[str, InputEntry] = {}
        self.problem_counts: Counter[str] = Counter()
        self.incomplete: set[str] = set()  # inputs whose reader could not read everything
        self.read_count = 0
        self.counted: typos.Counted | None = None  # the typo index's words of the segments written

    def _raw_delete(self, sid: str) -> None:
        if sid in self.owners and sid not in self.deleted:
            self.deleted.add(sid)
            self.writer.delete_by_term("id", sid, searcher=self.searcher)

    def _delete(self, sid: str) -> None:
        """Delete the committed statement ``sid`` (if any), telling the link pass."""
        if sid in self.owners and sid not in self.deleted:
            self.links.deleted(sid)
        self._raw_delete(sid)

    def _stays(self, key: str) -> bool:
        """The input ``key`` is neither read again nor removed this run."""
        return key not in self.reading and key not in self.going

    def apply(self, batch: list[Message], total_bytes: int, progress: Progress | None) -> None:
        self.links.look_ahead([m.id for m in batch if isinstance(m, Read) and m.doc is not None])
        for msg in batch:
            if isinstance(msg, Read):
                self._statement(msg)
            elif isinstance(msg, Reported):
                self.tally.note(msg.problem)
                self.problem_counts[msg.key] += 1
                if msg.problem.incomplete:
                    self.incomplete.add(msg.key)
            elif isinstance(msg, Started):
                self.entries[msg.key] = InputEntry(kind="", size=msg.size, mtime_ns=msg.mtime_ns,
                                                   hash=msg.hash, lines=msg.lines)
                # an appended-to file keeps the statements of its earlier lines
                earlier = dict(self.manifest.inputs[msg.key].ids) if msg.key in self.appended else {}
                self.new_ids.setdefault(msg.key, earlier)
            elif isinstance(msg, Ended):
                self.report.inputs_read += 1
            else:
                self.adder.reading_at(msg.done, total_bytes)
                if progress is not None:
                    progress(msg.done, total_bytes, self.read_count)

    def _statement(self, msg: Read) -> None:
        self.read_count += 1
        if msg.declared_lang and msg.declared_lang != msg.lang:
            self.tally.disagreements[f"{msg.declared_lang}→{msg.lang}"] += 1
        prev = self.run_ids.get(msg.id)
        taken, place = self._again(msg, *prev) if prev is not None else self._first(msg)
        if taken:
            self.run_ids[msg.id] = (msg.key, place)
            self.new_ids.setdefault(msg.key, {})[msg.id] = msg.content_hash

    def _again(self, msg: Read, pkey: str, pplace: Place | None) -> tuple[bool, Place | None]:
        """The same id again in this run: the copy from the input sorting last wins. (Taken?, its place.)"""
        self.tally.duplicate()
        sid, key = msg.id, msg.key
        if key < pkey:  # this copy loses; the one already taken stays
            self.shadowed.setdefault(key, set()).add(sid)
            return False, None
        self.new_ids[pkey].pop(sid, None)
        if pkey != key:
            self.shadowed.setdefault(pkey, set()).add(sid)
        if pplace is not None:
            self.adder.delete(pplace)
            self.links.forget(sid)
        if msg.doc is None:
            return True, None
        self._delete(sid)
        return True, self.links.add(msg.doc, self.owners)

    def _first(self, msg: Read) -> tuple[bool, Place | None]:
        """The first copy of an id in this run, against what the index holds. (Taken?, its place.)"""
        sid, key = msg.id, msg.key
        owner = self.owners.get(sid)
        okey = owner[0] if owner is not None else None
        if owner is not None and owner == (key, msg.content_hash):
            self.report.unchanged += 1
            return True, None
        if okey is not None and okey != key and self._stays(okey) and key < okey:
            # An input not read again holds it and sorts after this one: it keeps it.
            self.tally.duplicate()
            self.shadowed.setdefault(key, set()).add(sid)
            return False, None
        if msg.doc is None:  # cannot happen: the reader sends a document for any change
            raise RuntimeError(f"no document for changed statement {sid}")
        if okey is None:
            self.report.added += 1
        else:
            if self._stays(okey) and okey in self.manifest.inputs:
                # Moved from an input that is not read again: it is a duplicate there.
                self.manifest.inputs[okey].ids.pop(sid, None)
                if sid not in self.manifest.inputs[okey].shadowed:
                    self.manifest.inputs[okey].shadowed.append(sid)
                self.tally.duplicate()
            self._delete(sid)
            self.report.updated += 1
        if msg.lang not in ("fr", "en"):
            self.tally.other_langs[msg.lang or "unknown"] += 1
        return True, self.links.add(msg.doc, self.owners)

    def delete_gone(self) -> None:
        """Statements that disappeared: from inputs read again, and from inputs gone."""
        report, inputs, run_ids = self.report, self.manifest.inputs, self.run_ids
        to_delete: set[str] = set()
        for job in self.plan.jobs:
            old = inputs.get(job.key)
            if old is None:
                continue
            if job.appended:  # its earlier lines stay, unless an appended line replaced one of them
                report.unchanged += sum(1 for sid in old.ids if sid not in run_ids)
            elif job.key in self.incomplete:  # what it did not give this time may still be there: kept
                unread = {sid: chash for sid, chash in old.ids.items() if sid not in run_ids}
                self.new_ids.setdefault(job.key, {}).update(unread)
                report.unchanged += len(unread)
            else:
                to_delete.update(sid for sid in old.ids if sid not in run_ids)
        for key in self.plan.removed:
            to_delete.update(sid for sid in inputs[key].ids if sid not in run_ids)
        for sid in to_delete:
            self._delete(sid)
        report.removed = len(to_delete)
        report.inputs_removed = len(self.plan.removed)

    def commit(self) -> None:
        """Translation links and duplicate groups over what changed (rewrites only what differs), then the
        one atomic commit."""
        self.links.finish()
        self.report.exact_duplicates = self.links.exact_duplicates
        self.report.linked = self.links.links_written
        if self.searcher is not None:
            self.searcher.close()
            self.searcher = None
        segments = self.adder.finish()
        self.counted = typos.Counted({seg.segment_id() for seg in segments}, self.links.words)
        _commit(self.writer, segments)

    def cancel(self) -> None:
        if self.searcher is not None:
            self.searcher.close()
        self.adder.cancel()
        self.writer.cancel()

    def save_manifest(self, index_dir: Path) -> None:
        """The manifest, after the commit."""
        manifest = self.manifest
        for job in self.plan.jobs:
            entry = self.entries.get(job.key) or InputEntry(size=-1, mtime_ns=-1, hash="")
            entry.kind = job.inp.kind
            entry.raw = raw_name(job.inp.path)
            entry.ids = self.new_ids.get(job.key, {})
            entry.problems = self.problem_counts[job.key]
            entry.incomplete = job.key in self.incomplete
            entry.shadowed = sorted(self.shadowed.get(job.key, ()))
            if job.appended:  # what its earlier lines reported stays
                earlier = manifest.inputs[job.key]
                entry.problems += earlier.problems
                entry.shadowed = sorted({*earlier.shadowed, *entry.shadowed})
            manifest.inputs[job.key] = entry
        for key in self.plan.removed:
            del manifest.inputs[key]
        manifest.generation = self.ix.latest_generation()
        manifest.save(index_dir)
