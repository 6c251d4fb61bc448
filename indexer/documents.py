"""Statement -> Whoosh document: which fields a statement fills, and the duplicate-group key.

``statement_fields(st)`` is the one place that maps a :class:`corpus.Statement` to index fields. The text of a
statement goes to the fields of its language (``title_fr``/``body_fr``, ``…_en``, or ``…_xx`` for every other
language, folded but neither stemmed nor stopped), so no statement is ever dropped for its language.

``pre_analyze(doc)`` runs the analysis of the text fields ahead of time (in a worker process during a build):
the writer then only adds the ready postings (see :class:`indexer.schema.Analyzed`).
"""

from __future__ import annotations

import hashlib
import os
import re
import zlib
from datetime import datetime
from typing import Any

from corpus.statement import Statement
from indexer.duplicates import exact_key, folded
from indexer.schema import TEXT_LANGS, Analyzed, make_schema, text_lang

_SCHEMA = None

# Statement fields kept apart from the body (corpus/furniture.py), stored under extra["furniture"].
FURNITURE = ("contacts", "dateline", "quick_facts", "related_links", "credits")


def _schema():
    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = make_schema()
    return _SCHEMA


def input_of(origin: str) -> str:
    """The input file of an origin ("/a/b.jsonl:12" -> "/a/b.jsonl", "x.warc@120" -> "x.warc"), absolute."""
    head, sep, tail = origin.rpartition(":")
    if sep and tail.isdigit():
        origin = head
    else:
        head, sep, tail = origin.rpartition("@")
        if sep and tail.isdigit():
            origin = head
    return os.path.abspath(origin) if origin else ""


_WORDS = re.compile(r"\w+")


def folded_words(text: str) -> str:
    """The words of ``text``, case- and accent-folded, joined by spaces: what makes two titles the same."""
    return " ".join(map(folded.__getitem__, _WORDS.findall(text)))  # through a cache


def group_key(title: str, date: str, body: str = "") -> str:
    """The duplicate group of a statement: a hash of its folded title words and its date.

    Chosen over a body hash because the same release posted by two offices (same title, same day) often
    differs in its boilerplate; the date keeps routine titles that recur on other days apart. A statement
    without a title, or without a date (nothing keeps a routine title apart: "Cas général"), is grouped by its
    folded title and body words instead (exact duplicates only), as the link pass's same-title rule wants.
    """
    key = folded_words(title) if title.strip() and date else "\x1fbody\x1f" + folded_words(f"{title}\n{body}")
    return hashlib.blake2b(f"{key}\x1f{date}".encode(), digest_size=8).hexdigest()


def parse_date(value: str) -> datetime | None:
    try:
        return datetime.strptime(value[:10], "%Y-%m-%d") if value else None
    except ValueError:
        return None


def statement_fields(st: Statement, *, input: str = "", exact: str | None = None) -> dict[str, Any]:
    """The Whoosh document of a statement (field name -> value), ready for ``writer.add_document``.
    ``exact``: its :func:`~indexer.duplicates.exact_key` when already known (its link record's sketch)."""
    lang = st.lang or ""
    tl = text_lang(lang)
    doc: dict[str, Any] = {
        "id": st.id,
        "url": st.url,
        "title": st.title,
        "body_z": zlib.compress(st.body.encode("utf-8"), 6),
        "lang": lang or "unknown",
        "input": input or input_of(st.origin),
        "origin": st.origin,
        "content_hash": st.content_hash,
        "group": group_key(st.title, st.date, st.body),
        "exact": exact_key(st) if exact is None else exact,
        "length": len(st.body.split()),
        f"body_{tl}": st.body,
    }
    if st.title:
        doc[f"title_{tl}"] = st.title
    date = parse_date(st.date)
    if date is not None:
        doc["date"] = date
        doc["year"] = f"{date.year:04d}"
    if st.source:
        doc["source"] = st.source
        doc["source_text"] = st.source
    if st.place:
        doc["place"] = st.place
    if st.release:
        doc["release"] = st.release
    extra = {}
    if st.declared_lang:
        extra["declared_lang"] = st.declared_lang
    if st.alternates:
        extra["alternates"] = st.alternates
    furniture = {name: getattr(st, name) for name in FURNITURE if getattr(st, name, None)}
    if furniture:  # stored to be shown, never indexed: no snippet opens on a contact block or a date line
        extra["furniture"] = furniture
    if st.extra:
        extra.update({k: v for k, v in st.extra.items() if k not in extra})
    if extra:
        doc["extra"] = extra
    return doc


TEXT_FIELDS = (*(f"{kind}_{lang}" for kind in ("title", "body") for lang in TEXT_LANGS), "source_text")


def pre_analyze(doc: dict[str, Any]) -> dict[str, Any]:
    """Replace the text values of a document by their postings, computed by the same field code the writer
    would run: the result indexes exactly like the original document, with the analysis already done."""
    schema = _schema()
    for name in TEXT_FIELDS:
        value = doc.get(name)
        if isinstance(value, str):
            doc[name] = Analyzed(schema[name].index(value))
    return doc
