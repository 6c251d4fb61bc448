"""What a build holds per statement while it runs (issue 15: peak memory must not grow with the archive),
on real NSB records: the link pass keeps the statements' bodies in a temporary file, not in memory, and
reads back the very bodies the index stores."""

from __future__ import annotations

import gzip
import itertools
from pathlib import Path

import pytest

from bench.common import NSB
from indexer import linkpass, update
from indexer.documents import stored_body
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
