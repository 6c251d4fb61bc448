"""Build a small index straight from statements, for tests and benchmarks: the indexer's own document
(:func:`indexer.documents.statement_fields`) and schema, written in one commit without ``indexer.update``
(no manifest, no translation links).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from whoosh import index as windex

from indexer.documents import statement_fields
from indexer.schema import make_schema

__all__ = ["build_index", "statement_fields"]


def build_index(statements: Iterable, index_dir: str | Path, *, procs: int = 1) -> Path:
    """Create (or replace) an index in index_dir holding the given statements."""
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    ix = windex.create_in(str(index_dir), make_schema())
    writer = ix.writer(procs=procs, limitmb=256, multisegment=procs > 1)
    for st in statements:
        writer.add_document(**statement_fields(st))
    writer.commit()
    ix.close()
    return index_dir
