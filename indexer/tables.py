"""Tables a search reads whole, stored ready-made at index time: ``presse-tables.bin`` beside the segments.

A fresh process would otherwise build them on its first search from Whoosh's columns and the postings
sidecars (~0.1 s on the 59k-statement index, most of a cold ``presse search``):

- the facet columns (``lang``, ``source``, ``year``) as an int32 code per document and the values
  (:func:`column_codes`);
- each scored field's length byte per document (:func:`length_bytes`) and the dates
  (:func:`date_ticks`), read otherwise from a dozen column files per segment;
- the table of translation pairs: every document's other-language version, and the ids' first live
  documents (:func:`sidecar_table`).

Written by :func:`refresh` after each update and optimize (:mod:`indexer.updating`); a search
(:mod:`search.fastpath`, :mod:`search.links`) reads the file with one ``read`` and ``np.frombuffer``
(:class:`Tables`). The file names the state of the index it was made from (each segment's id, document
count and deletions): a file of another state (an index changed by older code), of another version, or
absent is not used, and the search builds the tables as before, with the same answers. A damaged file
(its CRC-32, its length) is not used either, and the search says so in its warnings.

The readers the tables are made of are here too, and a search without the file uses them:
:func:`column_codes`, :func:`length_bytes`, :func:`date_ticks` (:data:`NO_DATE` where a document has no
date), :func:`sidecar_table` and :func:`deleted_docs`. They read Whoosh's private column layout
(whoosh-reloaded is pinned to 2.7.5) with its public API as fallback. The index writes the file at each
commit, so this module imports nothing of ``search``.

Layout: ``MAGIC``, a little-endian uint32 CRC-32 of everything after the first 16 bytes, a uint32 header
length, a JSON header (version, the index state, each array's dtype, shape and offset, the facets' values),
then the arrays, 8-byte aligned.
"""

from __future__ import annotations

import json
import os
import struct
import weakref
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from indexer import postings as sidecars

FACETS = ("lang", "source", "year")  # the columns a search counts its matches by
NO_DATE = -1  # in a date-ticks array: no date


def deleted_docs(seg) -> frozenset[int]:
    """The deleted document numbers of one segment reader."""
    try:
        return seg.deleted_docs_set
    except AttributeError:
        return frozenset(d for d in range(seg.doc_count_all()) if seg.is_deleted(d))


def length_bytes(leaves: list, n: int, fieldname: str) -> np.ndarray | None:
    """The length byte of a field (Whoosh's quantised length) in every document of a
    whole index, read from the segments' length columns; 0 where a segment has none. None when a segment's
    column is not in the layout read here (then a search asks Whoosh document by document)."""
    from whoosh.codec.whoosh3 import LENGTHS_COLUMN

    out = np.zeros(n, dtype=np.uint8)
    for seg, base in leaves:
        try:
            col = seg._perdoc._cached_reader(f"_{fieldname}_len", LENGTHS_COLUMN)
            if col is None:
                continue
            count = min(col._count, seg.doc_count_all())
            out[base:base + count] = np.frombuffer(col._dbfile.get(col._basepos, count), dtype=np.uint8)
        except Exception:
            return None
    return out


def date_ticks(leaves: list, n: int) -> np.ndarray:
    """The date column of a whole index as int64 Whoosh ticks, NO_DATE where a document has none."""
    arr = np.full(n, NO_DATE, dtype=np.int64)
    for seg, base in leaves:
        if not seg.has_column("date"):
            continue
        try:
            col = seg._perdoc.column_reader("date", seg.schema["date"].column_type)
            count = min(col._count, seg.doc_count_all())
            raw = np.frombuffer(col._dbfile.get(col._basepos, count * 8), dtype=">u8")
        except Exception:
            cr = seg.column_reader("date", translate=False)
            raw = np.fromiter((int(v) for v in cr), dtype=np.uint64)
            count = len(raw)
        vals = np.where(raw >= np.uint64(1 << 63), NO_DATE, raw.astype(np.int64, copy=False))
        arr[base:base + count] = vals
    return arr


