"""Damaged index files: a quick check on each open, a full one for ``presse check``, a rebuild on update.

Whoosh reads its files lazily and trusts them: a truncated postings file made queries quietly find nothing, a
truncated column or table of contents was a traceback. Three levels:

- :func:`open_checked` (behind :func:`indexer.store.open_index`): the table of contents reads (through the
  allowlisted unpickler), each segment is one presse writes, its files are all there and reach their
  recorded extents (the compound file's directory, the terms file's tables, the end of the last posting
  list, each column's first and last value). A few reads per segment; :class:`~indexer.store.IndexDamaged`
  otherwise.
- :func:`check`: all of that, and every term, every posting list, every stored document and every column
  value decodes; the manifest describes this generation and its statement count. ``presse check``.
- :func:`repair`: called by :func:`indexer.update` with the write lock held, before the index is opened: a
  damaged index is moved aside (into ``damaged-<time>/`` in the index directory, nothing is deleted) with its
  manifest, so the update builds a fresh index and reads every input again.

An index whose pickles would run code (:class:`~indexer.trust.UnsafeIndex`) is refused, never repaired.
"""

from __future__ import annotations

import errno
import os
import re
import struct
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from whoosh import columns
from whoosh import index as whoosh_index
from whoosh.codec import whoosh3
from whoosh.util.numeric import byte_to_length

from indexer import postings as sidecars
from indexer import safe_pickle
from indexer.safe_pickle import CorruptPickle, ForbiddenPickle
from indexer.store import (
    INDEX_NAME,
    LOCK_NAME,
    IndexDamaged,
    IndexMissing,
    index_exists,
    latest_toc,
    resolve_index_dir,
)
from indexer.trust import UnsafeIndex

T = TypeVar("T")
LENGTH_OF_BYTE = np.array([byte_to_length(b) for b in range(256)], dtype=np.int64)
_SEGID = re.compile(r"^[a-z0-9]{1,64}$")  # Whoosh's random ids; keeps segment files in the index directory
TAIL_TERMS = 10_000  # terms walked back from the last one to find the last posting list of a .pst
DAMAGED_PREFIX = "damaged-"


@dataclass(frozen=True)
class Damage:
    """One thing wrong with one file of the index. ``others`` names the files it was compared with when
    which of them is at fault cannot be told (a column that disagrees with the stored fields)."""

    file: str
    problem: str
    others: tuple[str, ...] = ()

    @property
    def files(self) -> list[str]:
        return [self.file, *self.others]

    def __str__(self) -> str:
        return f"{self.file} {self.problem}"


class _Found(Exception):
    def __init__(self, damage: Damage):
        self.damage = damage


class _Wrong(ValueError):
    """Found by a check of this module: its message is the whole problem."""


def _describe(e: BaseException) -> str:
    if isinstance(e, CorruptPickle):
        return e.problem
    if isinstance(e, _Wrong):
        return str(e)
    text = " ".join(str(e).split())[:160]
    return f"does not read ({type(e).__name__}{': ' + text if text else ''})"


class _Reading:
    """Runs one read of one file, turning what goes wrong into a :class:`Damage` (raised as ``_Found``)."""

    def __init__(self, index_dir: Path):
        self.index_dir = index_dir

    def __call__(self, file: str, read: Callable[[], T]) -> T:
        try:
            return read()
        except ForbiddenPickle as e:
            raise UnsafeIndex(self.index_dir / file.split(" ")[0], e.global_name, self.index_dir) from None
        except FileNotFoundError:
            raise _Found(Damage(file, "is missing")) from None
        except (PermissionError, MemoryError):  # not the files' fault: never a reason to rebuild
            raise
        except OSError as e:
            if e.errno != errno.EINVAL:  # EINVAL: a seek where a damaged file says; others: the system
                raise
            raise _Found(Damage(file, _describe(e))) from None
        except (Exception, RecursionError) as e:
            raise _Found(Damage(file, _describe(e))) from None


def _size(storage: Any, name: str) -> int | None:
    try:
        return storage.file_length(name) if storage.file_exists(name) else None
    except (OSError, KeyError):
        return None


