"""BulkWriter (indexer/segments.py) writes the very segment Whoosh's own SegmentWriter writes."""

from __future__ import annotations

import io
import pickle
import struct
import zlib
from pathlib import Path

import pytest
from whoosh import index
from whoosh.columns import CompressedBytesColumn, VarBytesColumn
from whoosh.fields import TEXT, Schema
from whoosh.filedb.structfile import StructFile

from corpus import Statement, read_paths
from indexer import segments
from indexer.documents import pre_analyze, statement_fields
from indexer.schema import make_schema
from indexer.segments import BulkWriter, check_schema
from tests.corpora import SAMPLE


def sample_docs() -> list[dict]:
    docs = [statement_fields(item) for item in read_paths([SAMPLE]) if isinstance(item, Statement)]
    assert len(docs) > 100
    return docs


def build(path: Path, docs: list[dict], bulk: bool) -> index.FileIndex:
    path.mkdir()
    ix = index.create_in(str(path), make_schema())
    w = BulkWriter(ix, compound=False) if bulk else ix.writer(compound=False)
    for doc in docs:
        w.add_document(**doc)
    w.commit()
    return index.open_dir(str(path))


def segment_files(ix) -> dict[str, bytes]:
    """The segment's files by extension (the names carry a random segment id)."""
    (segment,) = ix._segments()
    prefix = segment.segment_id()
    storage = ix.storage
    return {name[len(prefix):]: storage.open_file(name).read() for name in storage.list()
            if name.startswith(prefix)}


def test_bulk_segment_is_byte_identical_to_whoosh(tmp_path: Path, monkeypatch) -> None:
    """Without inlining short posting lists (which Whoosh's writer never does), and with every block
    compressed (as Whoosh's writer does, however short), blocks and stored fields pickled with Whoosh's
    protocol 2 and stored fields compressed at its level, byte for byte the same."""
    monkeypatch.setattr(segments, "INLINE_POSTINGS", 0)
    monkeypatch.setattr(segments, "COMPRESS_FROM", 0)
    monkeypatch.setattr(segments, "PICKLE_PROTOCOL", 2)
    monkeypatch.setattr(segments, "STORED_COMPRESSION", 3)
    docs = sample_docs()
    theirs = segment_files(build(tmp_path / "whoosh", docs, bulk=False))
    ours = segment_files(build(tmp_path / "bulk", docs, bulk=True))
    assert ours.pop(".psc")  # and the numpy search path's sidecar (tests/test_postings_sidecar.py)
    assert sorted(ours) == sorted(theirs)
    assert {".trm", ".pst"} <= {ext[-4:] for ext in ours}
    for ext in theirs:
        assert ours[ext] == theirs[ext], f"{ext} differs"


def test_pre_analysed_documents_write_the_same_postings(tmp_path: Path) -> None:
    docs = sample_docs()
    plain = segment_files(build(tmp_path / "plain", docs, bulk=True))
    analysed = segment_files(build(tmp_path / "analysed", [pre_analyze(dict(d)) for d in docs], bulk=True))
    assert plain[".trm"] == analysed[".trm"] and plain[".pst"] == analysed[".pst"]


def test_long_posting_lists_span_blocks_and_search_the_same(tmp_path: Path) -> None:
    """Every term reads the same from both writers' segments: postings (ids, weights, positions) and term
    statistics, whether BulkWriter inlined its short list in the term table or wrote blocks."""
    # Many documents sharing words: posting lists longer than a block (128), with field lengths that vary.
    docs = sample_docs() * 3
    whoosh_ix = build(tmp_path / "whoosh", docs, bulk=False)
    bulk_ix = build(tmp_path / "bulk", docs, bulk=True)
    with whoosh_ix.searcher() as a, bulk_ix.searcher() as b:
        terms = list(a.reader().all_terms())
        assert terms == list(b.reader().all_terms())
        long_lists = [t for t in terms if a.doc_frequency(*t) > 128]
        assert long_lists
        inlined = [t for t in terms if b.term_info(*t).is_inlined()]
        assert inlined and not any(a.term_info(*t).is_inlined() for t in terms)
        assert {b.doc_frequency(*t) <= segments.INLINE_POSTINGS for t in inlined} == {True}
        assert len(inlined) == sum(1 for t in terms if a.doc_frequency(*t) <= segments.INLINE_POSTINGS
                                   and t[0].startswith(("title_", "body_", "source_text")))
        for field, text in terms:
            ma, mb = a.postings(field, text), b.postings(field, text)
            assert list(ma.items_as("positions")) == list(mb.items_as("positions")) if field.startswith(
                ("title_", "body_")) else list(ma.all_ids()) == list(mb.all_ids())
            assert [ma.weight() for _ in iter_active(ma)] == [mb.weight() for _ in iter_active(mb)]
            ti_a, ti_b = a.term_info(field, text), b.term_info(field, text)
            assert (ti_a.weight(), ti_a.doc_frequency(), ti_a.min_length(), ti_a.max_length(),
                    ti_a.max_weight()) == (ti_b.weight(), ti_b.doc_frequency(), ti_b.min_length(),
                                           ti_b.max_length(), ti_b.max_weight())
            assert (ti_a.min_id(), ti_a.max_id()) == (ti_b.min_id(), ti_b.max_id())
    # the short lists are in the term table, not blocks of the postings file
    assert len(segment_files(bulk_ix)[".pst"]) < len(segment_files(whoosh_ix)[".pst"])


