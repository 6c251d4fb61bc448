"""Translation links: which statement is the other-language version of which.

Two ways, both pure functions over Statements returning a symmetric ``{id: other_id}`` map:

- ``explicit_links``: what the sources say. In order of trust: ``<link rel="alternate" hreflang>`` (and any
  language-toggle link the ingester stored in ``Statement.alternates``) pointing at another statement's URL;
  a shared record-id stem (``nsb-3404-fr`` / ``nsb-3404-en``, ``en/2021/x.html`` / ``fr/2021/x.html``); a
  shared printed release number (Yukon's "News release #: 21-100") on the same site within a few days.
- ``content_links``: where nothing says so. Statements of different languages dated within ``days`` of each
  other are compared on language-independent features — numbers, dates, capitalised names (folded), e-mail
  addresses, URLs — weighted by rarity (idf), and paired one-to-one, best score first.

``link_translations`` applies the first, then the second to the statements still unlinked.
"""

from __future__ import annotations

import gc
import math
import re
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from datetime import date

from corpus.dates import MONTHS
from corpus.statement import Statement
from indexer.analysis import fold
from indexer.stopwords import ENGLISH_STOPWORDS, FRENCH_STOPWORDS

# -- explicit links ----------------------------------------------------------------------------------------

# Language codes as they appear in ids and hreflang values.
_LANG_CODES = {"fr": "fr", "fra": "fr", "fre": "fr", "en": "en", "eng": "en", "de": "de", "deu": "de",
               "ger": "de", "it": "it", "ita": "it"}
_ID_PARTS = re.compile(r"([-_./:]+)")
RELEASE_DAYS = 3  # a shared release number links two statements dated at most this many days apart


def _lang(st: Statement) -> str:
    return st.lang or st.declared_lang or ""


def _hreflang(value: str) -> str:
    head = value.strip().lower().replace("_", "-").split("-")[0]
    return _LANG_CODES.get(head, head if len(head) == 2 else "")


def url_key(url: str) -> str:
    """A URL as an identity: no scheme, no "www.", host in lower case, no fragment, no trailing slash."""
    url = url.strip().split("#")[0]
    url = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", url)
    host, _, rest = url.partition("/")
    host = host.lower().removeprefix("www.")
    host = re.sub(r":(80|443)$", "", host)
    return f"{host}/{rest}".rstrip("/")


def _host(url: str) -> str:
    return url_key(url).split("/")[0] if url else ""


def id_stem(ident: str) -> tuple[str, str]:
    """("nsb-3404-{}", "en") for "nsb-3404-en": the id with its (last) language part masked, and the language.

    ("", "") when the id has no part that is a language code.
    """
    parts = _ID_PARTS.split(ident)
    for i in range(len(parts) - 1 - (len(parts) - 1) % 2, -1, -2):  # the words sit at even indices
        lang = _LANG_CODES.get(parts[i].lower())
        if lang:
            return "".join(parts[:i] + ["{}"] + parts[i + 1:]), lang
    return "", ""


def _days_apart(a: str, b: str) -> int | None:
    try:
        return abs((date.fromisoformat(a) - date.fromisoformat(b)).days)
    except ValueError:
        return None


def _pair_groups(groups: dict[str, list[tuple[str, str]]], links: dict[str, str],
                 ok=lambda a, b: True) -> None:
    """Link the two members of each group that holds exactly one statement per language, two languages."""
    for members in groups.values():
        members = [(i, lang) for i, lang in members if i not in links]
        if len(members) != 2:
            continue
        (a, la), (b, lb) = members
        if la != lb and ok(a, b):
            links[a] = b
            links[b] = a


