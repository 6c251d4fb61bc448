"""Snippets: 1-3 fragments of the body around the words that matched, as spans of text (matched or not).

The words are found by the analysis chain itself (`indexer.analysis.analyzer`, whose tokens carry character
offsets), so what is marked is what the index matched: "cooperation" marks "coopération" and
"coopérations", in the original accented, capitalised text.

A snippet is a `Snippet`: its spans, for each front end to format (`html`, `plain`; the CLI adds colour),
and, as its string value, the HTML form (escaped text, matched words in ``<mark>``): the ``snippet`` field of
the JSON output.
"""

from __future__ import annotations

import html as _html
import re
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from indexer.analysis import JOINERS, LANGS, WORD, normalize, word_tokens

ELLIPSIS = " … "


class Span(NamedTuple):
    """A piece of a snippet's text, and whether it is a word the query matched."""

    text: str
    matched: bool = False


def html(spans: Iterable[Span]) -> str:
    """Spans as HTML: text escaped, matched words in <mark>."""
    return "".join("<mark>" + _html.escape(s.text, quote=False) + "</mark>" if s.matched
                   else _html.escape(s.text, quote=False) for s in spans)


class Snippet(str):
    """A snippet: ``.spans`` to format, and its HTML form (:func:`html`) as the string itself, which is the
    JSON field ``snippet``."""

    spans: tuple[Span, ...]

    def __new__(cls, spans: Iterable[Span] = ()) -> Snippet:
        spans = tuple(s for s in spans if s.text)
        self = super().__new__(cls, html(spans))
        self.spans = spans
        return self

    def __reduce__(self):  # pickled or copied as a snippet, not as its HTML
        return (Snippet, (self.spans,))


def plain(snippet: Snippet) -> str:
    """A snippet as plain text."""
    return "".join(s.text for s in snippet.spans)


Match = tuple[int, int, str]  # start, end, indexed term


def tokens(text: str, lang: str) -> Iterator[Match]:
    """What ``analyzer(lang)(text, chars=True)`` yields, as (start, end, term), a word at a time."""
    for m in WORD.finditer(text):
        base = m.start()
        for t in word_tokens(m.group(), lang):
            yield base + t.start, base + t.end, t.text


def _matches(text: str, lang: str, terms: frozenset, prefixes: tuple, size: int = 0,
             counts: dict[str, int] | None = None) -> list[Match]:
    """(start, end, term) of each word of text whose indexed form is a query term.

    A compound whose whole matched ("COVID-19") is marked whole, else its matching parts are. With size > 0
    the scan stops `size` characters after every term has been seen once: enough for the best fragments,
    and fast on long statements.

    The words that match are found with set operations on the text's distinct words (each word goes through
    the analysis chain once per process, see `_Vocabulary`), then only they are looked for in the text: a
    statement costs a few C-speed passes, not a Python step per word. ``counts`` (each term's number of
    tokens in text, as the index holds them) skips listing the text's words when the words already known to
    give the terms account for every token (:meth:`_Vocabulary.known_occurrences`): the same matches.
    """
    if not terms and not prefixes:
        return []
    known = None
    if counts is not None and not prefixes:
        known = VOCABULARY.known_occurrences(text, lang, terms, counts)
    stop = [-1]  # where the scan may stop (-1: not yet), shared with _scan
    out: list[Match] = []
    found: set[str] = set()
    want = len(terms) + (1 if prefixes else 0)
    for start, word in _scan(text, lang, terms, prefixes, size, stop) if known is None else known:
        first = start + word_tokens(word, lang)[0].start
        if stop[0] >= 0 and first > stop[0] and _word_start(text, first) > stop[0]:
            return out
        marks = _word_hits(word, lang, terms, prefixes)
        if not marks:
            continue
        out.extend((start + s, start + e, n) for s, e, n in marks)
        if size and stop[0] < 0 and out[-1][2] not in found:
            found.add(out[-1][2] if out[-1][2] in terms else "*")
            if len(found) >= want:
                stop[0] = start + len(word) + size
    return out


