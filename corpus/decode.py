"""Bytes → text: BOM, declared charset (meta tag or XML prolog), else UTF-8, else Windows-1252."""

from __future__ import annotations

import codecs
import re
import unicodedata
from typing import Any

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_DECLARED = re.compile(
    rb"""<\?xml[^>]*encoding\s*=\s*["']?([a-zA-Z0-9_.:-]+)"""
    rb"""|<meta[^>]*charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""",
    re.IGNORECASE,
)
# Browsers read Latin-1 labels as Windows-1252 (WHATWG): French pages rely on it for ’ œ « » –.
_ALIASES = {
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
    "latin1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "iso8859-1": "cp1252",
    "windows-1252": "cp1252",
    "iso_8859-1": "cp1252",
}

_SIGNATURES = (
    b"\x89PNG",
    b"GIF8",
    b"\xff\xd8\xff",
    b"%PDF",
    b"PK\x03\x04",
    b"\x1f\x8b",
    b"\x7fELF",
    b"RIFF",
    b"OggS",
    b"ID3",
    b"\x00\x00\x01\x00",
)


def looks_binary(data: bytes) -> str:
    """A reason when the bytes are clearly not text (image, archive, NUL bytes), else ""."""
    head = data[:4096]
    if head.startswith(_SIGNATURES):
        return "binary file (not HTML or text)"
    if any(
        head.startswith(bom) for bom, enc in _BOMS if enc.startswith("utf-16") or enc.startswith("utf-32")
    ):
        return ""
    if b"\x00" in head:
        return "binary file (NUL bytes)"
    return ""


def declared_charset(data: bytes) -> str:
    match = _DECLARED.search(data[:4096])
    if not match:
        return ""
    name = (match.group(1) or match.group(2)).decode("ascii", "replace").lower()
    name = _ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return ""


def decode_bytes(data: bytes) -> str:
    """Decode a page the way a browser would, then NFC-normalise."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _nfc(data[len(bom) :].decode(encoding, errors="replace"))
    declared = declared_charset(data)
    if declared and declared not in ("utf-8", "cp1252"):
        try:
            return _nfc(data.decode(declared))
        except (UnicodeDecodeError, LookupError):
            pass
    # A declaration is often wrong (UTF-8 pages labelled Latin-1 and back): valid UTF-8 is UTF-8.
    try:
        return _nfc(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    if _UTF8_SEQUENCE.search(data):
        # Mixed: mostly UTF-8 with some Windows-1252 bytes (pages assembled from two sources). Decode as
        # UTF-8 and read only the bytes that are not UTF-8 as Windows-1252, so neither part is garbled.
        return _nfc(data.decode("utf-8", errors="cp1252-fallback"))
    return _nfc(data.decode("cp1252", errors="replace"))


# A valid UTF-8 multi-byte sequence (2 to 4 bytes): its presence means the file is at least partly UTF-8.
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def _cp1252_fallback(err: UnicodeDecodeError) -> tuple[str, int]:
    bad = err.object[err.start : err.end]
    return bad.decode("cp1252", errors="replace"), err.end


codecs.register_error("cp1252-fallback", _cp1252_fallback)


def _nfc(text: str) -> str:
    return text if text.isascii() else unicodedata.normalize("NFC", text)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _repair_str(text: str) -> str:
    try:
        text.encode("utf-8")  # fails on a lone surrogate only; twice as fast as searching for one
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


def repair_surrogates(value: Any) -> Any:
    """The value with every lone surrogate in its strings (keys too) replaced by U+FFFD.

    JSON may escape half of a pair ("\\ud800"): Python keeps it, and lxml, hashing and the index then raise on
    it. Repaired, the record is still read. Containers are copied with a work list, never recursion."""
    if isinstance(value, str):
        return _repair_str(value)
    if not isinstance(value, (dict, list)):
        return value
    root: Any = {} if isinstance(value, dict) else []
    todo: list[tuple[Any, Any]] = [(root, value)]  # (copy to fill, container it copies)
    while todo:
        copy, source = todo.pop()
        for key, item in source.items() if isinstance(source, dict) else enumerate(source):
            if isinstance(item, str):
                item = _repair_str(item)
            elif isinstance(item, (dict, list)):
                child: Any = {} if isinstance(item, dict) else []
                todo.append((child, item))
                item = child
            if isinstance(copy, dict):
                copy[_repair_str(key) if isinstance(key, str) else key] = item
            else:
                copy.append(item)
    return root
