"""Fixtures shared by the test modules: one index of the bundled sample, built by ``indexer.update``.

Paths and cached reads of the corpora live in :mod:`tests.corpora`, test indexes in :mod:`tests.indexes`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpora import SAMPLE


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory) -> Path:
    """The bundled sample (Yukon pages in both languages, vie-publique statements), indexed once per
    session by ``indexer.update``. Read-only: a test that writes builds its own."""
    from indexer import update

    index_dir = tmp_path_factory.mktemp("sample") / "index"
    update([str(SAMPLE)], index_dir)
    return index_dir
