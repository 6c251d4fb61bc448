"""The input manifest: what each input file was when last indexed, and which statements it produced.

Stored as ``presse-manifest.json`` in the index directory::

    {"version": 1, "generation": 7, "updated": "2026-01-01T12:00:00+00:00",
     "inputs": {"/abs/path/file.jsonl": {"kind": "jsonl", "size": 123, "mtime_ns": 456, "hash": "…",
                                         "lines": 2, "ids": {"<statement id>": "<content_hash>", …},
                                         "problems": 0, "incomplete": false, "raw": ""}}}

Keys are absolute paths as text (:func:`display_path`): a file name that is not valid UTF-8 is shown with
``\\xNN`` escapes, and ``raw`` then holds the real name's bytes (hex) to stat it.

An input whose size and mtime_ns are unchanged is not read again; one whose size or mtime changed but whose
content hash did not is not read again either (its signature is refreshed). A plain JSON Lines file that only
grew (its old content, ending with a newline, is the start of the new one: same hash over the old size) is
read from its old size on: only the appended lines.

The manifest is written atomically (temporary file, fsync, rename) *after* the index commit, and records the
index generation it describes. If a run dies between the commit and the manifest write, the generations
differ on the next run: the manifest's statement lists are then rebuilt from the index itself and every input
is read again — nothing has changed, so nothing is written.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MANIFEST_NAME = "presse-manifest.json"
VERSION = 1


def display_path(path: str | bytes | os.PathLike) -> str:
    """A path (or any text made from one) that encodes to UTF-8, for the index, the manifest and reports.

    A file name that is not valid UTF-8 reaches Python with its bad bytes as surrogate escapes, which Whoosh,
    JSON files and terminals refuse: those bytes are shown as ``\\xNN`` (``communiqu\\xe9.html``). Other
    lone surrogates (say from a JSON ``"\\ud800"``) are shown as ``\\udNNN``. Valid text is returned as is."""
    text = os.fspath(path)
    if isinstance(text, bytes):
        return text.decode("utf-8", "backslashreplace")
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def input_key(path: str | os.PathLike) -> str:
    """The manifest key (and stored ``input`` field) of an input file: its absolute path, as text."""
    return display_path(os.path.abspath(path))


def raw_name(path: str | os.PathLike) -> str:
    """What :attr:`InputEntry.raw` holds for a path: its bytes in hex when its key cannot name it, else ""."""
    real = os.path.abspath(path)
    return "" if input_key(real) == real else os.fsencode(real).hex()


@dataclass
class FileScan:
    hash: str  # of the whole file
    lines: int  # newline bytes in the whole file
    prefix_hash: str = ""  # of its first ``prefix`` bytes, when asked
    prefix_ends_line: bool = False  # the byte before ``prefix`` is a newline


def scan_file(path: Path | str, prefix: int = 0) -> FileScan:
    """One pass over a file: its hash and newline count, and the hash of its first ``prefix`` bytes (to see
    whether a file only grew: its old content is a prefix of the new one)."""
    h = hashlib.blake2b(digest_size=16)
    lines, done, prefix_hash, ends_line = 0, 0, "", False
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            if done < prefix <= done + len(chunk):
                cut = prefix - done
                h.update(chunk[:cut])
                prefix_hash, ends_line = h.hexdigest(), chunk[cut - 1:cut] == b"\n"
                h.update(chunk[cut:])
            else:
                h.update(chunk)
            lines += chunk.count(b"\n")
            done += len(chunk)
    return FileScan(h.hexdigest(), lines, prefix_hash, ends_line)


@dataclass
class InputEntry:
    kind: str = ""
    size: int = -1
    mtime_ns: int = -1
    hash: str = ""
    lines: int = -1  # newline bytes in the file (where the next appended line starts); -1: not known
    ids: dict[str, str] = field(default_factory=dict)  # statement id -> content_hash
    problems: int = 0
    # ids this input also produced but another input's copy won (a duplicate id across files): when the
    # winner goes, this input is read again so that its copy comes back
    shadowed: list[str] = field(default_factory=list)
    # the last read could not read everything (a Problem said ``incomplete``): the ids it did not give stayed
    incomplete: bool = False
    raw: str = ""  # the real path's bytes in hex, when the key (display_path) differs from it; see raw_name

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "size": self.size, "mtime_ns": self.mtime_ns, "hash": self.hash,
                "lines": self.lines, "ids": self.ids, "problems": self.problems, "shadowed": self.shadowed,
                "incomplete": self.incomplete, "raw": self.raw}

    def real_path(self, key: str) -> str:
        """The path to stat or read for the input under ``key``."""
        return os.fsdecode(bytes.fromhex(self.raw)) if self.raw else key


@dataclass
class Manifest:
    generation: int = -1
    updated: str = ""
    inputs: dict[str, InputEntry] = field(default_factory=dict)

    @classmethod
    def load(cls, index_dir: Path) -> Manifest:
        path = Path(index_dir) / MANIFEST_NAME
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(data, dict) or data.get("version") != VERSION:
            return cls()
        inputs = {key: InputEntry(**{k: v for k, v in entry.items() if k in InputEntry.__dataclass_fields__})
                  for key, entry in data.get("inputs", {}).items()}
        return cls(generation=data.get("generation", -1), updated=data.get("updated", ""), inputs=inputs)

    def save(self, index_dir: Path) -> None:
        """Atomically replace the manifest file."""
        self.updated = datetime.now(UTC).isoformat(timespec="seconds")
        data = {"version": VERSION, "generation": self.generation, "updated": self.updated,
                "inputs": {k: e.to_dict() for k, e in sorted(self.inputs.items())}}
        path = Path(index_dir) / MANIFEST_NAME
        tmp = path.with_name(f".{MANIFEST_NAME}.{os.getpid()}.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, separators=(",", ":"))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        try:  # make the rename itself durable
            fd = os.open(index_dir, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError:
            pass

    def owners(self) -> dict[str, tuple[str, str]]:
        """statement id -> (input key, content_hash) for every statement in the index."""
        out: dict[str, tuple[str, str]] = {}
        for key, entry in self.inputs.items():
            for sid, chash in entry.ids.items():
                out[sid] = (key, chash)
        return out

    def statement_count(self) -> int:
        return sum(len(e.ids) for e in self.inputs.values())


def rebuild_from_index(ix, old: Manifest) -> Manifest:
    """A manifest whose statement lists come from the index (the truth) and whose file signatures are
    dropped, so that every input is read again and compared statement by statement."""
    inputs: dict[str, InputEntry] = {}
    with ix.reader() as reader:
        for fields in reader.all_stored_fields():
            key = fields.get("input", "")
            was = old.inputs.get(key)
            entry = inputs.setdefault(key, InputEntry(kind=was.kind, raw=was.raw) if was else InputEntry())
            entry.ids[fields["id"]] = fields.get("content_hash", "")
    return Manifest(generation=ix.latest_generation(), updated=old.updated, inputs=inputs)
