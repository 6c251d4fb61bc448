"""The statement: what the ingester hands to the indexer, and the problems it reports on the way."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Statement:
    """One press statement, cleaned. Every text field is NFC Unicode, typography kept as published."""

    id: str
    origin: str  # input file, plus ":<line>" for a JSON Lines record or "@<offset>" for a WARC record
    title: str
    body: str  # paragraphs separated by blank lines ("\n\n")
    lang: str  # "fr", "en", or the detected ISO 639-1 code of another language
    url: str = ""
    date: str = ""  # ISO date YYYY-MM-DD, "" when unknown
    source: str = ""  # issuing body
    place: str = ""
    content_hash: str = ""
    declared_lang: str = ""  # what the record or <html lang> said, kept for reports
    alternates: dict[str, str] = field(default_factory=dict)  # hreflang -> URL
    release: str = ""  # a release number printed on the page ("21-100"), when there is one
    # Furniture (see corpus/furniture.py): kept and shown, never part of the body nor indexed as it.
    contacts: list[str] = field(default_factory=list)  # media contact blocks: names, phones, e-mails
    dateline: str = ""  # "Published April 14, 2020", "Ottawa, le 9 mars 2020"
    quick_facts: list[str] = field(default_factory=list)  # the facts under a "Quick facts"/"En bref" heading
    related_links: list[str] = field(default_factory=list)  # the items of a "Related links" list
    credits: list[str] = field(default_factory=list)  # photo captions and credits, agency credit lines
    extraction: str = ""  # why a wider block than the main content was taken, when it was
    extra: dict[str, Any] = field(default_factory=dict)  # unknown record fields, kept aside

    def __post_init__(self) -> None:
        if not self.content_hash:
            furniture = [*self.contacts, self.dateline, *self.related_links, *self.credits]
            # Only when there is some: a statement without furniture keeps the hash it always had.
            extra = ("\x1e".join(furniture),) if any(furniture) else ()
            self.content_hash = content_hash(self.title, self.body, self.date, self.lang, self.source,
                                             self.url, self.place, *extra)

    def to_dict(self) -> dict[str, Any]:
        # Not dataclasses.asdict: its deep copy was a tenth of `presse extract --json`; lists and dicts are
        # copied one level, which is all a caller may change.
        return {name: (value.copy() if isinstance(value, list | dict) else value)
                for name, value in ((f, getattr(self, f)) for f in self.__dataclass_fields__)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Statement:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


def content_hash(*parts: str) -> str:
    """A short stable digest of what a reader sees; it changes when any visible field changes."""
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(part.encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()


@dataclass
class Problem:
    """One input (or one record of it) that could not be turned into a statement, or a warning about one."""

    path: str
    reason: str
    line: int | None = None  # JSON Lines line number
    offset: int | None = None  # WARC record offset
    kind: str = "skipped"  # "skipped" (nothing produced) or "warning" (a statement was produced anyway)
    # The input may hold statements that were not read because of this problem (a record that could not be
    # decoded, a file cut short, a read error): the indexer keeps what that input gave before, never deletes.
    incomplete: bool = False

    def where(self) -> str:
        if self.line is not None:
            return f"{self.path}:{self.line}"
        if self.offset is not None:
            return f"{self.path}@{self.offset}"
        return self.path

    def __str__(self) -> str:
        return f"{self.where()}: {self.reason}"
