"""Duplicates: the same statement twice (two offices, a re-published page, two crawls of one page).

- ``exact_key(st)``: a digest of the body's folded words (case, accents, punctuation and spacing ignored);
  statements with the same key are exact duplicates and need be indexed once.
- ``near_duplicate_groups(statements, threshold)``: statements whose word 5-shingle sets have a Jaccard
  similarity ≥ threshold, grouped; each member maps to the group's canonical statement (the earliest, then
  the longest, then the smallest id), which it matches directly (groups are not built transitively).

Candidates come from MinHash signatures (one-permutation hashing with rotation densification: one pass over
the shingles whatever the signature length) banded for LSH; each candidate pair is then checked on its exact
shingle Jaccard, so what is reported really is ≥ threshold. Pure Python, deterministic across runs (word
hashes are blake2b; shingle hashes are tuple hashes of ints, which Python does not randomise).
"""

from __future__ import annotations

import gc
import hashlib
import re
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from corpus.statement import Statement
from indexer.analysis import fold
from indexer.postings import distinct

SHINGLE = 5  # words per shingle
NUM_PERM = 128  # signature length (bins)
ROWS = 6  # LSH: NUM_PERM // ROWS bands (21) of 6 rows; two statements become candidates when one band is
# equal: at Jaccard 0.8 with p = 0.998, at 0.7 with p = 0.91, at 0.5 with p = 0.28, at 0.3 with p = 0.015
MARGIN = 0.15  # candidates whose signature estimate is below threshold - MARGIN skip the exact check

_WORDS = re.compile(r"\w+")
_MASK64 = (1 << 64) - 1


class _WordHashes(dict):
    """word (lower case) -> stable 64-bit hash of its folded form; filled on demand."""

    def __missing__(self, word: str) -> int:
        value = int.from_bytes(hashlib.blake2b(fold(word).encode("utf-8"), digest_size=8).digest(), "little")
        if len(self) < 2_000_000:
            self[word] = value
        return value


class _Folded(dict):
    """word (lower case) -> its folded form; filled on demand."""

    def __missing__(self, word: str) -> str:
        value = fold(word)
        if len(self) < 2_000_000:
            self[word] = value
        return value


_word_hashes = _WordHashes()
folded = _Folded()  # word -> fold(word), cached: folded[word]


def words(text: str) -> list[str]:
    return _WORDS.findall(text.lower())


class MinHasher:
    """Shingles and MinHash signatures of texts.

    ``shingles(text)``: the set of 64-bit hashes of its word `shingle`-grams (the whole text when shorter).
    ``signature(text)``: `num_perm` ints; the share of equal positions of two signatures estimates the
    Jaccard similarity of their shingle sets (``similarity``).
    """

    def __init__(self, num_perm: int = NUM_PERM, shingle: int = SHINGLE) -> None:
        if num_perm & (num_perm - 1) or num_perm < 2:
            raise ValueError("num_perm must be a power of two")
        self.num_perm = num_perm
        self.shingle = shingle
        self._bits = num_perm.bit_length() - 1

    def shingles(self, text: str | list[str]) -> set[int]:
        """The shingle hashes of a text (or of its ``words``)."""
        return set(self.shingle_array(words(text) if isinstance(text, str) else text).tolist())

    def shingle_array(self, ws: list[str]) -> np.ndarray:
        """The shingle hashes of a text's ``words``, distinct and sorted (int64): what ``shingles`` gives.
        A shingle's hash is Python's ``hash`` of the tuple of its words' hashes (the whole text's tuple when
        it is shorter), computed for all shingles at once (:func:`tuple_hashes`)."""
        hashes = np.fromiter(map(_word_hashes.__getitem__, ws), dtype=np.uint64, count=len(ws))
        if not len(hashes):
            return np.zeros(0, np.int64)
        return distinct(tuple_hashes(hashes, min(self.shingle, len(hashes))))

    def signature_of(self, shingles: Iterable[int] | np.ndarray) -> tuple[int, ...]:
        """One-permutation MinHash: a shingle's top bits pick its bin, the rest is its value; a bin keeps its
        least value. Shingle hashes are signed 64-bit tuple hashes, already mixed by a final multiply: the
        top bits, taken with the sign (-k/2 .. k/2-1), index the bins directly (as a list index: -1 is the
        last bin)."""
        k = self.num_perm
        shift = 64 - self._bits
        low = (1 << shift) - 1
        empty = 1 << shift
        if isinstance(shingles, np.ndarray):
            bins = np.full(k, empty, dtype=np.int64)
            np.minimum.at(bins, (shingles >> shift) & (k - 1), shingles & low)
            sig = bins.tolist()
        else:
            sig = [empty] * k
            for x in shingles:
                b = x >> shift
                v = x & low
                if v < sig[b]:
                    sig[b] = v
        if empty in sig:
            sig = _densify(sig, empty)
        return tuple(sig)

    def signature(self, text: str) -> tuple[int, ...]:
        return self.signature_of(self.shingles(text))

    @staticmethod
    def similarity(a: tuple[int, ...], b: tuple[int, ...]) -> float:
        return sum(1 for x, y in zip(a, b, strict=True) if x == y) / len(a) if a else 0.0


