"""Incremental updates on real statements and real files: add, change, delete, no-op, duplicates, crashes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from whoosh.qparser import MultifieldParser

from corpus import Statement, read_paths
from indexer import IndexMissing, UpdateInProgress, open_index, stats, update
from indexer.manifest import MANIFEST_NAME, Manifest
from indexer.schema import TEXT_LANGS
from indexer.store import write_lock
from tests.corpora import ROOT, SAMPLE, SHARED

TEXT_FIELDS = [f"{kind}_{lang}" for kind in ("title", "body") for lang in TEXT_LANGS]

GERMAN = (
    "Der Bundesrat hat an seiner heutigen Sitzung die Botschaft zur Änderung des Bundesgesetzes über die "
    "Krankenversicherung verabschiedet. Die Vorlage soll die Kosten im Gesundheitswesen dämpfen und die "
    "Qualität der Versorgung für alle Versicherten in der ganzen Schweiz verbessern. Die Kantone und die "
    "Versicherer werden in die Umsetzung eng einbezogen, und das Parlament wird die Vorlage im Herbst "
    "beraten."
)


def vie_publique() -> list[dict]:
    path = SAMPLE / "vie-publique.jsonl"
    if not path.exists():
        pytest.skip("sample/vie-publique.jsonl missing")
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def records(n: int, prefix: str = "vp", start: int = 0) -> list[dict]:
    """Real statements (vie-publique sample) under ids and URLs of our own, so they can be changed."""
    out = []
    for i, rec in enumerate(vie_publique()[start:start + n], start=start):
        rec = dict(rec)
        rec["id"] = f"{prefix}-{i}"
        rec["url"] = f"https://example.org/{prefix}/{i}"
        out.append(rec)
    return out


def write_jsonl(path: Path, recs: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), "utf-8")


def search_ids(index_dir: Path, text: str) -> set[str]:
    ix = open_index(index_dir)
    with ix.searcher() as s:
        q = MultifieldParser(TEXT_FIELDS, ix.schema).parse(text)
        return {hit["id"] for hit in s.search(q, limit=None)}


def all_ids(index_dir: Path) -> list[str]:
    ix = open_index(index_dir)
    with ix.searcher() as s:
        return sorted(f["id"] for f in s.all_stored_fields())


def generation(index_dir: Path) -> int:
    return open_index(index_dir).latest_generation()


@pytest.fixture
def corpus(tmp_path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    write_jsonl(folder / "a.jsonl", records(10, "a"))
    yukon = SAMPLE / "yukon" / "fr" / "2019"
    if yukon.is_dir():
        for page in sorted(yukon.iterdir())[:3]:
            shutil.copy(page, folder / page.name)
    return folder


@pytest.fixture
def index_dir(tmp_path) -> Path:
    return tmp_path / "index"


def test_build_then_noop(corpus, index_dir):
    first = update([corpus], index_dir)
    assert first.added == len(all_ids(index_dir)) == first.statements > 10
    assert (first.updated, first.removed, first.unchanged) == (0, 0, 0)
    gen = generation(index_dir)
    manifest_before = (index_dir / MANIFEST_NAME).read_bytes()
    again = update([corpus], index_dir)
    assert (again.added, again.updated, again.removed) == (0, 0, 0)
    assert again.unchanged == first.added
    assert again.inputs_read == 0
    assert generation(index_dir) == gen  # nothing committed
    assert (index_dir / MANIFEST_NAME).read_bytes() == manifest_before


def test_touched_file_is_hashed_not_read(corpus, index_dir):
    update([corpus], index_dir)
    path = corpus / "a.jsonl"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 5_000_000_000))
    report = update([corpus], index_dir)
    assert (report.inputs_read, report.added, report.updated, report.removed) == (0, 0, 0, 0)
    assert Manifest.load(index_dir).inputs[str(path.resolve())].mtime_ns == path.stat().st_mtime_ns


def test_add_modify_delete_files(corpus, index_dir):
    update([corpus], index_dir)
    before = set(all_ids(index_dir))

    # A new file: its statements are added, nothing else is touched.
    write_jsonl(corpus / "b.jsonl", records(5, "b", start=20))
    report = update([corpus], index_dir)
    assert (report.added, report.updated, report.removed) == (5, 0, 0)
    assert report.inputs_read == 1
    assert set(all_ids(index_dir)) == before | {f"b-{i}" for i in range(20, 25)}

    # A changed record is replaced; a record gone from its file is removed.
    recs = records(10, "a")
    recs[0]["html"] = "<p>Les zorglubs ont été recensés dans la forêt domaniale.</p>"
    del recs[1]
    write_jsonl(corpus / "a.jsonl", recs)
    report = update([corpus], index_dir)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 1, 1, report.unchanged)
    assert search_ids(index_dir, "zorglub") == {"a-0"}
    assert "a-1" not in all_ids(index_dir)
    assert all_ids(index_dir).count("a-0") == 1

    # A deleted file: its statements go.
    (corpus / "b.jsonl").unlink()
    report = update([corpus], index_dir)
    assert (report.added, report.updated, report.removed) == (0, 0, 5)
    assert report.inputs_removed == 1
    assert not any(i.startswith("b-") for i in all_ids(index_dir))


def test_changed_html_page_is_replaced(corpus, index_dir):
    pages = sorted(corpus.glob("*.html"))
    if not pages:
        pytest.skip("no Yukon sample pages")
    update([corpus], index_dir)
    page = pages[0]
    html = page.read_text("utf-8")
    marker = "<p>"
    assert marker in html
    page.write_text(html.replace(marker, "<p>Les wombats géants arrivent au Yukon. ", 1), "utf-8")
    report = update([corpus], index_dir)
    assert report.inputs_read == 1
    assert report.updated + report.added >= 1
    found = search_ids(index_dir, "wombat")
    assert len(found) == 1
    assert len(all_ids(index_dir)) == len(set(all_ids(index_dir)))


def test_statement_moving_to_another_file(corpus, index_dir):
    update([corpus], index_dir)
    recs = records(10, "a")
    write_jsonl(corpus / "a.jsonl", recs[:5])
    write_jsonl(corpus / "c.jsonl", recs[5:])
    report = update([corpus], index_dir)
    assert (report.added, report.removed) == (0, 0)
    ids = all_ids(index_dir)
    assert len(ids) == len(set(ids))
    assert {f"a-{i}" for i in range(10)} <= set(ids)
    # the moved ones now belong to c.jsonl: deleting it removes them
    (corpus / "c.jsonl").unlink()
    report = update([corpus], index_dir)
    assert report.removed == 5


def test_duplicate_ids_keep_the_last(tmp_path, index_dir):
    folder = tmp_path / "dup"
    folder.mkdir()
    recs = records(3, "d")
    twice = dict(recs[0])
    twice["title"] = "Deuxième publication du même communiqué"
    write_jsonl(folder / "x.jsonl", [recs[0], recs[1], twice, recs[2]])
    report = update([folder], index_dir)
    assert report.duplicates == 1
    assert report.skipped.get("duplicate id (kept the last)") == 1
    ids = all_ids(index_dir)
    assert ids == ["d-0", "d-1", "d-2"]
    ix = open_index(index_dir)
    with ix.searcher() as s:
        assert s.document(id="d-0")["title"] == "Deuxième publication du même communiqué"
    # the same input again: nothing changes, the duplicate is still resolved the same way
    again = update([folder], index_dir)
    assert (again.added, again.updated, again.removed) == (0, 0, 0)


def test_exact_duplicate_bodies_keep_both_with_one_group(tmp_path, index_dir):
    folder = tmp_path / "grp"
    folder.mkdir()
    rec = records(1, "g")[0]
    other = dict(rec, id="g-other", url="https://example.org/other", source="Autre ministère")
    write_jsonl(folder / "x.jsonl", [rec, other])
    update([folder], index_dir)
    ix = open_index(index_dir)
    with ix.searcher() as s:
        docs = list(s.all_stored_fields())
    assert len(docs) == 2
    assert docs[0]["group"] == docs[1]["group"]


def test_other_language_is_indexed_and_listed(tmp_path, index_dir):
    folder = tmp_path / "de"
    folder.mkdir()
    rec = {"id": "nsb-de-1", "url": "https://example.org/de/1", "lang": "en", "date": "2020-03-01",
           "title": "Bundesrat verabschiedet Botschaft zur Krankenversicherung", "html": f"<p>{GERMAN}</p>",
           "source": "BAG"}
    write_jsonl(folder / "x.jsonl", [*records(2, "f"), rec])
    report = update([folder], index_dir)
    assert report.statements == 3
    assert report.other_languages == {"de": 1}
    assert report.disagreements.get("en→de") == 1
    data = stats(index_dir)
    assert data["other_languages"]["count"] == 1
    assert data["other_languages"]["statements"][0]["id"] == "nsb-de-1"
    assert data["languages"] == {"fr": 2, "de": 1}
    # folded, unstemmed: found in the xx fields, accents or not
    assert search_ids(index_dir, "krankenversicherung") == {"nsb-de-1"}
    assert search_ids(index_dir, "qualitat") == {"nsb-de-1"}


def test_stats_agree_with_the_data(corpus, index_dir):
    update([corpus], index_dir)
    statements = [s for s in read_paths([corpus]) if isinstance(s, Statement)]
    data = stats(index_dir)
    assert data["statements"] == len({s.id for s in statements})
    langs: dict[str, int] = {}
    years: dict[str, int] = {}
    for s in statements:
        langs[s.lang] = langs.get(s.lang, 0) + 1
        years[s.date[:4]] = years.get(s.date[:4], 0) + 1
    assert data["languages"] == langs
    assert data["years"] == dict(sorted(years.items()))
    dates = sorted(s.date for s in statements if s.date)
    assert data["date_range"] == [dates[0], dates[-1]]
    assert data["inputs"] == len(list(corpus.iterdir()))
    assert data["size_bytes"] > 0
    assert data["last_update"]


def test_open_index_missing(tmp_path):
    with pytest.raises(IndexMissing, match="No index at"):
        open_index(tmp_path / "none")
    with pytest.raises(IndexMissing):
        stats(tmp_path / "none")


def test_crash_between_commit_and_manifest(corpus, index_dir):
    """The commit landed, the manifest did not: the next run re-reads and finds nothing changed."""
    update([corpus], index_dir)
    count = len(all_ids(index_dir))
    (index_dir / MANIFEST_NAME).unlink()
    report = update([corpus], index_dir)
    assert (report.added, report.updated, report.removed) == (0, 0, 0)
    assert report.unchanged == count
    assert len(all_ids(index_dir)) == count
    # an older manifest (previous generation) is not trusted either
    write_jsonl(corpus / "b.jsonl", records(2, "b", start=30))
    old = (index_dir / MANIFEST_NAME).read_bytes()
    update([corpus], index_dir)
    (index_dir / MANIFEST_NAME).write_bytes(old)
    report = update([corpus], index_dir)
    assert (report.added, report.updated, report.removed) == (0, 0, 0)
    assert len(all_ids(index_dir)) == count + 2


def test_second_writer_waits_then_gives_up(corpus, index_dir):
    update([corpus], index_dir)
    with write_lock(index_dir):
        with pytest.raises(UpdateInProgress, match="another update is in progress"):
            update([corpus], index_dir, lock_timeout=0.5)
    assert update([corpus], index_dir).unchanged > 0  # the lock is free again


def test_lock_of_a_killed_process_is_released(tmp_path, index_dir):
    """fcntl.flock is released by the kernel when its holder dies, even with kill -9."""
    index_dir.mkdir()
    code = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from pathlib import Path
        from indexer.store import write_lock
        with write_lock(Path({str(index_dir)!r})):
            print("locked", flush=True)
            time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        with pytest.raises(UpdateInProgress):
            with write_lock(index_dir, timeout=0.2):
                pass
    finally:
        proc.kill()
        proc.wait()
    with write_lock(index_dir, timeout=1):
        pass


def _big_corpus(folder: Path) -> int:
    """A corpus big enough that a build takes a few seconds: nsb records when the shared data is there."""
    nsb = SHARED / "corpus" / "nsb" / "nsb.jsonl.gz"
    folder.mkdir(parents=True, exist_ok=True)
    if nsb.exists():
        import gzip
        import itertools

        with gzip.open(nsb, "rb") as f, open(folder / "big.jsonl", "wb") as out:
            n = 0
            for line in itertools.islice(f, 600):
                out.write(line)
                n += 1
        return n
    recs = []
    for k in range(40):
        recs += records(40, f"k{k}")
    write_jsonl(folder / "big.jsonl", recs)
    return len(recs)


def _index_process(corpus: Path, index_dir: Path) -> subprocess.Popen:
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from indexer import update
        said = []
        def progress(done, total, statements):
            if statements >= 100 and not said:  # statements are being written: the test kills us now
                said.append(1)
                print("writing", flush=True)
        update([{str(corpus)!r}], {str(index_dir)!r}, workers=True, progress=progress)
        print("done", flush=True)
    """)
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=ROOT)


