"""Shingle hashes computed with numpy (indexer.duplicates.tuple_hashes) are Python's own tuple hashes, so
that sketches, exact keys and groups stay what they were: on random integers and on real NSB statements."""

from __future__ import annotations

import hashlib
import random

import numpy as np

from corpus import Statement, read_paths
from indexer.analysis import fold
from indexer.duplicates import MinHasher, sketch, tuple_hashes, words
from tests.corpora import SAMPLE


def word_hash(word: str) -> int:
    """A word's hash as the shingles define it: BLAKE2b (8 bytes, little-endian) of its folded form."""
    return int.from_bytes(hashlib.blake2b(fold(word).encode("utf-8"), digest_size=8).digest(), "little")


def reference_shingles(hasher: MinHasher, ws: list[str]) -> set[int]:
    """The shingle set as the pure-Python definition has it: hash() of each tuple of word hashes."""
    hashes = [word_hash(w) for w in ws]
    k = hasher.shingle
    if len(hashes) <= k:
        return {hash(tuple(hashes))} if hashes else set()
    return {hash(tuple(hashes[i:i + k])) for i in range(len(hashes) - k + 1)}


def test_tuple_hashes_are_python_s_hash_of_tuples() -> None:
    rng = random.Random(7)
    values = [rng.randrange(1 << 64) for _ in range(300)] + [0, 1, (1 << 61) - 1, 1 << 61, (1 << 64) - 1]
    array = np.array(values, dtype=np.uint64)
    for k in (1, 2, 5):
        got = tuple_hashes(array, k).tolist()
        assert got == [hash(tuple(values[i:i + k])) for i in range(len(values) - k + 1)]


def test_shingles_signatures_and_sketches_are_the_python_ones_on_real_statements() -> None:
    hasher = MinHasher()
    statements = [x for x in read_paths([SAMPLE]) if isinstance(x, Statement)]
    assert len(statements) > 100
    texts = [s.body for s in statements] + [s.title for s in statements] + ["", "un", "un deux trois"]
    for text in texts:
        ws = words(text)
        expected = reference_shingles(hasher, ws)
        assert hasher.shingles(text) == expected
        assert hasher.shingle_array(ws).tolist() == sorted(expected)
        # the numpy bins and the loop over Python ints (a negative top is a list index) agree
        assert hasher.signature_of(hasher.shingle_array(ws)) == hasher.signature_of(expected)
    for s in statements[:50]:
        sk = sketch(s)
        assert sk.size == len(reference_shingles(hasher, words(s.body if s.body.strip() else s.title)))
