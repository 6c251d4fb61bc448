"""Refusing an index directory this user does not control, and an index that holds code.

Whoosh stores the index schema (in ``_MAIN_<gen>.toc``), the segment list and each document's stored fields
with :mod:`pickle`. Every such pickle is read through the allowlist of :mod:`indexer.safe_pickle`, so an
index never runs code, whoever owns it: one that tries is refused with :class:`UnsafeIndex`. The ownership
check below is a second line of defence: :func:`check_index_dir` is called before an index is opened
(:func:`indexer.store.open_index`, :func:`indexer.store.create_or_open`, ``Searcher.refresh``) and refuses a
directory, or a file in it, that is not owned by the current user or that others may write to.
Group write is refused too, except for the user's own primary group: with a umask of 002 (Debian's user
private groups) the indexer's own files are group-writable, and that group holds only the user.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from indexer.store import IndexMissing


class UntrustedIndex(IndexMissing):
    """The index directory (or one of its files) is not safe to open: another user could have written it.

    A subclass of :class:`IndexMissing` (the indexer's "cannot use the index here" error), so every caller
    that reports a missing index reports this one too, in one sentence."""

    def __init__(self, path: Path | str, why: str, index_dir: Path | str | None = None):
        self.index_dir = Path(index_dir if index_dir is not None else path)
        self.path = Path(path)
        self.why = why
        Exception.__init__(
            self,
            f"Refusing to open the index in {self.index_dir}: {self.path} {why}, so someone else may have "
            "written it; build an index of your own from the corpus with `presse index --index DIR PATH...`.",
        )


class UnsafeIndex(UntrustedIndex):
    """A pickle in the index names a function or class outside the allowlist of :mod:`indexer.safe_pickle`:
    unpickling it would run code, so the index is refused, whoever owns it (nothing was called)."""

    def __init__(self, path: Path | str, global_name: str, index_dir: Path | str | None = None):
        self.index_dir = Path(index_dir if index_dir is not None else path)
        self.path = Path(path)
        self.global_name = global_name
        self.why = f"holds a pickle that calls {global_name}"
        Exception.__init__(
            self,
            f"Refusing to open the index in {self.index_dir}: {self.path.name} holds a pickle that would "
            f"call {global_name}, which presse never writes, so it was not run; delete this index and build "
            "it again from the corpus with `presse index PATH...`.",
        )


def _problem(st: os.stat_result, uid: int) -> str | None:
    if st.st_uid != uid:
        return f"is owned by uid {st.st_uid}, not by the current user (uid {uid})"
    who = []
    if st.st_mode & stat.S_IWGRP and st.st_gid != os.getegid():
        who.append("group")
    if st.st_mode & stat.S_IWOTH:
        who.append("others")
    if who:
        return f"is writable by {' and '.join(who)} (mode {stat.S_IMODE(st.st_mode):o})"
    return None


def check_index_dir(path: Path | str) -> None:
    """Raise :class:`UntrustedIndex` unless ``path`` and everything directly in it belong to the current user
    and are not writable by others (nor by a group other than the user's own). A missing directory passes
    (there is nothing to open)."""
    index_dir = Path(path)
    uid = os.geteuid()
    try:
        st = os.stat(index_dir)
    except FileNotFoundError:
        return
    why = _problem(st, uid)
    if why:
        raise UntrustedIndex(index_dir, why)
    try:
        entries = list(os.scandir(index_dir))
    except NotADirectoryError:
        return
    for entry in entries:
        try:
            est = os.stat(entry.path)  # a symlink is judged by what it points to
        except FileNotFoundError:  # gone meanwhile (a concurrent update), or a dangling link: never opened
            continue
        why = _problem(est, uid)
        if why:
            raise UntrustedIndex(entry.path, why, index_dir)
