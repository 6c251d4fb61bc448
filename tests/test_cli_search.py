"""`presse search` and `presse related` through click's CliRunner."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cli import main
from corpus.statement import Statement
from search.devindex import build_index


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    sts = [
        Statement(id="a", origin="t", title="Coopération régionale",
                  body="La coopération <script>x</script> avance.", lang="fr", date="2020-02-03",
                  source="Office A"),
        Statement(id="b", origin="t", title="Regional cooperation", body="Cooperation moves forward.",
                  lang="en", date="2021-05-06", source="Office B"),
        Statement(id="c", origin="t", title="Budget", body="Le budget régional est adopté.",
                  lang="fr", date="2021-07-08", source="Office A"),
    ]
    return str(build_index(sts, tmp_path_factory.mktemp("cli")))


def test_human_output(index_dir):
    r = CliRunner().invoke(main, ["search", "cooperation", "--index", index_dir])
    assert r.exit_code == 0, r.output
    assert "Coopération régionale" in r.output and "2020-02-03" in r.output
    assert "<mark>" not in r.output and "<script>x</script>" in r.output
    assert "Total 2" in r.output and "fr 1" in r.output and "Office A 1" in r.output


def test_json_and_filters(index_dir):
    r = CliRunner().invoke(main, ["search", "cooperation", "--index", index_dir, "--json", "--lang", "en"])
    d = json.loads(r.output)
    assert d["total"] == 1 and d["results"][0]["id"] == "b"
    assert set(d) >= {"query", "total", "results", "facets", "suggestion"}
    r = CliRunner().invoke(main, ["search", "régional", "--index", index_dir, "--json", "--since", "2021",
                                  "--sort", "date"])
    assert [h["id"] for h in json.loads(r.output)["results"]][0] == "c"  # newest first; "a" is 2020


def test_batch(index_dir):
    r = CliRunner().invoke(main, ["search", "--json", "-", "--index", index_dir],
                           input="cooperation\n\nbudget\nAND OR ?\n")
    lines = [json.loads(x) for x in r.output.splitlines()]
    assert [x["query"] for x in lines] == ["cooperation", "budget", "AND OR ?"]
    assert lines[1]["results"][0]["id"] == "c"


def test_related(index_dir):
    r = CliRunner().invoke(main, ["related", "a", "--index", index_dir, "--json"])
    assert r.exit_code == 0, r.output
    assert "a" not in {h["id"] for h in json.loads(r.output)["results"]}
    assert CliRunner().invoke(main, ["related", "a", "--index", index_dir]).exit_code == 0


@pytest.mark.parametrize("args", [
    ["search", "x", "--index", "{missing}"],
    ["search", "x", "--index", "{index}", "--since", "2020-13"],
    ["search", "x", "--index", "{index}", "--until", "yesterday"],
    ["related", "nope", "--index", "{index}"],
])
def test_errors_are_one_sentence(index_dir, tmp_path, args):
    args = [a.format(missing=str(tmp_path / "none"), index=index_dir) for a in args]
    r = CliRunner().invoke(main, args)
    assert r.exit_code != 0
    assert "Traceback" not in r.output and r.exception is None or isinstance(r.exception, SystemExit)
    assert r.output.strip().startswith("Error:") and r.output.count("\n") == 1