def _check_segment_object(seg: Any, toc: str) -> None:
    """The TOC's segment is a W3 segment of this index, with sane attributes: its id names files in the index
    directory only, its counts are counts."""
    attrs = vars(seg) if isinstance(seg, whoosh3.W3Segment) else {}
    segid, doccount, deleted = attrs.get("segid"), attrs.get("_doccount"), attrs.get("_deleted")
    ok = (isinstance(segid, str) and _SEGID.match(segid) and attrs.get("indexname") == INDEX_NAME
          and isinstance(attrs.get("_codec"), whoosh3.W3Codec)
          and type(doccount) is int and doccount >= 0 and type(attrs.get("compound")) is bool
          and (deleted is None or (isinstance(deleted, set | frozenset)
                                   and all(type(d) is int and 0 <= d < doccount for d in deleted))))
    if not ok:
        raise _Found(Damage(toc, "lists a segment that presse does not write"))


class _VarBytes:
    """A column of Whoosh's ``VarBytesColumn`` layout (each document's value end to end, then one length per
    document, then one offset per document past Whoosh's cutoff, then the type codes), read with numpy.
    Whoosh's own reader derives every document's offset in a Python loop as it opens: on NSB's three segments
    that was 20 ms of every cold search, for the two values per column the quick check reads. Opening this
    one also checks that the layout adds up exactly: the lengths sum to the bytes of data before them."""

    def __init__(self, dbfile: Any, size: int, doccount: int, decode: Callable[[bytes], Any]):
        self.dbfile, self.decode = dbfile, decode
        last = size - 1
        if last < 0:
            raise _Wrong("is empty")
        code, offsets_code = chr(dbfile.get_byte(last)), ""
        if code == "X":  # Whoosh wrote the offsets too: the two codes come before the "X"
            code, offsets_code = chr(dbfile.get_byte(last - 2)), chr(dbfile.get_byte(last - 1))
            last -= 2
        if offsets_code:
            last -= _array_size(offsets_code) * doccount
        self.data_size = last - _array_size(code) * doccount
        if self.data_size < 0:
            raise _Wrong(f"is truncated: {size} bytes cannot hold {doccount} lengths")
        self.lengths = _array_at(dbfile, self.data_size, code, doccount)
        found = int(self.lengths.sum(dtype=np.int64))
        if found != self.data_size:
            raise _Wrong(f"is truncated or garbled: its lengths add up to {found} bytes, it holds "
                         f"{self.data_size}")
        self._offsets = _array_at(dbfile, last, offsets_code, doccount) if offsets_code else None

    def offset(self, docnum: int) -> int:
        if self._offsets is None:
            if docnum == 0:
                return 0
            if docnum == len(self.lengths) - 1:  # the quick check's other value: the data ends with it
                return self.data_size - int(self.lengths[docnum])
            self._offsets = np.concatenate(([0], np.cumsum(self.lengths[:-1], dtype=np.int64)))
        return int(self._offsets[docnum])

    def __getitem__(self, docnum: int) -> Any:
        length = int(self.lengths[docnum])
        return self.decode(self.dbfile.get(self.offset(docnum), length) if length else b"")


def _array_size(code: str) -> int:
    return struct.calcsize(code)  # as Whoosh computes where an array starts; a garbled code raises here


def _array_at(dbfile: Any, pos: int, code: str, count: int) -> np.ndarray:
    """An array Whoosh wrote with ``write_array`` (big-endian, the ``array`` module's type code)."""
    size = _array_size(code)
    kind = "i" if code.islower() else "u"
    return np.frombuffer(dbfile.get(pos, size * count), dtype=f">{kind}{size}")


def _stored_value(raw: bytes) -> Any:
    """A document's stored fields from its ``_stored`` column value, as Whoosh's ``STORED_COLUMN`` decodes it
    (zlib, then a pickle; through :mod:`indexer.safe_pickle`, as every pickle of an index)."""
    return safe_pickle.loads(zlib.decompress(raw)) if raw else None


