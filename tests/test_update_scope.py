"""What an update may remove, and inputs that must not break it (issue 16: H1, H1b, H2, M2, M7, M8, L4).

- a reader that could not read everything (an ``incomplete`` Problem) never makes the index lose what it
  did not read;
- removal is scoped to the paths of the run, and only what is gone goes (``remove``, ``prune`` for more);
- a file name that is not UTF-8, an unreadable file or folder, a read-only index: a Problem or a clear
  error, never a traceback, never lost data;
- the index does not grow under churn (``optimize``); ``stats`` works on an empty index;
- a duplicate id keeps the copy of the input whose path sorts last, whatever the order of the runs.
"""

from __future__ import annotations

import errno
import gzip
import importlib
import itertools
import json
import os
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import corpus
from cli import main
from corpus.statement import Problem, Statement
from indexer import IndexNotWritable, UpdateReport, open_index, optimize, remove, stats, update
from indexer.manifest import MANIFEST_NAME, Manifest, display_path
from indexer.store import create_or_open, index_size, write_lock
from tests.corpora import SAMPLE, SHARED

NSB = SHARED / "corpus" / "nsb" / "nsb.jsonl.gz"
UPDATE = importlib.import_module("indexer.updating")


def nsb_lines(n: int, start: int = 0) -> list[str]:
    if not NSB.exists():
        pytest.skip("../shared/corpus/nsb missing")
    with gzip.open(NSB, "rt", encoding="utf-8") as f:
        return [line for line in itertools.islice(f, start, start + n)]


def vie_publique(n: int, prefix: str) -> list[str]:
    path = SAMPLE / "vie-publique.jsonl"
    if not path.exists():
        pytest.skip("sample/vie-publique.jsonl missing")
    out = []
    for i, line in enumerate(path.read_text("utf-8").splitlines()[:n]):
        rec = json.loads(line)
        rec["id"], rec["url"] = f"{prefix}-{i}", f"https://example.org/{prefix}/{i}"
        out.append(json.dumps(rec, ensure_ascii=False) + "\n")
    return out


def yukon_pages(n: int) -> list[Path]:
    folder = SAMPLE / "yukon" / "fr" / "2019"
    if not folder.is_dir():
        pytest.skip("sample/yukon missing")
    return sorted(folder.iterdir())[:n]


def ids(index_dir: Path) -> dict[str, dict]:
    with open_index(index_dir).searcher() as s:
        return {f["id"]: f for f in s.all_stored_fields()}


# ---------------------------------------------------------------------------------------------------------
# H1: a bad record removes nothing it did not read.

