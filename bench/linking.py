"""Measure translation linking and duplicate detection on the real corpora in ../shared.

    python -m bench.linking [--limit N] [--no-cache]

Statements are read by the project's own ingester (``corpus``) and cached as a pickle under the system temp
folder (keyed by the input's path, size and mtime and by the ingester's source, so that a cache made by
other extraction code, or for a copy of the corpus elsewhere, is never reused), since extraction costs far
more than the algorithms measured.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import hashlib
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

import corpus
from corpus import Statement, extract_html, read_paths

SHARED = Path(__file__).resolve().parents[2] / "shared"
YUKON = SHARED / "corpus" / "yukon"
NSB = SHARED / "corpus" / "nsb" / "nsb.jsonl.gz"
CACHE = Path(tempfile.gettempdir()) / "presse-bench"

_NSB_ID = re.compile(r"^nsb-(\d+)-(fr|en)$")


# -- loading -----------------------------------------------------------------------------------------------

@functools.cache
def ingester_version() -> str:
    """A digest of the ingester's source files: statements cached by other extraction code are not reused."""
    h = hashlib.blake2b(digest_size=8)
    for path in sorted(Path(corpus.__file__).parent.glob("*.py")):
        h.update(path.read_bytes())
    return h.hexdigest()


def _cached(name: str, source: Path, limit: int | None, build, use_cache: bool = True) -> list[Statement]:
    stat = source.stat()
    # Statements carry their origin path: the same corpus at another place is another cache entry.
    where = hashlib.blake2b(str(source).encode("utf-8", "surrogateescape"), digest_size=6).hexdigest()
    key = f"{name}-{limit or 'all'}-{stat.st_size}-{stat.st_mtime_ns}-{where}-{ingester_version()}.pkl"
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
    files = sorted((p.relative_to(root / lang), lang) for lang in ("en", "fr")
                   for p in (root / lang).rglob("*.html"))
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

def yukon_truth(statements: Iterable[Statement], root: Path = YUKON) -> set[frozenset[str]]:
    """True pairs: an English and a French page with the same release number in manifest.csv."""
    import csv

    with (root / "manifest.csv").open(encoding="utf-8") as f:
        release = {row["path"].removeprefix("output/"): row["news_release_number"]
                   for row in csv.DictReader(f)}
    by_release: dict[str, dict[str, str]] = defaultdict(dict)
    for st in statements:
        rel = Path(st.origin).relative_to(root).as_posix() if st.origin.startswith(str(root)) else st.origin
        number = release.get(rel)
        if number:
            by_release[number][rel.split("/")[0]] = st.id
    return {frozenset(v.values()) for v in by_release.values() if len(v) == 2}


def nsb_truth(statements: Iterable[Statement]) -> set[frozenset[str]]:
    """True pairs: nsb-<id>-fr and nsb-<id>-en both present (a few ids occur twice: still one pair)."""
    by_msg: dict[str, set[str]] = defaultdict(set)
    for st in statements:
        m = _NSB_ID.match(st.id)
        if m:
            by_msg[m.group(1)].add(st.id)
    return {frozenset(v) for v in by_msg.values() if len(v) == 2}


def pairs_of(links: dict[str, str]) -> set[frozenset[str]]:
    return {frozenset((a, b)) for a, b in links.items()}


def precision_recall(found: set[frozenset[str]], truth: set[frozenset[str]]) -> tuple[float, float, int]:
    hits = len(found & truth)
    return (hits / len(found) if found else 1.0), (hits / len(truth) if truth else 1.0), hits


# -- measures ----------------------------------------------------------------------------------------------

def hide_explicit(statements: list[Statement]) -> tuple[list[Statement], dict[str, str]]:
    """Copies with ids replaced by opaque ones, no release number, no alternates; and hidden id -> real id."""
    hidden, back = [], {}
    for i, st in enumerate(statements):
        d = st.to_dict()
        d.update(id=f"h{i}", release="", alternates={}, url="")
        hidden.append(Statement.from_dict(d))
        back[f"h{i}"] = st.id
    return hidden, back


def strip_release_lines(statements: list[Statement]) -> list[Statement]:
    """The printed release number ("News release #: 21-100") removed from the bodies."""
    out = []
    for st in statements:
        d = st.to_dict()
        if st.release:
            d["body"] = st.body.replace(st.release, "")
        out.append(Statement.from_dict(d))
    return out