def column_codes(leaves: list, n: int, name: str) -> tuple[np.ndarray, list[str]]:
    """A string column of a whole index (its segment readers and bases, ``n`` documents) as an int32 code
    per document and the values, code 0 the empty value (values in the order the segments first show
    them)."""
    table: dict[bytes, int] = {b"": 0}
    codes = np.zeros(n, dtype=np.int32)
    for seg, base in leaves:
        if not seg.has_column(name):
            continue
        leaf_codes, leaf_values = _column_codes(seg, name)
        remap = np.array([table.setdefault(v, len(table)) for v in leaf_values], dtype=np.int32)
        codes[base:base + len(leaf_codes)] = remap[leaf_codes]
    values = [""] * len(table)
    for v, i in table.items():
        values[i] = v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v or "")
    return codes, values


def _column_codes(seg, name: str) -> tuple[np.ndarray, list[bytes]]:
    """(code per document, unique raw values) of a string column of one segment.

    Whoosh's VarBytes column is read in one go: short fixed-width values (lang, year) are deduplicated by
    numpy, the others in a dict.
    """
    try:
        cr = seg._perdoc.column_reader(name, seg.schema[name].column_type)
        off = np.asarray(cr._offsets, dtype=np.int64)
        ln = np.asarray(cr._lengths, dtype=np.int64)
        if not len(ln):
            return np.zeros(0, dtype=np.int32), []
        size = int(np.max(off + ln))
        raw = cr._dbfile.get(cr._basepos, size)
    except AttributeError:
        vals = [v if isinstance(v, bytes) else str(v or "").encode() for v in
                seg.column_reader(name, translate=False)]
        return _dict_codes(vals)
    nz = ln > 0
    w = int(ln[nz].max()) if nz.any() else 0
    if 0 < w <= 16 and int(ln[nz].min()) == w:
        start = int(off[nz][0])
        if np.array_equal(off[nz], start + w * np.arange(int(nz.sum()))):
            arr = np.frombuffer(raw, dtype=f"S{w}", count=int(nz.sum()), offset=start)
            uniq, inv = np.unique(arr, return_inverse=True)
            codes = np.zeros(len(ln), dtype=np.int32)
            codes[nz] = inv.reshape(-1) + 1
            return codes, [b""] + [bytes(u).ljust(w, b"\0") for u in uniq.tolist()]
    return _dict_codes([raw[o:o + n] for o, n in zip(off.tolist(), ln.tolist(), strict=True)])


def _dict_codes(vals: list[bytes]) -> tuple[np.ndarray, list[bytes]]:
    table: dict[bytes, int] = {b"": 0}
    codes = np.fromiter((table.setdefault(v, len(table)) for v in vals), dtype=np.int32, count=len(vals))
    return codes, list(table)


def sidecar_table(reader) -> tuple[np.ndarray, tuple] | None:
    """(the partner of every document, -1 for none; the ids' sorted texts and first documents) read from
    the segments' postings sidecars, in numpy: each translation joined to the first live document with
    that id, as :meth:`search.links.Pairs.partner` does from the term tables. None when a segment has no
    usable sidecar."""

    leaves = list(reader.leaf_readers())
    found: dict[str, list] = {"id": [], "translation": []}
    for seg, base in leaves:
        try:
            car = sidecars.open_for(seg)
        except sidecars.SidecarError:
            return None
        if car is None:
            return None
        dead = np.fromiter(deleted_docs(seg), dtype=np.int64) if seg.has_deletions() else None
        for field, parts in found.items():
            texts, term, docs = car.field_postings(field)
            if dead is not None and len(dead):
                keep = ~np.isin(docs, dead)
                term, docs = term[keep], docs[keep]
            parts.append((texts[term], docs + base))
    id_texts, id_docs = (np.concatenate([p[i] for p in found["id"]]) for i in (0, 1))
    order = np.argsort(id_texts, kind="stable")  # an id's documents in segment order: the first is kept
    id_texts, id_docs = id_texts[order], id_docs[order]
    first = np.ones(len(id_texts), dtype=bool)
    first[1:] = id_texts[1:] != id_texts[:-1]
    id_texts, id_docs = id_texts[first], id_docs[first]
    partner = np.full(reader.doc_count_all(), -1, dtype=np.int64)
    for texts, docs in found["translation"]:
        if not len(id_texts) or not len(texts):
            continue
        at = np.minimum(np.searchsorted(id_texts, texts), len(id_texts) - 1)
        hit = id_texts[at] == texts
        partner[docs[hit]] = id_docs[at[hit]]
    return partner, (id_texts, id_docs)


