"""Did you mean: suggest a corrected query when a word is unknown to the index.

A word is unknown when its analysed form (stem) is in no title or body field of any language. Candidates
are indexed stems within edit distance 1 (2 for words of 6+ letters) of its stem, with the same first letter,
in the French and English body fields; the closest, then most frequent, wins. Stems are not readable
("economiqu"), so the suggestion uses a surface form: the first word of a statement containing the stem
whose analysed form is that stem, lower-cased ("économique").

The work per query is bounded (a query of long made-up words held a server thread for seconds: Whoosh's
multi-segment ``terms_within`` is a pure-Python Damerau-Levenshtein over every term with the same first
letter). Only words of at most MAX_WORD letters, at most MAX_WORDS of them per query, are corrected; the
candidates are read in one pass over the terms with the word's first letter, at most MAX_SCAN terms a query;
a term is compared only if its length and its letters could be within the distance (cheap checks), and at
most MAX_COMPARISONS edit distances are computed a query. Past a budget the query gets no more suggestions.
"""

from __future__ import annotations

import re
from collections import Counter

from whoosh.support.levenshtein import distance

from indexer.analysis import LANGS, WORD, normalize
from search.query import analyse_query
from search.results import body_text

MAX_WORD = 20  # letters: longer words are not typos we can fix, and their comparisons cost the most
MAX_WORDS = 4  # unknown words corrected per query
MAX_SCAN = 20_000  # terms read per query while looking for candidates (about 10 µs each)
MAX_COMPARISONS = 1_500  # edit distances computed per query


class _Budget:
    """What one query may still spend on suggestions."""

    def __init__(self) -> None:
        self.scan = MAX_SCAN
        self.comparisons = MAX_COMPARISONS

    @property
    def spent(self) -> bool:
        return self.scan <= 0 or self.comparisons <= 0


class Speller:
    def __init__(self, searcher):
        self._s = searcher
        self._cache: dict[str, str | None] = {}
        self.comparisons = 0  # edit distances computed since this speller was made

    def _known(self, word: str) -> bool:
        reader = self._s.reader()
        for lang in LANGS:
            terms = [t for _, t in analyse_query(word, lang)]
            if not terms:
                return True  # a stopword somewhere: never "unknown"
            for kind in ("title", "body"):
                fname = f"{kind}_{lang}"
                if all((fname, t) in reader for t in terms):
                    return True
        return False

    def correct(self, word: str, budget: _Budget | None = None) -> str | None:
        """A readable indexed word close to an unknown word, or None (also None for a known word)."""
        if word in self._cache:
            return self._cache[word]
        budget = budget or _Budget()
        result = None
        if 3 <= len(word) <= MAX_WORD and word.isalpha() and not self._known(word):
            result = self._closest(word, budget)
        if budget.spent:
            return result  # maybe not the best: not remembered
        if len(self._cache) > 5000:
            self._cache.clear()
        self._cache[word] = result
        return result

    def _closest(self, word: str, budget: _Budget) -> str | None:
        reader = self._s.reader()
        best = None  # (distance, -freq, lang, term)
        for lang in ("fr", "en"):
            terms = [t for _, t in analyse_query(word, lang)]
            if len(terms) != 1:
                continue
            stem = terms[0]
            fname = f"body_{lang}"
            if fname not in reader.indexed_field_names():
                continue
            for dist, cand in self._within(reader, fname, stem, 2 if len(stem) >= 6 else 1, budget):
                key = (dist, -reader.doc_frequency(fname, cand), lang, cand)
                if best is None or key < best:
                    best = key
        if best is None:
            return None
        return self._surface(f"body_{best[2]}", best[2], best[3])

    def _within(self, reader, fname: str, stem: str, maxdist: int, budget: _Budget):
        """(distance, term) for the terms of ``fname`` within ``maxdist`` of ``stem`` with its first letter,
        as far as the budget goes."""
        letters = Counter(stem)
        fieldobj = reader.schema[fname]
        try:
            for btext in reader.expand_prefix(fname, stem[:1]):
                budget.scan -= 1
                if budget.spent:
                    return
                cand = fieldobj.from_bytes(btext)
                if cand == stem or abs(len(cand) - len(stem)) > maxdist:
                    continue
                # each edit changes at most two letters of the multiset: a cheap bound before the distance
                diff = Counter(cand)
                diff.subtract(letters)
                if sum(map(abs, diff.values())) > 2 * maxdist:
                    continue
                budget.comparisons -= 1
                self.comparisons += 1
                d = distance(stem, cand, limit=maxdist)
                if d <= maxdist:
                    yield d, cand
        except Exception:  # noqa: BLE001 - a spelling hint must never break a search
            return

    def _surface(self, fname: str, lang: str, term: str) -> str | None:
        reader = self._s.reader()
        try:
            m = reader.postings(fname, term)
            docnum = m.id()
        except Exception:  # noqa: BLE001
            return term
        fields = reader.stored_fields(docnum)
        for text in (fields.get("title") or "", body_text(fields)):
            for mm in WORD.finditer(text):
                w = mm.group()
                for part in re.split(r"[-‐‑'’ʼ]", w):
                    if part and normalize(part, lang) == term:
                        return part.lower()
        return term

    def suggest(self, query: str, words: list[str]) -> str | None:
        """The query with each unknown word replaced by its correction, or None when nothing changes."""
        out = query
        changed = False
        budget = _Budget()
        tried = 0
        for w in dict.fromkeys(words):
            if tried >= MAX_WORDS or budget.spent:
                break
            if w not in self._cache and 3 <= len(w) <= MAX_WORD and w.isalpha():
                tried += 1
            fix = self.correct(w, budget)
            if fix and fix != w.lower():
                out = re.sub(r"(?<!\w)" + re.escape(w) + r"(?!\w)", fix, out, count=1)
                changed = True
        return out if changed else None
