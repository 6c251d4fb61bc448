"""Whoosh is imported without urllib.request, the cached_property package and its English morphology
(indexer.whoosh_import): a cold search no longer loads them, Whoosh still works where it used them, and the
real modules stay importable."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample" / "yukon" / "en" / "2020"
UNUSED = ["asyncio", "cached_property", "email", "http.client", "ssl", "urllib.request",
          "whoosh.lang.morph_en"]


def _fresh(code: str, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def index_with_deletions(tmp_path_factory) -> Path:
    """The sample's 2020 pages indexed, then one of them removed: its segment has a deleted document."""
    import indexer

    corpus = tmp_path_factory.mktemp("corpus")
    for page in sorted(SAMPLE.glob("*.html"))[:6]:
        (corpus / page.name).write_bytes(page.read_bytes())
    index_dir = corpus.parent / "index"
    indexer.update([str(corpus)], index_dir, workers=False)
    next(iter(sorted(corpus.glob("*.html")))).unlink()
    report = indexer.update([str(corpus)], index_dir, workers=False)
    assert report.removed == 1
    return index_dir


def test_a_cold_search_imports_none_of_whooshs_unused_modules(index_with_deletions):
    code = ("import atexit, io, json, sys, contextlib\n"
            "import cli\n"
            "out = io.StringIO()\n"
            "with contextlib.redirect_stdout(out):\n"
            "    try:\n"
            "        cli.main(['search', 'yukon', '--index', sys.argv[1]])\n"
            "    except SystemExit:\n"
            "        pass\n"
            "print(json.dumps({'answered': 'statements match' in out.getvalue(),"
            " 'loaded': sorted(m for m in sys.modules if m in json.loads(sys.argv[2]))}))")
    got = _fresh(code, str(index_with_deletions), json.dumps(UNUSED))
    assert got == {"answered": True, "loaded": []}


def test_whoosh_reads_deletions_and_the_real_modules_still_import(index_with_deletions):
    """``deleted_docs_set`` (the one cached property) is right on a segment with a deletion; afterwards
    ``urllib.request`` and ``cached_property`` import as the real modules, and Whoosh's ``urlretrieve`` and
    ``variations`` reach the real ones."""
    code = ("import json, sys\n"
            "import indexer\n"
            "ix = indexer.open_index(sys.argv[1])\n"
            "with ix.reader() as r:\n"
            "    readers = [s for s, _ in r.leaf_readers()] if not r.is_atomic() else [r]\n"
            "    deleted = [sorted(s.deleted_docs_set) for s in readers]\n"
            "    live = [sorted(set(range(s.doc_count_all())) - set(s.all_doc_ids())) for s in readers]\n"
            "import cached_property, urllib.request, whoosh.compat, whoosh.query.terms\n"
            "print(json.dumps({'deleted': deleted, 'live_says': live,"
            " 'real': hasattr(cached_property, 'threaded_cached_property') and"
            " hasattr(urllib.request, 'urlopen'),"
            " 'retrieve': whoosh.compat.urlretrieve('file://' + sys.argv[2])[0] == sys.argv[2],"
            " 'variations': sorted(whoosh.query.terms.variations('ran'))}))")
    page = next(iter(sorted(SAMPLE.glob("*.html"))))
    got = _fresh(code, str(index_with_deletions), str(page))
    assert got["real"] and got["retrieve"] and {"run", "running", "runs"} <= set(got["variations"])
    assert got["deleted"] == got["live_says"] and sum(map(len, got["deleted"])) == 1
