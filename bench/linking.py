"""Measure translation linking and duplicate detection on the real corpora in ../shared.

    python -m bench.linking [--limit N] [--no-cache]

Statements are read by the project's own ingester (``corpus``) and cached as a pickle under the system temp
folder (keyed by the input's size and mtime), since extraction costs far more than the algorithms measured.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import pickle
import random
import re
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from corpus import Statement, extract_html, read_paths

SHARED = Path(__file__).resolve().parents[2] / "shared"
YUKON = SHARED / "corpus" / "yukon"
NSB = SHARED / "corpus" / "nsb" / "nsb.jsonl.gz"
CACHE = Path(tempfile.gettempdir()) / "presse-bench"

_NSB_ID = re.compile(r"^nsb-(\d+)-(fr|en)$")


# -- loading -----------------------------------------------------------------------------------------------

def _cached(name: str, source: Path, limit: int | None, build, use_cache: bool = True) -> list[Statement]:
    stat = source.stat()
    key = f"{name}-{limit or 'all'}-{stat.st_size}-{stat.st_mtime_ns}.pkl"
    path = CACHE / key
    if use_cache and path.exists():
        with path.open("rb") as f:
            return [Statement.from_dict(d) for d in pickle.load(f)]
    statements = build()
    if use_cache:
        CACHE.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as f:
            pickle.dump([s.to_dict() for s in statements], f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
    return statements


def yukon_files(root: Path = YUKON, limit: int | None = None) -> list[Path]:
    """English and French files, sorted by name; `limit` keeps those of the first N names."""
    files = sorted((p.relative_to(root / lang), lang) for lang in ("en", "fr") for p in (root / lang).rglob("*.html"))
    names = sorted({name for name, _ in files})
    keep = set(names[:limit] if limit else names)
    return [root / lang / name for name, lang in files if name in keep]


def load_yukon(root: Path = YUKON, limit: int | None = None, use_cache: bool = True) -> list[Statement]:
    def build() -> list[Statement]:
        return [s for s in read_paths(yukon_files(root, limit)) if isinstance(s, Statement)]

    return _cached("yukon", root / "manifest.csv", limit, build, use_cache)


def nsb_records(path: Path = NSB, limit: int | None = None) -> Iterable[tuple[int, dict]]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line_no, line in enumerate(f, start=1):
            if limit and line_no > limit:
                break
            yield line_no, json.loads(line)


def load_nsb(path: Path = NSB, limit: int | None = None, use_cache: bool = True) -> list[Statement]:
    """The first `limit` records (all by default), each through the ingester's own extraction."""

    def build() -> list[Statement]:
        out = []
        for line_no, record in nsb_records(path, limit):
            item = extract_html(record["html"], origin=f"{path}:{line_no}", record=record)
            if isinstance(item, Statement):
                out.append(item)
        return out

    return _cached("nsb", path, limit, build, use_cache)


# -- truth -------------------------------------------------------------------------------------------------

def yukon_truth(statements: Iterable[Statement]) -> set[frozenset[str]]:
    """True pairs: one English and one French page with the same release number (from the page's meta tag)."""
    by_release: dict[str, dict[str, str]] = defaultdict(dict)
    for st in statements:
        lang = "en" if "/en/" in st.origin else "fr"
        if st.release:
            by_release[st.release][lang] = st.id
    return {frozenset(v.values()) for v in by_release.values() if len(v) == 2}


def nsb_truth(statements: Iterable[Statement]) -> set[frozenset[str]]:
    """True pairs: nsb-<id>-fr and nsb-<id>-en both present."""
    by_msg: dict[str, list[str]] = defaultdict(list)
    for st in statements:
        m = _NSB_ID.match(st.id)
        if m:
            by_msg[m.group(1)].append(st.id)
    return {frozenset(v) for v in by_msg.values() if len(v) == 2}


def pairs_of(links: dict[str, str]) -> set[frozenset[str]]:
    return {frozenset((a, b)) for a, b in links.items()}


def precision_recall(found: set[frozenset[str]], truth: set[frozenset[str]]) -> tuple[float, float, int]:
    hits = len(found & truth)
    return (hits / len(found) if found else 1.0), (hits / len(truth) if truth else 1.0), hits
