"""A whole statement with a query's words marked, for its page: the title and each paragraph as spans
(:class:`search.snippets.Span`), every match numbered in reading order so a page can link one match to the
next. The words are found as snippets find them (the query compiled by :mod:`search.query`, the text read
by the analysis chain of the statement's language), so the page marks what the search matched."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from indexer.analysis import LANGS
from search.query import compile_query
from search.snippets import Span, marked

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


@dataclass
class Part:
    """A piece of a marked text: ``match`` is its number among the statement's matches (1, 2, …), 0 when
    it is not a match."""

    text: str
    match: int = 0


@dataclass
class Highlighted:
    title: list[Part]
    paragraphs: list[list[Part]]
    matches: int = 0  # how many matches, title included
    terms: frozenset = field(default_factory=frozenset)


def paragraphs(body: str) -> list[str]:
    """A body's paragraphs (blank-line separated), single line breaks kept inside one."""
    return [p.strip() for p in _PARAGRAPH_BREAK.split(body or "") if p.strip()]


def highlight_statement(title: str, body: str, lang: str, query: str) -> Highlighted:
    """``title`` and ``body``'s paragraphs with ``query``'s words marked and numbered; nothing marked when
    the query has no words (or only operators and filters)."""
    tl = lang if lang in LANGS else "xx"
    terms, prefixes = compile_query(query).highlight.get(tl, (frozenset(), ())) if query.strip() else (
        frozenset(), ())
    count = 0

    def parts(text: str) -> list[Part]:
        nonlocal count
        out = []
        for span in marked(text, tl, terms, prefixes).spans if (terms or prefixes) else [Span(text)]:
            if span.matched:
                count += 1
            out.append(Part(span.text, count if span.matched else 0))
        return out

    title_parts = parts(title)
    body_parts = [parts(p) for p in paragraphs(body)]
    return Highlighted(title_parts, body_parts, count, frozenset(terms))
