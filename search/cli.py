"""`presse search` and `presse related`: thin click shells over `search.Searcher`."""

from __future__ import annotations

import json
import re
import sys
from typing import Any

import click

from indexer.store import INDEX_HELP
from search.engine import Results, Searcher, SearchError
from search.links import LANG_NAMES, also_in_line
from search.options import SORTS
from search.snippets import Snippet

# Terminal escapes in indexed text (titles, URLs, snippets, sources, ids): whole ESC sequences (CSI; OSC such
# as \x1b]8;; hyperlinks or window titles, and DCS/SOS/PM/APC strings, up to their terminator; two-character
# ones), then any other C0/C1 control or DEL, one by one (a lone C1 byte is usually mojibake, not a command).
# A page must not clear the screen, retitle the window or plant links in the user's terminal.
_ESCAPE_SEQ = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]"
                         r"|\x1b[\]PX^_][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
                         r"|\x1b[ -/]*[0-~]?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_C1_OR_DEL = re.compile(r"[\x7f-\x9f]")


def _open(index_dir: str | None) -> Searcher:
    return Searcher(index_dir or None)  # None: indexer.default_index_dir()


def terminal_text(value: str) -> str:
    """Indexed text made safe for a terminal, on one line: escape sequences and control characters removed,
    newlines and tabs as spaces (our own line breaks and colours are added after)."""
    value = _ESCAPE_SEQ.sub("", value)
    return _CONTROL.sub(lambda m: " " if m.group() in "\n\t\r\u2028\u2029" else "", value)


def _terminal_safe(obj: Any) -> Any:
    """``obj`` (a results dict) with terminal_text applied to every string in it."""
    if isinstance(obj, str):
        return terminal_text(obj)
    if isinstance(obj, dict):
        return {_terminal_safe(k): _terminal_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_terminal_safe(v) for v in obj]
    return obj


def json_line(obj: Any) -> str:
    """One JSON line; json escapes C0 controls itself, and C1 controls and DEL (which a terminal may act on,
    and ensure_ascii=False leaves raw) are escaped here too: they only occur inside strings."""
    text = json.dumps(obj, ensure_ascii=False)
    return _C1_OR_DEL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _color(as_json: bool) -> bool:
    return sys.stdout.isatty() and not as_json


def _fail(e: Exception) -> None:
    click.echo(f"Error: {e}", err=True)
    sys.exit(2)


def terminal_snippet(snippet: Snippet, color: bool) -> str:
    """A snippet as terminal text (see terminal_text), matched words in bold yellow when ``color``."""
    out = []
    for span in snippet.spans:
        text = terminal_text(span.text)
        out.append(click.style(text, bold=True, fg="yellow") if span.matched and color else text)
    return "".join(out)


def _facet_line(name: str, counts: dict, top: int = 6) -> str:
    items = list(counts.items())
    shown = ", ".join(f"{k} {v}" for k, v in items[:top])
    if len(items) > top:
        shown += f", … ({len(items) - top} more)"
    return f"  {name}: {shown}" if shown else ""


def other_languages_line(counts: dict[str, int]) -> str:
    """ "In other languages: 26 statements in English (--lang en)." for a search that found none in its
    --lang; "" when the other languages have none either."""
    parts = [f"{n} statement{'' if n == 1 else 's'} in {LANG_NAMES.get(code, (code,))[0]} (--lang {code})"
             for code, n in counts.items()]
    return f"In other languages: {', '.join(parts)}." if parts else ""


