"""The indexer: statements in, one Whoosh index out, kept in step with the corpus files incrementally.

- :func:`update` builds the index the first time and updates it after, :func:`remove` takes inputs out of
  it, :func:`optimize` merges it into one segment (:mod:`indexer.updating`);
- :func:`stats` summarises it (:mod:`indexer.stats`);
- :func:`open_index` opens it for searching (:mod:`indexer.store`), :func:`default_index_dir` says where;
- :func:`check` verifies every file of it (:mod:`indexer.integrity`);
- :func:`statement_fields` is the Whoosh document of a statement (:mod:`indexer.documents`).

The read side (opening an index, its stats) is imported here; the write path (the update with its reader
process, the ingester, the link pass) and the checker load on first use of their names, so that ``search``
does not pay for them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from indexer.whoosh_import import import_whoosh

import_whoosh()  # before any module of ours imports Whoosh: see indexer.whoosh_import

# The read side. IndexNotWritable is apart (indexer.errors): a search command catches it without importing
# the update machinery.
from indexer.errors import IndexNotWritable  # noqa: E402
from indexer.stats import stats, stats_lines  # noqa: E402
from indexer.store import (  # noqa: E402
    IndexDamaged,
    IndexMissing,
    UpdateInProgress,
    default_index_dir,
    open_index,
)

if TYPE_CHECKING:
    from indexer.documents import statement_fields
    from indexer.integrity import CheckReport, check
    from indexer.updating import OptimizeReport, UpdateReport, optimize, remove, update

_HOME = {
    "CheckReport": "integrity",
    "OptimizeReport": "updating",
    "UpdateReport": "updating",
    "check": "integrity",
    "optimize": "updating",
    "remove": "updating",
    "statement_fields": "documents",
    "update": "updating",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'indexer' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "CheckReport",
    "IndexDamaged",
    "IndexMissing",
    "IndexNotWritable",
    "OptimizeReport",
    "UpdateInProgress",
    "UpdateReport",
    "check",
    "default_index_dir",
    "open_index",
    "optimize",
    "remove",
    "statement_fields",
    "stats",
    "stats_lines",
    "update",
]
