"""Tables a search reads whole, stored ready-made at index time: ``presse-tables.bin`` beside the segments.

A fresh process would otherwise build them on its first search from Whoosh's columns and the postings
sidecars (~0.1 s on the 59k-statement index, most of a cold ``presse search``):

- the facet columns (``lang``, ``source``, ``year``) as an int32 code per document and the values
  (:func:`search.fastpath.column_codes`);
- each scored field's length byte per document (:func:`search.fastpath.length_bytes`) and the dates
  (:func:`search.fastpath.date_ticks`), read otherwise from a dozen column files per segment;
- the table of translation pairs: every document's other-language version, and the ids' first live
  documents (:func:`search.links.sidecar_table`).

Written by :func:`refresh` after each update and optimize (:mod:`indexer.updating`); a search reads the file
with one ``read`` and ``np.frombuffer`` (:class:`Tables`). The file names the state of the index it was made
from (each segment's id, document count and deletions): a file of another state (an index changed by older
code), of another version, or absent is not used, and the search builds the tables as before, with the same
answers. A damaged file (its CRC-32, its length) is not used either, and the search says so in its
warnings.

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
    from search.fastpath import deleted_docs

    state = []
    for seg, _base in leaves:
        dead = np.array(sorted(deleted_docs(seg)), dtype=np.int64) if seg.has_deletions() else None
        state.append([seg.segment().segment_id(), seg.doc_count_all(),
                      zlib.crc32(dead.tobytes()) if dead is not None and len(dead) else 0])
    return state


def folder_of(leaves: list) -> Path | None:
    """The index directory, from its segments (None: an empty index, or not on disk)."""
    from indexer.postings import segment_folder

    folder = segment_folder(leaves[0][0]) if leaves else None
    return Path(folder) if folder else None


def compute(reader) -> Stored:
    """The tables, built from the index as a search without the file builds them."""
    from search.fastpath import column_codes, date_ticks, length_bytes
    from search.links import sidecar_table
    from search.matching import FACETS

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
