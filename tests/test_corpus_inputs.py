"""Reading inputs: walking folders, JSON Lines, WARC, broken files, the summary and the `extract` command."""

from __future__ import annotations

import gzip
import io
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from corpus import InputFile, Problem, Statement, Summary, iter_inputs, read_input, read_paths

FR = (
    "Le gouvernement a annoncé aujourd’hui un nouveau programme de soutien aux entreprises touchées par la "
    "crise. Les demandes pourront être déposées dès le mois prochain auprès des services de l’État."
)
EN = (
    "The government today announced a new support program for businesses affected by the crisis. "
    "Applications can be submitted starting next month to the relevant departments."
)
DE = (
    "Die Regierung hat heute ein neues Unterstützungsprogramm für die von der Krise betroffenen Unternehmen "
    "angekündigt. Gesuche können ab nächstem Monat bei den zuständigen Stellen eingereicht werden."
)


def page(text: str, lang: str = "fr", title: str = "Titre") -> str:
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><title>{title}</title></head><body>'
        f'<nav><a href="/">Accueil'
        f"</a></nav><main><h1>{title}</h1><p>{text}</p></main><footer>Pied</footer></body></html>"
    )


def items(paths) -> tuple[list[Statement], list[Problem]]:
    out = list(read_paths(paths))
    return ([i for i in out if isinstance(i, Statement)], [i for i in out if isinstance(i, Problem)])


def test_walk_is_sorted_skips_hidden_and_non_corpus(tmp_path: Path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.html").write_text(page(FR), encoding="utf-8")
    (tmp_path / "a.htm").write_text(page(FR), encoding="utf-8")
    (tmp_path / "page.php").write_text(page(FR), encoding="utf-8")  # HTML content, odd name
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "README.md").write_text("# readme")
    (tmp_path / "LICENSE").write_text("MIT")
    (tmp_path / "img.png").write_bytes(b"\x89PNG")
    (tmp_path / ".hidden.swp").write_text("x")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.html").write_text(page(FR))
    (tmp_path / "data.bin").write_bytes(b"\x00\x01")
    found = list(iter_inputs([tmp_path]))
    files = [f for f in found if isinstance(f, InputFile)]
    # a .txt statement is read as text (issue 18); README.md, LICENSE are not statements
    assert [f.rel for f in files] == ["a.htm", "b/z.html", "notes.txt", "page.php"]
    assert [f.kind for f in files] == ["html", "html", "text", "html"]
    assert all(f.size > 0 and f.mtime_ns > 0 for f in files)
    assert [Path(p.path).name for p in found if isinstance(p, Problem)] == ["data.bin"]
    assert found == list(iter_inputs([tmp_path]))


def test_ids_from_relative_path_are_stable(tmp_path: Path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "p.html").write_text(page(FR), encoding="utf-8")
    st1, _ = items([tmp_path])
    st2, _ = items([tmp_path])
    assert st1[0].id == st2[0].id == "x/p.html"
    st3, _ = items([tmp_path / "x"])
    assert st3[0].id == "p.html"


def test_missing_path_is_reported(tmp_path: Path):
    _, problems = items([tmp_path / "nope"])
    assert problems[0].reason == "no such file or directory"


