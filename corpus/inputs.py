"""Inputs: walking files and folders, telling their kind, reading HTML files, JSON Lines and WARC files."""

from __future__ import annotations

import gzip
import json
import os
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .extract import extract_html
from .statement import Problem, Statement
from .summary import LANG_DISAGREEMENT, OTHER_LANGUAGE

if TYPE_CHECKING:
    from .summary import Summary

HTML_SUFFIXES = (".html", ".htm", ".xhtml", ".shtml")
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
WARC_SUFFIXES = (".warc", ".warc.gz")
# Files that are obviously not statements: skipped silently when a folder is walked.
NOT_CORPUS_SUFFIXES = {
    ".md",
    ".csv",
    ".tsv",
    ".png",
    ".jpg",
    ".jpeg",
    ".gif",
    ".svg",
    ".webp",
    ".ico",
    ".pdf",
    ".css",
    ".js",
    ".py",
    ".pyc",
    ".json",
    ".yml",
    ".yaml",
    ".toml",
    ".ini",
    ".cfg",
    ".xml",
    ".zip",
    ".tar",
    ".gz",
    ".bz2",
    ".xz",
    ".woff",
    ".woff2",
    ".ttf",
    ".mp3",
    ".mp4",
    ".lock",
    ".rst",
    ".log",
    ".sh",
    ".db",
    ".sqlite",
    ".parquet",
    ".txt",
    ".cdx",
    ".idx",
}
NOT_CORPUS_NAMES = {
    "license",
    "licence",
    "copying",
    "readme",
    "notice",
    "authors",
    "changelog",
    "makefile",
    "source",
    "manifest",
}
MAX_HTML_BYTES = 20 * 1024 * 1024  # a statement page is ~10-500 KB; bigger is not a statement


@dataclass
class InputFile:
    """One file to read. `root` is the folder (or file) given on the command line."""

    path: Path
    root: Path
    kind: str  # "html" | "jsonl" | "warc"
    # Reading only what was appended to a JSON Lines file (see read_jsonl): the byte offset of the first new
    # line, its line number, and the ids the lines before it produced.
    start: int = 0
    first_line: int = 1
    earlier_ids: frozenset[str] = frozenset()

    @property
    def rel(self) -> str:
        """The path relative to the folder given, as a posix string (the file name when a file was given)."""
        if self.root == self.path or not self.root.is_dir():
            return self.path.name
        return self.path.relative_to(self.root).as_posix()

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    @property
    def mtime_ns(self) -> int:
        return self.path.stat().st_mtime_ns


def kind_of(path: Path) -> str:
    """ "html", "jsonl", "warc" from the name; "html" for any other file whose content is HTML; else ""."""
    name = path.name.lower()
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if name.endswith(WARC_SUFFIXES):
        return "warc"
    if name.endswith(HTML_SUFFIXES):
        return "html"
    try:
        with path.open("rb") as f:
            head = f.read(2048).lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    except OSError:
        return ""
    if head.startswith((b"<!doctype html", b"<html", b"<?xml")) or b"<html" in head or b"<body" in head:
        return "html"
    return ""


def _not_corpus(path: Path) -> bool:
    name = path.name.lower()
    if name.endswith(JSONL_SUFFIXES + WARC_SUFFIXES + HTML_SUFFIXES):
        return False
    stem = path.stem.lower()
    return path.suffix.lower() in NOT_CORPUS_SUFFIXES or stem.split("-")[0].split("_")[0] in NOT_CORPUS_NAMES


def iter_inputs(paths: Iterable[str | Path]) -> Iterator[InputFile | Problem]:
    """Every file to read under the given paths, in a deterministic (sorted) order.

    Hidden files and folders are skipped when walking, except files named like corpus files (".html");
    a file given explicitly is always tried.
    """
    for given in paths:
        root = Path(given)
        if not root.exists():
            yield Problem(str(given), "no such file or directory")
            continue
        if root.is_file():
            kind = kind_of(root) or "html"  # given explicitly: try it, the reader reports what it is
            yield InputFile(root, root, kind)
            continue
        yield from _walk(root, root)


