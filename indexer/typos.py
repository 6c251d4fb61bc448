"""The typo index: the folded words of the indexed statements and their deletion neighbourhood.

The index stores stemmed terms per language; a typo is a slip on a *word*, so typo tolerance needs the
surface words: every run of 3 to MAX_WORD letters in a statement's title and body, folded (case and accents,
:func:`indexer.analysis.fold`), unstemmed ("vaccination", "securite"). A query word is matched to words
within one edit (two from 8 letters on) by a symmetric-delete search (SymSpell): each indexed word is
filed under the strings obtained by deleting up to two letters of its first PREFIX letters; a query word
looks up the deletions of its own first PREFIX letters and checks the few words found with a true edit
distance. A lookup reads a few dozen sorted keys, not the vocabulary.

Stored as ``presse-typos.npz`` in the index directory: plain numpy arrays (``np.load(...,
allow_pickle=False)``: reading it never runs code), written to a temporary file and renamed, so a reader
sees the old file or the new one. Arrays:

- ``words`` (S20): the folded words, in the order they were added; ``counts`` (uint32): the statements
  each was counted in (approximate: a statement deleted since, or read again after a merge of segments,
  still counts until a rebuild; used to rank candidates only); ``word_prefix`` (int32): each word's
  prefix number; ``prefix_order`` / ``prefix_start``: the words of prefix p are
  ``words[prefix_order[prefix_start[p]:prefix_start[p + 1]]]``;
- ``keys`` (uint32, sorted): CRC-32 of each deletion of each prefix; ``key_prefix`` (int32): its prefix
  number. A CRC collision only adds a candidate, which the distance check removes;
- ``meta``: JSON (as bytes): format version and the Whoosh segments whose statements were read.

:func:`refresh` keeps it in step at the end of each update run (``indexer.updating``): the statements of
segments it has not read yet are read and their new words added; when those are most of the index, or the
file is missing, damaged or of another version, it is rebuilt from all statements. Words of deleted
statements stay until a rebuild: the searcher checks each candidate against the live index
(:mod:`search.spelling`), so a stale word is never used.
"""

from __future__ import annotations

import dataclasses
import io
import json
import mmap
import os
import re
import struct
import time
import zipfile
import zlib
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.analysis import fold
from indexer.postings import distinct

TYPOS_NAME = "presse-typos.npz"
VERSION = 1
PREFIX = 7  # letters of a word its deletions are taken from (SymSpell's prefix length)
MIN_WORD = 3  # letters: shorter words are neither indexed here nor corrected
MAX_WORD = 20  # letters: longer runs are not words a person types
UNALIGNED_COPY = 1 << 20  # bytes: a mapped array not aligned for its dtype up to this size is copied
REBUILD_SHARE = 0.5  # unread statements past this share of the index: rebuild from all statements
_LETTERS = re.compile(rf"[^\W\d_]{{{MIN_WORD},{MAX_WORD}}}(?![^\W\d_])")  # a whole run of letters


def max_edits(word: str) -> int:
    """Edits a word of this length may carry: one, two from 8 letters on (as Meilisearch: short words
    have too many neighbours for two)."""
    return 2 if len(word) >= 8 else 1


def _deletes(prefix: str, depth: int) -> set[str]:
    """The strings made by deleting up to ``depth`` letters of ``prefix`` (itself included)."""
    out = {prefix}
    frontier = {prefix}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1:] for w in frontier for i in range(len(w)) if len(w) > 1}
        out |= frontier
    return out


def _key(s: str) -> int:
    return zlib.crc32(s.encode("ascii"))


def _prefix_depth(prefix: str) -> int:
    """Deletions filed for a prefix: two when a word reached with two edits can start with it (a query
    word of 8+ letters is within two edits only of words of 6+ letters)."""
    return 2 if len(prefix) >= 6 else 1


# ---------------------------------------------------------------------------------------------------------
# Words of statements


def text_words(text: str, into: Counter[str]) -> None:
    """Count the distinct raw letter runs of one statement's ``text`` in ``into`` (folded later, once per
    distinct run)."""
    into.update(set(_LETTERS.findall(text)))


def statement_words(title: str, body: str) -> str:
    """The distinct raw letter runs of one statement, space-separated: what :func:`text_words` counts for
    it, computed where the text is at hand (the reader worker of a build) and counted by the writer for the
    statements it keeps (:class:`indexer.linkpass.LinkPass`), so that no statement is read back after the
    commit."""
    return " ".join(set(_LETTERS.findall(f"{title}\n{body}")))