def iter_active(matcher):
    matcher.reset()
    while matcher.is_active():
        yield matcher.id()
        matcher.next()


def test_a_document_that_fails_leaves_nothing_behind(tmp_path: Path) -> None:
    docs = sample_docs()[:5]
    (tmp_path / "ix").mkdir()
    ix = index.create_in(str(tmp_path / "ix"), make_schema())
    w = BulkWriter(ix, compound=False)
    w.add_document(**docs[0])
    bad = dict(docs[1], length="not a number")  # NUMERIC field: analysis fails after the text fields
    with pytest.raises(Exception):  # noqa: B017 (whatever Whoosh raises for a bad value)
        w.add_document(**bad)
    w.add_document(**docs[2])
    w.commit()
    with index.open_dir(str(tmp_path / "ix")).searcher() as s:
        assert s.doc_count() == 2
        assert sorted(f["id"] for f in s.all_stored_fields()) == sorted([docs[0]["id"], docs[2]["id"]])
        # no posting points at a document that was never written
        assert all(d < 2 for field, text in s.reader().all_terms() for d in s.postings(field, text).all_ids())


def test_a_schema_with_term_vectors_is_refused() -> None:
    with pytest.raises(ValueError, match="vectors"):
        check_schema(Schema(body=TEXT(vector=True)))


@pytest.mark.parametrize("compound", [False, True])
def test_a_field_s_postings_are_freed_once_written(tmp_path: Path, monkeypatch, compound: bool) -> None:
    """Finishing a segment releases each field's postings as soon as it is written (the peak memory of a
    build is a segment being finished), with or without the postings sidecar, and the segment is whole."""
    docs = sample_docs()
    path = tmp_path / "ix"
    path.mkdir()
    ix = index.create_in(str(path), make_schema())
    w = BulkWriter(ix, compound=compound)
    for doc in docs:
        w.add_document(**doc)
    fields = sorted(w._terms)
    assert len(fields) > 3
    held: list[tuple[str, list[str], int]] = []  # field being written, fields still held, their terms
    write_term = BulkWriter._write_term

    def spy(fw, pw, tbytes, *args):
        name = fw._fieldname
        if not held or held[-1][0] != name:
            held.append((name, sorted(w._terms), sum(len(t) for t in w._terms.values())))
        return write_term(fw, pw, tbytes, *args)

    monkeypatch.setattr(BulkWriter, "_write_term", staticmethod(spy))
    w.commit()
    assert [name for name, _, _ in held] == fields
    for i, (name, still, _terms) in enumerate(held):
        assert still == fields[i:], name  # the fields written before it are gone
    assert held[0][2] > held[-1][2] > 0
    assert not w._terms
    with index.open_dir(str(path)).searcher() as s:
        assert s.doc_count() == len(docs)
        assert all(s.reader().field_length(f) for f in ("body_fr", "title_fr"))


def block_infos(reader, field: str, text: bytes) -> list[tuple]:
    """The info tuple (count, last id, max weight, compression, min and max length bytes) of each block of
    a term's posting list in a W3 segment's postings file."""
    ti = reader.term_info(field, text)
    offset, length = ti.extent()
    buf = reader._terms._postfile.get(offset, length[0] if isinstance(length, tuple) else length)
    assert buf[:4] == b"W3Bl"
    pos, infos = 4, []
    while pos < len(buf):
        (size,) = struct.unpack_from("!i", buf, pos)
        pos += 4
        info = pickle.loads(buf[pos:pos + abs(size)])  # the info pickle ends with its STOP
        infos.append(info)
        pos += abs(size)
    return infos


