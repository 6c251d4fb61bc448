"""Hostile queries through every door: the Python API, the CLI batch mode and the web API.

Generated queries (hypothesis): any Unicode with control characters, unbalanced quotes and parentheses,
operators only, field syntax with unknown fields, wildcards, 1,000-10,000-character strings. Each must give a
result or a clear one-line message (``SearchError``, a 400 with an ``error``), never an exception, each within
``BOUND`` seconds: a hang guard that only a runaway scan would break (a quiet machine answers in milliseconds;
a busy one was seen taking 7.5 s on one query, so the guard is far above that, never a speed requirement).

Default suite: about 550 queries. ``-m slow``: 8,000 on the Python API, 1,000 through ``presse search --json
-`` in one process, 1,500 through the web API (10,500 in all). The counts tried are printed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.corpora import ROOT, SAMPLE, SHARED

BOUND = 60.0  # seconds per query: a hang guard, not a timing

TRIED: dict[str, int] = {"api": 0, "cli": 0, "web": 0}

WORDS = [
    "yukon",
    "caribou",
    "santé",
    "publique",
    "covid",
    "gouvernement",
    "minister",
    "l'aide",
    "aujourd’hui",
    "Whitehorse",
    "climat",
    "a",
    "le",
    "the",
    "de",
    "x",
    "é",
    "ß",
    "İ",
    "ﬁ",
    "𝔘",
    "日本",
    "русский",
    "‮",
    "\u200b",
    "\ufeff",
]
OPERATORS = [
    "AND",
    "OR",
    "NOT",
    "ET",
    "OU",
    "SAUF",
    "TO",
    "and",
    "or",
    "not",
    "&&",
    "||",
    "!",
    "+",
    "-",
    "~",
    "^",
    "^2",
    "~3",
    "\\",
]
FIELDS = [
    "title:",
    "source:",
    "lang:",
    "date:",
    "id:",
    "body:",
    "url:",
    "foo:",
    "xyz:",
    "Title:",
    "DATE:",
    "date:[",
    "date:[2020 TO",
    "date:[2020-01-01 TO 2020-06-30]",
    "date:{* TO *}",
    "date:2020",
    "date:9999-99-99",
    "date:0000",
    "date:-1",
    "lang:zz",
    ":",
    "::",
    "title:(",
    'title:"',
]
PUNCT = [
    '"',
    "'",
    "«",
    "»",
    "“",
    "”",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "*",
    "?",
    "**",
    "*?*",
    "a*",
    "ab*",
    "*a",
    "?a?",
    ":",
    ";",
    "/",
    "<",
    ">",
    "&",
    "%",
    "%00",
    "<script>",
    "</mark>",
    "\x00",
    "\x07",
    "\x1b[31m",
    "\t",
    "\x7f",
    "\x85",
    "\u2028",
    "\ud7ff",
    "\U0010ffff",
]
TOKEN = st.sampled_from(WORDS + OPERATORS + FIELDS + PUNCT)
JOIN = st.sampled_from(["", " ", "  ", "\t"])


def _long(piece: str, n: int) -> str:
    return (piece * (n // max(1, len(piece)) + 1))[:n]


LONG = st.builds(
    _long,
    st.one_of(TOKEN, st.text(min_size=1, max_size=6)).map(lambda s: s or "a"),
    st.integers(1000, 10_000),
)
QUERY = st.one_of(
    st.text(max_size=80),  # any code point but surrogates, control characters included
    st.builds(lambda sep, toks: sep.join(toks), JOIN, st.lists(TOKEN, max_size=30)),
    st.lists(st.sampled_from(OPERATORS + ['"', "(", ")", "*", "-"]), max_size=12).map(" ".join),
    st.builds(lambda f, w: f + w, st.sampled_from(FIELDS), st.one_of(TOKEN, st.text(max_size=12))),
    LONG,
)
OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "lang": st.sampled_from([None, "", "fr", "en", "de", "FR", "<x>", "fr en"]),
        "source": st.one_of(
            st.none(),
            st.sampled_from(["Yukon", "Government of Yukon", "Premier", "«»"]),
            st.text(max_size=20),
        ),
        "since": st.one_of(
            st.none(),
            st.sampled_from(["2019", "2020-02", "2020-02-29", "2021-13", "0000", "99999", "2020-02-30"]),
            st.text(max_size=12),
        ),
        "until": st.one_of(st.none(), st.sampled_from(["2020", "2018-01-01", "1999"]), st.text(max_size=12)),
        "sort": st.sampled_from(["relevance", "date", "Date", "popular", ""]),
        "limit": st.integers(-2, 2000),
        "page": st.one_of(st.integers(-1, 20), st.integers(10**6, 10**12)),
    },
)


def _sample_paths() -> list[str]:
    return [str(SAMPLE / "yukon"), str(SAMPLE / "vie-publique.jsonl")]


def _build(tmp_path_factory, paths: list[str]) -> Path:
    import indexer

    index_dir = tmp_path_factory.mktemp("queries") / "index"
    report = indexer.update(paths, index_dir)
    assert report.statements > 100
    return index_dir


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> Path:
    """The bundled sample (160 statements); with ../shared, a year of Yukon releases too (more terms for
    prefixes to expand to, so a pathological scan would show)."""
    paths = _sample_paths()
    for lang in ("en", "fr"):
        year = SHARED / "corpus" / "yukon" / lang / "2020"
        if year.is_dir():
            paths.append(str(year))
    return _build(tmp_path_factory, paths)


@pytest.fixture(scope="module")
def searcher(index_dir):
    from search import Searcher

    s = Searcher(index_dir)
    yield s
    s.close()


def _is_clear_message(msg: str) -> bool:
    return bool(msg.strip()) and "\n" not in msg.strip() and "Traceback" not in msg and len(msg) < 400


def _check_result(d: dict, limit: int | None = None) -> None:
    assert isinstance(d["total"], int) and d["total"] >= len(d["results"]) >= 0
    if limit is not None:
        assert len(d["results"]) <= min(limit, 1000)
    for hit in d["results"]:
        assert hit["id"] and isinstance(hit["title"], str)
    json.dumps(d, ensure_ascii=False)


# ---------------------------------------------------------------------------------------------- Python API


def _api_one(searcher, query: str, options: dict) -> None:
    from search import SearchError

    TRIED["api"] += 1
    start = time.monotonic()
    try:
        res = searcher.search(query, **options)
    except SearchError as e:
        assert _is_clear_message(str(e)), repr(str(e))
    else:
        _check_result(res.to_dict(), options.get("limit"))
    elapsed = time.monotonic() - start
    assert elapsed < BOUND, f"{elapsed:.1f} s for {query[:80]!r} {options}"


NO_SHRINK = [Phase.explicit, Phase.generate]  # a slow failing query makes shrinking take many minutes


def _api_test(searcher, n: int) -> None:
    @settings(
        max_examples=n,
        phases=NO_SHRINK,
        derandomize=n < 1000,  # the default suite tries the same queries each run; -m slow, new ones
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(QUERY, OPTIONS)
    def run(query, options):
        _api_one(searcher, query, options)

    before = TRIED["api"]
    run()
    print(f"\nPython API: {TRIED['api'] - before} generated queries, no exception")
    assert TRIED["api"] - before >= n * 0.95


def test_api_hostile_queries(searcher):
    _api_test(searcher, 300)


@pytest.mark.slow
def test_api_hostile_queries_10k(searcher):
    _api_test(searcher, 8000)


# Once a bug: a word repeated N times made an And of N identical clauses ('yukon ' * 300 took ~30 s, * 2000
# raised RecursionError in Whoosh's matcher tree); fixed by the fast query path.


@pytest.mark.parametrize(
    "query",
    [
        "",
        " ",
        '"',
        '"""',
        "(((",
        ")))",
        "((a) OR (b",
        "AND",
        "OR OR OR",
        "NOT",
        "NOT NOT NOT",
        "-",
        "--",
        "*",
        "?",
        "**",
        "a*",
        "*a*",
        "?*?*?*",
        "foo:",
        "foo:bar",
        "title:",
        "title:(",
        "date:",
        "date:[",
        "date:[ TO ]",
        "date:[2020 TO 2019]",
        "date:[0000 TO 9999]",
        "date:99999999",
        "lang:",
        'source:"',
        "\x00",
        "\x00" * 10_000,
        "a" * 10_000,
        "a* " * 3000,
        "* " * 5000,
        "(" * 10_000,
        '"' * 10_000,
        "title:yukon " * 5,
        "NOT " * 2500,
        "é" * 10_000,
        "\U0001f600" * 10_000,
        "ca?ibou " * 3,
        "ye* " * 3,
    ],
)
def test_api_nasty_queries(searcher, query):
    _api_one(searcher, query, {})
    _api_one(searcher, query, {"sort": "date", "lang": "fr", "since": "2019", "until": "2021"})