def _processes_mentioning(marker: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def test_killed_build_leaves_last_commit_usable(corpus, tmp_path, index_dir):
    first = update([corpus], index_dir)
    committed = sorted(all_ids(index_dir))
    big = tmp_path / "big"
    expected = _big_corpus(big)
    shutil.copytree(corpus, big, dirs_exist_ok=True)

    proc = _index_process(big, index_dir)
    assert proc.stdout.readline().strip() == "writing"  # well into reading and writing, before the commit
    proc.kill()
    proc.wait()
    time.sleep(0.5)
    assert _processes_mentioning(str(big)) == [], "the reader worker outlived its parent"

    # The previous commit is intact and searchable.
    assert sorted(all_ids(index_dir)) == committed
    assert len(search_ids(index_dir, "ministre")) > 0
    # The next run takes the lock at once and completes the job.
    report = update([big], index_dir, lock_timeout=1)
    assert report.statements >= expected
    ids = all_ids(index_dir)
    assert len(ids) == len(set(ids)) == report.statements
    assert set(committed) <= set(ids)
    assert first.statements < report.statements
    # Nothing is left over from the killed run once the next one committed (no orphaned segment files).
    again = update([big], index_dir)
    assert (again.added, again.updated, again.removed) == (0, 0, 0)
    segments = {p.name.split(".")[0] for p in index_dir.glob("MAIN_*.seg")}
    assert len(segments) <= 3
    assert not (index_dir / "MAIN.tmp").exists()


@pytest.mark.slow
def test_nsb_subset_build_noop_and_small_update(tmp_path):
    """5,000 real nsb records: every statement indexed once, German ones listed, reruns cheap."""
    nsb = SHARED / "corpus" / "nsb" / "nsb.jsonl.gz"
    if not nsb.exists():
        pytest.skip("../shared/corpus/nsb missing")
    import gzip
    import itertools

    folder = tmp_path / "nsb"
    folder.mkdir()
    with gzip.open(nsb, "rb") as f, open(folder / "nsb.jsonl", "wb") as out:
        out.writelines(itertools.islice(f, 5000))
    index_dir = tmp_path / "index"
    report = update([folder], index_dir)
    statements = [s for s in read_paths([folder]) if isinstance(s, Statement)]
    unique = {s.id: s for s in statements}
    assert report.statements == len(unique) == len(all_ids(index_dir))
    data = stats(index_dir)
    langs: dict[str, int] = {}
    for s in unique.values():
        langs[s.lang] = langs.get(s.lang, 0) + 1
    assert data["languages"] == langs
    assert data["other_languages"]["count"] == sum(n for lang, n in langs.items() if lang not in ("fr", "en"))
    noop = update([folder], index_dir)
    assert (noop.added, noop.updated, noop.removed, noop.inputs_read) == (0, 0, 0, 0)
    write_jsonl(folder / "more.jsonl", records(20, "more"))
    more = update([folder], index_dir)
    assert more.added == 20 and more.inputs_read == 1


def test_build_in_several_segments_is_one_commit(tmp_path, index_dir, monkeypatch):
    """A big build finishes a segment every SEGMENT_DOCS statements while reading goes on; the result is
    one commit, and duplicates across segment boundaries still keep the last."""
    update_module = sys.modules["indexer.updating"]
    monkeypatch.setattr(update_module, "SEGMENT_DOCS", 7)
    folder = tmp_path / "seg"
    folder.mkdir()
    recs = records(30, "s")
    late = dict(recs[2], title="Version tardive du communiqué")
    write_jsonl(folder / "a.jsonl", recs[:15])
    write_jsonl(folder / "b.jsonl", [*recs[15:], late])
    report = update([folder], index_dir, workers=True)
    assert report.duplicates == 1
    ids = all_ids(index_dir)
    assert ids == sorted(f"s-{i}" for i in range(30))
    ix = open_index(index_dir)
    assert ix.latest_generation() == 1
    assert len(ix._segments()) >= 4
    with ix.searcher() as s:
        assert s.document(id="s-2")["title"] == "Version tardive du communiqué"
    assert len(search_ids(index_dir, "ministre")) > 0
    again = update([folder], index_dir, workers=True)
    assert (again.added, again.updated, again.removed) == (0, 0, 0)
    (folder / "b.jsonl").unlink()
    gone = update([folder], index_dir, workers=True)
    # s-2 was won by b.jsonl's copy; with b gone, a.jsonl is read again and its copy comes back
    assert (gone.removed, gone.updated) == (15, 1)
    assert all_ids(index_dir) == sorted(f"s-{i}" for i in range(15))
    with open_index(index_dir).searcher() as s:
        assert s.document(id="s-2")["title"] == recs[2]["title"]


def index_contents(index_dir: Path) -> tuple[dict, dict]:
    """What an index holds, independent of document numbers: stored fields by id, and each term's
    document frequency (postings of deleted documents excluded)."""
    with open_index(index_dir).searcher() as s:
        stored = {f["id"]: f for f in s.all_stored_fields()}
        # counted from the postings: a term's stored frequency still counts deleted documents
        terms = {(field, text): len(list(s.postings(field, text).all_ids()))
                 for field, text in s.reader().all_terms()}
    return stored, {t: n for t, n in terms.items() if n}


@pytest.mark.parametrize("fraction", [-1.0, 1.0])
def test_worker_build_matches_in_process_build_whatever_the_share(tmp_path, monkeypatch, fraction):
    """The reader worker may pre-analyse documents (share > 0) or leave their link records to the writer
    (share < 0); either way, and with segments rotated near the end of the input, the index is the one an
    in-process build makes, translation links and duplicate groups included."""
    update_module = sys.modules["indexer.updating"]
    monkeypatch.setattr(update_module, "SEGMENT_DOCS", 40)
    fixed = lambda self, blocked: setattr(self, "fraction", fraction)  # noqa: E731
    monkeypatch.setattr(update_module._Share, "adjust", fixed)
    update([SAMPLE], tmp_path / "plain", workers=False)
    report = update([SAMPLE], tmp_path / "worker", workers=True)
    assert report.linked > 50
    assert len(open_index(tmp_path / "worker")._segments()) >= 3
    plain_stored, plain_terms = index_contents(tmp_path / "plain")
    worker_stored, worker_terms = index_contents(tmp_path / "worker")
    assert worker_stored == plain_stored
    assert worker_terms == plain_terms


def _append(path: Path, recs: list[dict]) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs))


