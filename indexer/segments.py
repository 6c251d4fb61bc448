"""A segment writer for bulk adds: Whoosh's file format, without Whoosh's per-posting overhead.

Whoosh's ``SegmentWriter`` puts every posting in a sorting pool as a 5-tuple, spills the pool to disk
(one pickle per posting) past ``limitmb``, merges the sorted runs back, and then, while writing each posting
list, reads every document's field length back from the lengths file it has just written. On a big build
that bookkeeping costs more than the analysis itself (see bench/README.md, "Where the build time goes").

:class:`BulkWriter` keeps the same segment files, codec and semantics and changes only how postings wait
for the segment to be finished: grouped per field and term as they arrive (documents come in docnum
order, so each posting list is already sorted), with the field lengths kept in memory. Finishing a segment
sorts the terms of each field once and writes each posting list's blocks in Whoosh's W3 block format in one
pass (:meth:`BulkWriter._write_term`). The result is a plain Whoosh segment: readers, merges and searches
do not know the difference, and a test compares both writers' segments byte by byte.

Not supported (presse's schema uses none of them, and :func:`check_schema` refuses a schema that does):
term vectors and separate spelling fields.
"""

from __future__ import annotations

import struct
import zlib
from array import array
from collections.abc import Callable, Iterator
from datetime import datetime
from operator import sub
from pickle import dumps
from typing import Any

from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC
from whoosh.columns import PickleColumn
from whoosh.system import pack_int, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter

from indexer import postings


def check_schema(schema) -> None:
    """Raise ValueError for a field :class:`BulkWriter` cannot write exactly as Whoosh would."""
    for name, field in schema.items():
        if field.vector or field.separate_spelling():
            raise ValueError(f"field {name!r}: term vectors and spelling fields are not supported")


class _Postings:
    """One term's postings in a segment being built: docnums, weights and encoded values, in docnum order.

    The values (encoded positions) are kept end to end in one ``bytearray`` with their end offsets, not as a
    bytes object each: a bytes object costs ~40 bytes more than its data, and a 20,000-statement segment
    holds millions of postings (the peak memory of a build is that of its biggest segment)."""

    __slots__ = ("ids", "weights", "data", "ends")

    def __init__(self) -> None:
        self.ids = array("I")
        self.weights = array("f")
        self.data = bytearray()
        self.ends = array("Q")

    def values(self, start: int, end: int) -> list[bytes]:
        """The encoded values of postings start..end-1 ([] for a field that stores none)."""
        ends = self.ends
        if not ends:
            return []
        view = memoryview(self.data)
        lo = ends[start - 1] if start else 0
        out = []
        for i in range(start, end):
            hi = ends[i]
            out.append(bytes(view[lo:hi]))
            lo = hi
        return out


# Posting lists this short are stored in the term table ("inlined", a format Whoosh's W3 codec reads, and
# presse's readers too: indexer.postings, indexer.integrity) instead of as a block of the postings file:
# most terms of a segment occur in one or two statements, and a block costs a pickle, a zlib stream and
# its headers each (about half of finishing a segment). Whoosh's own writer never inlines: its
# ``inlinelimit=1`` means "fewer than one" (and the call it would make, ``set_inline``, does not exist).
# Only lists with values (positions) are inlined: Whoosh's inlined reader (ListMatcher) gives "" for a
# posting without a value, which its own merging then refuses (a block gives None).
INLINE_POSTINGS = 4