def test_short_blocks_are_stored_uncompressed_and_read_the_same(tmp_path: Path) -> None:
    """A block whose pickle is under COMPRESS_FROM bytes (zlib would make it larger) is stored as it is and
    says so; longer ones are compressed; both read back as Whoosh's own writer's segment does."""
    docs = sample_docs() * 2  # lists of a field without values longer than a block: "lang"
    bulk_ix = build(tmp_path / "bulk", docs, bulk=True)
    whoosh_ix = build(tmp_path / "whoosh", docs, bulk=False)
    with bulk_ix.searcher() as b, whoosh_ix.searcher() as a:
        seg = b.reader()
        some_id = docs[0]["id"].encode()
        (info,) = block_infos(seg, "id", some_id)  # one posting, no value: a tiny block
        assert info[3] == 0
        lang = docs[0]["lang"].encode()
        assert b.doc_frequency("lang", lang) > 128
        assert any(i[3] for i in block_infos(seg, "lang", lang))
        for field, text in [("id", some_id), ("lang", lang)]:
            assert list(b.postings(field, text).all_ids()) == list(a.postings(field, text).all_ids())
    assert len(segment_files(bulk_ix)[".pst"]) < len(segment_files(whoosh_ix)[".pst"])


def test_blocks_inlined_postings_and_stored_fields_pickle_bytes_as_bytes(tmp_path: Path) -> None:
    """Posting blocks, inlined postings and stored fields are pickled with protocol 4 (PICKLE_PROTOCOL):
    a posting's positions and a body_z are written as bytes, not as _codecs.encode calls on latin-1 text;
    stored fields are not compressed twice; everything reads back as from Whoosh's own writer's segment."""
    docs = sample_docs()
    bulk_ix = build(tmp_path / "bulk", docs, bulk=True)
    whoosh_ix = build(tmp_path / "whoosh", docs, bulk=False)
    ours, theirs = segment_files(bulk_ix), segment_files(whoosh_ix)
    assert b"_codecs" not in ours[".trm"]  # its inlined postings (the term table is not compressed)
    for files in (ours, theirs):
        assert len(files["._stored.col"]) > 0
    assert len(ours["._stored.col"]) < len(theirs["._stored.col"])
    column, raw_column = CompressedBytesColumn(), VarBytesColumn()
    for files, head, zlib_head in ((ours, b"\x80\x04", b"\x78\x01"), (theirs, b"\x80\x02", b"\x78\x5e")):
        data = files["._stored.col"]
        stored = column.reader(StructFile(io.BytesIO(data)), 0, len(data), len(docs))
        assert {stored[d][:2] for d in range(len(docs))} == {head}
        # ours stored as they are (STORED_COMPRESSION 0: most of a document is its body_z, compressed
        # already), Whoosh's compressed again (level 3)
        raw = raw_column.reader(StructFile(io.BytesIO(data)), 0, len(data), len(docs))
        assert {raw[d][:2] for d in range(len(docs))} == {zlib_head}
    with bulk_ix.searcher() as b, whoosh_ix.searcher() as a:
        reader = b.reader()
        long_term = next(t for t in reader.all_terms() if t[0] == "body_fr" and b.doc_frequency(*t) > 8)
        offset, length = reader.term_info(*long_term).extent()
        raw = reader._terms._postfile.get(offset, length[0] if isinstance(length, tuple) else length)
        (info,) = block_infos(reader, *long_term)
        assert info[3]  # compressed
        data = zlib.decompress(raw[8 + len(pickle.dumps(info, 2)):])  # after the magic, length and info
        assert data[:2] == b"\x80\x04" and b"_codecs" not in data
        every = range(len(docs))
        assert [b.stored_fields(d) for d in every] == [a.stored_fields(d) for d in every]
        for field, text in a.reader().all_terms():
            if field.startswith("body_"):
                assert list(b.postings(field, text).items_as("positions")) == \
                    list(a.postings(field, text).items_as("positions"))


def test_a_recurring_value_of_a_field_without_values_is_indexed_once(tmp_path: Path, monkeypatch) -> None:
    """A language, a year, a date or a length recurs from document to document: Whoosh's field code runs
    once per distinct value of such a field (ID, NUMERIC, DATETIME), and once per document for text."""
    docs = sample_docs()
    (tmp_path / "ix").mkdir()
    ix = index.create_in(str(tmp_path / "ix"), make_schema())
    w = BulkWriter(ix, compound=False)
    calls: dict[str, int] = {}
    for name in ("lang", "length", "date", "body_fr"):
        field = w.schema[name]
        real = field.index

        def counted(value, real=real, name=name, **kwargs):
            calls[name] = calls.get(name, 0) + 1
            return real(value, **kwargs)

        monkeypatch.setattr(field, "index", counted)
    for doc in docs:
        w.add_document(**doc)
    w.cancel()  # (the schema, its fields spied on, would not pickle in a commit)
    assert calls["lang"] == len({d["lang"] for d in docs}) < len(docs)
    assert calls["length"] == len({d["length"] for d in docs}) < len(docs)
    assert calls["date"] == len({d["date"] for d in docs if "date" in d})
    assert calls["body_fr"] == sum(1 for d in docs if "body_fr" in d)
