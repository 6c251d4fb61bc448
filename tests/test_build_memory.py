"""What a build holds per statement while it runs (issue 15: peak memory must not grow with the archive),
on real NSB records: the link pass keeps the statements' bodies in a temporary file, not in memory, and
reads back the very bodies the index stores; the duplicate grouping keeps a statement's shingles only while
a pair needing them is left."""

from __future__ import annotations

import gzip
import itertools
from pathlib import Path

import pytest

from bench.common import NSB
from bench.scale import synthetic_records
from corpus import Statement, read_paths
from indexer import duplicates, linkpass, update
from indexer.schema import stored_body
from indexer.store import open_index

pytestmark = pytest.mark.skipif(not NSB.exists(), reason="needs ../shared/corpus/nsb")


@pytest.mark.slow
def test_the_link_pass_keeps_no_body_in_memory(tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "c"
    folder.mkdir()
    with gzip.open(NSB, "rb") as f, open(folder / "nsb.jsonl", "wb") as out:
        out.writelines(itertools.islice(f, 300))
    seen: dict[str, str] = {}
    finish = linkpass.LinkPass.finish

    def spy(self) -> None:
        assert len(self.written) == 300
        assert not any("body_z" in fields for fields in self.written.values())
        seen.update((sid, stored_body(self._fields(sid))) for sid in self.written)
        finish(self)

    monkeypatch.setattr(linkpass.LinkPass, "finish", spy)
    update([folder], tmp_path / "ix", workers=False)
    with open_index(tmp_path / "ix").searcher() as s:
        stored = {f["id"]: stored_body(f) for f in s.all_stored_fields()}
    assert sum(1 for body in seen.values() if body) > 250
    assert seen == {sid: stored[sid] for sid in seen}


class _Shingles(set):
    """A shingle set that counts how many are alive (a set subclass takes weak references)."""

    alive = 0
    most = 0

    def __init__(self, items) -> None:
        super().__init__(items)
        cls = type(self)
        cls.alive += 1
        cls.most = max(cls.most, cls.alive)

    def __del__(self) -> None:
        type(self).alive -= 1


def testpair_jaccards_keep_a_group_s_shingles_only(tmp_path: Path) -> None:
    """Three copies of each of 40 real statements (bench.scale's synthetic copies: reworded, not equal):
    every pair within a group, given in the order the grouping sorts them (all first copies first). The
    similarities are the exact Jaccards, and no more than one group's shingle sets are alive at a time."""
    with gzip.open(NSB, "rt", encoding="utf-8") as f:
        lines = list(itertools.islice(f, 40))
    for copy in range(3):
        (tmp_path / f"c{copy}.jsonl").write_text("".join(synthetic_records(lines, copy)), encoding="utf-8")
    sts = [x for copy in range(3) for x in read_paths([tmp_path / f"c{copy}.jsonl"])
           if isinstance(x, Statement)]
    n = len(sts) // 3
    assert n >= 35
    hasher = duplicates.MinHasher()
    pairs = sorted((k + a * n, k + b * n) for k in range(n) for a, b in ((0, 1), (0, 2), (1, 2)))
    sims = duplicates.pair_jaccards(pairs, lambda i: _Shingles(hasher.shingles(sts[i].body)))
    assert set(sims) == set(pairs)
    for i, j in pairs:
        assert sims[i, j] == duplicates.jaccard(hasher.shingles(sts[i].body), hasher.shingles(sts[j].body))
    assert 0 < min(sims.values()) and max(sims.values()) < 1
    assert _Shingles.most <= 3 and _Shingles.alive == 0
