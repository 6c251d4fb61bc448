"""Incremental update: make the index mirror the statements under the given paths.

One run:

1. takes the write lock (:func:`indexer.store.write_lock`), opens (or creates) the index, loads the manifest;
2. lists the inputs (``corpus.iter_inputs``); an input whose size and mtime_ns — or, failing that, content
   hash — match the manifest is *unchanged* and not read; inputs gone from the paths are *removed*;
3. reads the other inputs (``corpus.read_input``). For a large job this happens in a worker process that also
   runs part of the analysis (:func:`indexer.documents.pre_analyze`, balanced by :class:`_Share`), while
   this process writes, finishing a segment every ``SEGMENT_DOCS`` statements (:class:`_Adder`) so that
   building posting lists overlaps with reading: the CPU-heavy halves of a build run on two cores;
4. per statement: a new id is added, a known id whose content_hash differs is replaced, a known id with the
   same content_hash is left alone; ids an input no longer produces (and nothing else produced) are deleted;
5. commits (one atomic Whoosh commit), then writes the manifest atomically.

Duplicate ids within a run (a record posted twice): the last one read wins, the others are counted under
``skipped["duplicate id (kept the last)"]``. Across files, the losing file remembers the id (``shadowed`` in
the manifest) and is read again when the winning file goes, so its copy comes back.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import gc
import multiprocessing
import os
import queue
import shutil
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import corpus
from corpus.statement import Problem, Statement
from corpus.summary import category
from indexer.documents import pre_analyze, statement_fields
from indexer.linkpass import LINK_FIELDS, LINK_KEY, LinkPass, link_record
from indexer.manifest import InputEntry, Manifest, rebuild_from_index, scan_file
from indexer.segments import BulkWriter
from indexer.store import INDEX_NAME, create_or_open, resolve_index_dir, write_lock
from indexer.store import writer as open_writer

DUPLICATE = "duplicate id (kept the last)"
BATCH = 64  # statements per message from the reader process
WORKER_MIN_BYTES = 2_000_000  # below this much input to read, reading in-process is faster than a worker
WRITER_LIMITMB = 256  # posting pool of the Whoosh writer that merges old small segments (not BulkWriter)
SEGMENT_DOCS = 12_000  # a big build writes a segment per this many statements, while reading goes on
TAIL_SHARE = 0.04  # the last segment of a big build takes about this share of the input (see _Adder)
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
            "problems": [{"where": p.where(), "reason": p.reason, "kind": p.kind} for p in self.problems],
        }

    def lines(self) -> list[str]:
        out = [
            f"index: {self.index_dir} ({self.statements} statements)",
            f"statements: {self.added} added, {self.updated} updated, {self.removed} removed, "
            f"{self.unchanged} unchanged",
            f"inputs: {self.inputs_read} read, {self.inputs_unchanged} unchanged, "
            f"{self.inputs_removed} removed",
        ]
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


def _file_position(path: str, cache: dict[str, int]) -> int | None:
    """Where this process's open file on ``path`` is (bytes), from /proc: progress inside a big input."""
    try:
        fd = cache.get(path)
        if fd is None or os.readlink(f"/proc/self/fd/{fd}") != path:
            fd = None
            for name in os.listdir("/proc/self/fd"):
                try:
                    if os.readlink(f"/proc/self/fd/{name}") == path:
                        fd = int(name)
                        break
                except OSError:
                    continue
            if fd is None:
                return None
            cache[path] = fd
        with open(f"/proc/self/fdinfo/{fd}") as f:
            for line in f:
                if line.startswith("pos:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def _read_jobs(jobs: list[_Job], known: dict[str, dict[str, str]],
               share: _Share | None) -> Iterator[list[tuple]]:
    """Batches of messages: ("start", key, size, mtime_ns, hash, lines), ("s", key, id, content_hash, lang,
    declared_lang, doc | None), ("p", key, Problem), ("end", key), ("pos", bytes done).

    ``doc`` is None when the statement is known with the same content_hash under the same input (nothing to
    write), unless its id was already seen in this run (a duplicate must carry its document). With a
    ``share``, part of the documents come pre-analysed (see :class:`_Share`)."""
    seen: set[str] = set()
    acc = 0.0
    done_bytes = 0
    fds: dict[str, int] = {}
    for job in jobs:
        batch: list[tuple] = []
        path = str(job.inp.path)
        try:
            st = os.stat(path)
            size, mtime_ns = st.st_size, st.st_mtime_ns
            if job.hash:
                digest, lines = job.hash, job.lines
            else:
                scan = scan_file(path)
                digest, lines = scan.hash, scan.lines
        except OSError:
            size, mtime_ns, digest, lines = -1, -1, "", -1
        batch.append(("start", job.key, size, mtime_ns, digest, lines))
        old = known.get(job.key, {})
        for item in corpus.read_input(job.inp):
            if isinstance(item, Statement):
                doc = None
                if item.id in seen or old.get(item.id) != item.content_hash:
                    doc = statement_fields(item, input=job.key)
                    # This document's turn to shift work (see _Share): a steady rate of |fraction|.
                    acc += abs(share.fraction) if share is not None else 0.0
                    turn = acc >= 1.0
                    if turn:
                        acc -= 1.0
                    if share is None or share.fraction >= 0 or not turn:
                        # computed beside the text; otherwise LinkPass.add computes it in the writer
                        doc[LINK_KEY] = link_record(item)
                    if turn and share.fraction > 0:
                        doc = pre_analyze(doc)
                seen.add(item.id)
                batch.append(("s", job.key, item.id, item.content_hash, item.lang, item.declared_lang, doc))
            else:
                batch.append(("p", job.key, item))
            if len(batch) >= BATCH:
                pos = _file_position(os.path.abspath(path), fds)
                if pos is not None:
                    batch.append(("pos", done_bytes + min(max(pos - job.inp.start, 0), job.size)))
                yield batch
                batch = []
        done_bytes += job.size
        batch.append(("end", job.key))
        batch.append(("pos", done_bytes))
        yield batch


