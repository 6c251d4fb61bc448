"""Typo tolerance and "did you mean": query words matched, and corrected, through indexed words one or two
edits away.

Typo tolerance (:meth:`Speller.expand`, called by the searcher's plan, as Meilisearch does it). A plain query
word of MIN_TYPO to MAX_WORD letters that no statement contains, or that is very rare (in at most RARE_DF
statements, when a neighbour is in RARE_RATIO times as many), is also matched by the indexed words within
:func:`indexer.typos.max_edits` of it (one edit, two from 8 letters on; a transposition is one edit): the
closest ones, most frequent first, at most MAX_VARIANTS. Each is analysed like any query word and its term
is added beside the typed word's term in every field clause of both compiled queries (AND and OR), with a
lower boost (TYPO_BOOST): a statement containing the typed word itself ranks above one found through a
typo. An unknown word is replaced by its best correction in the answer's ``corrected_query`` ("showing
results for …"), in the proximity terms and the highlighted terms. The words come from the typo index built
at index time (:mod:`indexer.typos`: a deletion neighbourhood, a few sorted-array lookups a word); each
candidate is checked against the live index (a word of deleted statements is not used). An index without a
typo index falls back to the bounded scan below for unknown words.

What ranking sees (:class:`Typos`, on the searcher's ``Plan.typos``): ``variants`` (query word -> the indexed
words it also matches, with their edit distance), ``terms`` ((field, term) -> (query word, edits) for every
term matched only through a typo) and :meth:`Typos.words` (the query's words with each unknown word replaced
by its correction).

Did you mean (:meth:`Speller.suggest`). A word is unknown when its analysed form (stem) is in no title or body
field of any language. Its correction is the closest, then most frequent, indexed word of the typo index; or,
for an index without one, the closest indexed stem within edit distance 1 (2 for words of 6+ letters) of its
stem, with the same first letter, in the French and English body fields. Stems are not readable
("economiqu"), so the suggestion uses a surface form: the word as written in a statement containing it
("économique").

The work per query is bounded (a query of long made-up words held a server thread for seconds: Whoosh's
multi-segment ``terms_within`` is a pure-Python Damerau-Levenshtein over every term with the same first
letter). Only words of at most MAX_WORD letters, at most MAX_WORDS of them per query, are corrected; the
candidates are read in one pass over the terms with the word's first letter, at most MAX_SCAN terms a query;
a term is compared only if its length and its letters could be within the distance (cheap checks), and at
most MAX_COMPARISONS edit distances are computed a query. Past a budget the query gets no more suggestions.
"""

from __future__ import annotations

import functools
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import query as wq
from whoosh.support.levenshtein import distance

from indexer import typos as typo_index
from indexer.analysis import LANGS, WORD, fold, normalize, split_word
from search.query import Compiled, analyse_query, proximity_terms
from search.results import body_text

MAX_WORD = 20  # letters: longer words are not typos we can fix, and their comparisons cost the most
MAX_WORDS = 4  # unknown words corrected per query
MAX_SCAN = 20_000  # terms read per query while looking for candidates (about 10 µs each)
MAX_COMPARISONS = 1_500  # edit distances computed per query
SURFACE_DOCS = 5  # statements read for the written form of a stem closest to a typo (without a typo index)
MIN_TYPO = 4  # letters: a shorter word has too many neighbours to guess which one was meant
RARE_DF = 2  # a known word in at most this many statements is also matched through its typos...
RARE_RATIO = 20  # ... by neighbours found in at least this many times as many statements
MAX_VARIANTS = 5  # indexed words a typo is matched by (the closest, most frequent first)
TYPO_BOOST = 0.5  # weight of a typo's term beside the typed word's (an unknown word's best correction: 1)
# a folded letter and the letters that fold to it, for finding a word as written
_ACCENTED = {"a": "[aàâäáãå]", "c": "[cç]", "e": "[eéèêë]", "i": "[iîïíì]", "o": "[oôöóòõ]", "u": "[uùûüú]",
             "y": "[yÿý]", "n": "[nñ]"}
_UNKNOWN = 1 << 30  # the frequency of a word that cannot be a typo (a stopword, several terms)


