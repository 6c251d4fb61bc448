"""Translation links on search results, and searching across languages through them.

The indexer stores on each statement the id of its other-language version (``translation``, see
:mod:`indexer.linkpass`). The searcher (:mod:`search.results`) fills each hit's ``translations``:
``[{"lang", "id", "url", "title"}]`` (an empty list when none is known) with :func:`translation_of`, and a
bilingual search (``Searcher.search(..., bilingual=True)``) searches both languages and shows each result in
the language asked for with :func:`in_language`: a French query finds an English statement through its
French version (which is what matched), and the other version is listed in ``translations``. Results with
no version in that language are kept as they are (a statement that exists only in the other language is
still found).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

LANG_NAMES = {"en": ("English", "anglais"), "fr": ("French", "français")}


Stored = Callable[[str], dict[str, Any] | None]  # a statement's fields by id, None when unknown


def translation_of(stored: Stored, fields: dict[str, Any]) -> dict[str, Any] | None:
    """The ``translations`` entry for a statement's linked version, or None (``stored``: fields by id)."""
    other = fields.get("translation")
    if not other:
        return None
    of = stored(other)
    if of is None or of.get("duplicate_of"):
        return None
    return {"lang": of.get("lang") or "", "id": of.get("id") or other, "url": of.get("url") or "",
            "title": of.get("title") or ""}


def _as_version(hit: dict[str, Any], lang: str, statement: Stored,
                lead: Callable[[str], str]) -> dict[str, Any]:
    """The hit shown as its ``lang`` version when it has one; the matched version goes to translations."""
    if hit.get("lang") == lang:
        return hit
    other = next((t for t in hit.get("translations", []) if t["lang"] == lang), None)
    if other is None:
        return hit
    st = statement(other["id"])
    if st is None:
        return hit
    return {
        "id": st.get("id"), "url": st.get("url") or "", "title": st.get("title") or "",
        "date": st.get("date") or "", "lang": st.get("lang") or "", "source": st.get("source") or "",
        "place": st.get("place") or "", "score": hit.get("score", 0.0),
        "snippet": lead(st.get("body") or ""), "duplicates": [],
        "translations": [{"lang": hit.get("lang") or "", "id": hit["id"], "url": hit.get("url") or "",
                          "title": hit.get("title") or ""}],
        "matched_in": hit.get("lang") or "",
    }


def in_language(hits: list[dict[str, Any]], lang: str, statement: Stored,
                lead: Callable[[str], str]) -> list[dict[str, Any]]:
    """Each hit shown in ``lang`` when it has a version in it, a statement shown once.

    ``statement``: a statement's fields by id (body as text); ``lead``: the snippet of a body."""
    seen: set[str] = set()
    out = []
    for hit in hits:
        shown = _as_version(hit, lang, statement, lead)
        if shown["id"] in seen:
            continue
        seen.add(shown["id"])
        seen.update(t["id"] for t in shown.get("translations", []))
        out.append(shown)
    return out


def also_in_line(entry: dict[str, Any]) -> str:
    """ "also in English: <title> (<id>)" / "aussi en français : <title> (<id>)" for a translations entry."""
    lang = entry.get("lang") or ""
    en = LANG_NAMES.get(lang, (lang or "another language",))[0]
    title = entry.get("title") or entry.get("id")
    if lang == "fr":
        return f"aussi en français : {title} ({entry.get('id')})"
    return f"also in {en}: {title} ({entry.get('id')})"
