"""Snippets: 1-3 fragments of the body around the words that matched, marked with <mark>.

Matching reuses the analysis chain word by word (`indexer.analysis.split_word` and the cached `normalize`),
so what is marked is what the index matched: "cooperation" marks "coopération" and "coopérations", in the
original accented, capitalised text. Everything else is HTML-escaped.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from indexer.analysis import JOINERS, WORD, normalize, split_word

ELLIPSIS = " … "


def _matches(text: str, lang: str, terms: frozenset, prefixes: tuple,
             size: int = 0) -> list[tuple[int, int, str]]:
    """(start, end, term) of each word of text whose indexed form is a query term.

    With size > 0 the scan stops `size` characters after every term has been seen once: enough for the
    best fragments, and fast on long statements.
    """
    if not terms and not prefixes:
        return []
    out = []
    found: set[str] = set()
    want = len(terms) + (1 if prefixes else 0)
    stop = -1
    search_joiner = JOINERS.search
    for m in WORD.finditer(text):
        if stop >= 0 and m.start() > stop:
            break
        word = m.group()
        if search_joiner(word):
            whole, parts = split_word(word, lang)
            offset = word.find(whole) if whole else 0
            n = normalize(JOINERS.sub("", whole), lang) if whole else ""
            if n and _hit(n, terms, prefixes):
                out.append((m.start() + offset, m.start() + offset + len(whole), n))
            else:
                if not parts and whole:
                    parts = [(offset, whole)]
                for off, part in parts:
                    n = normalize(part, lang)
                    if n and _hit(n, terms, prefixes):
                        out.append((m.start() + off, m.start() + off + len(part), n))
        else:
            n = normalize(word, lang)
            if n and (n in terms or (prefixes and n.startswith(prefixes))):
                out.append((m.start(), m.end(), n))
        if size and stop < 0 and out and out[-1][2] not in found:
            found.add(out[-1][2] if out[-1][2] in terms else "*")
            if len(found) >= want:
                stop = m.end() + size
    return out


def _hit(n: str, terms: frozenset, prefixes: tuple) -> bool:
    return n in terms or (bool(prefixes) and n.startswith(prefixes))


def mark(text: str, spans: list[tuple[int, int, str]], start: int = 0, end: int | None = None) -> str:
    """Escape text[start:end], wrapping the spans inside it in <mark>."""
    end = len(text) if end is None else end
    out = []
    pos = start
    for s, e, _ in spans:
        if s < start or e > end:
            continue
        out.append(html.escape(text[pos:s], quote=False))
        out.append("<mark>" + html.escape(text[s:e], quote=False) + "</mark>")
        pos = e
    out.append(html.escape(text[pos:end], quote=False))
    return "".join(out)


_SPACE = re.compile(r"\s+")


@dataclass
class Snippeter:
    """The snippet strategy: fragment size and count. One instance serves every query."""

    size: int = 200
    max_fragments: int = 3

    def fragments(self, body: str, lang: str, terms: frozenset, prefixes: tuple = ()) -> list[str]:
        """HTML fragments of the body around matches; [] when nothing in the body matches."""
        spans = _matches(body, lang, terms, prefixes, self.size)
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
            frag = _SPACE.sub(" ", mark(body, spans, ws, we)).strip()
            if i == 0 and ws > 0 and body[ws - 1] != "\n":
                frag = "… " + frag
            if i == len(chosen) - 1 and we < len(body) and body[we] != "\n":
                frag = frag + " …"
            out.append(frag)
        return out

    def _windows(self, body: str, spans):
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

    def snippet(self, body: str, title: str, lang: str, terms: frozenset, prefixes: tuple = ()) -> str:
        """The HTML snippet of a statement: body fragments, else the marked title, else the body's start."""
        frags = self.fragments(body, lang, terms, prefixes)
        if frags:
            return ELLIPSIS.join(frags) if len(frags) > 1 else frags[0]
        tspans = _matches(title, lang, terms, prefixes)
        if tspans:
            return mark(title, tspans)
        return self.lead(body)

    def lead(self, body: str) -> str:
        """The first ~size characters of the body, cut at a word boundary, escaped."""
        if len(body) <= self.size:
            return html.escape(_SPACE.sub(" ", body).strip(), quote=False)
        cut = body.rfind(" ", 0, self.size)
        if cut < self.size // 2:
            cut = self.size
        return html.escape(_SPACE.sub(" ", body[:cut]).strip(), quote=False) + " …"


def _word_bounds(text: str, ws: int, we: int, lo: int, hi: int) -> tuple[int, int]:
    """Move window edges to word boundaries, never outside [lo, hi]."""
    if ws > lo and not text[ws - 1].isspace():
        sp = text.find(" ", ws, min(we, ws + 30))
        ws = sp + 1 if sp >= 0 else ws
    if we < hi and not text[we].isspace():
        sp = text.rfind(" ", max(ws, we - 30), we)
        we = sp if sp > ws else we
    return ws, we


def plain(snippet_html: str) -> str:
    """A snippet as plain text: marks removed, entities unescaped."""
    return html.unescape(snippet_html.replace("<mark>", "").replace("</mark>", ""))
