"""Known-item lookups: `python -m bench.knownitem --corpus nsb|yukon|spf --half tune|test|all [--typos] [-v]`.

    --save FILE / --against FILE   presse's rank of each query, and which queries got better or worse since

A person types 3-5 words remembered from a statement's title or first sentence and wants that statement on
top. The query sets are generated at run time from ../shared with a fixed seed (nothing of the corpora is
stored in the repository):

- a random statement (title of at least two content words), 3-5 content words (no French or English
  stopword) mostly from its title, the rest from its first sentence, in text order, lower-cased, accents
  removed in ~80% of the queries; no language filter;
- relevant: the statement, its duplicates (same title and date, another id) and its other-language version
  (NSB: the records of one message share the message id, ``nsb-<message>-<fr|en>``; Yukon: the same file name
  under en/ and fr/), and their duplicates;
- the typo set: the same lookups with one edit (deletion, insertion, substitution, transposition; never the
  first letter) in one word of 5+ letters;
- each set is split into a "tune" and a "test" half by a seeded hash of the query id (SPF's 535 questions
  too): tune on one half, report the other.

Each query runs through presse (``Searcher.search(text, limit=10)``, default options, as a user types) and,
in the same run, through SQLite FTS5 over the same statements (the ingester's text, columns title and body,
unicode61 remove_diacritics 2, bm25) with all words required (AND) and with any word (OR). The statements and
the FTS5 table are read once and cached in a database under /tmp, keyed by the corpus files (``--refresh``
re-reads them after a change to the ingester); the presse index defaults to /tmp/nsb-idx or /tmp/yk-idx when
they hold a finished index, else one is built into the cache folder.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import sqlite3
import sys
import tempfile
import time
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bench.common import NSB, SHARED, SPF, MissingData, require

if TYPE_CHECKING:
    from corpus import Statement

SEED = 14
LOOKUPS = 600  # per corpus: ~300 per half
CACHE = Path(tempfile.gettempdir()) / "presse-knownitem"
YUKON = SHARED / "corpus" / "yukon"
DEFAULT_INDEX = {"nsb": Path("/tmp/nsb-idx"), "yukon": Path("/tmp/yk-idx")}
FOLD_SHARE = 0.8  # queries typed without accents
LEAD = 600  # characters of the body kept for the first sentence
CACHE_VERSION = "1"


# -- the statements, read once through the ingester ------------------------------------------------------

@dataclass
class Doc:
    id: str
    title: str
    lead: str  # the body's first LEAD characters
    lang: str
    date: str
    pair: str  # the key a statement shares with its other-language version ("" when none)


def inputs(corpus: str) -> list[Path]:
    if corpus == "nsb":
        return [NSB]
    if corpus == "yukon":
        return [YUKON / "en", YUKON / "fr"]
    if corpus == "spf":
        return [SPF / "docs.jsonl"]
    raise ValueError(f"unknown corpus {corpus!r}")


def pair_key(corpus: str, id: str, origin: str) -> str:
    """NSB: the message id inside the record id; Yukon: the page's path below en/ or fr/."""
    if corpus == "nsb":
        m = re.fullmatch(r"nsb-(\d+)-[a-z]+", id)
        return m.group(1) if m else ""
    if corpus == "yukon":
        m = re.search(r"/(?:en|fr)/(.+)$", origin.replace("\\", "/"))
        return m.group(1) if m else ""
    return ""