def _densify(sig: list[int], empty: int) -> list[int]:
    """Fill each empty bin from the next non-empty one to the right (circular), marked by the distance."""
    k = len(sig)
    if all(v == empty for v in sig):
        return [0] * k
    out = list(sig)
    for j in range(k):
        if sig[j] == empty:
            t = 1
            while sig[(j + t) % k] == empty:
                t += 1
            out[j] = sig[(j + t) % k] + t * empty
    return out


# CPython's tuple hash (Objects/tupleobject.c, 64-bit: xxHash's primes and rotation) and int hash (modulo
# the Mersenne prime 2**61 - 1), so that shingle hashes computed with numpy are those of ``hash(tuple)``.
_XXPRIME_1 = np.uint64(11400714785074694791)
_XXPRIME_2 = np.uint64(14029467366897019727)
_XXPRIME_5 = np.uint64(2870177450012600261)
_HASH_MODULUS = np.uint64((1 << 61) - 1)


def tuple_hashes(values: np.ndarray, k: int) -> np.ndarray:
    """``hash(tuple(values[i:i + k]))`` for each i (int64), for non-negative ints given as uint64."""
    lanes = (values % _HASH_MODULUS) * _XXPRIME_2
    m = len(values) - k + 1
    acc = np.full(m, _XXPRIME_5, dtype=np.uint64)
    for i in range(k):
        acc += lanes[i:i + m]
        acc = (acc << np.uint64(31)) | (acc >> np.uint64(33))
        acc *= _XXPRIME_1
    acc += np.uint64(k ^ (int(_XXPRIME_5) ^ 3527539))
    acc[acc == np.uint64(_MASK64)] = np.uint64(1546275796)
    return acc.view(np.int64)


_default = MinHasher()


def signature(text: str) -> tuple[int, ...]:
    """The MinHash signature of a text with the default hasher (128 ints)."""
    return _default.signature(text)


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def _text(st: Statement) -> str:
    return st.body if st.body.strip() else st.title


def exact_key(st: Statement, _words: list[str] | None = None) -> str:
    """Digest of the body's folded words (the title's when the body is empty): equal for exact duplicates."""
    joined = " ".join(map(folded.__getitem__, words(_text(st)) if _words is None else _words))
    return hashlib.blake2b(joined.encode("utf-8"), digest_size=16).hexdigest()


def _canonical_order(st: Statement, length: int | None = None) -> tuple:
    return (st.date or "9999-99-99", -(len(st.body) if length is None else length), st.id)


class Sketch(NamedTuple):
    """What the grouping needs of a statement, computed once (e.g. as it is read) so its body can go:
    ``sig`` the MinHash signature packed as uint64 (``pack_signature``), ``size`` its number of shingles,
    ``exact`` its ``exact_key``, ``length`` the length of its body in characters."""

    sig: bytes
    size: int
    exact: str
    length: int


def pack_signature(sig: tuple[int, ...]) -> bytes:
    return array("Q", sig).tobytes()


def unpack_signature(data: bytes) -> tuple[int, ...]:
    return tuple(array("Q", data))


def sketch(st: Statement, hasher: MinHasher | None = None) -> Sketch:
    """The :class:`Sketch` of a statement."""
    hasher = hasher or _default
    ws = words(_text(st))
    shingles = hasher.shingle_array(ws)
    sig = pack_signature(hasher.signature_of(shingles))
    return Sketch(sig, len(shingles), exact_key(st, ws), len(st.body))


_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit constant (golden ratio): mixes a band's rows into one key