@pytest.mark.parametrize(
    "query",
    [
        "ye* " * 3000,
        "title:" * 2000,
        "yukon " * 300,
        pytest.param("yukon " * 2000, marks=pytest.mark.slow),
        pytest.param("ca?ibou " * 1000, marks=pytest.mark.slow),
    ],
)
def test_api_repeated_words(searcher, query):
    _api_one(searcher, query, {})


# ---------------------------------------------------------------------------------------- CLI batch mode

CLI_QUERY = QUERY.map(lambda q: q.replace("\r", " ").replace("\n", " ")).filter(lambda q: q.strip())


def _cli_test(index_dir: Path, n: int) -> None:
    """``n`` generated queries, one per line, through one ``presse search --json -`` process: one JSON line
    each, in order, none more than BOUND seconds after the previous one."""
    lines: list[str] = []

    @settings(
        phases=NO_SHRINK,
        derandomize=n < 1000,
        max_examples=n,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )
    @given(CLI_QUERY)
    def collect(query):
        lines.append(query)

    collect()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from cli import main; main()",
            "search",
            "--json",
            "--index",
            str(index_dir),
            "-",
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
        encoding="utf-8",
        errors="strict",
    )
    import threading

    def feed() -> None:
        proc.stdin.write("".join(q + "\n" for q in lines))
        proc.stdin.close()

    threading.Thread(target=feed, daemon=True).start()
    last = time.monotonic()
    answered = 0
    try:
        for i, q in enumerate(lines):
            out = proc.stdout.readline()
            now = time.monotonic()
            assert out, f"no answer to query {i} {q[:80]!r}: {proc.stderr.read()[-2000:]}"
            assert now - last < BOUND + 2.0, f"{now - last:.1f} s for {q[:80]!r}"  # + start-up for the first
            last = now
            d = json.loads(out)
            assert d["query"] == q
            _check_result(d)
            answered += 1
        assert proc.stdout.read() == ""
        assert proc.wait(timeout=30) == 0
        assert proc.stderr.read() == ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    TRIED["cli"] += answered
    print(f"\nCLI batch: {answered} generated queries in one `presse search --json -` process")
    assert answered >= n * 0.9


