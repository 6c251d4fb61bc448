"""Translation links on search results, and searching across languages through them.

The indexer stores on each statement the id of its other-language version (``translation``, see
:mod:`indexer.linkpass`). Here:

- :func:`attach_link` / :func:`attach_links` fill a hit's ``translations``: ``[{"lang", "id", "url",
  "title"}]`` (an empty list when none is known), from the stored fields of the linked statement;
- :func:`search_bilingual` searches both languages and shows each result in the language asked for: a
  French query finds an English statement through its French version (which is what matched), and the
  other version is listed in ``translations``. Results with no version in that language are kept as they
  are (a statement that exists only in the other language is still found).
"""

from __future__ import annotations

from typing import Any

LANG_NAMES = {"en": ("English", "anglais"), "fr": ("French", "français")}


def _stored(searcher, sid: str) -> dict[str, Any] | None:
    d = searcher._s.document_number(id=str(sid)) if sid else None
    return None if d is None else searcher._s.stored_fields(d)


def translation_of(searcher, fields: dict[str, Any]) -> dict[str, Any] | None:
    """The ``translations`` entry for a statement's linked version, or None."""
    other = fields.get("translation")
    if not other:
        return None
    of = _stored(searcher, other)
    if of is None or of.get("duplicate_of"):
        return None
    return {"lang": of.get("lang") or "", "id": of.get("id") or other, "url": of.get("url") or "",
            "title": of.get("title") or ""}


def attach_link(searcher, hit: dict[str, Any], fields: dict[str, Any] | None = None) -> dict[str, Any]:
    """Fill ``hit["translations"]`` (and make sure ``hit["duplicates"]`` exists); the hit is returned."""
    hit.setdefault("duplicates", [])
    if fields is None:
        fields = _stored(searcher, hit.get("id")) or {}
    entry = translation_of(searcher, fields)
    hit["translations"] = [entry] if entry else []
    return hit


def attach_links(searcher, hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for hit in hits:
        if "translations" not in hit:
            attach_link(searcher, hit)
    return hits


def _as_version(searcher, hit: dict[str, Any], lang: str) -> dict[str, Any]:
    """The hit shown as its ``lang`` version when it has one; the matched version goes to translations."""
    if hit.get("lang") == lang:
        return hit
    other = next((t for t in hit.get("translations", []) if t["lang"] == lang), None)
    if other is None:
        return hit
    st = searcher.statement(other["id"])
    if st is None:
        return hit
    shown = {
        "id": st.get("id"), "url": st.get("url") or "", "title": st.get("title") or "",
        "date": st.get("date") or "", "lang": st.get("lang") or "", "source": st.get("source") or "",
        "place": st.get("place") or "", "score": hit.get("score", 0.0),
        "snippet": searcher.snippeter.lead(st.get("body") or ""), "duplicates": [],
        "translations": [{"lang": hit.get("lang") or "", "id": hit["id"], "url": hit.get("url") or "",
                          "title": hit.get("title") or ""}],
        "matched_in": hit.get("lang") or "",
    }
    return shown


def search_bilingual(searcher, query: str, *, lang: str | None = None, **kwargs):
    """Search both languages; with ``lang``, show each result in that language when it has a version in it.

    Returns the searcher's Results (total and facets count the statements matched in either language)."""
    res = searcher.search(query, lang=None, **kwargs)
    attach_links(searcher, res.hits)
    if lang:
        seen: set[str] = set()
        hits = []
        for hit in res.hits:
            shown = _as_version(searcher, hit, lang)
            if shown["id"] in seen:
                continue
            seen.add(shown["id"])
            seen.update(t["id"] for t in shown.get("translations", []))
            hits.append(shown)
        res.hits = hits
    res.extra["bilingual"] = True
    return res


def also_in_line(entry: dict[str, Any]) -> str:
    """ "also in English: <title> (<id>)" / "aussi en français : <title> (<id>)" for a translations entry."""
    lang = entry.get("lang") or ""
    en = LANG_NAMES.get(lang, (lang or "another language",))[0]
    title = entry.get("title") or entry.get("id")
    if lang == "fr":
        return f"aussi en français : {title} ({entry.get('id')})"
    return f"also in {en}: {title} ({entry.get('id')})"