# Blocks are zlib-compressed at the codec's level (Whoosh's default, 3), except blocks whose pickle is under
# COMPRESS_FROM bytes, stored as they are (a block says its compression; every reader honours it): below that
# zlib's header and checksum make them larger, not smaller (a block of a one-posting list of an ID field,
# ~20 bytes, grows to ~28), and most blocks are those (NSB: the unique "id", "exact", "group" terms). Whoosh
# means to do the same under 20 bytes, but a slip in its _write_block compresses them anyway.
COMPRESS_FROM = 32
# Posting blocks and inlined postings are pickled with protocol 4, where Whoosh's writer uses 2: protocol 2
# writes each bytes object (a posting's positions) as a call to _codecs.encode of its latin-1 text, so a
# block took twice the bytes to pickle, compress, decompress and unpickle. Any reader unpickles either.
PICKLE_PROTOCOL = 4
# A term-table row as W3TermInfo.to_bytes writes it: flags (1: inlined), weight, document frequency, min and
# max length bytes, max weight, first and last id (_TERM_HEAD); then either the inlined postings' pickle, or
# the extent (offset, length) of the postings in the postings file (_TERM_ROW).
_TERM_HEAD = struct.Struct("!BfIBBfII")
_TERM_ROW = struct.Struct(_TERM_HEAD.format + "qi")


def _block_data(ids: array, weights: array, p: _Postings, start: int, end: int, with_values: bool,
                fixed: int | None) -> bytes:
    """A block's pickled (ids, weights, values), minified as W3PostingsWriter does (``_mini_ids``,
    ``_mini_weights``, ``_mini_values``): ids delta-coded, weights None when all 1.0 or one number when all
    equal, values a tuple (or None for a field without values, joined for a fixed size)."""
    docs = ids.tolist()
    deltas = tuple(map(sub, docs, [0, *docs[:-1]]))
    first = weights[0]
    if weights.count(first) == len(weights):
        mini_weights = None if first == 1.0 else first
    else:
        mini_weights = tuple(weights)
    if with_values:
        values = tuple(p.values(start, end))
    else:
        values = None if fixed == 0 else b"".join(p.values(start, end))
    return dumps((deltas, mini_weights, values), PICKLE_PROTOCOL)


def _inlined_row(p: _Postings, lengths: dict[int, int]) -> bytes:
    """The term-table row of a short posting list with its postings inlined (``W3TermInfo.to_bytes``): the
    statistics a one-block list gives it (as ``W3TermInfo.add_block``), then the postings (ids, weights,
    values) pickled as Whoosh inlines them, with protocol PICKLE_PROTOCOL."""
    ids, weights = tuple(p.ids), tuple(p.weights)
    found = [lengths[d] for d in ids if d in lengths] if lengths else []
    head = _TERM_HEAD.pack(1, sum(weights), len(ids), length_to_byte(min(found)) if found else 0,
                           length_to_byte(max(found) if found else 0), max(0, max(weights)), ids[0], ids[-1])
    return head + dumps((ids, weights, tuple(p.values(0, len(ids)))), PICKLE_PROTOCOL)


MEMO_VALUES = 4096  # values remembered per field by BulkWriter._index and _column_value (a few MB)
_MEMO_TYPES = frozenset({str, int, datetime})  # hashable, and never equal across types (1 == 1.0 == True)


# The stored-fields column keeps each document as a zlib stream (Whoosh's CompressedBytesColumn reads only
# that), at level 0: stored, not compressed. Most of a document's stored bytes are its body_z, compressed
# already; compressing the pickle again gained 3 % of the column (NSB) for ~80 us a document.
STORED_COMPRESSION = 0


class _StoredColumnWriter(PickleColumn.Writer):
    """Whoosh's writer of the stored-fields column (``STORED_COLUMN``: a pickle a document, zlib-compressed),
    pickling with PICKLE_PROTOCOL: a document's ``body_z`` (compressed bytes) no longer goes through latin-1
    text and back, so the column is a sixth smaller and cheaper to write and to read."""

    def add(self, docnum: int, v: Any) -> None:
        self._child.add(docnum, b"" if v is None else dumps(v, PICKLE_PROTOCOL))


def _remembered(memo: dict, value: Any, make: Callable[[Any], Any]) -> Any:
    """``make(value)``, remembered in ``memo`` for a value of a type in _MEMO_TYPES; bounded at MEMO_VALUES
    (a unique field, such as the ids, would otherwise grow it with the segment)."""
    if type(value) not in _MEMO_TYPES:
        return make(value)
    found = memo.get(value)
    if found is None:
        if len(memo) >= MEMO_VALUES:
            memo.clear()
        found = memo[value] = make(value)
    return found