@dataclass
class _Segment:
    """The files of one segment, opened: ``storage`` is the directory or the segment's compound file."""

    seg: Any
    storage: Any
    label: Callable[[str], str]
    compound: bool = False
    terms: Any = None
    perdoc: Any = None
    columns: dict[str, Any] = field(default_factory=dict)  # column name -> column type
    readers: dict[str, Any] = field(default_factory=dict)  # column name -> its reader
    files: list[Any] = field(default_factory=list)  # files opened for the readers, closed with the segment

    def close(self) -> None:
        for thing in (self.terms, self.perdoc, *self.files):
            if thing is not None:
                try:
                    thing.close()
                except Exception:  # closing what failed to read: nothing more to say
                    pass
        if self.compound:
            try:
                self.storage.close()
            except Exception:
                pass


def _open_segment(read: _Reading, storage: Any, schema: Any, seg: Any, toc: str) -> _Segment:
    """Open a segment's files and check they are all there at their sizes (the quick check)."""
    _check_segment_object(seg, toc)
    if seg.is_compound():
        container = seg.make_filename(seg.COMPOUND_EXT)
        size = _size(storage, container)
        if size is None:
            raise _Found(Damage(container, "is missing"))
        sub = read(container, lambda: seg.open_compound_file(storage))
        for inner, info in read(container, lambda: sorted(sub._dir.items())):
            end = info["offset"] + info["length"]
            if end > size:
                raise _Found(Damage(container, f"is truncated: {size} bytes, but {inner} ends at byte {end}"))
        opened = _Segment(seg, sub, lambda name: f"{name} (in {container})", compound=True)
    else:
        opened = _Segment(seg, storage, lambda name: name)
    try:
        _quick(read, opened, schema)
    except BaseException:
        opened.close()
        raise
    return opened


def _quick(read: _Reading, s: _Segment, schema: Any) -> None:
    seg, storage, label = s.seg, s.storage, s.label
    codec = seg.codec()
    trm, pst = seg.make_filename(codec.TERMS_EXT), seg.make_filename(codec.POSTS_EXT)
    for name in (trm, pst, codec.column_filename(seg, "_stored")):
        if _size(storage, name) is None:
            raise _Found(Damage(label(name), "is missing"))
    s.terms = read(label(trm), lambda: codec.terms_reader(storage, seg))
    read(label(pst), lambda: _check_postings_end(s.terms, storage.file_length(pst)))
    # The columns: stored fields, field lengths of every scored field with postings, sortable fields.
    s.columns = {"_stored": whoosh3.STORED_COLUMN}
    for fieldname in read(label(trm), lambda: list(s.terms._fieldmap)):
        if fieldname in schema and schema[fieldname].scorable:
            s.columns[f"_{fieldname}_len"] = whoosh3.LENGTHS_COLUMN
    prefix = seg.make_filename(".")
    for name in storage.list():
        if name.startswith(prefix) and name.endswith(codec.COLUMN_EXT):
            colname = name[len(prefix):-len(codec.COLUMN_EXT)]
            if colname in schema and schema[colname].column_type is not None:
                s.columns[colname] = schema[colname].column_type
    s.perdoc = codec.per_document_reader(storage, seg)
    n = seg.doc_count_all()
    for colname, coltype in s.columns.items():
        name = label(codec.column_filename(seg, colname))
        if not s.perdoc.has_column(colname):
            raise _Found(Damage(name, "is missing"))
        reader = s.readers[colname] = read(name, lambda c=colname, t=coltype: _column_reader(s, c, t))
        for docnum in {0, n - 1} if n else ():
            read(name, lambda r=reader, d=docnum: r[d])
        if coltype is whoosh3.LENGTHS_COLUMN:
            read(name, lambda c=colname: _lengths_add_up(s, c[1:-4]))
    _stored_agrees(read, s, schema, sorted({0, n - 1}) if n else [])


def _column_reader(s: _Segment, colname: str, coltype: Any) -> Any:
    """A reader of one column for the checks: :class:`_VarBytes` for the variable-length ones, Whoosh's own
    for the fixed-width ones (which open without reading anything)."""
    if coltype is whoosh3.STORED_COLUMN:
        decode: Callable[[bytes], Any] = _stored_value
    elif type(coltype) is columns.VarBytesColumn:
        decode = bytes
    else:
        return s.perdoc.column_reader(colname, coltype)
    name = s.seg.codec().column_filename(s.seg, colname)
    dbfile = s.storage.open_file(name)
    s.files.append(dbfile)
    return _VarBytes(dbfile, s.storage.file_length(name), s.seg.doc_count_all(), decode)