def test_broken_files_are_reported_and_run_goes_on(tmp_path: Path):
    body = f"L’été « chaud » – cœur. {FR}"
    (tmp_path / "cp1252.html").write_bytes(page(body).encode("cp1252"))
    (tmp_path / "bom.html").write_bytes(b"\xef\xbb\xbf" + page(body).encode("utf-8"))
    prolog = '<?xml version="1.0" encoding="ISO-8859-1"?>\n' + page("Noël à Genève. " + FR.replace("’", "'"))
    (tmp_path / "latin1.xhtml").write_bytes(prolog.encode("latin-1"))
    (tmp_path / "truncated.html").write_text(page(FR)[:-60], encoding="utf-8")
    (tmp_path / "image.html").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (tmp_path / "empty.html").write_bytes(b"")
    (tmp_path / "blank.html").write_bytes(b"  \n ")
    (tmp_path / "notext.html").write_text("<html><body><script>var a;</script></body></html>")
    with (tmp_path / "huge.html").open("wb") as f:  # 50 MB
        f.write(b"<html><body>")
        chunk = ("<p>" + FR + "</p>\n").encode() * 1000
        while f.tell() < 50 * 1024 * 1024:
            f.write(chunk)
    summary = Summary()
    out = list(read_paths([tmp_path], summary=summary))
    statements = {Path(s.origin).name: s for s in out if isinstance(s, Statement)}
    problems = {Path(p.path).name: p for p in out if isinstance(p, Problem)}
    assert set(statements) == {"cp1252.html", "bom.html", "latin1.xhtml", "truncated.html"}
    assert "L’été « chaud » – cœur." in statements["cp1252.html"].body
    assert statements["bom.html"].body.startswith("L’été")
    assert "Noël à Genève" in statements["latin1.xhtml"].body
    assert all(
        s.lang == "fr" and "Accueil" not in s.body and "Pied" not in s.body for s in statements.values()
    )
    assert "binary" in problems["image.html"].reason
    assert problems["empty.html"].reason == "empty file"
    assert problems["blank.html"].reason.startswith("empty file")
    assert problems["notext.html"].reason.startswith("no text")
    assert problems["huge.html"].reason.startswith("file too large")
    assert summary.files == 9 and summary.statements == 4
    assert sum(summary.skipped.values()) == 5
    text = "\n".join(summary.lines())
    assert "files: 9 found, 4 read, 5 skipped" in text and "file too large" in text


def test_jsonl_bad_lines_and_fields(tmp_path: Path):
    lines = [
        json.dumps(
            {
                "id": "a",
                "html": f"<p>{FR}</p>",
                "lang": "fr",
                "title": "A",
                "date": "2020-01-02",
                "type": "Memorandum",
            }
        ),
        "{not json",
        "",
        json.dumps(["a list"]),
        json.dumps({"id": "b", "title": "nothing"}),
        json.dumps({"text": EN, "title": "B", "lang": "fr"}),
        json.dumps({"html": f"<p>{DE}</p>", "lang": "en", "url": "https://e.example/de"}),
    ]
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = Summary()
    out = list(read_paths([path], summary=summary))
    sts = [i for i in out if isinstance(i, Statement)]
    probs = [i for i in out if isinstance(i, Problem)]
    assert [s.origin for s in sts] == [f"{path}:1", f"{path}:6", f"{path}:7"]
    assert sts[0].id == "a" and sts[0].extra == {"type": "Memorandum"}
    assert sts[1].lang == "en" and sts[1].id.startswith("c-")
    assert sts[2].lang == "de" and sts[2].id.startswith("u-")
    skipped = {(p.line, p.reason.split(":")[0]) for p in probs if p.kind == "skipped"}
    assert skipped == {(2, "invalid JSON"), (4, "invalid record"), (5, "no text")}
    warnings = sorted((p.line, p.reason) for p in probs if p.kind == "warning")
    assert warnings == [
        (6, "language disagreement: declared fr, text is en"),
        (7, "language disagreement: declared en, text is de"),
        (7, "other language: de (neither French nor English)"),
    ]
    assert str(probs[0]).startswith(f"{path}:2: invalid JSON")
    assert summary.to_dict()["language_disagreements"] == 2 and summary.other_languages == {"de": 1}


