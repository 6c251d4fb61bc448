"""Build a small index straight from statements, for tests and benchmarks.

Uses ``indexer.update``/``indexer.statement_fields`` when the indexer provides them, and otherwise fills the
schema the same way: text fields by the statement's language, ``body_z`` compressed, ``group`` = folded
title + date.
"""

from __future__ import annotations

import datetime as dt
import re
import zlib
from collections.abc import Iterable
from pathlib import Path

from whoosh import index as windex

from indexer.analysis import fold
from indexer.schema import make_schema, text_lang


def _fallback_fields(st) -> dict:
    tl = text_lang(st.lang)
    fields = {
        "id": st.id,
        "url": st.url,
        "title": st.title,
        "body_z": zlib.compress(st.body.encode("utf-8")),
        "lang": st.lang,
        "source": st.source,
        "source_text": st.source,
        "place": st.place,
        "origin": st.origin,
        "content_hash": st.content_hash,
        "release": st.release,
        "length": len(st.body),
        f"title_{tl}": st.title,
        f"body_{tl}": st.body,
    }
    if st.date:
        fields["date"] = dt.datetime.strptime(st.date, "%Y-%m-%d")
        fields["year"] = st.date[:4]
    key = " ".join(re.findall(r"\w+", fold(st.title)))
    if key and st.date:  # same title on the same day: a duplicate; without a date nothing is known
        fields["group"] = f"{key}|{st.date}"
    return {k: v for k, v in fields.items() if v not in ("", None)}


def statement_fields(st) -> dict:
    try:
        from indexer import statement_fields as real
    except ImportError:
        return _fallback_fields(st)
    return real(st)


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