def _lengths_add_up(s: _Segment, fieldname: str) -> None:
    """A field's length column (one byte per document, up to the last document with the field) adds up to
    the field's total length recorded in the segment, give or take the byte encoding's rounding (measured:
    0 to +2 %). A column cut short misses the lengths of its last documents."""
    total = s.seg._fieldlengths.get(fieldname, 0)
    raw = s.storage.open_file(s.seg.codec().column_filename(s.seg, f"_{fieldname}_len"))
    try:
        counts = np.bincount(np.frombuffer(raw.read(), dtype=np.uint8), minlength=256)
    finally:
        raw.close()
    if counts[255]:  # a length past byte_to_length(255) (106,374 tokens) is stored as that cap: no sum
        return
    found = int(counts @ LENGTH_OF_BYTE)  # counted in numpy: this runs on every open, for every segment
    if found < 0.95 * total:
        raise _Wrong(f"is truncated: its lengths add up to {found}, the segment says {total}")


def _stored_agrees(read: _Reading, s: _Segment, schema: Any, docnums: Iterable[int]) -> None:
    """A sortable field that is also stored (date, lang, source) has the same value in its column as in the
    document's stored fields. A fixed-width column cut short reads as "no value" for the documents past its
    end, so this is how a truncated date column shows."""
    codec = s.seg.codec()
    stored_name = s.label(codec.column_filename(s.seg, "_stored"))
    both = [c for c in s.columns if c in schema and schema[c].stored]
    for docnum in docnums:
        stored = read(stored_name, lambda d=docnum: s.readers["_stored"][d])
        stored = {} if stored is None else stored  # as Whoosh's stored_fields gives a document without any
        if not isinstance(stored, dict):
            raise _Found(Damage(stored_name, f"holds {type(stored).__name__} for document {docnum}"))
        for colname in both:
            value = stored.get(colname)
            name = s.label(codec.column_filename(s.seg, colname))
            expected = read(stored_name, lambda c=colname, v=value: s.columns[c].default_value() if v is None
                            else schema[c].to_column_value(v))
            got = read(name, lambda c=colname, d=docnum: s.readers[c][d])
            if got != expected:
                raise _Found(Damage(name, f"disagrees with {stored_name} for document {docnum}: one of them "
                                          "is truncated or garbled", others=(stored_name,)))


def _check_postings_end(terms: Any, size: int) -> None:
    """The last posting list written (that of the last term not inlined in the terms file) ends inside the
    postings file and starts with its block tag: a truncated .pst fails here."""
    tindex = terms._tindex
    for i in range(tindex.indexlen - 1, max(-1, tindex.indexlen - 1 - TAIL_TERMS), -1):
        pos = tindex._get_pos(tindex.indexbase + i * tindex.indexsize)
        _key, datapos, datalen = tindex.key_and_range_at(pos)
        if tindex.dbfile.get(datapos, 1) != b"\x00":  # the flags byte: postings inlined in the terms file
            continue
        info = whoosh3.W3TermInfo.from_bytes(tindex.dbfile.get(datapos, datalen))
        offset, length = info.extent()
        length = length[0] if isinstance(length, tuple) else length  # Whoosh unpacks it as a 1-tuple
        if offset + length > size:
            raise _Wrong(f"is truncated: {size} bytes, but its postings reach byte {offset + length}")
        if terms._postfile.get(offset, 4) != whoosh3.WHOOSH3_HEADER_MAGIC:
            raise _Wrong(f"has no posting list at byte {offset}")
        return


def _open_toc(read: _Reading, index_dir: Path) -> tuple[Any, str]:
    gen, toc = latest_toc(index_dir)
    if gen < 0:
        raise IndexMissing(index_dir)
    ix = read(toc, lambda: whoosh_index.open_dir(str(index_dir), indexname=INDEX_NAME))
    if ix.latest_generation() != gen:  # a commit landed meanwhile: open the new one
        ix.close()
        raise FileNotFoundError(toc)
    try:
        read(toc, lambda: _check_schema(ix.schema))
    except BaseException:
        ix.close()
        raise
    return ix, toc


