"""A numpy evaluator for the common queries: the same matching and BM25 scores as Whoosh, without a matcher
tree scoring one posting at a time in Python.

``IndexArrays`` holds, per open Whoosh searcher:

- postings per (field, term): document numbers (int32) and weights (term frequency times the field boost,
  float32), plus the encoded positions (kept for the proximity bonus and phrases). They are read once by
  decoding Whoosh's posting blocks whole (whoosh-reloaded is pinned to 2.7.5, so the private layout of
  ``whoosh.codec.whoosh3`` is relied on, with the public matcher API as fallback) and kept in an LRU cache
  bounded by bytes;
- per-field document lengths (Whoosh's byte-quantised length column, read in bulk), and per-document columns
  (lang, source, year as integer codes; the date as Whoosh's microsecond ticks), built on first use only.

``Evaluator`` turns a compiled Whoosh query made of ``Term``, ``Phrase``, ``Prefix``, ``Or``, ``And``,
``AndNot``, ``AndMaybe`` (and ``Every``, unscored) into a dense match mask and score vector over all document
numbers, with Whoosh's arithmetic: BM25F per term
(``idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * len / avglen))``, the idf and average lengths taken from the
Whoosh searcher itself), times the query boost, summed over the clauses that match. A prefix is the Or of the
indexed words it expands to, each scored, as Whoosh's ``MultiTerm`` builds it with ``constantscore=False``
(search.query compiles prefixes so: constant-scored, Whoosh scores them 1.0 only in segments under 5,000
documents). Anything else (ranges, filters written in the query) is ``Unsupported`` and the caller keeps
the Whoosh path.
"""

from __future__ import annotations

import struct
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from whoosh import query as wq
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length

# safe_pickle: index data is unpickled through the allowlist, so it never runs code
from indexer import postings as sidecars
from indexer import safe_pickle, tables
from indexer.tables import column_codes, date_ticks, deleted_docs, length_bytes

LENGTH_TABLE = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)
DEFAULT_CACHE_BYTES = 256 << 20
FAST_OFFSETS_MIN_DOCS = 1000  # a column of fewer documents is read by Whoosh's own loop (fast_column_offsets)
_MAGIC = b"W3Bl"
_INT = struct.Struct("!i")


class Unsupported(Exception):
    """The query has a clause the fast evaluator does not handle: use the Whoosh path."""


FEW_POSTINGS = 64  # PositionTable.many: up to this many postings looked up one by one


class PositionTable:
    """The positions of each posting of a posting list gathered from several segments: per part, either a
    sidecar's flat positions (with each posting's count, offsets worked out on first use) or Whoosh's encoded
    values (decoded one posting at a time)."""

    __slots__ = ("bounds", "parts")

    def __init__(self) -> None:
        self.bounds: list[int] = []  # first posting of each part
        self.parts: list[list] = []

    def add_values(self, first: int, values: list) -> None:
        self.bounds.append(first)
        self.parts.append([values])

    def add_flat(self, first: int, counts: np.ndarray, start: int, flat: np.ndarray,
                 keep: np.ndarray | None) -> None:
        """A sidecar's term: its postings' counts, where its positions start in ``flat``, and the postings
        kept (None: all)."""
        self.bounds.append(first)
        self.parts.append([counts, start, flat, keep, None])

    @property
    def nbytes(self) -> int:
        return sum(sum(map(len, p[0])) + 40 * len(p[0]) if len(p) == 1 else 64 for p in self.parts)

    def at(self, i: int) -> list[int]:
        """Positions of the i-th posting."""
        k = bisect_right(self.bounds, i) - 1
        part, j = self.parts[k], i - self.bounds[k]
        if len(part) == 1:
            return decode_positions(part[0][j])
        lo, hi = self._spans(part)
        return part[2][int(lo[j]):int(hi[j])].tolist()

    def many(self, idx: list[int]) -> list[list[int]]:
        """Positions of each of the postings ``idx``: one by one for a few (numpy's per-call cost is more
        than the work), a part's at a time for many."""
        if len(idx) <= FEW_POSTINGS:
            return [self.at(i) for i in idx]
        out: list[list[int]] = [[] for _ in idx]
        want = np.asarray(idx, dtype=np.int64)
        owner = np.searchsorted(np.asarray(self.bounds), want, side="right") - 1
        for k in sidecars.distinct(owner).tolist():
            at = np.flatnonzero(owner == k)
            rel = want[at] - self.bounds[k]
            part = self.parts[k]
            if len(part) == 1:
                got = [decode_positions(part[0][j]) for j in rel.tolist()]
            else:
                lo, hi = self._spans(part)
                flat = part[2]
                got = [flat[a:b].tolist() for a, b in zip(lo[rel].tolist(), hi[rel].tolist(), strict=True)]
            for i, g in zip(at.tolist(), got, strict=True):
                out[i] = g
        return out

    @staticmethod
    def _spans(part: list) -> tuple[np.ndarray, np.ndarray]:
        """(first, end) in the flat positions of each kept posting of a sidecar part, worked out once."""
        if part[4] is None:
            counts = part[0].astype(np.int64)
            ends = part[1] + np.cumsum(counts)
            starts = ends - counts
            if part[3] is not None:
                starts, ends = starts[part[3]], ends[part[3]]
            part[4] = (starts, ends)
        return part[4]