def test_a_lone_surrogate_in_one_record_removes_nothing(tmp_path):
    """The reproduction of issue 16 H1: 300 NSB lines, ``\\ud800`` put into the html of line 10."""
    lines = nsb_lines(300)
    path = tmp_path / "nsb.jsonl"
    path.write_text("".join(lines), "utf-8")
    first = update([path], tmp_path / "ix")
    assert first.added == 300
    before = set(ids(tmp_path / "ix"))
    rec = json.loads(lines[9])
    bad = json.dumps(rec, ensure_ascii=False).replace('"html": "', '"html": "\\ud800', 1)
    assert "\\ud800" in bad and json.loads(bad)["html"].startswith("\ud800")
    lines[9] = bad + "\n"
    # and line 20 nested 100,000 levels deep (a RecursionError in the decoder): not readable at all
    lines[19] = "[" * 100_000 + "]" * 100_000 + "\n"
    path.write_text("".join(lines), "utf-8")
    report = update([path], tmp_path / "ix")
    assert report.removed == 0, report.lines()
    assert set(ids(tmp_path / "ix")) == before  # line 20's statement stays: its line may still hold it
    skipped = [p for p in report.problems if p.kind == "skipped"]
    assert {p.line for p in skipped} <= {10, 20} and 20 in {p.line for p in skipped if p.incomplete}
    assert report.statements == 300
    # the CLI reports it on one line and as JSON, no traceback
    result = CliRunner().invoke(main, ["index", str(path), "--index", str(tmp_path / "ix"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["removed"] == 0


def _fake_reader(monkeypatch, cut: int, incomplete: bool) -> None:
    """read_input gives the first ``cut`` statements of a file, then a Problem (incomplete or not)."""
    real = corpus.read_input

    def read_input(inp):
        n = 0
        for item in real(inp):
            if isinstance(item, Statement):
                n += 1
                if n > cut:
                    yield Problem(str(inp.path), "cut short", line=cut + 1, incomplete=incomplete)
                    return
            yield item

    monkeypatch.setattr(corpus, "read_input", read_input)


@pytest.mark.parametrize("incomplete", [True, False])
def test_a_reader_cut_short_keeps_what_it_did_not_read(tmp_path, monkeypatch, incomplete):
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "a.jsonl").write_text("".join(vie_publique(12, "a")), "utf-8")
    update([folder], tmp_path / "ix")
    # the file changes (one record edited), and this time its reader stops after 5 statements
    lines = vie_publique(12, "a")
    rec = json.loads(lines[0])
    rec["title"] = "Un titre changé"
    lines[0] = json.dumps(rec, ensure_ascii=False) + "\n"
    (folder / "a.jsonl").write_text("".join(lines), "utf-8")
    _fake_reader(monkeypatch, 5, incomplete)
    report = update([folder], tmp_path / "ix", workers=False)
    stored = ids(tmp_path / "ix")
    assert stored["a-0"]["title"] == "Un titre changé"  # what was read is written
    if incomplete:
        assert report.removed == 0 and len(stored) == 12
        entry = Manifest.load(tmp_path / "ix").inputs[str(folder / "a.jsonl")]
        assert entry.incomplete and len(entry.ids) == 12  # still owned: removed when the file goes
        monkeypatch.undo()
        (folder / "a.jsonl").unlink()
        assert update([folder], tmp_path / "ix").removed == 12
    else:  # a reader that read it all and found 5: the other 7 are gone from the file
        assert report.removed == 7 and len(stored) == 5


# ---------------------------------------------------------------------------------------------------------
# H1b: removal is scoped to the run's paths; remove and prune are explicit.

@pytest.fixture
def archive(tmp_path) -> Path:
    """A folder of 3 Yukon pages and a JSON Lines file of 5 statements."""
    folder = tmp_path / "archive"
    folder.mkdir()
    for page in yukon_pages(3):
        shutil.copy(page, folder / page.name)
    (folder / "vp.jsonl").write_text("".join(vie_publique(5, "vp")), "utf-8")
    return folder


def test_indexing_one_file_removes_nothing_else(archive, tmp_path):
    ix = tmp_path / "ix"
    first = update([archive], ix)
    new = tmp_path / "today" / "new.jsonl"
    new.parent.mkdir()
    new.write_text("".join(vie_publique(1, "today")), "utf-8")
    result = CliRunner().invoke(main, ["index", str(new), "--index", str(ix)])
    assert result.exit_code == 0, result.output
    assert "1 added, 0 updated, 0 removed" in result.output
    assert len(ids(ix)) == first.statements + 1
    # a sub-folder alone: what lies elsewhere stays too, and a file gone from that sub-folder goes
    sub = archive / "more"
    sub.mkdir()
    (sub / "m.jsonl").write_text("".join(vie_publique(2, "m")), "utf-8")
    assert update([sub], ix).added == 2
    (sub / "m.jsonl").unlink()
    report = update([sub], ix)
    assert (report.removed, report.inputs_removed) == (2, 1)
    assert len(ids(ix)) == first.statements + 1
    # the archive folder again: the file of the other folder stays
    assert update([archive], ix).removed == 0
    assert "today-0" in ids(ix)


def test_a_given_file_that_is_gone_is_removed(archive, tmp_path):
    ix = tmp_path / "ix"
    update([archive], ix)
    (archive / "vp.jsonl").unlink()
    result = CliRunner().invoke(main, ["index", str(archive), "--index", str(ix), "--json"])
    data = json.loads(result.output)
    assert (data["removed"], data["inputs"]["removed"]) == (5, 1)


def test_remove_command_and_prune(archive, tmp_path):
    ix = tmp_path / "ix"
    other = tmp_path / "other"
    other.mkdir()
    (other / "o.jsonl").write_text("".join(vie_publique(3, "o")), "utf-8")
    update([archive], ix)
    update([other], ix)
    total = len(ids(ix))
    # presse remove: every statement from under the path, though the files are still there
    result = CliRunner().invoke(main, ["remove", str(other), "--index", str(ix), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["removed"] == 3
    assert len(ids(ix)) == total - 3 and (other / "o.jsonl").exists()
    assert str(other / "o.jsonl") not in Manifest.load(ix).inputs
    # removing a path with nothing indexed under it changes nothing
    assert remove([tmp_path / "nothing-here"], ix).removed == 0
    # index --prune: the index holds only what is under this run's paths
    update([other], ix)
    result = CliRunner().invoke(main, ["index", str(other), "--index", str(ix), "--prune"])
    assert result.exit_code == 0, result.output
    assert set(ids(ix)) == {"o-0", "o-1", "o-2"}
    # remove on no index: a clear message
    result = CliRunner().invoke(main, ["remove", str(other), "--index", str(tmp_path / "none")])
    assert result.exit_code != 0 and "No index at" in result.output


# ---------------------------------------------------------------------------------------------------------
# H2: a file name that is not UTF-8.

LATIN1 = b"communiqu\xe9.html"


def test_a_file_name_that_is_not_utf8(archive, tmp_path):
    page = yukon_pages(4)[3].read_bytes()
    fd = os.open(os.fsencode(archive) + b"/" + LATIN1, os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, page)
    os.close(fd)
    ix = tmp_path / "ix"
    result = CliRunner().invoke(main, ["index", str(archive), "--index", str(ix), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["added"] == 3 + 5 + 1 and data["problems"] == []
    shown = display_path(os.fsdecode(os.fsencode(archive) + b"/" + LATIN1))
    assert shown.endswith("communiqu\\xe9.html")
    assert shown in Manifest.load(ix).inputs
    assert json.loads((ix / MANIFEST_NAME).read_text("utf-8"))["inputs"][shown]["raw"]
    assert {f["input"] for f in ids(ix).values()} >= {shown}
    # again: nothing to do
    again = update([archive], ix)
    assert (again.added, again.updated, again.removed, again.inputs_read) == (0, 0, 0, 0)
    # gone: its statement goes, and only it
    os.unlink(os.fsencode(archive) + b"/" + LATIN1)
    gone = update([archive], ix)
    assert (gone.removed, gone.inputs_removed) == (1, 1)
    assert len(ids(ix)) == 8


def test_display_path():
    assert display_path("/a/b.html") == "/a/b.html"
    assert display_path("/a/communiqué.html") == "/a/communiqué.html"
    assert display_path(os.fsdecode(b"/a/communiqu\xe9.html")) == "/a/communiqu\\xe9.html"
    assert display_path(b"/a/communiqu\xe9.html") == "/a/communiqu\\xe9.html"
    assert display_path("x\ud800y") == "x\\ud800y"


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=1, max_size=40).filter(lambda b: b"/" not in b and b"\0" not in b))
def test_display_path_always_encodes(name):
    shown = display_path(os.fsdecode(b"/x/" + name))
    shown.encode("utf-8")  # never raises
    assert shown.startswith("/x/")


def test_watch_indexes_a_file_name_that_is_not_utf8_and_goes_on(tmp_path):
    from indexer.watch import Watcher

    folder = tmp_path / "w"
    folder.mkdir()
    pages = yukon_pages(2)
    fd = os.open(os.fsencode(folder) + b"/" + LATIN1, os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, pages[0].read_bytes())
    os.close(fd)
    lines: list[str] = []
    watcher = Watcher([folder], tmp_path / "ix", quiet=0.2, max_delay=1.0, retry=0.2, log=lines.append)
    watcher.start()
    try:
        assert watcher.wait_idle(60)
        assert watcher.last_error is None and watcher.last_report.added == 1, lines
        shutil.copy(pages[1], folder / "b.html")
        deadline = time.monotonic() + 60  # a hang guard
        while len(ids(tmp_path / "ix")) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(ids(tmp_path / "ix")) == 2, lines
        assert not any("failed" in line for line in lines)
    finally:
        watcher.stop()


# ---------------------------------------------------------------------------------------------------------
# M2: unreadable files and folders; a read-only index.

def _fail_for(monkeypatch, module, name: str, target: str, code: int) -> None:
    """``module.name(path, ...)`` raises OSError(code) for paths at or under ``target``."""
    real = getattr(module, name)

    def fake(path, *args, **kwargs):
        p = os.fsdecode(os.fspath(path)) if not isinstance(path, int) else ""
        if p == target or p.startswith(target + os.sep):
            raise OSError(code, os.strerror(code), p)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(module, name, fake)


def test_an_unreadable_file_is_reported_and_keeps_its_statements(archive, tmp_path, monkeypatch):
    ix = tmp_path / "ix"
    update([archive], ix)
    before = ids(ix)
    target = str(archive / "vp.jsonl")
    # changed since (so it would be hashed and read), and now unreadable
    os.utime(target, ns=(time.time_ns(), time.time_ns() + 10**9))
    _fail_for(monkeypatch, UPDATE, "scan_file", target, errno.EACCES)
    report = update([archive], ix)
    assert report.removed == 0 and set(ids(ix)) == set(before)
    assert [p.reason for p in report.problems] == ["unreadable: Permission denied"]
    # stat fails too (EIO): still kept, still reported
    monkeypatch.undo()
    _fail_for(monkeypatch, os, "stat", target, errno.EIO)
    report = update([archive], ix)
    assert report.removed == 0 and set(ids(ix)) == set(before)
    assert any("unreadable" in p.reason for p in report.problems)
    monkeypatch.undo()
    assert update([archive], ix).removed == 0


def test_an_unreadable_sub_folder_removes_nothing(archive, tmp_path, monkeypatch):
    sub = archive / "sub"
    sub.mkdir()
    (sub / "s.jsonl").write_text("".join(vie_publique(20, "s")), "utf-8")
    ix = tmp_path / "ix"
    update([archive], ix)
    count = len(ids(ix))
    # the folder cannot be listed, nor its files looked at (no x permission)
    _fail_for(monkeypatch, os, "scandir", str(sub), errno.EACCES)
    _fail_for(monkeypatch, os, "stat", str(sub), errno.EACCES)
    report = update([archive], ix)
    assert report.removed == 0 and len(ids(ix)) == count
    assert any(p.incomplete for p in report.problems)
    monkeypatch.undo()
    # listing fails but the files can still be looked at (r- but x): kept as well
    _fail_for(monkeypatch, os, "scandir", str(sub), errno.EACCES)
    assert update([archive], ix).removed == 0
    monkeypatch.undo()
    shutil.rmtree(sub)
    assert update([archive], ix).removed == 20


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads and writes whatever the permissions")
def test_unreadable_folder_file_and_read_only_index_for_real(archive, tmp_path):
    sub = archive / "sub"
    sub.mkdir()
    (sub / "s.jsonl").write_text("".join(vie_publique(20, "s")), "utf-8")
    ix = tmp_path / "ix"
    update([archive], ix)
    count = len(ids(ix))
    try:
        sub.chmod(0)
        (archive / "vp.jsonl").chmod(0)
        os.utime(archive / "vp.jsonl", ns=(time.time_ns(), time.time_ns() + 10**9))
        report = update([archive], ix)
        assert report.removed == 0 and len(ids(ix)) == count
        ix.chmod(0o555)
        result = CliRunner().invoke(main, ["index", str(archive), "--index", str(ix)])
        assert result.exit_code != 0 and "cannot write to the index" in result.output
        assert "Traceback" not in result.output
    finally:
        sub.chmod(0o755)
        (archive / "vp.jsonl").chmod(0o644)
        ix.chmod(0o755)


def test_a_read_only_index_is_a_clear_error(archive, tmp_path, monkeypatch):
    ix = tmp_path / "ix"
    update([archive], ix)
    _fail_for(monkeypatch, os, "open", str(ix / "MAIN_WRITELOCK"), errno.EROFS)
    with pytest.raises(IndexNotWritable, match="cannot write to the index"):
        update([archive], ix)
    result = CliRunner().invoke(main, ["index", str(archive), "--index", str(ix)])
    assert result.exit_code != 0
    assert "cannot write to the index" in result.output and "Read-only file system" in result.output
    assert not isinstance(result.exception, OSError)
    monkeypatch.undo()
    # the lock file can be opened but the folder is not writable (chmod a-w after a build, as a user)
    monkeypatch.setattr(os, "access", lambda path, mode, **k: not (mode & os.W_OK and str(path) == str(ix)))
    with pytest.raises(IndexNotWritable, match="Permission denied"):
        update([archive], ix)
    with pytest.raises(IndexNotWritable):
        optimize(ix)
    monkeypatch.undo()
    assert update([archive], ix).unchanged > 0


# ---------------------------------------------------------------------------------------------------------
# M7: churn does not grow the index; optimize.

def search_ids(index_dir: Path, words: str) -> list[str]:
    from whoosh.qparser import MultifieldParser

    ix = open_index(index_dir)
    with ix.searcher() as s:
        q = MultifieldParser(["title_fr", "body_fr", "title_en", "body_en"], ix.schema).parse(words)
        return [hit["id"] for hit in s.search(q, limit=None)]


def test_remove_and_add_again_does_not_grow_the_index(tmp_path):
    folder = tmp_path / "c"
    folder.mkdir()
    big = folder / "nsb.jsonl"
    big.write_text("".join(nsb_lines(300)), "utf-8")
    (folder / "vp.jsonl").write_text("".join(vie_publique(60, "vp")), "utf-8")
    ix = tmp_path / "ix"
    update([folder], ix)
    fresh = index_size(ix)
    for _ in range(3):
        assert remove([big], ix).removed == 300
        assert update([folder], ix).added == 300
        assert index_size(ix) < 1.3 * fresh, (index_size(ix), fresh)
    segments = len(open_index(ix)._segments())
    hits = sorted(search_ids(ix, "Conseil fédéral"))
    assert len(hits) > 10
    result = CliRunner().invoke(main, ["optimize", "--index", str(ix)])
    assert result.exit_code == 0, result.output
    assert f"segments: {segments} -> 1" in result.output
    assert len(open_index(ix)._segments()) == 1
    assert sorted(search_ids(ix, "Conseil fédéral")) == hits
    # the manifest still describes the index: the next run reads nothing
    again = update([folder], ix)
    assert (again.inputs_read, again.added, again.removed) == (0, 0, 0)
    assert optimize(ix).segments_after == 1


def test_a_segment_emptied_by_deletions_is_dropped(tmp_path):
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "a.jsonl").write_text("".join(vie_publique(30, "a")), "utf-8")
    ix = tmp_path / "ix"
    update([folder], ix)
    (folder / "b.jsonl").write_text("".join(vie_publique(30, "b")), "utf-8")
    update([folder], ix)
    assert len(open_index(ix)._segments()) == 2
    (folder / "b.jsonl").unlink()
    update([folder], ix)
    segments = open_index(ix)._segments()
    assert len(segments) == 1 and not segments[0].has_deletions()


# ---------------------------------------------------------------------------------------------------------
# M8: stats on an empty index.

def test_stats_on_an_empty_index(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    update([empty], tmp_path / "ix")
    assert stats(tmp_path / "ix")["statements"] == 0
    result = CliRunner().invoke(main, ["stats", "--index", str(tmp_path / "ix")])
    assert result.exit_code == 0 and "statements: 0" in result.output, result.output
    # a first build killed (or still running): the index exists, no segment yet, the lock held
    first = tmp_path / "first"
    create_or_open(first)
    (first / "MAIN.tmp").mkdir()
    with write_lock(first):
        data = stats(first)
        assert data["statements"] == 0 and data["languages"] == {} and data["inputs"] == 0
        assert CliRunner().invoke(main, ["stats", "--index", str(first), "--json"]).exit_code == 0


# ---------------------------------------------------------------------------------------------------------
# L4: duplicate ids across files, one rule.

def _dup_files(folder: Path) -> dict[str, Path]:
    """Three files holding the same id "dup" with different titles, and ids of their own."""
    base = json.loads(vie_publique(1, "x")[0])
    files = {}
    for name in ("a", "b", "c"):
        recs = [dict(base, id="dup", title=f"copie {name}"), dict(base, id=f"own-{name}", url=f"u:{name}")]
        path = folder / f"{name}.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), "utf-8")
        files[name] = path
    return files


def _dup_title(ix: Path) -> str:
    return ids(ix)["dup"]["title"]


@pytest.mark.parametrize("runs", [
    [["a", "b"]], [["a"], ["b"]], [["b"], ["a"]], [["b", "a"]], [["b"], ["a"], ["a", "b"]],
])
def test_duplicate_id_keeps_the_copy_of_the_last_path_whatever_the_order(tmp_path, runs):
    files = _dup_files(tmp_path)
    ix = tmp_path / "ix"
    for run in runs:
        update([files[name] for name in run], ix)
    assert _dup_title(ix) == "copie b"
    # the winner goes: the other copy comes back
    remove([files["b"]], ix)
    assert _dup_title(ix) == "copie a"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["add", "remove"]), st.sampled_from("abc")), min_size=1,
                max_size=5))
