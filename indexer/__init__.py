"""The indexer: statements in, one Whoosh index out, kept in step with the corpus files incrementally.

- :func:`update` builds the index the first time and updates it after, :func:`remove` takes inputs out of
  it, :func:`optimize` merges it into one segment (:mod:`indexer.update`);
- :func:`stats` summarises it (:mod:`indexer.stats`);
- :func:`open_index` opens it for searching (:mod:`indexer.store`), :func:`default_index_dir` says where;
- :func:`check` verifies every file of it (:mod:`indexer.integrity`);
- :func:`statement_fields` is the Whoosh document of a statement (:mod:`indexer.documents`).
"""

from indexer.documents import statement_fields
from indexer.integrity import CheckReport, check
from indexer.stats import stats, stats_lines
from indexer.store import IndexDamaged, IndexMissing, UpdateInProgress, default_index_dir, open_index
from indexer.update import IndexNotWritable, OptimizeReport, UpdateReport, optimize, remove, update

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
