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

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

LANG_NAMES = {"en": ("English", "anglais"), "fr": ("French", "français")}


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

    def _docs_by_term(self, reader, field: str) -> dict[bytes, list[int]]:
        """Each term of an ID field and its live documents (one-document terms read from the term info)."""
        out: dict[bytes, list[int]] = {}
        for text, info in reader.iter_field(field):
            if info.doc_frequency() == 1 and not reader.is_deleted(info.min_id()):
                out[text] = [info.min_id()]
            else:
                out[text] = [d for d in reader.postings(field, text).all_ids() if not reader.is_deleted(d)]
        return out

    def partner(self) -> np.ndarray:
        if self._partner is None:
            reader = self.searcher.reader()
            partner = np.full(reader.doc_count_all(), -1, dtype=np.int64)
            ids = self._docs_by_term(reader, "id")
            for text, docs in self._docs_by_term(reader, "translation").items():
                other = ids.get(text)
                if other and docs:
                    partner[docs] = other[0]
            self._partner = partner
        return self._partner

    def folded(self, docs: np.ndarray | Iterable[int]) -> int:
        """How many pairs have both versions among ``docs`` (each is one statement, one result)."""
        partner = self.partner()
        docs = docs if isinstance(docs, np.ndarray) else np.fromiter(docs, dtype=np.int64)
        if not len(docs) or not len(partner):
            return 0
        found = np.zeros(len(partner), dtype=bool)
        found[docs] = True
        other = partner[docs]
        other = other[other >= 0]
        return int(found[other].sum()) // 2


def also_in_line(entry: dict[str, Any]) -> str:
    """ "also in English: <title> (<id>)" / "aussi en français : <title> (<id>)" for a translations entry."""
    lang = entry.get("lang") or ""
    en = LANG_NAMES.get(lang, (lang or "another language",))[0]
    title = entry.get("title") or entry.get("id")
    if lang == "fr":
        return f"aussi en français : {title} ({entry.get('id')})"
    return f"also in {en}: {title} ({entry.get('id')})"