def fold_words(raw: Counter[str]) -> Counter[str]:
    """The typo-index words of counted raw letter runs: folded, ASCII letters only, MIN_WORD to MAX_WORD
    long, with the summed counts of the runs that fold to them."""
    out: Counter[str] = Counter()
    for w, n in raw.items():
        f = fold(w)
        if MIN_WORD <= len(f) <= MAX_WORD and f.isascii() and f.isalpha():
            out[f] += n
    return out


def _segment_words(reader, into: Counter[str]) -> None:
    """Count the raw letter runs of the live statements of one segment reader, once a statement."""
    from indexer.linkpass import to_statement  # here: a search process that loads this module never needs it

    for d in range(reader.doc_count_all()):
        if reader.is_deleted(d):
            continue
        fields = reader.stored_fields(d)
        if fields.get("duplicate_of"):  # a stored-only stub: its kept copy has the words
            continue
        st = to_statement(fields)
        text_words(f"{st.title}\n{st.body}", into)


def _leaves(reader) -> Iterator:
    """The segment readers of a reader (none for an empty index)."""
    for leaf, _ in reader.leaf_readers():
        if leaf.segment() is not None:
            yield leaf


# ---------------------------------------------------------------------------------------------------------
# The arrays


@dataclass
class TypoArrays:
    words: np.ndarray
    counts: np.ndarray
    word_prefix: np.ndarray
    prefix_order: np.ndarray
    prefix_start: np.ndarray
    keys: np.ndarray
    key_prefix: np.ndarray
    segments: list[str]

    @classmethod
    def empty(cls) -> TypoArrays:
        i32 = np.zeros(0, dtype=np.int32)
        return cls(np.zeros(0, dtype=f"S{MAX_WORD}"), np.zeros(0, dtype=np.uint32), i32, i32,
                   np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.uint32), i32, [])

    @property
    def prefix_count(self) -> int:
        return len(self.prefix_start) - 1

    def prefixes(self) -> dict[str, int]:
        """Prefix -> its number, from the words (each prefix has at least one word)."""
        out: dict[str, int] = {}
        for w, p in zip(self.words.tolist(), self.word_prefix.tolist(), strict=True):
            out.setdefault(w[:PREFIX].decode("ascii", "replace"), p)
        return out

    def add(self, new_words: Counter[str]) -> TypoArrays:
        """These arrays with the counts of ``new_words`` added, and the words they lack (the old ones keep
        their numbers)."""
        at_word = {w.decode("ascii", "replace"): i for i, w in enumerate(self.words.tolist())}
        counts = self.counts.astype(np.int64)
        old = [(at_word[w], n) for w, n in new_words.items() if w in at_word]
        if old:
            np.add.at(counts, np.fromiter((i for i, _ in old), dtype=np.int64, count=len(old)),
                      np.fromiter((n for _, n in old), dtype=np.int64, count=len(old)))
        counts = np.minimum(counts, np.iinfo(np.uint32).max).astype(np.uint32)
        fresh = sorted(w for w in new_words if w not in at_word)
        if not fresh:
            return dataclasses.replace(self, counts=counts)
        prefixes = self.prefixes()
        word_prefix, keys, key_prefix = [], [], []
        for w in fresh:
            p = w[:PREFIX]
            num = prefixes.get(p)
            if num is None:
                num = prefixes[p] = len(prefixes)
                for s in _deletes(p, _prefix_depth(p)):
                    keys.append(_key(s))
                    key_prefix.append(num)
            word_prefix.append(num)
        all_prefix = np.concatenate([self.word_prefix, np.asarray(word_prefix, dtype=np.int32)])
        new_keys = np.asarray(keys, dtype=np.uint32)
        order = np.argsort(new_keys, kind="stable")
        new_keys, new_kp = new_keys[order], np.asarray(key_prefix, dtype=np.int32)[order]
        at = np.searchsorted(self.keys, new_keys)
        prefix_order = np.argsort(all_prefix, kind="stable").astype(np.int32)
        bounds = np.arange(len(prefixes) + 1)
        prefix_start = np.searchsorted(all_prefix[prefix_order], bounds).astype(np.int64)
        return TypoArrays(np.concatenate([self.words, np.asarray(fresh, dtype=f"S{MAX_WORD}")]),
                          np.concatenate([counts, np.asarray([new_words[w] for w in fresh], np.uint32)]),
                          all_prefix, prefix_order, prefix_start, np.insert(self.keys, at, new_keys),
                          np.insert(self.key_prefix, at, new_kp), list(self.segments))

    # -- lookups ------------------------------------------------------------------------------------------

    def candidates(self, word: str, max_dist: int) -> list[tuple[str, int]]:
        """(indexed word, statements it was counted in) for the words that may be within ``max_dist`` edits
        of ``word`` (a superset: check the distance): the words of the prefixes that share a deletion with
        the word's prefix, of a length within ``max_dist`` of its length."""
        if not len(self.keys):
            return []
        hashes = sorted(_key(s) for s in _deletes(word[:PREFIX], max_dist))
        if self.keys.flags.aligned:
            at = np.asarray(hashes, dtype=self.keys.dtype)
            lo = np.searchsorted(self.keys, at, "left").tolist()
            hi = np.searchsorted(self.keys, at, "right").tolist()
        else:  # a mapped file's unaligned keys: a few dozen reads, not numpy's copy of them all
            lo = [bisect_left(self.keys, h) for h in hashes]
            hi = [bisect_right(self.keys, h, lo=a) for a, h in zip(lo, hashes, strict=True)]
        hit = [self.key_prefix[a:b] for a, b in zip(lo, hi, strict=True) if b > a]
        if not hit:
            return []
        out = []
        prefixes = distinct(np.concatenate(hit))
        n_words = len(self.words)
        if prefixes[0] < 0 or prefixes[-1] >= self.prefix_count:
            raise DamagedTypos("a key points past the prefixes")
        for p in prefixes.tolist():
            a, b = int(self.prefix_start[p]), int(self.prefix_start[p + 1])
            ids = self.prefix_order[a:b]
            if not 0 <= a <= b <= n_words or (len(ids) and (ids.min() < 0 or ids.max() >= n_words)):
                raise DamagedTypos("a prefix points past the words")
            out.extend((w.decode("ascii", "replace"), n) for w, n in zip(self.words[ids].tolist(),
                                                              self.counts[ids].tolist(), strict=True)
                       if abs(len(w) - len(word)) <= max_dist)
        return out

    # -- file ---------------------------------------------------------------------------------------------

    def save(self, index_dir: Path) -> None:
        path = index_dir / TYPOS_NAME
        tmp = index_dir / f".{TYPOS_NAME}.{os.getpid()}.tmp"
        meta = json.dumps({"version": VERSION, "prefix": PREFIX, "segments": sorted(self.segments)})
        try:
            with open(tmp, "wb") as f:
                np.savez(f, **{name: getattr(self, name) for name in ARRAYS},
                         meta=np.frombuffer(meta.encode(), dtype=np.uint8))
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)