def _walk(folder: Path, root: Path) -> Iterator[InputFile | Problem]:
    """Depth-first, entries sorted by name (files and folders mixed), so the order is the same everywhere."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as err:
        yield Problem(str(folder), f"unreadable folder: {err.strerror or err}")
        return
    for entry in entries:
        path = Path(entry.path)
        lower = entry.name.lower()
        if entry.is_dir():
            if not entry.name.startswith("."):
                yield from _walk(path, root)
            continue
        if entry.name.startswith(".") and not lower.endswith(HTML_SUFFIXES + JSONL_SUFFIXES + WARC_SUFFIXES):
            continue
        if not entry.is_file() or _not_corpus(path):
            continue
        kind = kind_of(path)
        if kind:
            yield InputFile(path, root, kind)
        else:
            yield Problem(str(path), "not a corpus file: neither HTML, JSON Lines nor WARC")


def _with_checks(item: Statement | Problem) -> Iterator[Statement | Problem]:
    """The statement, then a warning when its text contradicts its declared language or is not fr/en."""
    yield item
    if not isinstance(item, Statement):
        return
    path, line, offset = _where(item.origin)
    if item.declared_lang and item.declared_lang != item.lang:
        yield Problem(
            path,
            f"{LANG_DISAGREEMENT}: declared {item.declared_lang}, text is {item.lang}",
            line=line,
            offset=offset,
            kind="warning",
        )
    if item.lang not in ("fr", "en"):
        yield Problem(
            path,
            f"{OTHER_LANGUAGE}: {item.lang or 'unknown'} (neither French nor English)",
            line=line,
            offset=offset,
            kind="warning",
        )


def _where(origin: str) -> tuple[str, int | None, int | None]:
    head, sep, tail = origin.rpartition(":")
    if sep and tail.isdigit():
        return head, int(tail), None
    head, sep, tail = origin.rpartition("@")
    if sep and tail.isdigit():
        return head, None, int(tail)
    return origin, None, None


def read_html_file(inp: InputFile) -> Iterator[Statement | Problem]:
    path = str(inp.path)
    try:
        size = inp.size
        if size == 0:
            yield Problem(path, "empty file")
            return
        if size > MAX_HTML_BYTES:
            yield Problem(path, f"file too large: {size / 1e6:.1f} MB (limit {MAX_HTML_BYTES / 1e6:.0f} MB)")
            return
        data = inp.path.read_bytes()
    except OSError as err:
        yield Problem(path, f"unreadable: {err.strerror or err}")
        return
    if not data.strip():
        yield Problem(path, "empty file: only whitespace")
        return
    yield from _with_checks(extract_html(data, origin=path, default_id=inp.rel))


def _open_lines(path: Path):
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else path.open("rb")


def read_jsonl(inp: InputFile) -> Iterator[Statement | Problem]:
    """One statement per line; a bad line is reported and the file goes on; a truncated gzip ends it.

    With ``inp.start`` (a plain file only), reading begins at that byte offset, which must be the start of
    line ``inp.first_line``; ``inp.earlier_ids`` are the ids of the lines before it, so that a record
    without id or URL repeated after them is numbered as a read of the whole file would number it."""
    path = str(inp.path)
    line_no = inp.first_line - 1
    seen_ids = _seen_counts(inp.earlier_ids)
    try:
        with _open_lines(inp.path) as f:
            if inp.start:
                f.seek(inp.start)
            for line_no, raw in enumerate(f, start=inp.first_line):
                if line_no == 1:
                    raw = raw.removeprefix(b"\xef\xbb\xbf")
                if not raw.strip():
                    continue
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    text = raw.decode("cp1252", errors="replace")
                try:
                    record = json.loads(text)
                except ValueError as err:
                    yield Problem(path, f"invalid JSON: {err}", line=line_no)
                    continue
                if not isinstance(record, dict):
                    yield Problem(
                        path, f"invalid record: a JSON {type(record).__name__}, not an object", line=line_no
                    )
                    continue
                content = record.get("html") if record.get("html") else record.get("text")
                if not isinstance(content, str) or not content.strip():
                    yield Problem(path, "no text: record has neither 'html' nor 'text'", line=line_no)
                    continue
                origin = f"{path}:{line_no}"
                # No id or URL: the identity comes from the file and the content, so it survives reordering.
                item = extract_html(content, origin=origin, record=record, default_id="")
                if isinstance(item, Statement) and not record.get("id") and not item.url:
                    item.id = _content_id(inp.rel, item, seen_ids)
                if isinstance(item, Problem):
                    item.path, item.line = path, line_no
                yield from _with_checks(item)
    except (EOFError, zlib.error, gzip.BadGzipFile) as err:
        yield Problem(path, f"truncated file: gzip ends early after line {line_no} ({err})", line=line_no + 1)
    except OSError as err:
        yield Problem(path, f"unreadable: {err}", line=line_no + 1 if line_no else None)


_CONTENT_ID = re.compile(r"(c-[0-9a-f]{16})(?:-(\d+))?")


def _seen_counts(ids: Iterable[str]) -> dict[str, int]:
    """How many times each content id (see _content_id) already occurred, from the ids it produced."""
    seen: dict[str, int] = {}
    for sid in ids:
        m = _CONTENT_ID.fullmatch(sid)
        if m:
            seen[m.group(1)] = max(seen.get(m.group(1), 0), int(m.group(2) or 1))
    return seen


def _content_id(rel: str, item: Statement, seen: dict[str, int]) -> str:
    from .extract import _stable_id

    ident = _stable_id("c", "\x1f".join((rel, item.title, item.date, item.body)))
    seen[ident] = seen.get(ident, 0) + 1
    # The same record twice in one file: its rank tells them apart (not its line, which moves on edits).
    return ident if seen[ident] == 1 else f"{ident}-{seen[ident]}"


def read_warc(inp: InputFile) -> Iterator[Statement | Problem]:
    """HTML response records; other records (requests, metadata, images) are not statements."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    path = str(inp.path)
    if inp.size == 0:
        yield Problem(path, "empty file")
        return
    offset: int | None = None
    try:
        # warcio reads anything as an old ARC file: insist on a WARC header first.
        with inp.path.open("rb") as f:
            magic = f.read(2)
        opener = gzip.open if magic == b"\x1f\x8b" else open
        with opener(inp.path, "rb") as f:
            if not f.read(16).lstrip().startswith(b"WARC/"):
                yield Problem(path, "invalid WARC: the file does not start with a WARC record")
                return
        with inp.path.open("rb") as f:
            records = ArchiveIterator(f)
            for record in records:
                if record.rec_type not in ("response", "resource"):
                    continue
                data = record.content_stream().read()
                offset = records.get_record_offset()  # only valid once the payload is read
                ctype = ""
                if record.http_headers is not None:
                    ctype = record.http_headers.get_header("Content-Type") or ""
                ctype = ctype or record.rec_headers.get_header("Content-Type") or ""
                is_html = "html" in ctype.lower() or data[:1024].lstrip().lower().startswith(
                    (b"<!doctype html", b"<html")
                )
                if not is_html:
                    yield Problem(path, f"not HTML: WARC record of type {ctype or 'unknown'}", offset=offset)
                    continue
                url = record.rec_headers.get_header("WARC-Target-URI") or ""
                origin = f"{path}@{offset}"
                item = extract_html(data, origin=origin, url=url, default_id=f"{inp.rel}@{offset}")
                if isinstance(item, Problem):
                    item.path, item.offset = path, offset
                yield from _with_checks(item)
    except (ArchiveLoadFailed, EOFError, zlib.error, gzip.BadGzipFile, ValueError) as err:
        yield Problem(path, f"invalid WARC: {err}", offset=offset)
    except AttributeError as err:  # warcio on a record without the headers it expects (WARC-Target-URI)
        yield Problem(path, f"invalid WARC: a record lacks a required header ({err})", offset=offset)
    except OSError as err:
        yield Problem(path, f"unreadable: {err}", offset=offset)


def read_input(inp: InputFile) -> Iterator[Statement | Problem]:
    """The statements of one file, and a Problem for each part that could not be read. Never raises."""
    readers = {"html": read_html_file, "jsonl": read_jsonl, "warc": read_warc}
    try:
        yield from readers[inp.kind](inp)
    except Exception as err:  # noqa: BLE001 - one broken input must never stop a run
        yield Problem(str(inp.path), f"unexpected error: {type(err).__name__}: {err}")


def read_paths(paths: Iterable[str | Path], summary: Summary | None = None) -> Iterator[Statement | Problem]:
    """Every statement (and problem) under the given paths. With a Summary, everything is counted into it."""
    for inp in iter_inputs(paths):
        if summary is not None:
            summary.add(inp)
        items = [inp] if isinstance(inp, Problem) else read_input(inp)
        for item in items:
            if summary is not None:
                summary.add(item)
            yield item
