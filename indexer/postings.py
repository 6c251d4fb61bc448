"""A per-segment postings sidecar: a segment's posting lists as plain arrays, for the numpy search path.

Whoosh keeps a segment's postings as pickled blocks (zlib-compressed) found through an on-disk hash table
probed in pure Python: reading one term of one segment costs a table probe, a few unpicklings and a
decompression, and a query's words are read in every segment. The sidecar holds the same postings as
contiguous arrays in one file beside the segment, ``<segment id>.psc`` (Whoosh's own clean-up deletes it
with its segment), memory-mapped by the searcher, so a term is a binary search and a few slices.

Layout: ``MAGIC``, a little-endian uint32 header length, a JSON header (format version, document count,
and for each array its dtype, byte offset, length and CRC-32), then the arrays, 64-byte aligned:

- ``keys`` and ``key_ends``: the terms' keys (the field name, a NUL byte, the term bytes) end to end,
  sorted (a prefix's terms are a binary search away); ``hashes`` (uint64, ascending): a 64-bit BLAKE2b of
  each key, and ``order``: the term each hash belongs to, so a term is found by a binary search and a
  hash collision told apart by comparing keys;
- ``post_start`` (terms + 1; uint32 when it fits, as the other offsets): term t's postings are
  ``post_start[t]:post_start[t + 1]`` of ``docs`` (segment document numbers, deleted ones included, as
  Whoosh has them; uint16 in a segment of up to 65,536 documents) and ``counts`` (positions a posting has;
  0 in fields without positions);
- ``scales`` (float32 a term) and ``weights``: a posting's weight (Whoosh's) is its count (at least 1) times
  its term's scale, the field boost, unless the scale is NaN: then the term's weights are stored, from
  ``wt_start[t]`` in ``weights`` (float32);
- ``pos_start`` (terms + 1) and ``positions`` (uint16 when they fit): term t's positions, posting
  after posting, each posting's ``counts`` of them in ascending order.

Reading never unpickles (``np.frombuffer`` over the mapped file). A file that is absent, of another version,
of another document count or not as long as its header says is not used (the reader falls back to Whoosh's
postings); :meth:`Sidecar.problems` recomputes the CRCs for ``presse check``.

Written by a :class:`Builder`, a chunk of terms at a time: :class:`indexer.segments.BulkWriter` hands its
in-memory postings over when it finishes a segment (:func:`write_buffered`); :func:`refresh`, run after each
update and optimize, derives the file of any segment that lacks one or whose file fails its checksums
(segments written by Whoosh's own writer, merges, indexes made before sidecars) from the segment's own
posting blocks (:func:`derive`, :func:`leaf_postings`). Both give the same bytes.
"""

from __future__ import annotations

import io
import json
import mmap
import os
import pickle
import struct
import zlib
from collections.abc import Iterable
from hashlib import blake2b
from pathlib import Path
from typing import Any

import numpy as np

from indexer import safe_pickle  # index data is unpickled through the allowlist: it never runs code

SUFFIX = ".psc"
MAGIC = b"PRESSEPS"
VERSION = 2
_ALIGN = 64
_ARRAYS = ("hashes", "order", "key_ends", "keys", "post_start", "docs", "scales", "wt_start", "weights",
           "counts", "pos_start", "positions")
_STREAMED = ("docs", "weights", "counts", "positions")
_BLOCK_MAGIC = b"W3Bl"
_INT = struct.Struct("!i")
_HEAD = struct.Struct("<I")
_K, _M, _J, _MARK = ord("K"), ord("M"), ord("J"), ord("(")
_LIST_HEAD = b"\x80\x02]q\x00"  # protocol 2, EMPTY_LIST, BINPUT 0: how Whoosh's Positions pickles a list


class SidecarError(ValueError):
    """A sidecar that cannot be used: the reader keeps Whoosh's postings for that segment."""

    def __init__(self, path: Path, why: str) -> None:
        super().__init__(f"{path.name}: {why}")
        self.why = why


def key_of(fieldname: str, tbytes: bytes) -> bytes:
    return fieldname.encode("utf-8") + b"\0" + tbytes


def key_hash(key: bytes) -> int:
    return int.from_bytes(blake2b(key, digest_size=8).digest(), "little")