class BulkWriter(SegmentWriter):
    """A ``SegmentWriter`` that buffers postings per term in memory (see the module doc).

    Used like Whoosh's: ``add_document(**fields)``, ``delete_document``, ``commit()`` or, as
    :class:`indexer.updating._Adder` does, ``_finalize_segment()`` to finish a segment for a later commit.
    """

    def __init__(self, ix, **kwargs: Any) -> None:
        super().__init__(ix, **kwargs)
        check_schema(self.schema)
        columns = self.perdocwriter._colwriters
        columns["_stored"] = _StoredColumnWriter(columns["_stored"]._child)
        columns["_stored"]._child._level = STORED_COMPRESSION
        self._terms: dict[str, dict[bytes, _Postings]] = {}  # field -> term bytes -> postings
        self._lengths: dict[str, dict[int, int]] = {}  # field -> docnum -> length, as the lengths file has it
        self._scorable = {name: field.scorable for name, field in self.schema.items()}
        # Per field without values (ID, NUMERIC, DATETIME: a posting is a term and a weight), value -> its
        # postings, and per column field value -> column value: a language, a source, a year, a date or a
        # length recurs from document to document, and Whoosh's field code (NUMERIC's tiered terms, its
        # datetime conversions) costs more than the lookup.
        self._memo = {name: {} for name, field in self.schema.items()
                      if field.indexed and field.format.fixed_value_size() == 0}
        self._column_memo = {name: {} for name, field in self.schema.items() if field.column_type}

    def add_document(self, **fields: Any) -> None:
        self._check_state()
        schema = self.schema
        perdocwriter = self.perdocwriter
        docnum = self.docnum
        docboost = self._doc_boost(fields)
        names = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(schema, names)

        # The whole document is analysed before any posting is kept: a failure leaves no posting behind
        # (and the per-document writer cancels the document, as in Whoosh's own add_document).
        pending: list[tuple[str, list, float]] = []
        perdocwriter.start_doc(docnum)
        try:
            for name in names:
                value = fields[name]
                if value is None:
                    continue
                field = schema[name]
                length = 0
                if field.indexed:
                    items = self._index(name, field, value)
                    if self._scorable[name]:
                        length = sum(item[1] for item in items)
                    pending.append((name, items, self._field_boost(fields, name, docboost)))
                stored = fields.get(f"_stored_{name}", value)
                perdocwriter.add_field(name, field, stored if field.stored else None, length)
                if length:
                    quantized = byte_to_length(length_to_byte(length))
                    if quantized:
                        self._lengths.setdefault(name, {})[docnum] = quantized
                column = field.column_type
                if column and stored is not None:
                    perdocwriter.add_column_value(name, column, self._column_value(name, field, stored))
        except Exception:
            perdocwriter.cancel_doc()
            for name, _items, _boost in pending:
                self._lengths.get(name, {}).pop(docnum, None)
            raise
        perdocwriter.finish_doc()

        for name, items, boost in pending:
            terms = self._terms.get(name)
            if terms is None:
                terms = self._terms[name] = {}
            for tbytes, _freq, weight, vbytes in items:
                p = terms.get(tbytes)
                if p is None:
                    p = terms[tbytes] = _Postings()
                p.ids.append(docnum)
                p.weights.append(weight * boost)
                if vbytes:
                    p.data += vbytes
                    p.ends.append(len(p.data))
        self._added = True
        self.docnum += 1

    def _index(self, name: str, field: Any, value: Any) -> list:
        """The postings ``field.index(value)`` gives, remembered per value for a field without values."""
        memo = self._memo.get(name)
        if memo is None:
            items = field.index(value)
            return items if isinstance(items, list) else list(items)
        return _remembered(memo, value, lambda v: list(field.index(v)))

    def _column_value(self, name: str, field: Any, value: Any) -> Any:
        """``field.to_column_value(value)``, remembered per value."""
        return _remembered(self._column_memo[name], value, field.to_column_value)

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        folder = getattr(self.storage, "folder", None)
        if folder is not None and not self.compound:  # the numpy search path's arrays of this segment
            # (indexer.postings; a compound segment would take the file in: it gets it after the commit)
            postings.write_buffered(postings.path_for(folder, self.newsegment.segment_id()), self.docnum,
                                    self._write_fields())
        else:
            for _field in self._write_fields():
                pass
        self.fieldwriter.close()
        self._terms.clear()
        self._lengths.clear()

    def _write_fields(self) -> Iterator[tuple[str, dict[bytes, _Postings]]]:
        """Each field's postings, in name order: yielded (for the sidecar) and then written to the segment,
        a term's postings freed as soon as they are written, so that what the segment files take while they
        are written reuses that memory (the peak of a build is a segment being finished)."""
        fw = self.fieldwriter
        for name in sorted(self._terms):
            terms = self._terms[name]
            yield name, terms
            lengths = self._lengths.get(name, {})
            fw.start_field(name, self.schema[name])
            pw = fw._postwriter
            limit = pw._blocklimit
            offset = pw._postfile.tell()  # then counted here: a tell() a term was a system call a term
            for tbytes in sorted(terms):
                offset = self._write_term(fw, pw, tbytes, terms.pop(tbytes), lengths, limit, offset)
            fw.finish_field()
            del self._terms[name]

    @staticmethod
    def _write_term(fw, pw, tbytes: bytes, p: _Postings, lengths: dict[int, int], limit: int,
                    start_offset: int) -> int:
        """One posting list: blocks of ``limit`` postings in Whoosh's W3 block format (what its postings
        writer's ``add_posting``, ``_write_block`` and ``finish_postings`` write, with the same statistics),
        made here in one pass and written at once: going through that writer's buffers cost more than the
        pickling and compression themselves. A short list is inlined in the term table instead
        (:func:`_inlined_row`). ``start_offset``: where the postings file is; returns where it is after."""
        ids, weights = p.ids, p.weights
        n = len(ids)
        key = pack_ushort(fw._fieldid) + tbytes
        if n <= INLINE_POSTINGS and p.ends:  # not a field without values: see INLINE_POSTINGS
            fw._tindex.add(key, _inlined_row(p, lengths))
            return start_offset
        fixed = fw._format.fixed_value_size()
        with_values = fixed is None or fixed < 0
        parts = [WHOOSH3_HEADER_MAGIC]
        total = 0.0  # the term's statistics, as W3TermInfo.add_block gathers them block by block
        minlength, maxlength, maxweight = None, 0, 0
        for start in range(0, n, limit):
            end = min(start + limit, n)
            block_ids = ids[start:end]
            block_weights = weights[start:end]
            block_max = max(0, max(block_weights))
            if lengths:
                try:
                    found = list(map(lengths.__getitem__, block_ids))
                except KeyError:
                    found = [lengths[d] for d in block_ids if d in lengths]
                low, high = (min(found), max(found)) if found else (None, 0)
            else:
                low, high = None, 0
            total += sum(block_weights)
            if low is not None:
                minlength = low if minlength is None else min(minlength, low)
            maxlength = max(maxlength, high)
            maxweight = max(maxweight, block_max)
            data = _block_data(block_ids, block_weights, p, start, end, with_values, fixed)
            comp = pw._compression if len(data) >= COMPRESS_FROM else 0
            if comp:
                data = zlib.compress(data, comp)
            info = dumps((end - start, block_ids[-1], block_max, comp, length_to_byte(low),
                          length_to_byte(high)), 2)
            size = len(info) + len(data)
            parts += (pack_int(-size if end == n else size), info, data)
        blob = b"".join(parts)
        pw._postfile.write(blob)
        row = _TERM_ROW.pack(0, total, n, 0 if minlength is None else length_to_byte(minlength),
                             length_to_byte(maxlength), maxweight, ids[0], ids[-1], start_offset, len(blob))
        fw._tindex.add(key, row)  # as W3FieldWriter.finish_term: (field id, term) -> term info
        return start_offset + len(blob)

    def _close_segment(self) -> None:
        self._terms.clear()
        self._lengths.clear()
        super()._close_segment()

