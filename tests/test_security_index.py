"""Untrusted index directories are refused before Whoosh unpickles anything (indexer/trust.py).

Whoosh keeps the schema in the index's ``.toc`` files with pickle: opening an index someone else could write
runs their code. An index directory, or a file in it, not owned by the current user or writable by group or
others is refused with one clear sentence, by the library and every command, without a traceback.
"""

from __future__ import annotations

import os
import pickle
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
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
