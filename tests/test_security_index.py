"""An index never runs code (indexer/safe_pickle.py), and untrusted index directories are refused
(indexer/trust.py).

Whoosh keeps the schema, the segment list, posting blocks and stored fields as pickles. Every pickle read
from an index goes through an allowlist, so a crafted one is refused whoever owns the files (H3). As a second
line, an index directory, or a file in it, not owned by the current user or writable by group or others is
refused with one clear sentence, by the library and every command, without a traceback.
"""

from __future__ import annotations

import os
import pickle
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from whoosh.filedb.structfile import StructFile

from tests.corpora import ROOT

YUKON = ROOT / "sample" / "yukon" / "en" / "2018"


@pytest.fixture()
def index_dir(tmp_path) -> Path:
    import indexer

    d = tmp_path / "index"
    indexer.update([str(YUKON)], d)
    return d


def _toc(d: Path) -> Path:
    return next(d.glob("_MAIN_*.toc"))


def test_own_index_opens(index_dir):
    from indexer import open_index
    from indexer.trust import check_index_dir

    check_index_dir(index_dir)
    open_index(index_dir).close()
    check_index_dir(index_dir.parent / "missing")  # nothing to open: not this check's business


@pytest.mark.parametrize(
    "target,bits",
    [
        ("dir", stat.S_IWOTH),
        ("dir", stat.S_IWGRP),
        ("toc", stat.S_IWOTH),
        ("toc", stat.S_IWGRP),
        ("segment", stat.S_IWOTH),
    ],
)
def test_writable_by_others_is_refused(index_dir, target, bits):
    from indexer import IndexMissing, open_index, update
    from indexer.trust import UntrustedIndex
    from search import Searcher, SearchError

    path = {
        "dir": index_dir,
        "toc": _toc(index_dir),
        "segment": next(p for p in sorted(index_dir.iterdir()) if p.suffix == ".seg"),
    }[target]
    if bits == stat.S_IWGRP:  # group write counts only for a group other than the user's own
        other = next((g for g in range(1, 100) if g != os.getegid()), None)
        try:
            os.chown(path, -1, other)
        except PermissionError:
            pytest.skip("cannot give a file to another group here")
    path.chmod(stat.S_IMODE(path.stat().st_mode) | bits)
    with pytest.raises(UntrustedIndex) as err:
        open_index(index_dir)
    assert isinstance(err.value, IndexMissing)  # the indexer's "cannot use this index" error
    msg = str(err.value)
    assert msg.startswith("Refusing to open the index") and str(path) in msg and "writable by" in msg
    assert msg.count(". ") == 0 and "\n" not in msg  # one sentence
    with pytest.raises(UntrustedIndex):
        update([str(YUKON)], index_dir)  # an update opens it too
    with pytest.raises(SearchError, match="Refusing to open"):
        Searcher(index_dir)


def test_group_writable_by_own_primary_group_is_accepted(index_dir):
    """umask 002 (Debian's user private groups) makes the indexer's own files group-writable: still ours."""
    from indexer import open_index

    for path in [index_dir, *index_dir.iterdir()]:
        os.chown(path, -1, os.getegid())
        path.chmod(stat.S_IMODE(path.stat().st_mode) | stat.S_IWGRP)
    open_index(index_dir).close()


def test_not_owned_is_refused(index_dir):
    from indexer import open_index
    from indexer.trust import UntrustedIndex

    if os.geteuid() != 0:
        pytest.skip("chown to another user needs root")
    os.chown(_toc(index_dir), 65534, 65534)
    with pytest.raises(UntrustedIndex, match="not by the current user"):
        open_index(index_dir)


def test_symlink_to_a_writable_file_is_refused(index_dir, tmp_path):
    from indexer import open_index
    from indexer.trust import UntrustedIndex

    toc = _toc(index_dir)
    elsewhere = tmp_path / "elsewhere.toc"
    toc.rename(elsewhere)
    elsewhere.chmod(0o666)
    toc.symlink_to(elsewhere)
    with pytest.raises(UntrustedIndex):
        open_index(index_dir)


class _Payload:
    def __reduce__(self):
        return (Path.touch, (Path(os.environ["PRESSE_PWNED"]),))