def test_jsonl_content_ids_are_stable_and_distinct(tmp_path: Path):
    recs = [{"html": f"<p>{FR} {i}</p>", "title": f"T{i}"} for i in range(3)] + [
        {"html": f"<p>{FR} 0</p>", "title": "T0"}
    ]
    path = tmp_path / "v.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in recs), encoding="utf-8")
    ids1 = [s.id for s in items([path])[0]]
    ids2 = [s.id for s in items([path])[0]]
    assert ids1 == ids2 and len(set(ids1)) == 4
    # inserting a record before does not change the others' ids
    path.write_text("\n".join(json.dumps(r) for r in [{"text": EN, "title": "new"}, *recs]), encoding="utf-8")
    assert [s.id for s in items([path])[0]][1:] == ids1


def test_gzip_that_ends_early(tmp_path: Path):
    raw = "\n".join(json.dumps({"id": str(i), "html": f"<p>{FR} {i}</p>"}) for i in range(200)).encode()
    data = gzip.compress(raw)
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    sts, probs = items([path])
    assert 0 < len(sts) < 200
    assert len(probs) == 1 and probs[0].reason.startswith("truncated file") and probs[0].line == len(sts) + 1


def write_warc(path: Path, gzip: bool = True, text: str = EN) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with path.open("wb") as f:
        writer = WARCWriter(f, gzip=gzip)
        html = page(text, lang="en", title="Ferry").encode("utf-8")
        headers = StatusAndHeaders(
            "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
        )
        writer.write_record(
            writer.create_warc_record(
                "https://gov.example/news/ferry", "response", payload=io.BytesIO(html), http_headers=headers
            )
        )
        headers = StatusAndHeaders("200 OK", [("Content-Type", "image/png")], protocol="HTTP/1.1")
        writer.write_record(
            writer.create_warc_record(
                "https://gov.example/logo.png",
                "response",
                payload=io.BytesIO(b"\x89PNG...."),
                http_headers=headers,
            )
        )
        writer.write_record(
            writer.create_warc_record(
                "https://gov.example/", "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n")
            )
        )


def test_warc(tmp_path: Path):
    path = tmp_path / "crawl.warc.gz"
    write_warc(path)
    sts, probs = items([path])
    assert len(sts) == 1
    st = sts[0]
    assert st.url == "https://gov.example/news/ferry" and st.title == "Ferry" and st.lang == "en"
    assert st.origin.startswith(f"{path}@") and st.body == EN
    assert [p.reason.split(":")[0] for p in probs] == ["not HTML"] and probs[0].offset > 0
    (tmp_path / "bad.warc").write_bytes(b"this is not a warc file\n" * 10)
    _, probs = items([tmp_path / "bad.warc"])
    assert probs and probs[0].reason.startswith("invalid WARC")


def test_read_input_never_raises(tmp_path: Path):
    path = tmp_path / "x.jsonl"
    path.write_bytes(b"\xff\xfe\x00garbage\n{}\n")
    assert all(isinstance(i, Problem) for i in read_input(InputFile(path, tmp_path, "jsonl")))


