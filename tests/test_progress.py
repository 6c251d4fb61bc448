"""Progress inside one big input, as the reader reports it: ``InputFile.bytes_read`` grows while a JSON Lines
file (plain or gzip) or a WARC file is read, and `indexer.update`'s progress callback moves before the file
ends (a 54 MB NSB file is one input: without this, a progress bar would sit at 0 until its very end)."""

from __future__ import annotations

import gzip
import itertools

import pytest

from tests.corpora import SHARED

NSB = SHARED / "corpus" / "nsb" / "nsb.jsonl.gz"
pytestmark = pytest.mark.skipif(not NSB.is_file(), reason="../shared/corpus/nsb is missing")


@pytest.fixture(scope="module")
def nsb_slice(tmp_path_factory):
    """The first 1,500 NSB records, as a .jsonl.gz and as a plain .jsonl."""
    folder = tmp_path_factory.mktemp("progress")
    with gzip.open(NSB, "rb") as f:
        lines = list(itertools.islice(f, 1500))
    (folder / "slice.jsonl").write_bytes(b"".join(lines))
    with gzip.open(folder / "slice.jsonl.gz", "wb") as out:
        out.writelines(lines)
    return folder


@pytest.mark.parametrize("name", ["slice.jsonl", "slice.jsonl.gz"])
def test_the_reader_counts_the_bytes_it_has_read(nsb_slice, name):
    from corpus.inputs import iter_inputs, read_input

    (inp,) = list(iter_inputs([nsb_slice / name]))
    assert inp.bytes_read == 0
    seen = []
    for _ in read_input(inp):
        seen.append(inp.bytes_read)
    size = (nsb_slice / name).stat().st_size
    assert seen == sorted(seen) and seen[-1] == size
    assert len({x for x in seen if 0 < x < size}) > 3  # it moved many times before the end


def test_update_reports_progress_inside_one_big_file(nsb_slice, tmp_path):
    from indexer import update

    calls = []
    report = update([nsb_slice / "slice.jsonl.gz"], tmp_path / "index", workers=False,
                    progress=lambda done, total, n: calls.append((done, total, n)))
    total = (nsb_slice / "slice.jsonl.gz").stat().st_size
    assert report.added > 1000 and calls and calls[-1][:2] == (total, total)
    inside = [done for done, _, n in calls if 0 < done < total]
    assert len(set(inside)) > 3, calls[:10]
    assert [d for d, _, _ in calls] == sorted(d for d, _, _ in calls)


@pytest.mark.parametrize("compress", [True, False])
def test_a_warc_reader_counts_its_records_bytes(tmp_path, compress):
    """Real Yukon pages as WARC response records: bytes_read is where the next record starts."""
    import io

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    from corpus.inputs import iter_inputs, read_input

    pages = sorted((SHARED / "corpus" / "yukon" / "en" / "2020").glob("*.html"))[:12]
    if not pages:
        pytest.skip("../shared/corpus/yukon is missing")
    path = tmp_path / ("crawl.warc.gz" if compress else "crawl.warc")
    with path.open("wb") as f:
        writer = WARCWriter(f, gzip=compress)
        for p in pages:
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")],
                                       protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(f"https://yukon.ca/en/news/{p.stem}", "response",
                                                          payload=io.BytesIO(p.read_bytes()),
                                                          http_headers=headers))
    (inp,) = list(iter_inputs([path]))
    seen = [inp.bytes_read for item in read_input(inp) if hasattr(item, "body")]
    assert len(seen) == len(pages)
    assert seen == sorted(seen) and len(set(seen)) == len(pages)
    # the last record's end: the file's end, but for the blank line an uncompressed WARC closes with
    assert path.stat().st_size - 4 <= seen[-1] <= path.stat().st_size