def _band_candidates(sigs: dict[int, bytes], rows: int, bands: int) -> set[tuple[int, int]]:
    """Pairs (i, j), i < j, of statements whose signatures are equal on at least one band of ``rows`` rows.

    Each band's rows are mixed into one 64-bit key and the keys sorted (numpy): runs of equal keys are the
    LSH buckets. Two different bands colliding on one key only adds a candidate the exact check drops."""
    if len(sigs) < 2:
        return set()
    ids = np.fromiter(sigs, dtype=np.int64, count=len(sigs))
    matrix = np.frombuffer(b"".join(sigs.values()), dtype=np.uint64).reshape(len(sigs), -1)
    candidates: set[tuple[int, int]] = set()
    with np.errstate(over="ignore"):
        for band in range(bands):
            cols = matrix[:, band * rows:(band + 1) * rows]
            key = cols[:, 0].copy()
            for c in range(1, rows):
                key *= _MIX
                key ^= cols[:, c]
            order = np.argsort(key, kind="stable")
            ordered = key[order]
            same = ordered[1:] == ordered[:-1]
            if not same.any():
                continue
            # runs of equal keys: a run starts where a key differs from the one before
            starts = np.flatnonzero(np.concatenate(([True], ~same)))
            ends = np.append(starts[1:], len(ordered))
            shared = ends - starts > 1
            for a, b in zip(starts[shared].tolist(), ends[shared].tolist(), strict=True):
                members = sorted(ids[order[a:b]].tolist())
                for x, i in enumerate(members):
                    for j in members[x + 1:]:
                        candidates.add((i, j))
    return candidates


def near_duplicate_groups(statements: Iterable[Statement], threshold: float = 0.8, *,
                          hasher: MinHasher | None = None, rows: int = ROWS,
                          sketches: Mapping[str, Sketch] | None = None,
                          text_of: Callable[[Statement], str] | None = None) -> dict[str, str]:
    """id -> id of its group's canonical statement, for every statement in a group of two or more.

    A group: a canonical statement and the statements that match *it* directly (shingle Jaccard ≥
    threshold, or equal ``exact_key``); groups are not chained (A like B, B like C does not group A with C
    unless one of them is the other's canonical). Statements are taken in canonical order; each joins the
    canonical it matches best, or becomes one. Statements alone are left out; a canonical maps to itself.

    ``sketches`` (id -> :class:`Sketch`, made with the same hasher) spares the shingling of the statements
    it covers, which then need no body: ``text_of(st)`` gives the text of a statement when a candidate pair
    needs its exact shingles (default: its body, else its title).
    """
    hasher = hasher or _default
    sts = list({st.id: st for st in statements}.values())
    if len(sts) < 2:
        return {}
    found = _exact_buckets(sts, hasher, sketches)
    edges = _near_edges(sts, found, hasher, rows, threshold, text_of or _text)
    return _no_chain_groups(sts, found, edges)


@dataclass
class _Buckets:
    """Statements with the same exact key (union-find over their indexes), and the signature, shingle count
    and length of each bucket's first member, the only one that goes on to the near-duplicate search."""

    parent: list[int]
    sigs: dict[int, bytes]  # packed: 1 KB a statement where a tuple of ints takes 5 KB
    sizes: dict[int, int]
    lengths: list[int]

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        ri, rj = self.find(i), self.find(j)
        if ri != rj:
            self.parent[max(ri, rj)] = min(ri, rj)


def _exact_buckets(sts: list[Statement], hasher: MinHasher,
                   sketches: Mapping[str, Sketch] | None) -> _Buckets:
    """Exact duplicates: one bucket per key. Millions of short-lived tuples (shingles) would trigger the
    cyclic GC over and over: it is paused."""
    found = _Buckets(list(range(len(sts))), {}, {}, [len(st.body) for st in sts])
    by_key: dict[str, int] = {}
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for i, st in enumerate(sts):
            sk = sketches.get(st.id) if sketches is not None else None
            if sk is not None:
                found.lengths[i] = sk.length
                key, size, sig = sk.exact, sk.size, sk.sig
            else:
                ws = words(_text(st))
                key = exact_key(st, ws)
                if key in by_key:
                    found.union(by_key[key], i)
                    continue
                shingles = hasher.shingle_array(ws)
                size, sig = len(shingles), pack_signature(hasher.signature_of(shingles))
            j = by_key.setdefault(key, i)
            if j != i:
                found.union(j, i)
            else:
                found.sizes[i], found.sigs[i] = size, sig
    finally:
        if gc_was_enabled:
            gc.enable()
    return found


