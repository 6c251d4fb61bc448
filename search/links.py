"""Translation links on search results, and searching across languages through them.

The indexer stores on each statement the id of its other-language version (``translation``, see
:mod:`indexer.linkpass`). One statement is one result: :mod:`search.results` folds the two versions of a
statement into one hit, shown in the preferred language (the query's, see :mod:`search.language`, or the
``lang`` asked for with ``bilingual=True``) when it has a version in it, and fills each hit's
``translations``: ``[{"lang", "id", "url", "title"}]`` (an empty list when none is known) with
:func:`translation_of`; ``matched_in`` is the language of the version that ranked it. A statement that
exists only in the other language is still found. :class:`Pairs` counts the folded pairs of a whole result
set, so that ``total`` counts statements, not versions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
from whoosh.codec.whoosh3 import W3TermInfo

from indexer import tables

LANG_NAMES = {"en": ("English", "anglais"), "fr": ("French", "français")}
QUERY_SIDES = ("fr", "en")  # the languages of a pair
Stored = Callable[[str], dict[str, Any] | None]  # a statement's fields by id, None when unknown


def translation_of(stored: Stored, fields: dict[str, Any]) -> dict[str, Any] | None:
    """The ``translations`` entry for a statement's linked version, or None (``stored``: fields by id)."""
    other = fields.get("translation")
    if not other:
        return None
    of = stored(other)
    if of is None or of.get("duplicate_of"):
        return None
    return {"lang": of.get("lang") or "", "id": of.get("id") or other, "url": of.get("url") or "",
            "title": of.get("title") or ""}


class Pairs:
    """The other-language version of every document, by docnum (-1: none), read from the index once."""

    def __init__(self, searcher) -> None:
        self.searcher = searcher
        self._partner: np.ndarray | None = None
        self._ids: dict[bytes, list[int]] | None = None
        self._id_arrays: tuple[np.ndarray, np.ndarray] | None = None  # sorted id texts, their first docs
        self._tried = False  # the sidecars tried for the table

    def ids(self) -> IdTable | dict[bytes, list[int]] | None:
        """Every id's live documents (from the sidecars: its first), once the pairs table has been read
        (None before): ``.get(id bytes)``."""
        if self._ids is None and self._id_arrays is not None:
            return IdTable(*self._id_arrays)
        return self._ids

    @staticmethod
    def _segment_terms(seg, field: str) -> Iterator[tuple[bytes, int, int | None]]:
        """(term, document frequency, first docnum) of each term of a field in one segment. Whoosh's W3
        term table read raw (decoding each term's info with its inlined postings costs twice as much on
        59k ids); any other layout through the public API."""
        try:
            terms, st = seg._terms, W3TermInfo._struct
            prefix = terms._keycoder(field, b"")
            items = terms._tindex.items_from(prefix)
        except (AttributeError, TypeError, KeyError):  # another codec, or no such field in this segment
            yield from ((t, i.doc_frequency(), i.min_id()) for t, i in seg.iter_field(field))
            return
        for key, value in items:
            if not key.startswith(prefix):
                break
            _flags, _w, df, _lo, _hi, _mw, first, _last = st.unpack(value[:st.size])
            yield key[len(prefix):], df, None if first == 0xFFFFFFFF else first

    @classmethod
    def _docs_by_term(cls, reader, field: str) -> dict[bytes, list[int]]:
        """Each term of an ID field and its live documents, segment by segment."""
        out: dict[bytes, list[int]] = {}
        for seg, base in reader.leaf_readers():
            for text, df, first in cls._segment_terms(seg, field):
                if df == 1 and first is not None:
                    docs = [] if seg.is_deleted(first) else [first]
                else:
                    docs = [d for d in seg.postings(field, text).all_ids() if not seg.is_deleted(d)]
                out.setdefault(text, []).extend(base + d for d in docs)
        return out

    def partner(self) -> np.ndarray:
        if self._partner is None and not self._from_sidecars():
            reader = self.searcher.reader()
            partner = np.full(reader.doc_count_all(), -1, dtype=np.int64)
            ids = self._docs_by_term(reader, "id")
            for text, docs in self._docs_by_term(reader, "translation").items():
                other = ids.get(text)
                if other and docs:
                    partner[docs] = other[0]
            self._partner, self._ids = partner, ids
        return self._partner

    def _from_sidecars(self) -> bool:
        """Read the table from the postings sidecars (tried once); False when a segment has none."""
        if self._partner is None and not self._tried:
            self._tried = True
            stored = tables.of(self.searcher.reader()).get()  # the table as stored at index time
            table = stored.pairs if stored is not None else None
            if table is None:
                table = tables.sidecar_table(self.searcher.reader())
            if table is not None:
                self._partner, self._id_arrays = table
        return self._partner is not None

    def folded(self, docs: np.ndarray | Iterable[int]) -> int:
        """How many pairs have both versions among ``docs`` (each is one statement, one result), whatever
        their language labels (a pair may carry one label twice, or a third language). From the table of
        every pair, read once: stored at index time, or from the postings sidecars (tens of milliseconds),
        or on an index without either, from Whoosh's term tables (about a second on 59k statements)."""
        docs = docs if isinstance(docs, np.ndarray) else np.fromiter(docs, dtype=np.int64)
        if len(docs) < 2:
            return 0
        partner = self.partner()
        mask = np.zeros(len(partner), dtype=bool)
        mask[docs] = True
        other = partner[docs]
        return int(mask[other[other >= 0]].sum()) // 2


class IdTable:
    """The ids' first live documents, as sorted arrays: ``get(id)`` is ``[doc]`` or None, as a dict of
    every id's documents answers (a binary search instead of a dict of 59k entries built first)."""

    def __init__(self, texts: np.ndarray, docs: np.ndarray) -> None:
        self.texts, self.docs = texts, docs

    def get(self, key: bytes) -> list[int] | None:
        if not len(self.texts) or b"\0" in key:
            return None
        i = int(np.searchsorted(self.texts, key))
        return [int(self.docs[i])] if i < len(self.texts) and self.texts[i] == key else None


def also_in_line(entry: dict[str, Any]) -> str:
    """ "also in English: <title> (<id>)" / "aussi en français : <title> (<id>)" for a translations entry."""
    lang = entry.get("lang") or ""
    en = LANG_NAMES.get(lang, (lang or "another language",))[0]
    title = entry.get("title") or entry.get("id")
    if lang == "fr":
        return f"aussi en français : {title} ({entry.get('id')})"
    return f"also in {en}: {title} ({entry.get('id')})"
