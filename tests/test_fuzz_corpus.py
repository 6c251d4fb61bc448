"""Fuzzing the ingester (issue 16): the record decoder, the file walker, the HTML walker and WARC cuts.

Each property says what must hold for any input of its class, not only for the reproductions of the issue:
no reader raises, one bad record costs that record only, a walk is finite and deterministic, extraction of
any markup returns a Statement or a Problem, and a WARC cut anywhere is never read as a shorter page silently.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus import InputFile, Problem, Statement, extract_html, iter_inputs, read_input
from corpus.metadata import clean

FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

FR = (
    "Le gouvernement a annoncé aujourd’hui un nouveau programme de soutien aux entreprises touchées par la "
    "crise. Les demandes pourront être déposées dès le mois prochain auprès des services de l’État."
)


def _printable(problem: Problem) -> bool:
    text = str(problem)
    text.encode("utf-8")  # no lone surrogate left in a message
    return "\n" not in text and len(text) < 600


# ---- (a) the record decoder ------------------------------------------------------------------------------

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
# any BMP character, lone surrogates included (hypothesis leaves them out unless asked)
_any_char = st.characters(min_codepoint=0, max_codepoint=0xFFFF) | st.characters(categories=["Cs"])
_odd_text = st.text(alphabet=_any_char, max_size=40)
_records = st.fixed_dictionaries(
    {},
    optional={
        "id": _odd_text | st.integers() | st.none(),
        "html": _odd_text.map(lambda t: f"<p>{t}</p>") | _odd_text | st.integers(),
        "text": _odd_text,
        "title": _odd_text | _json_values,
        "date": st.sampled_from(["9999-12-31", "2020-02-30", "2021-01-01", "", "demain"]) | _odd_text,
        "lang": _odd_text,
        "url": _odd_text,
        "extra": _json_values,
    },
)
_noise = st.one_of(
    st.binary(max_size=60).map(lambda b: b.replace(b"\n", b" ")),
    _json_values.map(lambda v: json.dumps(v).encode()),
    _records.map(lambda r: json.dumps(r).encode()),  # ensure_ascii: lone surrogates become "\ud800" escapes
    _records.map(lambda r: json.dumps(r, ensure_ascii=False).encode("utf-8", "surrogatepass")),
    st.integers(1, 100_000).map(lambda n: b"[" * n + b"]" * n),
    st.integers(1, 100_000).map(lambda n: b'{"a":' * n + b"0" + b"}" * n),
    st.just(b'{"html": "<p>\\ud800</p>", "id": "\\udfff"}'),
)


def _good(i: int) -> bytes:
    return json.dumps({"id": f"good-{i}", "html": f"<p>{FR} {i}</p>", "title": f"Titre {i}"}).encode()


@FUZZ
@given(st.lists(st.tuples(st.booleans(), _noise), min_size=1, max_size=6), st.booleans())
def test_record_decoder_never_raises_and_a_bad_line_costs_only_itself(lines, gz: bool) -> None:
    raw = [(_good(i) if good else noise) for i, (good, noise) in enumerate(lines)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("r.jsonl.gz" if gz else "r.jsonl")
        data = b"\n".join(raw) + b"\n"
        if gz:
            import gzip

            data = gzip.compress(data)
        path.write_bytes(data)
        out = list(read_input(InputFile(path, path, "jsonl")))
    statements = [o for o in out if isinstance(o, Statement)]
    problems = [o for o in out if isinstance(o, Problem)]
    # every good line, wherever the bad ones are, gives its statement
    good_ids = {f"good-{i}" for i, (good, _) in enumerate(lines) if good}
    assert good_ids <= {s.id for s in statements}
    # a line gives at most one statement or one skip, never both, and nothing stops the file
    for line_no in range(1, len(raw) + 1):
        mine = [s for s in statements if s.origin.endswith(f":{line_no}")]
        skips = [p for p in problems if p.line == line_no and p.kind == "skipped"]
        assert len(mine) + len(skips) <= 1, (line_no, mine, skips)
        if skips:
            assert skips[0].reason.startswith(("invalid JSON", "invalid record", "no text", "page too"))
    assert all(_printable(p) for p in problems)
    for s in statements:  # what goes to the index can be encoded and hashed
        json.dumps(s.to_dict(), ensure_ascii=False).encode("utf-8")
        assert s.id and s.id == " ".join(s.id.split()) and s.id.isprintable()


# ---- (b) the file walker ---------------------------------------------------------------------------------

_names = st.sampled_from(["a", "b", "c.html", "d.jsonl", ".e", "f.txt", "g.warc", "h", "i.htm", "j k.html"])
_ops = st.lists(
    st.tuples(
        st.sampled_from(["dir", "file", "link", "mode"]),
        st.lists(_names, min_size=1, max_size=3),  # where
        st.sampled_from(["..", ".", "../..", "a", "b/a", "c.html", "nowhere", "ROOT", "../a"]),  # link target
    ),
    max_size=14,
)


def _build(root: Path, ops) -> None:
    for op, parts, target in ops:
        path = root.joinpath(*parts)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if op == "dir":
                path.mkdir(exist_ok=True)
            elif op == "file":
                path.write_text(f"<html><body><p>{FR}</p></body></html>", encoding="utf-8")
            elif op == "link":  # ROOT: an absolute link back to the top, a loop seen from anywhere
                path.symlink_to(root if target == "ROOT" else target)
            elif op == "mode" and os.geteuid() != 0:  # root reads through permission bits: nothing to test
                path.chmod(0)
        except OSError:
            pass  # a name already taken by another kind of entry, a parent that is a file: skip that step


def _restore(root: Path) -> None:
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            p = Path(folder) / name
            if not p.is_symlink():
                try:
                    p.chmod(0o755)
                except OSError:
                    pass


@FUZZ
@given(_ops)
def test_file_walker_never_raises_is_finite_and_deterministic(ops) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        # Deep enough that "../.." from anywhere in the tree stays inside tmp: never walk the machine's /tmp.
        root = Path(tmp) / "x" / "y" / "corpus"
        root.mkdir(parents=True)
        _build(root, ops)
        try:
            first = list(iter_inputs([root]))
            second = list(iter_inputs([root]))
        finally:
            _restore(root)
    assert first == second
    files = [f for f in first if isinstance(f, InputFile)]
    assert len({f.path for f in files}) == len(files)  # no input twice
    assert all(_printable(p) for p in first if isinstance(p, Problem))
    # a folder reached twice is a warning, an unreadable one an incomplete skip; nothing else is unexpected
    for p in first:
        if isinstance(p, Problem):
            assert p.reason.startswith(("folder already walked", "unreadable", "not a corpus file")), p


def test_file_walker_through_symlink_loops_reads_each_file_once(tmp_path: Path) -> None:
    """The issue's `ln -s .. corpus/loop/up`, plus a loop of two links and a link to the root."""
    (tmp_path / "loop" / "x").mkdir(parents=True)
    (tmp_path / "loop" / "x" / "p.html").write_text(f"<p>{FR}</p>", encoding="utf-8")
    (tmp_path / "loop" / "up").symlink_to("..")
    (tmp_path / "loop" / "x" / "root").symlink_to(tmp_path)
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    out = list(iter_inputs([tmp_path / "loop"]))
    assert [f.rel for f in out if isinstance(f, InputFile)] == ["x/p.html"]


