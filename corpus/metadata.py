"""Metadata from structured markup: <title>, og:*, article:*, dcterms.*, JSON-LD, <html lang>, links."""

from __future__ import annotations

import json
import re
from typing import Any

from bs4 import BeautifulSoup, Tag

from .dates import parse_iso
from .language import normalize_lang

_SPACES = re.compile(r"(?! )\s\s*| \s+")  # \s+ that is not one space already (sub leaves those alone: faster)
_ARTICLE_TYPES = {
    "newsarticle",
    "article",
    "reportagenewsarticle",
    "blogposting",
    "report",
    "pressrelease",
    "analysisnewsarticle",
    "webpage",
}
# Printed release numbers: Yukon's "News release #: 21-100", "Numéro du communiqué : 21-100",
# "Communiqué no 21-100".
RELEASE = re.compile(
    r"(?:news\s+release\s*(?:#|no\.?|number)|num[ée]ro\s+du\s+communiqu[ée]|communiqu[ée]\s*(?:n[o°º]\.?|#))"
    r"\s*:?\s*([0-9]{2,4}[-/][0-9]{1,5}|[0-9]{1,6})",
    re.IGNORECASE,
)


def clean(text: str | None) -> str:
    return _SPACES.sub(" ", text or "").strip()


def _meta_map(tags: list[Tag]) -> dict[str, str]:
    """name/property/itemprop (lower case) → content; the first occurrence wins."""
    metas: dict[str, str] = {}
    for tag in (t for t in tags if t.name == "meta"):
        content = tag.get("content")
        if content is None:
            continue
        for attr in ("property", "name", "itemprop", "http-equiv"):
            key = tag.get(attr)
            if key:
                metas.setdefault(str(key).strip().lower(), clean(str(content)))
    return metas


_LD_JSON = re.compile("ld\\+json", re.I)


def _json_ld(tags: list[Tag]) -> dict[str, Any]:
    """The first Article-like JSON-LD object, or {}."""
    for script in (t for t in tags if t.name == "script" and _LD_JSON.search(str(t.get("type") or ""))):
        try:
            data = json.loads(script.string or "")
        except (ValueError, TypeError):
            continue
        stack = [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                kinds = item.get("@type", "")
                kinds = kinds if isinstance(kinds, list) else [kinds]
                if any(str(k).lower() in _ARTICLE_TYPES for k in kinds):
                    return item
                if "@graph" in item:
                    stack.extend(item["@graph"] if isinstance(item["@graph"], list) else [item["@graph"]])
    return {}


def _name(value: Any) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, dict):
        value = value.get("name", "")
    return clean(str(value)) if value else ""


# Where a page says its date, most explicit first.
_DATE_METAS = ("article:published_time", "dcterms.issued", "dcterms.date", "dc.date", "date", "pubdate",
               "publication_date", "og:published_time", "dc.date.issued")


def read_metadata(soup: BeautifulSoup) -> dict[str, Any]:
    """What the markup says about the page; every key present, "" when the markup is silent."""
    # One walk lists the tags; a bs4 find() per question walked the whole page each time.
    tags = [t for t in soup.descendants if isinstance(t, Tag)]
    metas = _meta_map(tags)
    ld = _json_ld(tags) if _first(tags, "script") else {}
    h1 = _first(tags, "h1")
    h1_text = clean(h1.get_text(" ")) if h1 else ""
    canonical, alternates = _links(tags)
    return {
        "title": _title(tags, metas, ld, h1_text, canonical),
        "h1": h1_text,
        "date": _date(tags, metas, ld),
        "url": canonical
        or metas.get("og:url", "")
        or _name(ld.get("url"))
        or metas.get("archive_capture_url", ""),
        "lang": _declared_lang(tags, metas, ld),
        "source": (
            _name(ld.get("publisher"))
            or metas.get("dcterms.creator")
            or metas.get("author")
            or _name(ld.get("author"))
            or metas.get("og:site_name", "")
        ),
        "place": _name(ld.get("contentLocation")) or _name(ld.get("locationCreated")),
        "release": metas.get("news_release_number", ""),
        "alternates": alternates,
        "description": metas.get("description") or metas.get("og:description", ""),
    }


def _first(tags: list[Tag], name: str) -> Tag | None:
    return next((t for t in tags if t.name == name), None)


def _title(tags: list[Tag], metas: dict[str, str], ld: dict[str, Any], h1_text: str, url: str) -> str:
    title_tag = _first(tags, "title")
    page_title = clean(title_tag.get_text()) if title_tag else ""
    title = (
        metas.get("og:title")
        or metas.get("dcterms.title")
        or metas.get("dc.title")
        or _name(ld.get("headline"))
        or page_title
    )
    # "<h1> - Site name": keep the h1 part, the site name is not the statement's title.
    if h1_text and title != h1_text and title.startswith(h1_text) and len(h1_text) > 10:
        title = h1_text
    title = without_kicker(without_site_name(title, _site_names(metas, ld, url)))
    return title or h1_text


