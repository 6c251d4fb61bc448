"""The indexer: statements in, one Whoosh index out, kept in step with the corpus files incrementally.

- :func:`update` builds the index the first time and updates it after (:mod:`indexer.update`);
- :func:`stats` summarises it (:mod:`indexer.stats`);
- :func:`open_index` opens it for searching (:mod:`indexer.store`), :func:`default_index_dir` says where;
- :func:`statement_fields` is the Whoosh document of a statement (:mod:`indexer.documents`).
"""

from indexer.documents import statement_fields
from indexer.stats import stats, stats_lines
from indexer.store import IndexMissing, UpdateInProgress, default_index_dir, open_index
from indexer.update import UpdateReport, update

__all__ = [
    "IndexMissing",
    "UpdateInProgress",
    "UpdateReport",
    "default_index_dir",
    "open_index",
    "statement_fields",
    "stats",
    "stats_lines",
    "update",
]