def test_duplicate_id_rule_over_any_sequence_of_runs(tmp_path_factory, steps):
    folder = tmp_path_factory.mktemp("dup")
    files = _dup_files(folder)
    ix = folder / "ix"
    indexed: set[str] = set()
    for action, name in steps:
        if action == "add":
            update([files[name]], ix, workers=False)
            indexed.add(name)
        elif ix.exists() and (ix / MANIFEST_NAME).exists():
            remove([files[name]], ix)
            indexed.discard(name)
        stored = ids(ix) if (ix / MANIFEST_NAME).exists() else {}
        if indexed:
            assert stored["dup"]["title"] == f"copie {max(indexed)}", steps
            assert {f"own-{n}" for n in indexed} | {"dup"} == set(stored)
        else:
            assert "dup" not in stored


def test_watch_backs_off_while_the_same_error_repeats(tmp_path, monkeypatch):
    """A failing update (the index folder itself, say) is retried later and later, logged once per change."""
    import indexer.watch as watch_module

    calls: list[int] = []

    def failing(*args, **kwargs):
        calls.append(1)
        raise IndexNotWritable(tmp_path / "ix", PermissionError(13, "Permission denied"))

    monkeypatch.setattr(watch_module, "update", failing)
    lines: list[str] = []
    watcher = watch_module.Watcher([tmp_path], tmp_path / "ix", retry=5.0, log=lines.append)
    delays = []
    for _ in range(12):
        watcher._first = None  # the pending retry is taken, as the run loop does
        watcher._try_update(0, initial=False)
        delays.append(watcher.retry_delay())
    assert len(calls) == 12 and watcher.failures == 12
    assert delays[:4] == [5.0, 10.0, 20.0, 40.0] and delays[-1] == watch_module.MAX_RETRY
    assert len(lines) < 6  # first failure, then 2, 4, 8 failures in a row
    assert "cannot write to the index" in lines[0]
    monkeypatch.setattr(watch_module, "update", lambda *a, **k: UpdateReport())
    watcher._try_update(0, initial=False)
    assert watcher.failures == 0 and watcher.last_error is None and watcher.retry_delay() == 5.0


