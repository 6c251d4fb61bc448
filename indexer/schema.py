"""The index schema: one Whoosh index with per-language text fields.

Why one index rather than one per language: a single searcher ranks, filters, facets and pages across both
languages at once (a journalist searching "COVID-19" wants French and English results in one list with one
total), there is one writer lock and one commit to make atomic, and the per-language fields still give each
language its own analyzer. A query is analysed once per language field by that field's analyzer.

Text fields: ``title_<lang>`` and ``body_<lang>`` for lang in fr, en, xx (xx = any other language, folded
but neither stemmed nor stopped). A statement fills only the fields of its language.
"""

from __future__ import annotations

import pickle
import zlib
from typing import Any

from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.formats import Positions
from whoosh.system import pack_uint

from indexer.analysis import LANGS, NormalizeFilter, analyzer, index_positions

TEXT_LANGS = LANGS  # ("fr", "en", "xx")
TITLE_BOOST = 3.0


class Analyzed:
    """Postings computed ahead of time by ``field.index(text)``: (term bytes, freq, weight, value) tuples.

    A build analyses text in a worker process while the main process writes; ``LangText.index`` takes
    these as they are, so a pre-analysed document indexes exactly like its text would.
    """

    __slots__ = ("postings",)

    def __init__(self, postings):
        self.postings = list(postings)

    def __reduce__(self):
        return (Analyzed, (self.postings,))


class LangText(TEXT):
    """A TEXT field that also accepts :class:`Analyzed` postings instead of a string."""

    def index(self, value, **kwargs):
        if isinstance(value, Analyzed):
            return iter(value.postings)
        lang = self._chain_lang()
        if isinstance(value, str) and not kwargs and lang is not None:
            return self._positions(value, lang)
        return super().index(value, **kwargs)

    def _chain_lang(self) -> str | None:
        """The language of presse's own chain when this field uses it with positions, else None (then
        Whoosh's generic path runs). Worked out from the analyzer (schemas pickled in older indexes too),
        once per field object; not pickled with the schema (``__getstate__``)."""
        try:
            return self._chain
        except AttributeError:
            self._chain = self._find_chain_lang()
            return self._chain

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_chain", None)
        return state

    def _find_chain_lang(self) -> str | None:
        items = getattr(self.analyzer, "items", ())
        if type(self.format) is not Positions or len(items) != 3 or type(items[-1]) is not NormalizeFilter:
            return None
        lang = items[-1].lang
        return lang if list(items) == list(analyzer(lang).items) else None

    def _positions(self, text: str, lang: str) -> list:
        """What ``Positions.word_values`` makes of ``text`` (term bytes, frequency, weight, value: the
        count of positions, then their deltas pickled), from the per-word memo of the chain."""
        boost = self.format.field_boost
        out = []
        single = _SINGLE
        for term, poses in index_positions(text, lang).items():
            if len(poses) == 1:  # most postings: their pickled position is remembered
                pickled = single.get(poses[0])
                if pickled is None:
                    pickled = single[poses[0]] = pickle.dumps(poses, 2)
                # a new bytes object each time: Whoosh's writer pickles a block's values, and a value shared
                # by several postings would be pickled as a reference (same postings, other bytes)
                out.append((term.encode("utf-8"), 1, boost, _ONE + pickled))
                continue
            deltas = [poses[0], *(b - a for a, b in zip(poses, poses[1:], strict=False))]
            out.append((term.encode("utf-8"), len(poses), len(poses) * boost,
                        pack_uint(len(poses)) + pickle.dumps(deltas, 2)))
        return out


_SINGLE: dict[int, bytes] = {}  # position -> the pickled one-position list of a posting at that position
_ONE = pack_uint(1)


def stored_body(fields: dict[str, Any]) -> str:
    """A statement's body from its stored fields: ``body_z`` (the body compressed by
    :func:`indexer.documents.statement_fields`), or a plain ``body``; "" when neither is there or ``body_z``
    does not read."""
    z = fields.get("body_z")
    if not z:
        return fields.get("body") or ""
    try:
        return zlib.decompress(z).decode("utf-8")
    except (zlib.error, UnicodeDecodeError):
        return ""


def text_lang(lang: str) -> str:
    """The text-field suffix a statement's language uses."""
    return lang if lang in ("fr", "en") else "xx"


def make_schema() -> Schema:
    fields: dict = {
        "id": ID(stored=True, unique=True),
        "url": STORED(),
        "title": STORED(),
        "body_z": STORED(),  # zlib-compressed UTF-8 body, for snippets and /api/statements
        "date": DATETIME(stored=True, sortable=True),
        "year": ID(stored=False, sortable=True),
        "lang": ID(stored=True, sortable=True),
        "source": ID(stored=True, sortable=True),  # exact, for facets
        "source_text": LangText(analyzer=analyzer("xx")),  # folded words, for --source filters
        "place": ID(stored=True),
        "origin": STORED(),
        "input": ID(stored=True),  # the input file the statement came from, to remove it when the file goes
        "content_hash": STORED(),
        "release": ID(stored=True),
        "group": ID(stored=True),  # duplicate group: statements with the same group are near-identical
        "translation": ID(stored=True),  # id of the other-language version (indexer.linkpass)
        "duplicate_of": ID(stored=True),  # set on the stored-only stub of an exact duplicate: the kept id
        "exact": ID(stored=True),  # indexer.duplicates.exact_key of the text: finds exact duplicates
        "extra": STORED(),  # alternates, declared language, translations and other kept-aside data
        "length": NUMERIC(stored=True),
        "tags": KEYWORD(lowercase=True, commas=True),
    }
    for lang in TEXT_LANGS:
        fields[f"title_{lang}"] = LangText(analyzer=analyzer(lang), phrase=True, field_boost=TITLE_BOOST,
                                       multitoken_query="phrase")
        fields[f"body_{lang}"] = LangText(analyzer=analyzer(lang), phrase=True, multitoken_query="phrase")
    return Schema(**fields)
