"""Duplicates: exact keys, MinHash signatures and near-duplicate groups."""

from __future__ import annotations

import dataclasses
import gzip
import json

import pytest

from corpus import Statement, extract_html
from indexer.duplicates import MinHasher, exact_key, jaccard, near_duplicate_groups, signature, sketch
from tests.corpora import SHARED

NSB = SHARED / "corpus" / "nsb" / "nsb.jsonl.gz"
needs_nsb = pytest.mark.skipif(not NSB.exists(), reason="../shared/corpus/nsb not found")

# Posted twice on 2007-01-22 by two offices: same title, same date, two ids (lines 8746 and 8750).
REPOST = ("nsb-10286-fr", "nsb-10294-fr")


def st(id: str, body: str, **kw) -> Statement:
    return Statement(id=id, origin="test", title=kw.pop("title", ""), body=body, lang=kw.pop("lang", "fr"),
                     **kw)


def _nsb_lines(first: int, last: int) -> list[Statement]:
    out = []
    with gzip.open(NSB, "rt", encoding="utf-8") as f:
        for line_no, line in enumerate(f, start=1):
            if line_no < first:
                continue
            if line_no > last:
                break
            record = json.loads(line)
            item = extract_html(record["html"], origin=f"{NSB}:{line_no}", record=record)
            if isinstance(item, Statement):
                out.append(item)
    return out


# -- units ---------------------------------------------------------------------------------------------------

def test_exact_key_ignores_case_accents_spacing_and_punctuation():
    a = st("a", "Le Conseil fédéral a décidé.\n\nCommuniqué, 12 mars.")
    b = st("b", "le conseil federal a decide  communique 12 mars", title="Another title")
    c = st("c", "Le Conseil fédéral a refusé.")
    assert exact_key(a) == exact_key(b) != exact_key(c)
    assert exact_key(st("d", "", title="Titre seul")) == exact_key(st("e", " ", title="titre  seul"))


def test_signature_is_stable_and_estimates_jaccard():
    words = [f"mot{i}" for i in range(400)]
    a = " ".join(words)
    b = " ".join(words[:300] + [f"autre{i}" for i in range(100)])
    h = MinHasher()
    assert signature(a) == signature(a) and len(signature(a)) == 128
    true = jaccard(h.shingles(a), h.shingles(b))
    assert abs(MinHasher.similarity(signature(a), signature(b)) - true) < 0.12
    assert MinHasher.similarity(signature(a), signature("rien à voir " * 20)) < 0.1
    assert len(signature("court")) == 128  # fewer shingles than bins: densified, still full length


def test_near_duplicate_groups_on_synthetic_texts():
    # 15 paragraphs of 40 words; one replaced: shingle Jaccard ≈ 0.87.
    paragraphs = [" ".join(f"mot{p}x{w}" for w in range(40)) for p in range(16)]
    base = st("base", "\n\n".join(paragraphs[:15]), date="2020-01-02")
    changed = st("changed", "\n\n".join(paragraphs[:7] + paragraphs[15:] + paragraphs[8:15]),
                 date="2020-01-01")
    same = st("same", base.body.upper(), date="2020-01-03")
    other = st("other", "Le Département fédéral des finances publie les comptes 2019 de la Confédération.")
    groups = near_duplicate_groups([base, changed, same, other])
    assert groups == {"base": "changed", "changed": "changed", "same": "changed"}  # the earliest is canonical


def test_near_duplicate_groups_from_sketches_need_no_body():
    paragraphs = [" ".join(f"mot{p}x{w}" for w in range(40)) for p in range(16)]
    base = st("base", "\n\n".join(paragraphs[:15]), date="2020-01-01")
    longer = st("longer", base.body + "\n\n" + paragraphs[15], date="2020-01-01")  # canonical: longer
    same = st("same", base.body.upper(), date="2020-01-03")
    other = st("other", "Le Département fédéral des finances publie les comptes 2019 de la Confédération.")
    full = [base, longer, same, other]
    sketches = {x.id: sketch(x) for x in full}
    bodies = {x.id: x.body for x in full}
    asked: list[str] = []

    def text_of(x: Statement) -> str:
        asked.append(x.id)
        return bodies[x.id]

    bare = [dataclasses.replace(x, body="") for x in full]
    groups = near_duplicate_groups(bare, sketches=sketches, text_of=text_of)
    assert groups == near_duplicate_groups(full) == {"base": "longer", "longer": "longer", "same": "longer"}
    assert set(asked) <= {"base", "longer"}  # only candidate pairs are shingled again