@dataclass
class Postings:
    ids: np.ndarray  # int32 global document numbers, ascending, deleted documents removed
    weights: np.ndarray  # float32
    table: PositionTable | None  # positions per posting (None when the field stores none)

    @property
    def nbytes(self) -> int:
        return self.ids.nbytes + self.weights.nbytes + 64 + (self.table.nbytes if self.table else 0)

    def positions_at(self, i: int) -> list[int]:
        """Positions of the i-th posting (the field stores positions)."""
        return self.table.at(i)

    def positions_of(self, idx: list[int]) -> list[list[int]]:
        """Positions of each of the postings ``idx``."""
        return self.table.many(idx)

    def positions(self, doc: int) -> list[int] | None:
        """Positions of the term in one document (None if it does not contain it)."""
        i = int(np.searchsorted(self.ids, doc))
        if i >= len(self.ids) or self.ids[i] != doc or self.table is None:
            return None
        return self.table.at(i)


def decode_positions(value: bytes) -> list[int]:
    """Whoosh's ``Positions`` encoding: a uint count then a pickled list of deltas."""
    codes = safe_pickle.loads(value[4:] if value.endswith(b".") else value[4:] + b".")
    out = []
    p = 0
    for c in codes:
        p += c
        out.append(p)
    return out


EMPTY = Postings(np.zeros(0, np.int32), np.zeros(0, np.float32), None)


# ---------------------------------------------------------------------------------------------------------
# Reading Whoosh's files in bulk


def fast_whoosh() -> None:
    """Install the fast ways of reading Whoosh's files that a searcher relies on (each is idempotent and
    leaves a layout it does not know alone): :func:`lazy_buffer_files`, :func:`fast_column_offsets`,
    :func:`fast_term_lookups`, :func:`fast_prefixes`. Called by ``Searcher`` before it opens an index (not on
    import)."""
    lazy_buffer_files()
    fast_column_offsets()
    fast_term_lookups()
    fast_prefixes()