# ---- (c) the HTML walker ---------------------------------------------------------------------------------

_tags = st.sampled_from(["div", "a", "p", "td", "tr", "table", "main", "article", "nav", "span", "ul", "li",
                         "script", "style", "h1", "header", "footer", "section", "br", "title", "meta",
                         "html", "body", "aside", "blockquote", "time", "template", "svg"])
_attrs = st.lists(
    st.sampled_from(['class="menu"', 'class="content"', 'id="main"', 'role="main"', 'role="navigation"',
                     "hidden", 'style="display:none"', 'aria-hidden="true"', 'href="/x"', 'lang="fr"',
                     'datetime="9999-12-31"', 'class="share-bar"', 'id="content"']),
    max_size=2,
).map(lambda a: "".join(" " + x for x in a))
_words = st.sampled_from([FR[:60], "Publié le 3 juillet 2024", "&amp; &nbsp; &#0; &#xD800;", "\ud800", " ",
                          "<!-- note -->", "<![CDATA[x]]>", "</div>", "</a>", "<", ">", "\x00", "\u2028"])


@st.composite
def _markup(draw, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 4 if depth < 5 else 0))):
        if draw(st.booleans()):
            parts.append(draw(_words))
        else:
            tag = draw(_tags)
            inner = draw(_markup(depth + 1))
            close = draw(st.sampled_from([f"</{tag}>", ""]))  # unclosed tags too
            parts.append(f"<{tag}{draw(_attrs)}>{inner}{close}")
    return "".join(parts)