class _Share:
    """How work is shared between the reader worker and the writer, balanced as the build goes.

    The reader (extraction) and the writer (adding postings, finishing segments) run in two processes. Two
    kinds of work can be done on either side: the analysis of a document's text, and its link record (the
    MinHash sketch and content features of :func:`indexer.linkpass.link_record`). ``fraction`` goes from
    -1 to 1: above 0 the worker also pre-analyses that share of the documents; below 0 it leaves the link
    records of that share to the writer. It is raised when the worker waits on the writer (its sends block)
    and lowered when the writer waits on the worker (its receives block), so both cores stay busy whatever
    the corpus (cheap JSON fragments or heavy HTML pages)."""

    STEP = 0.05

    def __init__(self, ctx) -> None:
        self.fraction = 0.0
        self.writer_wait = ctx.Value("d", 0.0, lock=False)  # seconds the writer spent waiting to receive
        self._seen_wait = 0.0

    def adjust(self, send_blocked: float) -> None:
        waited = self.writer_wait.value
        writer_idle, self._seen_wait = waited - self._seen_wait, waited
        if send_blocked > writer_idle:
            self.fraction = min(1.0, self.fraction + self.STEP)
        elif writer_idle > send_blocked:
            self.fraction = max(-1.0, self.fraction - self.STEP)


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
            conn.send(batch)
            share.adjust(time.perf_counter() - t)
        conn.send(None)
    except BrokenPipeError:
        pass
    finally:
        conn.close()