def lazy_buffer_files() -> bool:
    """Make Whoosh's ``BufferFile`` copy its buffer into a ``BytesIO`` only when something reads it as a
    stream (seek/read), not when it is opened.

    Whoosh opens every part of a compound segment as a ``BufferFile`` over the mmap, whose constructor copies
    the part into a ``BytesIO``: the whole postings file (180 MB on the 59,000-statement index, ~115 ms)
    at open and the stored fields (120 MB, ~60 ms) at the first hit, although random access goes through
    ``get()``, which reads the mmap directly. The fast path only uses ``get()``; Whoosh's own matchers still
    get their ``BytesIO``, made on first use. Same behaviour, less start-up time and memory. Called by
    ``Searcher`` before it opens an index (not on import: importing a module changes nothing); idempotent.
    """
    from whoosh.filedb import structfile

    cls = structfile.BufferFile
    if getattr(cls, "_presse_lazy", False):
        return True
    if "BytesIO" not in cls.__init__.__code__.co_names or "file" in cls.__dict__:
        return False  # not the 2.7.5 layout: leave it alone

    def __init__(self, buf, name=None, onclose=None):
        self._buf = buf
        self._name = name
        self.onclose = onclose
        self.is_real = False
        self.is_closed = False

    def _get_file(self):
        f = self.__dict__.get("_lazy_file")
        if f is None:
            f = self.__dict__["_lazy_file"] = structfile.BytesIO(self._buf)
        return f

    def _set_file(self, f):
        self.__dict__["_lazy_file"] = f

    def flush(self):
        pass

    def close(self):
        if self.is_closed:
            raise Exception("This file is already closed")
        if self.onclose:
            self.onclose(self)
        f = self.__dict__.get("_lazy_file")
        if f is not None:
            f.close()
        self.is_closed = True

    cls.__init__ = __init__
    cls.file = property(_get_file, _set_file)
    cls.flush = flush
    cls.close = close
    cls._presse_lazy = True
    return True


def fast_column_offsets() -> bool:
    """Make Whoosh's variable-length column reader derive its offsets from the lengths with numpy.

    A column written without its offsets (the stored fields, source, lang, year) gets them rebuilt at each
    open by a Python loop over every document: on the 59,000-statement index that was most of a cold
    `presse search` (the quick check on open and the facets each open these columns). Same values, as the
    same ``array("L")``. Called by ``Searcher`` before it opens an index; idempotent; left alone on a layout
    it does not know.
    """
    from array import array

    from whoosh import columns

    cls = getattr(columns.VarBytesColumn, "Reader", None)
    if cls is None or getattr(cls, "_presse_fast", False):
        return cls is not None
    names = cls._read_offsets_and_lengths.__code__.co_names
    if array("L").itemsize != 8 or not {"get_array", "append", "_doccount"} <= set(names):
        return False  # not the 2.7.5 layout
    slow = cls._read_offsets_and_lengths

    def _read_offsets_and_lengths(self):
        lastbyte = self._basepos + self._length - 1
        lens_code = chr(self._dbfile.get_byte(lastbyte))
        if self._doccount < FAST_OFFSETS_MIN_DOCS or lens_code == "X":
            return slow(self)  # a small column, or offsets stored in the file
        itemsize = struct.calcsize(lens_code)
        lengths = self._dbfile.get_array(lastbyte - itemsize * self._doccount, lens_code, self._doccount)
        ends = np.cumsum(np.asarray(lengths, dtype=np.uint64), dtype=np.uint64)
        offsets = array("L")
        offsets.frombytes((ends - np.asarray(lengths, dtype=np.uint64)).tobytes())
        self._offsets, self._lengths = offsets, lengths

    cls._read_offsets_and_lengths = _read_offsets_and_lengths
    cls._presse_fast, cls._presse_slow = True, slow
    return True


TERM_CACHE = 100_000  # term-table answers remembered per segment (fast_term_lookups)