def _near_edges(sts: list[Statement], found: _Buckets, hasher: MinHasher, rows: int, threshold: float,
                text_of: Callable[[Statement], str]) -> dict[int, dict[int, float]]:
    """Verified edges: LSH bands of the signatures give candidate pairs, the exact shingle Jaccard decides
    (the few shingle sets it needs are computed again rather than all kept: 3 GB on NSB)."""
    sigs, sizes = found.sigs, found.sizes
    pairs = []
    for i, j in sorted(_band_candidates(sigs, rows, hasher.num_perm // rows)):
        # Jaccard ≤ min/max of the sizes: skip the pair when its sizes alone rule it out.
        if min(sizes[i], sizes[j]) < threshold * max(sizes[i], sizes[j]):
            continue
        if MinHasher.similarity(unpack_signature(sigs[i]), unpack_signature(sigs[j])) >= threshold - MARGIN:
            pairs.append((i, j))
    sims = pair_jaccards(pairs, lambda i: hasher.shingles(text_of(sts[i])))
    edges: dict[int, dict[int, float]] = defaultdict(dict)
    for i, j in pairs:  # in sorted order, whatever order the similarities were computed in
        if sims[i, j] >= threshold:
            edges[i][j] = edges[j][i] = sims[i, j]
    return edges


def pair_jaccards(pairs: list[tuple[int, int]],
                   shingles: Callable[[int], set[int]]) -> dict[tuple[int, int], float]:
    """The exact Jaccard of each pair. A statement's shingle set (tens of KB) is kept only while pairs that
    need it are left: the pairs are taken one connected group at a time and a set is dropped after its
    last pair, so memory follows the largest group, not the archive (copies of one release, say, would
    otherwise keep a set for every statement that has a near copy)."""
    parent: dict[int, int] = {}

    def find(i: int) -> int:
        parent.setdefault(i, i)
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in pairs:
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    left: Counter[int] = Counter()
    for i, j in pairs:
        left[i] += 1
        left[j] += 1
    cache: dict[int, set[int]] = {}
    sims: dict[tuple[int, int], float] = {}
    for i, j in sorted(pairs, key=lambda p: (find(p[0]), p)):
        for x in (i, j):
            if x not in cache:
                cache[x] = shingles(x)
        sims[i, j] = jaccard(cache[i], cache[j])
        for x in (i, j):
            left[x] -= 1
            if not left[x]:
                del cache[x]
    return sims


def _no_chain_groups(sts: list[Statement], found: _Buckets,
                     edges: dict[int, dict[int, float]]) -> dict[str, str]:
    """No chaining: exact-duplicate buckets are taken in canonical order; each one joins the group of the
    best canonical it matches directly (highest Jaccard), or starts a group of its own. A is like B and B
    like C does not put A with C unless A is like C's canonical itself."""
    buckets_of: dict[int, list[int]] = defaultdict(list)
    for i in range(len(sts)):
        buckets_of[found.find(i)].append(i)

    def order_of(i: int) -> tuple:
        return _canonical_order(sts[i], found.lengths[i])

    heads = {rep: min(members, key=order_of) for rep, members in buckets_of.items()}
    canonical_of: dict[int, int] = {}  # bucket rep -> canonical bucket rep
    for rep in sorted(buckets_of, key=lambda rep: order_of(heads[rep])):
        best, best_sim = rep, -1.0
        for other, sim in edges.get(rep, {}).items():
            if canonical_of.get(other) == other and sim > best_sim:
                best, best_sim = other, sim
        canonical_of[rep] = best
    groups: dict[int, list[int]] = defaultdict(list)
    for rep, members in buckets_of.items():
        groups[canonical_of[rep]].extend(members)
    out: dict[str, str] = {}
    for canon, members in groups.items():
        if len(members) >= 2:
            head = sts[heads[canon]].id
            out.update((sts[i].id, head) for i in members)
    return out


__all__ = ["MinHasher", "Sketch", "exact_key", "folded", "jaccard", "near_duplicate_groups", "pack_signature",
           "pair_jaccards", "signature", "sketch", "unpack_signature", "words"]