_pages = st.one_of(
    _markup(),
    st.tuples(_tags, st.integers(1, 3000)).map(lambda t: f"<{t[0]}><a href='/x'>lien</a> mot" * t[1]),
)


@FUZZ
@given(_pages, st.booleans())
def test_html_walker_never_raises_and_measures_exactly(html: str, as_bytes: bool) -> None:
    data = html.encode("utf-8", "surrogatepass") if as_bytes else html
    item = extract_html(data, origin="fuzz.html")
    assert isinstance(item, (Statement, Problem))
    again = extract_html(data, origin="fuzz.html")
    assert again == item  # deterministic
    if isinstance(item, Statement):
        item.body.encode("utf-8")
        item.title.encode("utf-8")
    # The bottom-up measure equals what get_text() would say, on any tree lxml builds.
    from bs4 import BeautifulSoup

    from corpus.extract import Measure, prune

    soup = BeautifulSoup(html.encode("utf-8", "replace").decode("utf-8"), "lxml")
    prune(soup)  # as extraction does before measuring: <script> and <style> count their own text otherwise
    measure = Measure(soup)
    for tag in soup.find_all(True)[:200]:
        assert measure.text_len(tag) == len(clean(tag.get_text(" ")))
        links = tag.find_all("a")
        assert measure.links(tag) == (len(links), sum(len(clean(a.get_text(" "))) for a in links))


# ---- WARC files cut anywhere -------------------------------------------------------------------------------


def _warc(gz: bool) -> bytes:
    """A small WARC: two HTML responses, an image, a request."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=gz)
    html = f"<html lang=fr><body><main><h1>Titre</h1><p>{FR}</p></main></body></html>".encode()
    for uri, ctype, payload, kind in (
        ("https://e.example/a", "text/html; charset=utf-8", html, "response"),
        ("https://e.example/logo.png", "image/png", b"\x89PNG" + bytes(200), "response"),
        ("https://e.example/b", "text/html", html.replace(b"Titre", b"Autre"), "response"),
        ("https://e.example/", "", b"GET / HTTP/1.1\r\n\r\n", "request"),
    ):
        headers = None
        if ctype:
            headers = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(uri, kind, payload=io.BytesIO(payload),
                                                      http_headers=headers))
    return buf.getvalue()


@pytest.mark.parametrize("gz", [False, True], ids=["warc", "warc.gz"])
@FUZZ
@given(cut=st.floats(0.0, 1.0))
def test_a_warc_cut_anywhere_is_never_read_as_a_shorter_page(tmp_path_factory, gz: bool, cut: float) -> None:
    data = _warc(gz)
    at = max(6, int(cut * len(data)))
    folder = tmp_path_factory.mktemp("warc")
    whole = folder / ("whole.warc.gz" if gz else "whole.warc")
    whole.write_bytes(data)
    part = folder / ("cut.warc.gz" if gz else "cut.warc")
    part.write_bytes(data[:at])
    full = [s for s in read_input(InputFile(whole, whole, "warc")) if isinstance(s, Statement)]
    out = list(read_input(InputFile(part, part, "warc")))
    read = {s.id: s.body for s in out if isinstance(s, Statement)}
    assert set(read) <= {s.id for s in full}
    assert all(read[s.id] == s.body for s in full if s.id in read)  # a whole page or nothing
    if not any(isinstance(p, Problem) and p.incomplete for p in out):
        # nothing reported: every page that begins before the cut was read whole (the cut fell between
        # records, in blank lines, or in a gzip member's trailer after all its data)
        begun = {s.id for s in full if int(s.origin.rsplit("@", 1)[1]) < at}
        assert set(read) == begun, (at, out)
