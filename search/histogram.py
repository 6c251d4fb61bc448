"""The date histogram of a result set: how many of its documents fall in each month, or each year when the
dates span more than MONTHS_MAX months. Like the facets, it counts every match (not one page) and every
version (a statement in French and in English counts twice, as in the year facet).

The result is a plain dict, the ``histogram`` key of the ``--json`` object and of ``/api/search``::

    {"unit": "month" | "year" | null, "bins": [{"key": "2020-03", "since": "2020-03-01",
     "until": "2020-03-31", "count": 12}, ...], "undated": 0}

Bins are in date order, oldest first; the empty bins between the first and the last are listed too (with
count 0), unless that would be more than MAX_BINS. ``since``/``until`` are the bin's first and last day,
ready to narrow a search to it.
"""

from __future__ import annotations

import calendar
from typing import Any

import numpy as np

from search.ranking import NO_DATE, UNIX_EPOCH_TICKS

MONTHS_MAX = 36  # a span up to 3 years: one bar a month; longer: one bar a year
MAX_BINS = 200  # beyond, the empty bins between are left out


def empty_histogram() -> dict[str, Any]:
    return {"unit": None, "bins": [], "undated": 0}


def date_histogram(ticks: np.ndarray) -> dict[str, Any]:
    """The histogram of some documents' dates (Whoosh ticks: microseconds since 0001-01-01; -1: none)."""
    ticks = np.asarray(ticks, dtype=np.int64)
    dated = ticks[ticks != NO_DATE]
    out = empty_histogram()
    out["undated"] = int(len(ticks) - len(dated))
    if not len(dated):
        return out
    months = (dated - UNIX_EPOCH_TICKS).astype("datetime64[us]").astype("datetime64[M]").astype(np.int64)
    lo, hi = int(months.min()), int(months.max())
    if hi - lo + 1 <= MONTHS_MAX:
        unit, keys, first = "month", months - lo, lo
    else:
        years = months // 12
        unit, keys, first = "year", years - years.min(), int(years.min())
    counts = np.bincount(keys)
    steps = range(len(counts)) if len(counts) <= MAX_BINS else np.flatnonzero(counts).tolist()
    out["unit"] = unit
    out["bins"] = [_bin(unit, first + i, int(counts[i])) for i in steps]
    return out


def _bin(unit: str, n: int, count: int) -> dict[str, Any]:
    """One bin: ``n`` months (or years) after 1970-01."""
    if unit == "year":
        y = f"{1970 + n:04d}"
        return {"key": y, "since": f"{y}-01-01", "until": f"{y}-12-31", "count": count}
    year, month = 1970 + n // 12, n % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return {"key": f"{year:04d}-{month:02d}", "since": f"{year:04d}-{month:02d}-01",
            "until": f"{year:04d}-{month:02d}-{last:02d}", "count": count}