def explicit_links(statements: Iterable[Statement]) -> dict[str, str]:
    """id -> id of the other-language version, from what the sources say (alternates, id stem, release)."""
    sts = {st.id: st for st in statements}
    links: dict[str, str] = {}

    # 1. hreflang alternates / language toggle, pointing at another statement's URL.
    by_url: dict[str, str] = {}
    for st in sts.values():
        if st.url:
            by_url.setdefault(url_key(st.url), st.id)
    proposals: dict[frozenset[str], int] = defaultdict(int)  # pair -> how many of the two point at the other
    for st in sts.values():
        own = _lang(st)
        for hreflang, url in st.alternates.items():
            if not url or _hreflang(hreflang) in ("", own):
                continue
            other = by_url.get(url_key(url))
            if other and other != st.id and _lang(sts[other]) != own:
                proposals[frozenset((st.id, other))] += 1
    # Reciprocated links first; then one-way ones, where neither statement is linked yet.
    for pair, _votes in sorted(proposals.items(), key=lambda kv: (-kv[1], sorted(kv[0]))):
        a, b = sorted(pair)
        if a not in links and b not in links:
            links[a] = b
            links[b] = a

    # 2. A shared id stem: "nsb-3404-fr" / "nsb-3404-en".
    stems: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for st in sts.values():
        stem, lang = id_stem(st.id)
        if stem:
            stems[stem].append((st.id, lang))
    _pair_groups(stems, links)

    # 3. A shared printed release number, on the same site, dated close together.
    releases: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for st in sts.values():
        if st.release:
            releases[f"{_host(st.url)}\x1f{st.release.strip().lower()}"].append((st.id, _lang(st)))

    def close(a: str, b: str) -> bool:
        apart = _days_apart(sts[a].date, sts[b].date)
        return apart is None or apart <= RELEASE_DAYS

    _pair_groups(releases, links, close)
    return links


# -- content links -----------------------------------------------------------------------------------------

_UPPER = "".join(c for c in map(chr, range(0x250)) if c.isupper())
# Separate simple patterns without look-behind: a few fast scans beat one alternation (3x on NSB).
# A number, with the word after it when it may be a month ("9 avril", "1er mars", "9th April", "9. April").
_NUMBER = re.compile(r"(\d+(?:(?:[.,'’/-]|[\u00a0\u202f ](?=\d{3}(?!\d)))\d+)*)"
                     r"(?:(?:er|e|st|nd|rd|th|\.)?\s+([^\W\d_]{3,9}))?")
_NAME = re.compile(rf"[{_UPPER}]\w*(?:[-’']\w+)*")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'()\[\]]+")
# "April 9" (English: a capitalised month first); "9 avril" and "09.04.2021" are read with the numbers.
_DATE_MD = re.compile(r"((?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*)\.?\s+(\d{1,2})(?!\d)")
_DATE_NUM = re.compile(r"(\d{1,2})\.(\d{1,2})\.(?:\d{2}|\d{4})")
_NAME_STOPS = FRENCH_STOPWORDS | ENGLISH_STOPWORDS | frozenset(
    "der die das den dem des ein eine einer und oder mit von fur auf im am zu zum zur bei nach uber aus "
    "ist sind wird werden hat haben".split())
_NON_DIGIT = re.compile(r"\D")
_NUM_PARTS = re.compile(r"[-/]")

# Memo tables: the same names and numbers recur across statements; each is normalised once.
_name_feature: dict[str, str] = {}
_number_features: dict[str, tuple[str, ...]] = {}


def _name_to_feature(word: str) -> str:
    f = _name_feature.get(word)
    if f is None:
        folded = fold(word)
        f = "" if len(folded) < 2 or folded in _NAME_STOPS or folded in MONTHS else "w:" + folded
        if len(_name_feature) < 1_000_000:
            _name_feature[word] = f
    return f


def _number_to_features(value: str) -> tuple[str, ...]:
    fs = _number_features.get(value)
    if fs is None:
        out = ["n:" + (_NON_DIGIT.sub("", value).lstrip("0") or "0")]
        if "-" in value or "/" in value:
            parts = (_NON_DIGIT.sub("", part).lstrip("0") for part in _NUM_PARTS.split(value))
            out += ["n:" + p for p in parts if p]
        date = _DATE_NUM.fullmatch(value)
        if date and 1 <= int(date.group(2)) <= 12:
            out.append(_month_day(int(date.group(2)), date.group(1)) or "")
        fs = tuple(out)
        if len(_number_features) < 1_000_000:
            _number_features[value] = fs
    return fs