def _batches(jobs: list[_Job], known: dict[str, dict[str, str]], use_worker: bool) -> Iterator[list[tuple]]:
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
    wait = share.writer_wait
    # A thread receives ahead, so the reader keeps going while this process finishes a segment.
    ahead: queue.Queue = queue.Queue(RECEIVE_AHEAD)
    stop = threading.Event()

    def receive() -> None:
        while not stop.is_set():
            try:
                batch = recv_end.recv()
            except (EOFError, OSError):
                ahead.put(EOFError)
                return
            ahead.put(batch)
            if batch is None:
                return

    receiver = threading.Thread(target=receive, name="presse-receive", daemon=True)
    receiver.start()
    try:
        while True:
            t = time.perf_counter()
            batch = ahead.get()
            wait.value += time.perf_counter() - t
            if batch is EOFError:
                proc.join(1)
                raise RuntimeError(f"the reader process died (exit code {proc.exitcode})")
            if batch is None:
                break
            yield batch
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
        self.done: list = []  # finished segments
        self.current = None

    def add(self, doc: dict[str, Any]) -> tuple[int, int]:
        """Add a document; its place (segment slot, docnum in that segment), to delete it later if need be."""
        if self.current is None:
            self.current = BulkWriter(self.ix, _lk=False, compound=self.compound)
        slot, docnum = len(self.done), self.current.docnum
        self.current.add_document(**doc)
        if self.rotate and self.current.docnum >= self.rotate:
            self._finish_current()
        return slot, docnum

    def reading_at(self, done: int, total: int) -> None:
        """Reading has reached byte ``done`` of ``total``: near the end, finish the segment early, so that
        what is left to finish once reading is over (the critical path) is a small segment."""
        if (self.rotate and not self._tail and total and done >= (1 - TAIL_SHARE) * total
                and self.current is not None and self.current.docnum >= self.rotate // 8):
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


def _commit(writer, segments: list) -> None:
    """One atomic commit: the writer's deletions and merges of old segments, plus the new segments."""
    final = writer._merge_segments(None, None, None)
    if writer._added:  # old small segments merged into the writer's own segment
        final.append(writer._finalize_segment())
    else:
        writer._close_segment()
    writer._commit_toc(final + [s for s in segments if s.doc_count_all()])
    writer._finish()


# ---------------------------------------------------------------------------------------------------------
# The update.

def update(paths: Iterable[str | Path], index_dir: Path | str | None = None, *,
           progress: Progress | None = None, lock_timeout: float | None = None,
           workers: bool | None = None) -> UpdateReport:
    """Bring the index at ``index_dir`` in line with the statements under ``paths``; see the module doc.

    ``progress(bytes_done, bytes_total, statements_read)`` is called as inputs are read. ``workers``: read in
    a worker process (True), in this process (False), or decide by the amount to read (None).
    Raises :class:`indexer.store.UpdateInProgress` when another update holds the lock past ``lock_timeout``.
    """
    start = time.monotonic()
    index_dir = resolve_index_dir(index_dir)
    report = UpdateReport(index_dir=str(index_dir))
    with write_lock(index_dir, lock_timeout):
        # A killed writer leaves its posting runs behind; with the lock held, nobody else is using them.
        shutil.rmtree(index_dir / f"{INDEX_NAME}.tmp", ignore_errors=True)
        ix = create_or_open(index_dir)
        _add_missing_fields(ix)
        manifest = Manifest.load(index_dir)
        if manifest.generation != ix.latest_generation():
            # The manifest does not describe this index (first run, or a crash between commit and manifest).
            manifest = rebuild_from_index(ix, manifest)
        with _fewer_collections():
            _run(ix, index_dir, [str(p) for p in paths], manifest, report, progress, workers)
    report.seconds = time.monotonic() - start
    return report


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


def _run(ix, index_dir: Path, paths: list[str], manifest: Manifest, report: UpdateReport,
         progress: Progress | None, workers: bool | None) -> None:
    skipped: Counter[str] = Counter()
    warnings: Counter[str] = Counter()
    disagreements: Counter[str] = Counter()
    other_langs: Counter[str] = Counter()

    def note(problem: Problem) -> None:
        report.problems.append(problem)
        (skipped if problem.kind == "skipped" else warnings)[category(problem.reason)] += 1

    # 2. Which inputs changed.
    jobs: list[_Job] = []
    present: set[str] = set()
    order: dict[str, int] = {}  # inputs in the order they are read: a later duplicate id wins
    dirty_manifest = False
    for item in corpus.iter_inputs(paths):
        if isinstance(item, Problem):
            note(item)
            continue
        key = os.path.abspath(item.path)
        if key in present:
            continue
        present.add(key)
        order[key] = len(order)
        try:
            st = os.stat(key)
        except OSError as err:
            note(Problem(key, f"unreadable: {err.strerror or err}"))
            present.discard(key)
            continue
        entry = manifest.inputs.get(key)
        if entry is not None and entry.hash and entry.size == st.st_size and entry.mtime_ns == st.st_mtime_ns:
            report.inputs_unchanged += 1
            report.unchanged += len(entry.ids)
            continue
        if entry is not None and entry.hash and entry.size == st.st_size:
            scan = scan_file(key)
            if scan.hash == entry.hash:  # touched, not changed
                entry.mtime_ns = st.st_mtime_ns
                dirty_manifest = True
                report.inputs_unchanged += 1
                report.unchanged += len(entry.ids)
                continue
            jobs.append(_Job(key, item, st.st_size, scan.hash, scan.lines))
            continue
        jobs.append(_grown_job(key, item, entry, st.st_size))
    removed_inputs = [key for key in manifest.inputs if key not in present]
    # An unchanged input holding a losing copy of a duplicate id is read again when the winner may go.
    shadows: dict[str, list[str]] = {}
    for key, entry in manifest.inputs.items():
        for sid in entry.shadowed:
            shadows.setdefault(sid, []).append(key)
    if shadows:
        queued = {job.key for job in jobs}
        leaving = [*queued, *removed_inputs]
        extra = {key for gone in leaving if gone in manifest.inputs
                 for sid in manifest.inputs[gone].ids for key in shadows.get(sid, ())
                 if key in present and key not in queued}
        for item in corpus.iter_inputs(sorted(extra)):
            if not isinstance(item, Problem):
                key = os.path.abspath(item.path)
                jobs.append(_Job(key, item, os.stat(key).st_size))
                report.inputs_unchanged -= 1
                report.unchanged -= len(manifest.inputs[key].ids)
        jobs.sort(key=lambda job: order[job.key])

    if not jobs and not removed_inputs:
        if dirty_manifest:
            manifest.save(index_dir)
        report.statements = manifest.statement_count()
        report.skipped, report.warnings = dict(skipped), dict(warnings)
        return

    # 3-4. Read and write.
    owners = manifest.owners()
    known = {job.key: manifest.inputs[job.key].ids for job in jobs if job.key in manifest.inputs}
    reading = {job.key for job in jobs}
    appended = {job.key for job in jobs if job.appended}
    total_bytes = sum(job.size for job in jobs)
    use_worker = workers if workers is not None else total_bytes >= WORKER_MIN_BYTES
    fresh = not owners  # an empty index: nothing to delete, ever
    writer = open_writer(ix, limitmb=WRITER_LIMITMB)
    adder = _Adder(ix, SEGMENT_DOCS if use_worker else None, compound=not use_worker)
    searcher = None if fresh else writer.searcher()
    deleted_committed: set[str] = set()

    def raw_delete(sid: str) -> None:
        if sid in owners and sid not in deleted_committed:
            deleted_committed.add(sid)
            writer.delete_by_term("id", sid, searcher=searcher)

    links = LinkPass(adder, searcher, raw_delete)

    def delete_committed(sid: str) -> None:
        if sid in owners and sid not in deleted_committed:
            links.deleted(sid)
        raw_delete(sid)

    run_ids: dict[str, tuple[str, tuple[int, int] | None]] = {}  # id -> (input key, place if written)
    new_ids: dict[str, dict[str, str]] = {}
    shadowed: dict[str, set[str]] = {}  # input key -> ids whose copy from that input lost to a later one
    entries: dict[str, InputEntry] = {}
    problem_counts: Counter[str] = Counter()
    read_count = 0
    try:
        for batch in _batches(jobs, known, use_worker):
            links.look_ahead([msg[2] for msg in batch if msg[0] == "s" and msg[6] is not None])
            for msg in batch:
                tag = msg[0]
                if tag == "s":
                    _, key, sid, chash, lang, declared, doc = msg
                    read_count += 1
                    if declared and declared != lang:
                        disagreements[f"{declared}→{lang}"] += 1
                    prev = run_ids.get(sid)
                    docnum = None
                    if prev is not None:  # the same id again in this run: the last one wins
                        report.duplicates += 1
                        skipped[DUPLICATE] += 1
                        pkey, pdocnum = prev
                        new_ids[pkey].pop(sid, None)
                        if pkey != key:
                            shadowed.setdefault(pkey, set()).add(sid)
                        if pdocnum is not None:
                            adder.delete(pdocnum)
                            links.forget(sid)
                        if doc is not None:
                            delete_committed(sid)
                            docnum = links.add(doc, owners)
                    else:
                        owner = owners.get(sid)
                        if owner is not None and owner == (key, chash):
                            report.unchanged += 1
                        else:
                            if doc is None:  # cannot happen: the reader sends a document for any change
                                raise RuntimeError(f"no document for changed statement {sid}")
                            if owner is not None:
                                okey = owner[0]
                                if okey not in reading and okey in manifest.inputs:
                                    # Moved from an input that is not read again: it is a duplicate there.
                                    manifest.inputs[okey].ids.pop(sid, None)
                                    if sid not in manifest.inputs[okey].shadowed:
                                        manifest.inputs[okey].shadowed.append(sid)
                                    report.duplicates += 1
                                    skipped[DUPLICATE] += 1
                                delete_committed(sid)
                                report.updated += 1
                            else:
                                report.added += 1
                            if lang not in ("fr", "en"):
                                other_langs[lang or "unknown"] += 1
                            docnum = links.add(doc, owners)
                    run_ids[sid] = (key, docnum)
                    new_ids.setdefault(key, {})[sid] = chash
                elif tag == "p":
                    note(msg[2])
                    problem_counts[msg[1]] += 1
                elif tag == "start":
                    _, key, size, mtime_ns, digest, lines = msg
                    entries[key] = InputEntry(kind="", size=size, mtime_ns=mtime_ns, hash=digest, lines=lines)
                    # an appended-to file keeps the statements of its earlier lines
                    new_ids.setdefault(key, dict(manifest.inputs[key].ids) if key in appended else {})
                elif tag == "end":
                    report.inputs_read += 1
                elif tag == "pos":
                    adder.reading_at(msg[1], total_bytes)
                    if progress is not None:
                        progress(msg[1], total_bytes, read_count)

        # Statements that disappeared: from inputs read again, and from inputs gone.
        to_delete: set[str] = set()
        for job in jobs:
            old = manifest.inputs.get(job.key)
            if old is None:
                continue
            if job.appended:  # its earlier lines stay, unless an appended line replaced one of them
                report.unchanged += sum(1 for sid in old.ids if sid not in run_ids)
            else:
                to_delete.update(sid for sid in old.ids if sid not in run_ids)
        for key in removed_inputs:
            to_delete.update(sid for sid in manifest.inputs[key].ids if sid not in run_ids)
        for sid in to_delete:
            delete_committed(sid)
        report.removed = len(to_delete)
        report.inputs_removed = len(removed_inputs)

        # Translation links and duplicate groups over what changed (rewrites only what differs).
        links.finish()
        report.exact_duplicates = links.exact_duplicates
        report.linked = links.links_written

        if searcher is not None:
            searcher.close()
            searcher = None
        _commit(writer, adder.finish())
    except BaseException:
        if searcher is not None:
            searcher.close()
        adder.cancel()
        writer.cancel()
        raise

    # 5. The manifest, after the commit.
    for job in jobs:
        entry = entries.get(job.key) or InputEntry(size=-1, mtime_ns=-1, hash="")
        entry.kind = job.inp.kind
        entry.ids = new_ids.get(job.key, {})
        entry.problems = problem_counts[job.key]
        entry.shadowed = sorted(shadowed.get(job.key, ()))
        if job.appended:  # what its earlier lines reported stays
            earlier = manifest.inputs[job.key]
            entry.problems += earlier.problems
            entry.shadowed = sorted({*earlier.shadowed, *entry.shadowed})
        manifest.inputs[job.key] = entry
    for key in removed_inputs:
        del manifest.inputs[key]
    manifest.generation = ix.latest_generation()
    manifest.save(index_dir)

    report.statements = manifest.statement_count()
    report.skipped, report.warnings = dict(skipped), dict(warnings)
    report.disagreements, report.other_languages = dict(disagreements), dict(other_langs)