def test_planted_pickle_never_runs(index_dir, tmp_path, monkeypatch):
    """Someone with write access replaces the table of contents with a pickle that runs code: refused."""
    from indexer import open_index
    from indexer.trust import UntrustedIndex

    marker = tmp_path / "pwned"
    monkeypatch.setenv("PRESSE_PWNED", str(marker))
    index_dir.chmod(0o777)
    toc = _toc(index_dir)
    toc.write_bytes(toc.read_bytes()[:8] + pickle.dumps(_Payload()))
    with pytest.raises(UntrustedIndex):
        open_index(index_dir)
    assert not marker.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["search", "caribou"],
        ["search", "--json", "-"],
        ["related", "x"],
        ["stats"],
        ["index", str(YUKON)],
        ["serve", "--port", "0"],
    ],
)
def test_commands_refuse_with_a_clear_message(index_dir, args):
    from cli import main

    index_dir.chmod(0o757)
    result = CliRunner().invoke(main, [*args, "--index", str(index_dir)], input="caribou\n")
    out = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert result.exit_code != 0, out
    assert "Refusing to open the index" in out and "writable by others" in out
    assert "Traceback" not in out
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)


# ---------------------------------------------------------------------------------------------------------
# H3: an index never runs code, whoever owns its files (indexer/safe_pickle.py). The trust check above is a
# second line: every test below keeps the files owned by the user and not writable by others, as after
# extracting someone's index tarball or `cp -r` by root, so only the unpickler stands in the way.

SMALL = ROOT / "sample" / "yukon" / "en" / "2020"