def _same(a: Any, b: Any, depth: int = 0) -> bool:
    """Field definitions compared by value, attribute by attribute (Whoosh's own ``__eq__`` compares its
    columns and structs by identity)."""
    if type(a) is not type(b) or depth > 8:
        return False
    if isinstance(a, struct.Struct):
        return a.format == b.format
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y, depth + 1) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k], depth + 1) for k in a)
    if hasattr(a, "__dict__") and not callable(a):
        return _same(vars(a), vars(b), depth + 1)
    return bool(a == b)


def _check_schema(schema: Any) -> None:
    """Each field of the index is the one :func:`indexer.schema.make_schema` makes, analyzers included (an
    index from a presse whose analysis differs gives wrong results: it is rebuilt, like a damaged one). An
    older index may lack fields that later versions add (:mod:`indexer.updating` adds them)."""
    from indexer.schema import make_schema

    code = make_schema()
    for name in schema.names():
        if name not in code:
            raise _Wrong(f"has a field presse does not write ({name[:40]!r})")
        if not _same(schema[name], code[name]):
            raise _Wrong(f"defines the field {name[:40]!r} otherwise than this version of presse")


@contextmanager
def _segments(read: _Reading, ix: Any, toc: str) -> Iterator[list[_Segment]]:
    opened: list[_Segment] = []
    try:
        for seg in read(toc, ix._segments):  # Whoosh's own list of the segments of the TOC it read
            opened.append(_open_segment(read, ix.storage, ix.schema, seg, toc))
        yield opened
    finally:
        for s in opened:
            s.close()


def quick_problems(index_dir: Path | str) -> list[Damage]:
    """What the quick check finds wrong with the index at ``index_dir`` (empty: nothing)."""
    ix, problems = _quick_open(Path(index_dir))
    if ix is not None:
        ix.close()
    return problems


def _quick_open(index_dir: Path) -> tuple[Any, list[Damage]]:
    """(the index, opened after the quick check, and no damage) or (None, what the check found wrong)."""
    read = _Reading(index_dir)
    try:
        ix, toc = _open_toc(read, index_dir)
    except _Found as found:
        return None, [found.damage]
    try:
        with _segments(read, ix, toc):
            return ix, []
    except _Found as found:
        ix.close()
        return None, [found.damage]
    except BaseException:
        ix.close()
        raise


def open_checked(index_dir: Path):
    """Open the index at ``index_dir`` after the quick check (see the module doc); raises
    :class:`~indexer.store.IndexDamaged`, :class:`~indexer.trust.UnsafeIndex`, or ``FileNotFoundError`` when
    a commit replaced the generation meanwhile (open again)."""
    read = _Reading(index_dir)
    gen = latest_toc(index_dir)[0]
    try:
        ix, toc = _open_toc(read, index_dir)
    except _Found as found:
        raise IndexDamaged(index_dir, found.damage.file, found.damage.problem) from None
    try:
        with _segments(read, ix, toc):
            pass
    except _Found as found:
        ix.close()
        if found.damage.problem == "is missing" and latest_toc(index_dir)[0] != gen:
            raise FileNotFoundError(found.damage.file) from None  # deleted by a commit: not damage
        raise IndexDamaged(index_dir, found.damage.file, found.damage.problem) from None
    except BaseException:
        ix.close()
        raise
    return ix


# ------------------------------------------------------------------------------------------ the full check

@dataclass
class CheckReport:
    """What ``presse check`` found. ``problems`` empty means the index is sound."""

    index_dir: str
    generation: int = -1
    segments: int = 0
    documents: int = 0
    files: int = 0
    terms: int = 0
    postings: int = 0
    problems: list[Damage] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"index_dir": self.index_dir, "ok": self.ok, "generation": self.generation,
                "segments": self.segments, "documents": self.documents, "files": self.files,
                "terms": self.terms, "postings": self.postings,
                "problems": [{"file": d.file, "problem": d.problem, "files": d.files} for d in self.problems],
                "seconds": round(self.seconds, 3)}

    def lines(self) -> list[str]:
        out = [f"index: {self.index_dir} (generation {self.generation}, {self.segments} segments, "
               f"{self.documents} statements)",
               f"checked: {self.files} files, {self.terms} terms, {self.postings} postings "
               f"in {self.seconds:.1f} s"]
        if self.ok:
            out.append("ok: no problem found")
        else:
            out.append(f"damaged: {len(self.problems)} problem{'s' if len(self.problems) > 1 else ''}")
            out += [f"  {d}" for d in self.problems]
            out.append("`presse index PATH...` rebuilds the index from the corpus.")
        return out