def fast_term_lookups() -> bool:
    """Make Whoosh's W3 term table remember its answers, per segment: a query's words are looked up for
    their document frequencies (language, idf) and again for their postings, in every segment, and each
    lookup is a pure-Python probe of an on-disk hash table. A segment never changes once written, so an
    answer (the term's info, or its absence) stays true for as long as the reader is open. Same answers;
    bounded (TERM_CACHE entries a segment, then afresh). Called by ``Searcher`` before it opens an index;
    idempotent; left alone on a layout it does not know."""
    from whoosh.codec import whoosh3

    cls = whoosh3.W3TermsReader
    if getattr(cls, "_presse_cached", False):
        return True
    if not all(callable(getattr(cls, n, None)) for n in ("term_info", "doc_frequency", "_keycoder")):
        return False
    info, st = whoosh3.W3TermInfo, whoosh3.W3TermInfo._struct

    def _raw(self, fieldname, tbytes):
        cache = self.__dict__.get("_presse_terms")
        if cache is None or len(cache) >= TERM_CACHE:
            cache = self.__dict__["_presse_terms"] = {}
        key = (fieldname, tbytes)
        try:
            return cache[key]
        except KeyError:
            pass
        try:
            value = self._tindex[self._keycoder(fieldname, tbytes)]
        except KeyError:
            value = None
        cache[key] = value
        return value

    def term_info(self, fieldname, tbytes):
        value = _raw(self, fieldname, tbytes)
        if value is None:
            raise TermNotFound(f"No term {fieldname}:{tbytes!r}")
        return info.from_bytes(value)

    def doc_frequency(self, fieldname, tbytes):
        car = self.__dict__.get(SIDECAR)
        if car is not None:
            t = car.find(fieldname, tbytes)
            if t is None:
                raise KeyError(tbytes)
            return car.doc_frequency(t)
        value = _raw(self, fieldname, tbytes)
        if value is None:
            raise KeyError(tbytes)  # as the hash table's own lookup: SegmentReader answers 0
        return st.unpack(value[: st.size])[2]

    def __contains__(self, term):
        car = self.__dict__.get(SIDECAR)
        if car is not None:
            return car.find(*term) is not None
        return _raw(self, *term) is not None

    cls._presse_uncached = (cls.term_info, cls.doc_frequency, cls.__contains__)
    cls.term_info, cls.doc_frequency, cls.__contains__ = term_info, doc_frequency, __contains__
    cls._presse_cached = True
    return True


SIDECAR = "_presse_sidecar"  # a W3 terms reader's postings sidecar, set by IndexArrays (indexer.postings)


def fast_prefixes() -> bool:
    """Make a segment reader (and a multi-segment reader whose segments all have one) expand a prefix
    through its postings sidecar's sorted keys, not a walk of Whoosh's on-disk term table in Python.
    Same words, in the same order. Idempotent; left alone on a layout it does not know."""
    from whoosh.reading import MultiReader, SegmentReader

    if getattr(SegmentReader, "_presse_prefixes", False):
        return True
    if not all(callable(getattr(c, "_text_to_bytes", None)) for c in (SegmentReader, MultiReader)):
        return False
    seg_expand, multi_expand = SegmentReader.expand_prefix, MultiReader.expand_prefix

    def sidecar(reader):
        terms = getattr(reader, "_terms", None)
        return getattr(terms, "__dict__", {}).get(SIDECAR)

    def segment_expand_prefix(self, fieldname, prefix):
        car = sidecar(self)
        if car is None:
            return seg_expand(self, fieldname, prefix)
        self._test_field(fieldname)
        return iter(car.expand(fieldname, self._text_to_bytes(fieldname, prefix)))

    def multi_expand_prefix(self, fieldname, prefix):
        cars = [sidecar(r) for r in self.readers]
        if not cars or any(c is None for c in cars):
            return multi_expand(self, fieldname, prefix)
        prefix = self._text_to_bytes(fieldname, prefix)
        return iter(sorted({w for c in cars for w in c.expand(fieldname, prefix)}))

    SegmentReader.expand_prefix, MultiReader.expand_prefix = segment_expand_prefix, multi_expand_prefix
    SegmentReader._presse_prefixes = True
    return True


def _leaf_postings_slow(seg, fieldname: str, text):
    """The same through the public matcher API (any codec)."""
    try:
        m = seg.postings(fieldname, text)
    except safe_pickle.IndexDataError:
        raise
    except Exception:  # TermNotFound and friends
        return None
    ids, weights, values = [], [], []
    while m.is_active():
        ids.append(m.id())
        weights.append(m.weight())
        try:
            values.append(m.value())
        except safe_pickle.IndexDataError:
            raise
        except Exception:
            values = None
        m.next()
    # deltas, to share the decoding below
    deltas = [b - a for a, b in zip([0, *ids], ids, strict=False)]  # none when every posting is deleted
    return deltas, weights, values