def _cache_key(corpus: str) -> str:
    """Changes when an input file changes. Not with the ingester's code, which other work edits all day:
    ``--refresh`` re-reads the corpus after an ingester change."""
    h = hashlib.blake2b(digest_size=8)
    h.update(CACHE_VERSION.encode())
    for root in inputs(corpus):
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for p in files:
            st = p.stat()
            h.update(f"{p.resolve()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def open_corpus(corpus: str, refresh: bool = False) -> sqlite3.Connection:
    """The cached database of a corpus: ``docs`` (FTS5: id, title, body), ``meta`` (a row a statement)."""
    require(*inputs(corpus))
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{corpus}-{_cache_key(corpus)}.sqlite"
    if refresh or not path.exists():
        import corpus as ingester
        print(f"reading {corpus} through the ingester into {path} …", file=sys.stderr, flush=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # several runs may build it at once
        db = sqlite3.connect(tmp)
        db.execute("CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, body, "
                   "tokenize='unicode61 remove_diacritics 2')")
        db.execute("CREATE TABLE meta (id TEXT PRIMARY KEY, title TEXT, lead TEXT, lang TEXT, date TEXT, "
                   "pair TEXT)")
        seen = set()
        for x in ingester.read_paths(inputs(corpus)):
            if not hasattr(x, "body"):
                continue
            if x.id in seen:  # the last of a repeated id is kept, as presse's index does
                db.execute("DELETE FROM docs WHERE id = ?", (x.id,))
            seen.add(x.id)
            db.execute("INSERT INTO docs VALUES (?, ?, ?)", (x.id, x.title or "", x.body))
            d = to_doc(corpus, x)
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?, ?, ?, ?, ?)",
                       (d.id, d.title, d.lead, d.lang, d.date, d.pair))
        db.commit()
        db.close()
        tmp.replace(path)
    return sqlite3.connect(path)


def to_doc(corpus: str, x: Statement) -> Doc:
    """What the lookups need of a statement the ingester read."""
    return Doc(x.id, x.title or "", x.body[:LEAD], x.lang, x.date, pair_key(corpus, x.id, x.origin))


def load_docs(db: sqlite3.Connection) -> list[Doc]:
    return [Doc(*row) for row in db.execute("SELECT id, title, lead, lang, date, pair FROM meta ORDER BY id")]


@dataclass
class Relations:
    duplicates: dict[str, set[str]]  # id -> other ids with the same title and date
    translations: dict[str, set[str]]  # id -> ids of the same pair key in another language
    siblings: dict[str, set[str]]  # id -> other ids of the same pair key, whatever their language

    def relevant(self, id: str) -> set[str]:
        """The statement, its duplicates, its other versions (a translation, or a record of the same NSB
        message whose text is in the same language) and their duplicates."""
        own = {id} | self.duplicates.get(id, set())
        other = {t for d in own for t in self.siblings.get(d, set())}
        other |= {d for t in other for d in self.duplicates.get(t, set())}
        return own | other


def relations(docs: list[Doc]) -> Relations:
    by_title: dict[tuple[str, str], list[str]] = defaultdict(list)
    by_pair: dict[str, list[Doc]] = defaultdict(list)
    for d in docs:
        if d.title.strip() and d.date:
            by_title[(" ".join(d.title.casefold().split()), d.date)].append(d.id)
        if d.pair:
            by_pair[d.pair].append(d)
    dups = {i: set(ids) - {i} for ids in by_title.values() if len(ids) > 1 for i in ids}
    trans, siblings = {}, {}
    for group in by_pair.values():
        for d in group:
            siblings[d.id] = {o.id for o in group if o.id != d.id}
            other = {o.id for o in group if o.lang != d.lang}
            if other:
                trans[d.id] = other
    return Relations(dups, trans, siblings)


# -- the queries -----------------------------------------------------------------------------------------

@dataclass
class Query:
    qid: str
    text: str
    target: str
    lang: str  # the target's language
    relevant: list[str]
    translation: str | None
    base: str = ""  # the correctly spelled text, for a typo query
    words: list[str] = field(default_factory=list)


def fold(text: str) -> str:
    """Lower case without accents (what most people type)."""
    nfd = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in nfd if not unicodedata.combining(c))


# NSB holds ~1,300 German records labelled "en": a person would not type these either
GERMAN = frozenset("""der die das den dem des ein eine einen einem einer eines und oder ist sind wird werden
mit von zu zum zur im in am an auf aus bei fur uber nach vor als auch nicht sich es er sie wir""".split())


def _stopwords() -> frozenset[str]:
    from indexer.stopwords import ENGLISH_STOPWORDS, FRENCH_STOPWORDS
    return FRENCH_STOPWORDS | ENGLISH_STOPWORDS | GERMAN


STOPWORDS = _stopwords()
WORD = re.compile(r"[^\W_]+")


