"""Reading inputs: walking folders, JSON Lines, WARC, broken files, the summary and the `extract` command."""

from __future__ import annotations

import gzip
import io
import json
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
    assert [f.rel for f in files] == ["a.htm", "b/z.html", "page.php"]
    assert all(f.kind == "html" and f.size > 0 and f.mtime_ns > 0 for f in files)
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


def write_warc(path: Path) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with path.open("wb") as f:
        writer = WARCWriter(f, gzip=True)
        html = page(EN, lang="en", title="Ferry").encode("utf-8")
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