class IndexArrays:
    """Arrays read from one Whoosh searcher (reset it by building a new one after a refresh)."""

    def __init__(self, searcher, cache_bytes: int = DEFAULT_CACHE_BYTES):
        self.searcher = searcher
        self.reader = searcher.reader()
        self.schema = self.reader.schema
        self.n = self.reader.doc_count_all()
        self.leaves = list(self.reader.leaf_readers())
        self.cache_bytes = cache_bytes
        self.tables = tables.of(self.reader)  # stored at index time, read on first use
        self._postings: OrderedDict[tuple[str, str], Postings] = OrderedDict()
        self._cached = 0
        self._lengths: dict[str, np.ndarray] = {}
        self._codes: dict[str, tuple[np.ndarray, list]] = {}
        self._dates: np.ndarray | None = None
        self._live: np.ndarray | None = None
        self._has_deleted = any(seg.has_deletions() for seg, _ in self.leaves)
        self.fast_reads = True
        self.sidecar_problems: list[str] = []  # sidecars not used (damaged, stale): Whoosh's postings instead
        self.sidecars = [self._sidecar(seg) for seg, _ in self.leaves]
        self._counts = [seg.doc_count_all() for seg, _ in self.leaves]
        self._deletions = [seg.has_deletions() for seg, _ in self.leaves]

    def _sidecar(self, seg) -> sidecars.Sidecar | None:
        """The segment's sidecar, also given to its terms reader (frequencies, prefixes: fast_term_lookups,
        fast_prefixes)."""
        try:
            car = sidecars.open_for(seg)
        except sidecars.SidecarError as e:
            self.sidecar_problems.append(str(e))
            car = None
        terms = getattr(seg, "_terms", None)
        if car is not None and hasattr(terms, "__dict__"):
            terms.__dict__[SIDECAR] = car
        return car

    # -- documents ------------------------------------------------------------------------------------------

    @property
    def live(self) -> np.ndarray | None:
        """Mask of the documents not deleted (None when none is)."""
        if not self._has_deleted:
            return None
        if self._live is None:
            live = np.ones(self.n, dtype=bool)
            for seg, base in self.leaves:
                dels = list(deleted_docs(seg))
                if dels:
                    live[np.asarray(dels, dtype=np.int64) + base] = False
            self._live = live
        return self._live

    # -- postings -------------------------------------------------------------------------------------------

    def postings(self, fieldname: str, text: str) -> Postings:
        key = (fieldname, text)
        p = self._postings.get(key)
        if p is not None:
            self._postings.move_to_end(key)
            return p
        p = self._read_postings(fieldname, text)
        size = p.nbytes
        self._postings[key] = p
        self._cached += size
        while self._cached > self.cache_bytes and len(self._postings) > 1:
            _, old = self._postings.popitem(last=False)
            self._cached -= old.nbytes
        return p

    def _read_postings(self, fieldname: str, text) -> Postings:
        field = self.schema[fieldname]
        tbytes = field.to_bytes(text) if not isinstance(text, bytes) else text
        with_positions = bool(field.format and field.format.supports("positions"))
        ids_parts, w_parts = [], []
        table: PositionTable | None = PositionTable()
        first = 0
        for k, (seg, base) in enumerate(self.leaves):
            car = self.sidecars[k]
            if car is not None:
                i = car.find(fieldname, tbytes)
                if i is None:
                    continue
                docs, w, counts, start = car.term(i)
                ids, values = docs.astype(np.int64), None
                if ids.max() >= self._counts[k]:  # a damaged sidecar (presse check names it): from Whoosh
                    self.sidecar_problems.append(f"{car.path.name}: postings beyond the segment's documents")
                    car = self.sidecars[k] = None
                    seg._terms.__dict__.pop(SIDECAR, None)
            if car is None:
                got = self._leaf_postings(seg, fieldname, tbytes)
                if not got or not got[0]:
                    continue
                ids = np.cumsum(np.asarray(got[0], dtype=np.int64))
                w, values = np.asarray(got[1], dtype=np.float32), got[2]
            keep = None
            if self._deletions[k]:  # the cached live mask: one lookup a posting, no set to sort per term
                mask = self.live[ids + base]
                if not mask.all():
                    keep = np.flatnonzero(mask)
                    ids, w = ids[keep], w[keep]
                    if values is not None:
                        values = [values[j] for j in keep.tolist()]
            if table is not None:
                if car is not None and with_positions:
                    table.add_flat(first, counts, start, car.positions, keep)
                elif car is None and values is not None:
                    table.add_values(first, values)
                else:
                    table = None
            ids_parts.append(ids + base)
            w_parts.append(w)
            first += len(ids)
        if not ids_parts:
            return EMPTY
        ids = ids_parts[0] if len(ids_parts) == 1 else np.concatenate(ids_parts)
        w = w_parts[0] if len(w_parts) == 1 else np.concatenate(w_parts)
        return Postings(ids.astype(np.int32), np.asarray(w, dtype=np.float32), table)

    def members(self, fieldname: str, text: str) -> list[int]:
        """The live documents with a term (a duplicate group's members): straight from the sidecars when
        every segment has one, without building (and caching) a posting list for a term read once."""
        if any(car is None for car in self.sidecars):
            return self.postings(fieldname, text).ids.tolist()
        tbytes = self.schema[fieldname].to_bytes(text)
        out: list[int] = []
        for k, car in enumerate(self.sidecars):
            t = car.find(fieldname, tbytes)
            if t is None:
                continue
            docs = car.term(t)[0].astype(np.int64)
            if len(docs) and docs.max() >= self._counts[k]:
                return self.postings(fieldname, text).ids.tolist()  # damaged: _read_postings says so
            docs += self.leaves[k][1]
            if self._deletions[k]:
                docs = docs[self.live[docs]]
            out += docs.tolist()
        return out

    def _leaf_postings(self, seg, fieldname: str, tbytes: bytes):
        """One segment's postings of a term from Whoosh's blocks (a segment without a sidecar)."""
        if self.fast_reads:
            try:
                return sidecars.leaf_postings(seg, fieldname, tbytes)
            except safe_pickle.IndexDataError:  # damaged or hostile data: not a layout question
                raise
            except Exception:  # another codec or layout: the public API
                self.fast_reads = False
        return _leaf_postings_slow(seg, fieldname, tbytes)

    # -- per-document columns -------------------------------------------------------------------------------

    def lengths(self, fieldname: str) -> np.ndarray:
        """Whoosh's (byte-quantised) length of a field in every document, as float64 (from the length bytes
        stored at index time when there, indexer.tables)."""
        arr = self._lengths.get(fieldname)
        if arr is None:
            stored = self.tables.get()
            raw = stored.length_bytes.get(fieldname) if stored is not None else None
            arr = LENGTH_TABLE[raw] if raw is not None else field_lengths(self.leaves, self.n, fieldname)
            self._lengths[fieldname] = arr
        return arr

    def codes(self, name: str) -> tuple[np.ndarray, list[str]]:
        """A string column as (int32 code per document, the values); code 0 is the empty value. From the
        tables stored at index time when they hold it (indexer.tables), else read from the columns."""
        got = self._codes.get(name)
        if got is None:
            stored = self.tables.get()
            got = stored.codes.get(name) if stored is not None else None
            if got is None:
                got = column_codes(self.leaves, self.n, name)
            self._codes[name] = got
        return got

    def code_of(self, name: str, value: str) -> int | None:
        _, values = self.codes(name)
        try:
            return values.index(value)
        except ValueError:
            return None

    @property
    def dates(self) -> np.ndarray:
        """The date column as int64 microseconds since datetime.min (Whoosh's ticks); NO_DATE when absent."""
        if self._dates is None:
            stored = self.tables.get()
            self._dates = stored.dates if stored is not None and stored.dates is not None else date_ticks(
                self.leaves, self.n)
        return self._dates

    def nbytes(self) -> int:
        n = self._cached + sum(a.nbytes for a in self._lengths.values())
        n += sum(c.nbytes for c, _ in self._codes.values())
        return n + (self._dates.nbytes if self._dates is not None else 0)


