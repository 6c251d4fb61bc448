"""What is in the index: statements per language, source and year, dates, size, inputs, other languages."""

from __future__ import annotations

import os
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from indexer.manifest import Manifest
from indexer.store import index_size, open_index, resolve_index_dir

OTHER_LIST_LIMIT = 1000  # statements in other languages listed one by one (all are counted)


def stats(index_dir: Path | str | None = None) -> dict[str, Any]:
    """A summary of the index (raises :class:`indexer.store.IndexMissing` when there is none)."""
    index_dir = resolve_index_dir(index_dir)
    ix = open_index(index_dir)
    langs: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    years: Counter[str] = Counter()
    first = last = None
    undated = 0
    others: list[dict[str, str]] = []
    other_count = 0
    with ix.searcher() as searcher:
        reader = searcher.reader()
        total = reader.doc_count()
        # An index with no segment yet (an empty folder indexed, a first build killed or still running) has
        # no columns: Whoosh's empty reader raises on column_reader. Nothing to count then.
        empty = reader.doc_count_all() == 0
        names = () if empty else ("lang", "source", "year", "date")
        columns = {name: reader.column_reader(name) for name in names}
        stubs = set() if empty else _stubs(reader)
        for docnum in () if empty else reader.all_doc_ids():
            if docnum in stubs:  # an exact duplicate stored once (indexer.linkpass): its own lang and date
                extra = reader.stored_fields(docnum).get("extra") or {}
                lang = extra.get("stub_lang") or "unknown"
                stub_date = extra.get("stub_date") or ""
                year = stub_date[:4]
                date = datetime.strptime(stub_date, "%Y-%m-%d") if len(stub_date) == 10 else None
            else:
                lang = columns["lang"][docnum] or "unknown"
                year = columns["year"][docnum]
                date = columns["date"][docnum] if year else None
            langs[lang] += 1
            sources[columns["source"][docnum] or "(none)"] += 1
            years[year or "(undated)"] += 1
            if year:
                if isinstance(date, datetime):
                    first = date if first is None or date < first else first
                    last = date if last is None or date > last else last
            else:
                undated += 1
            if lang not in ("fr", "en"):
                other_count += 1
                if len(others) < OTHER_LIST_LIMIT:
                    fields = reader.stored_fields(docnum)
                    others.append({"id": fields.get("id", ""), "lang": lang, "title": fields.get("title", ""),
                                   "url": fields.get("url", ""), "origin": fields.get("origin", "")})
    manifest = Manifest.load(index_dir)
    tocs = [e.stat().st_mtime for e in os.scandir(index_dir) if e.name.endswith(".toc")]
    toc_mtime = max(tocs, default=None)
    last_update = manifest.updated or (
        datetime.fromtimestamp(toc_mtime, UTC).isoformat(timespec="seconds") if toc_mtime else "")
    others.sort(key=lambda o: (o["lang"], o["id"]))
    return {
        "index_dir": str(index_dir),
        "statements": total,
        "languages": dict(langs.most_common()),
        "sources": dict(sources.most_common()),
        "years": dict(sorted(years.items())),
        "date_range": [first.date().isoformat() if first else None,
                       last.date().isoformat() if last else None],
        "undated": undated,
        "size_bytes": index_size(index_dir),
        "last_update": last_update,
        "generation": ix.latest_generation(),
        "inputs": len(manifest.inputs),
        "other_languages": {"count": other_count, "statements": others},
        "exact_duplicates": len(stubs),
    }


def _stubs(reader) -> set[int]:
    """Docnums of the stored-only stubs of exact duplicates (those with a ``duplicate_of``)."""
    if "duplicate_of" not in reader.schema:
        return set()
    out: set[int] = set()
    for term in reader.lexicon("duplicate_of"):
        out.update(reader.postings("duplicate_of", term).all_ids())
    return out


def stats_lines(data: dict[str, Any], top_sources: int = 20) -> list[str]:
    """The stats as text for a terminal."""
    def counts(d: dict[str, int]) -> str:
        return ", ".join(f"{k} {v}" for k, v in d.items())

    first, last = data["date_range"]
    out = [
        f"index: {data['index_dir']}",
        f"statements: {data['statements']}"
        + (f" ({counts(data['languages'])})" if data["languages"] else ""),
        (f"dates: {first} to {last}" if first else "dates: none")
        + (f" ({data['undated']} undated)" if data["undated"] else ""),
        f"size on disk: {data['size_bytes'] / 1e6:.1f} MB",
        f"last update: {data['last_update'] or '-'}",
        f"inputs: {data['inputs']}",
        "per year: " + counts(data["years"]),
        f"sources: {len(data['sources'])}",
    ]
    for name, n in list(data["sources"].items())[:top_sources]:
        out.append(f"  {n:7d}  {name}")
    if len(data["sources"]) > top_sources:
        out.append(f"  … {len(data['sources']) - top_sources} more (--json for all)")
    other = data["other_languages"]
    out.append(f"other languages: {other['count']}")
    for o in other["statements"]:
        out.append(f"  [{o['lang']}] {o['id']}  {o['title'][:70]}")
    if other["count"] > len(other["statements"]):
        out.append(f"  … {other['count'] - len(other['statements'])} more")
    return out