_END = object()


def _full_segment(read: _Reading, s: _Segment, schema: Any, report: CheckReport) -> None:
    seg, codec, label = s.seg, s.seg.codec(), s.label
    n = seg.doc_count_all()
    trm, pst = label(seg.make_filename(codec.TERMS_EXT)), label(seg.make_filename(codec.POSTS_EXT))
    terms = s.terms
    last_doc: dict[str, int] = {}  # field -> the last document with a posting in it
    items = terms.items()  # ((fieldname, term bytes), term info), in file order
    while True:
        item = read(trm, lambda: next(items, _END))
        if item is _END:
            break
        (fieldname, tbytes), info = item
        if fieldname not in schema:
            raise _Found(Damage(trm, f"lists a term of a field the schema does not have ({fieldname!r})"))
        report.terms += 1
        fmt = schema[fieldname].format
        matcher = read(pst, lambda f=fieldname, b=tbytes, i=info, t=fmt: codec.postings_reader(
            terms._postfile, i, t, term=(f, b)))
        count, last = read(pst, lambda m=matcher: _drain(m, n))
        last_doc[fieldname] = max(last, last_doc.get(fieldname, -1))
        if count != info.doc_frequency():
            raise _Found(Damage(pst, f"holds {count} postings for a term of {fieldname} where the terms file "
                                     f"says {info.doc_frequency()}"))
        report.postings += count
    for colname, coltype in s.columns.items():
        name = label(codec.column_filename(seg, colname))
        reader = read(name, lambda c=colname, t=coltype: s.perdoc.column_reader(c, t))
        values = read(name, lambda r=reader: sum(1 for _ in r))
        if values != n:
            raise _Found(Damage(name, f"holds {values} values for {n} documents"))
    for fieldname, docnum in last_doc.items():  # a length column cut short reads as length 0 past its end
        colname = f"_{fieldname}_len"
        if colname in s.readers and not read(label(codec.column_filename(seg, colname)),
                                              lambda c=colname, d=docnum: s.readers[c][d]):
            raise _Found(Damage(label(codec.column_filename(seg, colname)),
                                f"gives no length for document {docnum}, which has postings in {fieldname}"))
    _stored_agrees(read, s, schema, range(n))


def _drain(matcher: Any, doccount: int) -> tuple[int, int]:
    """Read a whole posting list, a block at a time: ids, weights and values; return how many it holds and
    its last document."""
    count, last = 0, -1
    if not isinstance(matcher, whoosh3.W3LeafMatcher):  # postings inlined in the terms file
        while matcher.is_active():
            docnum = matcher.id()
            if not last < docnum < doccount:
                raise _Wrong(f"has a posting for document {docnum}, out of order or past {doccount}")
            matcher.weight(), matcher.value()
            last, count = docnum, count + 1
            matcher.next()
        return count, last
    while matcher.is_active():
        matcher._read_ids(), matcher._read_weights(), matcher._read_values()
        ids, n = matcher._ids, matcher._blocklength
        if not (len(ids) == len(matcher._weights) == len(matcher._values) == n) or n == 0:
            raise _Wrong("has a posting block whose lists differ in length")
        if ids[0] <= last or ids[-1] >= doccount or any(a >= b for a, b in zip(ids, ids[1:], strict=False)):
            raise _Wrong(f"has a posting block with documents out of order or beyond {doccount} documents")
        last, count = ids[-1], count + n
        matcher._next_block()
    return count, last


