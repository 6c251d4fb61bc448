"""The indexer's "cannot use the index here" error, apart so that :mod:`indexer.safe_pickle` (imported by
:mod:`indexer.store`) can raise it too, and "cannot write the index", apart from the update machinery so that
a command catching it does not import that machinery. Import them from :mod:`indexer`."""

from __future__ import annotations

from pathlib import Path

from indexer.manifest import display_path


class IndexMissing(Exception):
    """There is no index at the given location (the base of every "cannot use this index" error: its message
    is one sentence, shown as it is by the commands)."""

    def __init__(self, index_dir: Path | str):
        self.index_dir = Path(index_dir)
        super().__init__(f"No index at {self.index_dir}: build one with `presse index PATH...` first.")


class IndexNotWritable(Exception):
    """The index directory cannot be written (read-only folder or file system, or another owner)."""

    def __init__(self, index_dir: Path | str, err: OSError):
        self.index_dir = Path(index_dir)
        super().__init__(f"cannot write to the index at {display_path(self.index_dir)}: "
                         f"{err.strerror or err}")