def measure_links(name: str, statements: list[Statement], truth: set[frozenset[str]]) -> list[tuple]:
    from indexer.linking import content_links, explicit_links

    rows = []
    t0, c0 = time.perf_counter(), time.process_time()
    found = pairs_of(explicit_links(statements))
    p, r, _ = precision_recall(found, truth)
    rows.append((name, "explicit links", len(truth), len(found), p, r, time.perf_counter() - t0,
                 time.process_time() - c0))
    variants = [("content only", statements)]
    if name == "yukon":
        variants.append(("content, no release #", strip_release_lines(statements)))
    for label, sts in variants:
        hidden, back = hide_explicit(sts)
        t0, c0 = time.perf_counter(), time.process_time()
        links = content_links(hidden)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        found = {frozenset((back[a], back[b])) for a, b in links.items()}
        p, r, _ = precision_recall(found, truth)
        rows.append((name, label, len(truth), len(found), p, r, wall, cpu))
    return rows


def measure_duplicates(statements: list[Statement], threshold: float = 0.8, sample: int = 200,
                       seed: int = 0) -> dict:
    from indexer.duplicates import MinHasher, exact_key, jaccard, near_duplicate_groups

    t0, c0 = time.perf_counter(), time.process_time()
    groups = near_duplicate_groups(statements, threshold)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    by_id = {st.id: st for st in statements}
    members: dict[str, list[str]] = defaultdict(list)
    for i, head in groups.items():
        members[head].append(i)
    pairs = [(head, i) for head, ids in members.items() for i in ids if i != head]
    hasher = MinHasher()
    rng = random.Random(seed)
    checked = rng.sample(pairs, min(sample, len(pairs)))
    ok = 0
    for a, b in checked:
        sa, sb = by_id[a], by_id[b]
        same = (sa.title, sa.date) == (sb.title, sb.date)
        ok += same or jaccard(hasher.shingles(sa.body), hasher.shingles(sb.body)) >= threshold
    # Recall on the known re-posts: same title, same date, same language, two ids.
    seen: dict[tuple, list[str]] = defaultdict(list)
    for st in statements:
        seen[(st.title, st.date, st.lang)].append(st.id)
    reposts = [ids for ids in seen.values() if len(ids) == 2 and ids[0] != ids[1]]
    found = sum(1 for a, b in reposts if a in groups and groups.get(a) == groups.get(b))
    exact = defaultdict(int)
    for st in statements:
        exact[exact_key(st)] += 1
    return {"statements": len(statements), "in groups": len(groups), "groups": len(members),
            "exact dup sets": sum(1 for v in exact.values() if v > 1),
            "sampled pairs": len(checked), "precision": ok / len(checked) if checked else 1.0,
            "reposts": len(reposts), "reposts grouped": found, "wall": wall, "cpu": cpu}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.linking", description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, help="only the first N yukon file names and N nsb records")
    ap.add_argument("--no-cache", action="store_true", help="re-read the corpora (the ingester is slow)")
    ap.add_argument("--threshold", type=float, default=0.8, help="near-duplicate Jaccard threshold")
    args = ap.parse_args(argv)
    if not YUKON.exists() or not NSB.exists():
        print(f"shared data not found under {SHARED}", file=sys.stderr)
        return 1
    t0 = time.perf_counter()
    yukon = load_yukon(limit=args.limit, use_cache=not args.no_cache)
    nsb = load_nsb(limit=args.limit, use_cache=not args.no_cache)
    print(f"loaded {len(yukon)} yukon + {len(nsb)} nsb statements in {time.perf_counter() - t0:.1f} s\n")

    rows = measure_links("yukon", yukon, yukon_truth(yukon)) + measure_links("nsb", nsb, nsb_truth(nsb))
    print(f"{'corpus':7} {'linker':24} {'true':>6} {'found':>6} {'precision':>9} {'recall':>7} {'wall s':>7} "
          f"{'cpu s':>6}")
    for name, label, n_true, n_found, p, r, wall, cpu in rows:
        print(f"{name:7} {label:24} {n_true:6d} {n_found:6d} {p:9.4f} {r:7.4f} {wall:7.2f} {cpu:6.2f}")

    d = measure_duplicates(nsb, args.threshold)
    print(f"\nnear duplicates on nsb (Jaccard >= {args.threshold}): {d['in groups']} statements in "
          f"{d['groups']} groups; {d['exact dup sets']} sets of exact duplicates (same exact_key)")
    print(f"  precision on {d['sampled pairs']} sampled pairs (same title+date, or body Jaccard >= "
          f"threshold): {d['precision']:.4f}")
    print(f"  known re-posts (same title, date, language; two ids): {d['reposts grouped']}/{d['reposts']} "
          "grouped")
    print(f"  time: {d['wall']:.1f} s wall, {d['cpu']:.1f} s cpu")
    return 0


if __name__ == "__main__":
    sys.exit(main())
