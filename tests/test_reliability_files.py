"""Broken and odd inputs mixed into real statements: every good statement is indexed, every bad input is
reported with its reason, the run completes.

The generated corpus (>= 1,000 bad or odd inputs) holds, in one folder with the real Yukon sample pages:
empty and whitespace-only files, binary files named .html, files of only site boilerplate, truncated gzip
JSON Lines, JSON Lines with bad lines, WARC files with non-HTML records and broken WARC files, pages too big
to be statements, deeply nested HTML, truncated HTML, wrong and mixed encodings, and duplicate statements.
"""

from __future__ import annotations

import gzip
import io
import json
import random
import re
import shutil
from pathlib import Path

import pytest

from tests.corpora import SAMPLE


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _record(sid: str, n: int) -> dict:
    return {
        "id": sid,
        "title": f"Communiqué {n} sur la santé publique",
        "text": f"Le ministère annonce aujourd’hui la mesure numéro {n} pour les élèves et les familles. "
        f"Statement {n} about public health in both languages.",
        "lang": "fr",
        "date": "2020-03-01",
        "source": "Ministère",
    }


def _warc(records: list[tuple[str, str, str, bytes]], gz: bool) -> bytes:
    """(record type, url, content type, payload) → a WARC file."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    out = io.BytesIO()
    w = WARCWriter(out, gzip=gz)
    for rtype, url, ctype, payload in records:
        if rtype == "response":
            http = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
            rec = w.create_warc_record(url, "response", payload=io.BytesIO(payload), http_headers=http)
        elif rtype == "request":
            http = StatusAndHeaders(f"GET {url} HTTP/1.1", [("Host", "example.org")], is_http_request=True)
            rec = w.create_warc_record(url, "request", payload=io.BytesIO(b""), http_headers=http)
        else:
            rec = w.create_warc_record(url, rtype, payload=io.BytesIO(payload), warc_content_type=ctype)
        w.write_record(rec)
    return out.getvalue()


def _no_url(page: bytes) -> bytes:
    return re.sub(
        rb"<(?:link|meta)[^>]*(?:canonical|og:url|hreflang|dcterms.identifier)[^>]*>", b"", page, flags=re.I
    )


class Corpus:
    """The generated inputs and what each should give."""

    def __init__(self, root: Path, scale: int, seed: int = 7):
        self.root = root
        self.rng = random.Random(seed)
        self.good_ids: set[str] = set()  # statements that must be in the index
        self.maybe_ids: set[str] = (
            set()
        )  # records of a truncated gzip: in the index only if read before the cut
        self.bad: dict[str, str] = {}  # rel path of a file that must give no statement -> reason category
        self.bad_lines: dict[tuple[str, int], str] = {}  # (rel path, line) -> reason category
        self.bad_records = 0  # non-HTML WARC records, each to be reported
        self.odd: set[str] = set()  # rel paths that must give a statement or a problem, never silence
        self.duplicates = 0
        self.inputs = 0
        self._make(scale)

    def _bad(self, rel: str, data: bytes, reason: str) -> None:
        _write(self.root / rel, data)
        self.bad[rel] = reason
        self.inputs += 1

    def _make(self, k: int) -> None:
        from corpus import read_paths
        from corpus.statement import Statement

        rng = self.rng
        real = self.root / "real"
        shutil.copytree(SAMPLE / "yukon", real / "yukon")
        shutil.copy(SAMPLE / "vie-publique.jsonl", real / "vie-publique.jsonl")
        # The good statements: what the ingester makes of the intact real files on their own.
        for item in read_paths([self.root]):
            if isinstance(item, Statement):
                self.good_ids.add(item.id)
        assert len(self.good_ids) >= 150
        pages = sorted((real / "yukon").rglob("*.html"))
        self.inputs += len(pages) + 1

        for i in range(k):
            self._bad(f"bad/empty/{i}.html", b"", "empty file")
            self._bad(f"bad/blank/{i}.html", b" \n\t\r\n" * rng.randint(1, 50), "empty file")
            noise = bytes(rng.randrange(256) for _ in range(rng.randint(200, 4000)))
            self._bad(f"bad/binary/{i}.html", noise if 0 in noise[:4096] else noise + b"\0", "binary file")
            sig = rng.choice(
                [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"%PDF-1.4\n", b"PK\x03\x04", b"\x1f\x8b\x08"]
            )
            self._bad(
                f"bad/signature/{i}.htm",
                sig + bytes(rng.randrange(1, 256) for _ in range(300)),
                "binary file",
            )
            page = rng.choice(pages).read_bytes()
            chrome = re.sub(rb"<main.*?</main>", b"", page, flags=re.S)
            assert chrome != page
            self._bad(f"bad/boilerplate/{i}.html", chrome, "no text")
            self._bad(
                f"bad/tags-only/{i}.html",
                b"<html><head><title></title></head><body>"
                + b"<div><span></span></div>" * rng.randint(1, 40)
                + b"</body></html>",
                "no text",
            )
            # JSON Lines: good records (explicit ids) and bad lines, each reported with its line number
            lines: list[bytes] = []
            rel = f"mixed/records-{i}.jsonl"
            for j in range(6):
                kind = rng.choice(["good", "json", "array", "notext", "garbage", "good"])
                n = len(lines) + 1
                if kind == "good":
                    sid = f"rec-{i}-{j}"
                    lines.append(json.dumps(_record(sid, i * 10 + j), ensure_ascii=False).encode())
                    self.good_ids.add(sid)
                elif kind == "json":
                    lines.append(b'{"id": "broken", "text": "unterminated')
                    self.bad_lines[(rel, n)] = "invalid JSON"
                elif kind == "array":
                    lines.append(b'["not", "an", "object"]')
                    self.bad_lines[(rel, n)] = "invalid record"
                elif kind == "notext":
                    lines.append(json.dumps({"id": f"nt-{i}-{j}", "title": "Title only"}).encode())
                    self.bad_lines[(rel, n)] = "no text"
                else:
                    lines.append(bytes(rng.randrange(128, 256) for _ in range(40)))
                    self.bad_lines[(rel, n)] = "invalid JSON"
            _write(self.root / rel, b"\n".join(lines) + b"\n")
            self.inputs += 1
            # WARC: request, metadata, image, JSON, PDF records around one HTML page
            url = f"https://example.org/warc/{i}"
            html = (
                f"<html lang='en'><head><title>Archived release {i}</title></head><body><main><h1>Archived "
                f"release {i}</h1><p>The minister announced new funding for caribou research number {i} "
                "today, with community partners across the territory.</p></main></body></html>"
            ).encode()
            recs = [
                ("request", url, "", b""),
                ("response", url + ".png", "image/png", b"\x89PNG\r\n\x1a\n..."),
                ("response", url, "text/html; charset=utf-8", html),
                ("response", url + ".json", "application/json", b'{"a": 1}'),
                ("metadata", url, "application/warc-fields", b"via: test\r\n"),
                ("resource", url + ".pdf", "application/pdf", b"%PDF-1.4 ..."),
            ]
            self.bad_records += 3
            _write(self.root / (f"warc/{i}.warc" + (".gz" if i % 2 else "")), _warc(recs, gz=bool(i % 2)))
            self.inputs += 1
            from corpus.extract import _stable_id, canonical_url

            self.good_ids.add(_stable_id("u", canonical_url(url)))
            # odd inputs: a statement or a problem, never silence
            body = (
                "<p>Le gouvernement annonce aujourd’hui une aide pour les élèves et les familles, "
                f"mesure {i}.</p>"
            )
            variants = {
                f"odd/cp1252-declared-utf8/{i}.html": (
                    f"<html><head><meta charset='utf-8'></head><body>{body}</body></html>"
                ).encode("cp1252"),
                f"odd/mixed/{i}.html": f"<html><body>{body}".encode()
                + "<p>Deuxième paragraphe: été, façade.</p></body></html>".encode("cp1252"),
                f"odd/utf16/{i}.html": f"<html><body>{body}</body></html>".encode("utf-16"),
                f"odd/latin1/{i}.html": f"<html><body>{body}</body></html>".encode("latin-1", "replace"),
                f"odd/nested/{i}.html": b"<html><body>"
                + b"<div>" * rng.randint(50, 3000)
                + body.encode()
                + b"</div>" * rng.randint(0, 3000)
                + b"</body></html>",
                # without its URL (its identity), or it would be a duplicate of the real page
                f"odd/truncated/{i}.html": _no_url(page)[: rng.randint(1, len(_no_url(page)))],
            }
            for rel_odd, data in variants.items():
                _write(self.root / rel_odd, data)
                self.odd.add(rel_odd)
                self.inputs += 1
        # Truncated gzip JSON Lines: whatever was read before the cut, and a report.
        for i in range(max(2, k // 10)):
            recs = [_record(f"gz-{i}-{j}", j) for j in range(200)]
            data = gzip.compress("\n".join(json.dumps(r, ensure_ascii=False) for r in recs).encode())
            self._bad(f"bad/truncated/{i}.jsonl.gz", data[: rng.randint(11, len(data) - 9)], "truncated file")
            self.maybe_ids.update(r["id"] for r in recs)
        self._bad(
            "bad/broken.warc",
            b"WARC/1.0\r\nWARC-Type: response\r\nContent-Length: 99999\r\n\r\nshort",
            "invalid WARC",
        )
        self._bad("bad/notwarc.warc", b"this is not a WARC file at all\n" * 10, "invalid WARC")
        self._bad(
            "bad/huge.html",
            b"<html><body>" + b"<p>" + b"x" * (21 * 1024 * 1024) + b"</p></body></html>",
            "file too large",
        )
        # A big but acceptable page, and duplicate statements (same ids in three files: one is kept).
        big = (
            "<html><body>"
            + "".join(f"<p>Paragraph {n} of a very long statement about caribou.</p>" for n in range(40_000))
            + "</body></html>"
        )
        _write(self.root / "odd/big.html", big.encode())
        self.good_ids.add("odd/big.html")
        self.inputs += 1
        dup = [json.dumps(_record(f"dup-{n}", n), ensure_ascii=False) for n in range(20)]
        for name in ("dups-a.jsonl", "dups-b.jsonl", "dups-c.jsonl"):
            _write(self.root / "dups" / name, ("\n".join(dup) + "\n").encode())
            self.inputs += 1
        self.good_ids.update(f"dup-{n}" for n in range(20))
        self.duplicates = 40

    @property
    def tried(self) -> int:
        return len(self.bad) + len(self.bad_lines) + self.bad_records + len(self.odd) + 3 + 1


def _index_ids(index_dir: Path) -> tuple[set[str], dict[str, str]]:
    """Every id a fresh searcher sees, with the input each came from."""
    from indexer import open_index

    ix = open_index(index_dir)
    with ix.searcher() as s:
        stored = list(s.all_stored_fields())
    ix.close()
    ids = [f["id"] for f in stored]
    assert len(ids) == len(set(ids)), "an id is in the index twice"
    return set(ids), {f["id"]: f.get("input", "") for f in stored}


def _run(tmp_path: Path, scale: int) -> None:
    import indexer
    from corpus import read_paths
    from corpus.statement import Statement
    from search import Searcher

    corpus = Corpus(tmp_path / "corpus", scale)
    index_dir = tmp_path / "index"
    report = indexer.update([str(corpus.root)], index_dir)
    ids, inputs = _index_ids(index_dir)

    # Every good statement is there; nothing else but what a truncated gzip let through before its cut.
    missing = corpus.good_ids - ids
    assert not missing, f"{len(missing)} good statements not indexed: {sorted(missing)[:10]}"
    extra = ids - corpus.good_ids
    from_odd = {sid for sid in extra if any(inputs[sid].endswith(rel) for rel in corpus.odd)}
    assert extra - from_odd <= corpus.maybe_ids, sorted(extra - from_odd - corpus.maybe_ids)[:10]
    assert report.statements == len(ids)

    # Every bad input is reported, with its reason, and gives no statement.
    problems = {}
    for p in report.problems:
        problems.setdefault(p.path, []).append(p)
    root = str(corpus.root.resolve())
    for rel, reason in corpus.bad.items():
        found = problems.get(f"{root}/{rel}") or problems.get(str(corpus.root / rel))
        assert found, f"{rel}: not reported"
        assert any(p.kind == "skipped" and p.reason.startswith(reason) for p in found), (rel, found)
        if not rel.endswith(".gz"):
            assert not any(inputs[sid].endswith(rel) for sid in ids), f"{rel} gave a statement"
    for (rel, line), reason in corpus.bad_lines.items():
        found = [p for p in problems.get(f"{root}/{rel}", []) if p.line == line]
        assert found and found[0].reason.startswith(reason), (rel, line, found)
    not_html = sum(1 for p in report.problems if p.reason.startswith("not HTML"))
    assert not_html == corpus.bad_records
    # The odd ones: a statement or a report each, never silence.
    for rel in corpus.odd:
        gave = any(inputs[sid].endswith(rel) for sid in ids)
        if not gave and not problems.get(f"{root}/{rel}"):  # a copy of another input's statement (same id)?
            alone = {x.id for x in read_paths([corpus.root / rel]) if isinstance(x, Statement)}
            assert alone and alone <= ids, f"{rel}: neither indexed nor reported"
    assert report.duplicates >= corpus.duplicates
    skipped = sum(report.skipped.values())
    assert skipped >= len(corpus.bad) + len(corpus.bad_lines) + corpus.bad_records
    odd_indexed = sum(1 for rel in corpus.odd if any(inputs[sid].endswith(rel) for sid in ids))
    print(
        f"\nfiles: {corpus.inputs} inputs, {corpus.tried} bad or odd items tried "
        f"({len(corpus.bad)} bad files, {len(corpus.bad_lines)} bad JSON lines, {corpus.bad_records} "
        f"non-HTML "
        f"WARC records, {len(corpus.odd)} odd files of which {odd_indexed} indexed); "
        f"{len(ids)} statements indexed, {len(corpus.good_ids)} good all there; skipped {skipped}: "
        f"{dict(sorted(report.skipped.items()))}"
    )
    # The index answers, and a second run over the same files changes nothing.
    with Searcher(index_dir) as s:
        assert s.search("caribou").total > 0
    again = indexer.update([str(corpus.root)], index_dir)
    assert not again.changed and again.statements == len(ids)


def test_bad_inputs_mixed_with_real_statements(tmp_path):
    _run(tmp_path, scale=12)  # ~200 bad or odd items, in the default suite


@pytest.mark.slow
def test_bad_inputs_mixed_with_real_statements_1000(tmp_path):
    _run(tmp_path, scale=80)  # >= 1,000 bad or odd items