@pytest.fixture
def extract_calls(monkeypatch) -> list[str]:
    """The origins the ingester extracts from, in this process (small updates read in-process)."""
    import corpus.inputs

    calls: list[str] = []
    real = corpus.inputs.extract_html

    def counting(content, origin="", **kwargs):
        calls.append(origin)
        return real(content, origin=origin, **kwargs)

    monkeypatch.setattr(corpus.inputs, "extract_html", counting)
    return calls


def test_appended_lines_are_read_alone_and_index_like_a_full_read(tmp_path, extract_calls):
    """A JSON Lines archive that only grew is read from where the last run stopped; the index is the one a
    full read of the file gives: an appended record that reuses an id replaces it, one repeated without id
    or URL gets its rank in the whole file."""
    plain = vie_publique()
    anonymous = [{k: v for k, v in rec.items() if k not in ("id", "url")} for rec in plain[30:33]]
    path = tmp_path / "archive.jsonl"
    write_jsonl(path, records(20, "a") + anonymous)
    first = update([path], tmp_path / "inc")
    assert first.added == 23
    changed = dict(records(1, "a", start=3)[0], title="Titre corrigé du communiqué")
    _append(path, [*records(4, "a", start=20), changed, anonymous[1]])
    extract_calls.clear()
    grown = update([path], tmp_path / "inc")
    assert len(extract_calls) == 6  # the appended lines only
    assert all(int(origin.rsplit(":", 1)[1]) > 23 for origin in extract_calls)
    assert (grown.added, grown.updated, grown.removed, grown.unchanged, grown.inputs_read) == (5, 1, 0, 22, 1)
    update([path], tmp_path / "full")
    assert index_contents(tmp_path / "inc") == index_contents(tmp_path / "full")
    again = update([path], tmp_path / "inc")
    assert not again.changed and again.unchanged == 28


def test_a_file_that_did_not_only_grow_is_read_whole(tmp_path, extract_calls):
    path = tmp_path / "archive.jsonl"
    recs = records(10, "b")
    # no newline after the last record: appending extends that line, so the file is read again
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in recs), "utf-8")
    update([path], tmp_path / "inc")
    _append(path, records(2, "b", start=10))  # "…}{…}\n…" : the old last line is now broken
    extract_calls.clear()
    report = update([path], tmp_path / "inc")
    assert len(extract_calls) == 10  # whole file: 9 intact lines + the new last one, the broken one reported
    # the broken line may still be the old record: its statement is kept, not removed (issue 16, H1)
    assert report.removed == 0 and report.skipped
    assert [p.line for p in report.problems if p.incomplete] == [10]
    assert "b-9" in all_ids(tmp_path / "inc")
    # rewritten with a different beginning and a larger size: read whole, old statements removed
    write_jsonl(path, records(12, "c"))
    extract_calls.clear()
    rewritten = update([path], tmp_path / "inc")
    assert len(extract_calls) == 12 and rewritten.added == 12 and rewritten.removed == 11
    update([path], tmp_path / "full")
    assert index_contents(tmp_path / "inc") == index_contents(tmp_path / "full")
