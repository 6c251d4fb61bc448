"""The postings sidecar (indexer/postings.py): its arrays are Whoosh's own postings, BulkWriter and the
derivation from a finished segment write the same file, an index without sidecars or with a damaged one
answers the same, and ``presse check`` names a damaged one. Real Yukon statements and the sample corpus."""

from __future__ import annotations

import json
import pickle
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
from whoosh import index as windex
from whoosh.reading import SegmentReader

from indexer import integrity, optimize
from indexer import postings as sidecars
from search import Searcher, fastpath
from tests.test_indexer_segments import build, sample_docs, segment_files
from tests.test_search_fastpath import QUERIES, YUKON, _same, segments, statements  # noqa: F401 (fixtures)

pytestmark = pytest.mark.skipif(not YUKON.is_dir(), reason="../shared/corpus/yukon is missing")


def _sidecar_files(index_dir: Path) -> list[Path]:
    return sorted(Path(index_dir).glob(f"*{sidecars.SUFFIX}"))


def test_bulk_writer_and_derivation_write_the_same_sidecar(tmp_path):
    docs = sample_docs()
    theirs = build(tmp_path / "whoosh", docs, bulk=False)  # Whoosh's writer: no sidecar
    assert ".psc" not in segment_files(theirs)
    ours = segment_files(build(tmp_path / "bulk", docs, bulk=True))
    with theirs.reader() as reader:
        (seg, _), = reader.leaf_readers()
        derived = sidecars.derive(seg, tmp_path / "derived.psc").read_bytes()
    assert ours[".psc"] == derived


def test_sidecar_arrays_are_whoosh_s_postings_for_every_term(segments):  # noqa: F811
    """Every term of every segment (three, with deletions): the same documents, deleted ones included,
    weights and positions as Whoosh's posting blocks, and the same live documents as its matcher API."""
    ix = windex.open_dir(str(segments))
    big_gaps = 0
    with ix.reader() as reader:
        leaves = reader.leaf_readers()
        assert len(leaves) >= 3 and any(seg.has_deletions() for seg, _ in leaves)
        for seg, _ in leaves:
            car = sidecars.open_for(seg)
            assert car is not None and car.problems() == []
            terms = list(seg.all_terms())
            assert len(car.hashes) == len(terms)
            for fieldname, tbytes in terms:
                t = car.find(fieldname, tbytes)
                docs, weights, counts, start = car.term(t)
                deltas, w, values = sidecars.leaf_postings(seg, fieldname, tbytes)
                assert docs.tolist() == np.cumsum(deltas).tolist(), (fieldname, tbytes)
                assert weights.tolist() == np.asarray(w, dtype=np.float32).tolist()
                assert car.doc_frequency(t) == seg.doc_frequency(fieldname, tbytes)
                if values and isinstance(values[0], bytes):
                    at = start
                    for n, v in zip(counts.tolist(), values, strict=True):
                        want = fastpath.decode_positions(v)
                        assert car.positions[at:at + n].tolist() == want, (fieldname, tbytes)
                        big_gaps += any(b - a > 255 for a, b in zip([0, *want], want, strict=False))
                        at += n
                else:
                    assert not counts.any()
                live = [d for d in docs.tolist() if not seg.is_deleted(d)]
                assert live == list(seg.postings(fieldname, tbytes).all_ids())
            assert car.find("body_en", b"qwxzvnotaword") is None
    assert big_gaps  # the positions the numpy decoding leaves to the unpickler were met too


def _without_sidecars(index_dir: Path, to: Path) -> Path:
    shutil.copytree(index_dir, to)
    for f in _sidecar_files(to):
        f.unlink()
    return to


def test_an_index_without_sidecars_answers_the_same(segments, tmp_path):  # noqa: F811
    old = _without_sidecars(segments, tmp_path / "old")
    with_car, without = Searcher(segments), Searcher(old)
    try:
        assert all(c is not None for c in with_car.numpy_matcher().x.sidecars)
        assert all(c is None for c in without.numpy_matcher().x.sidecars)
        for q, opts in QUERIES:
            _same(with_car.search(q, **opts).to_dict(), without.search(q, **opts).to_dict(), q)
        assert without.numpy_matcher().x.sidecar_problems == []  # none is not damage
    finally:
        with_car.close()
        without.close()