def path_for(folder: str | Path, segment_id: str) -> Path:
    return Path(folder) / f"{segment_id}{SUFFIX}"


# ---------------------------------------------------------------------------------------------------------
# Writing


class Builder:
    """Writes a segment's posting lists as one sidecar, term after term (any order), in bounded memory:
    postings are decoded and written a chunk of terms at a time (the encoded positions of a chunk's
    postings together, :func:`decode_values`) into temporary files, put together by :meth:`write`."""

    def __init__(self, path: str | Path, doc_count: int) -> None:
        self.path, self.doc_count = Path(path), doc_count
        self.keys: list[bytes] = []
        self.n_post: list[int] = []
        self.n_pos: list[int] = []
        self.n_wt: list[int] = []  # weights stored, per term (0: its scale gives them)
        self.scales: list[np.ndarray] = []
        self._chunk: list[tuple] = []
        self._chunk_postings = 0
        self._parts = {name: open(self.path.with_name(f"{self.path.name}.{name}.tmp"), "w+b")
                       for name in _STREAMED}

    def add(self, key: bytes, docs, weights, data: bytes = b"", ends=None) -> None:
        """One term: docnums (uint32), weights (float32), both as buffers (``array``, numpy), and
        (optionally) its postings' encoded values end to end in ``data``, ``ends`` (uint64 buffer) the end
        of each in it (None: a field without positions). Kept as they are until the chunk is written: a
        segment has hundreds of thousands of terms, so nothing is done term by term."""
        n = len(docs)
        self.keys.append(key)
        self.n_post.append(n)
        self._chunk.append((docs, weights, data, ends if ends is not None else bytes(8 * n)))
        self._chunk_postings += n
        if self._chunk_postings >= CHUNK_POSTINGS:
            self._flush()

    def _flush(self) -> None:
        chunk, self._chunk, self._chunk_postings = self._chunk, [], 0
        if not chunk:
            return
        n_post = np.array(self.n_post[len(self.n_post) - len(chunk):], dtype=np.int64)
        base = np.cumsum([0] + [len(v[2]) for v in chunk[:-1]], dtype=np.int64)
        ends = np.frombuffer(b"".join(v[3] for v in chunk), dtype=np.uint64).astype(np.int64)
        ends += np.repeat(base, n_post)
        counts, positions = decode_values(np.frombuffer(b"".join(v[2] for v in chunk), dtype=np.uint8), ends)
        bounds = np.concatenate([[0], np.cumsum(counts)])[np.concatenate([[0], np.cumsum(n_post)])]
        self.n_pos += np.diff(bounds).tolist()
        parts = self._parts
        parts["docs"].write(b"".join(v[0] for v in chunk))
        weights = np.frombuffer(b"".join(v[1] for v in chunk), dtype=np.float32)
        scales, explicit = _scales(weights, counts, n_post)
        self.scales.append(scales)
        self.n_wt += np.where(np.isnan(scales), n_post, 0).tolist()
        parts["weights"].write(weights[explicit].data)
        parts["counts"].write(counts.astype(np.uint32).data)
        parts["positions"].write(positions.astype(np.uint32).data)

    def write(self) -> Path:
        """Finish: the sidecar file, in place of any older one (a temporary file renamed)."""
        try:
            self._flush()
            hashes = np.array([key_hash(k) for k in self.keys], dtype=np.uint64)
            order = np.argsort(hashes, kind="stable")
            small = {
                "hashes": hashes[order],
                "order": order.astype(np.uint32),
                "key_ends": _offsets([len(k) for k in self.keys])[1:],
                "keys": np.frombuffer(b"".join(self.keys), dtype=np.uint8),
                "post_start": _offsets(self.n_post),
                "scales": np.concatenate(self.scales or [np.zeros(0, np.float32)]),
                "wt_start": _offsets(self.n_wt),
                "pos_start": _offsets(self.n_pos),
            }
            return _save(self.path, self.doc_count, small, self._parts)
        finally:
            self.discard()

    def discard(self) -> None:
        for f in self._parts.values():
            f.close()
            Path(f.name).unlink(missing_ok=True)


