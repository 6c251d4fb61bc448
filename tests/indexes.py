"""Test indexes, built the way a user builds one: the statements written as a JSON Lines file, then
`indexer.update` (manifest, translation links, duplicate groups), never a hand-written shortcut."""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from pathlib import Path

RECORD_FIELDS = ("id", "title", "date", "lang", "url", "source", "place")


def record(statement) -> dict[str, str]:
    """A statement as a JSON Lines record the ingester reads back into the same statement: its metadata,
    and its body as HTML (escaped, so markup in a body stays text; one line break per line)."""
    rec = {k: getattr(statement, k) for k in RECORD_FIELDS if getattr(statement, k, "")}
    rec["html"] = "<p>" + html.escape(statement.body, quote=False).replace("\n", "<br>") + "</p>"
    return rec


def write_jsonl(statements: Iterable, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for st in statements:
            f.write(json.dumps(record(st), ensure_ascii=False) + "\n")
    return path


def index_statements(statements: Iterable, index_dir: str | Path, name: str = "statements") -> Path:
    """Index ``statements`` into ``index_dir`` through ``indexer.update``, from ``<index_dir>-<name>.jsonl``
    beside it (a second call with another ``name`` adds to the index; the same name replaces)."""
    from indexer import update

    index_dir = Path(index_dir)
    source = write_jsonl(statements, index_dir.parent / f"{index_dir.name}-{name}.jsonl")
    update([source], index_dir)
    return index_dir


def direct_index(statements: Iterable, index_dir: str | Path) -> Path:
    """An index written straight from statements, past the ingester: only for what an index written by an
    older or foreign writer may hold and the ingester would never produce (ids with newlines or "..",
    control characters), which the search side must still show safely."""
    from whoosh import index as windex

    from indexer.documents import statement_fields
    from indexer.schema import make_schema

    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True)
    writer = windex.create_in(str(index_dir), make_schema()).writer()
    for st in statements:
        writer.add_document(**statement_fields(st))
    writer.commit()
    return index_dir
