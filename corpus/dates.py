"""Dates: ISO strings from metadata, and printed dates ("3 juillet 2024", "July 3, 2024") from the text."""

from __future__ import annotations

import re
from datetime import date

FR_MONTHS = {
    "janvier": 1,
    "février": 2,
    "fevrier": 2,
    "mars": 3,
    "avril": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "août": 8,
    "aout": 8,
    "septembre": 9,
    "octobre": 10,
    "novembre": 11,
    "décembre": 12,
    "decembre": 12,
}
EN_MONTHS = {
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
# German (folded and not): the NSB's "en" records are sometimes German.
DE_MONTHS = {"januar": 1, "februar": 2, "märz": 3, "marz": 3, "maerz": 3, "juni": 6, "juli": 7, "oktober": 10,
             "dezember": 12}
# Every month name this project reads, lower case (accented and folded): month number.
MONTHS = {**EN_MONTHS, **FR_MONTHS, **DE_MONTHS}

_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})")
_S = r"[\s\u00a0\u202f]+"
_FR = re.compile(
    r"\b(1er|\d{1,2})" + _S + "(" + "|".join(FR_MONTHS) + r")(?:" + _S + r"(\d{4}))?\b", re.IGNORECASE
)
_EN_MDY = re.compile(
    r"\b(" + "|".join(EN_MONTHS) + r")\.?" + _S + r"(\d{1,2})(?:st|nd|rd|th)?"
    r"(?:,?" + _S + r"(\d{4}))?\b",
    re.IGNORECASE,
)
_EN_DMY = re.compile(
    r"\b(\d{1,2})(?:st|nd|rd|th)?" + _S + "(" + "|".join(EN_MONTHS) + r")\.?,?" + _S + r"(\d{4})\b",
    re.IGNORECASE,
)
_DOTTED = re.compile(r"\b(\d{1,2})[./](\d{1,2})[./](\d{4})\b")  # European day.month.year
# A line that announces the publication date: the date found on it wins over any other.
PUBLISHED = re.compile(
    r"^\s*(published|posted|date|updated|publié|publiée|mis en ligne|date de publication)"
    r"\b",
    re.IGNORECASE,
)


def _make(y: int, m: int, d: int) -> str:
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        return ""


def parse_iso(value: str) -> str:
    """ "2020-09-18T12:00:00Z", "2020-09-18", "20200918" → "2020-09-18"; "" when it is not a date."""
    value = (value or "").strip()
    match = _ISO.match(value) or _COMPACT.match(value)
    if match:
        return _make(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    return parse_text_date(value)


def find_dates(text: str, default_year: int | None = None) -> list[tuple[int, str]]:
    """Every printed date in the text as (position, ISO date); a date without a year takes default_year."""
    found: list[tuple[int, str]] = []
    for m in _FR.finditer(text):
        day = 1 if m.group(1).lower() == "1er" else int(m.group(1))
        year = int(m.group(3)) if m.group(3) else default_year
        if year:
            iso = _make(year, FR_MONTHS[m.group(2).lower()], day)
            if iso:
                found.append((m.start(), iso))
    for m in _EN_MDY.finditer(text):
        year = int(m.group(3)) if m.group(3) else default_year
        # "May 5" alone is too ambiguous ("may") unless the year is printed.
        if year and (m.group(3) or m.group(1).lower() != "may"):
            iso = _make(year, EN_MONTHS[m.group(1).lower()], int(m.group(2)))
            if iso:
                found.append((m.start(), iso))
    for m in _EN_DMY.finditer(text):
        iso = _make(int(m.group(3)), EN_MONTHS[m.group(2).lower()], int(m.group(1)))
        if iso:
            found.append((m.start(), iso))
    for m in _DOTTED.finditer(text):
        iso = _make(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        if iso:
            found.append((m.start(), iso))
    found.sort()
    return found


def parse_text_date(text: str, default_year: int | None = None) -> str:
    """The first printed date in a short text, or ""."""
    found = find_dates(text, default_year)
    if found:
        return found[0][1]
    return ""


def parse_with_dateparser(text: str) -> str:
    """Last resort for a "Published ..." line the regexes did not read."""
    import dateparser  # lazy: costs ~1 s at import

    parsed = dateparser.parse(text, languages=["fr", "en"], settings={"STRICT_PARSING": True})
    return parsed.date().isoformat() if parsed else ""


def date_from_text(blocks: list[str], default_year: int | None = None) -> str:
    """The date printed near the top: a "Published …" line first, else a date line in the first blocks."""
    head = blocks[:8]
    for block in head:
        for line in block.split("\n"):
            if PUBLISHED.match(line):
                iso = parse_text_date(line, default_year)
                if not iso and len(line) < 80:
                    iso = parse_with_dateparser(PUBLISHED.sub("", line).strip(" :,-"))
                if iso:
                    return iso
    # A date line on its own ("Berne, le 3 juillet 2024") rather than a date inside a sentence.
    for block in head[:4]:
        if len(block) < 120:
            iso = parse_text_date(block, default_year)
            if iso:
                return iso
    return ""


MAX_DAYS_AHEAD = 366  # a release may be dated a little ahead (embargo); 9999-12-31 is not a date


def too_far_ahead(iso: str, today: date | None = None) -> bool:
    """Whether an ISO date lies more than a year after today: it would pin a statement to the top of feeds."""
    try:
        day = date.fromisoformat(iso)
    except ValueError:
        return False
    return (day - (today or date.today())).days > MAX_DAYS_AHEAD