TABLES_NAME = "presse-tables.bin"
MAGIC = b"PRESSETB"
VERSION = 2
_PREFIX = struct.Struct("<8sII")  # magic, CRC-32 of the rest, header length
_ALIGN = 8


class TablesDamaged(ValueError):
    """The tables file is there but cannot be trusted."""


@dataclass
class Stored:
    """The tables read from the file: facet codes by column, the pair table (None: not stored), the length
    bytes by field and the dates."""

    codes: dict[str, tuple[np.ndarray, list[str]]]
    pairs: tuple[np.ndarray, tuple[np.ndarray, np.ndarray]] | None
    length_bytes: dict[str, np.ndarray]
    dates: np.ndarray | None


def index_state(leaves: list) -> list[list]:
    """What the tables depend on: each segment's id, document count and a CRC-32 of its deleted documents
    (a segment's deletions only grow, and a commit that changes anything else makes new segments)."""
    state = []
    for seg, _base in leaves:
        dead = np.array(sorted(deleted_docs(seg)), dtype=np.int64) if seg.has_deletions() else None
        state.append([seg.segment().segment_id(), seg.doc_count_all(),
                      zlib.crc32(dead.tobytes()) if dead is not None and len(dead) else 0])
    return state


def folder_of(leaves: list) -> Path | None:
    """The index directory, from its segments (None: an empty index, or not on disk)."""
    folder = sidecars.segment_folder(leaves[0][0]) if leaves else None
    return Path(folder) if folder else None


def compute(reader) -> Stored:
    """The tables, built from the index as a search without the file builds them."""
    leaves = list(reader.leaf_readers())
    n = reader.doc_count_all()
    lengths = {name: length_bytes(leaves, n, name) for name in reader.schema.scorable_names()}
    return Stored({name: column_codes(leaves, n, name) for name in FACETS}, sidecar_table(reader),
                  {name: raw for name, raw in lengths.items() if raw is not None}, date_ticks(leaves, n))


def encode(state: list[list], tables: Stored) -> bytes:
    """The file's bytes."""
    arrays: dict[str, np.ndarray] = {f"codes.{name}": codes for name, (codes, _) in tables.codes.items()}
    if tables.pairs is not None:
        partner, (id_texts, id_docs) = tables.pairs
        arrays.update(partner=partner, id_texts=id_texts, id_docs=id_docs)
    arrays.update({f"lengths.{name}": raw for name, raw in tables.length_bytes.items()})
    if tables.dates is not None:
        arrays["dates"] = tables.dates
    layout, chunks, offset = {}, [], 0
    for name, arr in arrays.items():
        data = np.ascontiguousarray(arr).tobytes()
        layout[name] = [arr.dtype.str, list(arr.shape), offset]
        pad = -len(data) % _ALIGN
        chunks.append(data + b"\0" * pad)
        offset += len(data) + pad
    header = json.dumps({"version": VERSION, "state": state, "arrays": layout, "size": offset,
                         "values": {name: values for name, (_, values) in tables.codes.items()}}).encode()
    header += b" " * (-(_PREFIX.size + len(header)) % _ALIGN)
    body = header + b"".join(chunks)
    return _PREFIX.pack(MAGIC, zlib.crc32(body), len(header)) + body