def test_cli_batch_hostile_queries(index_dir):
    _cli_test(index_dir, 100)


@pytest.mark.slow
def test_cli_batch_hostile_queries_1000(index_dir):
    _cli_test(index_dir, 1000)


# ----------------------------------------------------------------------------------------------- web API


@pytest.fixture(scope="module")
def client(index_dir):
    from search.web.app import create_app

    app = create_app(str(index_dir), threads=1)
    return app.test_client()


WEB_PARAMS = st.fixed_dictionaries(
    {"q": QUERY},
    optional={
        "lang": st.one_of(st.sampled_from(["fr", "en", "de", "<x>"]), st.text(max_size=6)),
        "source": st.text(max_size=30),
        "since": st.one_of(
            st.sampled_from(["2019", "2020-02", "2020-02-30", "9999-99"]), st.text(max_size=10)
        ),
        "until": st.one_of(st.sampled_from(["2020", "1999-12-31"]), st.text(max_size=10)),
        "sort": st.sampled_from(["relevance", "date", "x"]),
        "limit": st.one_of(st.integers(-5, 100).map(str), st.text(max_size=5)),
        "page": st.one_of(st.integers(-5, 2000).map(str), st.just("9" * 30), st.text(max_size=5)),
        "ui": st.sampled_from(["fr", "en", "de", "<x>"]),
    },
)


def _web_one(client, path: str, params: dict) -> None:
    TRIED["web"] += 1
    start = time.monotonic()
    r = client.get(path, query_string=params)
    elapsed = time.monotonic() - start
    assert elapsed < BOUND, f"{elapsed:.1f} s for {path} {params!r:.200}"
    assert r.status_code in (200, 400), (r.status_code, params)
    body = r.get_data(as_text=True)
    if path == "/api/search":
        d = r.get_json()
        if r.status_code == 200:
            _check_result(d)
        else:
            # one message; it may quote the bad value, control characters included (JSON-escaped)
            assert d["error"].strip() and "Traceback" not in d["error"] and len(d["error"]) < 400, d
    elif path == "/feed" and r.status_code == 200:
        ET.fromstring(r.data)
    elif path == "/":
        assert "</html>" in body
        if r.status_code == 400:
            assert 'class="error-message" role="alert"' in body


