"""Damaged index files (M9): one clear line everywhere, `presse check`, and a rebuild by the next update.

Each test damages one file of a real index built from sample/, the way a full disk, a killed copy or a bad
sector does: truncated, garbled, missing, or an extra table of contents. Then the library, the commands and
the web app must say so in one sentence (no traceback, and no silent "No statement matches"), `presse check`
must name the file and exit 1, and `presse index` over the same corpus must rebuild the index so that `presse
check` passes and searches give what they gave before the damage.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.corpora import ROOT

CORPUS = ROOT / "sample" / "yukon" / "en" / "2020"
QUERIES = ["yukon", "health care", "caribou", "covid", "minister"]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """Two layouts of the same index: one file per part (a big build's segments) and a compound segment."""
    import indexer

    base = tmp_path_factory.mktemp("built")
    out = {"files": base / "files", "compound": base / "compound"}
    indexer.update([str(CORPUS)], out["files"], workers=True)
    indexer.update([str(CORPUS)], out["compound"], workers=False)
    assert any(out["files"].glob("*.pst")) and any(out["compound"].glob("*.seg"))
    return out


def _results(index_dir: Path) -> dict[str, list[str]]:
    from search import Searcher

    with Searcher(index_dir) as s:
        return {q: [h["id"] for h in s.search(q, limit=50).hits] for q in QUERIES}


@pytest.fixture(scope="module")
def expected(built) -> dict[str, list[str]]:
    res = _results(built["files"])
    assert any(res.values())
    return res


def _one(index_dir: Path, pattern: str) -> Path:
    found = sorted(index_dir.glob(pattern))
    assert found, pattern
    return found[0]


def _truncate(pattern: str, keep: float) -> Callable[[Path], Path]:
    def damage(index_dir: Path) -> Path:
        path = _one(index_dir, pattern)
        os.truncate(path, int(path.stat().st_size * keep))
        return path
    return damage


def _garble(pattern: str, start: int, step: int) -> Callable[[Path], Path]:
    def damage(index_dir: Path) -> Path:
        path = _one(index_dir, pattern)
        data = bytearray(path.read_bytes())
        for i in range(min(start, len(data) // 2), len(data), step):
            data[i] ^= 0x5A
        path.write_bytes(bytes(data))
        return path
    return damage


def _extra_toc(index_dir: Path) -> Path:
    path = index_dir / "_MAIN_99.toc"
    path.write_bytes(bytes(range(256)) * 2)
    return path


def _missing(pattern: str) -> Callable[[Path], Path]:
    def damage(index_dir: Path) -> Path:
        path = _one(index_dir, pattern)
        path.unlink()
        return path
    return damage


DAMAGES: dict[str, tuple[str, Callable[[Path], Path]]] = {
    "truncated toc": ("files", _truncate("_MAIN_*.toc", 0.5)),
    "garbled toc": ("files", _garble("_MAIN_*.toc", 60, 5)),
    "extra toc": ("files", _extra_toc),
    "truncated stored fields": ("files", _truncate("*._stored.col", 0.5)),
    "garbled stored fields": ("files", _garble("*._stored.col", 2000, 97)),
    "half-truncated postings": ("files", _truncate("*.pst", 0.5)),
    "postings short by a few bytes": ("files", _truncate("*.pst", 0.999)),
    "truncated terms": ("files", _truncate("*.trm", 0.5)),
    "truncated field lengths": ("files", _truncate("*._body_en_len.col", 0.5)),
    "truncated date column": ("files", _truncate("*.date.col", 0.5)),
    "garbled language column": ("files", _garble("*.lang.col", 0, 1)),
    "source column short by a byte": ("files", _truncate("*.source.col", 0.9999)),
    "missing postings": ("files", _missing("*.pst")),
    "truncated compound segment": ("compound", _truncate("*.seg", 0.5)),
    "compound segment short by a few bytes": ("compound", _truncate("*.seg", 0.99)),
}


@pytest.fixture(params=list(DAMAGES))
def damaged(request, built, tmp_path) -> tuple[Path, Path]:
    layout, damage = DAMAGES[request.param]
    index_dir = tmp_path / "index"
    shutil.copytree(built[layout], index_dir)
    return index_dir, damage(index_dir)


def _invoke(args: list[str]):
    from cli import main

    result = CliRunner().invoke(main, args)
    out = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert "Traceback" not in out, out
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, out


def test_damage_is_one_clear_sentence_everywhere(damaged):
    from indexer import IndexDamaged, open_index
    from search import Searcher, SearchError
    from search.engine import IndexUnavailable
    from search.web.app import create_app

    index_dir, path = damaged
    with pytest.raises(IndexDamaged) as err:
        open_index(index_dir)
    msg = str(err.value)
    assert "is damaged" in msg and path.name in msg and "presse check" in msg and "\n" not in msg
    with pytest.raises(IndexUnavailable, match="is damaged"):
        Searcher(index_dir)
    with pytest.raises(SearchError, match="is damaged"):
        create_app(str(index_dir))
    for args in (["search", "yukon"], ["stats"], ["related", "x"], ["serve", "--port", "0"]):
        code, out = _invoke([*args, "--index", str(index_dir)])
        assert code != 0 and "is damaged" in out and path.name in out, (args, out)
        assert "No statement matches" not in out


def test_check_names_the_file_and_the_next_update_rebuilds(damaged, expected):
    import json

    index_dir, path = damaged
    code, out = _invoke(["check", "--index", str(index_dir)])
    assert code == 1 and path.name in out and "damaged" in out, out
    code, out = _invoke(["check", "--json", "--index", str(index_dir)])
    report = json.loads(out)
    # the damaged file is named; a garbled stored-fields file may first show as a column disagreeing with it,
    # and then both are listed in "files" (which of the two is wrong cannot be told)
    assert code == 1 and not report["ok"]
    assert any(path.name in f for p in report["problems"] for f in p["files"]), report

    code, out = _invoke(["index", str(CORPUS), "--index", str(index_dir)])
    assert code == 0, out
    assert "index was damaged (" in out and path.name in out and "): rebuilt" in out
    code, out = _invoke(["check", "--index", str(index_dir)])
    assert code == 0 and "ok: no problem found" in out, out
    assert _results(index_dir) == expected
    code, out = _invoke(["index", str(CORPUS), "--index", str(index_dir)])  # and then it is a normal index
    assert code == 0 and "damaged" not in out and "0 added, 0 updated, 0 removed" in out, out
    aside = list(index_dir.glob("damaged-*"))  # moved aside, not deleted
    assert len(aside) == 1 and (aside[0] / "presse-manifest.json").exists()


def test_a_rebuild_keeps_inputs_indexed_from_other_paths(built, tmp_path):
    """The index held inputs from two folders; `presse index ONE` over the damaged index reads both again."""
    import indexer

    index_dir = tmp_path / "index"
    other = ROOT / "sample" / "yukon" / "en" / "2019"
    indexer.update([str(CORPUS)], index_dir, workers=True)
    indexer.update([str(other)], index_dir)
    before = indexer.check(index_dir).documents
    full = _results(index_dir)
    _truncate("*.pst", 0.5)(index_dir)
    report = indexer.update([str(CORPUS)], index_dir)
    assert report.repaired and ".pst" in report.repaired
    after = indexer.check(index_dir)
    assert after.ok and after.documents == before == report.statements
    assert _results(index_dir) == full


def test_check_passes_on_sound_indexes_and_checks_everything(built):
    from indexer import check

    for layout in ("files", "compound"):
        report = check(built[layout])
        assert report.ok, report.lines()
        assert report.documents > 0 and report.terms > 1000 and report.postings >= report.terms
        assert report.to_dict()["ok"] is True and report.files >= 3


def test_check_reports_a_stale_manifest(built, tmp_path):
    from indexer import check

    index_dir = tmp_path / "index"
    shutil.copytree(built["files"], index_dir)
    (index_dir / "presse-manifest.json").unlink()
    report = check(index_dir)
    assert not report.ok and report.problems[0].file == "presse-manifest.json"


def test_check_on_no_index_is_one_line(tmp_path):
    code, out = _invoke(["check", "--index", str(tmp_path / "none")])
    assert code != 0 and "No index at" in out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_damage_never_escapes_as_a_traceback(built, tmp_path_factory, data):
    """Any file cut or overwritten anywhere: opening, searching and checking raise only the indexer's and the
    searcher's one-sentence errors (or work, when the bytes hit something that does not matter)."""
    from indexer import IndexMissing, check, open_index
    from search import Searcher, SearchError

    layout = data.draw(st.sampled_from(["files", "compound"]))
    index_dir = tmp_path_factory.mktemp("fuzz") / "index"
    shutil.copytree(built[layout], index_dir)
    files = sorted(p for p in index_dir.iterdir() if p.is_file() and p.name != "MAIN_WRITELOCK")
    path = data.draw(st.sampled_from(files))
    raw = bytearray(path.read_bytes())
    if data.draw(st.booleans()) and raw:
        os.truncate(path, data.draw(st.integers(0, len(raw) - 1)))
    elif raw:
        at = data.draw(st.integers(0, len(raw) - 1))
        patch = data.draw(st.binary(min_size=1, max_size=64))
        raw[at:at + len(patch)] = patch
        path.write_bytes(bytes(raw[:max(len(raw), at)]))
    try:
        open_index(index_dir).close()
    except IndexMissing:
        pass
    report = check(index_dir)
    assert isinstance(report.ok, bool)
    try:
        with Searcher(index_dir) as s:
            for q in QUERIES:
                for hit in s.search(q, limit=20).hits:
                    s.statement(hit["id"])
    except SearchError:
        pass


def test_a_column_that_disagrees_with_the_stored_fields_names_both_files(built, tmp_path):
    """Which of the two is wrong cannot be told: the report lists both in "files" ("file" stays one)."""
    import json

    index_dir = tmp_path / "index"
    shutil.copytree(built["files"], index_dir)
    column = _garble("*.date.col", 0, 1)(index_dir)
    code, out = _invoke(["check", "--json", "--index", str(index_dir)])
    report = json.loads(out)
    assert code == 1 and not report["ok"], report
    problem = report["problems"][0]
    assert problem["file"] == column.name and "disagrees with" in problem["problem"], problem
    assert problem["files"][0] == column.name and problem["files"][1].endswith("._stored.col"), problem


@pytest.mark.parametrize("layout", ["files", "compound"])
def test_an_update_checks_each_segment_once(built, tmp_path, monkeypatch, layout):
    """The repair's quick check opens the index the update then uses: each segment's files are read once
    per update, not once to repair and again to open (that second pass was most of a no-op update)."""
    import indexer
    from indexer import integrity

    index_dir = tmp_path / layout
    shutil.copytree(built[layout], index_dir)
    ix = indexer.open_index(index_dir)
    segments = len(ix._segments())
    ix.close()
    opened: list[str] = []
    real = integrity._open_segment
    monkeypatch.setattr(integrity, "_open_segment",
                        lambda read, storage, schema, seg, toc: opened.append(seg.segment_id()) or
                        real(read, storage, schema, seg, toc))
    report = indexer.update([str(CORPUS)], index_dir)
    assert report.unchanged and not report.added and not report.repaired
    assert sorted(opened) == sorted(set(opened)) and len(opened) == segments
    assert _results(index_dir) == _results(built[layout])


@pytest.mark.parametrize("layout", ["files", "compound"])
def test_the_quick_checks_column_reader_reads_what_whoosh_reads(built, layout):
    """The quick check reads variable-length columns (stored fields, language, source, year) with numpy
    instead of Whoosh's reader, which derives every offset in Python as it opens: every value of every
    document must be the one Whoosh reads, in both layouts."""
    from indexer import integrity, open_index

    ix = open_index(built[layout])
    try:
        read = integrity._Reading(built[layout])
        checked = 0
        for seg in ix._segments():
            opened = integrity._open_segment(read, ix.storage, ix.schema, seg, "toc")
            try:
                n = seg.doc_count_all()
                for colname, coltype in opened.columns.items():
                    ours = integrity._column_reader(opened, colname, coltype)
                    whooshs = opened.perdoc.column_reader(colname, coltype)
                    if isinstance(ours, integrity._VarBytes):
                        checked += 1
                        assert [ours[d] for d in range(n)] == [whooshs[d] for d in range(n)], colname
            finally:
                opened.close()
        assert checked >= 4  # _stored, lang, source, year
    finally:
        ix.close()


@pytest.mark.parametrize("cutoff", [2 ** 15, 4])
def test_the_quick_checks_column_reader_reads_both_var_bytes_layouts(cutoff):
    """Past Whoosh's cutoff (2**15 documents: a merged segment of a big archive) a variable-length column
    also stores each document's offset, with an "X" after the type codes; below it, only the lengths. Both
    read as Whoosh reads them, gaps (documents without a value) included, and a byte short is refused."""
    import io

    from whoosh.columns import VarBytesColumn
    from whoosh.filedb.structfile import StructFile

    from indexer import integrity

    values = {0: b"fr", 1: b"en", 3: b"x" * 300, 7: b"de", 8: b""}
    buf = io.BytesIO()
    writer = VarBytesColumn(write_offsets_cutoff=cutoff).writer(StructFile(buf))
    for docnum, value in values.items():
        writer.add(docnum, value)
    writer.finish(10)
    data = buf.getvalue()
    assert (data[-1:] == b"X") == (cutoff == 4)
    whooshs = VarBytesColumn().reader(StructFile(io.BytesIO(data)), 0, len(data), 10)
    ours = integrity._VarBytes(StructFile(io.BytesIO(data)), len(data), 10, bytes)
    assert [ours[d] for d in range(10)] == [whooshs[d] for d in range(10)]
    assert ours[9] == b"" and ours[3] == b"x" * 300
    with pytest.raises(integrity._Wrong):
        integrity._VarBytes(StructFile(io.BytesIO(data[1:])), len(data) - 1, 10, bytes)