class _Call:
    """A pickle that calls ``fn(*args)`` when loaded."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return (self.fn, self.args)


def _payloads(marker: Path) -> dict[str, bytes]:
    """Pickles that create ``marker`` when loaded: the usual ways of running code from a pickle."""
    cmd = f"touch {marker}"
    out = {
        "os.system/2": pickle.dumps(_Call(os.system, cmd), 2),
        "os.system/0": pickle.dumps(_Call(os.system, cmd), 0),
        "os.system/5": pickle.dumps(_Call(os.system, cmd), 5),
        "subprocess.Popen": pickle.dumps(_Call(subprocess.Popen, ["touch", str(marker)]), 2),
        "builtins.eval": pickle.dumps(_Call(eval, f"open({str(marker)!r}, 'w').close()"), 2),
        "builtins.exec": pickle.dumps(_Call(exec, f"open({str(marker)!r}, 'w').close()"), 4),
        "Path.touch (dotted name)": pickle.dumps(_Call(Path.touch, marker), 4),
        # getattr(__import__("os"), "system")(cmd), written by hand: a chain through two allowed-looking calls
        "getattr chain": (b"c__builtin__\ngetattr\n(c__builtin__\n__import__\n(S'os'\ntRS'system'\ntR(S'"
                          + cmd.encode() + b"'\ntR."),
        # a dotted name resolved inside a module the allowlist knows (protocol 4 STACK_GLOBAL)
        "whoosh.index.os.system": (b"\x80\x04\x8c\x0cwhoosh.index\x94\x8c\x09os.system\x94\x93\x8c"
                                   + bytes([len(cmd)]) + cmd.encode() + b"\x85R."),
    }
    return out


def _read_toc(toc: Path) -> dict:
    with open(toc, "rb") as fh:
        f = StructFile(fh)
        head = [f.read_varint() for _ in range(3)] + [f.read_int(), f.read_int()]
        release = [f.read_varint() for _ in range(3)]
        schema = f.read_string()
        gen = f.read_int()
        f.read_int()
        segments = f.read()
    return {"head": head, "release": release, "schema": schema, "gen": gen, "segments": segments}


def _write_toc(path: Path, parts: dict) -> None:
    """A table of contents laid out the way Whoosh writes it (whoosh.index.TOC.write)."""
    with open(path, "wb") as fh:
        f = StructFile(fh)
        for n in parts["head"][:3]:
            f.write_varint(n)
        f.write_int(parts["head"][3])
        f.write_int(parts["head"][4])
        for n in parts["release"]:
            f.write_varint(n)
        f.write_string(parts["schema"])
        f.write_int(parts["gen"])
        f.write_int(0)
        f.write(parts["segments"])
        f.flush()


@pytest.fixture(scope="module")
def small_index(tmp_path_factory) -> Path:
    import indexer

    d = tmp_path_factory.mktemp("small") / "index"
    indexer.update([str(SMALL)], d)
    return d


@pytest.fixture()
def own_copy(small_index, tmp_path) -> Path:
    d = tmp_path / "index"
    shutil.copytree(small_index, d)
    return d


@pytest.fixture()
def marker(tmp_path) -> Path:
    return tmp_path / "pwned"


def test_the_real_index_reads_through_the_allowlist(small_index):
    """Every global the real index names (schema, segments, terms, postings, columns, stored fields) is
    allowed: opening, searching and the full check read it all."""
    from indexer import check
    from search import Searcher

    with Searcher(small_index) as s:
        res = s.search("yukon", limit=50)
        assert res.total > 0 and all(s.statement(h["id"]) for h in res.hits)
    assert check(small_index).ok


@pytest.mark.parametrize("where", ["schema", "segments"])
@pytest.mark.parametrize("payload", list(_payloads(Path("/x"))))
def test_a_toc_that_calls_code_is_refused_and_never_runs(own_copy, marker, where, payload):
    from indexer import IndexMissing, open_index
    from indexer.trust import UnsafeIndex, check_index_dir

    toc = _toc(own_copy)
    parts = _read_toc(toc)
    parts[where] = _payloads(marker)[payload]
    _write_toc(toc, parts)
    check_index_dir(own_copy)  # owned by us, not writable by others: the trust check lets it through
    with pytest.raises(UnsafeIndex) as err:
        open_index(own_copy)
    assert not marker.exists()
    assert isinstance(err.value, IndexMissing)
    msg = str(err.value)
    assert msg.startswith("Refusing to open the index") and toc.name in msg and "would call" in msg
    assert "chown" not in msg and "presse index" in msg and "\n" not in msg


def test_every_entry_point_refuses_a_toc_that_calls_code(own_copy, marker, monkeypatch):
    """open_index, Searcher, presse search/stats/index/check/related and the web app: refused, no code."""
    from cli import main
    from indexer import IndexMissing, check, open_index, update
    from search import Searcher, SearchError
    from search.web.app import create_app

    toc = _toc(own_copy)
    parts = _read_toc(toc)
    parts["schema"] = _payloads(marker)["os.system/2"]
    _write_toc(toc, parts)
    with pytest.raises(IndexMissing, match="would call posix.system"):
        open_index(own_copy)
    with pytest.raises(SearchError, match="would call posix.system"):
        Searcher(own_copy)
    with pytest.raises(IndexMissing, match="would call posix.system"):
        update([str(SMALL)], own_copy)  # refused, not "repaired": someone put code there
    report = check(own_copy)
    assert not report.ok and "posix.system" in str(report.problems[0])
    with pytest.raises(SearchError, match="would call posix.system"):
        create_app(str(own_copy))
    for args in (["search", "caribou"], ["stats"], ["index", str(SMALL)], ["related", "x"], ["check"]):
        result = CliRunner().invoke(main, [*args, "--index", str(own_copy)])
        out = result.output + (result.stderr if result.stderr_bytes is not None else "")
        assert result.exit_code != 0, (args, out)
        assert "posix.system" in out and "Traceback" not in out, (args, out)
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert not marker.exists()
    assert len(list(own_copy.glob("_MAIN_*.toc"))) == 1  # `presse index` neither rebuilt nor wrote over it


def _fields(sid: str, title, word: str) -> dict:
    """The fields a statement of the index has (indexer.documents), around a given title."""
    import datetime

    return {"id": sid, "title": title, "lang": "en", "source": "t", "source_text": "t", "year": "2020",
            "date": datetime.datetime(2020, 1, 2), "body_en": f"{word} {sid}", "title_en": sid,
            "input": "/nowhere", "length": 2}


def _add_hostile_statement(index_dir: Path, marker: Path) -> None:
    """A segment whose middle document's stored title is a pickle that runs a command (written through
    Whoosh's own writer, as a hostile index would be)."""
    from whoosh import index as whoosh_index

    ix = whoosh_index.open_dir(str(index_dir), indexname="MAIN")
    w = ix.writer()
    evil = _Call(os.system, f"touch {marker}")
    for sid, title in (("before", "before"), ("evil", evil), ("after", "after")):
        w.add_document(**_fields(sid, title, "zanzibarish"))
    w.commit(merge=False)
    ix.close()


def test_a_stored_field_that_calls_code_is_refused_at_query_time(own_copy, marker):
    from cli import main
    from indexer import check
    from search import Searcher
    from search.engine import IndexUnavailable
    from search.web.app import create_app

    _add_hostile_statement(own_copy, marker)
    with Searcher(own_copy) as s:  # the open-time check reads the first and last documents only
        with pytest.raises(IndexUnavailable, match="would call posix.system"):
            s.search("zanzibarish")
        with pytest.raises(IndexUnavailable, match="would call posix.system"):
            s.statement("evil")
        assert s.search("caribou").total >= 0  # the searcher still works for the rest
    client = create_app(str(own_copy)).test_client()
    for url in ("/api/search?q=zanzibarish", "/?q=zanzibarish"):
        resp = client.get(url)  # the index's fault, not the query's: 503, with the reason
        assert resp.status_code == 503 and "posix.system" in resp.get_data(as_text=True), url
    report = check(own_copy)
    assert not report.ok and "posix.system" in str(report.problems[0])
    for args in (["search", "zanzibarish"], ["index", str(SMALL)], ["stats"]):
        result = CliRunner().invoke(main, [*args, "--index", str(own_copy)])
        out = result.output + (result.stderr if result.stderr_bytes is not None else "")
        assert "Traceback" not in out
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        if args[0] == "search":
            assert result.exit_code != 0 and "posix.system" in out
    assert not marker.exists()