def _web_test(client, n: int) -> None:
    @settings(
        max_examples=n,
        phases=NO_SHRINK,
        derandomize=n < 1000,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.sampled_from(["/api/search", "/api/search", "/", "/feed"]), WEB_PARAMS)
    def run(path, params):
        _web_one(client, path, params)

    before = TRIED["web"]
    run()
    print(f"\nweb API: {TRIED['web'] - before} generated requests, each 200 or 400")
    assert TRIED["web"] - before >= n * 0.95


def test_web_hostile_queries(client):
    _web_test(client, 150)


@pytest.mark.slow
def test_web_hostile_queries_1500(client):
    _web_test(client, 1500)


def test_zz_queries_tried():
    """The figures (printed with -s): queries tried through each door in this session."""
    print(f"\nqueries tried: {TRIED} = {sum(TRIED.values())}")


# ------------------------------------------------------------ issue 16, M6: the work of "did you mean"

@pytest.fixture(scope="module")
def segmented_index(tmp_path_factory) -> Path:
    """The sample in two segments, as incremental updates leave it: Whoosh's multi-segment reader compares
    the word with every term of the same first letter (its single-segment one walks an automaton)."""
    import indexer

    index_dir = tmp_path_factory.mktemp("spelling") / "index"
    indexer.update([str(SAMPLE / "yukon")], index_dir)
    indexer.update([str(SAMPLE / "yukon"), str(SAMPLE / "vie-publique.jsonl")], index_dir)
    from whoosh import index as windex

    ix = windex.open_dir(str(index_dir))
    with ix.reader() as reader:
        assert not reader.is_atomic()
    ix.close()
    return index_dir


@pytest.fixture()
def counted(segmented_index, monkeypatch):
    """A searcher over the segmented index, and a list counting the edit distances computed."""
    import whoosh.reading
    from whoosh.support.levenshtein import distance

    import search.spelling
    from search import Searcher

    calls = []

    def counting(*args, **kwargs):
        calls.append(1)
        return distance(*args, **kwargs)

    monkeypatch.setattr(whoosh.reading, "distance", counting)  # Whoosh's terms_within
    monkeypatch.setattr(search.spelling, "distance", counting, raising=False)
    s = Searcher(segmented_index)
    yield s, calls
    s.close()


COMPARISONS_BOUND = 1500  # per query, whatever the query


def _letters(n: int, seed: int) -> str:
    import random

    rng = random.Random(seed)
    return "".join(rng.choice("aceilmnoprstu") for _ in range(n))


@pytest.mark.parametrize("query", [
    " ".join(_letters(38, i) for i in range(12)),  # the query: 12 unknown 38-letter words
    " ".join(_letters(20, i) for i in range(23))[:500],
    " ".join(_letters(7, i) for i in range(62))[:500],
    " ".join("c" + _letters(9, i) for i in range(45))[:500],
])
def test_spelling_work_is_bounded(counted, query):
    searcher, calls = counted
    res = searcher.search(query)
    assert res.total >= 0
    assert len(calls) <= COMPARISONS_BOUND, len(calls)


def test_spelling_work_is_bounded_fuzz(counted):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    searcher, calls = counted
    word = st.text(alphabet="aceilmnoprstuéè", min_size=3, max_size=40)

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(word, min_size=1, max_size=40))
    def check(words):
        calls.clear()
        searcher.speller._cache.clear()
        searcher.search(" ".join(words)[:500])
        assert len(calls) <= COMPARISONS_BOUND, (len(calls), words)

    check()


@pytest.mark.parametrize(("typo", "fixes"), [("carribou", {"caribou"}), ("goverment", {"government"}),
                                            ("yukonn", {"yukon"}), ("coopératoin", {"coopération"})])
def test_spelling_still_corrects_ordinary_typos(counted, typo, fixes):
    searcher, calls = counted
    assert searcher.search(typo).suggestion in fixes
    assert len(calls) <= COMPARISONS_BOUND
