"""Did you mean: suggest a corrected query when a word is unknown to the index.

A word is unknown when its analysed form (stem) is in no title or body field of any language. Candidates
are indexed stems within edit distance 1 (2 for words of 6+ letters) of its stem, in the French and English
body fields (Whoosh's DFA walk over the term list, cheap); the most frequent closest one wins. Stems are not
readable ("economiqu"), so the suggestion uses a surface form: the first word of a statement containing the
stem whose analysed form is that stem, lower-cased ("économique").
"""

from __future__ import annotations

import re
import zlib

from indexer.analysis import _WORD, LANGS, normalize
from search.query import _analyse


class Speller:
    def __init__(self, searcher):
        self._s = searcher
        self._cache: dict[str, str | None] = {}

    def _known(self, word: str) -> bool:
        reader = self._s.reader()
        for lang in LANGS:
            terms = [t for _, t in _analyse(word, lang)]
            if not terms:
                return True  # a stopword somewhere: never "unknown"
            for kind in ("title", "body"):
                fname = f"{kind}_{lang}"
                if all((fname, t) in reader for t in terms):
                    return True
        return False

    def correct(self, word: str) -> str | None:
        """A readable indexed word close to an unknown word, or None (also None for a known word)."""
        if word in self._cache:
            return self._cache[word]
        result = None
        # Not past 40 characters: Whoosh's Levenshtein automaton for a 10,000-letter word takes seconds.
        if 3 <= len(word) <= 40 and word.isalpha() and not self._known(word):
            result = self._closest(word)
        if len(self._cache) > 5000:
            self._cache.clear()
        self._cache[word] = result
        return result

    def _closest(self, word: str) -> str | None:
        reader = self._s.reader()
        best = None  # (distance, -freq, lang, term)
        for lang in ("fr", "en"):
            terms = [t for _, t in _analyse(word, lang)]
            if len(terms) != 1:
                continue
            stem = terms[0]
            fname = f"body_{lang}"
            if fname not in reader.indexed_field_names():
                continue
            maxdists = (1, 2) if len(stem) >= 6 else (1,)
            for maxdist in maxdists:
                found = False
                try:
                    cands = list(reader.terms_within(fname, stem, maxdist, prefix=1))
                except Exception:  # noqa: BLE001 - a spelling hint must never break a search
                    cands = []
                for cand in cands:
                    if cand == stem:
                        continue
                    freq = reader.doc_frequency(fname, cand)
                    key = (maxdist, -freq, lang, cand)
                    if best is None or key < best:
                        best = key
                    found = True
                if found:
                    break
        if best is None:
            return None
        return self._surface(f"body_{best[2]}", best[2], best[3])

    def _surface(self, fname: str, lang: str, term: str) -> str | None:
        reader = self._s.reader()
        try:
            m = reader.postings(fname, term)
            docnum = m.id()
        except Exception:  # noqa: BLE001
            return term
        fields = reader.stored_fields(docnum)
        z = fields.get("body_z")
        body = zlib.decompress(z).decode("utf-8", "replace") if z else ""
        for text in (fields.get("title") or "", body):
            for mm in _WORD.finditer(text):
                w = mm.group()
                for part in re.split(r"[-‐‑'’ʼ]", w):
                    if part and normalize(part, lang) == term:
                        return part.lower()
        return term

    def suggest(self, query: str, words: list[str]) -> str | None:
        """The query with each unknown word replaced by its correction, or None when nothing changes."""
        out = query
        changed = False
        for w in dict.fromkeys(words):
            fix = self.correct(w)
            if fix and fix != w.lower():
                out = re.sub(r"(?<!\w)" + re.escape(w) + r"(?!\w)", fix, out, count=1)
                changed = True
        return out if changed else None
