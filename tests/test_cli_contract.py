"""The `presse` command line as scripts rely on it: one error style and documented exit codes, queries that
start with "-", --format csv|jsonl|json|text, the wording of totals and pages, --source words in any order.
Real Yukon statements of the bundled sample (conftest's sample_index, built by `indexer.update`)."""

from __future__ import annotations

import csv
import io
import json
import re

from click.testing import CliRunner

from cli import main


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input)


def test_a_query_may_start_with_a_minus(sample_index):
    plain = run("search", "sante", "--index", str(sample_index), "--json", "--limit", "50")
    without = run("search", "-covid sante", "--index", str(sample_index), "--json", "--limit", "50")
    split = run("search", "-covid", "sante", "--index", str(sample_index), "--limit", "50", "--json")
    assert plain.exit_code == without.exit_code == split.exit_code == 0, without.output
    every = {h["id"] for h in json.loads(plain.output)["results"]}
    kept = [h for h in json.loads(without.output)["results"]]
    assert kept and len(kept) < len(every)
    assert json.loads(split.output)["results"] == kept
    assert not any(re.search(r"\bcovid\b", (h["title"] + h["snippet"]).lower()) for h in kept)


def test_exit_codes_and_one_error_style(sample_index, tmp_path):
    missing = run("search", "caribou", "--index", str(tmp_path / "none"))
    assert missing.exit_code == 1 and missing.output.startswith("Error: No index at")
    bad_date = run("search", "caribou", "--since", "20x", "--index", str(sample_index))
    assert bad_date.exit_code == 2 and "Error: Bad --since date '20x'" in bad_date.output
    unknown = run("related", "no-such-id", "--index", str(sample_index))
    assert unknown.exit_code == 1 and "Error: No statement with id 'no-such-id'" in unknown.output
    stats = run("stats", "--index", str(tmp_path / "none"))
    assert stats.exit_code == 1 and stats.output.startswith("Error: ")
    bogus = run("search", "caribou", "--limt", "5", "--index", str(sample_index))
    assert bogus.exit_code == 2 and "No such option '--limt'" in bogus.output
    assert "Traceback" not in missing.output + bad_date.output + unknown.output + stats.output
    for command in ([], ["search"], ["index"], ["related"]):
        assert "Exit codes: 0 done" in run(*command, "--help").output


def test_help_says_what_sort_limit_and_page_do():
    out = " ".join(run("search", "--help").output.split())
    assert "relevance: best match first; date: newest first." in out
    assert "Results per page" in out and "Which page of results" in out


def test_totals_and_pages_are_worded_right(sample_index):
    out = run("search", "yukon", "--index", str(sample_index), "--page", "900").output
    assert "but page 900 is past the last page" in out and "showing" not in out
    single = run("search", "caribou", "--index", str(sample_index), "--json")
    assert json.loads(single.output)["total"] == 1
    assert "1 statement matches 'caribou'" in run("search", "caribou", "--index", str(sample_index)).output
    many = json.loads(run("search", "yukon", "--index", str(sample_index), "--json").output)["total"]
    assert f"{many} statements match 'yukon'" in run("search", "yukon", "--index", str(sample_index)).output


def test_source_words_in_any_order(sample_index):
    out = run("search", "yukon", "--source", "government yukon", "--index", str(sample_index), "--json")
    res = json.loads(out.output)
    assert res["total"] > 0 and {h["source"] for h in res["results"]} == {"Government of Yukon"}
    none = json.loads(run("search", "yukon", "--source", "government ontario", "--index", str(sample_index),
                          "--json").output)
    assert none["total"] == 0


def test_format_csv_and_jsonl_list_every_match(sample_index):
    page = json.loads(run("search", "sante", "--index", str(sample_index), "--json", "--limit", "999").output)
    ids = [h["id"] for h in page["results"]]
    assert len(ids) > 10
    out = run("search", "sante", "--index", str(sample_index), "--format", "csv", "--limit", "3")
    rows = list(csv.DictReader(io.StringIO(out.output)))
    assert [r["id"] for r in rows] == ids
    assert [r["rank"] for r in rows] == [str(i) for i in range(1, len(ids) + 1)]
    lines = run("search", "sante", "--index", str(sample_index), "--format", "jsonl").output.splitlines()
    assert [json.loads(x)["id"] for x in lines] == ids
    as_json = run("search", "caribou", "--index", str(sample_index), "--format", "json").output
    assert json.loads(as_json)["results"] == json.loads(run("search", "caribou", "--index", str(sample_index),
                                                            "--json").output)["results"]
    assert run("search", "caribou", "--json", "--format", "csv").exit_code == 2


def test_batch_export_says_each_rows_query(sample_index):
    out = run("search", "-", "--index", str(sample_index), "--format", "csv", input="caribou\nlogement\n")
    rows = list(csv.DictReader(io.StringIO(out.output)))
    assert {r["query"] for r in rows} == {"caribou", "logement"} and out.output.count("query,rank,id") == 1