def test_hostile_postings_are_refused(own_copy, marker, monkeypatch):
    """Posting blocks and inlined postings are pickles too: a block that calls code is refused."""
    import whoosh.codec.whoosh3 as w3
    from whoosh import index as whoosh_index

    from indexer.safe_pickle import ForbiddenPickle
    from search import Searcher, SearchError

    real_dumps = pickle.dumps

    def hostile_dumps(obj, protocol=None):
        if isinstance(obj, tuple) and len(obj) == 3:  # a posting block's (ids, weights, values)
            obj = (obj[0], obj[1], _Call(os.system, f"touch {marker}"))
        return real_dumps(obj, protocol)

    monkeypatch.setattr(w3, "dumps", hostile_dumps)
    ix = whoosh_index.open_dir(str(own_copy), indexname="MAIN")
    w = ix.writer()
    for i in range(5):
        w.add_document(**_fields(f"p{i}", "t", "quokkaish"))
    w.commit(merge=False)
    ix.close()
    monkeypatch.setattr(w3, "dumps", real_dumps)
    try:
        with Searcher(own_copy) as s:
            with pytest.raises(SearchError, match="would call posix.system"):
                s.search("quokkaish")
    except SearchError as e:  # or refused when the searcher opens
        assert "posix.system" in str(e)
    with pytest.raises(ForbiddenPickle):
        ix = whoosh_index.open_dir(str(own_copy), indexname="MAIN")
        with ix.searcher() as s:
            list(s.postings("body_en", "quokkaish").all_items())
    assert not marker.exists()


def _new_hostile_generation(index_dir: Path, marker: Path) -> None:
    """What another user writes into an index directory that became writable: the next generation's TOC,
    with a schema that runs a command. (The files stay ours and private: only the unpickler can refuse.)"""
    toc = _toc(index_dir)
    parts = _read_toc(toc)
    parts["gen"] += 1
    parts["schema"] = _payloads(marker)["os.system/2"]
    _write_toc(index_dir / f"_MAIN_{parts['gen']}.toc", parts)


def test_refresh_refuses_a_new_hostile_generation(own_copy, marker):
    from search import Searcher, SearchError

    with Searcher(own_copy) as s:
        before = s.search("yukon").total
        _new_hostile_generation(own_copy, marker)
        with pytest.raises(SearchError, match="would call posix.system"):
            s.refresh()
        assert s.search("yukon").total == before  # still searching the generation it had
    assert not marker.exists()


def test_a_running_server_keeps_serving_and_runs_no_code(own_copy, marker):
    """`presse serve` running; a new generation written by someone else appears: the refresh is refused,
    logged, and the old generation keeps being served."""
    from search.web.app import create_app

    app = create_app(str(own_copy))
    client = app.test_client()
    assert client.get("/api/search?q=yukon").status_code == 200
    _new_hostile_generation(own_copy, marker)
    app.extensions["presse_searchers"].index_changed()  # what a watcher does after a commit
    for _ in range(3):
        resp = client.get("/api/search?q=yukon")
        assert resp.status_code == 200 and resp.get_json()["total"] > 0
    assert not marker.exists()


def test_the_allowlist_is_installed_in_a_fresh_interpreter(own_copy, marker):
    """Installed by importing the indexer (or the search engine) alone, before any index is opened."""
    toc = _toc(own_copy)
    parts = _read_toc(toc)
    parts["schema"] = _payloads(marker)["os.system/2"]
    _write_toc(toc, parts)
    for code in ("import search; search.Searcher(%r)", "import indexer; indexer.open_index(%r)",
                 "from search.engine import Searcher; Searcher(%r)"):
        run = subprocess.run([sys.executable, "-c", code % str(own_copy)], cwd=ROOT, capture_output=True,
                             text=True, timeout=120)
        assert run.returncode != 0 and "posix.system" in run.stderr, run.stderr[-500:]
    assert not marker.exists()


