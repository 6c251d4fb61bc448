"""Inputs: walking files and folders, telling their kind, reading HTML files, JSON Lines and WARC files."""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import json
import os
import re
import stat
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from .dates import too_far_ahead
from .extract import extract_html, normalize_id
from .statement import Problem, Statement
from .summary import DATE_AHEAD, LANG_DISAGREEMENT, OTHER_LANGUAGE, WIDE_EXTRACTION

if TYPE_CHECKING:
    from .summary import Summary

HTML_SUFFIXES = (".html", ".htm", ".xhtml", ".shtml")
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
WARC_SUFFIXES = (".warc", ".warc.gz")
TEXT_SUFFIXES = (".txt", ".md")  # a statement copied as text
# Files that are obviously not statements: skipped silently when a folder is walked.
NOT_CORPUS_SUFFIXES = {
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
    kind: str  # "html" | "jsonl" | "warc" | "text"
    # Reading only what was appended to a JSON Lines file (see read_jsonl): the byte offset of the first new
    # line, its line number, and the ids the lines before it produced.
    start: int = 0
    first_line: int = 1
    earlier_ids: frozenset[str] = frozenset()
    # While a reader reads a JSON Lines or WARC file: how many of the file's bytes it has consumed (of the
    # compressed file for a .gz), so a caller shows progress inside one big input. 0 before reading.
    bytes_read: int = dataclasses.field(default=0, compare=False)

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
    """ "html", "jsonl", "warc", "text" from the name; "html" for another file that holds HTML; else ""."""
    name = path.name.lower()
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if name.endswith(WARC_SUFFIXES):
        return "warc"
    if name.endswith(HTML_SUFFIXES):
        return "html"
    if name.endswith(TEXT_SUFFIXES):
        return "text"
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
    stem = path.stem.lower()
    if name.endswith(TEXT_SUFFIXES):  # a text statement, unless it is a README, a LICENSE, a CHANGELOG…
        return stem.split("-")[0].split("_")[0].split(".")[0] in NOT_CORPUS_NAMES
    if name.endswith(JSONL_SUFFIXES + WARC_SUFFIXES + HTML_SUFFIXES):
        return False
    stem = path.stem.lower()
    return path.suffix.lower() in NOT_CORPUS_SUFFIXES or stem.split("-")[0].split("_")[0] in NOT_CORPUS_NAMES


def iter_inputs(paths: Iterable[str | Path]) -> Iterator[InputFile | Problem]:
    """Every file to read under the given paths, in a deterministic (sorted) order. Never raises.

    Hidden files and folders are skipped when walking, except files named like corpus files (".html");
    a file given explicitly is always tried. A folder reached twice (a symlink loop, two links to one folder)
    is walked once; a folder or entry that cannot be read is a Problem marked incomplete.
    """
    for given in paths:
        root = Path(given)
        try:
            st = root.stat()
        except FileNotFoundError:
            yield Problem(str(given), "no such file or directory")
            continue
        except OSError as err:
            yield Problem(str(given), f"unreadable: {_why(err)}", incomplete=True)
            continue
        if stat.S_ISDIR(st.st_mode):
            yield from _walk(root)
        else:
            kind = kind_of(root) or "html"  # given explicitly: try it, the reader reports what it is
            yield InputFile(root, root, kind)


def _walk(root: Path) -> Iterator[InputFile | Problem]:
    """Depth-first, entries sorted by name (files and folders mixed), so the order is the same everywhere.

    A work list rather than recursion (a tree may be deeper than Python's stack); each real folder, known by
    (st_dev, st_ino), is entered once, so `ln -s .. loop/up` ends instead of running to ELOOP."""
    seen: dict[tuple[int, int], str] = {}
    stack: list[Iterator[os.DirEntry[str]]] = []

    def enter(folder: Path) -> Problem | None:
        try:
            st = folder.stat()
            key = (st.st_dev, st.st_ino)
            if key in seen:
                return Problem(str(folder), f"folder already walked: {seen[key]} (a symlink loop or a second "
                               "link to it): not read twice", kind="warning")
            seen[key] = str(folder)
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as err:
            return Problem(str(folder), f"unreadable folder: {_why(err)}", incomplete=True)
        stack.append(iter(entries))
        return None

    problem = enter(root)
    if problem:
        yield problem
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        path = Path(entry.path)
        lower = entry.name.lower()
        try:
            is_dir = entry.is_dir()
            is_file = not is_dir and entry.is_file()
        except OSError as err:
            yield Problem(str(path), f"unreadable: {_why(err)}", incomplete=True)
            continue
        if is_dir:
            if not entry.name.startswith("."):
                problem = enter(path)
                if problem:
                    yield problem
            continue
        if entry.name.startswith(".") and not lower.endswith(HTML_SUFFIXES + JSONL_SUFFIXES + WARC_SUFFIXES):
            continue
        if not is_file or _not_corpus(path):
            continue  # a dangling symlink, a socket, a fifo, or obviously not a statement
        kind = kind_of(path)
        if kind:
            yield InputFile(path, root, kind)
        else:
            yield Problem(str(path), "not a corpus file: neither HTML, JSON Lines nor WARC")


def _why(err: BaseException) -> str:
    """An exception as one short printable line (its text may quote the input: a surrogate, a megabyte)."""
    text = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
    if not isinstance(err, OSError):
        text = f"{type(err).__name__}: {text}"
    text = " ".join(text.encode("utf-8", "backslashreplace").decode("utf-8").split())
    return text if len(text) <= 200 else text[:199] + "…"


def _with_checks(item: Statement | Problem) -> Iterator[Statement | Problem]:
    """The statement, then a warning when its text contradicts its declared language or is not fr/en."""
    if not isinstance(item, Statement):
        yield item
        return
    path, line, offset = _where(item.origin)
    if item.date and too_far_ahead(item.date):
        yield dataclasses.replace(item, date="", content_hash="")  # the hash is computed again, without it
        yield Problem(path, f"{DATE_AHEAD}: {item.date} is more than a year ahead, dropped", line=line,
                      offset=offset, kind="warning")
    else:
        yield item
    if item.extraction:
        yield Problem(path, f"{WIDE_EXTRACTION}: {item.extraction}", line=line, offset=offset, kind="warning")
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


def read_text_file(inp: InputFile) -> Iterator[Statement | Problem]:
    """A statement copied as text (.txt, .md): read as such, never parsed as HTML."""
    yield from read_html_file(inp, plain=True)


def read_html_file(inp: InputFile, plain: bool = False) -> Iterator[Statement | Problem]:
    path = str(inp.path)
    try:
        with inp.path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size == 0:
                yield Problem(path, "empty file")
                return
            # Never more than the limit in memory, even when the file grows after it was measured.
            data = f.read(MAX_HTML_BYTES + 1) if size <= MAX_HTML_BYTES else b""
        if size > MAX_HTML_BYTES or len(data) > MAX_HTML_BYTES:
            yield Problem(path, f"file too large: {max(size, len(data)) / 1e6:.1f} MB (limit {_LIMIT})")
            return
    except OSError as err:
        yield Problem(path, f"unreadable: {_why(err)}", incomplete=True)
        return
    if not data.strip():
        yield Problem(path, "empty file: only whitespace")
        return
    yield from _guarded(lambda: extract_html(data, origin=path, default_id=inp.rel, plain=plain), path, None,
                        None)


_LIMIT = f"{MAX_HTML_BYTES / 1e6:.0f} MB"


def _guarded(make, path: str, line: int | None, offset: int | None) -> list[Statement | Problem]:
    """What one record or page gives (its statement and warnings), or, when reading it raised anything at all
    (a RecursionError, a codec error deep in lxml), one Problem for it alone: the input goes on."""
    try:
        item = make()
        if isinstance(item, Problem):
            item.path, item.line, item.offset = path, line, offset
        return list(_with_checks(item))
    except Exception as err:  # noqa: BLE001 - one bad record must never stop the others
        return [Problem(path, f"invalid record: {_why(err)}", line=line, offset=offset, incomplete=True)]


class _Counted:
    """A binary file that counts what is read of it into ``inp.bytes_read`` (the reader's own progress)."""

    def __init__(self, raw, inp: InputFile) -> None:
        self.raw, self.inp = raw, inp

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.inp.bytes_read = self.raw.tell()
        return data

    def readline(self, size: int = -1) -> bytes:
        data = self.raw.readline(size)
        self.inp.bytes_read = self.raw.tell()
        return data

    def __getattr__(self, name: str):  # seek, tell, close, readable, … as the file's own
        return getattr(self.raw, name)


@contextlib.contextmanager
def _open_lines(inp: InputFile) -> Iterator:
    with inp.path.open("rb") as raw:
        counted = _Counted(raw, inp)
        if not inp.path.name.lower().endswith(".gz"):
            yield counted
            return
        with gzip.GzipFile(fileobj=counted, mode="rb") as f:  # type: ignore[arg-type]
            yield f


def read_jsonl(inp: InputFile) -> Iterator[Statement | Problem]:
    """One statement per line; a bad line is reported and the file goes on; a truncated gzip ends it.

    A line is read with a cap (MAX_HTML_BYTES): a longer one is skipped in bounded chunks and reported, so one
    3 GB line never sits in memory. With ``inp.start`` (a plain file only), reading begins at that byte
    offset, which must be the start of line ``inp.first_line``; ``inp.earlier_ids`` are the ids of the lines
    before it, so that a record without id or URL repeated after them is numbered as a read of the whole file
    would number it."""
    path = str(inp.path)
    line_no = inp.first_line - 1
    seen_ids = _seen_counts(inp.earlier_ids)
    try:
        with _open_lines(inp) as f:
            if inp.start:
                f.seek(inp.start)
            while True:
                raw = f.readline(MAX_HTML_BYTES + 1)
                if not raw:
                    break
                line_no += 1
                if len(raw) > MAX_HTML_BYTES and not raw.endswith(b"\n"):
                    size = len(raw) + _skip_line(f)
                    yield Problem(path, f"record too large: {size / 1e6:.1f} MB (limit {_LIMIT})",
                                  line=line_no)
                    continue
                if line_no == 1:
                    raw = raw.removeprefix(b"\xef\xbb\xbf")
                if not raw.strip():
                    continue
                yield from _jsonl_record(raw, inp, line_no, seen_ids)
    except (EOFError, zlib.error, gzip.BadGzipFile) as err:
        yield Problem(path, f"truncated file: gzip ends early after line {line_no} ({_why(err)})",
                      line=line_no + 1, incomplete=True)
    except OSError as err:
        yield Problem(path, f"unreadable: {_why(err)}", line=line_no + 1 if line_no else None,
                      incomplete=True)


def _skip_line(f) -> int:
    """Read past the rest of the current line in 1 MB pieces; the number of bytes skipped."""
    skipped = 0
    while True:
        chunk = f.readline(1 << 20)
        skipped += len(chunk)
        if not chunk or chunk.endswith(b"\n"):
            return skipped


def _jsonl_record(
    raw: bytes, inp: InputFile, line_no: int, seen_ids: dict[str, int]
) -> list[Statement | Problem]:
    path = str(inp.path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    try:
        record = json.loads(text)
    except RecursionError:
        return [Problem(path, "invalid JSON: nested too deeply", line=line_no, incomplete=True)]
    except ValueError as err:
        return [Problem(path, f"invalid JSON: {_why(err).removeprefix('JSONDecodeError: ')}", line=line_no,
                        incomplete=True)]
    if not isinstance(record, dict):
        return [Problem(path, f"invalid record: a JSON {type(record).__name__}, not an object", line=line_no)]
    content = record.get("html") if record.get("html") else record.get("text")
    if not isinstance(content, str) or not content.strip():
        return [Problem(path, "no text: record has neither 'html' nor 'text'", line=line_no)]

    def make() -> Statement | Problem:
        origin = f"{path}:{line_no}"
        # No id or URL: the identity comes from the file and the content, so it survives reordering.
        item = extract_html(content, origin=origin, record=record, default_id="")
        if isinstance(item, Statement) and not item.url and not normalize_id(str(record.get("id") or "")):
            item.id = _content_id(inp.rel, item, seen_ids)
        return item

    return _guarded(make, path, line_no, None)


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
    """HTML response records; other records (requests, metadata, images) are not statements.

    A payload is read up to MAX_HTML_BYTES + 1 bytes: a larger one is skipped (warcio reads past its rest in
    small pieces). A record with fewer payload bytes than its Content-Length (a file cut short) is reported,
    not indexed as part of a page; a record that fails to be read is reported alone."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed
    from warcio.limitreader import LimitReader

    path = str(inp.path)
    offset: int | None = None
    try:
        if inp.size == 0:
            yield Problem(path, "empty file")
            return
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
            end = 0
            for record in records:
                wanted = record.rec_type in ("response", "resource")
                data = record.content_stream().read(MAX_HTML_BYTES + 1) if wanted else b""
                offset = records.get_record_offset()  # reads the rest of the record; valid only then
                end = offset + records.get_record_length()
                inp.bytes_read = end  # the reader's progress: where its next record starts in the file
                raw = record.raw_stream
                declared = (record.rec_headers.get_header("Content-Length") or "").strip()
                if not declared.isdigit() or not isinstance(raw, LimitReader):  # a header cut short
                    yield Problem(path, "truncated record: its header has no Content-Length", offset=offset,
                                  incomplete=True)
                    continue
                if raw.limit > 0:
                    length = raw.tell() + raw.limit
                    yield Problem(path, f"truncated record: {raw.tell()} of its {length} bytes, the file "
                                  "ends early", offset=offset, incomplete=True)
                    continue
                if not wanted:
                    continue
                if len(data) > MAX_HTML_BYTES:
                    yield Problem(path, f"record too large: over {_LIMIT}", offset=offset)
                    continue
                yield from _guarded(partial(_warc_item, record, data, inp, offset), path, None, offset)
            # warcio takes a record header or a gzip member cut short for the end of the file: check that
            # the last record ends where the file does (but for blank lines).
            size = os.fstat(f.fileno()).st_size
            f.seek(end)
            rest = f.read(4096)
            if size - end > 4096 or rest.strip():
                yield Problem(path, f"truncated file: {size - end} bytes after the last whole record",
                              offset=end, incomplete=True)
    except (EOFError, zlib.error, gzip.BadGzipFile) as err:
        yield Problem(path, f"truncated file: the gzip stream ends early ({_why(err)})", offset=offset,
                      incomplete=True)
    except (ArchiveLoadFailed, ValueError) as err:
        yield Problem(path, f"invalid WARC: {_why(err)}", offset=offset, incomplete=True)
    except AttributeError as err:  # warcio on a record without the headers it expects (WARC-Target-URI)
        yield Problem(path, f"invalid WARC: a record lacks a required header ({_why(err)})", offset=offset,
                      incomplete=True)
    except OSError as err:
        yield Problem(path, f"unreadable: {_why(err)}", offset=offset, incomplete=True)


def _warc_item(record, data: bytes, inp: InputFile, offset: int) -> Statement | Problem:
    path = str(inp.path)
    ctype = ""
    if record.http_headers is not None:
        ctype = record.http_headers.get_header("Content-Type") or ""
    ctype = ctype or record.rec_headers.get_header("Content-Type") or ""
    head = data[:1024].lstrip().lower()
    is_html = "html" in ctype.lower() or head.startswith((b"<!doctype html", b"<html"))
    if not is_html:
        return Problem(path, f"not HTML: WARC record of type {ctype or 'unknown'}", offset=offset)
    url = record.rec_headers.get_header("WARC-Target-URI") or ""
    return extract_html(data, origin=f"{path}@{offset}", url=url, default_id=f"{inp.rel}@{offset}")


def read_input(inp: InputFile) -> Iterator[Statement | Problem]:
    """The statements of one file, and a Problem for each part that could not be read. Never raises."""
    readers = {"html": read_html_file, "jsonl": read_jsonl, "warc": read_warc, "text": read_text_file}
    try:
        yield from readers[inp.kind](inp)
    except Exception as err:  # noqa: BLE001 - one broken input must never stop a run
        yield Problem(str(inp.path), f"unexpected error: {_why(err)}", incomplete=True)


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