@dataclass
class Typos:
    """The typo tolerance applied to one query: what ranking and the answer see."""

    # query word -> [(indexed word it is also matched by, edits)]
    variants: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    # unknown query word -> its correction, as a statement writes it
    corrections: dict[str, str] = field(default_factory=dict)
    # (field, term) matched only through a typo -> (query word, edits)
    terms: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)
    corrected_query: str | None = None  # the query with each unknown word replaced by its correction

    def words(self, words: list[str]) -> list[str]:
        """``words`` with each unknown word replaced by its correction (folded)."""
        return [fold(self.corrections[w]) if w in self.corrections else w for w in words]


def typed_part(word: str) -> str:
    """The part of a query word that can be a typo, as the typo index holds words (letter runs): without a
    French elision ("l'assurance" -> "assurance") or an English possessive ("Yukon's" -> "Yukon"); the
    whole word read as one ("lassurance") is unknown, and one edit from the word it elides."""
    return split_word(split_word(word, "fr")[0], "en")[0]


class _Budget:
    """What one query may still spend on suggestions."""

    def __init__(self) -> None:
        self.scan = MAX_SCAN
        self.comparisons = MAX_COMPARISONS

    @property
    def spent(self) -> bool:
        return self.scan <= 0 or self.comparisons <= 0


@functools.cache
def _rapidfuzz() -> tuple | None:
    """rapidfuzz's (OSA distance, extract): C edit distances, when installed (else None: Whoosh's pure-Python
    one). Imported on the first typo checked, not by a search of known words (a cold process's start)."""
    try:
        from rapidfuzz.distance.OSA import distance
        from rapidfuzz.process import extract
    except ImportError:  # pragma: no cover - depends on the environment
        return None
    return distance, extract


_LOADED: dict[Path, tuple[tuple[int, int], typo_index.TypoArrays | None]] = {}  # read-only, shared


def _shared_arrays(index_dir: Path, stamp: tuple[int, int]) -> typo_index.TypoArrays | None:
    """The typo index of a directory at a (mtime, size) stamp, loaded once a process: the web app's
    searchers (one a thread) share its arrays, which nothing writes."""
    key = index_dir.resolve()
    hit = _LOADED.get(key)
    if hit is None or hit[0] != stamp:
        if len(_LOADED) >= 8:  # a process rarely serves more indexes: keep memory bounded
            _LOADED.clear()
        hit = _LOADED[key] = (stamp, typo_index.load(index_dir, mapped=True))  # pages read on demand
    return hit[1]