def test_an_old_toc_format_is_not_read_with_whoosh_s_open_unpickler(own_copy, marker):
    """Whoosh reads TOC version -110 with an unpickler that imports any name: presse never writes it."""
    from indexer import IndexDamaged, open_index

    toc = _toc(own_copy)
    parts = _read_toc(toc)
    parts["head"][4] = -110
    parts["schema"] = _payloads(marker)["os.system/2"]
    _write_toc(toc, parts)
    with pytest.raises(IndexDamaged, match="does not read"):
        open_index(own_copy)
    assert not marker.exists()


def test_plain_data_decodes_and_calls_with_sizes_do_not(marker):
    """What stored fields hold decodes as with pickle; a call that allocates by size is refused."""
    import datetime

    from indexer.safe_pickle import ForbiddenPickle, loads

    value = {"b": b"x" * 70_000, "e": b"", "ba": bytearray(b"q"), "d": datetime.datetime(2020, 1, 2),
             "s": {1, 2}, "f": frozenset({b"a"}), "t": (1, 2.5, "é" * 5000), "n": None, "big": 2**200}
    for protocol in range(6):
        data = pickle.dumps(value, protocol)
        assert loads(data) == value and loads(memoryview(data)) == value
    with pytest.raises(ForbiddenPickle):
        loads(b"c__builtin__\nbytes\n(I100000000000\ntR.")
    for payload in _payloads(marker).values():
        with pytest.raises(ForbiddenPickle):
            loads(payload)
    assert not marker.exists()


def test_no_whoosh_module_reading_an_index_keeps_pickle_s_own_loader():
    """Every module-level pickle loader in Whoosh's reading code is the allowlisted one (a Whoosh upgrade that
    adds one fails here). externalsort and multiproc read back the temporary runs a writer just wrote."""
    import importlib
    import pkgutil
    import warnings

    import whoosh

    import indexer  # noqa: F401  (installs the allowlist)

    unpicklers = {pickle.loads, pickle.load}
    left = []
    for info in pkgutil.walk_packages(whoosh.__path__, "whoosh."):
        # filedb.fileindex is Whoosh 1's index (only its dead filewriting imports it); util.loading's
        # RenamingUnpickler serves only the old TOC loaders, which install() removes.
        if info.name.startswith(("whoosh.externalsort", "whoosh.multiproc", "whoosh.filedb.misc",
                                 "whoosh.filedb.fileindex", "whoosh.util.loading")):
            continue
        try:
            with warnings.catch_warnings():  # whoosh.support.pyparsing imports the deprecated sre_constants
                warnings.simplefilter("ignore", DeprecationWarning)
                module = importlib.import_module(info.name)
        except ImportError:  # Whoosh's dead modules (filedb.misc, ...): nothing imports them
            continue
        for name, value in vars(module).items():
            if any(value is u for u in unpicklers) or value is pickle:
                if info.name in ("whoosh.codec.whoosh2", "whoosh.codec.plaintext") and name == "loads":
                    continue  # codecs only a refused pickle could select
                left.append(f"{info.name}.{name}")
    assert not left, left


@pytest.mark.parametrize("change", ["analyzer", "regex", "unknown field", "column"])
def test_a_schema_other_than_the_code_s_is_not_used(own_copy, change):
    """Beyond the allowlist, the schema read from the index must be the one the code makes: a field whose
    analysis differs (another language's stemmer, a catastrophic regular expression that would stall every
    query) is refused as damage, and the next `presse index` rebuilds the index."""
    from whoosh import index as whoosh_index
    from whoosh.analysis import RegexTokenizer
    from whoosh.fields import STORED
    from whoosh.filedb.filestore import FileStorage

    from indexer import IndexDamaged, open_index, update
    from indexer.analysis import analyzer

    schema = whoosh_index.TOC.read(FileStorage(str(own_copy)), "MAIN").schema
    if change == "analyzer":
        schema["body_en"].analyzer = analyzer("fr")
    elif change == "regex":
        schema["tags"].analyzer = RegexTokenizer(r"(a+)+$")
    elif change == "unknown field":
        schema.add("zz", STORED())
    else:
        schema["date"].column_type._typecode = "B"
    toc = _toc(own_copy)
    parts = _read_toc(toc)
    parts["schema"] = pickle.dumps(schema, 2)
    _write_toc(toc, parts)
    with pytest.raises(IndexDamaged, match="_MAIN_1.toc"):
        open_index(own_copy)
    report = update([str(SMALL)], own_copy)
    assert report.repaired and "_MAIN_1.toc" in report.repaired
    open_index(own_copy).close()