def _scan(text: str, lang: str, terms: frozenset, prefixes: tuple, size: int,
          stop: list[int]) -> Iterator[tuple[int, str]]:
    """(start, word) of the words of text giving a term or prefix, in order, a chunk at a time: the next
    chunk is listed only while the scan may not stop before it (``stop[0]``, set by the caller)."""
    for lo, hi in _chunks(text, 2000 if size else len(text)):
        hits = VOCABULARY.words_giving(set(WORD.findall(text, lo, hi)), lang, terms, prefixes)
        yield from _occurrences(text, hits, lo, hi)
        if 0 <= stop[0] < hi:
            return


def _chunks(text: str, first: int) -> Iterator[tuple[int, int]]:
    """(start, end) of pieces of text cut at whitespace (no word spans two), the first about ``first``
    characters, each next one twice the last: the matches of most statements are all in the first."""
    lo, size = 0, first
    while lo < len(text):
        m = _SPACE.search(text, min(lo + size, len(text)))
        hi = m.start() if m else len(text)
        yield lo, hi
        lo, size = hi, size * 2


class _Vocabulary:
    """The words already analysed, per language, and for each indexed term the words that give it.

    Bounded: past ``limit`` words in a language it starts afresh (a long-running server reads many
    statements). A lock keeps a learning thread from changing a set another is reading."""

    def __init__(self, limit: int = 400_000) -> None:
        self.limit = limit
        self.seen: dict[str, set[str]] = {}
        self.giving: dict[str, dict[str, set[str]]] = {}
        self.lock = threading.Lock()

    def words_giving(self, words: set[str], lang: str, terms: frozenset, prefixes: tuple) -> list[str]:
        """Those of ``words`` with a token that is one of ``terms`` or starts with one of ``prefixes``.

        A word new to the vocabulary is only analysed when it may give one (:func:`_may_give`); it is
        learnt then, the others are looked at again by the next query that may want them."""
        firsts = frozenset(t[:1] for t in (*terms, *prefixes))
        with self.lock:
            seen = self.seen.get(lang)
            if seen is None or len(seen) > self.limit:
                seen = self.seen[lang] = set()
                self.giving[lang] = {}
            giving = self.giving[lang]
            learnt = [w for w in words - seen if _may_give(w, firsts)]
            for w in learnt:
                for t in word_terms(w, lang):
                    giving.setdefault(t, set()).add(w)
            seen.update(learnt)
            found = set().union(*(giving.get(t, ()) for t in terms)) & words
        if prefixes:
            starts = frozenset(p[:1] for p in prefixes)  # not the terms' letters: only a prefix is looked for
            found.update(w for w in words - found
                         if _may_give(w, starts) and _gives_prefix(w, lang, prefixes))
        return list(found)

    def known_occurrences(self, text: str, lang: str, terms: frozenset,
                          counts: dict[str, int]) -> list[tuple[int, str]] | None:
        """(start, word) of every occurrence in text of the words known to give one of ``terms``, in order;
        None unless they give exactly ``counts[t]`` tokens of each term t (the index's count in this text):
        then no other word of the text gives one, and its words need not be listed."""
        with self.lock:
            giving = self.giving.get(lang)
            if giving is None:
                return None
            words = set().union(*(giving.get(t, ()) for t in terms))
        occ = _occurrences(text, list(words), 0, len(text))
        got = dict.fromkeys(terms, 0)
        for w, n in Counter(w for _, w in occ).items():  # each distinct word's terms once
            for t in word_terms(w, lang):
                if t in got:
                    got[t] += n
        return occ if all(counts.get(t) == n for t, n in got.items()) else None


def word_terms(word: str, lang: str) -> tuple[str, ...]:
    """The indexed terms of one word of ``WORD``: ``word_tokens``'s texts. A word without joiners is one
    token, its normalized form (none for a stopword), so the whole chain is skipped for it: about ten times
    faster, and most new words a query's snippets meet are such words."""
    if JOINERS.search(word) is None:
        term = normalize(word, lang if lang in LANGS else "xx")
        return (term,) if term else ()
    return tuple(t.text for t in word_tokens(word, lang))