class Speller:
    """Typo tolerance and suggestions over one open Whoosh searcher (and its index directory's typo index)."""

    def __init__(self, searcher, index_dir: str | Path | None = None):
        self._s = searcher
        self._dir = Path(index_dir) if index_dir is not None else None
        self._cache: dict[str, str | None] = {}
        self._near: dict[str, tuple[int, list[tuple[str, int, int]]]] = {}  # folded word -> (df, neighbours)
        self._arrays: typo_index.TypoArrays | None = None
        self._stamp: tuple[int, int] | None = None  # (mtime_ns, size) of the typo index loaded
        self.comparisons = 0  # edit distances computed since this speller was made

    # -- the typo index -----------------------------------------------------------------------------------

    def typo_arrays(self) -> typo_index.TypoArrays | None:
        """The index directory's typo index (reloaded when an update rewrote it), or None."""
        if self._dir is None:
            return None
        try:
            st = os.stat(self._dir / typo_index.TYPOS_NAME)
            stamp = (st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = None
        if stamp != self._stamp:
            self._stamp, self._arrays = stamp, _shared_arrays(self._dir, stamp) if stamp else None
            self._near.clear()
            self._cache.clear()
        return self._arrays

    def frequency(self, word: str) -> int:
        """Statements containing a folded word in their title or body, in the busiest field (its analysed
        term in one language field); _UNKNOWN for a word that is no typo candidate (stopword, compound)."""
        reader = self._s.reader()
        best = 0
        for lang in LANGS:
            terms = [t for _, t in analyse_query(word, lang)]
            if len(terms) != 1:
                return _UNKNOWN
            for kind in ("title", "body"):
                best = max(best, reader.doc_frequency(f"{kind}_{lang}", terms[0]))
        return best

    def present(self, word: str) -> bool:
        """Whether a folded word's analysed form is in some title or body field (a few term lookups)."""
        reader = self._s.reader()
        for lang in LANGS:
            terms = [t for _, t in analyse_query(word, lang)]
            if len(terms) == 1 and any((f"{kind}_{lang}", terms[0]) in reader for kind in ("title", "body")):
                return True
        return False

    def neighbours(self, word: str, budget: _Budget | None = None) -> tuple[int, list[tuple[str, int, int]]]:
        """(statements holding the folded ``word``, [(indexed word, edits, statements)]): for a word in at
        most RARE_DF statements, the indexed words at the smallest distance within its edits, most frequent
        first. With a typo index, the statements are its counts of the typed form (not of its stem:
        "novembe" is stemmed as "november" is), and candidates are checked against the live index; without
        one, the analysed form's frequency and the one correction of the bounded scan."""
        if word in self._near:
            return self._near[word]
        budget = budget or _Budget()
        arrays = self.typo_arrays()
        if arrays is not None:
            try:
                own, found = self._indexed_neighbours(arrays, word, budget)
            except typo_index.DamagedTypos:  # a damaged typo index: not used again until it is rewritten
                self._arrays = arrays = None
        if arrays is None:
            found = []
            own = self.frequency(word)
            fix = self._closest(word, budget) if not own else None
            if fix and fold(fix) != word:
                found.append((fold(fix), distance(word, fold(fix)), self.frequency(fold(fix))))
        found.sort(key=lambda c: (c[1], -c[2], c[0]))
        if not budget.spent:
            if len(self._near) > 5000:
                self._near.clear()
            self._near[word] = (own, found)
        return own, found

    def _indexed_neighbours(self, arrays: typo_index.TypoArrays, word: str,
                            budget: _Budget) -> tuple[int, list[tuple[str, int, int]]]:
        """:meth:`neighbours` from the typo index (raises :class:`indexer.typos.DamagedTypos`)."""
        found: list[tuple[str, int, int]] = []
        own = sum(n for c, n in arrays.candidates(word, 0) if c == word)
        if own and own <= RARE_DF and not self.present(word):
            own = 0  # only in statements deleted since
        edits = typo_index.max_edits(word) if own <= RARE_DF else 0
        counts = {c: n for c, n in arrays.candidates(word, edits) if c != word} if edits else {}
        for limit in range(1, edits + 1):  # the closest tier only
            found = [(c, d, counts[c]) for c, d in self._close(word, list(counts), limit, budget)
                     if self.present(c)]  # else only in statements deleted since
            if found:
                break
        return own, found

    def _close(self, word: str, cands: list[str], limit: int, budget: _Budget) -> list[tuple[str, int]]:
        """(candidate, edits) for the candidates within ``limit`` edits of ``word`` (transposition: one)."""
        cands = [c for c in cands if abs(len(c) - len(word)) <= limit]
        osa = _rapidfuzz()
        if osa is not None:  # rapidfuzz: one C call for them all
            hits = osa[1](word, cands, scorer=osa[0], score_cutoff=limit, limit=None)
            return [(c, int(d)) for c, d, _ in hits]
        out = []
        for c in cands:
            if budget.spent:
                break
            budget.comparisons -= 1
            self.comparisons += 1
            if (d := distance(word, c, limit=limit)) <= limit:
                out.append((c, d))
        return out

    # -- typo tolerance -----------------------------------------------------------------------------------

    def expand(self, compiled: Compiled, query: str) -> Typos:
        """Match the query's unknown or very rare words through their typos too (see the module doc):
        ``compiled`` is rewritten in place; the returned :class:`Typos` says what was done."""
        typos = Typos()
        budget = _Budget()
        looked = 0  # words whose neighbours were looked for
        shown: dict[str, str] = {}  # unknown word -> the word corrected, as the answer shows it
        for w in dict.fromkeys(compiled.words):
            part = typed_part(w)
            f = fold(part)
            if not (MIN_TYPO <= len(f) <= MAX_WORD and f.isalpha()) or budget.spent or looked >= MAX_WORDS:
                continue
            own, found = self.neighbours(f, budget)
            if own > RARE_DF:
                continue
            looked += 1
            if own:  # a rare word: only far more frequent neighbours, it may well be what was meant
                found = [c for c in found if c[2] >= RARE_RATIO * own]
            if not found:
                continue
            typos.variants[w] = [(c, d) for c, d, _ in found if d == found[0][1]][:MAX_VARIANTS]
            if not own:
                typos.corrections[w] = self._display(found[0][0])
                shown[w] = w.replace(part, typos.corrections[w], 1)  # "l'assurnce" -> "l'assurance"
        if typos.variants:
            _rewrite(compiled, typos)
        if typos.corrections:
            out = query
            for w, fix in shown.items():
                out = re.sub(r"(?<!\w)" + re.escape(w) + r"(?!\w)", fix, out, count=1)
            typos.corrected_query = out
        return typos

    def _display(self, word: str) -> str:
        """A folded indexed word as a statement writes it ("securite" -> "sécurité"), lower-cased: the first
        statement holding its analysed form is searched for it, accents allowed (one regex, in C)."""
        reader = self._s.reader()
        for lang in LANGS:
            terms = [t for _, t in analyse_query(word, lang)]
            for kind in ("title", "body"):
                fname = f"{kind}_{lang}"
                if len(terms) != 1 or (fname, terms[0]) not in reader:
                    continue
                try:
                    fields = reader.stored_fields(reader.postings(fname, terms[0]).id())
                except Exception:  # noqa: BLE001 - a display form must never break a search
                    return word
                pattern = "".join(_ACCENTED.get(ch, re.escape(ch)) for ch in word)
                m = re.search(rf"(?<!\w){pattern}(?!\w)", f"{fields.get('title') or ''}\n{body_text(fields)}",
                              re.IGNORECASE)
                return m.group().lower() if m and fold(m.group()) == word else word
        return word

    # -- did you mean -------------------------------------------------------------------------------------

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
            if self.typo_arrays() is not None:
                found = self.neighbours(fold(word), budget)[1]
                result = self._display(found[0][0]) if found else None
            else:
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
        return self._surface(f"body_{best[2]}", best[2], best[3], near=word)

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

    def _surface(self, fname: str, lang: str, term: str, near: str | None = None) -> str | None:
        """How a statement containing ``term`` writes a word analysed as ``term``, lower-cased: the first
        found, or the closest to ``near`` in the first SURFACE_DOCS (``term`` itself when none)."""
        reader = self._s.reader()
        try:
            docs = reader.postings(fname, term).all_ids()
        except Exception:  # noqa: BLE001
            return term
        forms: set[str] = set()
        for docnum, _ in zip(docs, range(SURFACE_DOCS if near else 1), strict=False):
            fields = reader.stored_fields(docnum)
            for text in (fields.get("title") or "", body_text(fields)):
                for mm in WORD.finditer(text):
                    for part in re.split(r"[-‐‑'’ʼ]", mm.group()):
                        if part and normalize(part, lang) == term:
                            if not near:
                                return part.lower()
                            forms.add(part.lower())
        if forms:
            return min(sorted(forms), key=lambda f: distance(fold(near), fold(f)))
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


def _rewrite(compiled: Compiled, typos: Typos) -> None:
    """Add each typo's terms beside the typed word's, in both compiled queries, the highlighted terms and
    (for an unknown word, replaced) the proximity terms; record them in ``typos.terms``."""
    extra: dict[tuple[str, str], dict[str, float]] = {}  # (field, typed term) -> {typo term: boost}
    for w, variants in typos.variants.items():
        for lang in LANGS:
            typed = [t for _, t in analyse_query(w, lang)]
            if len(typed) != 1:
                continue
            highlight, prefixes = compiled.highlight.get(lang, (frozenset(), ()))
            for v, edits in variants:
                term = [t for _, t in analyse_query(v, lang)]
                if len(term) != 1 or term[0] == typed[0]:
                    continue
                boost = 1.0 if w in typos.corrections else TYPO_BOOST
                for kind in ("title", "body"):
                    fname = f"{kind}_{lang}"
                    extra.setdefault((fname, typed[0]), {}).setdefault(term[0], boost)
                    typos.terms.setdefault((fname, term[0]), (w, edits))
                highlight = highlight | {term[0]}
            compiled.highlight[lang] = (frozenset(highlight), prefixes)
    compiled.must_query = _with_typos(compiled.must_query, extra)
    compiled.any_query = _with_typos(compiled.any_query, extra)
    if typos.corrections:
        compiled.proximity = proximity_terms(typos.words(compiled.words))


def _with_typos(q, extra: dict[tuple[str, str], dict[str, float]]):
    """q with each Term of a typed word widened to an Or of it and its typos' terms (boosted lower)."""
    if q is None:
        return None
    if isinstance(q, wq.Term):
        alts = extra.get((q.fieldname, q.text))
        if not alts:
            return q
        return wq.Or([q, *(wq.Term(q.fieldname, t, boost=q.boost * b) for t, b in alts.items())])
    return q.apply(lambda sub: _with_typos(sub, extra))
