"""The indexer's "cannot use the index here" error, apart so that :mod:`indexer.safe_pickle` (imported by
:mod:`indexer.store`) can raise it too. Import it from :mod:`indexer` or :mod:`indexer.store`."""

from __future__ import annotations

from pathlib import Path


class IndexMissing(Exception):
    """There is no index at the given location (the base of every "cannot use this index" error: its message
    is one sentence, shown as it is by the commands)."""

    def __init__(self, index_dir: Path | str):
        self.index_dir = Path(index_dir)
        super().__init__(f"No index at {self.index_dir}: build one with `presse index PATH...` first.")
