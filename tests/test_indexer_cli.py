"""`presse index` and `presse stats` through click's CliRunner, on the bundled sample."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from indexer import default_index_dir
from indexer.store import write_lock
from tests.corpora import SAMPLE


@pytest.fixture
def corpus(tmp_path) -> Path:
    if not (SAMPLE / "vie-publique.jsonl").exists():
        pytest.skip("sample/ missing")
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(SAMPLE / "vie-publique.jsonl", folder)
    fr = SAMPLE / "yukon" / "fr" / "2020"
    if fr.is_dir():
        for page in sorted(fr.iterdir())[:2]:
            shutil.copy(page, folder / page.name)
    return folder


def test_index_then_stats(corpus, tmp_path):
    runner = CliRunner()
    index_dir = tmp_path / "ix"
    result = runner.invoke(main, ["index", str(corpus), "--index", str(index_dir)])
    assert result.exit_code == 0, result.output
    assert "42 added" in result.output or "added" in result.output
    assert "unchanged" in result.output and "skipped" in result.output

    again = runner.invoke(main, ["index", str(corpus), "--index", str(index_dir)])
    assert again.exit_code == 0
    assert "0 added, 0 updated, 0 removed" in again.output

    stats = runner.invoke(main, ["stats", "--index", str(index_dir)])
    assert stats.exit_code == 0, stats.output
    assert "statements:" in stats.output and "fr" in stats.output
    assert "vie-publique.fr" in stats.output
    assert "other languages: 0" in stats.output

    as_json = runner.invoke(main, ["stats", "--index", str(index_dir), "--json"])
    data = json.loads(as_json.output)
    assert data["statements"] == sum(data["languages"].values())
    assert data["inputs"] == 3
    assert data["date_range"][0] <= data["date_range"][1]


def test_index_json_report(corpus, tmp_path):
    result = CliRunner().invoke(main, ["index", str(corpus), "--index", str(tmp_path / "ix"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["added"] == data["statements"] > 0
    assert {"updated", "removed", "unchanged", "skipped", "problems", "seconds"} <= set(data)


def test_index_uses_presse_index_env(corpus, tmp_path, monkeypatch):
    monkeypatch.setenv("PRESSE_INDEX", str(tmp_path / "env-ix"))
    assert default_index_dir() == tmp_path / "env-ix"
    result = CliRunner().invoke(main, ["index", str(corpus)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "env-ix" / "presse-manifest.json").exists()
    assert CliRunner().invoke(main, ["stats"]).exit_code == 0


def test_default_index_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("PRESSE_INDEX", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_index_dir() == tmp_path / "xdg" / "presse" / "index"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert default_index_dir() == Path.home() / ".local" / "share" / "presse" / "index"


def test_stats_without_index(tmp_path):
    result = CliRunner().invoke(main, ["stats", "--index", str(tmp_path / "none")])
    assert result.exit_code != 0
    assert "No index at" in result.output


def test_index_missing_path(tmp_path):
    result = CliRunner().invoke(main, ["index", str(tmp_path / "nope"), "--index", str(tmp_path / "ix")])
    assert result.exit_code != 0


def test_index_while_another_update_runs(corpus, tmp_path, monkeypatch):
    import indexer.store

    monkeypatch.setattr(indexer.store, "LOCK_TIMEOUT", 0.3)
    index_dir = tmp_path / "ix"
    with write_lock(index_dir):
        result = CliRunner().invoke(main, ["index", str(corpus), "--index", str(index_dir)])
    assert result.exit_code != 0
    assert "another update is in progress" in result.output