@lru_cache(maxsize=100_000)
def _gives_prefix(word: str, lang: str, prefixes: tuple) -> bool:
    """Whether a word has a token starting with one of ``prefixes`` (a query's snippets meet the same words
    again and again: remembered)."""
    return any(t.startswith(prefixes) for t in word_terms(word, lang))


def _may_give(word: str, firsts: frozenset) -> bool:
    """Whether a word may have a token starting with one of the letters ``firsts``. The tokens of a word
    of ASCII letters and digits all start with its first letter, lower-cased (folding is lower-casing there,
    and the stemmers only change a word's end); any other word (accents, joiners) is not guessed at."""
    return not (word.isascii() and word.isalnum()) or word[0].lower() in firsts


VOCABULARY = _Vocabulary()


@lru_cache(maxsize=100_000)
def _word_hits(word: str, lang: str, terms: frozenset, prefixes: tuple) -> tuple[Match, ...]:
    """The tokens of one word to mark: the whole of a compound when it matched, else its matching parts."""
    toks = word_tokens(word, lang)
    if not toks:
        return ()

    def hit(n: str) -> bool:
        return n in terms or bool(prefixes and n.startswith(prefixes))

    marked = toks[:1] if hit(toks[0].text) else [t for t in toks[1:] if hit(t.text)]
    return tuple((t.start, t.end, t.text) for t in marked)


_STARTS = re.compile(r"(?<!\w)(?<!\w[-‐‑'’ʼ])")  # a word of WORD starts here
_ENDS = re.compile(r"(?!\w)(?![-‐‑'’ʼ]\w)")  # and ends here


def _occurrences(text: str, words: list[str], lo: int, hi: int) -> list[tuple[int, str]]:
    """(start, word) of each occurrence of these words as whole words of WORD in text[lo:hi], in order."""
    out = []
    for w in words:
        i = text.find(w, lo, hi)
        while i >= 0:
            if _STARTS.match(text, i) and _ENDS.match(text, i + len(w)):
                out.append((i, w))
            i = text.find(w, i + 1, hi)
    out.sort()
    return out


_WORD_TAIL = re.compile(r"[\w\-‐‑'’ʼ]*\Z")


def _word_start(text: str, i: int) -> int:
    """Where the word holding text[i] starts (before an elided article: "l’" of "l’État")."""
    lo = i - len(_WORD_TAIL.search(text, max(0, i - 64), i).group())
    for m in WORD.finditer(text, lo):
        if m.end() > i:
            return m.start()
    return i


def _marked(text: str, spans: list[Match], start: int = 0, end: int | None = None) -> list[Span]:
    """text[start:end] as spans, the matches inside it marked."""
    end = len(text) if end is None else end
    out = []
    pos = start
    for s, e, _ in spans:
        if s < start or e > end:
            continue
        out.append(Span(text[pos:s]))
        out.append(Span(text[s:e], True))
        pos = e
    out.append(Span(text[pos:end]))
    return out


_SPACE = re.compile(r"\s+")


def _one_line(spans: list[Span]) -> list[Span]:
    """Spans with whitespace runs as one space, and none at either end (matched words hold none)."""
    out = [Span(_SPACE.sub(" ", s.text), s.matched) for s in spans if s.text]
    if out and not out[0].matched:
        out[0] = Span(out[0].text.lstrip())
    if out and not out[-1].matched:
        out[-1] = Span(out[-1].text.rstrip())
    return out