def content_words(text: str) -> list[str]:
    """The words a person might remember: lower case, no stopwords, no short words or bare numbers (a
    four-digit year stays), each once, in text order."""
    out, seen = [], set()
    for w in WORD.findall(text.lower()):
        f = fold(w)
        if f in STOPWORDS or f in seen or (len(f) < 3) or (f.isdigit() and len(f) != 4):
            continue
        seen.add(f)
        out.append(w)
    return out


# a full stop after a word of 3+ letters (not "M." or "Dr.") or a number, then a capital
SENTENCE_END = re.compile(r"(?:(?<=[^\W\d_]{3}[.!?])|(?<=\d[.!?]))\s+(?=[«\"“]?[^\W\d_])")


def first_sentence(body: str) -> str:
    """The first sentence of the first paragraph of 8 words or more (not a dateline such as "Published
    May 3, 2021" or a heading); a sentence cut by the end of a stored lead loses its last, partial word."""
    para = next((p for p in body.split("\n") if len(p.split()) >= 8), "")
    sentence = SENTENCE_END.split(para.strip(), maxsplit=1)[0]
    if sentence and len(body) >= LEAD and body.rstrip().endswith(sentence):
        sentence = sentence.rsplit(None, 1)[0]
    return sentence


def lookup_words(doc: Doc, rng: random.Random) -> list[str] | None:
    """3-5 words, most from the title, some from the first sentence, in text order; None when too few."""
    title = content_words(doc.title)
    folded = {fold(w) for w in title}
    lead = [w for w in content_words(first_sentence(doc.lead)) if fold(w) not in folded]
    if len(title) < 2 or len(title) + len(lead) < 3:
        return None
    n = rng.choice((3, 4, 5))
    n_lead = min(len(lead), rng.choice((0, 0, 1, 1, 2)))
    n_title = min(len(title), n - n_lead)
    n_lead = min(len(lead), n - n_title)
    pick_t = sorted(rng.sample(range(len(title)), n_title))
    pick_l = sorted(rng.sample(range(len(lead)), n_lead))
    return [title[i] for i in pick_t] + [lead[i] for i in pick_l]


def make_lookups(corpus: str, docs: list[Doc], rel: Relations, n: int = LOOKUPS,
                 seed: int = SEED) -> list[Query]:
    """``n`` known-item lookups drawn with ``seed`` (the same every run)."""
    rng = random.Random(f"{seed}:{corpus}")
    order = list(range(len(docs)))
    rng.shuffle(order)
    out: list[Query] = []
    for i in order:
        if len(out) >= n:
            break
        doc = docs[i]
        words = lookup_words(doc, rng)
        if words is None:
            continue
        text = " ".join(words)
        if rng.random() < FOLD_SHARE:
            text = fold(text)
        trans = sorted(rel.translations.get(doc.id, ()))
        out.append(Query(f"{corpus}-{len(out):04d}", text, doc.id, doc.lang, sorted(rel.relevant(doc.id)),
                         trans[0] if trans else None, words=text.split()))
    return out