def _damage(index_dir: Path, how: str) -> Path:
    """Cut the biggest sidecar short, or overwrite documents in the middle of its docs array."""
    victim = max(_sidecar_files(index_dir), key=lambda p: p.stat().st_size)
    data = bytearray(victim.read_bytes())
    if how == "truncate":
        del data[len(data) * 2 // 3:]
    else:
        (hlen,) = struct.unpack_from("<I", data, len(sidecars.MAGIC))
        head = json.loads(bytes(data[len(sidecars.MAGIC) + 4:len(sidecars.MAGIC) + 4 + hlen]))
        start = -(-(len(sidecars.MAGIC) + 4 + hlen) // 64) * 64
        dtype, offset, count, _crc = head["arrays"]["docs"]
        mid = start + offset + count * np.dtype(dtype).itemsize // 2
        data[mid:mid + 64] = b"\xff" * 64
    victim.write_bytes(bytes(data))
    return victim


@pytest.mark.parametrize("how", ["truncate", "garble"])
def test_a_damaged_sidecar_is_named_by_check_and_searches_fall_back(segments, tmp_path, how):  # noqa: F811
    old = _without_sidecars(segments, tmp_path / "old")
    damaged = tmp_path / "damaged"
    shutil.copytree(segments, damaged)
    victim = _damage(damaged, how)
    report = integrity.check(damaged)
    assert [d.file for d in report.problems] == [victim.name]
    assert integrity.check(segments).ok
    good, bad = Searcher(old), Searcher(damaged)
    try:
        for q, opts in QUERIES:
            _same(good.search(q, **opts).to_dict(), bad.search(q, **opts).to_dict(), q)
        if how == "truncate":  # found on open; garbled documents are found when a term reaches them
            assert victim.name in " ".join(bad.numpy_matcher().x.sidecar_problems)
    finally:
        good.close()
        bad.close()
    ix = windex.open_dir(str(damaged))
    assert sidecars.refresh(ix) == [victim.name]  # the next update writes it again
    ix.close()
    assert integrity.check(damaged).ok


def test_optimize_gives_the_merged_segment_a_sidecar(segments, tmp_path):  # noqa: F811
    merged = tmp_path / "merged"
    shutil.copytree(segments, merged)
    before = {p.name for p in _sidecar_files(merged)}
    optimize(merged)
    ix = windex.open_dir(str(merged))
    (seg_id,) = [s.segment_id() for s in ix._segments()]
    ix.close()
    after = {p.name for p in _sidecar_files(merged)}
    assert after == {f"{seg_id}{sidecars.SUFFIX}"} and not after & before  # old ones went with their segments
    assert integrity.check(merged).ok
    a, b = Searcher(segments), Searcher(merged)
    try:
        for q in ("covid", "santé publique yukon", '"chief medical officer"'):
            assert a.search(q).total == b.search(q).total
    finally:
        a.close()
        b.close()


def test_decode_values_reads_whoosh_s_encodings():
    from whoosh.formats import Positions
    fmt = Positions()
    lists = [[0], [3, 4, 9], [1, 300, 70000], [255, 256], [5], list(range(0, 2000, 7))]
    raw = [fmt.encode(p) for p in lists]
    raw += [v[:-1] for v in raw]  # the form without the STOP opcode (fastpath.decode_positions reads both)
    ends = np.cumsum([len(v) for v in raw])
    counts, flat = sidecars.decode_values(np.frombuffer(b"".join(raw), np.uint8), ends)
    assert counts.tolist() == [len(p) for p in lists] * 2
    assert flat.tolist() == [x for p in lists * 2 for x in p]
    # another pickle protocol (not the numpy reader's form): the allowlisted unpickler reads it
    other = raw[2][:4] + pickle.dumps([1, 299, 69700], 3)
    counts, flat = sidecars.decode_values(np.frombuffer(raw[0] + other, np.uint8),
                                          np.cumsum([len(raw[0]), len(other)]))
    assert counts.tolist() == [1, 3] and flat.tolist() == [0, 1, 300, 70000]
    counts, flat = sidecars.decode_values(np.zeros(0, np.uint8), np.array([0, 0]))  # no positions at all
    assert counts.tolist() == [0, 0] and flat.tolist() == []
    with pytest.raises(ValueError):  # a count the list does not have
        bad = b"\x00\x00\x00\x02" + raw[0][4:]
        sidecars.decode_values(np.frombuffer(bad, np.uint8), np.array([len(bad)]))


def test_frequencies_membership_and_prefixes_from_the_sidecar_are_whoosh_s(segments):  # noqa: F811
    """Once a searcher's fast path has opened the sidecars, a term's document frequency, whether the index
    has it, and a prefix's words (fastpath.fast_term_lookups, fast_prefixes) come from them: the same
    answers as Whoosh's term tables, per segment and over all segments."""
    s = Searcher(segments)
    plain = windex.open_dir(str(segments)).reader()  # nothing attached: Whoosh's own tables
    try:
        s.numpy_matcher()
        reader = s._s.reader()
        assert all(seg._terms.__dict__.get(fastpath.SIDECAR) for seg, _ in reader.leaf_readers())
        assert getattr(SegmentReader, "_presse_prefixes", False)
        terms = list(plain.all_terms())
        absent = [("body_fr", b"zzznotaword"), ("title_en", b"aaa0"), ("group", b"nogroup")]
        for f, t in terms[::3] + absent:
            assert reader.doc_frequency(f, t) == plain.doc_frequency(f, t), (f, t)
            assert ((f, t) in reader) == ((f, t) in plain), (f, t)
        for field in ("body_en", "body_fr", "title_fr", "source_text", "id"):
            words = list(plain.lexicon(field))
            prefixes = {w[:k] for w in words[::5] for k in (1, 2, 4)} | {b"", b"zzzq"}
            for p in sorted(prefixes):
                assert list(reader.expand_prefix(field, p)) == list(plain.expand_prefix(field, p)), (field, p)
            for (seg, _), (own, _) in zip(reader.leaf_readers(), plain.leaf_readers(), strict=True):
                for p in sorted(prefixes)[::7]:
                    assert list(seg.expand_prefix(field, p)) == list(own.expand_prefix(field, p))
    finally:
        plain.close()
        s.close()


def test_group_members_and_positions_read_from_the_sidecars_are_whoosh_s(segments):  # noqa: F811
    """FastMatcher.group_members reads a duplicate group's live documents straight from the sidecars, and
    positions() many postings at a time: the same as Whoosh's matchers give."""
    s = Searcher(segments)
    try:
        fast = s.numpy_matcher()
        assert all(c is not None for c in fast.x.sidecars)
        groups = [g.decode() for g in s._s.reader().lexicon("group")]
        assert len(groups) > 50
        for g in groups:
            assert fast.group_members(g) == sorted(s.whoosh.group_members(g)), g
        docs = list(range(0, fast.x.n, 3))
        for t in ("yukon", "covid", "health", "government"):
            assert fast.positions("body_en", t, docs) == s.whoosh.positions("body_en", t, docs), t
    finally:
        s.close()


def test_weights_not_a_multiple_of_the_counts_are_stored(tmp_path):
    """A term whose weights are its counts times one scale keeps only the scale; any other term (a document
    boost, say) keeps its weights: both read back exactly, with their documents and positions."""
    from whoosh.formats import Positions
    fmt = Positions()
    terms = {b"plain": ([0, 2, 5], [3.0, 6.0, 3.0], [[1], [2, 9], [4]]),
             b"boosted": ([1, 2], [2.5, 1.0], [[0], [3]]),
             b"noposition": ([3, 4], [1.0, 1.0], None)}
    b = sidecars.Builder(tmp_path / "x.psc", 6)
    for word, (docs, weights, positions) in sorted(terms.items()):
        values = [fmt.encode(p) for p in positions] if positions else None
        b.add(sidecars.key_of("body_en", word), np.array(docs, np.uint32), np.array(weights, np.float32),
              b"".join(values) if values else b"",
              np.cumsum([len(v) for v in values]).astype(np.uint64) if values else None)
    car = sidecars.Sidecar.open(b.write(), 6)
    assert car.problems() == [] and len(car.weights) == 2  # only the boosted term's weights are stored
    for word, (docs, weights, positions) in terms.items():
        got_docs, got_weights, counts, start = car.term(car.find("body_en", word))
        assert got_docs.tolist() == docs and got_weights.tolist() == weights, word
        flat = [x for p in positions or [] for x in p]
        assert car.positions[start:start + int(counts.sum())].tolist() == flat