def _month_day(month: int, day: str) -> str | None:
    d = int(day)
    return f"d:{month:02d}-{d:02d}" if 1 <= d <= 31 else None


def features(text: str) -> set[str]:
    """Language-independent features of a text: numbers, dates, names, e-mail addresses, URLs.

    "n:" numbers without separators ("1 000", "1,000" and "1’000" are "n:1000"; "2.5" and "2,5" are "n:25"),
    and the parts of hyphenated or slashed ones (phone numbers, ranges); "d:MM-DD" dates written with a month
    name (English, French, German) or as dd.mm.yyyy; "w:" capitalised words, folded, except stopwords;
    "e:" e-mail addresses; "u:" URLs (host, and host with path).
    """
    out = {_name_to_feature(w) for w in set(_NAME.findall(text))}
    out.discard("")
    for value, word in set(_NUMBER.findall(text)):
        out.update(_number_to_features(value))
        if word and len(value) <= 2:
            month = MONTHS.get(word.lower())
            f = _month_day(month, value) if month else None
            if f:
                out.add(f)
    if "@" in text:
        out.update("e:" + e.lower().rstrip(".") for e in _EMAIL.findall(text))
    if "http" in text or "www." in text:
        for url in _URL.findall(text):
            key = url_key(url.rstrip(".,;:!?»”"))
            out.add("u:" + key)
            out.add("u:" + key.split("/")[0])
    for word, day in _DATE_MD.findall(text):
        month = MONTHS.get(word.lower())
        f = _month_day(month, day) if month else None
        if f:
            out.add(f)
    out.discard("")
    return out


def statement_features(st: Statement) -> set[str]:
    return features(f"{st.title}\n{st.source}\n{st.place}\n{st.body}")


def feature_hashes(st: Statement) -> bytes:
    """``statement_features`` as packed int64 hashes: a compact stand-in for ``content_links(features=...)``.
    Python's str hash: valid within one process and the processes it forks (not to be stored)."""
    return array("q", sorted({hash(f) for f in statement_features(st)})).tobytes()


def _unpack(data: bytes) -> array:
    return array("q", data)


def _day(value: str) -> int | None:
    try:
        return date.fromisoformat(value).toordinal()
    except ValueError:
        return None


MIN_SCORE = 0.08  # below this a best match is more often wrong than right (measured on yukon and nsb)
DAY_PENALTY = 0.9  # a candidate one day apart scores 0.9 of the same-day score
RARE_DF = 50  # undated statements: candidates are those sharing a feature at most this frequent


def content_links(statements: Iterable[Statement], *, days: int = 1, min_score: float = MIN_SCORE,
                  features: Mapping[str, bytes] | None = None) -> dict[str, str]:
    """id -> id of the other-language version, from content only (dates, numbers, names, addresses).

    Candidates: statements of different languages dated at most `days` apart (undated ones: those sharing a
    rare feature). Score: idf-weighted Dice overlap of their feature sets, times DAY_PENALTY per day apart.
    Pairs are taken best first, each statement at most once, down to `min_score`.

    ``features``: id -> ``feature_hashes`` of the statement, computed beforehand (its body is then not read);
    when given, the statements it lacks are hashed the same way.
    """
    sts = [st for st in statements]
    n = len(sts)
    if n < 2:
        return {}
    gc_was_enabled = gc.isenabled()
    gc.disable()  # many new sets and strings: the cyclic GC would rescan them over and over
    try:
        return _content_links(sts, n, days, min_score, features)
    finally:
        if gc_was_enabled:
            gc.enable()