def test_cli_extract(tmp_path: Path):
    (tmp_path / "a.html").write_text(page(FR, title="Un titre"), encoding="utf-8")
    (tmp_path / "b.html").write_bytes(b"")
    runner = CliRunner()
    result = runner.invoke(main, ["extract", "--json", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["title"] == "Un titre" and record["lang"] == "fr" and "content_hash" in record
    assert "b.html: empty file" in result.stderr and "statements: 1" in result.stderr
    result = runner.invoke(main, ["extract", str(tmp_path / "a.html")])
    assert result.exit_code == 0 and "Un titre" in result.stdout and "[fr]" in result.stdout
    result = runner.invoke(main, ["extract", str(tmp_path / "missing.html")])
    assert result.exit_code != 0 and "no such file" in result.output


@pytest.mark.parametrize("name", ["sample/yukon", "sample/vie-publique.jsonl"])
def test_bundled_sample(name: str):
    root = Path(__file__).resolve().parents[1] / name
    summary = Summary()
    out = list(read_paths([root], summary=summary))
    assert summary.statements >= 40 and not summary.skipped and not summary.disagreements
    assert all(s.title and s.date and s.body for s in out if isinstance(s, Statement))


# ---- issue 16, H1: one bad record is reported alone; a reader that stops early says so (incomplete) ----


def _nsb_lines(n: int) -> list[bytes]:
    """The first n records of the shared NSB file (real statements), else synthetic ones."""
    shared = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "nsb" / "nsb.jsonl.gz"
    if shared.exists():
        out = []
        with gzip.open(shared, "rb") as f:
            for raw in f:
                if len(out) == n:
                    break
                record = json.loads(raw)
                if record.get("html") or record.get("text"):
                    out.append(raw.rstrip(b"\n"))
        return out
    return [json.dumps({"id": f"n{i}", "html": f"<p>{FR} {i}</p>"}).encode() for i in range(n)]


BAD_RECORDS = {
    "surrogate in html": None,  # filled from a real record below
    "nested 100,000 deep": b"[" * 100_000 + b"]" * 100_000,
    "object nested 100,000 deep": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    "not JSON": b"{\"id\": \"x\", \"html\": ",
    "not UTF-8 nor JSON": b"\xff\xfe\x00\x01",
}


@pytest.mark.parametrize("bad", sorted(BAD_RECORDS))
def test_a_bad_jsonl_record_is_skipped_alone(tmp_path: Path, bad: str) -> None:
    lines = _nsb_lines(30)
    line = BAD_RECORDS[bad]
    if line is None:  # valid JSON: "\ud800" is a lone surrogate escape, which lxml and hashing refuse
        record = json.loads(lines[9])
        key = "html" if record.get("html") else "text"
        record[key] = record[key][:50] + "\ud800" + record[key][50:]
        line = json.dumps(record).encode()
    lines[9] = line
    path = tmp_path / "nsb.jsonl.gz"
    path.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    sts, probs = items([path])
    skipped = [p for p in probs if p.kind == "skipped"]
    if bad == "surrogate in html":  # repaired, still indexed
        assert len(sts) == 30 and not skipped
        assert "\ufffd" in next(s.body + s.title for s in sts if s.origin.endswith(":10"))
        return
    assert len(sts) == 29, probs
    assert [p.line for p in skipped] == [10] and skipped[0].incomplete
    assert skipped[0].reason.startswith("invalid JSON")
    assert len(str(skipped[0])) < 300 and str(skipped[0]).isprintable()


def test_any_exception_from_one_record_skips_that_record_only(tmp_path: Path, monkeypatch) -> None:
    import corpus.inputs as inputs

    real = inputs.extract_html

    def flaky(data, **kw):
        if "BOOM" in str(data):
            raise RecursionError("maximum recursion depth exceeded \ud800")
        return real(data, **kw)

    monkeypatch.setattr(inputs, "extract_html", flaky)
    recs = [{"id": f"r{i}", "html": f"<p>{FR} {'BOOM' if i == 2 else i}</p>"} for i in range(5)]
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in recs) + "\n", encoding="utf-8")
    sts, probs = items([path])
    assert [s.id for s in sts] == ["r0", "r1", "r3", "r4"]
    assert len(probs) == 1 and probs[0].line == 3 and probs[0].incomplete
    assert probs[0].reason.startswith("invalid record: RecursionError") and str(probs[0]).isprintable()
    # A WARC record that raises is skipped alone too.
    write_warc(tmp_path / "a.warc.gz")
    write_warc(tmp_path / "b.warc.gz", text="BOOM " + EN)
    sts, probs = items([tmp_path / "a.warc.gz", tmp_path / "b.warc.gz"])
    assert len(sts) == 1
    assert [p.reason.split(":")[0] for p in probs] == ["not HTML", "invalid record", "not HTML"]
    assert [p.incomplete for p in probs] == [False, True, False]