def check(index_dir: Path | str | None = None) -> CheckReport:
    """Verify every file of the index at ``index_dir`` (see the module doc). Raises
    :class:`~indexer.store.IndexMissing` when there is no index, :class:`~indexer.trust.UntrustedIndex` when
    others may write it; everything else wrong is listed in the report's ``problems``."""
    start = time.monotonic()
    index_dir = resolve_index_dir(index_dir)
    if not index_exists(index_dir):  # (the ownership check, too)
        raise IndexMissing(index_dir)
    report = CheckReport(index_dir=str(index_dir))
    read = _Reading(index_dir)
    try:
        try:
            ix, toc = _open_toc(read, index_dir)
        except FileNotFoundError:  # a commit landed while we opened: check the new one
            ix, toc = _open_toc(read, index_dir)
        report.generation = ix.latest_generation()
        report.documents = read(toc, lambda: sum(seg.doc_count() for seg in ix._segments()))
        try:
            with _segments(read, ix, toc) as segments:
                report.segments = len(segments)
                for s in segments:
                    prefix = s.seg.make_filename(".")
                    report.files += sum(1 for n in s.storage.list() if n.startswith(prefix)) + s.compound
                    terms, postings = report.terms, report.postings
                    _full_segment(read, s, ix.schema, report)
                    report.problems += [Damage(name, why) for name, why in sidecars.segment_problems(
                        index_dir, s.seg.segment_id(), s.seg.doc_count_all(), report.terms - terms,
                        report.postings - postings)]  # indexer.postings
        finally:
            ix.close()
        report.files += 1  # the TOC
    except _Found as found:
        report.problems.append(found.damage)
    except UnsafeIndex as e:
        report.problems.append(Damage(e.path.name, e.why + ", which presse never writes (it was not run)"))
    if report.ok:
        report.problems += _manifest_problems(index_dir, report)
    report.seconds = time.monotonic() - start
    return report


def _manifest_problems(index_dir: Path, report: CheckReport) -> list[Damage]:
    from indexer.manifest import MANIFEST_NAME, Manifest

    if not (index_dir / MANIFEST_NAME).is_file():
        return [Damage(MANIFEST_NAME, "is missing (the next `presse index` reads every input again)")]
    manifest = Manifest.load(index_dir)
    if manifest.generation != report.generation:
        return [Damage(MANIFEST_NAME, f"describes generation {manifest.generation}, not {report.generation} "
                                      "(the next `presse index` rebuilds it from the index)")]
    if manifest.statement_count() != report.documents:
        return [Damage(MANIFEST_NAME, f"lists {manifest.statement_count()} statements, the index holds "
                                      f"{report.documents}")]
    return []


# ------------------------------------------------------------------------------------------------- repair

def repair(index_dir: Path, paths: Iterable[str | Path], report: Any) -> tuple[list[str], Any]:
    """Before an update, with the write lock held: if the quick check finds the index at ``index_dir``
    damaged, move its files and its manifest into ``damaged-<time>/`` there (nothing is deleted), so the
    update builds the index afresh, and set ``report.repaired`` to what was wrong.

    Returns the paths the update is to read: ``paths``, and after a rebuild also every input the damaged
    index held from elsewhere that still exists, so that a rebuild loses nothing; and the index the check
    opened when it is sound (None when there is none or it was set aside): with the lock held nothing can
    change it, and checking it again to open it would read every column of every segment twice (most of a
    no-op update). An index that holds code is not repaired: :class:`~indexer.trust.UnsafeIndex`
    propagates."""
    from indexer.manifest import Manifest

    index_dir = Path(index_dir)
    paths = [str(p) for p in paths]
    if not index_exists(index_dir):
        return paths, None
    ix, problems = _quick_open(index_dir)
    if not problems:
        return paths, ix
    aside = index_dir / f"{DAMAGED_PREFIX}{datetime.now(UTC).strftime('%Y%m%dT%H%M%S.%fZ')}"
    aside.mkdir()
    for entry in os.scandir(index_dir):
        if entry.name != LOCK_NAME and entry.is_file(follow_symlinks=False):
            os.replace(entry.path, aside / entry.name)
    report.repaired = f"{problems[0]}; its files are now in {aside}"
    given = [os.path.abspath(p) for p in paths]
    old = Manifest.load(aside)
    for key, entry in old.inputs.items():
        real = entry.real_path(key)
        if os.path.exists(real) and not any(_under(real, g) for g in given):
            paths.append(real)
    return paths, None


def _under(path: str, top: str) -> bool:
    try:
        return os.path.commonpath([path, top]) == top
    except ValueError:
        return False
