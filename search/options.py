"""Search options, validated once for every front end (the CLI, the web app, the library), and the one date
parser of the search side (options ``since``/``until``, the web form, the query's ``date:`` field).

A problem the user can fix is a :class:`SearchError` with one sentence saying what to type instead.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
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


FACET_FILTERS = ("lang", "source", "year")  # the facets a search can narrow to (any of several) or exclude
_LAST = re.compile(r"([1-9]\d{0,2})([dwmy])")
_YEAR = re.compile(r"\d{4}")
Values = str | int | Iterable[str | int] | None  # one value, or several


def facet_values(value: Values) -> tuple[str, ...]:
    """One value or several as a tuple of non-empty, stripped strings, each once, in the order given."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str | int) else list(value)
    out: dict[str, None] = {}
    for item in items:
        text = str(item).strip()
        if text:
            out[text] = None
    return tuple(out)


def _years(value: Values, name: str) -> tuple[int, ...]:
    years = facet_values(value)
    bad = [y for y in years if not _YEAR.fullmatch(y)]
    if bad:
        raise OptionError(f"Bad {name} {bad[0]!r}: use a year, YYYY.", name)
    return tuple(int(y) for y in years)


def last_since(last: str, today: dt.date | None = None) -> dt.datetime:
    """The start of a relative range: "7d", "30d", "2w", "12m", "1y" (days, weeks, months, years) before
    ``today`` (default: the local date). Raises OptionError."""
    m = _LAST.fullmatch(last.strip().lower())
    if not m:
        raise OptionError(f"Bad last {last!r}: use a number and d, w, m or y, e.g. 7d, 30d, 12m.", "last")
    n, unit = int(m.group(1)), m.group(2)
    today = today or dt.date.today()
    if unit in "dw":
        start = today - dt.timedelta(days=n * (7 if unit == "w" else 1))
    else:
        months = today.year * 12 + today.month - 1 - n * (12 if unit == "y" else 1)
        year, month = divmod(months, 12)
        month += 1
        last_day = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
        start = dt.date(year, month, min(today.day, last_day))
    return dt.datetime(start.year, start.month, start.day)


@dataclass(frozen=True)
class SearchOptions:
    """One search, checked: build it with :meth:`make`.

    Facet filters: ``lang`` and ``source`` hold the one language or source asked for; several (any of them:
    OR within a facet) are in ``langs`` and ``sources`` (then ``lang``/``source`` are None). ``years``: any
    of these years. ``not_lang``, ``not_source``, ``not_year``: none of these. Different facets combine
    with AND. ``last`` ("30d"): the relative range asked for, already applied to ``since``."""

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
    langs: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    not_lang: tuple[str, ...] = ()
    not_source: tuple[str, ...] = ()
    not_year: tuple[int, ...] = ()
    last: str | None = None

    @property
    def lang_values(self) -> tuple[str, ...]:
        """The languages asked for (any of them): ``lang``, or ``langs``."""
        return (self.lang,) if self.lang else self.langs

    @property
    def source_values(self) -> tuple[str, ...]:
        return (self.source,) if self.source else self.sources

    @property
    def filtered(self) -> bool:
        return bool(self.lang_values or self.source_values or self.since or self.until or self.years
                    or self.not_lang or self.not_source or self.not_year)

    @classmethod
    def make(cls, query: str | None, *, lang: Values = None, source: Values = None,
             since: str | dt.date | None = None, until: str | dt.date | None = None, sort: str = "relevance",
             limit: int = 10, page: int = 1, recency: float | None = 0.0,
             bilingual: bool = False, year: Values = None, not_lang: Values = None, not_source: Values = None,
             not_year: Values = None, last: str | None = None) -> SearchOptions:
        """The options checked and bounded (limit at most MAX_LIMIT); raises SearchError. ``lang``,
        ``source``, ``year`` and the ``not_`` filters take one value or several."""
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
        last = (last or "").strip().lower() or None
        if last:  # the later of the two starts: both ranges hold
            start = max(start, last_since(last)) if start else last_since(last)
        if start and end and start > end:
            raise OptionError("The --since date is after the --until date.", "range")
        langs = tuple(v.lower() for v in facet_values(lang))
        sources = facet_values(source)
        return cls(query or "", langs[0] if len(langs) == 1 else None,
                   sources[0] if len(sources) == 1 else None, start, end, sort, min(limit, MAX_LIMIT), page,
                   recency, bool(bilingual), langs=langs if len(langs) > 1 else (),
                   sources=sources if len(sources) > 1 else (), years=_years(year, "year"),
                   not_lang=tuple(v.lower() for v in facet_values(not_lang)),
                   not_source=facet_values(not_source), not_year=_years(not_year, "not_year"), last=last)
