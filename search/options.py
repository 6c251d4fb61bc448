"""Search options, validated once for every front end (the CLI, the web app, the library), and the one date
parser of the search side (options ``since``/``until``, the web form, the query's ``date:`` field).

A problem the user can fix is a :class:`SearchError` with one sentence saying what to type instead.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

SORTS = ("relevance", "date")
MAX_LIMIT = 1000
_DATE = re.compile(r"(\d{4})(?:[-/](\d{1,2})(?:[-/](\d{1,2}))?)?")


class SearchError(Exception):
    """A problem the user can fix, in one sentence: no index, bad date, unknown id, bad option."""


class IndexUnavailable(SearchError):
    """The index cannot be read: damaged, or refused (it would run code). Not the query's fault: the web app
    may answer it with a 503 rather than a 400."""


class OptionError(SearchError):
    """A search option out of bounds. ``option`` names it (sort, numbers, recency, since, until; range: since
    after until) for a front end that words the message itself (the web page, in its language)."""

    def __init__(self, message: str, option: str) -> None:
        super().__init__(message)
        self.option = option


def parse_date(text: str, end: bool = False) -> dt.datetime | None:
    """YYYY, YYYY-MM or YYYY-MM-DD (or with /) to the first (or, with end=True, the last) instant it covers.

    Returns None for an empty value or "*"; raises ValueError for anything else that is not a date.
    """
    text = text.strip()
    if text in ("", "*"):
        return None
    m = _DATE.fullmatch(text)
    if not m:
        raise ValueError(text)
    year = int(m.group(1))
    month = int(m.group(2)) if m.group(2) else None
    day = int(m.group(3)) if m.group(3) else None
    if year < 1 or (month is not None and not 1 <= month <= 12):
        raise ValueError(text)
    if not end:
        return dt.datetime(year, month or 1, day or 1)
    if day is not None:
        start = dt.datetime(year, month, day)
        return start.replace(hour=23, minute=59, second=59)
    if month is not None:
        nxt = dt.datetime(year + (month == 12), month % 12 + 1, 1)
    else:
        nxt = dt.datetime(year + 1, 1, 1) if year < 9999 else dt.datetime(9999, 12, 31, 23, 59, 59)
    return nxt - dt.timedelta(seconds=1)


def date_option(value: str | dt.date | None, *, end: bool = False, name: str = "date") -> dt.datetime | None:
    """A since/until value (text as :func:`parse_date` reads it; a datetime or date passes through)."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, *((23, 59, 59) if end else ()))
    try:
        return parse_date(str(value), end=end)
    except (ValueError, OverflowError):
        raise OptionError(f"Bad {name} {value!r}: use YYYY, YYYY-MM or YYYY-MM-DD.", name) from None


@dataclass(frozen=True)
class SearchOptions:
    """One search, checked: build it with :meth:`make`."""

    query: str
    lang: str | None = None
    source: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    sort: str = "relevance"
    limit: int = 10
    page: int = 1
    recency: float = 0.0
    bilingual: bool = False

    @property
    def filtered(self) -> bool:
        return bool(self.lang or self.source or self.since or self.until)

    @classmethod
    def make(cls, query: str | None, *, lang: str | None = None, source: str | None = None,
             since: str | dt.date | None = None, until: str | dt.date | None = None, sort: str = "relevance",
             limit: int = 10, page: int = 1, recency: float | None = 0.0,
             bilingual: bool = False) -> SearchOptions:
        """The options checked and bounded (limit at most MAX_LIMIT); raises SearchError."""
        if sort not in SORTS:
            raise OptionError(f"Unknown sort {sort!r}: use relevance or date.", "sort")
        try:
            limit = int(limit)
            page = int(page)
            recency = float(recency or 0.0)
        except (TypeError, ValueError):
            raise OptionError("limit and page must be whole numbers, recency a number.", "numbers") from None
        if limit < 1 or page < 1:
            raise OptionError("limit and page must be at least 1.", "numbers")
        if not 0.0 <= recency <= 1.0:
            raise OptionError("recency must be between 0 and 1.", "recency")
        start = date_option(since, name="--since date")
        end = date_option(until, end=True, name="--until date")
        if start and end and start > end:
            raise OptionError("The --since date is after the --until date.", "range")
        return cls(query or "", lang or None, source or None, start, end, sort, min(limit, MAX_LIMIT), page,
                   recency, bool(bilingual))