def field_lengths(leaves: list, n: int, fieldname: str) -> np.ndarray:
    """Whoosh's length of a field in every document of a whole index, as float64."""
    raw = length_bytes(leaves, n, fieldname)
    if raw is not None:
        return LENGTH_TABLE[raw]
    arr = np.zeros(n, dtype=np.float64)
    for seg, base in leaves:
        dc = seg.doc_count_all()
        arr[base:base + dc] = [seg.doc_field_length(d, fieldname, 0) or 0 for d in range(dc)]
    return arr


def ticks(value) -> int:
    """A datetime as Whoosh's column ticks."""
    from whoosh.util.times import datetime_to_long
    return datetime_to_long(value)


# ---------------------------------------------------------------------------------------------------------
# Evaluation


def supported(q, schema) -> bool:
    """Whether the evaluator handles every clause of q."""
    if q is None:
        return True
    if isinstance(q, wq.Term | wq.Phrase | wq.Prefix):
        if q.fieldname not in schema:
            return False
        field = schema[q.fieldname]
        if not field.scorable or not field.format or not field.format.supports("positions"):
            return False
        if isinstance(q, wq.Phrase):
            return q.slop == 1 and len(q.words) >= 1 and q.char_ranges is None
        return True
    if isinstance(q, wq.AndNot | wq.AndMaybe):
        return supported(q.a, schema) and supported(q.b, schema)
    if type(q) in (wq.And, wq.Or):
        if isinstance(q, wq.Or) and (q.minmatch or q.scale):
            return False
        return all(supported(s, schema) for s in q.subqueries)
    return isinstance(q, wq.Every) and q.fieldname in (None, "*")