def distinct(values: Any) -> np.ndarray:
    """The sorted distinct values of an array, as np.unique gives them. numpy 2's np.unique imports numpy.ma
    when it returns the values alone, about 25 ms of a cold `presse search`."""
    a = np.sort(np.asarray(values).ravel())
    return a[np.concatenate(([True], a[1:] != a[:-1]))] if len(a) else a


def _offsets(sizes: list[int]) -> np.ndarray:
    """Where each of consecutive runs of these sizes starts, and the end: uint32 when that fits."""
    out = np.cumsum([0, *sizes], dtype=np.int64)
    return out.astype(np.uint32) if out[-1] < 1 << 32 else out


def _scales(weights: np.ndarray, counts: np.ndarray, n_post: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(a scale per term, a mask of the postings whose weights are stored). A term's weights are most
    often its postings' position counts (at least 1) times one number, the field boost: that number is
    kept instead (NaN: the weights are stored), when it gives back every weight exactly."""
    terms = np.repeat(np.arange(len(n_post)), n_post)
    firsts = np.concatenate([[0], np.cumsum(n_post)[:-1]]).astype(np.int64)
    per = np.maximum(counts, 1).astype(np.float32)
    scale = (weights[firsts] / per[firsts]).astype(np.float32)
    wrong = np.bincount(terms, weights=(per * scale[terms] != weights), minlength=len(n_post)) > 0
    scale[wrong] = np.nan
    return scale, wrong[terms]


CHUNK_POSTINGS = 500_000  # postings decoded and written at a time (Builder)
FOUND_CACHE = 100_000  # term lookups remembered per sidecar (Sidecar.find)
DIR_STEP = 512  # hashes a step of a sidecar's in-memory directory of its hash table spans (Sidecar.find)


def _streamed_dtype(name: str, f: Any, doc_count: int) -> np.dtype:
    """The narrowest dtype a streamed uint32 array fits (the docs: from the document count)."""
    if name == "weights":
        return np.dtype(np.float32)
    if name == "docs":
        return np.dtype(np.uint16 if doc_count <= 1 << 16 else np.uint32)
    f.seek(0)
    top = 0
    while block := f.read(1 << 22):
        top = max(top, int(np.frombuffer(block, dtype=np.uint32).max()))
    return np.dtype(np.uint16 if top < 1 << 16 else np.uint32)


def _save(path: Path, doc_count: int, small: dict[str, np.ndarray], parts: dict[str, Any]) -> Path:
    specs, offset = {}, 0
    dtypes = {name: _streamed_dtype(name, f, doc_count) for name, f in parts.items()}
    for name in _ARRAYS:
        if name in small:
            a = small[name]
            specs[name] = [a.dtype.str, offset, int(len(a)), zlib.crc32(np.ascontiguousarray(a).data)]
            nbytes = a.nbytes
        else:
            count = parts[name].seek(0, os.SEEK_END) // 4
            specs[name] = [dtypes[name].str, offset, count, 0]
            nbytes = count * dtypes[name].itemsize
        offset += -(-nbytes // _ALIGN) * _ALIGN
    head_len = len(json.dumps({"version": VERSION, "doc_count": doc_count, "arrays": specs}).encode()) + 64
    start = -(-(len(MAGIC) + _HEAD.size + head_len) // _ALIGN) * _ALIGN
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as out:
        for name in _ARRAYS:
            out.seek(start + specs[name][1])
            if name in small:
                out.write(np.ascontiguousarray(small[name]).data)
                continue
            f, crc = parts[name], 0
            f.seek(0)
            while block := f.read(1 << 22):
                data = np.frombuffer(block, dtype=np.float32 if name == "weights" else np.uint32)
                data = data.astype(dtypes[name], copy=False)
                crc = zlib.crc32(data.data, crc)
                out.write(data.data)
            specs[name][3] = crc
        out.truncate(start + offset)
        head = json.dumps({"version": VERSION, "doc_count": doc_count, "arrays": specs}).encode()
        head = head + b" " * (head_len - len(head))  # the CRCs are known now: same length, padded
        out.seek(0)
        out.write(MAGIC + _HEAD.pack(len(head)) + head)
    os.replace(tmp, path)
    return path


def decode_values(data: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(counts, positions) of Whoosh ``Positions`` values laid end to end in ``data`` (uint8), the i-th
    ending at ``ends[i]`` (an empty value: no positions). Each is a big-endian uint count and a pickled list
    of position deltas (protocol 2: ``]q\x00``, a MARK when there are several, one ``K``, ``M`` or ``J``
    opcode a delta, then ``a`` or ``e`` and maybe the STOP). The opcodes are read with numpy, all postings
    a delta at a time; a value in any other form goes through the allowlisted unpickler."""
    ends = np.asarray(ends, dtype=np.int64)
    if not len(ends):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    data = np.concatenate([data, np.zeros(16, np.uint8)])  # reads past a value's end stay inside
    starts = np.concatenate([[0], ends[:-1]])
    present = ends - starts >= 10
    head = starts[:, None] + np.arange(4)
    n = np.where(present, (data[head].astype(np.int64) << np.array([24, 16, 8, 0])).sum(axis=1), 0)
    n = np.where(n > ends - starts, 0, n)  # a count the value cannot hold: the unpickler says why
    first = np.where(present, starts + 9 + (n > 1), 1)
    ok = present & (n > 0) & ((n == 1) | (data[first - 1] == _MARK))
    ok &= (data[starts[:, None] + np.arange(4, 9)] == np.frombuffer(_LIST_HEAD, np.uint8)).all(axis=1)
    out_start = np.concatenate([[0], np.cumsum(n)])
    deltas = np.zeros(int(out_start[-1]), dtype=np.int64)
    sel = np.flatnonzero(ok)
    cur, left, at = first[sel], n[sel], out_start[sel]
    while len(sel):
        op = data[cur]
        b1, b2 = data[cur + 1].astype(np.int64), data[cur + 2].astype(np.int64)
        two = b1 | (b2 << 8)
        four = (two | (data[cur + 3].astype(np.int64) << 16) | (data[cur + 4].astype(np.int64) << 24))
        four = np.where(four >= 1 << 31, four - (1 << 32), four)
        deltas[at] = np.where(op == _K, b1, np.where(op == _M, two, four))
        bad = (op != _K) & (op != _M) & (op != _J)
        ok[sel[bad]] = False
        cur = cur + np.where(op == _K, 2, np.where(op == _M, 3, 5))
        left, at = left - 1, at + 1
        more = (left > 0) & ~bad
        done = (left == 0) & ~bad
        if done.any():  # the list's end: APPEND or APPENDS, maybe STOP, then the value's end
            d, c = sel[done], cur[done]
            close = np.where(n[d] > 1, ord("e"), ord("a"))
            tail = c + 1 + (data[c + 1] == ord("."))
            ok[d[(data[c] != close) | (tail != ends[d])]] = False
        sel, cur, left, at = sel[more], cur[more], left[more], at[more]
    positions = np.cumsum(deltas)
    if len(positions):  # each posting's own running sum
        before = positions[np.maximum(out_start[:-1] - 1, 0)]
        positions -= np.repeat(np.where(out_start[:-1] > 0, before, 0), n)
    rest = np.flatnonzero(present & ~ok).tolist()
    if rest:
        raw = data.tobytes()
        for i in rest:
            value = raw[starts[i]:ends[i]]
            codes = safe_pickle.loads(value[4:] if value.endswith(b".") else value[4:] + b".")
            pos = np.cumsum(np.asarray(codes, dtype=np.int64))
            if len(pos) != n[i]:
                raise ValueError(f"a posting's positions: a count of {n[i]}, a list of {len(pos)}")
            positions[out_start[i]:out_start[i] + len(pos)] = pos
    return n, positions


def write_buffered(path: str | Path, doc_count: int, fields: Iterable[tuple[str, dict[bytes, Any]]]) -> Path:
    """The sidecar of a segment from :class:`indexer.segments.BulkWriter`'s buffers: per field, term bytes ->
    an object with ``ids``, ``weights`` (arrays) and the values end to end (``data``, ``ends``)."""
    builder = Builder(path, doc_count)
    try:
        for fieldname, table in fields:
            for tbytes in sorted(table):  # as Whoosh's term table, and as derive() reads them
                p = table[tbytes]
                builder.add(key_of(fieldname, tbytes), p.ids, p.weights, p.data, p.ends if p.ends else None)
    except BaseException:
        builder.discard()
        raise
    return builder.write()


# ---------------------------------------------------------------------------------------------------------
# Reading


class Sidecar:
    """One segment's sidecar, memory-mapped. :meth:`open` returns None when there is none and raises
    :class:`SidecarError` when it cannot be used."""

    def __init__(self, path: Path, buf: Any, arrays: dict[str, np.ndarray], specs: dict) -> None:
        self.path, self._buf, self._specs = path, buf, specs
        for name in _ARRAYS:
            setattr(self, name, arrays[name])
        self._keys = memoryview(self.keys)
        # every DIR_STEP-th hash, in memory: a lookup searches it, then one page of the mapped hashes,
        # instead of a binary search touching a page of the file at each step
        self._dir = np.array(self.hashes[::DIR_STEP])
        self._found: dict[tuple[str, bytes], int | None] = {}

    @classmethod
    def open(cls, path: str | Path, doc_count: int) -> Sidecar | None:
        path = Path(path)
        try:
            with open(path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        except FileNotFoundError:
            return None
        except OSError as e:
            raise SidecarError(path, f"{e.strerror or e}") from e
        try:
            if bytes(buf[:len(MAGIC)]) != MAGIC:
                raise SidecarError(path, "not a postings sidecar")
            (hlen,) = _HEAD.unpack_from(buf, len(MAGIC))
            head = json.loads(bytes(buf[len(MAGIC) + _HEAD.size:len(MAGIC) + _HEAD.size + hlen]))
            if head.get("version") != VERSION:
                raise SidecarError(path, f"format version {head.get('version')}, not {VERSION}")
            if head.get("doc_count") != doc_count:
                raise SidecarError(path, f"made for {head.get('doc_count')} documents, "
                                   f"the segment has {doc_count}")
            start = -(-(len(MAGIC) + _HEAD.size + hlen) // _ALIGN) * _ALIGN
            arrays, specs = {}, head["arrays"]
            for name in _ARRAYS:
                dtype, offset, count, _crc = specs[name]
                dt = np.dtype(dtype)
                if start + offset + dt.itemsize * count > size:
                    raise SidecarError(path, "shorter than its header says")
                arrays[name] = np.frombuffer(buf, dtype=dt, count=count, offset=start + offset)
            terms = len(arrays["hashes"])
            if (len(arrays["post_start"]) != terms + 1 or len(arrays["pos_start"]) != terms + 1
                    or len(arrays["key_ends"]) != terms or len(arrays["order"]) != terms
                    or len(arrays["scales"]) != terms or len(arrays["wt_start"]) != terms + 1
                    or int(arrays["wt_start"][-1]) != len(arrays["weights"])
                    or int(arrays["post_start"][-1]) != len(arrays["docs"])
                    or int(arrays["pos_start"][-1]) != len(arrays["positions"])):
                raise SidecarError(path, "its arrays do not add up")
        except SidecarError:
            raise
        except (ValueError, KeyError, TypeError, struct.error) as e:
            raise SidecarError(path, f"unreadable header ({e})") from e
        return cls(path, buf, arrays, specs)

    def problems(self) -> list[str]:
        """What is wrong with the arrays' contents (CRC-32 of each against the header): [] when sound."""
        return [f"array {name!r} does not match its checksum" for name in _ARRAYS
                if zlib.crc32(np.ascontiguousarray(getattr(self, name)).data) != self._specs[name][3]]

    def find(self, fieldname: str, tbytes: bytes) -> int | None:
        """The term's number in the sidecar, or None when the segment does not have it (remembered: a
        query's words are looked up for their frequencies and again for their postings)."""
        found = self._found
        try:
            return found[(fieldname, tbytes)]
        except KeyError:
            pass
        if len(found) >= FOUND_CACHE:
            found.clear()
        t = found[(fieldname, tbytes)] = self._find(key_of(fieldname, tbytes))
        return t

    def _find(self, key: bytes) -> int | None:
        h = np.uint64(key_hash(key))
        lo = max(int(self._dir.searchsorted(h)) - 1, 0) * DIR_STEP
        hashes = self.hashes
        i = lo + int(hashes[lo:lo + DIR_STEP + 1].searchsorted(h))
        while i < len(hashes) and hashes[i] == h:
            t = int(self.order[i])
            if self.key(t) == key:
                return t
            i += 1
        return None

    def key(self, t: int) -> bytes:
        return bytes(self._keys[int(self.key_ends[t - 1]) if t else 0:int(self.key_ends[t])])

    def expand(self, fieldname: str, prefix: bytes) -> list[bytes]:
        """The terms of a field that start with ``prefix``, in order (the keys are sorted)."""
        want = key_of(fieldname, prefix)
        lo = self._first_at_least(want)
        out, skip = [], len(want) - len(prefix)
        while lo < len(self.key_ends):
            k = self.key(lo)
            if not k.startswith(want):
                break
            out.append(k[skip:])
            lo += 1
        return out

    def field_range(self, fieldname: str) -> tuple[int, int]:
        """(first, end) term numbers of a field's terms (the keys are sorted: one run)."""
        return self._first_at_least(key_of(fieldname, b"")), self._first_at_least(fieldname.encode() + b"\1")

    def _first_at_least(self, want: bytes) -> int:
        lo, hi = 0, len(self.key_ends)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.key(mid) < want:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def field_postings(self, fieldname: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every term of a field with its postings, for reading a whole ID field at once, in numpy: (the
        terms' bytes as a fixed-width bytes array, the term of each posting as an index into it, each
        posting's document)."""
        lo, hi = self.field_range(fieldname)
        ends = self.key_ends[lo:hi].astype(np.int64)
        starts = np.empty_like(ends)
        if hi > lo:
            starts[0] = int(self.key_ends[lo - 1]) if lo else 0
            starts[1:] = ends[:-1]
        starts += len(key_of(fieldname, b""))
        lens = ends - starts
        width = max(int(lens.max()) if len(lens) else 0, 1)
        at = np.minimum(starts[:, None] + np.arange(width), len(self.keys) - 1)
        chars = np.where(np.arange(width) < lens[:, None], self.keys[at], 0).astype(np.uint8)
        texts = np.ascontiguousarray(chars).view(f"S{width}").ravel()
        ps = self.post_start[lo:hi + 1].astype(np.int64)
        docs = self.docs[int(ps[0]):int(ps[-1])].astype(np.int64) if hi > lo else np.zeros(0, np.int64)
        return texts, np.repeat(np.arange(hi - lo), np.diff(ps)), docs

    def term(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """(docs, weights, counts, first position's index) of term i's postings: views of the file."""
        s, e = int(self.post_start[i]), int(self.post_start[i + 1])
        counts, scale = self.counts[s:e], self.scales[i]
        if scale == scale:  # not NaN: the weights are the counts (at least 1) times the scale
            weights = np.maximum(counts, 1).astype(np.float32) * scale
        else:
            w = int(self.wt_start[i])
            weights = self.weights[w:w + e - s]
        return self.docs[s:e], weights, counts, int(self.pos_start[i])

    def doc_frequency(self, i: int) -> int:
        return int(self.post_start[i + 1] - self.post_start[i])


def segment_folder(seg: Any) -> str | None:
    """The directory a Whoosh segment reader's files are in (None: not on disk)."""
    storage = getattr(seg, "_storage", None)
    storage = getattr(storage, "b", storage)  # a compound segment: its files over the index's directory
    return getattr(storage, "folder", None)


def open_for(seg: Any) -> Sidecar | None:
    """The sidecar of one Whoosh segment reader: None when it has none (or is not on disk); raises
    :class:`SidecarError` when there is one that cannot be used."""
    folder = segment_folder(seg)
    if folder is None:
        return None
    return Sidecar.open(path_for(folder, seg.segment().segment_id()), seg.doc_count_all())


# ---------------------------------------------------------------------------------------------------------
# Whoosh's posting blocks


def leaf_postings(seg: Any, fieldname: str, tbytes: bytes) -> tuple[list, list, list | None] | None:
    """(delta-coded ids, weights, encoded values or None) of one term in one Whoosh W3 segment reader, read
    block by block from its postings file; None when the term is absent. Raises on an unknown layout
    (whoosh-reloaded is pinned to 2.7.5, whose private layout this relies on)."""
    from whoosh.reading import TermNotFound

    terms = seg._terms
    try:
        ti = terms.term_info(fieldname, tbytes)
    except (KeyError, TermNotFound):
        return None
    if ti.is_inlined():
        ids, weights, values = ti.inlined_postings()
        ids = list(ids)
        return [b - a for a, b in zip([0, *ids], ids, strict=False)], list(weights), \
            (list(values) if values else None)
    offset, length = ti.extent()
    if isinstance(length, tuple):  # whoosh 2.7.5 unpacks it as a 1-tuple
        length = length[0]
    buf = terms._postfile.get(offset, length)
    if buf[:4] != _BLOCK_MAGIC:
        raise ValueError("unknown posting block layout")
    bio = io.BytesIO(buf)
    pos, total, prev_last = 4, len(buf), 0
    ids: list[int] = []
    weights: list[float] = []
    values: list | None = []
    while pos < total:
        (blen,) = _INT.unpack_from(buf, pos)
        pos += 4
        last = blen < 0
        end = pos + (-blen if last else blen)
        bio.seek(pos)
        count, maxid, _maxw, comp, _mn, _mx = safe_pickle.load(bio)
        data = buf[bio.tell():end]
        if comp:
            data = zlib.decompress(data)
        bids, bweights, bvalues = safe_pickle.loads(data)
        ids.append(bids[0] - prev_last)
        ids.extend(bids[1:])
        prev_last = maxid
        if bweights is None:
            weights.extend([1.0] * count)
        elif isinstance(bweights, float):
            weights.extend([bweights] * count)
        else:
            weights.extend(bweights)
        if values is not None:
            if isinstance(bvalues, tuple):
                values.extend(bvalues)
            else:  # fixed-size or no values: positions are not needed for such fields
                values = None
        pos = end
        if last:
            break
    return ids, weights, values


def derive(seg: Any, path: str | Path | None = None) -> Path:
    """Write the sidecar of a finished Whoosh segment (reader ``seg``) from its own posting blocks."""
    if path is None:
        path = path_for(segment_folder(seg), seg.segment().segment_id())
    builder = Builder(path, seg.doc_count_all())
    try:
        for fieldname, tbytes in sorted(seg.all_terms()):  # by key, as BulkWriter writes them
            got = leaf_postings(seg, fieldname, tbytes)
            if got is None:
                continue
            deltas, weights, values = got
            data, ends = b"", None
            if values and all(isinstance(v, bytes) for v in values):
                data = b"".join(values)
                ends = np.cumsum([len(v) for v in values], dtype=np.uint64)
            builder.add(key_of(fieldname, tbytes), np.cumsum(deltas, dtype=np.int64).astype(np.uint32),
                        np.asarray(weights, dtype=np.float32), data, ends)
    except BaseException:
        builder.discard()
        raise
    return builder.write()


def segment_problems(folder: str | Path, segment_id: str, doc_count: int, terms: int,
                     postings: int) -> list[tuple[str, str]]:
    """(file, problem) for what is wrong with one segment's sidecar, for ``presse check``, given the terms
    and postings Whoosh's files hold: [] when it is sound or there is none (Whoosh's postings serve)."""
    path = path_for(folder, segment_id)
    try:
        car = Sidecar.open(path, doc_count)
    except SidecarError as e:
        return [(path.name, e.why)]
    if car is None:
        return []
    found = car.problems()
    if not found and (len(car.hashes), len(car.docs)) != (terms, postings):
        found = [f"holds {len(car.hashes)} terms and {len(car.docs)} postings where the segment has {terms} "
                 f"and {postings}"]
    return [(path.name, why) for why in found]


def refresh(ix: Any) -> list[str]:
    """After a commit: write the sidecar of each segment of ``ix``'s latest generation that has none, or
    one that cannot be used or fails its checksums. Whoosh deletes a segment's sidecar with its other files.
    Returns the names of the files written."""
    written = []
    with ix.reader() as reader:
        for seg, _base in reader.leaf_readers():
            if segment_folder(seg) is None:
                continue
            try:
                car = open_for(seg)
                if car is not None and not car.problems():
                    continue
            except SidecarError:
                pass
            try:
                written.append(derive(seg).name)
            except (OSError, ValueError, pickle.UnpicklingError):  # a full disk, a damaged segment: searches
                # use Whoosh's postings for it
                continue
    return written
