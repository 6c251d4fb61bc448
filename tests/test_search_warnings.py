"""A damaged postings sidecar found while searching is said on the result (``Results.warnings``), and the
answers stay those of the sound index (real statements: the bundled sample)."""

from __future__ import annotations

import shutil

from search import Searcher

QUERIES = ["yukon", "covid vaccine", "santé publique", "coopération"]


def _answers(index_dir):
    with Searcher(index_dir) as s:
        got = [s.search(q) for q in QUERIES]
    return [(r.total, [h["id"] for h in r.hits], [h["snippet"] for h in r.hits]) for r in got], got


def test_a_damaged_sidecar_is_a_warning_on_the_result(sample_index, tmp_path):
    sound, results = _answers(sample_index)
    assert all(r.warnings == [] for r in results)
    damaged = tmp_path / "index"
    shutil.copytree(sample_index, damaged)
    cars = sorted(damaged.glob("*.psc"))
    assert cars
    with open(cars[0], "r+b") as f:  # not a sidecar any more: the reader refuses it
        f.write(b"NOTASIDECAR")
    answers, results = _answers(damaged)
    assert answers == sound
    for r in results:
        assert len(r.warnings) == 1 and cars[0].name in r.warnings[0], r.warnings
        assert "presse index" in r.warnings[0]


def test_the_warning_reaches_the_cli_the_json_and_the_page(sample_index, tmp_path):
    """`presse search` says it on stderr (the answer on stdout stays the sound one), `--json` and the API
    carry it as `warnings`, and the page shows it above the results."""
    import json

    from click.testing import CliRunner

    from cli import main
    from search.web.app import create_app

    damaged = tmp_path / "index"
    shutil.copytree(sample_index, damaged)
    car = sorted(damaged.glob("*.psc"))[0]
    runner = CliRunner()
    sound = runner.invoke(main, ["search", "yukon", "--index", str(sample_index), "--json"])
    assert sound.exit_code == 0 and json.loads(sound.stdout)["warnings"] == []
    with open(car, "r+b") as f:
        f.write(b"NOTASIDECAR")
    got = runner.invoke(main, ["search", "yukon", "--index", str(damaged), "--json"])
    assert got.exit_code == 0, got.output
    answer = json.loads(got.stdout)
    assert len(answer["warnings"]) == 1 and car.name in answer["warnings"][0]
    assert answer["results"] == json.loads(sound.stdout)["results"]
    text = runner.invoke(main, ["search", "yukon", "--index", str(damaged)])
    assert text.exit_code == 0 and f"warning: postings sidecar {car.name}" in text.stderr
    assert car.name not in text.stdout
    app = create_app(str(damaged), threads=1)
    app.testing = True
    client = app.test_client()
    assert car.name in client.get("/api/search?q=yukon").get_json()["warnings"][0]
    page = client.get("/?q=yukon").get_data(as_text=True)
    assert 'class="notice warning"' in page and car.name in page