@dataclass
class Snippeter:
    """The snippet strategy: fragment size and count. One instance serves every query."""

    size: int = 200
    max_fragments: int = 3

    def fragments(self, body: str, lang: str, terms: frozenset, prefixes: tuple = ()) -> list[Snippet]:
        """Fragments of the body around matches; [] when nothing in the body matches."""
        return [Snippet(f) for f in self._fragment_spans(body, lang, terms, prefixes)]

    def _fragment_spans(self, body: str, lang: str, terms: frozenset, prefixes: tuple,
                        counts: dict[str, int] | None = None) -> list[list[Span]]:
        """The spans of each fragment (a snippet joins them: no HTML made for each fragment on the way)."""
        spans = _matches(body, lang, terms, prefixes, self.size, counts)
        if not spans:
            return []
        chosen: list[tuple[int, int]] = []
        seen_terms: set[str] = set()
        candidates = self._windows(body, spans)
        # Best window first, then others only while they show terms not shown yet.
        for _score, ws, we, wterms in sorted(candidates, key=lambda c: (-c[0], c[1])):
            if len(chosen) >= self.max_fragments:
                break
            if any(ws < ce and cs < we for cs, ce in chosen):
                continue
            if chosen and not (wterms - seen_terms):
                continue
            chosen.append((ws, we))
            seen_terms |= wterms
        chosen.sort()
        out = []
        for i, (ws, we) in enumerate(chosen):
            frag = _one_line(_marked(body, spans, ws, we))
            if i == 0 and ws > 0 and body[ws - 1] != "\n":
                frag.insert(0, Span("… "))
            if i == len(chosen) - 1 and we < len(body) and body[we] != "\n":
                frag.append(Span(" …"))
            out.append(frag)
        return out

    def _windows(self, body: str, spans: list[Match]) -> list[tuple[int, int, int, frozenset]]:
        """Candidate windows (score, start, end, terms) anchored a little before each match."""
        size = self.size
        out = []
        n = len(spans)
        for i, (s, _e, _t) in enumerate(spans):
            # paragraph bounds: a fragment does not run across paragraphs
            pstart = body.rfind("\n", 0, s) + 1
            pend = body.find("\n", s)
            if pend < 0:
                pend = len(body)
            ws = max(pstart, s - size // 4)
            we = min(pend, ws + size)
            if we - ws < size:  # short paragraph end: extend backwards
                ws = max(pstart, we - size)
            ws, we = _word_bounds(body, ws, we, pstart, pend)
            terms = set()
            count = 0
            j = i
            while j < n and spans[j][0] < we:
                if spans[j][1] <= we:
                    terms.add(spans[j][2])
                    count += 1
                j += 1
            k = i - 1
            while k >= 0 and spans[k][0] >= ws:
                terms.add(spans[k][2])
                count += 1
                k -= 1
            out.append((len(terms) * 10 + min(count, 5), ws, we, frozenset(terms)))
        return out

    def snippet(self, body: str, title: str, lang: str, terms: frozenset, prefixes: tuple = (),
                counts: dict[str, int] | None = None) -> Snippet:
        """The snippet of a statement: body fragments, else the marked title, else the body's start.
        ``counts``: each term's number of tokens in the body, as the index holds them (optional: a
        shortcut, see :func:`_matches`)."""
        frags = self._fragment_spans(body, lang, terms, prefixes, counts)
        if frags:
            joined: list[Span] = []
            for i, frag in enumerate(frags):
                if i:
                    joined.append(Span(ELLIPSIS))
                joined.extend(frag)
            return Snippet(joined)
        tspans = _matches(title, lang, terms, prefixes)
        if tspans:
            return Snippet(_marked(title, tspans))
        return self.lead(body)

    def lead(self, body: str) -> Snippet:
        """The first ~size characters of the body, cut at a word boundary."""
        if len(body) <= self.size:
            return Snippet([Span(_SPACE.sub(" ", body).strip())])
        cut = body.rfind(" ", 0, self.size)
        if cut < self.size // 2:
            cut = self.size
        return Snippet([Span(_SPACE.sub(" ", body[:cut]).strip() + " …")])


def marked(text: str, lang: str, terms: frozenset, prefixes: tuple = ()) -> Snippet:
    """The whole text as one snippet, every word the query matched marked (a statement's page)."""
    return Snippet(_marked(text, _matches(text, lang, terms, prefixes)))


def _word_bounds(text: str, ws: int, we: int, lo: int, hi: int) -> tuple[int, int]:
    """Move window edges to word boundaries, never outside [lo, hi]."""
    if ws > lo and not text[ws - 1].isspace():
        sp = text.find(" ", ws, min(we, ws + 30))
        ws = sp + 1 if sp >= 0 else ws
    if we < hi and not text[we].isspace():
        sp = text.rfind(" ", max(ws, we - 30), we)
        we = sp if sp > ws else we
    return ws, we
