"""Where the index lives, opening and creating it, and the one-writer lock.

The index directory holds one Whoosh index (``_MAIN_<gen>.toc`` + segment files), the input manifest
(``presse-manifest.json``, see :mod:`indexer.manifest`) and the lock file ``MAIN_WRITELOCK``.

Locking: the lock is Whoosh's own ``MAIN_WRITELOCK`` file lock (``fcntl.flock``), held for a whole update —
from reading the manifest to writing it after the commit. The kernel releases a flock when its process dies,
so a build killed with ``kill -9`` leaves no stale lock: the next run takes it at once. A second writer waits
a bounded time, then fails with :class:`UpdateInProgress`.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage

from indexer import safe_pickle
from indexer.errors import IndexMissing
from indexer.schema import make_schema

safe_pickle.install()  # before any index is opened: reading an index never runs code from it

INDEX_NAME = "MAIN"
LOCK_NAME = f"{INDEX_NAME}_WRITELOCK"  # the name Whoosh's own writers lock
LOCK_TIMEOUT = 10.0  # seconds a second writer waits for the first one


class IndexDamaged(IndexMissing):
    """A file of the index is missing, truncated or garbled (see :mod:`indexer.integrity`).

    ``file`` is the file's name in the index directory, ``problem`` what is wrong with it. A subclass of
    :class:`IndexMissing`, so every caller that reports a missing index reports this one too, in one sentence;
    the next ``presse index`` rebuilds the index."""

    def __init__(self, index_dir: Path | str, file: str, problem: str):
        self.index_dir = Path(index_dir)
        self.file = file
        self.problem = problem
        Exception.__init__(
            self,
            f"The index in {self.index_dir} is damaged ({file} {problem}): `presse check` lists what is "
            "wrong, and `presse index PATH...` rebuilds it from the corpus.",
        )


class UpdateInProgress(Exception):
    """Another process holds the index's write lock."""

    def __init__(self, index_dir: Path | str, waited: float):
        self.index_dir = Path(index_dir)
        super().__init__(
            f"another update is in progress on {self.index_dir} (waited {waited:.0f} s); "
            "try again when it has finished"
        )


INDEX_HELP = ("Index directory (default: $PRESSE_INDEX, else $XDG_DATA_HOME/presse/index, "
              "else ~/.local/share/presse/index).")


def default_index_dir() -> Path:
    """``$PRESSE_INDEX``, else ``$XDG_DATA_HOME/presse/index``, else ``~/.local/share/presse/index``."""
    env = os.environ.get("PRESSE_INDEX")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "presse" / "index"


def resolve_index_dir(index_dir: Path | str | None) -> Path:
    return Path(index_dir).expanduser() if index_dir else default_index_dir()


_TOC = re.compile(rf"^_{INDEX_NAME}_(\d+)\.toc$")


def latest_toc(index_dir: Path | str) -> tuple[int, str]:
    """The latest generation of the index and its table of contents' file name; (-1, "") when there is none.
    (The file names only: Whoosh's ``exists_in`` unpickles the whole table of contents to say yes.)"""
    best = (-1, "")
    try:
        names = os.listdir(index_dir)
    except (FileNotFoundError, NotADirectoryError):
        return best
    for name in names:
        m = _TOC.match(name)
        if m and int(m.group(1)) > best[0]:
            best = (int(m.group(1)), name)
    return best


def index_exists(index_dir: Path | str) -> bool:
    index_dir = Path(index_dir)
    from indexer.trust import check_index_dir  # before Whoosh unpickles anything there (indexer/trust.py)
    check_index_dir(index_dir)
    return latest_toc(index_dir)[0] >= 0


def open_index(index_dir: Path | str | None = None):
    """The Whoosh index at ``index_dir`` (default: :func:`default_index_dir`), checked before use: its
    directory (:mod:`indexer.trust`), its pickles (:mod:`indexer.safe_pickle`) and that its files are all
    there at their sizes (:func:`indexer.integrity.quick_problems`).

    Raises :class:`IndexMissing` when there is none, :class:`IndexDamaged` when a file is damaged,
    :class:`indexer.trust.UntrustedIndex` when the index is not safe to open. A ``FileNotFoundError`` means a
    commit replaced the generation being opened: open again."""
    index_dir = resolve_index_dir(index_dir)
    if not index_exists(index_dir):
        raise IndexMissing(index_dir)
    from indexer.integrity import open_checked  # it uses this module's names
    return open_checked(index_dir)


def create_or_open(index_dir: Path) -> whoosh_index.FileIndex:
    """Open the index, creating an empty one first when there is none. Call it with the lock held."""
    if index_exists(index_dir):
        return open_index(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    return whoosh_index.create_in(str(index_dir), make_schema(), indexname=INDEX_NAME)


def writer(ix, *, limitmb: int = 256):
    """A Whoosh SegmentWriter for an update whose lock is already held (see :func:`write_lock`).

    (Measured and dropped: a posting pool spilling in pickled chunks — commit time was the same.)"""
    return ix.writer(_lk=False, limitmb=limitmb)


@contextmanager
def write_lock(index_dir: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the index's write lock; wait up to ``timeout`` seconds, then raise :class:`UpdateInProgress`."""
    timeout = LOCK_TIMEOUT if timeout is None else timeout
    index_dir.mkdir(parents=True, exist_ok=True)
    lock = FileStorage(str(index_dir)).lock(LOCK_NAME)
    start = time.monotonic()
    while not lock.acquire(blocking=False):
        waited = time.monotonic() - start
        if waited >= timeout:
            raise UpdateInProgress(index_dir, waited)
        time.sleep(min(0.1, max(0.0, timeout - waited)))
    try:
        yield
    finally:
        lock.release()


def index_size(index_dir: Path | str) -> int:
    """Bytes on disk of everything in the index directory."""
    total = 0
    for entry in os.scandir(index_dir):
        if entry.is_file(follow_symlinks=False):
            total += entry.stat().st_size
    return total


def segment_count(index_dir: Path | str) -> int:
    """How many segments the index's latest generation has (a built index should have at most 3)."""
    return len(open_index(index_dir)._segments())
