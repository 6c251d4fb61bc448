"""A request's search parameters: read from the URL, checked by the search layer's own
:class:`search.options.SearchOptions` (dates, sort, recency, date range), within the page's tighter bounds
(query length, results per page, pages); a bad one is a :class:`BadParameter`, worded in the interface
language."""

from __future__ import annotations

import re
from typing import Any

from search.options import OptionError, SearchOptions, date_option, facet_values
from search.web.i18n import MESSAGES
from search.web.urls import DEFAULT_LIMIT

MAX_QUERY = 500  # characters
MAX_LIMIT = 50  # results per page
MAX_PAGE = 1000
MAX_SOURCE = 200  # characters
_YES, _NO = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")
_LANG_CODE = re.compile(r"[a-z]{2,3}")
MAX_VALUES = 20  # values of one facet filter
FACET_PARAMS = ("lang", "source", "year", "not_lang", "not_source", "not_year")
_CHECKS = {"lang": lambda v: bool(_LANG_CODE.fullmatch(v.lower())), "source": lambda v: len(v) <= MAX_SOURCE,
           "year": lambda v: bool(re.fullmatch(r"\d{4}", v))}


class BadParameter(Exception):
    """A request parameter out of bounds: answered with a 400 whose text is in the interface language."""

    def __init__(self, key: str, **fields: Any) -> None:
        super().__init__(key)
        self.key = key
        self.fields = fields

    def message(self, ui: str) -> str:
        return MESSAGES[ui][self.key].format(**self.fields)


def parse_params(args: Any, default_limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
    """The search parameters of a request (``args``: the query string), checked and bounded, as the page
    shows them (dates as YYYY-MM-DD; the facet filters lang, source, year and their ``not_`` forms as lists,
    a parameter repeated for several values); raises BadParameter."""
    q = _text(args, "q")
    if len(q) > MAX_QUERY:
        raise BadParameter("bad_query", n=len(q), max=MAX_QUERY)
    facets = {name: _values(args, name) for name in FACET_PARAMS}
    since, until = _date(args, "since", end=False), _date(args, "until", end=True)
    sort = _text(args, "sort").lower() or ("relevance" if q else "date")
    limit = parse_int("limit", args.get("limit"), default_limit, MAX_LIMIT)
    page = parse_int("page", args.get("page"), 1, MAX_PAGE)
    recency, recency_text = _number(args, "recency"), _text(args, "recency")
    bilingual = _flag(args, "bilingual")
    last = _text(args, "last").lower()
    try:
        opts = SearchOptions.make(q, since=since, until=until, sort=sort, limit=limit, page=page,
                                  recency=recency, bilingual=bilingual, last=last, **facets)
    except OptionError as exc:
        raise _bad_option(exc, sort=sort, recency=recency_text, since=since, until=until, last=last) from None
    return {"q": q, **facets, "since": _iso(since), "until": _iso(opts.until), "last": opts.last or "",
            "sort": opts.sort, "limit": limit, "page": page, "recency": opts.recency,
            "bilingual": opts.bilingual}


def _values(args: Any, name: str) -> list[str]:
    """A facet filter's values: the parameter repeated (``source=a&source=b``), each checked."""
    raw = args.getlist(name) if hasattr(args, "getlist") else args.get(name)
    values = list(facet_values(raw))
    if len(values) > MAX_VALUES:
        raise BadParameter("bad_param", name=name, value=f"{len(values)} values (at most {MAX_VALUES})")
    for value in values:
        check = _CHECKS[name.removeprefix("not_")]
        if not check(value):
            raise BadParameter("bad_param", name=name, value=value[:20] + ("…" if len(value) > 20 else ""))
    return [v.lower() for v in values] if name.endswith("lang") else values


def _bad_option(exc: OptionError, **given: Any) -> BadParameter:
    """The page's message for what SearchOptions refused."""
    if exc.option == "sort":
        return BadParameter("bad_sort", value=given["sort"][:20])
    if exc.option == "range":
        return BadParameter("bad_range", since=_iso(given["since"]), until=_iso(given["until"]))
    if exc.option in ("recency", "last"):
        return BadParameter("bad_param", name=exc.option, value=given[exc.option][:20])
    return BadParameter("bad_search", reason=str(exc))


def _text(args: Any, name: str) -> str:
    return (args.get(name) or "").strip()


def _iso(when: Any) -> str:
    return when.date().isoformat() if when else ""


def _date(args: Any, name: str, end: bool) -> Any:
    """YYYY, YYYY-MM or YYYY-MM-DD, read by the search layer's one date parser."""
    value = _text(args, name)
    try:
        when = date_option(value, end=end, name=name)
    except OptionError:
        when = None
    if value and when is None:  # "*" too: an open bound is an empty field here
        raise BadParameter("bad_date", value=value)
    return when


def parse_int(name: str, value: str | None, default: int, hi: int) -> int:
    """A whole number from 1 to ``hi`` (``default`` when absent)."""
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= hi:
        raise BadParameter("bad_int", name=name, lo=1, hi=hi, value=value)
    return number


def _number(args: Any, name: str) -> float:
    text = _text(args, name)
    try:
        return float(text) if text else 0.0
    except ValueError:
        raise BadParameter("bad_param", name=name, value=text[:20]) from None


def _flag(args: Any, name: str) -> bool:
    text = _text(args, name).lower()
    if text not in _YES + _NO:
        raise BadParameter("bad_param", name=name, value=text[:20])
    return text in _YES
