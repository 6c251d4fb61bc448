"""`presse search` and `presse related` through click's CliRunner."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cli import main
from corpus.statement import Statement
from tests.indexes import direct_index, index_statements


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
    return str(index_statements(sts, tmp_path_factory.mktemp("cli") / "index"))


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
                           input="cooperation\n\nbudget\n   \nAND OR ?\n")
    lines = [json.loads(x) for x in r.output.splitlines()]
    # one answer a line, blank lines included (no match), so answers line up with questions
    assert [x["query"] for x in lines] == ["cooperation", "", "budget", "   ", "AND OR ?"]
    assert lines[1]["total"] == lines[3]["total"] == 0 and lines[1]["results"] == []
    assert lines[2]["results"][0]["id"] == "c"


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


# ----------------------------------------------------------------- issue 16, L2: terminal escapes in output

ESCAPES = ["\x1b[2J\x1b[H", "\x1b]8;;https://evil.example/\x07click me\x1b]8;;\x07", "\x1b]0;owned\x1b\\",
           "\x07\x07", "\x1b[41;97m", "\x9b31m", "\x1bc", "\x1bP1$r\x1b\\", "\x00\x08\x7f\x85", "&#27;[31m"]
HOSTILE = "".join(ESCAPES)


def _hostile_statement():
    return Statement(id=f"esc-1{ESCAPES[0]}", origin="t", title=f"Escapeprobe title {HOSTILE} end",
                     body=f"Body escapeprobe {HOSTILE} more escapeprobe text {ESCAPES[1]}.",
                     lang="en", date="2020-02-03", source=f"Office {ESCAPES[2]}",
                     url=f"https://example.org/{ESCAPES[4]}x")


@pytest.fixture(scope="module")
def escape_indexes(tmp_path_factory):
    """The hostile statement in an index built straight from it (an old index may hold anything), and the
    same record read from a JSON Lines file by the real ingester."""
    import indexer

    root = tmp_path_factory.mktemp("esc")
    st = _hostile_statement()
    built = str(direct_index([st], root / "built"))
    jsonl = root / "hostile.jsonl"
    record = {"id": "esc-2", "title": st.title, "text": st.body, "lang": "en", "date": st.date,
              "source": st.source, "url": st.url}
    jsonl.write_text(json.dumps(record) + "\n", "utf-8")
    indexer.update([str(jsonl)], root / "ingested")
    return [built, str(root / "ingested")]


def _only_our_escapes(text: str) -> None:
    import re

    rest = re.sub(r"\x1b\[[0-9;]*m", "", text)  # click.style's own SGR codes (bold, yellow, reset)
    bad = [c for c in rest if ord(c) < 32 and c not in "\n" or 0x7f <= ord(c) <= 0x9f]
    assert not bad, (bad, text)
    assert "\x1b" not in rest


@pytest.mark.parametrize("color", [False, True])
@pytest.mark.parametrize("which", [0, 1])
def test_terminal_escapes_are_stripped_from_text_output(escape_indexes, which, color, monkeypatch):
    import search.cli

    monkeypatch.setattr(search.cli, "_color", lambda as_json: color)
    index = escape_indexes[which]
    r = CliRunner().invoke(main, ["search", "escapeprobe", "--index", index], color=color)
    assert r.exit_code == 0, r.output
    assert "Escapeprobe title" in r.output and "click me" in r.output
    _only_our_escapes(r.output)
    if color:
        assert "\x1b[1m" in r.output  # colours still on
    sid = json.loads(CliRunner().invoke(main, ["search", "escapeprobe", "--index", index, "--json"]).output
                     )["results"][0]["id"]
    r = CliRunner().invoke(main, ["related", sid, "--index", index], color=color)
    assert r.exit_code == 0, r.output
    _only_our_escapes(r.output)


def test_json_output_escapes_every_control(escape_indexes):
    for index in escape_indexes:
        r = CliRunner().invoke(main, ["search", "escapeprobe", "--index", index, "--json"])
        assert r.exit_code == 0
        _only_our_escapes(r.output)
        hit = json.loads(r.output)["results"][0]
        assert hit["title"].startswith("Escapeprobe title")  # the data itself is kept, only escaped
        r = CliRunner().invoke(main, ["search", "-", "--index", index, "--json"], input="escapeprobe\n")
        _only_our_escapes(r.output)
    built = json.loads(CliRunner().invoke(main, ["search", "escapeprobe", "--index", escape_indexes[0],
                                                 "--json"]).output)["results"][0]
    assert built["title"] == _hostile_statement().title


def test_terminal_text_fuzz():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from search.cli import terminal_text

    pieces = st.one_of(st.sampled_from(ESCAPES + ["\x1b", "\x1b[", "\x1b]", "\n", "\t", "\r"]), st.text())

    @settings(max_examples=300, deadline=None)
    @given(st.lists(pieces, max_size=8))
    def check(parts):
        out = terminal_text("".join(parts))
        assert not any(ord(c) < 32 or 0x7f <= ord(c) <= 0x9f for c in out), repr(out)

    check()


def test_terminal_snippet_formats_the_spans():
    """The terminal form of a snippet comes from its spans: matched words styled, the body's own escape
    sequences removed (also those the HTML form carries as entities), no HTML."""
    import click

    from search.cli import terminal_snippet
    from search.snippets import Snippeter

    snip = Snippeter().snippet("Alerte \x1b[2J &#27;[31m <i>coopération</i> régionale", "", "fr",
                               frozenset({"cooperation"}))
    styled = terminal_snippet(snip, color=True)
    assert click.style("coopération", bold=True, fg="yellow") in styled
    assert click.unstyle(styled) == terminal_snippet(snip, color=False)
    assert terminal_snippet(snip, color=False) == "Alerte  &#27;[31m <i>coopération</i> régionale"
    mark = click.style("coopération", bold=True, fg="yellow")
    assert "\x1b" not in styled.replace(mark, "")  # only the style's own sequences