ARRAYS = ("words", "counts", "word_prefix", "prefix_order", "prefix_start", "keys", "key_prefix")


def _mapped_npz(path: Path) -> dict[str, np.ndarray]:
    """The 1-D arrays of an uncompressed .npz (as :meth:`TypoArrays.save` writes it) as read-only views of
    the memory-mapped file (those aligned for their dtype; the others copied): a search reads only the pages
    its few lookups touch, not the whole file (nor its CRC). Raises ValueError for anything else (a
    compressed member, an object or n-D array)."""
    with open(path, "rb") as f:
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    out = {}
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            if info.compress_type != zipfile.ZIP_STORED or not info.filename.endswith(".npy"):
                raise ValueError(f"{info.filename}: not a stored .npy member")
            local = mm[info.header_offset:info.header_offset + 30]  # the member's local file header
            if len(local) != 30 or local[:4] != b"PK\x03\x04":
                raise ValueError(f"{info.filename}: no local header")
            start = info.header_offset + 30 + sum(struct.unpack("<HH", local[26:30]))
            fp = io.BytesIO(mm[start:start + min(info.file_size, 1 << 16)])
            version = np.lib.format.read_magic(fp)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                np.lib.format.read_array_header_2_0
            shape, _, dtype = read_header(fp)
            if dtype.hasobject or len(shape) != 1 or fp.tell() + shape[0] * dtype.itemsize > info.file_size:
                raise ValueError(f"{info.filename}: not a plain 1-D array")
            arr = np.frombuffer(mm, dtype=dtype, count=shape[0], offset=start + fp.tell())
            # a zip member's data is not aligned for its dtype, and numpy copies an unaligned array whole
            # at every searchsorted: a small one is copied once; the big keys are searched by bisection
            small = arr.nbytes <= UNALIGNED_COPY
            out[info.filename[:-4]] = arr if arr.flags.aligned or not small else arr.copy()
    return out


class DamagedTypos(ValueError):
    """A lookup met numbers that point outside the arrays: not a file this module wrote."""


