"""The real corpora the tests read, each read by the ingester at most once per test session.

Reading ../shared's 2,896 Yukon pages takes 30-60 s on a busy 2-core machine; several heavy tests (kill
tests, the manifest check) need the same statements, so they share this read instead of repeating it.
Only read-only trees are cached (../shared and the bundled sample): a test's own files in tmp_path are
always read afresh.
"""

from __future__ import annotations

import functools
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SAMPLE = ROOT / "sample"
READ_ONLY = (SHARED.resolve(), SAMPLE.resolve())


@functools.cache
def _read(path: str) -> tuple:
    from corpus import read_paths

    return tuple(read_paths([path]))


def items_of(path: Path | str) -> tuple:
    """Everything the ingester yields for ``path`` (statements and problems), as ``read_paths([path])``."""
    resolved = Path(path).resolve()
    if any(resolved.is_relative_to(tree) for tree in READ_ONLY):
        return _read(str(path))
    from corpus import read_paths

    return tuple(read_paths([str(path)]))


def statement_ids(*paths: Path | str) -> set[str]:
    """The ids of the statements under ``paths`` (each path read as its own root, as ``presse index``)."""
    from corpus import Statement

    return {s.id for path in paths for s in items_of(path) if isinstance(s, Statement)}