def one_edit(word: str, rng: random.Random) -> str:
    """``word`` with one deletion, insertion, substitution or transposition, never at the first letter."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    while True:
        op = rng.choice(("delete", "insert", "substitute", "transpose"))
        i = rng.randrange(1, len(word))
        if op == "delete":
            out = word[:i] + word[i + 1:]
        elif op == "insert":
            out = word[:i] + rng.choice(letters) + word[i:]
        elif op == "substitute":
            out = word[:i] + rng.choice(letters) + word[i + 1:]
        else:
            i = min(i, len(word) - 2)
            out = word[:i] + word[i + 1] + word[i] + word[i + 2:]
        if out != word:
            return out


def with_typos(queries: list[Query], seed: int = SEED) -> list[Query]:
    """The lookups with one edit in one word of 5+ letters (those without such a word are left out)."""
    out = []
    for q in queries:
        rng = random.Random(f"{seed}:typo:{q.qid}")
        long = [i for i, w in enumerate(q.words) if len(w) >= 5 and w.isalpha()]
        if not long:
            continue
        i = rng.choice(long)
        words = list(q.words)
        words[i] = one_edit(words[i], rng)
        out.append(Query(q.qid + "-typo", " ".join(words), q.target, q.lang, q.relevant, q.translation,
                         base=q.text, words=words))
    return out


def half(qid: str, seed: int = SEED) -> str:
    """"tune" or "test", by a seeded hash of the query id (a typo query goes with its correct spelling)."""
    base = qid.removesuffix("-typo")
    return "tune" if hashlib.blake2b(f"{seed}:{base}".encode(), digest_size=1).digest()[0] % 2 else "test"


def spf_queries(docs: list[Doc]) -> list[Query]:
    from bench.relevance import load_eval
    queries, qrels = load_eval(SPF)
    lang = {d.id: d.lang for d in docs}
    return [Query(qid, queries[qid], sorted(rel)[0], lang.get(sorted(rel)[0], "fr"), sorted(rel), None)
            for qid, rel in qrels.items() if qid in queries]


# -- running the engines ---------------------------------------------------------------------------------

@dataclass
class Run:
    ranked: dict[str, list[str]]  # qid -> top-10 ids
    seconds: float
    modes: dict[str, str] = field(default_factory=dict)  # qid -> presse's mode ("all" / "any")


def run_presse(index_dir: Path, queries: list[Query]) -> Run:
    from search import Searcher
    run = Run({}, 0.0)
    with Searcher(index_dir) as s:
        t = time.perf_counter()
        for q in queries:
            res = s.search(q.text, limit=10)
            run.ranked[q.qid] = [h["id"] for h in res.hits]
            run.modes[q.qid] = res.mode
        run.seconds = time.perf_counter() - t
    return run


def run_fts5(db: sqlite3.Connection, queries: list[Query], op: str) -> Run:
    """``op`` " AND " (all words required) or " OR " (any word); bm25, 10 results."""
    run = Run({}, 0.0)
    t = time.perf_counter()
    for q in queries:
        words = ['"' + w.replace('"', "") + '"' for w in WORD.findall(q.text)]
        if not words:
            run.ranked[q.qid] = []
            continue
        rows = db.execute("SELECT id FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT 10",
                          (op.join(words),))
        run.ranked[q.qid] = [r[0] for r in rows]
    run.seconds = time.perf_counter() - t
    return run


# -- metrics ---------------------------------------------------------------------------------------------

def rank_of(ids: list[str], relevant: set[str] | list[str], k: int = 10) -> int | None:
    rel = set(relevant)
    return next((r for r, d in enumerate(ids[:k], 1) if d in rel), None)


def metrics(queries: list[Query], ranked: dict[str, list[str]], lang: dict[str, str] | None = None,
            trans: dict[str, set[str]] | None = None) -> dict[str, float]:
    """MRR@10, success@1, success@10; with ``lang``: right language at rank 1 (of the lookups whose first
    hit is relevant, the share where it is in the target's language: the statement, not its translation);
    with ``trans``: pairs in two slots (lists holding a statement and its translation)."""
    n = len(queries) or 1
    mrr = s1 = s10 = right = pairs = 0.0
    for q in queries:
        ids = ranked.get(q.qid, [])[:10]
        r = rank_of(ids, q.relevant)
        if r:
            mrr += 1 / r
            s1 += r == 1
            s10 += 1
        if lang is not None and r == 1 and lang.get(ids[0]) == q.lang:
            right += 1
        if trans is not None and two_slots(ids, trans):
            pairs += 1
    out = {"mrr@10": mrr / n, "success@1": s1 / n, "success@10": s10 / n}
    if lang is not None:
        out["right_lang@1"] = right / (s1 or 1)
    if trans is not None:
        out["pairs_two_slots"] = pairs / n
    return out


def two_slots(ids: list[str], trans: dict[str, set[str]]) -> bool:
    shown = set(ids)
    return any(trans.get(d, set()) & shown for d in ids)


def same_top(typos: list[Query], typo_run: dict[str, list[str]], base_run: dict[str, list[str]]) -> float:
    """Share of typo queries whose first result is the one the correct spelling gets (both empty counts)."""
    n = len(typos) or 1
    same = sum((typo_run.get(q.qid) or [None])[0] == (base_run.get(q.qid.removesuffix("-typo")) or [None])[0]
               for q in typos)
    return same / n


# -- one measurement -------------------------------------------------------------------------------------

@dataclass
class Measure:
    corpus: str
    queries: list[Query]
    typos: list[Query]
    runs: dict[str, Run]  # engine -> run over queries + typos
    docs: dict[str, Doc]
    rel: Relations
    index: Path | None = None  # the presse index the queries ran on

    def select(self, which: str, part: str) -> list[Query]:
        qs = self.typos if which == "typos" else self.queries
        return qs if part == "all" else [q for q in qs if half(q.qid) == part]

    def scores(self, which: str, part: str) -> dict[str, dict[str, float]]:
        qs = self.select(which, part)
        bilingual = self.corpus != "spf"
        lang = {i: d.lang for i, d in self.docs.items()} if bilingual else None
        trans = self.rel.translations if bilingual else None
        out = {}
        for eng, run in self.runs.items():
            m = metrics(qs, run.ranked, lang, trans)
            if which == "typos":
                m["same_top@1"] = same_top(qs, run.ranked, run.ranked)
            m["queries"] = len(qs)
            m["ms_per_query"] = 1000 * run.seconds / max(1, len(run.ranked))
            out[eng] = m
        return out


def built(index_dir: Path) -> bool:
    """An index whose build finished (the manifest is written last)."""
    from indexer.manifest import MANIFEST_NAME
    return (index_dir / MANIFEST_NAME).exists()


def default_index(corpus: str) -> Path:
    d = DEFAULT_INDEX.get(corpus)
    if d is not None and built(d):
        return d
    return CACHE / f"{corpus}-idx"


def ensure_index(corpus: str, index_dir: Path) -> Path:
    if not built(index_dir):
        from indexer import update
        print(f"building the presse index of {corpus} in {index_dir} …", file=sys.stderr, flush=True)
        t = time.perf_counter()
        update(inputs(corpus), index_dir)
        print(f"  built in {time.perf_counter() - t:.0f}s", file=sys.stderr, flush=True)
    return index_dir


def measure(corpus: str, index_dir: Path | None = None, part: str = "all", typos: bool = True,
            limit: int | None = None, refresh: bool = False) -> Measure:
    """Generate the queries of ``corpus`` and run them on presse and FTS5 (AND, OR)."""
    db = open_corpus(corpus, refresh)
    docs = load_docs(db)
    rel = relations(docs)
    queries = spf_queries(docs) if corpus == "spf" else make_lookups(corpus, docs, rel)
    if limit:
        queries = queries[:limit]
    typo_qs = with_typos(queries) if typos and corpus != "spf" else []
    if part != "all":
        queries = [q for q in queries if half(q.qid) == part]
        typo_qs = [q for q in typo_qs if half(q.qid) == part]
    index_dir = ensure_index(corpus, index_dir or default_index(corpus))
    todo = queries + typo_qs
    runs = {"presse": run_presse(index_dir, todo), "FTS5 AND": run_fts5(db, todo, " AND "),
            "FTS5 OR": run_fts5(db, todo, " OR ")}
    db.close()
    return Measure(corpus, queries, typo_qs, runs, {d.id: d for d in docs}, rel, index_dir)


# -- output ----------------------------------------------------------------------------------------------

COLUMNS = [("mrr@10", "MRR@10"), ("success@1", "succ@1"), ("success@10", "succ@10"),
           ("right_lang@1", "lang@1"), ("pairs_two_slots", "pairs2"), ("same_top@1", "sametop")]


def table(m: Measure, part: str) -> str:
    lines = []
    for which in ("lookups", "typos"):
        if which == "typos" and not m.typos:
            continue
        sc = m.scores(which, part)
        cols = [(k, h) for k, h in COLUMNS if k in sc["presse"]]
        n = sc["presse"]["queries"]
        lines.append(f"\n{m.corpus} {which}, {part} half ({n} queries)" if part != "all"
                     else f"\n{m.corpus} {which}, both halves ({n} queries)")
        lines.append(f"{'engine':<10}" + "".join(f"{h:>9}" for _, h in cols) + f"{'ms/q':>8}")
        for eng, s in sc.items():
            lines.append(f"{eng:<10}" + "".join(f"{s[k]:>9.3f}" for k, _ in cols)
                         + f"{s['ms_per_query']:>8.1f}")
    return "\n".join(lines)


def misses(m: Measure, part: str) -> str:
    """The lookups presse does not answer at rank 1: rank of the target, top-3 titles, presse's mode."""
    out = []
    run = m.runs["presse"]
    for which in ("lookups", "typos"):
        for q in m.select(which, part):
            ids = run.ranked.get(q.qid, [])
            r = rank_of(ids, q.relevant)
            if r == 1:
                continue
            fts = rank_of(m.runs["FTS5 AND"].ranked.get(q.qid, []), q.relevant)
            out.append(f"{q.qid} {q.text!r} rank={r} fts5and={fts} mode={run.modes.get(q.qid)} "
                       f"target={q.target} [{q.lang}] {m.docs[q.target].title[:70]!r}"
                       if q.target in m.docs else f"{q.qid} {q.text!r} rank={r}")
            for i in ids[:3]:
                d = m.docs.get(i)
                out.append(f"    {i} [{d.lang if d else '?'}] {(d.title if d else '?')[:90]!r}")
    return "\n".join(out)


def ranks(m: Measure) -> dict[str, int | None]:
    """presse's rank of a relevant statement for each query (None: not in the top 10)."""
    run = m.runs["presse"]
    return {q.qid: rank_of(run.ranked.get(q.qid, []), q.relevant) for q in m.queries + m.typos}


def compare(now: dict[str, int | None], before: dict[str, int | None], texts: dict[str, str]) -> str:
    """The queries whose rank changed since a saved run: better, worse, and each change."""
    def rr(r):
        return 1 / r if r else 0.0
    common = [q for q in now if q in before]
    better = [q for q in common if rr(now[q]) > rr(before[q])]
    worse = [q for q in common if rr(now[q]) < rr(before[q])]
    lines = [f"\nagainst the saved run: {len(better)} better, {len(worse)} worse, "
             f"{len(common) - len(better) - len(worse)} unchanged of {len(common)}"]
    for label, qs in (("worse", worse), ("better", better)):
        lines += [f"  {label}: {q} {texts[q]!r} rank {before[q]} -> {now[q]}" for q in qs]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", choices=("nsb", "yukon", "spf"), default="nsb")
    ap.add_argument("--half", choices=("tune", "test", "all"), default="tune")
    ap.add_argument("--typos", action="store_true", help="also the typo set")
    ap.add_argument("--index", help="presse index (built there when missing); default /tmp/nsb-idx or "
                                    "/tmp/yk-idx when present, else a cache folder under /tmp")
    ap.add_argument("--limit", type=int, help="the first N lookups only")
    ap.add_argument("--refresh", action="store_true",
                    help="re-read the corpus through the ingester (after a change to corpus/)")
    ap.add_argument("-v", "--verbose", action="store_true", help="list presse's misses")
    ap.add_argument("--save", help="write presse's rank of each query to this JSON file")
    ap.add_argument("--against", help="list the queries whose rank changed since a --save file")
    args = ap.parse_args(argv)
    from indexer import IndexDamaged, IndexMissing, IndexNotWritable, UpdateInProgress
    from search import SearchError
    try:
        m = measure(args.corpus, Path(args.index) if args.index else None, args.half, args.typos, args.limit,
                    args.refresh)
    except (MissingData, OSError, sqlite3.Error, SearchError, IndexMissing, IndexDamaged,
            IndexNotWritable, UpdateInProgress) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    la = os.getloadavg()
    print(f"load average {la[0]:.2f} / {la[1]:.2f} / {la[2]:.2f}")
    for part in (("tune", "test", "all") if args.half == "all" else (args.half,)):
        print(table(m, part))
    if args.verbose:
        print("\nmisses (presse, rank 1 not relevant):\n" + misses(m, args.half))
    now = ranks(m)
    if args.against:
        try:
            before = json.loads(Path(args.against).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            print(f"error: cannot read {args.against}: {e}", file=sys.stderr)
            return 2
        print(compare(now, before, {q.qid: q.text for q in m.queries + m.typos}))
    if args.save:
        Path(args.save).write_text(json.dumps(now, indent=0) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