def _content_links(sts: list[Statement], n: int, days: int, min_score: float,
                   pre: Mapping[str, bytes] | None = None) -> dict[str, str]:
    if pre is None:
        feats: list = [statement_features(st) for st in sts]
    else:  # packed hashes, unpacked as arrays (a set is built only of the features shared with another)
        feats = [_unpack(pre[st.id] if st.id in pre else feature_hashes(st)) for st in sts]
    df, idf, weights, kept = _feature_weights(feats, n)
    del feats
    langs = [_lang(st) for st in sts]
    scored: list[tuple[float, int, int]] = []
    for i, j, apart in _candidate_pairs(sts, kept, df, days):
        if langs[i] == langs[j] and langs[i]:
            continue
        shared = kept[i] & kept[j]
        if not shared:
            continue
        s = 2.0 * sum(idf[f] for f in shared) / (weights[i] + weights[j]) * DAY_PENALTY ** apart
        if s >= min_score:
            scored.append((s, i, j))
    # The best pairs first; each statement is linked once.
    scored.sort(key=lambda t: (-t[0], t[1], t[2]))
    links: dict[str, str] = {}
    for _s, i, j in scored:
        a, b = sts[i].id, sts[j].id
        if a not in links and b not in links:
            links[a] = b
            links[b] = a
    return links


def _feature_weights(feats: list, n: int) -> tuple[dict, dict, list[float], list[set]]:
    """Document frequencies, idf of the features shared by two statements or more, each statement's total
    weight, and its shared features (features seen once can never be shared: dropped, but their weight
    stays in the statement's total)."""
    df: dict = defaultdict(int)
    for fs in feats:
        for f in fs:
            df[f] += 1
    # Smoothed idf, log(1 + N/df): stays positive in a tiny collection where every feature is in every text.
    logn = math.log(1 + n)
    idf = {f: math.log(1 + n / c) for f, c in df.items() if c > 1}
    weights, kept = [], []
    for fs in feats:
        total = 0.0
        keep = set()
        for f in fs:
            w = idf.get(f)
            if w is None:
                total += logn
            else:
                total += w
                keep.add(f)
        weights.append(total)
        kept.append(keep)
    return df, idf, weights, kept


def _candidate_pairs(sts: list[Statement], kept: list[set], df: dict,
                     days: int) -> Iterator[tuple[int, int, int]]:
    """(i, j, days apart) of the statements that may be versions of each other: dated within ``days`` of
    each other; an undated one with any statement sharing a rare feature (counted ``days`` apart)."""
    by_day: dict[int, list[int]] = defaultdict(list)
    undated = []
    for i, st in enumerate(sts):
        d = _day(st.date)
        if d is None:
            undated.append(i)
        else:
            by_day[d].append(i)
    for d, members in by_day.items():
        for k, i in enumerate(members):
            for j in members[k + 1:]:
                yield i, j, 0
        for delta in range(1, days + 1):
            for j in by_day.get(d + delta, ()):
                for i in members:
                    yield i, j, delta
    if not undated:
        return
    postings: dict[str, list[int]] = defaultdict(list)
    for i, fs in enumerate(kept):
        for f in fs:
            if df[f] <= RARE_DF:
                postings[f].append(i)
    for i in undated:
        seen: set[int] = set()
        for f in kept[i]:
            if df[f] <= RARE_DF:
                seen.update(postings[f])
        for j in seen:
            if j != i and (_day(sts[j].date) is not None or j > i):
                yield i, j, days


def link_translations(statements: Iterable[Statement], *, days: int = 1,
                      features: Mapping[str, bytes] | None = None) -> dict[str, str]:
    """Explicit links first; content links for the statements the sources say nothing about (``features``:
    see ``content_links``)."""
    sts = list(statements)
    links = explicit_links(sts)
    rest = [st for st in sts if st.id not in links]
    links.update(content_links(rest, days=days, features=features))
    return links


__all__ = ["content_links", "explicit_links", "feature_hashes", "features", "id_stem", "link_translations",
           "statement_features", "url_key"]