def test_incomplete_marks_problems_where_statements_may_be_unread(tmp_path: Path) -> None:
    lines = [json.dumps({"id": f"r{i}", "html": f"<p>{FR} {i}</p>"}) for i in range(100)]
    lines[3] = json.dumps({"id": "x", "title": "rien"})  # no text: a content decision
    lines[4] = json.dumps([1, 2])
    data = gzip.compress("\n".join(lines).encode())
    (tmp_path / "cut.jsonl.gz").write_bytes(data[: len(data) // 2])
    (tmp_path / "empty.html").write_bytes(b"")
    _, probs = items([tmp_path])
    flags = {(Path(p.path).name, p.reason.split(":")[0]): p.incomplete for p in probs}
    assert flags == {("cut.jsonl.gz", "no text"): False, ("cut.jsonl.gz", "invalid record"): False,
                     ("cut.jsonl.gz", "truncated file"): True, ("empty.html", "empty file"): False}


def test_a_truncated_warc_record_is_reported_not_indexed(tmp_path: Path) -> None:
    whole = tmp_path / "whole.warc"
    write_warc(whole, gzip=False)
    data = whole.read_bytes()
    cut = data.index(b"support program") + 10  # in the middle of the page's payload
    (tmp_path / "cut.warc").write_bytes(data[:cut])
    sts, probs = items([tmp_path / "cut.warc"])
    assert sts == []
    assert len(probs) == 1 and probs[0].reason.startswith("truncated record") and probs[0].incomplete
    assert probs[0].offset == 0
    # gzip records cut short: reported as well, never indexed as part of a page
    write_warc(tmp_path / "whole.warc.gz")
    data = (tmp_path / "whole.warc.gz").read_bytes()
    (tmp_path / "cut.warc.gz").write_bytes(data[: len(data) // 4])
    sts, probs = items([tmp_path / "cut.warc.gz"])
    assert sts == [] and len(probs) == 1 and probs[0].incomplete


# ---- issue 16, M1: symlink loops and unreadable entries never abort a walk ----------------------------


def test_symlink_loop_is_walked_once_and_reported(tmp_path: Path) -> None:
    (tmp_path / "loop").mkdir()
    (tmp_path / "loop" / "p.html").write_text(page(FR), encoding="utf-8")
    (tmp_path / "loop" / "up").symlink_to("..")
    (tmp_path / "self").symlink_to(".")
    (tmp_path / "dangling.html").symlink_to("nowhere.html")
    (tmp_path / "a.html").write_text(page(FR), encoding="utf-8")
    found = list(iter_inputs([tmp_path]))
    assert [f.rel for f in found if isinstance(f, InputFile)] == ["a.html", "loop/p.html"]
    warnings = [p for p in found if isinstance(p, Problem)]
    assert sorted(Path(p.path).name for p in warnings) == ["self", "up"]
    assert all(p.kind == "warning" and not p.incomplete and "already walked" in p.reason for p in warnings)
    assert found == list(iter_inputs([tmp_path]))
    sts, _ = items([tmp_path / "loop"])  # walking from inside the loop
    assert len(sts) == 2  # loop/p.html and, through up/, a.html; p.html once


def test_unreadable_folder_and_entry_are_incomplete_problems(tmp_path: Path, monkeypatch) -> None:
    import corpus.inputs as inputs

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "p.html").write_text(page(FR), encoding="utf-8")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "q.html").write_text(page(FR), encoding="utf-8")
    real = os.scandir

    def scandir(folder):
        if Path(folder).name == "a":
            raise PermissionError(13, "Permission denied", str(folder))
        return real(folder)

    monkeypatch.setattr(inputs.os, "scandir", scandir)
    found = list(iter_inputs([tmp_path]))
    assert [f.rel for f in found if isinstance(f, InputFile)] == ["b/q.html"]
    (problem,) = [p for p in found if isinstance(p, Problem)]
    assert problem.path == str(tmp_path / "a") and problem.incomplete
    assert problem.reason == "unreadable folder: Permission denied"


@pytest.mark.skipif(os.geteuid() == 0, reason="permission bits do not stop root")
def test_unreadable_folder_by_permission(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "p.html").write_text(page(FR), encoding="utf-8")
    (tmp_path / "a").chmod(0)
    try:
        found = list(iter_inputs([tmp_path]))
    finally:
        (tmp_path / "a").chmod(0o755)
    assert len(found) == 1 and found[0].incomplete and found[0].reason.startswith("unreadable folder")


# ---- issue 16, M3: every record of every format is read in bounded memory -----------------------------

_PEAK = """
import resource, sys
from pathlib import Path
from corpus import InputFile, Statement, read_input
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
path = Path(sys.argv[1])
out = list(read_input(InputFile(path, path, sys.argv[2])))
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((after - before) // 1024, [o.reason if not isinstance(o, Statement) else o.id for o in out])
"""


def _peak_mb(path: Path, kind: str) -> tuple[int, list[str]]:
    """Memory a fresh process gains while reading one input (MB, from ru_maxrss), and what it read."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", _PEAK, str(path), kind], capture_output=True, text=True,
                          cwd=root, timeout=600, check=True)
    mb, what = done.stdout.strip().split(" ", 1)
    return int(mb), eval(what)  # noqa: S307 - our own child's repr of a list of strings


HUGE = 200 * 1024 * 1024  # ten times the per-record limit


def _write_repeated(f, n: int, byte: bytes = b"x") -> None:
    chunk = byte * (1 << 20)
    for _ in range(n // len(chunk)):
        f.write(chunk)


@pytest.mark.timeout(300)
def test_a_huge_jsonl_line_is_skipped_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl.gz"
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(json.dumps({"id": "before", "html": f"<p>{FR}</p>"}).encode() + b"\n")
        f.write(b'{"id": "huge", "html": "')
        _write_repeated(f, HUGE)
        f.write(b'"}\n')
        f.write(json.dumps({"id": "after", "html": f"<p>{FR}</p>"}).encode() + b"\n")
    assert path.stat().st_size < 2 * 1024 * 1024
    mb, what = _peak_mb(path, "jsonl")
    assert mb < 100, f"{mb} MB for a {HUGE >> 20} MB line"
    assert what[0] == "before" and what[1].startswith("record too large: 209.7 MB") and what[2] == "after"


def _warc_record(uri: str, body_head: bytes, size: int, f) -> None:
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
    length = len(http) + len(body_head) + size
    record_id = uri.encode()[-8:].rjust(8, b"0") + b"-0000-0000-0000-000000000000"
    f.write(b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:" + record_id + b">\r\n"
            + b"WARC-Date: 2020-01-01T00:00:00Z\r\nWARC-Target-URI: " + uri.encode() + b"\r\n"
            + b"Content-Type: application/http; msgtype=response\r\nContent-Length: " + str(length).encode()
            + b"\r\n\r\n" + http + body_head)
    _write_repeated(f, size, b" ")
    f.write(b"\r\n\r\n")


@pytest.mark.timeout(300)
def test_a_huge_warc_record_is_skipped_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "huge.warc.gz"
    for uri, size in (("https://e.example/huge", HUGE), ("https://e.example/small", 0)):
        with gzip.open(path, "ab", compresslevel=1) as f:  # one gzip member a record, as crawlers write
            _warc_record(uri, f"<html><body><p>{EN}</p>".encode(), size, f)
    assert path.stat().st_size < 2 * 1024 * 1024
    mb, what = _peak_mb(path, "warc")
    assert mb < 100, f"{mb} MB for a {HUGE >> 20} MB record"
    assert what[0].startswith("record too large") and len(what) == 2 and what[1].startswith("u-"), what


# ---- issue 16, L5 -------------------------------------------------------------------------------------


def test_summary_counts_each_file_once(tmp_path: Path) -> None:
    """A file with two file-level problems used to print "1 found, -1 read, 2 skipped"."""
    path = tmp_path / "x.html"
    path.write_text("x")
    summary = Summary()
    summary.add(InputFile(path, path, "html"))
    summary.add(Problem(str(path), "unreadable: first"))
    summary.add(Problem(str(path), "unexpected error: second"))
    summary.add(Problem(str(tmp_path / "other.bin"), "not a corpus file: neither HTML, JSON Lines nor WARC"))
    summary.add(Problem(str(tmp_path / "r.jsonl"), "invalid JSON: x", line=3))
    assert "files: 2 found, 0 read, 2 skipped" in summary.lines()
    d = summary.to_dict()
    assert (d["files"], d["files_read"], d["files_skipped"]) == (2, 0, 2)
    assert d["skipped"] == {"unreadable": 1, "unexpected error": 1, "not a corpus file": 1, "invalid JSON": 1}


def test_summary_found_is_read_plus_skipped_on_real_inputs(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text(page(FR), encoding="utf-8")
    (tmp_path / "e.html").write_bytes(b"")
    (tmp_path / "r.jsonl").write_text("{bad\n" + json.dumps({"html": f"<p>{FR}</p>"}) + "\n")
    (tmp_path / "x.bin").write_bytes(b"\x00\x01")
    summary = Summary()
    list(read_paths([tmp_path, tmp_path / "a.html"], summary=summary))
    d = summary.to_dict()
    assert (d["files"], d["files_read"], d["files_skipped"]) == (4, 2, 2)


def test_dates_far_in_the_future_are_dropped_with_a_warning(tmp_path: Path) -> None:
    import datetime

    soon = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
    recs = [{"id": "far", "html": f"<p>{FR}</p>", "date": "9999-12-31"},
            {"id": "soon", "html": f"<p>{FR}</p>", "date": soon},
            {"id": "past", "html": f"<p>{FR}</p>", "date": "2020-01-02"}]
    (tmp_path / "r.jsonl").write_text("\n".join(json.dumps(r) for r in recs), encoding="utf-8")
    (tmp_path / "p.html").write_text(page(f"Publié le 31 décembre 9999. {FR}"), encoding="utf-8")
    sts, probs = items([tmp_path])
    assert {s.id: s.date for s in sts} == {"far": "", "soon": soon, "past": "2020-01-02", "p.html": ""}
    far = next(s for s in sts if s.id == "far")
    assert far.content_hash == Statement(**{**far.to_dict(), "content_hash": ""}).content_hash
    assert sorted((Path(p.path).name, p.line, p.kind) for p in probs) == [
        ("p.html", None, "warning"), ("r.jsonl", 1, "warning")]
    assert all(p.reason == "date in the future: 9999-12-31 is more than a year ahead, dropped" for p in probs)


def test_ids_with_newlines_are_normalised_at_the_ingester(tmp_path: Path) -> None:
    recs = [{"id": "2021-100\n", "html": f"<p>{FR}</p>"},
            {"id": "a\nb\r\n\x1b]8;;x\x07c", "html": f"<p>{FR}</p>"}]
    (tmp_path / "r.jsonl").write_text("\n".join(json.dumps(r) for r in recs), encoding="utf-8")
    sts, _ = items([tmp_path / "r.jsonl"])
    assert [s.id for s in sts] == ["2021-100", "a b ]8;;xc"]


def test_a_file_name_that_is_not_utf8_gives_a_printable_distinct_id(tmp_path: Path) -> None:
    """H2 on the ingester's side: the bytes of a Latin-1 name stay in its id as \\xe9, not a surrogate."""
    folder = os.fsencode(tmp_path)
    for name in (b"communiqu\xe9.html", b"communiqu\xe8.html"):
        with open(folder + b"/" + name, "wb") as f:
            f.write(page(FR).encode())
    sts, probs = items([tmp_path])
    assert not probs
    assert sorted(s.id for s in sts) == ["communiqu\\xe8.html", "communiqu\\xe9.html"]
    assert all(s.id.isprintable() for s in sts)
