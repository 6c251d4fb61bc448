"""Translation links and duplicate groups, kept up to date by each ``presse index`` run (in its one commit).

Stored per statement (see :mod:`indexer.schema`):

- ``translation``: the id of its other-language version ("" when none is known);
- ``group``: its duplicate group. A statement alone keeps its own key (``indexer.documents.group_key``:
  folded title + date); the members of a near-duplicate group (``duplicates.near_duplicate_groups``, or
  same folded title on the same day) all take the key of the group's canonical statement;
- ``exact``: :func:`indexer.duplicates.exact_key` of the text. A statement whose text is exactly that of one
  already indexed is written as a *stub* (``duplicate_of`` = the kept statement's id): stored fields only, no
  searchable text, no language, date or source terms, so it never matches a query; it shares the kept
  statement's group and so is listed among its duplicates. When the kept statement goes, its first stub is
  promoted back to a full document.

How a run keeps them (:class:`LinkPass`): the writer gives each new document its *predicted* translation (the
id-stem partner when it is in the same batch, already written or already indexed), then, after every document
of the run is written, :meth:`LinkPass.finish` recomputes links and groups over the statements written or
deleted in this run plus the candidates from the index (dated within a day of them, sharing a release number
or an id stem, or linked to / grouped with them), and rewrites only the documents whose stored values differ.
Links between two statements this run did not touch are kept as they are unless one side lost its partner.

Memory: no text is held for the pass. Each statement's :func:`link_record` (its MinHash signature packed in
1 KB, shingle count, exact key and body length, and its content-link features as packed 64-bit hashes) is
computed once, by the reader process beside the document (``LINK_KEY``) or when the document is added;
:meth:`LinkPass.finish` links and groups statements built without their bodies, and decompresses a body
(``body_z``) only for a candidate pair's exact shingle Jaccard, an untitled group key or a rewrite.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

from whoosh import query as wq

from corpus.statement import Statement
from indexer.documents import folded_words, group_key, statement_fields
from indexer.duplicates import Sketch, near_duplicate_groups, sketch
from indexer.linking import feature_hashes, id_stem, link_translations
from indexer.schema import stored_body
from indexer.typos import statement_words

WINDOW_DAYS = 1  # index candidates: dated at most this many days from a statement written or deleted
LINK_FIELDS = ("translation", "group", "duplicate_of", "exact")
# Stored fields a stub keeps: enough to list it as a duplicate, show it and promote it back.
_STUB_FIELDS = ("id", "url", "title", "body_z", "origin", "input", "content_hash", "source", "place",
                "release", "extra", "length", "group", "exact")


def light(doc: dict[str, Any]) -> dict[str, Any]:
    """The stored part of a document (what the index would give back), without the text fields."""
    out = {k: v for k, v in doc.items() if not (k.startswith(("title_", "body_")) and k != "body_z")}
    out.pop("source_text", None)
    out.pop("year", None)
    return out


LINK_KEY = "_link"  # a document's precomputed link_record, popped before it is written
WORDS_KEY = "_words"  # a document's typos.statement_words, computed beside it, popped before it is written


def doc_words(doc: dict[str, Any]) -> str:
    """The typo index's raw words of a document (full, or stored fields): those computed beside it, else
    from its title and stored body."""
    words = doc.pop(WORDS_KEY, None)
    return words if words is not None else statement_words(doc.get("title") or "", stored_body(doc))


def link_record(st: Statement) -> tuple[Sketch, bytes]:
    """What the link pass keeps of a statement instead of its text, computed once (by the reader process
    when there is one): its duplicate :class:`~indexer.duplicates.Sketch` and its content-link
    ``feature_hashes``."""
    return sketch(st), feature_hashes(st)


def to_statement(fields: dict[str, Any], *, body: bool = True) -> Statement:
    """A Statement back from stored fields (of the index, or of a document about to be written); with
    ``body=False``, without its body (content_hash is then the stored one, or "-")."""
    extra = dict(fields.get("extra") or {})
    lang = fields.get("lang") or extra.pop("stub_lang", "")
    date = fields.get("date") or extra.pop("stub_date", "")
    if isinstance(date, dt.datetime | dt.date):
        date = date.strftime("%Y-%m-%d")
    extra.pop("stub_lang", None)
    extra.pop("stub_date", None)
    return Statement(id=fields["id"], origin=fields.get("origin") or "", title=fields.get("title") or "",
                     body=stored_body(fields) if body else "", lang="" if lang == "unknown" else lang,
                     url=fields.get("url") or "", date=str(date or ""), source=fields.get("source") or "",
                     place=fields.get("place") or "",
                     content_hash=fields.get("content_hash") or ("" if body else "-"),
                     declared_lang=extra.pop("declared_lang", ""), alternates=extra.pop("alternates", {}),
                     release=fields.get("release") or "", extra=extra)


def full_document(fields: dict[str, Any]) -> dict[str, Any]:
    """A complete (searchable) document rebuilt from stored fields, link fields kept."""
    doc = statement_fields(to_statement(fields), input=fields.get("input") or "")
    for name in ("translation", "group"):
        if fields.get(name):
            doc[name] = fields[name]
    return doc


def stub_document(doc: dict[str, Any], kept: str, group: str) -> dict[str, Any]:
    """The stored-only stand-in of an exact duplicate of statement ``kept``."""
    stub = {k: doc[k] for k in _STUB_FIELDS if doc.get(k) not in (None, "")}
    extra = dict(stub.get("extra") or {})
    date = doc.get("date")
    if isinstance(date, dt.datetime):
        extra["stub_date"] = date.strftime("%Y-%m-%d")
    if doc.get("lang"):
        extra["stub_lang"] = doc["lang"]
    stub["extra"] = extra
    stub["duplicate_of"] = kept
    stub["group"] = group or doc.get("group") or ""
    return stub


def _same_title_key(st: Statement) -> str:
    words = folded_words(st.title)
    return f"{words}\x1f{st.date}" if words and st.date else ""


def duplicate_groups(statements: list[Statement], sketches: dict[str, Sketch] | None = None,
                     text_of: Callable[[Statement], str] | None = None) -> dict[str, str]:
    """id -> canonical id: near duplicates (direct matches of the canonical), and statements with the same
    folded title on the same day (two offices posting one release with different boilerplate).
    ``sketches``, ``text_of``: see ``near_duplicate_groups`` (the sketch gives a statement's length)."""
    groups = near_duplicate_groups(statements, sketches=sketches, text_of=text_of)
    sketches = sketches or {}

    def length(st: Statement) -> int:
        sk = sketches.get(st.id)
        return len(st.body) if sk is None else sk.length

    by_title: dict[str, list[Statement]] = defaultdict(list)
    for st in statements:
        key = _same_title_key(st)
        if key:
            by_title[key].append(st)
    for members in by_title.values():
        if len(members) < 2:
            continue
        # the members join the group of the first one that has a group, else form one around the earliest
        canon = next((groups[st.id] for st in members if st.id in groups), None)
        if canon is None:
            canon = min(members, key=lambda st: (-length(st), st.id)).id
            groups[canon] = canon
        for st in members:
            groups.setdefault(st.id, canon)
    return groups


class _Bodies:
    """The compressed bodies of a run's documents, kept in an unnamed temporary file instead of memory (1-2
    KB a statement: a quarter of what the link pass holds per statement, and a build's memory must not grow
    with the archive). Read back only for the few statements whose body the pass needs."""

    def __init__(self) -> None:
        self._file = None
        self._at: dict[str, tuple[int, int]] = {}  # id -> (offset, length)

    def put(self, sid: str, body_z: bytes) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="presse-bodies-")
        f = self._file
        f.seek(0, os.SEEK_END)
        self._at[sid] = (f.tell(), len(body_z))
        f.write(body_z)

    def get(self, sid: str) -> bytes | None:
        at = self._at.get(sid)
        if at is None:
            return None
        self._file.seek(at[0])
        return self._file.read(at[1])

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._at.clear()