# A title's parts: "Headline - Site", "Site | Headline", "Headline — Site · Section".
_TITLE_PARTS = re.compile(r"\s+(?:[|\-–—·»]|::)\s+")
_NOT_ALNUM = re.compile(r"[\W_]+")
_GENERIC_LABELS = frozenset(("www", "com", "co", "org", "net", "gov", "gouv", "ac", "edu", "blog", "news"))


def _squeeze(text: str) -> str:
    return _NOT_ALNUM.sub("", text.lower())


def _site_names(metas: dict[str, str], ld: dict[str, Any], url: str) -> tuple[set[str], str]:
    """(the site names the page gives, squeezed; the label of its address: "givewell" of blog.givewell.org)"""
    names = {_squeeze(n) for n in (metas.get("og:site_name", ""), metas.get("application-name", ""),
                                    _name(ld.get("publisher"))) if n}
    url = url or metas.get("og:url", "") or _name(ld.get("url"))
    host = re.sub(r"^[a-z][a-z0-9+.-]*://", "", url.lower()).split("/")[0].split(":")[0]
    labels = [label for label in host.split(".")[:-1] if label not in _GENERIC_LABELS]
    return names - {""}, labels[-1] if labels else ""


def without_site_name(title: str, site: tuple[set[str], str]) -> str:
    """The title without the site's name at its end or start ("… - The GiveWell Blog", "… | my6sense")."""
    names, label = site
    parts = _TITLE_PARTS.split(title)
    if len(parts) < 2 or not (names or label):
        return title

    def is_site(part: str, loose: bool) -> bool:
        squeezed = _squeeze(part)
        return bool(squeezed) and (squeezed in names or squeezed == label or loose and len(label) > 2
                                   and label in squeezed and len(part.split()) <= 4)

    # At the end, a name with the address's label in it ("… - The Washington Post"); at the start, only the
    # name itself: "Canada | Budget 2021" on canada.ca is the site's name, "Yukon Forum | …" is not.
    if is_site(parts[-1], True):
        return title[:title.rfind(parts[-1])].rstrip(" |-–—·»:")
    if is_site(parts[0], False):
        return title[len(parts[0]):].lstrip(" |-–—·»:")
    return title


# A kicker over the headline: "BREAKING NEWS: Chelsea …", "EXCLUSIF - …", "WATCH: …".
_KICKER = re.compile(r"^(?:breaking(?:\s+news)?|exclusive|exclusif|watch|live|en\s+direct|direct|update[ds]?|"
                     r"urgent|vid[eé]o|photos?)\s*(?::|\s[|\-–—]|\.)\s+(?=\S.{19})", re.IGNORECASE)


def without_kicker(title: str) -> str:
    return _KICKER.sub("", title, count=1)


def _date(tags: list[Tag], metas: dict[str, str], ld: dict[str, Any]) -> str:
    first, *rest = _DATE_METAS  # JSON-LD's datePublished comes second
    values = [metas.get(first), _name(ld.get("datePublished")), *(metas.get(k) for k in rest)]
    for value in values:
        date = parse_iso(value or "")
        if date:
            return date
    time_tag = next((t for t in tags if t.name == "time" and t.has_attr("datetime")), None)
    return parse_iso(str(time_tag["datetime"])) if time_tag else ""


def _links(tags: list[Tag]) -> tuple[str, dict[str, str]]:
    """The canonical URL and the other-language versions (hreflang -> URL) the page links to."""
    canonical = ""
    alternates: dict[str, str] = {}
    for link in (t for t in tags if t.name == "link" and t.has_attr("href")):
        rel = [r.lower() for r in (link.get("rel") or [])]
        if "canonical" in rel and not canonical:
            canonical = str(link["href"]).strip()
        elif "alternate" in rel and link.get("hreflang"):
            alternates.setdefault(str(link["hreflang"]).strip(), str(link["href"]).strip())
    return canonical, alternates


def _declared_lang(tags: list[Tag], metas: dict[str, str], ld: dict[str, Any]) -> str:
    html = _first(tags, "html")
    declared = (
        normalize_lang(str(html.get("lang") or html.get("xml:lang") or "")) if isinstance(html, Tag) else ""
    )
    return (
        declared
        or normalize_lang(_name(ld.get("inLanguage")))
        or normalize_lang(metas.get("dcterms.language", ""))
        or normalize_lang(metas.get("og:locale", ""))
        or normalize_lang(metas.get("content-language", ""))
    )


_RELEASE_WORDS = ("release", "Release", "RELEASE", "communiqu", "Communiqu", "COMMUNIQU")


def release_from_text(blocks: list[str]) -> str:
    """A printed release number, looked for in the last blocks first (Yukon prints it at the end)."""
    # Label and number may sit in two blocks ("News release #:" then "21-100"): search them joined.
    for part in (blocks[-6:], blocks[:4]):
        text = " ".join(part)
        # The words first (as written, not lower(): a copy of the text): the pattern's search costs ~0.25 ms
        # a statement, and most have no number.
        match = RELEASE.search(text) if any(w in text for w in _RELEASE_WORDS) else None
        if match:
            return match.group(1)
    return ""
