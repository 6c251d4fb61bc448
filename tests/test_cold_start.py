"""A cold search process does less: the typo index is memory-mapped (read where a lookup touches it, not
loaded whole; a member not aligned for its dtype is copied once), and what only a typo or an update needs
(rapidfuzz, indexer.linkpass, numpy.ma) is imported when first needed. On the bundled sample indexed by
``indexer.update``; the answers are the same."""

from __future__ import annotations

import dataclasses
import json
import mmap
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import indexer
from indexer import typos as typo_index
from search import Searcher

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample"


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory) -> Path:
    index_dir = tmp_path_factory.mktemp("cold") / "idx"
    indexer.update([str(SAMPLE)], index_dir)
    return index_dir


def _in_fresh_process(index_dir: Path, query: str) -> dict:
    """The modules a new interpreter has imported after one search, and the answer's hit ids."""
    code = ("import json, sys\nfrom search import Searcher\n"
            f"res = Searcher({str(index_dir)!r}).search({query!r}, limit=10)\n"
            "print(json.dumps({'modules': sorted(sys.modules), 'ids': [h['id'] for h in res.hits],"
            " 'corrected': res.corrected_query}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         check=True)
    return json.loads(out.stdout.splitlines()[-1])


def _cli_modules(index_dir: Path, out: Path, *args: str) -> list[str]:
    """The modules a fresh `presse search` process has imported when it exits."""
    code = ("import atexit, json, sys\n"
            f"atexit.register(lambda: open({str(out)!r}, 'w').write(json.dumps(sorted(sys.modules))))\n"
            "import cli\ncli.main()")
    done = subprocess.run([sys.executable, "-c", code, "search", *args, "--index", str(index_dir)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "statements match" in done.stdout, done.stderr
    return json.loads(out.read_text())


def _mapped(arr: np.ndarray) -> bool:
    """Whether an array is a view of a memory-mapped file (not a copy read whole)."""
    base = arr.base
    return isinstance(base, mmap.mmap) or (isinstance(base, memoryview) and isinstance(base.obj, mmap.mmap))


def test_a_search_of_known_words_imports_neither_rapidfuzz_nor_linkpass(sample_index):
    got = _in_fresh_process(sample_index, "vaccination")
    assert got["ids"] and got["corrected"] is None
    assert not [m for m in got["modules"] if m.startswith(("rapidfuzz", "indexer.linkpass"))]


def test_a_search_imports_none_of_the_indexers_write_side(sample_index):
    """Reading a statement's body (indexer.schema.stored_body) does not bring in the modules that make a
    statement's fields (indexer.documents), its duplicate sketch or the ingester's Statement."""
    got = _in_fresh_process(sample_index, "vaccination")
    assert got["ids"]
    write_side = ("indexer.documents", "indexer.duplicates", "corpus.statement")
    assert not [m for m in got["modules"] if m in write_side]


def test_a_search_with_a_typo_does_not_import_numpy_ma(sample_index):
    """numpy 2's np.unique imports numpy.ma (~25 ms) when it returns values alone: the search path (opening
    the index, facets, typo candidates) finds distinct values without it."""
    got = _in_fresh_process(sample_index, "vacination")
    assert got["corrected"] and got["ids"]
    assert "numpy.ma" not in got["modules"]


def test_a_typo_still_gets_its_correction_in_a_fresh_process(sample_index):
    got = _in_fresh_process(sample_index, "vacination")
    assert got["corrected"] == "vaccination" and got["ids"]


def test_the_searcher_maps_the_typo_index_and_reads_the_same_arrays(sample_index):
    whole = typo_index.load(sample_index)
    with Searcher(sample_index) as s:
        s.search("vaccination")
        mapped = s.speller.typo_arrays()
        assert mapped is not None and mapped.segments == whole.segments
        assert _mapped(mapped.words)  # a view of the mapped file (bytes: always aligned), not a copy
        for name in typo_index.ARRAYS:
            arr = getattr(mapped, name)
            # a small unaligned array is copied once, else every numpy search over it copies it whole
            assert arr.flags.aligned or arr.nbytes > typo_index.UNALIGNED_COPY
            assert arr.dtype == getattr(whole, name).dtype and np.array_equal(arr, getattr(whole, name))
        assert mapped.candidates("vacination", 2) == whole.candidates("vacination", 2)


def test_a_compressed_typo_index_is_still_used(sample_index, tmp_path):
    copy = tmp_path / "idx"
    shutil.copytree(sample_index, copy)
    with Searcher(sample_index) as s:
        want = s.search("vacination")
    arrays = typo_index.load(copy)
    fields = {name: getattr(arrays, name) for name in typo_index.ARRAYS}
    meta = json.dumps({"version": typo_index.VERSION, "prefix": typo_index.PREFIX,
                       "segments": arrays.segments}).encode()
    np.savez_compressed(copy / typo_index.TYPOS_NAME, **fields, meta=np.frombuffer(meta, dtype=np.uint8))
    with Searcher(copy) as s:
        res = s.search("vacination")
        got = s.speller.typo_arrays()
        assert got is not None and not _mapped(got.keys)  # read whole: it cannot be mapped
        assert res.corrected_query == want.corrected_query == "vaccination"
        assert [h["id"] for h in res.hits] == [h["id"] for h in want.hits]


def test_unaligned_keys_give_the_same_candidates(sample_index):
    """A big mapped array is left unaligned (numpy would copy it at every search): the keys are then
    searched by bisection, with the same candidates."""
    whole = typo_index.load(sample_index)
    buf = np.zeros(whole.keys.nbytes + 1, dtype=np.uint8)
    buf[1:] = whole.keys.view(np.uint8)
    odd = dataclasses.replace(whole, keys=buf[1:].view(whole.keys.dtype))
    assert not odd.keys.flags.aligned and np.array_equal(odd.keys, whole.keys)
    words = [w.decode() for w in whole.words[::25].tolist()] + ["vacination", "vaccinatoin", "zzzz"]
    for word in words:
        for edits in (0, 1, 2):
            assert odd.candidates(word, edits) == whole.candidates(word, edits)
    assert any(odd.candidates(w, 1) for w in words)


def test_a_cli_search_does_not_import_the_update_machinery(sample_index, tmp_path):
    """`presse search` catches IndexNotWritable (indexer.errors) without importing indexer.updating, which
    brings multiprocessing, the link pass, the segment writer and Whoosh's writing (~25 ms)."""
    modules = _cli_modules(sample_index, tmp_path / "modules.json", "yukon")
    assert "search.engine" in modules and "indexer.errors" in modules
    unwanted = ("indexer.updating", "indexer.linkpass", "indexer.segments", "multiprocessing",
                "whoosh.writing")
    assert not [m for m in modules if m.startswith(unwanted)]


def test_importing_the_cli_leaves_the_garbage_collector_on():
    """cli.py turns the collector off while its modules load (no collection pass over objects that all stay)
    and back on after, with those objects frozen: a long-running command (serve, watch, a batch) collects."""
    code = "import gc, cli\nprint(gc.isenabled(), gc.get_freeze_count() > 10_000)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         check=True)
    assert out.stdout.split() == ["True", "True"]


def _blas_threads(env: dict[str, str]) -> tuple[str | None, int]:
    """OPENBLAS_NUM_THREADS once the CLI (and numpy) is imported, and the threads the process then runs."""
    code = ("import os, cli, numpy\n"
            "print(os.environ.get('OPENBLAS_NUM_THREADS'), len(os.listdir('/proc/self/task')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         check=True, env=env)
    value, threads = out.stdout.split()
    return (None if value == "None" else value), int(threads)


def test_the_cli_loads_numpy_with_one_blas_thread():
    """numpy's OpenBLAS would start a thread per core (and spend ~0.1 s of CPU doing so) in every `presse`
    process; the CLI asks for one before numpy loads, and an explicit setting is left alone."""
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    assert _blas_threads(env) == ("1", 1)
    assert _blas_threads({**env, "OPENBLAS_NUM_THREADS": "2"})[0] == "2"