# -- real data -----------------------------------------------------------------------------------------------

@needs_nsb
def test_nsb_repost_is_grouped_and_its_neighbours_are_not():
    statements = _nsb_lines(8700, 8800)
    ids = {s.id for s in statements}
    assert set(REPOST) <= ids
    groups = near_duplicate_groups(statements)
    a, b = REPOST
    assert a in groups and groups[a] == groups[b]
    # Everything else grouped here must really be near-identical.
    h = MinHasher()
    by_id = {s.id: s for s in statements}
    for i, head in groups.items():
        x, y = by_id[i], by_id[head]
        same_title = (x.title, x.date) == (y.title, y.date)
        assert same_title or jaccard(h.shingles(x.body), h.shingles(y.body)) >= 0.8


@needs_nsb
def test_one_paragraph_changed_is_near_duplicate_a_different_statement_is_not():
    statements = _nsb_lines(20000, 20300)
    long = max((s for s in statements if s.lang == "fr"), key=lambda s: len(s.body.split("\n\n")))
    paragraphs = long.body.split("\n\n")
    assert len(paragraphs) >= 10
    other = next(s for s in statements if s.lang == "fr" and s.id != long.id and len(s.body) > 500)
    # The longest paragraph of a different statement replaces one paragraph of average length.
    i = sorted(range(len(paragraphs)), key=lambda k: len(paragraphs[k]))[len(paragraphs) // 2]
    foreign = max(other.body.split("\n\n"), key=len)
    edited = dataclasses.replace(long, id="edited", body="\n\n".join(paragraphs[:i] + [foreign]
                                                                       + paragraphs[i + 1:]))
    groups = near_duplicate_groups([long, edited, other])
    assert groups.get("edited") == groups.get(long.id) is not None
    assert other.id not in groups


@pytest.mark.slow
@needs_nsb
def test_full_nsb_reposts_grouped_with_high_precision():
    from bench.linking import load_nsb, measure_duplicates

    result = measure_duplicates(load_nsb(), 0.8)
    assert result["precision"] >= 0.9  # member-to-canonical pairs; chains of templated texts cost ~10%
    assert result["reposts grouped"] >= 0.8 * result["reposts"]


def test_band_candidates_are_the_pairs_sharing_a_band():
    """The numpy banding finds exactly the pairs a plain bucket-per-band search finds, on real statements
    (the NSB neighbourhood of a known repost, plus edited copies that share some bands and not others)."""
    from indexer.duplicates import NUM_PERM, ROWS, _band_candidates, pack_signature

    if NSB.exists():
        sts = _nsb_lines(8700, 8800)
    else:
        sts = [st(f"s{i}", f"Le Conseil fédéral a adopté le message numéro {i} sur la santé. " * 5)
               for i in range(40)]
    edited = [dataclasses.replace(s, id=s.id + "-edited", body=s.body[: len(s.body) * 3 // 4] + " Modifié.")
              for s in sts[:30]]
    hasher = MinHasher()
    sigs = {i: pack_signature(hasher.signature(s.body or s.title)) for i, s in enumerate(sts + edited)}
    width = 8 * ROWS
    expected = set()
    for band in range(NUM_PERM // ROWS):
        buckets: dict[bytes, list[int]] = {}
        for i, sig in sigs.items():
            buckets.setdefault(sig[band * width:(band + 1) * width], []).append(i)
        for members in buckets.values():
            expected.update((a, b) for a in members for b in members if a < b)
    assert len(expected) >= 25
    assert _band_candidates(sigs, ROWS, NUM_PERM // ROWS) == expected