_NAME = st.binary(min_size=1, max_size=12).filter(lambda b: b"/" not in b and b"\0" not in b
                                                   and not b.startswith(b"."))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(_NAME, min_size=1, max_size=4, unique_by=lambda b: b.lower()), data=st.data())
def test_any_file_names_index_reindex_and_delete(tmp_path_factory, names, data):
    """Files named with any bytes (UTF-8 or not): all indexed, a rerun is a no-op, deleting some removes
    exactly their statements, and the manifest stays valid UTF-8 JSON."""
    root = tmp_path_factory.mktemp("names")
    folder = os.fsencode(root / "c")
    os.mkdir(folder)
    lines = vie_publique(2 * len(names), "n")
    paths = []
    for i, name in enumerate(names):
        path = folder + b"/" + name + b".jsonl"
        with open(path, "wb") as f:
            f.write("".join(lines[2 * i:2 * i + 2]).encode("utf-8"))
        paths.append(path)
    ix = root / "ix"
    first = update([os.fsdecode(folder)], ix, workers=False)
    assert first.added == 2 * len(names) and not first.problems
    json.loads((ix / MANIFEST_NAME).read_bytes().decode("utf-8"))
    again = update([os.fsdecode(folder)], ix, workers=False)
    assert (again.inputs_read, again.added, again.removed) == (0, 0, 0)
    gone = data.draw(st.lists(st.sampled_from(range(len(names))), unique=True))
    for i in gone:
        os.unlink(paths[i])
    report = update([os.fsdecode(folder)], ix, workers=False)
    assert report.removed == 2 * len(gone)
    assert set(ids(ix)) == {f"n-{2 * i + k}" for i in range(len(names)) if i not in gone for k in (0, 1)}


def test_records_without_id_in_a_file_whose_name_is_not_utf8(tmp_path):
    """Their ids are made from the file name and the content: they must hash whatever the name's bytes."""
    recs = [json.loads(line) for line in vie_publique(3, "x")]
    for rec in recs:
        del rec["id"], rec["url"]
    folder = os.fsencode(tmp_path / "c")
    os.mkdir(folder)
    with open(folder + b"/vp\xe9.jsonl", "wb") as f:
        f.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs).encode("utf-8"))
    report = update([os.fsdecode(folder)], tmp_path / "ix")
    assert report.added == 3 and not report.problems, report.problems
    assert update([os.fsdecode(folder)], tmp_path / "ix").inputs_read == 0