class LinkPass:
    """Collects what a run writes, then fixes translation links and groups before the commit.

    ``add(doc)`` writes a document through ``adder`` (exact duplicates become stubs) and remembers it;
    ``deleted(fields)`` records a committed document the run deletes; ``finish()`` recomputes links and
    groups and rewrites what changed. ``searcher`` is the committed index (None for a fresh build);
    ``delete_committed(id)`` deletes an indexed document in the run's writer.
    """

    def __init__(self, adder, searcher, delete_committed: Callable[[str], None], *, enabled: bool = True):
        self.adder = adder
        self.searcher = searcher
        self.delete_committed = delete_committed
        self.enabled = enabled
        self.written: dict[str, dict[str, Any]] = {}  # id -> light doc, no body_z (full documents of the run)
        self.bodies = _Bodies()  # the body_z of each of them
        self.records: dict[str, tuple[Sketch, bytes]] = {}  # id -> link_record of a full document
        self.places: dict[str, tuple[int, int]] = {}  # id -> adder place
        self.stubs: dict[str, dict[str, Any]] = {}  # id -> stub doc written this run
        self.by_exact: dict[str, str] = {}  # exact key -> id of the full document written this run
        self.gone: dict[str, dict[str, Any]] = {}  # id -> stored fields of committed documents deleted
        self.exact_duplicates = 0
        self.links_written = 0
        self.rewritten = 0
        self._batch_ids: set[str] = set()
        # the typo index's raw words of the full documents this run leaves in its segments (indexer.typos)
        self.words: Counter[str] = Counter()

    # -- while writing ------------------------------------------------------------------------------------

    def look_ahead(self, ids: list[str]) -> None:
        """The ids of the batch about to be written: an id-stem partner among them is predicted at once."""
        self._batch_ids = set(ids)

    def _committed(self, field: str, value: str) -> list[int]:
        if self.searcher is None or not value:
            return []
        return list(self.searcher.docs_for_query(wq.Term(field, value)))

    def _predict(self, sid: str, lang: str, owners: dict) -> str:
        stem, own = id_stem(sid)
        if not stem:
            return ""
        for other in ("en", "fr") if own not in ("en", "fr") else (("fr",) if own == "en" else ("en",)):
            partner = stem.replace("{}", other)
            known = partner in self._batch_ids or partner in self.written or partner in owners
            if partner != sid and known:
                return partner
        return ""

    def add(self, doc: dict[str, Any], owners: dict) -> tuple[int, int]:
        """Write a document of this run (a full one, or a stub when its text is already indexed)."""
        sid = doc["id"]
        record = doc.pop(LINK_KEY, None)
        words = doc_words(doc)
        self.forget(sid)
        if not self.enabled:
            self._count(words)
            return self.adder.add(doc)
        key = doc.get("exact") or ""
        kept = self.by_exact.get(key) if key else None
        if kept is None and key:
            for d in self._committed("exact", key):
                fields = self.searcher.stored_fields(d)
                if not fields.get("duplicate_of") and fields["id"] != sid and fields["id"] not in self.gone:
                    kept = fields["id"]
                    break
        if kept is not None and kept != sid:
            group = self.written[kept].get("group") if kept in self.written else self._stored_group(kept)
            stub = stub_document(doc, kept, group)
            self.stubs[sid] = stub
            self.exact_duplicates += 1
            place = self.adder.add(stub)
            self.places[sid] = place
            return place
        doc["translation"] = self._predict(sid, doc.get("lang") or "", owners)
        self._count(words)
        if key:
            self.by_exact.setdefault(key, sid)
        self._keep(sid, light(doc), record)
        place = self.adder.add(doc)
        self.places[sid] = place
        return place

    def _keep(self, sid: str, fields: dict[str, Any], record: tuple[Sketch, bytes] | None = None) -> None:
        """Remember a full document of this run: its light fields (its body apart) and link record."""
        self.records[sid] = record or link_record(to_statement(fields))
        self.bodies.put(sid, fields.pop("body_z", None) or b"")
        self.written[sid] = fields

    def _fields(self, sid: str) -> dict[str, Any]:
        """The light fields of a full document of this run, with its body."""
        return dict(self.written[sid], body_z=self.bodies.get(sid))

    def _stored_group(self, sid: str) -> str:
        for d in self._committed("id", sid):
            return self.searcher.stored_fields(d).get("group") or ""
        return ""

    def _count(self, words: str, sign: int = 1) -> None:
        if sign > 0:
            self.words.update(words.split())
        else:
            self.words.subtract(words.split())

    def forget(self, sid: str) -> None:
        """A document of this run is being replaced or dropped (a later duplicate id)."""
        doc = self._fields(sid) if sid in self.written else None
        self.written.pop(sid, None)
        self.records.pop(sid, None)
        if doc is not None:
            self._count(doc_words(doc), -1)
        if doc is not None and self.by_exact.get(doc.get("exact") or "") == sid:
            del self.by_exact[doc["exact"]]
        if self.stubs.pop(sid, None) is not None:
            self.exact_duplicates -= 1
        self.places.pop(sid, None)

    def deleted(self, sid: str) -> None:
        """A committed document is deleted by this run: remember what it was linked to."""
        if self.searcher is None or sid in self.gone:
            return
        for d in self._committed("id", sid):
            fields = self.searcher.stored_fields(d)
            self.gone[sid] = {k: fields.get(k) for k in ("id", "date", "translation", "group", "exact",
                                                         "duplicate_of")}

    # -- after writing ------------------------------------------------------------------------------------

    def _rewrite_run_doc(self, sid: str, doc: dict[str, Any]) -> None:
        place = self.places.get(sid)
        if place is not None:
            self.adder.delete(place)
        self.places[sid] = self.adder.add(doc)
        self.rewritten += 1

    def _rewrite_committed(self, doc: dict[str, Any]) -> None:
        if not doc.get("duplicate_of"):  # an indexed statement comes into this run's segments
            self._count(doc_words(doc))
        self.delete_committed(doc["id"])
        self.places[doc["id"]] = self.adder.add(doc)
        self.rewritten += 1

    def _rewrite(self, doc: dict[str, Any]) -> None:
        """Write ``doc`` again: in place of this run's copy, or of the committed one."""
        if doc["id"] in self.places:
            self._rewrite_run_doc(doc["id"], doc)
        else:
            self._rewrite_committed(doc)

    def finish(self) -> None:
        """Fix translation links and duplicate groups over what this run changed, rewriting what differs."""
        if not self.enabled or (not self.written and not self.gone and not self.stubs):
            return
        run_ids = set(self.written) | set(self.stubs)
        gone = {sid for sid in self.gone if sid not in run_ids}

        def stays(fields: dict[str, Any]) -> bool:  # an index document neither deleted nor rewritten here
            return fields["id"] not in run_ids and fields["id"] not in self.gone

        self._promote_orphans(gone, stays)
        affected = set(self.written) | gone
        stored = self._candidates(affected, gone, run_ids, stays)
        fields_of = {**stored, **self.written}
        records = dict(self.records)
        for sid, fields in stored.items():
            records[sid] = link_record(to_statement(fields))
        # Statements without their bodies: what linking and grouping need of a body is in the records.
        statements = [to_statement(f, body=False) for f in fields_of.values()]
        final = self._links(statements, records, stored, affected)
        group = self._groups(statements, records, fields_of, stored, affected, gone)
        new_groups = self._rewrite_changed(fields_of, final, group)
        self._regroup_stubs(new_groups, stays)
        self.bodies.close()

    def _promote_orphans(self, gone: set[str], stays: Callable[[dict[str, Any]], bool]) -> None:
        """Stubs whose kept statement went: promote the first, point the others at it."""
        orphans: dict[str, list[dict[str, Any]]] = defaultdict(list)
        if self.searcher is not None:
            for kept in gone:
                for d in self._committed("duplicate_of", kept):
                    fields = dict(self.searcher.stored_fields(d))
                    if stays(fields):
                        orphans[kept].append(fields)
        for stub in self.stubs.values():
            if stub["duplicate_of"] in gone:
                orphans[stub["duplicate_of"]].append(stub)
        for _kept, stubs in orphans.items():
            stubs.sort(key=lambda f: f["id"])
            head = stubs[0]
            doc = full_document(head)
            doc["translation"] = ""  # linked below like any statement of this run
            if head["id"] in self.places:  # this run's stub, written again as a full document
                self._count(doc_words(doc))
            self._rewrite(doc)
            self.stubs.pop(head["id"], None)
            self._keep(head["id"], light(doc))
            for other in stubs[1:]:
                redo = dict(other, duplicate_of=head["id"])
                self._rewrite(redo)
                if other["id"] in self.stubs:
                    self.stubs[other["id"]] = redo

    def _candidates(self, affected: set[str], gone: set[str], run_ids: set[str],
                    stays: Callable[[dict[str, Any]], bool]) -> dict[str, dict[str, Any]]:
        """The index's statements to link with this run's (id -> stored fields): those near in date, linked
        to an affected one, of its id stem, group or release; and their current partners."""
        s = self.searcher
        if s is None:
            return {}
        stored: dict[str, dict[str, Any]] = {}
        for d in self._candidate_docnums(affected, gone):
            fields = s.stored_fields(d)
            if stays(fields) and not fields.get("duplicate_of"):
                stored[fields["id"]] = dict(fields)
        for fields in list(stored.values()):  # and their current partners, to judge their links
            partner = fields.get("translation")
            if partner and partner not in stored and partner not in run_ids:
                for d in self._committed("id", partner):
                    pf = s.stored_fields(d)
                    if stays(pf) and not pf.get("duplicate_of"):
                        stored[partner] = dict(pf)
        return stored

    def _candidate_docnums(self, affected: set[str], gone: set[str]) -> set[int]:
        s = self.searcher
        docnums: set[int] = set()
        dates: set[dt.date] = set()
        changed = [*self.written.values(), *(self.gone[g] for g in gone)]
        for fields in changed:
            value = fields.get("date")
            if isinstance(value, dt.datetime):
                dates.add(value.date())
        for day in sorted(dates):
            lo = dt.datetime.combine(day - dt.timedelta(days=WINDOW_DAYS), dt.time())
            hi = dt.datetime.combine(day + dt.timedelta(days=WINDOW_DAYS), dt.time(23, 59, 59))
            docnums.update(s.docs_for_query(wq.DateRange("date", lo, hi)))
        for sid in affected:
            docnums.update(self._committed("translation", sid))
            stem, _ = id_stem(sid)
            if stem:
                for other in ("fr", "en"):
                    docnums.update(self._committed("id", stem.replace("{}", other)))
        for fields in changed:
            docnums.update(self._committed("group", fields.get("group") or ""))
            docnums.update(self._committed("release", fields.get("release") or ""))
        return docnums

    def _links(self, statements: list[Statement], records: dict[str, tuple[Sketch, bytes]],
               stored: dict[str, dict[str, Any]], affected: set[str]) -> dict[str, str]:
        """Translation links (id -> partner or ""): this run's statements take what the linker says; links
        between untouched statements stay unless a side lost its partner."""
        computed = link_translations(statements, features={sid: r[1] for sid, r in records.items()})
        final: dict[str, str] = {sid: "" for sid in self.written}
        for sid, fields in stored.items():
            partner = fields.get("translation") or ""
            final[sid] = partner if partner in stored and stored[partner].get("translation") == sid else ""
        pairs = sorted({tuple(sorted(p)) for p in computed.items()})
        for a, b in pairs:
            if a in affected or b in affected:
                for x in (a, b):
                    old = final.get(x)
                    if old and final.get(old) == x:
                        final[old] = ""
                final[a], final[b] = b, a
        for a, b in pairs:
            if not final.get(a) and not final.get(b):
                final[a], final[b] = b, a
        return final

    def _groups(self, statements: list[Statement], records: dict[str, tuple[Sketch, bytes]],
                fields_of: dict[str, dict[str, Any]], stored: dict[str, dict[str, Any]], affected: set[str],
                gone: set[str]) -> dict[str, str]:
        """Groups (id -> group): the key of the canonical statement; untouched statements change only when
        their group involves a statement of this run or a deleted one."""
        canon = duplicate_groups(statements, {sid: r[0] for sid, r in records.items()},
                                 lambda st: self._body(st.id, fields_of) or st.title)
        key_of = {st.id: group_key(st.title, st.date,
                                   "" if st.title.strip() and st.date else self._body(st.id, fields_of))
                  for st in statements}
        touched_keys = {f.get("group") for f in self.written.values()} | {
            self.gone[g].get("group") for g in gone}
        members: dict[str, set[str]] = defaultdict(set)
        for sid, head in canon.items():
            members[head].add(sid)
        group: dict[str, str] = {}
        for st in statements:
            sid = st.id
            head = canon.get(sid)
            new = key_of[head] if head else key_of[sid]
            if sid in stored:
                old = stored[sid].get("group") or ""
                involved = (head and members[head] & affected) or old in touched_keys
                group[sid] = new if involved else old
            else:
                group[sid] = new
        return group

    def _body(self, sid: str, fields_of: dict[str, dict[str, Any]]) -> str:
        return stored_body(self._fields(sid) if sid in self.written else fields_of[sid])

    def _rewrite_changed(self, fields_of: dict[str, dict[str, Any]], final: dict[str, str],
                         group: dict[str, str]) -> dict[str, str]:
        """Rewrite the statements whose link or group differs; the new groups (kept id -> group)."""
        new_groups: dict[str, str] = {}
        for sid, fields in fields_of.items():
            want_t, want_g = final.get(sid, ""), group.get(sid, "")
            have_t, have_g = fields.get("translation") or "", fields.get("group") or ""
            if want_t:
                self.links_written += 1
            if (want_t, want_g) == (have_t, have_g):
                continue
            if want_g != have_g:
                new_groups[sid] = want_g
            if sid in self.written:
                doc = statement_fields(to_statement(self._fields(sid)), input=fields.get("input") or "")
                doc["translation"], doc["group"] = want_t, want_g
                kept = light(doc)
                kept.pop("body_z", None)  # the same body, kept in self.bodies
                self.written[sid] = kept
                self._rewrite_run_doc(sid, doc)
            else:
                doc = full_document(dict(fields, translation=want_t, group=want_g))
                doc["translation"] = want_t
                self._rewrite_committed(doc)
        return new_groups

    def _regroup_stubs(self, new_groups: dict[str, str], stays: Callable[[dict[str, Any]], bool]) -> None:
        """Stubs follow their kept statement's group: this run's, and the index's."""
        for sid, stub in list(self.stubs.items()):
            kept = stub["duplicate_of"]
            want = new_groups.get(kept) or (self.written[kept].get("group") if kept in self.written else None)
            if want and want != stub.get("group"):
                stub = self.stubs[sid] = dict(stub, group=want)
                self._rewrite_run_doc(sid, stub)
        if self.searcher is None:
            return
        for kept, want in new_groups.items():
            for d in self._committed("duplicate_of", kept):
                fields = dict(self.searcher.stored_fields(d))
                if stays(fields) and fields.get("group") != want:
                    self._rewrite_committed(dict(fields, group=want))
