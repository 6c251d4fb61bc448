"""Watch mode and concurrent updates, on real statements in a real folder on disk.

- the watcher (``indexer.watch.Watcher``): files added, modified, deleted, renamed; a JSON Lines file
  appended to; another process's update holding the lock; ``presse watch`` and ``presse serve --watch`` as
  real processes;
- readers during a write: searches in threads while an update runs see the old or the new state, never fail;
- crash safety: an indexing process killed with SIGKILL mid-update leaves the index at its last commit, and
  the next run completes; two indexing processes at once both end well.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.corpora import ROOT, SAMPLE, SHARED, statement_ids

YUKON_SAMPLE = sorted((SAMPLE / "yukon").rglob("*.html"))
VIE_PUBLIQUE = SAMPLE / "vie-publique.jsonl"
BIG_JSONL = SHARED / "corpus" / "vie-publique" / "statements.jsonl"  # 324 records, 3.3 MB
YUKON_SHARED = SHARED / "corpus" / "yukon"
PYTHON = sys.executable
PRESSE = str(Path(sys.executable).with_name("presse"))

# Hang guards, several times what a test takes on a busy 2-core machine (never a speed requirement).
pytestmark = pytest.mark.timeout(300)


# ------------------------------------------------------------------------------------------------ helpers

def index_ids(index_dir: Path) -> dict[str, str]:
    """id -> input of every statement in the index (read from the last commit)."""
    from indexer import open_index

    ix = open_index(index_dir)
    try:
        with ix.reader() as r:
            return {f["id"]: f.get("input", "") for f in r.all_stored_fields()}
    finally:
        ix.close()


def lock_is_free(index_dir: Path) -> bool:
    from whoosh.filedb.filestore import FileStorage

    from indexer.store import LOCK_NAME

    lock = FileStorage(str(index_dir)).lock(LOCK_NAME)
    if lock.acquire(blocking=False):
        lock.release()
        return True
    return False


def index_command(paths, index_dir: Path) -> list[str]:
    """``presse index PATHS --index DIR`` when the CLI has it, else the same library call it makes."""
    import cli

    if "index" in cli.main.commands:
        return [PRESSE, "index", *map(str, paths), "--index", str(index_dir)]
    code = ("import sys; from indexer import update; "
            "r = update(sys.argv[2:], sys.argv[1]); print('\\n'.join(r.lines()))")
    return [PYTHON, "-c", code, str(index_dir), *map(str, paths)]


EXIT_GUARD = 90.0  # seconds: a hang guard (the process exits ~0.1 s after Ctrl-C)


def stopped(proc: subprocess.Popen, lines: list[str]) -> None:
    """Wait for a process told to stop; past the guard, kill it and fail with what it said."""
    try:
        proc.wait(EXIT_GUARD)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail(f"no exit {EXIT_GUARD:g} s after Ctrl-C; it said:\n" + "\n".join(lines[-20:]))


def wait_for(predicate, timeout: float = 60.0, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")


class Running:
    """A Watcher in a background thread, its log lines collected."""

    def __init__(self, paths, index_dir: Path, **kwargs) -> None:
        from indexer.watch import Watcher

        self.lines: list[str] = []
        self.watcher = Watcher(paths, index_dir, quiet=0.2, max_delay=2.0, log=self.lines.append, **kwargs)
        self.watcher.start()
        assert wait_for(lambda: self.watcher.batches >= 1 or self.watcher.last_error)
        assert self.watcher.last_error is None, self.watcher.last_error

    def settle(self, batches_before: int | None = None) -> None:
        """Wait until a batch after ``batches_before`` ran and nothing is pending."""
        if batches_before is not None:
            wait_for(lambda: self.watcher.batches > batches_before)
        assert self.watcher.wait_idle(90)
        assert self.watcher.last_error is None, self.watcher.last_error

    def stop(self) -> None:
        self.watcher.stop()
        assert self.watcher._thread is not None and not self.watcher._thread.is_alive()


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for src in YUKON_SAMPLE[:4]:
        shutil.copy(src, folder / src.name.replace(".html", f"-{src.parent.parent.name}.html"))
    return folder


# ------------------------------------------------------------------------------------------------ watcher

def test_watcher_follows_added_modified_deleted_renamed_files(corpus_dir: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    run = Running([corpus_dir], index_dir)
    try:
        assert set(index_ids(index_dir)) == statement_ids(corpus_dir)
        assert "initial update: 4 added" in run.lines[-1]

        # Added: a new page lands (written under a temporary name, then renamed, as crawlers do).
        new_src = YUKON_SAMPLE[10]
        n = run.watcher.batches
        tmp = corpus_dir / ".incoming.part"
        shutil.copy(new_src, tmp)
        os.replace(tmp, corpus_dir / "new.html")
        run.settle(n)
        (new_id,) = statement_ids(new_src)
        assert new_id in index_ids(index_dir)
        assert " 1 added" in run.lines[-1]

        # Modified: the page's text changes (same URL, so the same id): updated in place.
        n = run.watcher.batches
        page = corpus_dir / "new.html"
        page.write_text(page.read_text("utf-8").replace("Yukon", "Zygomorphic Yukon"), "utf-8")
        run.settle(n)
        assert run.watcher.last_report.updated == 1
        from search import Searcher

        with Searcher(index_dir) as s:
            hits = s.search("zygomorphic").to_dict()["results"]
        assert [h["id"] for h in hits] == [new_id]

        # Renamed: the statement stays, once, now read from the new name.
        n = run.watcher.batches
        os.rename(page, corpus_dir / "renamed.html")
        run.settle(n)
        ids = index_ids(index_dir)
        assert ids[new_id] == str(corpus_dir / "renamed.html")
        assert len(ids) == 5

        # Deleted: its statement goes.
        n = run.watcher.batches
        (corpus_dir / "renamed.html").unlink()
        run.settle(n)
        assert new_id not in index_ids(index_dir)
        assert run.watcher.last_report.removed == 1
        assert set(index_ids(index_dir)) == statement_ids(corpus_dir)

        # A folder moved in, with pages inside: all of it is indexed.
        n = run.watcher.batches
        staging = tmp_path / "staging"
        (staging / "batch").mkdir(parents=True)
        for src in YUKON_SAMPLE[20:23]:
            shutil.copy(src, staging / "batch" / src.name)
        os.rename(staging / "batch", corpus_dir / "batch")
        run.settle(n)
        assert set(index_ids(index_dir)) == statement_ids(corpus_dir)
        assert len(index_ids(index_dir)) == 7
    finally:
        run.stop()
    # One line per batch, with the counts and the time taken.
    batch = re.compile(r"\d+ added, \d+ updated, \d+ removed, \d+ skipped.*, [\d.]+ s; \d+ statements")
    assert all(batch.search(line) for line in run.lines)


def test_watcher_follows_an_appended_json_lines_file(tmp_path: Path) -> None:
    records = VIE_PUBLIQUE.read_text("utf-8").splitlines(keepends=True)
    jsonl = tmp_path / "feed.jsonl"
    jsonl.write_text("".join(records[:10]), "utf-8")
    index_dir = tmp_path / "index"
    run = Running([jsonl], index_dir)  # a file is watched, not a folder
    try:
        assert len(index_ids(index_dir)) == len(statement_ids(jsonl)) > 0
        n = run.watcher.batches
        with jsonl.open("a", encoding="utf-8") as f:
            for line in records[10:25]:
                f.write(line)
                f.flush()
        run.settle(n)
        assert set(index_ids(index_dir)) == statement_ids(jsonl)
        assert len(index_ids(index_dir)) > 10
        # Another file in the same folder is not watched.
        n = run.watcher.batches
        shutil.copy(YUKON_SAMPLE[0], tmp_path / "other.html")
        time.sleep(0.8)
        assert run.watcher.batches == n
    finally:
        run.stop()


def test_watcher_ignores_its_own_index_inside_the_folder(corpus_dir: Path) -> None:
    index_dir = corpus_dir / ".presse-index"  # the index inside the watched folder
    run = Running([corpus_dir], index_dir)
    try:
        time.sleep(1.0)  # the initial commit's own files must not trigger batch after batch
        assert run.watcher.batches == 1
    finally:
        run.stop()


def test_watcher_waits_for_another_update_and_loses_nothing(corpus_dir: Path, tmp_path: Path) -> None:
    from indexer.store import write_lock

    index_dir = tmp_path / "index"
    run = Running([corpus_dir], index_dir)
    try:
        n = run.watcher.batches
        with write_lock(index_dir):  # another update holds the lock (flock: this counts as another writer)
            shutil.copy(YUKON_SAMPLE[30], corpus_dir / "while-locked.html")
            wait_for(lambda: any("another update is in progress" in line for line in run.lines))
            assert run.watcher.batches == n
        run.settle(n)
        assert set(index_ids(index_dir)) == statement_ids(corpus_dir)
    finally:
        run.stop()


def test_watcher_stop_cancels_a_running_update_cleanly(tmp_path: Path) -> None:
    from indexer.watch import Watcher

    if not BIG_JSONL.is_file():
        pytest.skip("no ../shared corpus")
    index_dir = tmp_path / "index"
    lines: list[str] = []
    watcher = Watcher([BIG_JSONL], index_dir, log=lines.append)
    watcher.start()
    time.sleep(0.5)
    watcher.stop(timeout=60)  # a hang guard: stopping must interrupt the update, not wait for its end
    assert not watcher._thread.is_alive()
    assert lock_is_free(index_dir)


# ------------------------------------------------------------------------------------- readers and writes

def test_searches_during_an_update_see_the_old_or_the_new_state(tmp_path: Path) -> None:
    """Threads search (a long-lived Searcher that refreshes, and a fresh one per search, as the CLI does)
    while updates add and then remove statements: none fails, each sees a committed state."""
    from indexer import update
    from search import Searcher

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for src in YUKON_SAMPLE[:10]:
        shutil.copy(src, corpus / f"{src.parent.parent.name}-{src.name}")
    index_dir = tmp_path / "index"
    update([corpus], index_dir)
    old = len(index_ids(index_dir))
    extra = VIE_PUBLIQUE
    new = old + len(statement_ids(extra))

    errors: list[BaseException] = []
    seen: list[int] = []  # document counts
    totals: list[int] = []  # search totals (an exact duplicate is stored once, so it is not counted)
    stop = threading.Event()

    def dated_total(s: Searcher) -> int:
        return s.search("", since="1000-01-01", sort="date", limit=1).total

    with Searcher(index_dir) as s:
        old_total = dated_total(s)

    def long_lived() -> None:
        try:
            with Searcher(index_dir) as s:
                while not stop.is_set():
                    s.refresh()
                    totals.append(dated_total(s))
                    seen.append(s.doc_count)
        except BaseException as exc:  # noqa: B036 - any failure is the test's failure
            errors.append(exc)

    def fresh() -> None:
        try:
            while not stop.is_set():
                with Searcher(index_dir) as s:
                    seen.append(s.doc_count)
                    s.search("yukon")
        except BaseException as exc:  # noqa: B036
            errors.append(exc)

    threads = [threading.Thread(target=long_lived) for _ in range(2)] + [threading.Thread(target=fresh)]
    for th in threads:
        th.start()
    try:
        time.sleep(0.2)
        shutil.copy(extra, corpus / "extra.jsonl")
        assert update([corpus], index_dir).added == new - old
        time.sleep(0.3)
        (corpus / "extra.jsonl").unlink()
        assert update([corpus], index_dir).removed == new - old
        time.sleep(0.3)
    finally:
        stop.set()
        for th in threads:
            th.join(30)
    assert not errors, errors
    assert seen and set(seen) <= {old, new}, sorted(set(seen))
    assert new in seen  # the update was seen before it was undone
    # The next search after the commit sees the new state.
    with Searcher(index_dir) as s:
        assert s.doc_count == old
    shutil.copy(extra, corpus / "extra.jsonl")
    update([corpus], index_dir)
    with Searcher(index_dir) as s:
        new_total = dated_total(s)
    assert totals and set(totals) <= {old_total, new_total}, sorted(set(totals))


def test_a_refreshed_searcher_no_longer_finds_removed_statements(tmp_path: Path) -> None:
    from indexer import update
    from search import Searcher

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(VIE_PUBLIQUE, corpus / "a.jsonl")
    index_dir = tmp_path / "index"
    update([corpus], index_dir)
    with Searcher(index_dir) as s:
        assert s.search("ministre").total > 0
        (corpus / "a.jsonl").unlink()
        assert update([corpus], index_dir).removed > 0
        assert s.refresh()
        assert s.search("ministre").total == 0


# ------------------------------------------------------------------------------------ processes and crashes

def _start_when_locked(cmd: list[str], index_dir: Path) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    wait_for(lambda: (index_dir / "MAIN_WRITELOCK").exists() and not lock_is_free(index_dir)
             or proc.poll() is not None, timeout=120, step=0.01)
    return proc


@pytest.mark.parametrize("delay", [0.6])
def test_kill_9_mid_update_leaves_the_last_commit_and_the_next_run_completes(tmp_path: Path,
                                                                             delay: float) -> None:
    _kill_mid_update(tmp_path, [delay], big=[SAMPLE / "yukon", VIE_PUBLIQUE])


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_kill_9_at_many_moments_of_a_large_update(tmp_path: Path) -> None:
    if not YUKON_SHARED.is_dir():
        pytest.skip("no ../shared corpus")
    # 3 MB of JSON Lines and 2,896 pages: read in a worker process, which must die with its parent.
    _kill_mid_update(tmp_path, [0.2, 1.0, 3.0, 8.0, 15.0], big=[YUKON_SHARED, BIG_JSONL])


def _kill_mid_update(tmp_path: Path, delays: list[float], big: list[Path]) -> None:
    from search import Searcher

    small = tmp_path / "small"
    small.mkdir()
    for src in YUKON_SAMPLE[:5]:
        shutil.copy(src, small / f"{src.parent.parent.name}-{src.name}")
    index_dir = tmp_path / "index"
    first = subprocess.run(index_command([small], index_dir), capture_output=True, text=True, cwd=ROOT)
    assert first.returncode == 0, first.stderr
    committed = index_ids(index_dir)
    assert len(committed) == 5

    for delay in delays:
        proc = _start_when_locked(index_command([small, *big], index_dir), index_dir)
        time.sleep(delay)
        if proc.poll() is not None:  # finished before the kill: nothing to test at this moment
            proc.communicate()
            break
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
        assert proc.returncode == -signal.SIGKILL
        # The lock is not left held (the reader worker died with its parent), the index is at its last commit.
        wait_for(lambda: lock_is_free(index_dir), timeout=60)
        after = index_ids(index_dir)
        assert after == committed or set(after) == statement_ids(small, *big)  # killed after the commit
        with Searcher(index_dir) as s:
            assert s.doc_count == len(after)
            s.search("yukon")

    done = subprocess.run(index_command([small, *big], index_dir), capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert set(index_ids(index_dir)) == statement_ids(small, *big)


def test_two_index_processes_at_once_both_end_well(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for src in YUKON_SAMPLE[:10]:
        shutil.copy(src, corpus / f"{src.parent.parent.name}-{src.name}")
    shutil.copy(VIE_PUBLIQUE, corpus / "vie-publique.jsonl")
    index_dir = tmp_path / "index"
    first = _start_when_locked(index_command([corpus], index_dir), index_dir)
    # While the first runs, a new file lands and a second run starts: it waits for the first.
    shutil.copy(YUKON_SAMPLE[40], corpus / "late.html")
    second = subprocess.Popen(index_command([corpus], index_dir), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, cwd=ROOT)
    out1, err1 = first.communicate(timeout=60)
    out2, err2 = second.communicate(timeout=60)
    assert first.returncode == 0, err1
    assert second.returncode == 0, err2
    assert set(index_ids(index_dir)) == statement_ids(corpus)


# ------------------------------------------------------------------------------------------ the commands

def _stderr_lines(proc: subprocess.Popen, lines: list[str]) -> threading.Thread:
    def pump() -> None:
        for line in proc.stderr:
            lines.append(line.rstrip("\n"))

    th = threading.Thread(target=pump, daemon=True)
    th.start()
    return th


def test_presse_watch_command(corpus_dir: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    proc = subprocess.Popen([PRESSE, "watch", str(corpus_dir), "--index", str(index_dir), "--quiet", "0.2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    lines: list[str] = []
    pump = _stderr_lines(proc, lines)
    try:
        wait_for(lambda: any("initial update" in line for line in lines) or proc.poll() is not None)
        assert "initial update: 4 added" in lines[-1], lines
        shutil.copy(YUKON_SAMPLE[50], corpus_dir / "new.html")
        wait_for(lambda: any("1 added" in line and "event" in line for line in lines))
        assert set(index_ids(index_dir)) == statement_ids(corpus_dir)
    finally:
        proc.send_signal(signal.SIGINT)
        stopped(proc, lines)
        pump.join(5)
    assert proc.returncode == 0, lines
    assert "stopped" in lines[-1]
    assert lock_is_free(index_dir)


def _ignoring_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("command", [["watch"], ["serve", "--port", "0", "--watch"]])
def test_ctrl_c_stops_even_when_the_parent_ignores_it(corpus_dir: Path, tmp_path: Path, command) -> None:
    """A process started by one that ignores SIGINT (a CI runner, a service manager) inherits the "ignore";
    `presse watch` and `presse serve` put Ctrl-C back, so it still stops them (it did not: CI hung here)."""
    index_dir = tmp_path / "index"
    args = [PRESSE, command[0], *(["--index", str(index_dir)] if command[0] == "serve" else []), *command[1:],
            str(corpus_dir), *(["--index", str(index_dir)] if command[0] == "watch" else [])]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            preexec_fn=_ignoring_sigint)
    lines: list[str] = []
    pump = _stderr_lines(proc, lines)
    try:
        wait_for(lambda: any("initial update" in line for line in lines) or proc.poll() is not None)
        time.sleep(0.5)  # past start-up: the command's own handling of Ctrl-C is what is tested
    finally:
        proc.send_signal(signal.SIGINT)
        stopped(proc, lines)
        pump.join(5)
    assert proc.returncode == 0, lines


def test_presse_serve_watch_shows_new_statements(corpus_dir: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"  # no index yet: the first update runs before the server starts
    proc = subprocess.Popen([PRESSE, "serve", "--index", str(index_dir), "--port", "0",
                             "--watch", str(corpus_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    lines: list[str] = []
    pump = _stderr_lines(proc, lines)
    try:
        url = wait_for(lambda: next((m.group(0) for line in lines
                                     if (m := re.search(r"http://[\d.]+:\d+/", line))), None)
                       or (proc.poll() is not None and pytest.fail("\n".join(lines))))

        def api(q: str) -> dict:
            with urllib.request.urlopen(url + "api/search?" + urllib.parse.urlencode({"q": q})) as r:
                return json.load(r)

        assert api("yukon")["total"] > 0
        page = corpus_dir / "new.html"
        text = YUKON_SAMPLE[60].read_text("utf-8").replace("Yukon", "Quokkawatch Yukon")
        assert api("quokkawatch")["total"] == 0
        page.write_text(text, "utf-8")
        wait_for(lambda: api("quokkawatch")["total"] == 1, timeout=60, step=0.1)
    finally:
        proc.send_signal(signal.SIGINT)
        stopped(proc, lines)
        pump.join(5)
    assert proc.returncode == 0, lines
    assert any("1 added" in line for line in lines), lines