def print_results(res: Results, color: bool) -> None:
    d = _terminal_safe(res.to_dict())
    if d.get("mode") == "related":
        click.echo(f"{d['total']} similar statement{'' if d['total'] == 1 else 's'}, most similar first "
                   "(score: similarity, 0..1)." if d["total"] else "No statement is similar enough.")
    elif d["total"] == 0:
        click.echo(f"No statement matches {d['query']!r}.")
        if d.get("other_languages"):
            click.echo(other_languages_line(d["other_languages"]))
    else:
        first = (res.page - 1) * res.limit + 1
        click.echo(f"{d['total']} statements match {d['query']!r} "
                   f"(showing {first}-{first + len(d['results']) - 1}, page {res.page} of {res.pages}).")
        if d.get("mode") == "any":
            click.echo("Few statements contain all the words: statements matching some of them follow.")
    if d.get("corrected_query"):
        click.echo(f"Showing results for: {d['corrected_query']}")
    if d.get("suggestion") and d["suggestion"] != d.get("corrected_query"):
        click.echo(f"Did you mean: {d['suggestion']}")
    for i, (hit, snippet) in enumerate(zip(d["results"], (h["snippet"] for h in res.hits), strict=True),
                                       (res.page - 1) * res.limit + 1):
        title = click.style(hit["title"], bold=True) if color else hit["title"]
        click.echo(f"\n{i}. {title}")
        similarity = f"similarity {hit['score']:.2f}" if d.get("mode") == "related" else ""
        meta = " | ".join(x for x in (hit["date"], hit["source"], hit["lang"], similarity) if x)
        click.echo(f"   {meta}")
        if hit["url"]:
            click.echo(f"   {hit['url']}")
        click.echo(f"   id: {hit['id']}")
        if snippet:
            click.echo("   " + terminal_snippet(snippet, color))
        for entry in hit.get("translations") or ():
            click.echo("   " + also_in_line(entry))
        if hit.get("duplicates"):
            click.echo("   also published by: " + ", ".join(
                f"{x['source'] or x['id']}" for x in hit["duplicates"]))
    if d["total"]:
        click.echo("")
        click.echo(f"Total {d['total']}; by facet:")
        for name in ("lang", "source", "year"):
            line = _facet_line(name, d["facets"].get(name, {}))
            if line:
                click.echo(line)


@click.command("search")
@click.argument("query")
@click.option("--index", "index_dir", type=click.Path(file_okay=False), help=INDEX_HELP)
@click.option("--lang", type=click.Choice(["fr", "en"]), help="Only statements in this language.")
@click.option("--source", help="Only statements from a source whose name contains these words.")
@click.option("--since", help="From this date: YYYY, YYYY-MM or YYYY-MM-DD.")
@click.option("--until", help="Up to this date (inclusive): YYYY, YYYY-MM or YYYY-MM-DD.")
@click.option("--sort", type=click.Choice(SORTS), default="relevance", show_default=True)
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--page", type=click.IntRange(1), default=1, show_default=True)
@click.option("--recency", type=click.FloatRange(0, 1), default=0.0, help="Blend in freshness (0..1).")
@click.option("--bilingual", is_flag=True,
              help="Search French and English; with --lang, show each result in that language when it has "
                   "a version in it (a French query finds English statements through their French version).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object (one per line with QUERY '-').")
def search_command(query, index_dir, lang, source, since, until, sort, limit, page, recency, bilingual,
                   as_json):
    """Search statements. QUERY '-' reads one query per line on stdin (batch mode).

    Words in any case, with or without accents; all words are required first, and statements matching
    only some of them follow when that finds less than a page. Syntax: "exact phrase", AND/ET, OR/OU,
    NOT/SAUF, -word, prefix*, title:, source:, lang:, date:2020, date:[2020-01-01 TO 2020-06-30].

    Each result lists its other-language version ("also in English" / "aussi en français"; JSON
    "translations") and the same statement published elsewhere ("also published by"; JSON "duplicates").
    """
    try:
        searcher = _open(index_dir)
    except SearchError as e:
        _fail(e)
    kwargs = dict(lang=lang, source=source, since=since, until=until, sort=sort, limit=limit, page=page,
                  recency=recency, bilingual=bilingual)

    def run(q: str) -> Results:
        return searcher.search(q, **kwargs)

    color = _color(as_json)
    try:
        # Batch mode reads one query per line and keeps the one searcher open.
        batch = query == "-"
        queries = (line.rstrip("\r\n") for line in sys.stdin) if batch else [query]
        for q in queries:
            if batch and not q.strip():
                continue
            res = run(q)
            if as_json:
                click.echo(json_line(res.to_dict()))
            else:
                print_results(res, color)
                if batch:
                    click.echo("")
    except SearchError as e:
        _fail(e)
    finally:
        searcher.close()


@click.command("related")
@click.argument("statement_id")
@click.option("--index", "index_dir", type=click.Path(file_okay=False), help=INDEX_HELP)
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
def related_command(statement_id, index_dir, limit, as_json):
    """Statements most like the statement STATEMENT_ID."""
    try:
        searcher = _open(index_dir)
    except SearchError as e:
        _fail(e)
    try:
        res = searcher.related(statement_id, limit=limit)
        if as_json:
            click.echo(json_line(res.to_dict()))
        else:
            st = searcher.statement(statement_id) or {}
            click.echo(terminal_text(f"Statements like {statement_id}: {st.get('title') or ''}"))
            print_results(res, _color(as_json))
    except SearchError as e:
        _fail(e)
    finally:
        searcher.close()