class Evaluator:
    """Dense (mask, score) vectors of a compiled Whoosh query, BM25F as the engine's weighting does it."""

    def __init__(self, arrays: IndexArrays, B: float, K1: float):
        self.x = arrays
        self.B = B
        self.K1 = K1
        self._term_scores: dict[tuple[str, str], np.ndarray] = {}

    def term(self, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(ids, BM25 scores) of one term."""
        key = (fieldname, text)
        p = self.x.postings(fieldname, text)
        sc = self._term_scores.get(key)
        if sc is None or len(sc) != len(p.ids):
            s = self.x.searcher
            idf = s.idf(fieldname, text)
            avgfl = s.avg_field_length(fieldname) or 1
            fl = self.x.lengths(fieldname)[p.ids]
            tf = p.weights.astype(np.float64)
            B, K1 = self.B, self.K1
            sc = idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * fl / avgfl)))
            if len(self._term_scores) > 4096:
                self._term_scores.clear()
            self._term_scores[key] = sc
        return p.ids, sc

    def evaluate(self, q) -> tuple[np.ndarray, np.ndarray]:
        """(mask, scores) over all document numbers; scores are 0 outside the mask."""
        n = self.x.n
        if isinstance(q, wq.Term):
            mask = np.zeros(n, dtype=bool)
            score = np.zeros(n, dtype=np.float64)
            ids, sc = self.term(q.fieldname, q.text)
            mask[ids] = True
            score[ids] = sc * q.boost if q.boost != 1.0 else sc
            return mask, score
        if isinstance(q, wq.Phrase):
            return self._phrase(q)
        if isinstance(q, wq.Prefix):
            return self.evaluate(self.expand(q))
        if isinstance(q, wq.Every):
            return np.ones(n, dtype=bool), np.zeros(n, dtype=np.float64)
        if type(q) is wq.Or:
            subs = q.subqueries
            if all(isinstance(s, wq.Term) for s in subs):  # the common case: one scatter per term
                mask = np.zeros(n, dtype=bool)
                score = np.zeros(n, dtype=np.float64)
                for s in subs:
                    ids, sc = self.term(s.fieldname, s.text)
                    mask[ids] = True
                    score[ids] += sc * s.boost if s.boost != 1.0 else sc
            else:
                mask, score = self.evaluate(subs[0])
                mask, score = mask.copy(), score.copy()
                for s in subs[1:]:
                    m, sc = self.evaluate(s)
                    mask |= m
                    score += sc
            return mask, (score * q.boost if q.boost != 1.0 else score)
        if type(q) is wq.And:
            mask, score = self.evaluate(q.subqueries[0])
            mask, score = mask.copy(), score.copy()
            for s in q.subqueries[1:]:
                m, sc = self.evaluate(s)
                mask &= m
                score += sc
            score[~mask] = 0.0
            return mask, (score * q.boost if q.boost != 1.0 else score)
        if isinstance(q, wq.AndNot):
            mask, score = self.evaluate(q.a)
            m, _ = self.evaluate(q.b)
            mask = mask & ~m
            return mask, np.where(mask, score, 0.0)
        if isinstance(q, wq.AndMaybe):
            mask, score = self.evaluate(q.a)
            m, sc = self.evaluate(q.b)
            return mask, score + np.where(mask, sc, 0.0)
        raise Unsupported(type(q).__name__)

    def expand(self, q: wq.Prefix):
        """A prefix as Whoosh's ``MultiTerm.matcher`` evaluates it: the one indexed word it expands to, or
        the Or of them all with the prefix's boost (an empty Or when none)."""
        words = [w.decode("utf-8") if isinstance(w, bytes) else w
                 for w in self.x.reader.expand_prefix(q.fieldname, q.text) if w]
        if len(words) == 1:
            return wq.Term(q.fieldname, words[0])
        return wq.Or([wq.Term(q.fieldname, w) for w in words], boost=q.boost)

    def _phrase(self, q) -> tuple[np.ndarray, np.ndarray]:
        """Whoosh scores a phrase as the sum of its words' scores, in the documents where they stand in a
        row (consecutive positions, in order)."""
        n = self.x.n
        mask = np.zeros(n, dtype=bool)
        score = np.zeros(n, dtype=np.float64)
        words = list(q.words)
        postings = [self.x.postings(q.fieldname, w) for w in words]
        if any(len(p.ids) == 0 for p in postings):
            return mask, score
        cand = postings[0].ids
        for p in postings[1:]:
            cand = np.intersect1d(cand, p.ids, assume_unique=True)
        if len(words) > 1 and len(cand):
            if any(p.table is None for p in postings):
                raise Unsupported("phrase without positions")
            lists = [p.positions_of(np.searchsorted(p.ids, cand).tolist()) for p in postings]
            keep = np.array([in_a_row(each) for each in zip(*lists, strict=True)], dtype=bool)
            cand = cand[keep]
        if not len(cand):
            return mask, score
        mask[cand] = True
        for w in words:
            ids, sc = self.term(q.fieldname, w)
            sel = np.searchsorted(ids, cand)
            score[cand] += sc[sel]
        if q.boost != 1.0:
            score *= q.boost
        return mask, score


def top(docs: np.ndarray, scores: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The n best (docs, scores) by score, ties by lower document number first (Whoosh's order).

    docs ascending; scores aligned with docs.
    """
    if n <= 0 or not len(docs):
        return docs[:0], scores[:0]
    if len(docs) > n:
        kth = np.partition(scores, len(scores) - n)[len(scores) - n]
        above = scores > kth
        n_above = int(above.sum())
        tie = np.flatnonzero(scores == kth)[: n - n_above]
        sel = np.concatenate([np.flatnonzero(above), tie])
        docs, scores = docs[sel], scores[sel]
    order = np.lexsort((docs, -scores))
    return docs[order], scores[order]


def in_a_row(positions: Iterable[list[int]]) -> bool:
    """Whether words (their sorted positions, in phrase order) stand at consecutive positions somewhere."""
    starts: set[int] | None = None
    for k, pos in enumerate(positions):
        starts = set(pos) if starts is None else {p - k for p in pos if p - k in starts}
        if not starts:
            return False
    return starts is not None