def decode(raw: bytes) -> tuple[list, Stored] | None:
    """(the index state, the tables) of a file's bytes; None when of another version. Raises
    :class:`TablesDamaged` when it is not sound."""
    if len(raw) < _PREFIX.size:
        raise TablesDamaged("shorter than its header")
    magic, crc, hlen = _PREFIX.unpack_from(raw)
    if magic != MAGIC:
        raise TablesDamaged("not a tables file")
    if zlib.crc32(memoryview(raw)[_PREFIX.size:]) != crc:
        raise TablesDamaged("fails its checksum")
    try:
        head = json.loads(raw[_PREFIX.size:_PREFIX.size + hlen])
        if head.get("version") != VERSION:
            return None
        start = _PREFIX.size + hlen
        if len(raw) != start + head["size"]:
            raise TablesDamaged("not as long as its header says")
        arrays = {}
        for name, (dtype, shape, offset) in head["arrays"].items():
            dt = np.dtype(dtype)
            count = int(np.prod(shape, dtype=np.int64))
            arrays[name] = np.frombuffer(raw, dtype=dt, count=count, offset=start + offset).reshape(shape)
        codes = {name: (arrays[f"codes.{name}"], list(values)) for name, values in head["values"].items()}
        pairs = (arrays["partner"], (arrays["id_texts"], arrays["id_docs"])) if "partner" in arrays else None
        lengths = {name[len("lengths."):]: arr for name, arr in arrays.items() if name.startswith("lengths.")}
        return head["state"], Stored(codes, pairs, lengths, arrays.get("dates"))
    except (ValueError, KeyError, TypeError) as e:  # a header that checks out but is not ours
        raise TablesDamaged(f"does not read ({type(e).__name__}: {e})") from None


def refresh(ix: Any) -> bool:
    """After a commit: write the tables of ``ix``'s latest generation unless the file already holds them.
    True when it was written. A failure to write leaves searches building the tables themselves."""
    with ix.reader() as reader:
        leaves = list(reader.leaf_readers())
        folder = folder_of(leaves)
        if folder is None:
            return False
        path = folder / TABLES_NAME
        state = index_state(leaves)
        try:
            got = decode(path.read_bytes())
            if got is not None and got[0] == state:
                return False
        except (OSError, TablesDamaged):
            pass
        data = encode(state, compute(reader))
    tmp = folder / f".{TABLES_NAME}.{os.getpid()}.tmp"
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        return False
    return True


class Tables:
    """The stored tables of one searcher's index, read on first use (:meth:`get`); ``problems``: the file
    found damaged, for the search's warnings."""

    def __init__(self, reader) -> None:
        self._reader = weakref.ref(reader)  # not a strong one: it is this object's key in _OF
        self.problems: list[str] = []
        self._read = False
        self._stored: Stored | None = None

    def get(self) -> Stored | None:
        if not self._read:
            self._read = True
            self._stored = self._load()
        return self._stored

    def _load(self) -> Stored | None:
        reader = self._reader()
        if reader is None:
            return None
        leaves = list(reader.leaf_readers())
        folder = folder_of(leaves)
        if folder is None:
            return None
        path = folder / TABLES_NAME
        try:
            raw = path.read_bytes()
        except FileNotFoundError:  # an index made by older code
            return None
        except OSError as e:
            self.problems.append(f"{TABLES_NAME}: {e.strerror or e}; the search reads the index instead")
            return None
        try:
            got = decode(raw)
        except TablesDamaged as e:
            self.problems.append(f"{TABLES_NAME} {e}: the search reads the index instead until "
                                 "`presse index` or `presse optimize` writes it again")
            return None
        if got is None or got[0] != index_state(leaves) or not _fits(got[1], reader.doc_count_all()):
            return None  # another version, or another state of the index: built from the index as before
        return got[1]


def _fits(stored: Stored, n: int) -> bool:
    """Every stored array has one entry per document of the index (``n``)."""
    columns = [codes for codes, _ in stored.codes.values()] + list(stored.length_bytes.values())
    if any(len(arr) != n for arr in columns) or (stored.dates is not None and len(stored.dates) != n):
        return False
    return stored.pairs is None or len(stored.pairs[0]) == n


_OF: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def of(reader) -> Tables:
    """The one :class:`Tables` of a Whoosh reader (the fast matcher and the pair counts share it)."""
    got = _OF.get(reader)
    if got is None:
        got = _OF[reader] = Tables(reader)
    return got