def load(index_dir: Path | str, *, meta_only: bool = False, mapped: bool = False) -> TypoArrays | None:
    """The typo index of ``index_dir``; None when there is none, or it is damaged or of another version
    (the searcher then falls back to its slower speller, and the next update rebuilds it). ``meta_only``:
    the segments it has read, its arrays left empty (a few bytes read). ``mapped``: the arrays are
    read-only views of the memory-mapped file (a searcher's: a cold search does not read it all); their
    sizes are checked here, the numbers a lookup follows by the lookup (:class:`DamagedTypos`), since
    checking every number here read the whole file (7 ms of a cold search on NSB)."""
    path = Path(index_dir) / TYPOS_NAME
    try:
        try:
            z = _mapped_npz(path) if mapped else None
        except ValueError:  # not as save() writes it (compressed, say): read it whole, checked below
            z = None
        if z is not None:
            meta = json.loads(bytes(z["meta"]).decode())
            arrays = {name: z[name] for name in ARRAYS}
        else:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(bytes(z["meta"]).decode())
                arrays = {} if meta_only else {name: z[name] for name in ARRAYS}
        if meta.get("version") != VERSION or meta.get("prefix") != PREFIX:
            return None
        if meta_only:
            return dataclasses.replace(TypoArrays.empty(), segments=list(meta.get("segments") or []))
    except (OSError, ValueError, KeyError, EOFError, zlib.error, zipfile.BadZipFile):  # missing, damaged
        return None
    t = TypoArrays(**arrays, segments=list(meta.get("segments") or []))
    if (t.words.dtype != np.dtype(f"S{MAX_WORD}") or len(t.word_prefix) != len(t.words)
            or not all(arrays[name].dtype.kind in "iu" and arrays[name].ndim == 1 for name in ARRAYS[1:])
            or len(t.counts) != len(t.words)
            or len(t.prefix_order) != len(t.words) or len(t.key_prefix) != len(t.keys)
            or len(t.prefix_start) < 1 or t.prefix_start[-1] != len(t.words)):
        return None
    n_words, n_prefixes = len(t.words), len(t.prefix_start) - 1
    if not mapped and ((n_words and (t.prefix_order.min() < 0 or t.prefix_order.max() >= n_words))
            or (len(t.keys) and (t.key_prefix.min() < 0 or t.key_prefix.max() >= n_prefixes))
            or np.any(t.prefix_start[1:] < t.prefix_start[:-1]) or t.prefix_start[0] != 0
            or np.any(t.keys[1:] < t.keys[:-1])):
        return None  # numbers that would index outside the arrays: not a file this module wrote
    return t


# ---------------------------------------------------------------------------------------------------------
# Keeping it in step with the index


@dataclass
class TypoReport:
    rebuilt: bool = False  # read every statement (else: only those of new segments, or none)
    statements_read: int = 0
    words: int = 0
    seconds: float = 0.0
    error: str = ""  # the file could not be written


@dataclass
class Counted:
    """The raw letter runs (:func:`text_words`) of the live statements of some segments, counted by the run
    that wrote them (:class:`indexer.linkpass.LinkPass`): :func:`refresh` takes them instead of reading
    those segments' statements back."""
    segments: set[str]
    raw: Counter[str]


def refresh(index_dir: Path | str, ix, counted: Counted | None = None) -> TypoReport:
    """Bring the typo index of ``index_dir`` in step with the open Whoosh index ``ix`` (its latest
    commit): read the statements of the segments it has not read (``counted``: those of its segments
    are counted already); rebuild it when those are most of the index or it is unusable. Writes nothing
    when every segment was read already."""
    start = time.monotonic()
    index_dir = Path(index_dir)
    report = TypoReport()
    seen = load(index_dir, meta_only=True)
    counted = counted or Counted(set(), Counter())
    with ix.reader() as reader:
        leaves = list(_leaves(reader))
        done = set(seen.segments) if seen is not None else set()
        todo = [leaf for leaf in leaves if leaf.segment().segment_id() not in done]
        if seen is not None and not todo:
            return report
        old = load(index_dir)
        unread = sum(leaf.doc_count() for leaf in todo)
        if old is None or unread > REBUILD_SHARE * max(1, reader.doc_count()):
            old, todo, report.rebuilt = TypoArrays.empty(), leaves, True
        raw: Counter[str] = Counter()
        for leaf in todo:
            if leaf.segment().segment_id() in counted.segments:
                continue
            _segment_words(leaf, raw)
            report.statements_read += leaf.doc_count()
        if any(leaf.segment().segment_id() in counted.segments for leaf in todo):
            raw.update(+counted.raw)  # a statement counted and deleted since leaves a zero
        arrays = old.add(fold_words(raw))
        arrays.segments = sorted(leaf.segment().segment_id() for leaf in leaves)  # all read now
    try:
        arrays.save(index_dir)
    except OSError as e:  # the committed index stands; the old typo index (if any) stays, checked per query
        report.error = f"{index_dir / TYPOS_NAME}: {e.strerror or e}"
        return report
    report.words = len(arrays.words)
    report.seconds = time.monotonic() - start
    return report
